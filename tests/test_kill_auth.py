"""Auth strategies as a server and a cache see them: headers, identities, refresh, hosts."""

from __future__ import annotations

import base64

import pytest
from aiohttp import web
from yarl import URL

from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.core import BasicPasswordAuth, BasicTokenAuth, BearerAuth, BodyTokenAuth, Request
from aiocamp.core._auth import AuthStrategy, ensure_secure, is_loopback, select_auth
from aiocamp.highrise import Highrise

from .helpers import make_session

UA = "aiocamp-tests (dev@example.com)"


def header_app(seen: list[str | None], status: int = 200) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        if status != 200:
            return web.Response(status=status, text="no")
        body = b'<account><id type="integer">1</id></account>'
        return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ({"token": "tok-1"}, basic("tok-1", "X")),
        ({"username": "ann", "password": "pw-2"}, basic("ann", "pw-2")),
        ({"access_token": "oauth-3"}, "Bearer oauth-3"),
    ],
)
async def test_each_kind_of_credential_sends_its_documented_header(
    serve, credentials, expected
) -> None:
    """Highrise: token as Basic user with password X, login as Basic, OAuth as Bearer."""
    seen: list[str | None] = []
    server = await serve(header_app(seen))
    async with Highrise(base_url=str(server.make_url("")), user_agent=UA, **credentials) as hr:
        await hr.account.get()
    assert seen == [expected]


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"token": "t", "access_token": "a"},
        {"username": "ann"},
        {"password": "pw"},
        {"token": "t", "username": "ann", "password": "pw"},
    ],
)
def test_missing_or_mixed_credentials_are_refused(credentials) -> None:
    with pytest.raises(errors.ConfigError, match="credentials"):
        Highrise(subdomain="acme", user_agent=UA, **credentials)


def test_a_product_refuses_credentials_it_has_no_strategy_for() -> None:
    with pytest.raises(errors.ConfigError, match=r"credentials \['token'\] do not fit"):
        select_auth(["bearer"], token="t")
    with pytest.raises(errors.ConfigError, match=r"\['username', 'password'\] do not fit"):
        select_auth(["bearer"], username="u", password="p")
    with pytest.raises(errors.ConfigError, match="credentials none do not fit"):
        select_auth(["bearer"])
    with pytest.raises(errors.ConfigError, match="do not fit"):
        Basecamp4(account_id=1, user_agent=UA)
    assert isinstance(select_auth(["body_token"], token="t"), BodyTokenAuth)
    given = BearerAuth("mine")
    assert select_auth(["basic_token"], auth=given) is given


def test_identities_separate_every_credential_and_never_show_it() -> None:
    """Cache keys use ``identity``: two users (or two passwords) must never share one."""
    strategies = [
        BasicTokenAuth("alpha"),
        BasicTokenAuth("beta"),
        BasicPasswordAuth("ann", "pw-one"),
        BasicPasswordAuth("ann", "pw-two"),
        BasicPasswordAuth("bob", "pw-one"),
        BearerAuth("alpha-oauth"),
        BearerAuth("beta-oauth"),
        BodyTokenAuth("alpha-body"),
        BodyTokenAuth("beta-body"),
    ]
    identities = [a.identity for a in strategies]
    assert all(isinstance(i, str) and len(i) >= 16 for i in identities)
    assert len(set(identities)) == len(identities)
    for auth, identity in zip(strategies, identities, strict=True):
        assert all(secret not in identity for secret in auth.secrets())
    # Stable: the same credential has the same identity (its cached data is found again).
    assert BasicPasswordAuth("ann", "pw-one").identity == identities[2]
    assert BearerAuth("alpha-oauth").identity == identities[5]


def test_reprs_name_the_strategy_and_hide_the_secret() -> None:
    for auth in (BasicTokenAuth("tok-9"), BearerAuth("tok-9"), BodyTokenAuth("tok-9")):
        text = repr(auth)
        assert text.startswith(type(auth).__name__ + "(identity=")
        assert "tok-9" not in text


@pytest.mark.parametrize(
    "auth", [BasicTokenAuth("tok"), BearerAuth("tok")], ids=["basic", "bearer-no-refresher"]
)
async def test_a_401_without_a_way_to_refresh_is_raised_after_one_request(serve, auth) -> None:
    seen: list[str | None] = []
    server = await serve(header_app(seen, status=401))
    async with make_session(str(server.make_url("")), auth=auth) as s:
        with pytest.raises(errors.Unauthorized):
            await s.request(Request("GET", "/me.json"))
    assert len(seen) == 1


async def test_body_token_auth_wraps_or_refuses_bodies(serve) -> None:
    bodies: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(body=b"<response success='true'/>", content_type="application/xml")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    server = await serve(app)
    s = make_session(
        str(server.make_url("")),
        fmt="xml",
        auth=BodyTokenAuth("bp-7"),
        errors="backpack_envelope",
    )
    async with s:
        await s.request(Request("POST", "/ws/account"))  # no body: the token alone
        # A record rooted elsewhere goes inside <request>, after the token.
        await s.request(Request("POST", "/ws/pages", body={"page": {"title": "A"}}))
        with pytest.raises(errors.ConfigError, match="needs an XML element body"):
            await s.request(Request("POST", "/ws/pages", body=["not", "a", "record"]))
        with pytest.raises(errors.ConfigError, match="needs an XML element body"):
            await s.request(Request("POST", "/ws/pages", body={"token": "forged"}))
    assert len(bodies) == 2
    assert bodies[0].endswith(b"<request><token>bp-7</token></request>")
    assert bodies[1].endswith(
        b"<request><token>bp-7</token><page><title>A</title></page></request>"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        (None, False),
        ("", False),
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts(host, loopback) -> None:
    assert is_loopback(host) is loopback


def test_only_http_and_https_urls_carry_credentials() -> None:
    for url in ("ftp://127.0.0.1/x", "file:///etc/passwd"):
        with pytest.raises(errors.ConfigError, match="not an http"):
            ensure_secure(URL(url), ["127.0.0.1"], with_credentials=True)
    ensure_secure(URL("https://api.example.test/x"), ["api.example.test"], with_credentials=True)


async def test_the_base_strategy_refreshes_nothing() -> None:
    assert await AuthStrategy().refresh({}) is False
