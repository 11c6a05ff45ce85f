"""``aiocamp login``: the authorization code flow with a one-shot callback server on
127.0.0.1, and the product client arguments a stored grant gives (``stored_credentials``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from ..core._errors import AuthError, ConfigError
from .flow import DEFAULT_USER_AGENT, AuthorizationCodeFlow, fetch_accounts
from .provider import TokenProvider
from .providers import provider_for
from .stores import FileTokenStore, TokenStore
from .tokens import Grant

__all__ = ["CALLBACK_PATH", "login", "refresh_accounts", "stored_credentials"]

log = logging.getLogger("aiocamp.oauth")

CALLBACK_PATH = "/callback"
#: Seconds ``aiocamp login`` waits for the browser to come back.
LOGIN_TIMEOUT = 300.0

#: authlib's codes for a callback that does not answer our authorization request.
_NOT_OURS = frozenset({"mismatching_state", "missing_code"})

_DONE_PAGE = (
    "<!doctype html><title>aiocamp</title><p>aiocamp is authorized. "
    "You can close this window and go back to the terminal.</p>"
)


async def login(
    product: str,
    *,
    client_id: str,
    client_secret: str,
    store: TokenStore | None = None,
    server_url: str | None = None,
    port: int = 0,
    on_url: Callable[[str], None] = print,
    wait: float = LOGIN_TIMEOUT,
    session: aiohttp.ClientSession | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
) -> Grant:
    """Run the whole flow for ``product`` and store the grant under the server's name.

    ``server_url`` moves the authorization server (a sandbox: its base URL). ``on_url``
    receives the URL the user must open. A callback with another ``state`` is refused
    (400) and the login keeps waiting for the genuine one.
    """
    provider, _ = provider_for(product)
    if server_url is not None:
        provider = provider.at(server_url)
    store = store if store is not None else FileTokenStore()
    listener = _listen(port)
    flow = AuthorizationCodeFlow(
        provider,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=f"http://127.0.0.1:{listener.getsockname()[1]}{CALLBACK_PATH}",
        session=session,
        user_agent=user_agent,
    )
    done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        try:
            code = flow.code_from_callback(str(request.url))
        except AuthError as exc:
            if exc.error in _NOT_OURS:
                # Not the reply to our request (forged or stale): refuse it, keep waiting.
                log.warning("login callback rejected: %s", exc)
                return web.Response(status=400, text="Rejected: state mismatch or no code.\n")
            if not done.done():
                done.set_exception(exc)  # the user (or the server) refused the access
            return web.Response(status=403, text="Authorization refused.\n")
        if done.done():
            return web.Response(status=409, text="This login is already complete.\n")
        done.set_result(code)
        return web.Response(text=_DONE_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get(CALLBACK_PATH, callback)
    runner = web.AppRunner(app, access_log=None)  # the callback URL carries the code
    await runner.setup()
    try:
        await web.SockSite(runner, listener).start()
        on_url(flow.authorization_url())
        try:
            code = await asyncio.wait_for(done, wait)
        except TimeoutError:
            raise AuthError(
                f"no authorization came back within {wait:.0f}s",
                error="timeout",
                provider=provider.name,
            ) from None
    finally:
        await runner.cleanup()
        listener.close()
    grant = await flow.exchange(code)
    if grant.accounts_url is not None:
        grant = await refresh_accounts(grant, session=session, user_agent=user_agent)
    elif product == "harvest":
        origin = str(URL(provider.token_url).origin())
        grant = _with_accounts(grant, [{"product": "harvest", "href": origin, "name": origin}])
    async with store.lock(provider.name):
        await store.save(provider.name, grant)
    log.debug("%s: login stored in %r", provider.name, store)
    return grant


def _listen(port: int) -> socket.socket:
    """The callback socket, bound before the flow so the redirect URI names its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port} for the login callback: {exc.strerror}"
        ) from None
    sock.listen()
    return sock


def _with_accounts(
    grant: Grant, accounts: list[dict[str, Any]], identity: dict[str, Any] | None = None
) -> Grant:
    return replace(grant, accounts=accounts, identity=identity or grant.identity)


async def refresh_accounts(
    grant: Grant,
    *,
    session: aiohttp.ClientSession | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
) -> Grant:
    """The grant with the identity and accounts the server lists for it now."""
    data = await fetch_accounts(grant, session=session, user_agent=user_agent)
    accounts = data.get("accounts")
    identity = data.get("identity")
    if not isinstance(accounts, list):
        raise AuthError(f"{grant.provider} listed no accounts", provider=grant.provider)
    return _with_accounts(
        grant,
        [a for a in accounts if isinstance(a, dict)],
        identity if isinstance(identity, dict) else None,
    )


def stored_credentials(
    product: str,
    *,
    store: TokenStore | None = None,
    account_id: int | str | None = None,
    grant: Grant | None = None,
) -> dict[str, Any] | None:
    """Keyword arguments for ``product``'s client from the grant ``aiocamp login`` stored.

    ``None`` when no grant is known for the product's authorization server or it lists no
    account of that product. Pass ``grant`` (from ``await store.load(...)``) to choose
    among several accounts with ``account_id``; without it, the store is read here (a small
    local file read) and the first account of the product is used.
    """
    provider, launchpad_name = provider_for(product)
    store = store if store is not None else FileTokenStore()
    if grant is None:
        grant = _load_now(store, provider.name)
        if grant is None:
            return None
    accounts = [a for a in grant.accounts if a.get("product") == launchpad_name]
    if account_id is not None:
        accounts = [a for a in accounts if str(a.get("id")) == str(account_id)]
    if not accounts or not isinstance(accounts[0].get("href"), str):
        return None
    account = accounts[0]
    kwargs: dict[str, Any] = {
        "token_provider": TokenProvider(store, provider.name),
        "base_url": account["href"],
    }
    if product == "basecamp4":
        kwargs["account_id"] = account.get("id")
        origin = str(URL(grant.token_url).origin())
        if URL(origin).host != "launchpad.37signals.com":
            # A sandbox or proxy Launchpad: authorization.json is fetched from there too.
            kwargs["host_overrides"] = {"launchpad.37signals.com": origin}
    return kwargs


def _load_now(store: TokenStore, key: str) -> Grant | None:
    if isinstance(store, FileTokenStore):
        return store.load_now(key)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(store.load(key))
    raise ConfigError(
        "stored_credentials() cannot read this store inside a running event loop; "
        "pass grant=await store.load(key)"
    )
