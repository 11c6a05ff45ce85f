"""Session behaviour that mutmut showed unguarded: revalidation, uploads, URLs, budgets,
pauses without a limiter, and the counters an export reports."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import Limit, Request

from .helpers import fast_retry, make_session


async def test_a_changed_resource_replaces_the_cached_copy(serve) -> None:
    """A 200 to a revalidation is new data: never answer it from the old cache entry."""
    version = {"n": 1}

    async def handler(request: web.Request) -> web.Response:
        etag = f'"v{version["n"]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response({"v": version["n"]}, headers={"ETag": etag})

    app = web.Application()
    app.router.add_get("/doc.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        first = await s.request(Request("GET", "/doc.json"))
        version["n"] = 2
        second = await s.request(Request("GET", "/doc.json"))
        third = await s.request(Request("GET", "/doc.json"))
    assert (first.data, second.data, third.data) == ({"v": 1}, {"v": 2}, {"v": 2})
    assert (first.from_cache, second.from_cache, third.from_cache) == (False, False, True)
    assert s.stats.not_modified == 1


async def test_a_multipart_upload_quotes_its_file_name_and_survives_a_retry(serve) -> None:
    seen: list[tuple[str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.headers["Content-Type"], await request.read()))
        if len(seen) == 1:
            return web.Response(status=503)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_put("/{tail:.*}", handler)
    server = await serve(app)
    data = bytes(range(256))
    name = 'my "best"\\ logo\r\n.png'
    request = Request("PUT", "/logo.json", multipart=("logo", name, data, "image/png"))
    async with make_session(str(server.make_url(""))) as s:
        await s.request(request)
    (ctype, body), (ctype2, body2) = seen
    assert (ctype, body) == (ctype2, body2)  # the retry resends the very same bytes
    boundary = ctype.split("boundary=", 1)[1]
    assert ctype.startswith("multipart/form-data; boundary=aiocamp-")
    assert len(boundary) >= 24
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="logo"; filename="my \\"best\\"\\\\ logo.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    assert body == head + data + f"\r\n--{boundary}--\r\n".encode()


async def test_an_absolute_endpoint_goes_to_its_overridden_host_with_the_path_intact(
    serve,
) -> None:
    seen: list[tuple[str, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.raw_path, request.headers.get("Authorization")))
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    here = str(server.make_url(""))
    async with make_session(
        "https://api.example.test",
        credential_hosts=("launchpad.example.test",),
        host_overrides={"launchpad.example.test": here},
    ) as s:
        await s.request(Request("GET", "https://launchpad.example.test/auth%2Fx.json?a=1"))
    assert seen[0][0] == "/auth%2Fx.json?a=1"
    assert seen[0][1] is not None


async def test_percent_encoded_path_segments_are_sent_as_encoded(serve) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("GET", "/tags/a%2Fb%20c.json", (("q", "x y"),)))
    assert seen == ["/tags/a%2Fb%20c.json?q=x+y"]


async def test_a_retry_after_is_waited_out_without_a_limiter(serve) -> None:
    """With the limiter off (or an endpoint of no limit class) nobody else holds the pause:
    the session itself must sleep it."""
    times: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        if len(times) % 2 == 1:
            return web.Response(status=429, headers={"Retry-After": "0.3"})
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    async with make_session(str(server.make_url("")), rate_limit=None) as s:
        await s.request(Request("GET", "/a.json"))
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("GET", "/b.json", limit_classes=()))
    assert len(times) == 4
    assert times[1] - times[0] >= 0.28
    assert times[3] - times[2] >= 0.28


async def test_the_total_budget_bounds_one_slow_attempt(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    async with make_session(
        str(server.make_url("")), timeout=30, retry=fast_retry(total_budget=0.3)
    ) as s:
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeout) as info:
            await s.request(Request("GET", "/slow.json"))
        assert info.value.method == "GET"
        assert info.value.url.endswith("/slow.json")
        assert time.monotonic() - started < 0.9


async def test_the_counters_count_requests_retries_throttles_and_limiter_waits(serve) -> None:
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.Response(status=503)
        if calls["n"] == 2:
            return web.Response(status=429, headers={"Retry-After": "0.05"})
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    async with make_session(
        str(server.make_url("")), limits={"default": Limit(2, 0.4)}, cache=None
    ) as s:
        await s.request(Request("GET", "/a.json"))
        await s.request(Request("GET", "/b.json"))
    assert s.stats.requests == 4
    assert s.stats.retries == 2
    assert s.stats.throttled == 1
    # Four requests through a bucket of one token per 0.41 s: well over 0.5 s of waiting.
    assert 0.5 < s.stats.limiter_wait < 5
