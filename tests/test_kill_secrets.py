"""Credentials of every strategy stay out of error bodies, messages, URLs and logs.

A hostile or careless server echoes credentials back; whatever it echoes, the error the
caller sees (and what we log) must not carry them.
"""

from __future__ import annotations

import base64
import logging
import pickle
import re

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import BasicPasswordAuth, BasicTokenAuth, BearerAuth, Request
from aiocamp.core._auth import AuthStrategy
from aiocamp.core._redaction import RedactedHeaders, Secret

from .helpers import fast_retry, make_session

TOKEN = "tok-7f3a9c2e41"
PASSWORD = "pw-Zq81!xk"
USER = "ada@example.com"


def echo_error_app(status: int = 422) -> web.Application:
    """Answers an error whose body repeats the request: headers, query and raw token."""

    async def handler(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        text = (
            f"rejected {request.method} {request.path_qs}; X-Request-Id: 42; "
            f"you sent Authorization: {auth}; raw: {auth.split(' ', 1)[-1]}"
        )
        return web.Response(status=status, text=text)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


def decoded_basic(auth: str) -> str:
    return base64.b64decode(auth.split(" ", 1)[1]).decode()


STRATEGIES = [
    pytest.param(lambda: BearerAuth(TOKEN), [TOKEN], id="bearer"),
    pytest.param(lambda: BasicTokenAuth(TOKEN), [TOKEN], id="basic_token"),
    pytest.param(lambda: BasicPasswordAuth(USER, PASSWORD), [PASSWORD], id="basic_password"),
]


@pytest.mark.parametrize(("make_auth", "secret_values"), STRATEGIES)
async def test_no_strategy_leaks_its_secret_through_an_error(
    serve, caplog, make_auth, secret_values
) -> None:
    """Kills: a Bearer or password strategy that reports no secrets; an error URL that
    is not scrubbed; the Basic/Bearer scrub removed."""
    server = await serve(echo_error_app())
    auth: AuthStrategy = make_auth()
    sent = auth.headers()["Authorization"]
    leaks = [*secret_values, sent, sent.split(" ", 1)[1]]
    if sent.startswith("Basic "):
        leaks.append(decoded_basic(sent))
    caplog.set_level(logging.DEBUG, logger="aiocamp")
    # The secret also rides in the query (as some OAuth callers put it) and must be
    # scrubbed from the error URL too.
    request = Request("GET", "/people.json", (("access_token", secret_values[0]), ("n", "2")))
    async with make_session(str(server.make_url("")), auth=auth, retry=fast_retry()) as s:
        with pytest.raises(errors.UnprocessableEntity) as info:
            await s.request(request)
    err = info.value
    shown = [str(err), repr(err), err.url, err.body.decode(), caplog.text, repr(auth)]
    for text in shown:
        for leak in leaks:
            assert leak not in text, (leak, text)
    # Scrubbed, not dropped: the rest of the context is still there, whole.
    assert "rejected GET /people.json" in err.body.decode()
    assert "X-Request-Id: 42;" in err.body.decode()  # not mangled by scrubbing "X"
    assert re.search(r"Authorization: (Basic |Bearer )?\*\*\*; raw: \*\*\*$", err.body.decode())
    assert err.url.endswith("n=2")
    assert "/people.json" in err.url


async def test_a_foreign_credential_echoed_in_an_error_body_is_scrubbed(serve) -> None:
    """Kills: removing the scrub of Basic/Bearer values (here values that are not ours,
    e.g. an upstream proxy's, which no strategy can list)."""
    other_basic = base64.b64encode(b"someone:else").decode()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            status=500,
            text="upstream said: Authorization: Bearer abc.DEF-123_x~y+z/= and Basic "
            + other_basic,
        )

    app = web.Application()
    app.router.add_get("/x.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=0)) as s:
        with pytest.raises(errors.ServerError) as info:
            await s.request(Request("GET", "/x.json"))
    body = info.value.body.decode()
    assert "abc.DEF-123_x~y+z/=" not in body
    assert other_basic not in body
    assert body == "upstream said: Authorization: Bearer *** and Basic ***"


async def test_an_old_bearer_token_stays_secret_after_a_refresh(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers["Authorization"] == "Bearer old-secret-1":
            return web.Response(status=401)
        return web.Response(status=403, text="forbidden; last token was old-secret-1")

    app = web.Application()
    app.router.add_get("/me.json", handler)
    server = await serve(app)

    async def refresher() -> str:
        return "new-secret-2"

    auth = BearerAuth("old-secret-1", refresher=refresher)
    async with make_session(str(server.make_url("")), auth=auth) as s:
        with pytest.raises(errors.Forbidden) as info:
            await s.request(Request("GET", "/me.json"))
    assert "old-secret-1" not in info.value.body.decode()
    assert "last token was ***" in info.value.body.decode()


def test_a_secret_is_a_non_empty_string_compared_by_value_and_never_pickled() -> None:
    for bad in ("", None, 123):
        with pytest.raises(ValueError, match="non-empty string"):
            Secret(bad)  # type: ignore[arg-type]
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret("a"))


def test_redacted_headers_hide_credentials_only() -> None:
    headers = RedactedHeaders(
        {"Authorization": "Bearer t0k", "Cookie": "s=1", "User-Agent": "app (a@b.test)"}
    )
    text = repr(headers)
    assert "t0k" not in text
    assert "s=1" not in text
    assert "'User-Agent': 'app (a@b.test)'" in text
    assert text.count("***") == 2
