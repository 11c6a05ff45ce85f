"""Core session behaviour over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import logging

import aiohttp
import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import BasicTokenAuth, BearerAuth, BodyTokenAuth, Request
from aiocamp.core._auth import NoAuth
from aiocamp.core._redaction import RedactedHeaders

from .helpers import fast_retry, make_session

TOKEN = "secret-token-123"


def echo_app() -> web.Application:
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "auth": request.headers.get("Authorization"),
                "ua": request.headers.get("User-Agent"),
                "ctype": request.headers.get("Content-Type"),
                "body": body.decode(),
            }
        )

    app = web.Application()
    app["seen"] = seen
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def test_user_agent_is_required() -> None:
    with pytest.raises(ValueError, match="user_agent is required"):
        make_session("http://127.0.0.1:1", user_agent="")


async def test_request_sends_user_agent_auth_and_query(serve) -> None:
    server = await serve(echo_app())
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("GET", "/people.json", (("a", "1"),)))
    assert r.status == 200
    assert r.data["ua"] == "aiocamp-tests (dev@example.com)"
    assert r.data["auth"].startswith("Basic ")
    assert r.data["query"] == {"a": "1"}


async def test_bearer_header(serve) -> None:
    server = await serve(echo_app())
    async with make_session(str(server.make_url("")), auth=BearerAuth("tok")) as s:
        r = await s.request(Request("GET", "/x.json"))
    assert r.data["auth"] == "Bearer tok"


async def test_body_token_goes_inside_the_xml_request(serve) -> None:
    received: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.read())
        assert "Authorization" not in request.headers
        return web.Response(body=b"<response success='true'/>", content_type="application/xml")

    app = web.Application()
    app.router.add_post("/ws/pages", handler)
    server = await serve(app)
    s = make_session(
        str(server.make_url("")),
        fmt="xml",
        auth=BodyTokenAuth("bp-token"),
        errors="backpack_envelope",
    )
    async with s:
        await s.request(Request("POST", "/ws/pages", body={"request": {"page": {"title": "A"}}}))
    assert b"<request><token>bp-token</token><page><title>A</title></page></request>" in received[0]


async def test_write_without_body_still_sends_content_type(serve) -> None:
    server = await serve(echo_app())
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("POST", "/todos/1/completion.json"))
    assert r.data["ctype"].startswith("application/json")


async def test_callers_session_is_not_closed(serve) -> None:
    server = await serve(echo_app())
    async with aiohttp.ClientSession() as http:
        s = make_session(str(server.make_url("")), session=http)
        await s.request(Request("GET", "/a.json"))
        await s.close()
        assert not http.closed
        r = await s.request(Request("GET", "/b.json"))
        assert r.status == 200


async def test_own_session_is_closed(serve) -> None:
    """Closing the session closes the connections it opened (the server sees them go)."""
    transports: list[asyncio.Transport] = []

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        transports.append(request.transport)  # type: ignore[arg-type]
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    loop = asyncio.get_running_loop()
    complaints: list[str] = []  # aiohttp reports an unclosed session to the loop
    loop.set_exception_handler(lambda _loop, context: complaints.append(context["message"]))
    try:
        s = make_session(str(server.make_url("")))
        await s.request(Request("GET", "/a.json"))
        assert not transports[0].is_closing()  # kept alive for the next request
        await s.close()
        del s
        gc.collect()
        for _ in range(50):
            if transports[0].is_closing():
                break
            await asyncio.sleep(0.01)
    finally:
        loop.set_exception_handler(None)
    assert transports[0].is_closing()
    assert complaints == []


async def test_http_to_non_loopback_host_is_refused_before_any_request() -> None:
    with pytest.raises(errors.InsecureTransportError, match="plain http"):
        make_session("http://api.example.test")
    s = make_session("https://api.example.test")
    with pytest.raises(errors.InsecureTransportError):
        await s.request(Request("GET", "http://api.example.test/x.json"))
    assert s.stats.requests == 0


async def test_credentials_never_go_to_another_host(serve) -> None:
    server = await serve(echo_app())
    s = make_session(str(server.make_url("")))
    with pytest.raises(errors.InsecureTransportError, match="not the client's host"):
        await s.request(Request("GET", "https://evil.example.test/steal.json"))
    assert s.stats.requests == 0
    await s.close()


async def test_redirect_to_another_host_is_not_followed(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://localhost:1/elsewhere")

    app = web.Application()
    app.router.add_get("/r.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.UnexpectedRedirect):
            await s.request(Request("GET", "/r.json"))


async def test_same_host_redirect_is_followed(serve) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/new.json")

    async def new(request: web.Request) -> web.Response:
        return web.json_response({"auth": request.headers.get("Authorization")})

    app = web.Application()
    app.router.add_get("/old.json", moved)
    app.router.add_get("/new.json", new)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("GET", "/old.json"))
    assert r.data["auth"].startswith("Basic ")


async def test_per_attempt_timeout_raises_request_timeout(serve) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/slow.json", slow)
    server = await serve(app)
    async with make_session(
        str(server.make_url("")), timeout=0.2, retry=fast_retry(max_retries=0)
    ) as s:
        with pytest.raises(errors.RequestTimeout) as info:
            await s.request(Request("GET", "/slow.json"))
    assert isinstance(info.value, TimeoutError)


async def test_connection_refused_is_a_connect_error() -> None:
    from .helpers import free_port

    s = make_session(f"http://127.0.0.1:{free_port()}", retry=fast_retry(max_retries=0))
    with pytest.raises(errors.ConnectError):
        await s.request(Request("GET", "/x.json"))
    await s.close()


@pytest.mark.parametrize(
    ("status", "headers", "cls"),
    [
        (400, {}, errors.BadRequest),
        (401, {}, errors.Unauthorized),
        (403, {}, errors.Forbidden),
        (404, {}, errors.NotFound),
        (404, {"Reason": "Account Inactive"}, errors.AccountInactive),
        (415, {}, errors.UnsupportedMediaType),
        (422, {}, errors.UnprocessableEntity),
        (418, {}, errors.ClientError),
        (507, {}, errors.InsufficientStorage),
        (501, {}, errors.ServerError),
    ],
)
async def test_error_statuses_map_to_the_error_tree(serve, status, headers, cls) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers, text="nope")

    app = web.Application()
    app.router.add_get("/e.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=0)) as s:
        with pytest.raises(cls) as info:
            await s.request(Request("GET", "/e.json", (("q", "1"),)))
    err = info.value
    assert type(err) is cls
    assert err.status == status
    assert err.method == "GET"
    assert err.url.endswith("/e.json?q=1")
    assert err.body == b"nope"


async def test_account_inactive_is_never_retried(serve) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=404, headers={"Reason": "Account Inactive"})

    app = web.Application()
    app.router.add_get("/p.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.AccountInactive):
            await s.request(Request("GET", "/p.json"))
    assert calls == 1


async def test_backpack_envelope_error_with_status_200(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        body = b"<response success='false'><error code='404'>Record not found</error></response>"
        return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/ws/page/1", handler)
    server = await serve(app)
    s = make_session(
        str(server.make_url("")), fmt="xml", auth=BodyTokenAuth("bp"), errors="backpack_envelope"
    )
    async with s:
        with pytest.raises(errors.NotFound, match="Record not found"):
            await s.request(Request("POST", "/ws/page/1", body={"request": {}}))


# -- redaction ---------------------------------------------------------------------------


async def test_secrets_stay_out_of_reprs_logs_and_errors(serve, caplog) -> None:
    async def handler(request: web.Request) -> web.Response:
        # A hostile server echoing our credentials back in an error body.
        return web.Response(status=500, text=f"bad auth {request.headers['Authorization']}")

    app = web.Application()
    app.router.add_get("/x.json", handler)
    server = await serve(app)
    auth = BasicTokenAuth(TOKEN)
    caplog.set_level(logging.DEBUG, logger="aiocamp")
    s = make_session(str(server.make_url("")), auth=auth, retry=fast_retry(max_retries=1))
    with pytest.raises(errors.ServerError) as info:
        await s.request(Request("GET", "/x.json"))
    await s.close()
    import base64

    encoded = base64.b64encode(f"{TOKEN}:X".encode()).decode()
    texts = [
        repr(auth),
        repr(s),
        str(info.value),
        repr(info.value),
        info.value.body.decode(),
        caplog.text,
        repr(RedactedHeaders(auth.headers())),
    ]
    for text in texts:
        assert TOKEN not in text
        assert encoded not in text
    assert "retry 1" in caplog.text  # retries are logged, without secrets


async def test_no_auth_sends_no_authorization(serve) -> None:
    server = await serve(echo_app())
    async with make_session(str(server.make_url("")), auth=NoAuth()) as s:
        r = await s.request(Request("GET", "/x.json"))
    assert r.data["auth"] is None


async def test_bearer_refreshes_once_after_401(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers["Authorization"] == "Bearer old":
            return web.Response(status=401)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/me.json", handler)
    server = await serve(app)
    refreshes = 0

    async def refresher() -> str:
        nonlocal refreshes
        refreshes += 1
        return "new"

    auth = BearerAuth("old", refresher=refresher)
    async with make_session(str(server.make_url("")), auth=auth) as s:
        results = await asyncio.gather(*(s.request(Request("GET", "/me.json")) for _ in range(5)))
    assert all(r.data == {"ok": True} for r in results)
    assert refreshes == 1
