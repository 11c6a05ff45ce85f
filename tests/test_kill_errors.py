"""What an error tells the caller: class by status, and the context it carries."""

from __future__ import annotations

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import Request

from .helpers import fast_retry, free_port, make_session


def status_app(status: int, body: bytes = b"", headers: dict[str, str] | None = None):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers=headers or {})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (300, errors.UnexpectedRedirect),
        (399, errors.UnexpectedRedirect),
        (409, errors.ClientError),
        (499, errors.ClientError),
        (599, errors.ServerError),
    ],
)
async def test_unlisted_statuses_map_by_their_class(serve, status, cls) -> None:
    server = await serve(status_app(status, b"nope"))
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=0)) as s:
        with pytest.raises(errors.HTTPError) as info:
            await s.request(Request("GET", "/x.json"))
    assert type(info.value) is cls
    assert info.value.status == status


async def test_an_http_error_carries_its_request_reply_and_a_plain_message(serve) -> None:
    server = await serve(status_app(404, b"no such thing", {"X-Request-Id": "42"}))
    url = str(server.make_url("/people/5.json"))
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=0)) as s:
        with pytest.raises(errors.NotFound) as info:
            await s.request(Request("DELETE", "/people/5.json"))
    err = info.value
    assert str(err) == f"HTTP 404 for DELETE {url}"
    assert (err.status, err.method, err.url, err.body) == (404, "DELETE", url, b"no such thing")
    assert {k.lower(): v for k, v in err.headers.items()}["x-request-id"] == "42"


async def test_rate_limited_keeps_status_retry_after_and_request(serve) -> None:
    server = await serve(status_app(429, b"slow down", {"Retry-After": "7"}))
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=0)) as s:
        with pytest.raises(errors.RateLimited) as info:
            await s.request(Request("GET", "/x.json"))
    err = info.value
    assert err.status == 429
    assert err.retry_after == 7.0
    assert err.method == "GET"
    assert err.url.endswith("/x.json")
    assert err.body == b"slow down"


async def test_an_undecodable_reply_says_where_it_came_from(serve) -> None:
    body = b'{"id": 1, ' + b"x" * 300
    server = await serve(status_app(200, body, {"Content-Type": "application/json"}))
    url = str(server.make_url("/x.json"))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.DecodeError) as info:
            await s.request(Request("GET", "/x.json"))
    err = info.value
    assert (err.status, err.url) == (200, url)
    assert err.body == body
    assert err.reason
    assert f"{err.reason} (HTTP 200 from {url}); body starts {body[:120]!r}" == str(err)


def test_a_decode_error_without_context_stays_short() -> None:
    err = errors.DecodeError("bad date")
    assert str(err).startswith("bad date")
    assert "HTTP" not in str(err)  # no "(HTTP None from )" for context it does not have
    assert " from " not in str(err)
    assert (err.reason, err.status, err.url, err.body) == ("bad date", None, "", b"")


async def test_a_connection_error_names_the_request() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    s = make_session(url, retry=fast_retry(max_retries=0))
    with pytest.raises(errors.ConnectError) as info:
        await s.request(Request("GET", "/x.json"))
    await s.close()
    err = info.value
    assert err.method == "GET"
    assert err.url == f"{url}/x.json"
    assert str(err).endswith(f"(GET {url}/x.json)")
    assert str(errors.TransportError("boom")) == "boom"


def test_a_spec_error_names_file_key_and_expectation() -> None:
    err = errors.SpecError("specs/x/a.yaml", "endpoints.get.path", "a path starting with /")
    assert (err.file, err.key_path, err.expected) == (
        "specs/x/a.yaml",
        "endpoints.get.path",
        "a path starting with /",
    )
    assert str(err) == "specs/x/a.yaml: endpoints.get.path: a path starting with /"
    assert str(errors.SpecError("a.yaml", "", "a mapping")) == "a.yaml: <root>: a mapping"
