"""OAuth 2 (issue 14): flows, the token provider's single-flight refresh, the stores, the
CLI, all over real HTTP against the sandbox's OAuth server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from aiocamp.basecamp4 import Basecamp4
from aiocamp.core._auth import select_auth
from aiocamp.errors import AuthError, ConfigError
from aiocamp.oauth import (
    FileTokenStore,
    TokenProvider,
    login,
    refresh_grant,
    stored_credentials,
)
from aiocamp.sandbox import serve
from aiocamp.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

from .oauth_support import ACCOUNT, UA, OAuthSite, read_store, run_python, save, subprocess_env


@pytest.fixture
async def start_site() -> AsyncIterator[Callable[..., Awaitable[OAuthSite]]]:
    """Start Basecamp 4 sandboxes (limits off) whose OAuth settings the test chooses."""
    async with AsyncExitStack() as stack:

        async def start(**settings: Any) -> OAuthSite:
            sb = await stack.enter_async_context(serve("basecamp4", rate_limit="off", scale=0.05))
            for name, value in settings.items():
                setattr(sb.oauth.settings, name, value)
            async with sb.client() as bc:
                project = await anext(aiter(bc.projects.list()))
            site = OAuthSite(sb, project.id)
            sb.reset()  # forget the setup request in the stats
            for name, value in settings.items():
                setattr(sb.oauth.settings, name, value)
            return site

        yield start


def client(store: FileTokenStore, **kw: object) -> Basecamp4:
    creds = stored_credentials("basecamp4", store=store)
    assert creds is not None
    creds.update(kw)
    return Basecamp4(user_agent=UA, rate_limit=None, cache=None, **creds)  # type: ignore[arg-type]


async def follow(url: str) -> tuple[int, str]:
    """What a browser does with the printed URL: follow redirects to the callback page."""
    async with aiohttp.ClientSession() as http, http.get(url) as reply:
        return reply.status, await reply.text()


# -- the login flow ---------------------------------------------------------------------


async def start_login(
    product: str, server_url: str, store: Any, *, client_secret: str = SANDBOX_CLIENT_SECRET
) -> tuple[asyncio.Task[Any], str]:
    """``login`` started in a task, and the authorization URL it asks the user to open."""
    urls: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(
        login(
            product,
            client_id=SANDBOX_CLIENT_ID,
            client_secret=client_secret,
            store=store,
            server_url=server_url,
            on_url=urls.put_nowait,
            wait=10,
        )
    )
    return task, await asyncio.wait_for(urls.get(), 5)


async def test_login_flow_stores_grant_and_lists_accounts(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    task, url = await start_login("basecamp4", site.url, store)
    assert url.startswith(site.url + "/authorization/new?")
    assert "state=" in url
    assert "type=web_server" in url
    assert SANDBOX_CLIENT_SECRET not in url
    status, page = await follow(url)
    assert status == 200
    assert "authorized" in page
    grant = await task
    assert grant.accounts[0]["product"] == "bc3"
    assert grant.accounts[0]["href"] == f"{site.url}/{ACCOUNT}"
    assert site.oauth.counts["code_exchanges"] == 1
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    # The stored grant works with a generated client, through stored_credentials().
    async with client(store) as bc:
        project = await bc.projects.get(site.project_id)
        me = await bc.authorization.get()
    assert project.id == site.project_id
    assert [a.id for a in me.accounts] == [ACCOUNT]


async def test_callback_with_wrong_state_is_rejected(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    task, url = await start_login("basecamp4", site.url, store)
    # Get a genuine code, but deliver it with a forged state (a CSRF attempt).
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as reply:
            callback = aiohttp.client.URL(reply.headers["Location"])
        forged = callback.update_query(state="forged-by-someone-else")
        async with http.get(forged) as reply:
            assert reply.status == 400
        async with http.get(callback.without_query_params("state")) as reply:
            assert reply.status == 400
        assert not task.done()
        assert site.oauth.counts["code_exchanges"] == 0  # no exchange for a forged callback
        assert not store.path.exists()
        async with http.get(callback) as reply:  # the genuine one still completes
            assert reply.status == 200
    await task
    assert site.oauth.counts["code_exchanges"] == 1


async def test_denied_authorization_ends_login_with_auth_error(start_site, tmp_path):
    site = await start_site(auto_consent=False)
    task, url = await start_login("basecamp4", site.url, FileTokenStore(tmp_path / "t.json"))
    status, _ = await follow(url)
    assert status == 403
    with pytest.raises(AuthError, match="access_denied"):
        await task


async def test_token_requests_are_form_bodies_never_urls(start_site, tmp_path):
    site = await start_site()
    grant = site.grant(expired=True)
    fresh = await refresh_grant(grant)
    assert fresh.token.access_token != grant.token.access_token
    assert site.oauth.token_requests == [
        ("/authorization/token", "", "application/x-www-form-urlencoded")
    ]


async def test_cli_login_then_accounts(start_site, tmp_path):
    """`python -m aiocamp login basecamp4`, driven like a user with a browser would."""
    site = await start_site()
    path = tmp_path / "tokens.json"
    env = {"AIOCAMP_CLIENT_ID": SANDBOX_CLIENT_ID, "AIOCAMP_CLIENT_SECRET": SANDBOX_CLIENT_SECRET}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiocamp",
        "login",
        "basecamp4",
        "--server-url",
        site.url,
        "--store",
        str(path),
        "--timeout",
        "20",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(**env),
    )
    assert proc.stdout is not None
    url = ""
    while not url.startswith("http"):
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line, "login exited before printing the URL"
        url = line.decode().strip()
    assert (await follow(url))[0] == 200
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert str(ACCOUNT) in out.decode()
    assert SANDBOX_CLIENT_SECRET not in out.decode() + err.decode()
    assert read_store(path)["grants"]["launchpad"]["accounts"][0]["id"] == ACCOUNT

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiocamp",
        "accounts",
        "--store",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert "bc3" in out.decode()
    assert str(ACCOUNT) in out.decode()
    assert site.oauth.counts["rejected_bearer"] == 0


async def test_cli_login_without_client_credentials_explains(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiocamp",
        "login",
        "basecamp4",
        "--store",
        str(tmp_path / "t"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in subprocess_env().items() if not k.startswith("AIOCAMP_CLIENT")},
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert "AIOCAMP_CLIENT_ID" in err.decode()


# -- the token provider -----------------------------------------------------------------


async def test_500_concurrent_calls_with_expired_token_refresh_once(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    await save(store, site.grant(expired=True))
    async with client(store) as bc:
        projects = await asyncio.gather(*(bc.projects.get(site.project_id) for _ in range(500)))
    assert {p.id for p in projects} == {site.project_id}
    async with aiohttp.ClientSession() as http, http.get(site.url + "/__sandbox/stats") as reply:
        stats = await reply.json()
    assert stats["oauth"]["refreshes"] == 1
    assert stats["oauth"]["refreshes_by_provider"] == {"launchpad": 1, "harvest": 0}
    assert stats["requests"] == 500
    assert stats["by_status"] == {"200": 500}
    assert stats["oauth"]["rejected_bearer"] == 0  # refreshed before, not after, a 401
    stored = read_store(store.path)["grants"]["launchpad"]["token"]
    assert stored["access_token"] in site.oauth._access


async def test_401_refreshes_once_and_replays_once(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    await save(store, site.grant(lifetime=3600))
    async with client(store) as bc:
        await bc.projects.get(site.project_id)
        site.oauth.expire_access_tokens()  # the server drops the token before its time
        got = await asyncio.gather(*(bc.projects.get(site.project_id) for _ in range(50)))
        assert len(got) == 50
        assert site.oauth.counts["refreshes"] == 1
        # A token the server keeps refusing is not refreshed in a loop: one retry, then 401.
        site.oauth.settings.launchpad_token_lifetime = 0
        site.oauth.expire_access_tokens()
        from aiocamp.errors import Unauthorized

        with pytest.raises(Unauthorized):
            await bc.projects.get(site.project_id)
    assert site.oauth.counts["refreshes"] == 2


async def test_token_is_renewed_shortly_before_expiry(start_site, tmp_path):
    site = await start_site(launchpad_token_lifetime=2)
    store = FileTokenStore(tmp_path / "tokens.json")
    await save(store, site.grant(lifetime=2))
    async with client(store) as bc:
        await bc.projects.get(site.project_id)
        assert site.oauth.counts["refreshes"] == 0
        await asyncio.sleep(2.1)
        await bc.projects.get(site.project_id)
    assert site.oauth.counts["refreshes"] == 1
    assert site.oauth.counts["rejected_bearer"] == 0


_WORKER = r"""
import asyncio, hashlib, sys
from aiocamp.basecamp4 import Basecamp4
from aiocamp.oauth import stored_credentials, FileTokenStore

async def main():
    store = FileTokenStore(sys.argv[1])
    creds = stored_credentials("basecamp4", store=store)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    async with Basecamp4(user_agent="worker (dev@example.com)", rate_limit=None, cache=None,
                         **creds) as bc:
        got = await asyncio.gather(*(bc.projects.get(int(sys.argv[2])) for _ in range(20)))
    tokens = creds["token_provider"]
    print(len(got), tokens.refreshes,
          hashlib.sha256(tokens.grant.token.access_token.encode()).hexdigest()[:12], flush=True)

asyncio.run(main())
"""


async def test_two_processes_sharing_a_file_store_refresh_once(start_site, tmp_path):
    site = await start_site(token_latency=0.3)
    store = FileTokenStore(tmp_path / "tokens.json")
    await save(store, site.grant(expired=True))
    procs = [await run_python(_WORKER, str(store.path), str(site.project_id)) for _ in range(2)]
    for p in procs:
        assert p.stdout is not None
        assert (await asyncio.wait_for(p.stdout.readline(), 30)).strip() == b"ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        await p.stdin.drain()
    outs = [await asyncio.wait_for(p.communicate(), 30) for p in procs]
    results = [out.decode().split() for out, _ in outs]
    assert all(p.returncode == 0 for p in procs), [err.decode() for _, err in outs]
    assert site.oauth.counts["refreshes"] == 1
    assert sorted(int(r[1]) for r in results) == [0, 1]  # one refreshed, one reused it
    assert results[0][2] == results[1][2]  # both ended with the same access token
    assert [int(r[0]) for r in results] == [20, 20]


async def test_invalid_grant_raises_auth_error_and_keeps_stored_token(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    grant = site.grant(expired=True)
    await save(store, grant)
    assert grant.token.refresh_token is not None
    site.oauth.revoke(grant.token.refresh_token)
    before = store.path.read_bytes()
    async with client(store) as bc:
        with pytest.raises(AuthError) as info:
            await bc.projects.get(site.project_id)
    message = str(info.value)
    assert info.value.error == "invalid_grant"
    assert "invalid_grant" in message
    assert "aiocamp login" in message
    assert "left as it was" in message
    assert grant.token.refresh_token not in message
    assert SANDBOX_CLIENT_SECRET not in message
    assert store.path.read_bytes() == before


async def test_spent_refresh_token_is_invalid_grant(start_site):
    site = await start_site()
    grant = site.grant(expired=True)
    await refresh_grant(grant)  # rotates: the old refresh token is now spent
    with pytest.raises(AuthError, match="invalid_grant"):
        await refresh_grant(grant)
    assert site.oauth.counts["invalid_grant"] == 1


async def test_no_token_or_secret_in_any_debug_log_line(start_site, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    task, url = await start_login("basecamp4", site.url, store)
    code_url = ""
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as reply:
            code_url = reply.headers["Location"]
        async with http.get(aiohttp.client.URL(code_url).update_query(state="x")) as reply:
            assert reply.status == 400
        async with http.get(code_url) as reply:
            assert reply.status == 200
    grant = await task
    async with client(store) as bc:
        site.oauth.expire_access_tokens()  # 401 -> refresh -> replay
        await bc.projects.get(site.project_id)
        site.oauth.expire_access_tokens()
        stored = await store.load("launchpad")
        assert stored is not None
        assert stored.token.refresh_token is not None
        site.oauth.revoke(stored.token.refresh_token)  # next: 401 -> invalid_grant
        with pytest.raises(AuthError):
            await bc.projects.get(site.project_id)
    code = aiohttp.client.URL(code_url).query["code"]
    secrets = {
        SANDBOX_CLIENT_SECRET,
        code,
        *site.oauth._access,
        *site.oauth._spent,
        *site.oauth._refresh,
        grant.token.access_token,
    }
    assert len(secrets) >= 6
    lines = [r.getMessage() for r in caplog.records]
    assert any("refreshed" in line for line in lines)  # there was DEBUG output to check
    for line in lines:
        for secret in secrets:
            assert secret not in line, f"secret leaked in log line: {line[:80]}"


# -- stores -----------------------------------------------------------------------------


async def test_file_store_is_private_and_replaced_atomically(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "sub" / "tokens.json")
    await save(store, site.grant())
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    first = os.stat(store.path)
    assert stat.S_IMODE(first.st_mode) == 0o600
    await save(store, site.grant(), key="other")
    second = os.stat(store.path)
    assert second.st_ino != first.st_ino  # a new file renamed over the old, never rewritten
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "tokens.json",
        "tokens.json.lock",
    ]  # no temporary file left behind
    assert await store.keys() == ["launchpad", "other"]
    os.chmod(store.path, 0o644)
    assert await store.load("launchpad") is not None
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    await store.delete("other")
    assert await store.keys() == ["launchpad"]


async def test_file_store_garbage_is_a_typed_error(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(AuthError, match="not valid JSON"):
        await FileTokenStore(path).load("launchpad")
    path.write_text('{"grants": {"launchpad": {"provider": 1}}}')
    with pytest.raises(AuthError, match="malformed"):
        await FileTokenStore(path).load("launchpad")
    assert stored_credentials("basecamp4", store=FileTokenStore(tmp_path / "none.json")) is None


async def test_no_stored_grant_is_a_clear_error(tmp_path):
    provider = TokenProvider(FileTokenStore(tmp_path / "t.json"), "launchpad")
    with pytest.raises(AuthError, match="aiocamp login"):
        await provider.access_token()


@pytest.mark.redis
async def test_redis_store_single_refresh_across_stores(start_site, redis_server):
    from redis.asyncio import Redis

    from aiocamp.oauth import RedisTokenStore

    site = await start_site(token_latency=0.2)
    redis = Redis(port=redis_server.port)
    prefix = f"test-oauth-{os.getpid()}-{id(site)}:"
    try:
        stores = [RedisTokenStore(redis, prefix=prefix) for _ in range(2)]
        async with stores[0].lock("launchpad"):
            await stores[0].save("launchpad", site.grant(expired=True))
        providers = [TokenProvider(s, "launchpad") for s in stores]
        tokens = await asyncio.gather(*(p.access_token() for p in providers for _ in range(20)))
        assert len(set(tokens)) == 1
        assert site.oauth.counts["refreshes"] == 1
        assert sorted(p.refreshes for p in providers) == [0, 1]
        assert await stores[1].keys() == ["launchpad"]
        await stores[1].delete("launchpad")
        assert await stores[0].load("launchpad") is None
    finally:
        await redis.aclose()


async def test_highrise_with_a_launchpad_login(tmp_path):
    """Launchpad tokens work for Highrise too: log in on a Highrise sandbox, then list."""
    from aiocamp.highrise import Highrise

    store = FileTokenStore(tmp_path / "tokens.json")
    async with serve("highrise", rate_limit="off", scale=0.05) as sb:
        task, url = await start_login("highrise", sb.url, store)
        assert (await follow(url))[0] == 200
        grant = await task
        assert [a["product"] for a in grant.accounts] == ["highrise"]
        creds = stored_credentials("highrise", store=store)
        assert creds is not None
        async with Highrise(user_agent=UA, rate_limit=None, **creds) as hr:
            people = hr.people.list()
            first = await anext(aiter(people))
        assert first.id is not None
        async with Highrise(
            user_agent=UA, rate_limit=None, base_url=sb.url, access_token="not-a-sandbox-token"
        ) as hr:
            from aiocamp.errors import Unauthorized

            with pytest.raises(Unauthorized):
                await anext(aiter(hr.people.list()))


# -- Harvest ----------------------------------------------------------------------------


async def test_harvest_login_and_refresh(start_site, tmp_path):
    site = await start_site(harvest_token_lifetime=60)
    store = FileTokenStore(tmp_path / "tokens.json")
    task, url = await start_login("harvest", site.url, store)
    assert url.startswith(site.url + "/oauth2/authorize?")
    assert "response_type=code" in url
    assert (await follow(url))[0] == 200
    grant = await task
    assert grant.token.expires_in == 60
    provider = TokenProvider(store, "harvest")
    assert await provider.access_token() == grant.token.access_token  # fresh: no refresh
    assert await provider.renew(grant.token.access_token)  # as after a 401
    assert await provider.access_token() != grant.token.access_token
    assert site.oauth.refreshes_by_provider == {"launchpad": 0, "harvest": 1}
    creds = stored_credentials("harvest", store=store)
    assert creds is not None
    assert creds["base_url"] == site.url


# -- wiring -----------------------------------------------------------------------------


def test_token_provider_needs_a_bearer_product(tmp_path):
    provider = TokenProvider(FileTokenStore(tmp_path / "t.json"), "launchpad")
    with pytest.raises(ConfigError, match="bearer"):
        select_auth(("basic_token",), token_provider=provider)
    with pytest.raises(ConfigError):
        select_auth(("bearer",), token_provider=provider, access_token="x")
    strategy = select_auth(("bearer",), token_provider=provider)
    assert "Secret" not in repr(strategy) or "***" in repr(strategy)
    assert hashlib.sha256(b"x").hexdigest()[:4] not in repr(provider)


def test_secrets_never_in_reprs(tmp_path):
    from aiocamp.oauth import Grant, Token

    grant = Grant(
        "launchpad",
        "https://x/t",
        "id",
        "client-secret-value",
        Token("access-value", "refresh-value"),
    )
    for text in (repr(grant), str(grant), repr(grant.token)):
        for secret in ("client-secret-value", "access-value", "refresh-value"):
            assert secret not in text
    assert Path(tmp_path).exists()


async def test_caller_cancelled_mid_refresh_does_not_lose_the_rotated_token(start_site, tmp_path):
    site = await start_site(token_latency=0.3)
    store = FileTokenStore(tmp_path / "tokens.json")
    await save(store, site.grant(expired=True))
    provider = TokenProvider(store, "launchpad")
    caller = asyncio.create_task(provider.access_token())
    await asyncio.sleep(0.1)  # the refresh request is at the server now
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0.4)
    stored = await store.load("launchpad")
    assert stored is not None
    assert not stored.token.expires_soon()  # the rotated grant was saved all the same
    assert await provider.access_token() == stored.token.access_token
    assert site.oauth.counts["refreshes"] == 1
    assert site.oauth.counts["invalid_grant"] == 0


async def test_sandbox_token_endpoint_answers_bad_requests_with_oauth_errors(start_site):
    site = await start_site()
    ok = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}
    cases = [
        ("/authorization/token", {**ok, "client_secret": "wrong"}, 401, "invalid_client"),
        ("/authorization/token", {**ok, "grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            "/authorization/token",
            {**ok, "type": "web_server", "code": "nope"},
            400,
            "invalid_grant",
        ),
        (
            "/authorization/token",
            {**ok, "type": "refresh", "refresh_token": "x"},
            400,
            "invalid_grant",
        ),
        ("/oauth2/token", {**ok, "grant_type": "refresh_token"}, 400, "invalid_grant"),
    ]
    async with aiohttp.ClientSession() as http:
        for path, form, status, error in cases:
            async with http.post(site.url + path, data=form) as reply:
                assert reply.status == status, (path, form)
                assert (await reply.json())["error"] == error
        # Harvest wants a form body; JSON and garbage are refused, never a crash.
        async with http.post(site.url + "/oauth2/token", json=ok) as reply:
            assert reply.status == 400
        async with http.post(
            site.url + "/authorization/token",
            data=b"\xff\x00garbage",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as reply:
            assert reply.status in (400, 401)
        async with http.get(
            site.url + "/authorization/new?client_id=nope&type=web_server"
        ) as reply:
            assert reply.status == 400
        async with http.get(
            site.url + "/authorization.json", headers={"Authorization": "Bearer nope"}
        ) as reply:
            assert reply.status == 401
        # The legacy shape, parameters in the query, still exchanges a code.
        legacy = await http.get(
            site.url + "/authorization/new",
            params={
                "type": "web_server",
                "client_id": SANDBOX_CLIENT_ID,
                "redirect_uri": "http://127.0.0.1:9/cb",
            },
            allow_redirects=False,
        )
        code = aiohttp.client.URL(legacy.headers["Location"]).query["code"]
        async with http.post(
            site.url + "/authorization/token",
            params={
                **ok,
                "type": "web_server",
                "code": code,
                "redirect_uri": "http://127.0.0.1:9/cb",
            },
        ) as reply:
            assert reply.status == 200
            assert (await reply.json())["token_type"] == "Bearer"


async def test_login_on_a_busy_port_is_a_config_error(start_site, tmp_path):
    import socket

    site = await start_site()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ConfigError, match="cannot listen"):
            await login(
                "basecamp4",
                client_id=SANDBOX_CLIENT_ID,
                client_secret=SANDBOX_CLIENT_SECRET,
                server_url=site.url,
                store=FileTokenStore(tmp_path / "t.json"),
                port=busy.getsockname()[1],
                on_url=print,
            )
    assert site.oauth.counts["authorizations"] == 0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"", "invalid_reply"),
        (200, b"<html>hello</html>", "invalid_reply"),
        (200, b"[1, 2]", "invalid_reply"),
        (200, b'{"token_type": "Bearer"}', "usable access_token"),
        (200, b'{"access_token": "a\\r\\nX-Evil: 1"}', "usable access_token"),
        (200, b'{"access_token": 12}', "usable access_token"),
        (200, b'{"access_token": "ok", "refresh_token": ["x"]}', "unusable refresh_token"),
        (200, b'{"access_token": "ok", "expires_in": "soon"}', "unreadable expires_in"),
        (200, b'{"access_token": "ok", "expires_in": 1e400}', "unreadable expires_in"),
        (200, b"{" * 100_000, "invalid_reply"),
        (302, b"", "http_302"),
        (500, b"<h1>Internal error</h1>", "http_500"),
        (400, b'{"error": {"nested": true}}', "http_400"),
        (401, b'{"error": "invalid_client", "error_description": "who?"}', "invalid_client"),
    ],
)
async def test_garbage_from_the_token_endpoint_is_an_auth_error(serve, status, body, expected):
    from aiohttp import web

    from aiocamp.oauth import Grant, Token

    async def token(request: web.Request) -> web.Response:
        headers = {"Location": "http://127.0.0.1:9/elsewhere"} if status == 302 else {}
        return web.Response(status=status, body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/token", token)
    server = await serve(app)
    grant = Grant(
        "launchpad",
        str(server.make_url("/token")),
        "id",
        "client-secret-value",
        Token("old-access", "old-refresh"),
    )
    with pytest.raises(AuthError) as info:
        await refresh_grant(grant)
    assert expected in str(info.value)
    assert "client-secret-value" not in str(info.value)
    assert "old-refresh" not in str(info.value)


async def test_token_endpoint_over_plain_http_off_loopback_is_refused():
    from aiocamp.errors import InsecureTransportError
    from aiocamp.oauth import Grant, Token

    grant = Grant(
        "launchpad",
        "http://launchpad.example.com/authorization/token",
        "id",
        "client-secret-value",
        Token("a", "r"),
    )
    with pytest.raises(InsecureTransportError):
        await refresh_grant(grant)


def test_provider_and_store_work_from_a_second_event_loop(tmp_path):
    from aiocamp.oauth import Grant, Token

    store = FileTokenStore(tmp_path / "tokens.json")
    provider = TokenProvider(store, "launchpad")
    grant = Grant("launchpad", "https://x/t", "id", "secret", Token("tok", "ref"))

    async def first() -> None:
        await asyncio.gather(*(save(store, grant) for _ in range(3)))  # contended lock
        assert set(await asyncio.gather(*(provider.access_token() for _ in range(5)))) == {"tok"}

    async def second() -> None:
        await asyncio.gather(*(save(store, grant) for _ in range(3)))
        assert all(await asyncio.gather(*(provider.renew("another") for _ in range(5))))

    asyncio.run(first())
    asyncio.run(second())


async def test_sandbox_oauth_routes_survive_garbage(start_site):
    site = await start_site()
    bodies = [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"--x\r\nContent-Disposition: form-data\r\n\r\n\xff", "multipart/form-data; boundary=x"),
        (b"--x\r\n", "multipart/form-data"),
        (b'{"client_id": ', "application/json"),
        (b"client_id=%ZZ&client_secret=%&&&=&grant_type=", "application/x-www-form-urlencoded"),
        (b"a=" + b"x" * 200_000, "application/x-www-form-urlencoded"),
        (b"", "text/plain"),
    ]
    queries = [
        "",
        "?type=web_server&client_id=%ff%fe",
        "?response_type=code&redirect_uri=%00",
        "?response_type=code&client_id=" + SANDBOX_CLIENT_ID + "&redirect_uri=javascript:x",
        "?state=" + "s" * 5000,
    ]
    seen: set[int] = set()
    async with aiohttp.ClientSession() as http:
        for path in ("/authorization/new", "/oauth2/authorize", "/authorization.json"):
            for query in queries:
                async with http.get(
                    site.url + path + query,
                    headers={"Authorization": "Bearer  ~"},
                    allow_redirects=False,
                ) as reply:
                    seen.add(reply.status)
        for path in ("/authorization/token", "/oauth2/token"):
            for body, ctype in bodies:
                for query in queries:
                    async with http.post(
                        site.url + path + query, data=body, headers={"Content-Type": ctype}
                    ) as reply:
                        seen.add(reply.status)
                        if reply.status == 200:
                            raise AssertionError(f"garbage accepted at {path}")
    assert seen <= {400, 401, 413}, seen
    assert site.oauth.counts["code_exchanges"] == 0
    assert site.sb.stats()["sandbox_errors"] == 0


async def test_memory_store_shared_by_two_providers_refreshes_once(start_site):
    from aiocamp.oauth import MemoryTokenStore

    site = await start_site(token_latency=0.1)
    store = MemoryTokenStore({"launchpad": site.grant(expired=True)})
    providers = [TokenProvider(store, "launchpad") for _ in range(2)]
    tokens = await asyncio.gather(*(p.access_token() for p in providers for _ in range(100)))
    assert len(set(tokens)) == 1
    assert site.oauth.counts["refreshes"] == 1
    assert sorted(p.refreshes for p in providers) == [0, 1]
    assert await store.keys() == ["launchpad"]
    assert "launchpad" in repr(store)
    assert tokens[0] not in repr(store)


def test_provider_identity_is_per_grant_and_stable(tmp_path):
    from aiocamp.oauth import MemoryTokenStore

    a = FileTokenStore(tmp_path / "a.json")
    same = TokenProvider(FileTokenStore(tmp_path / "a.json"), "launchpad").identity
    assert TokenProvider(a, "launchpad").identity == same  # another process, same grant
    others = {
        TokenProvider(a, "harvest").identity,
        TokenProvider(FileTokenStore(tmp_path / "b.json"), "launchpad").identity,
        TokenProvider(MemoryTokenStore(), "launchpad").identity,
        same,
    }
    assert len(others) == 4


async def test_login_with_a_wrong_client_secret_is_invalid_client(start_site, tmp_path):
    site = await start_site()
    store = FileTokenStore(tmp_path / "tokens.json")
    task, url = await start_login("basecamp4", site.url, store, client_secret="not-the-secret")
    assert (await follow(url))[0] == 200
    with pytest.raises(AuthError) as info:
        await task
    assert info.value.error == "invalid_client"
    assert "not-the-secret" not in str(info.value)
    assert not store.path.exists()
