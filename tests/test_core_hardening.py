"""Regression tests of issue 6: what hostile or odd servers send, over real HTTP on loopback.

Each test names the numbered item of the issue it covers.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import time
from collections.abc import Iterator

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.core import (
    BasicTokenAuth,
    BearerAuth,
    Limit,
    MemoryLimiterBackend,
    PageIterator,
    Paging,
    RateLimit,
    Request,
)
from aiocamp.core._runtime import json_items
from aiocamp.highrise import Highrise

from .helpers import ThreadedServer, app_of, fast_retry, make_session

TOKEN = "secret-token-123"
UA = "aiocamp-tests (dev@example.com)"


# -- 1. a huge Retry-After --------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["999999999", "1e308", "Fri, 31 Dec 9999 23:59:59 GMT"], ids=["secs", "1e308", "date"]
)
async def test_1_huge_retry_after_fails_at_once_with_the_servers_value(serve, value) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": value})

    server = await serve(app_of(handler))
    started = time.monotonic()
    async with make_session(str(server.make_url("")), retry=fast_retry(total_budget=5)) as s:
        with pytest.raises(errors.RateLimited) as info:
            await s.request(Request("GET", "/x.json"))
    assert time.monotonic() - started < 2
    assert info.value.retry_after is not None
    assert info.value.retry_after > 1e8
    assert "paused by the server for" in str(info.value)
    assert "held until" in str(info.value)
    assert "time budget ran out" not in str(info.value)


async def test_1_a_pause_longer_than_the_budget_says_until_when(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "60"})

    server = await serve(app_of(handler))
    started = time.monotonic()
    async with make_session(str(server.make_url("")), retry=fast_retry(total_budget=2)) as s:
        with pytest.raises(errors.RateLimited, match="paused by the server until") as info:
            await s.request(Request("GET", "/x.json"))
    assert time.monotonic() - started < 1.5
    assert info.value.retry_after == 60


async def test_1_server_pause_is_capped_so_the_account_is_not_frozen(serve) -> None:
    calls: list[str | None] = []
    arrivals: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        calls.append(request.headers.get("Authorization"))
        if len(calls) == 1:
            return web.Response(status=429, headers={"Retry-After": "999999999"})
        return web.json_response({"ok": True})

    server = await serve(app_of(handler))
    backend = MemoryLimiterBackend()
    base = str(server.make_url(""))
    first = make_session(
        base,
        rate_limit=RateLimit(backend=backend),
        retry=fast_retry(max_retry_after=0.4, total_budget=0.2),
    )
    with pytest.raises(errors.RateLimited):
        await first.request(Request("GET", "/x.json"))
    # Another client (another token) of the same account shares the paused bucket: it waits
    # out the capped pause (0.4 s from the 429), not 31 years.
    other = make_session(
        base, auth=BasicTokenAuth("another-token-456"), rate_limit=RateLimit(backend=backend)
    )
    r = await other.request(Request("GET", "/x.json"))
    assert r.data == {"ok": True}
    assert len(arrivals) == 2
    assert 0.35 < arrivals[1] - arrivals[0] < 2
    await first.close()
    await other.close()


async def test_1_a_capped_pause_within_the_budget_is_waited_out_and_retried(serve) -> None:
    calls: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return web.Response(status=429, headers={"Retry-After": "1e308"})
        return web.json_response([])

    server = await serve(app_of(handler))
    retry = fast_retry(max_retry_after=0.2, total_budget=5)
    async with make_session(str(server.make_url("")), retry=retry) as s:
        r = await s.request(Request("GET", "/x.json"))
    assert r.data == []
    assert 0.15 < calls[1] - calls[0] < 2


@pytest.mark.redis
async def test_1_redis_pause_ttl_is_bounded(serve, redis_server) -> None:
    redis_asyncio = pytest.importorskip("redis.asyncio")
    from aiocamp.core._redis_backends import RedisLimiterBackend

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "999999999"})

    server = await serve(app_of(handler))
    redis = redis_asyncio.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        await redis.flushall()
        rate = RateLimit(backend=RedisLimiterBackend(redis))
        async with make_session(str(server.make_url("")), rate_limit=rate) as s:
            with pytest.raises(errors.RateLimited):
                await s.request(Request("GET", "/x.json"))
        keys = await redis.keys("aiocamp:limit:*")
        assert keys
        for key in keys:
            ttl = await redis.pttl(key)
            assert 0 < ttl <= (300 + 61) * 1000
    finally:
        await redis.aclose()


# -- 2. pagination that never ends ------------------------------------------------------


def iterator(s, style="link", **kw) -> PageIterator[int]:
    return PageIterator(
        s,
        Request("GET", "/items.json"),
        paging=Paging(style, kw.pop("param", ""), kw.pop("page_size", 0)),
        extract=json_items,
        convert=lambda d: d["id"],
        **kw,
    )


def links_app(link_for) -> tuple[web.Application, list[str]]:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        page = int(request.query.get("page", "1"))
        headers = {}
        link = link_for(request, page)
        if link:
            headers["Link"] = link
        return web.json_response([{"id": page * 10 + i} for i in range(2)], headers=headers)

    return app_of(handler), seen


@pytest.mark.parametrize(
    ("link", "pages", "loops"),
    [
        (lambda r, p: f'<{r.url}>; rel="next"', 1, True),  # itself
        (lambda r, p: f'</items.json?page={3 if p == 2 else 2}>; rel="next"', 3, True),  # cycle
        (lambda r, p: '<>; rel="next"' if p > 1 else '</items.json?page=2>; rel="next"', 2, False),
    ],
    ids=["self", "cycle", "empty-after-2"],
)
async def test_2_link_loops_end(serve, link, pages, loops) -> None:
    app, seen = links_app(link)
    server = await serve(app)
    got: list[int] = []
    message = ""
    async with make_session(str(server.make_url(""))) as s:
        try:
            async for i in iterator(s):
                got.append(i)
        except errors.PaginationError as exc:
            message = str(exc)
    assert ("already fetched" in message) is loops
    assert len(seen) == pages
    assert len(got) == 2 * pages


async def test_2_empty_next_target_is_skipped_for_the_next_entry(serve) -> None:
    def link(r, p):
        return '<>; rel="next", </items.json?page=2>; rel="next"' if p == 1 else None

    app, seen = links_app(link)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        got = [i async for i in iterator(s)]
    assert seen == ["/items.json", "/items.json?page=2"]
    assert got == [10, 11, 20, 21]


async def test_2_rel_matches_case_insensitively(serve) -> None:
    app, _ = links_app(lambda r, p: '</items.json?page=2>; REL="Next"' if p == 1 else None)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        got = [i async for i in iterator(s)]
    assert got == [10, 11, 20, 21]


@pytest.mark.parametrize("target", ["http://[::1", "http://127.0.0.1:99999/items.json"])
async def test_2_malformed_link_target_is_a_pagination_error(serve, target) -> None:
    app, _ = links_app(lambda r, p: f'<{target}>; rel="next"')
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.PaginationError, match="not a valid URL"):
            [i async for i in iterator(s)]


async def test_2_offset_server_ignoring_n_stops_with_an_error(serve) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.json_response([{"id": i} for i in range(3)])  # always the same page

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        it = iterator(s, "offset", param="n", page_size=3)
        with pytest.raises(errors.PaginationError, match="repeats the records"):
            [i async for i in it]
    assert len(seen) == 2


# -- 3. unbounded bodies ----------------------------------------------------------------


async def test_3_body_over_the_limit_is_refused_and_the_connection_released(serve) -> None:
    big = b"[" + b"1," * 600_000 + b"1]"

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/big.json":
            return web.Response(body=big, content_type="application/json")
        return web.json_response({"small": True})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url("")), max_body_bytes=1024 * 1024) as s:
        with pytest.raises(errors.ResponseTooLarge):
            await s.request(Request("GET", "/big.json"))
        r = await s.request(Request("GET", "/small.json"))
    assert r.data == {"small": True}


async def test_3_chunked_body_is_counted_while_streaming(serve) -> None:
    sent: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            await resp.write(b"[")
            for _ in range(400):  # up to 40 MB if nobody stops reading
                await resp.write(b"1," * 50_000)
                sent.append(1)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return resp

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url("")), max_body_bytes=512 * 1024) as s:
        with pytest.raises(errors.ResponseTooLarge):
            await s.request(Request("GET", "/stream.json"))
    await asyncio.sleep(0.05)
    assert len(sent) < 400


async def test_3_gzip_bomb_counts_inflated_bytes(serve) -> None:
    bomb = gzip.compress(b"[" + b" " * (60 * 1024 * 1024) + b"]", compresslevel=9)
    assert len(bomb) < 200 * 1024

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )

    server = await serve(app_of(handler))
    started = time.monotonic()
    async with make_session(str(server.make_url("")), max_body_bytes=2 * 1024 * 1024) as s:
        with pytest.raises(errors.ResponseTooLarge, match="max_body_bytes=2097152"):
            await s.request(Request("GET", "/bomb.json"))
    assert time.monotonic() - started < 5


async def test_3_a_5mb_page_does_not_stall_the_event_loop(serve) -> None:
    record = {"id": 0, "name": "x" * 200, "tags": ["a", "b", "c"], "nested": {"k": [1, 2, 3]}}
    items = [dict(record, id=i) for i in range(19_000)]
    body = json.dumps(items).encode()
    assert len(body) > 5 * 1024 * 1024

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    server = await serve(app_of(handler))
    stalls: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    def convert(d):
        return (d["id"], d["name"][:1], len(d["tags"]))

    # The heap left by earlier tests is frozen out of the collector: a full collection of
    # it is the test process's cost, not the page's (alone, this test passes either way).
    gc.collect()
    gc.freeze()
    try:
        async with make_session(str(server.make_url(""))) as s:
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.01)
            it = PageIterator(
                s,
                Request("GET", "/page.json"),
                paging=Paging(),
                extract=json_items,
                convert=convert,
            )
            got = [x async for x in it]
            done.set()
            await tick
    finally:
        gc.unfreeze()
    assert len(got) == 19_000
    # What decoding the page on the loop in one go would block it for, measured now: on a
    # busy machine both grow, so the bound is relative (100 ms on an idle one, where the
    # one-go decode takes several hundred ms; the benchmark reports the real figure).
    one_go = 0.0
    for _ in range(3):  # the slowest of three: the machine is as busy as during the listing
        started = time.perf_counter()
        json.loads(body)
        one_go = max(one_go, time.perf_counter() - started)
    limit = max(0.1, one_go / 2)
    assert max(stalls) < limit, f"longest loop stall {max(stalls) * 1e3:.0f} ms > {limit * 1e3:.0f}"


# -- 4. credentials and another port ----------------------------------------------------


async def test_4_redirect_to_another_port_is_refused_without_sending_credentials(serve) -> None:
    other_seen: list[str | None] = []

    async def other(request: web.Request) -> web.Response:
        other_seen.append(request.headers.get("Authorization"))
        return web.json_response({})

    target = await serve(app_of(other))

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(str(target.make_url("/x.json")))

    server = await serve(app_of(redirect))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.UnexpectedRedirect, match="another origin"):
            await s.request(Request("GET", "/x.json"))
    assert other_seen == []


# -- 5. bare exceptions from a Location or a configuration ------------------------------


async def test_5_location_with_userinfo_is_an_aiocamp_error(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        port = request.url.port
        raise web.HTTPFound(f"http://user:pw@127.0.0.1:{port}/y.json")

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.UnexpectedRedirect, match="carries credentials") as info:
            await s.request(Request("GET", "/x.json"))
    assert "pw" not in str(info.value)


@pytest.mark.parametrize("location", ["http://[::1", "http://127.0.0.1:99999/"])
async def test_5_malformed_location_is_an_aiocamp_error(serve, location) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.UnexpectedRedirect, match="not a valid URL"):
            await s.request(Request("GET", "/x.json"))


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "tok\nen", "tok\x00en"])
def test_5_line_breaks_in_credentials_or_user_agent_are_config_errors(bad) -> None:
    with pytest.raises(errors.ConfigError) as info:
        Basecamp4(account_id=1, access_token=bad, user_agent=UA)
    assert bad not in str(info.value)
    with pytest.raises(errors.ConfigError):
        Highrise(subdomain="acme", token=bad, user_agent=UA)
    with pytest.raises(errors.ConfigError):
        Highrise(subdomain="acme", username="me", password=bad, user_agent=UA)
    with pytest.raises(errors.ConfigError, match="user_agent"):
        Highrise(subdomain="acme", token="tok-1234", user_agent="App " + bad)


# -- 6. the cache serves what the server sent --------------------------------------------


async def test_6_a_304_serves_the_servers_bytes_not_a_mutated_object(serve) -> None:
    body = (
        b'<person><id type="integer">1</id><first-name>Ann</first-name>'
        b"<custom><x><y>original</y></x></custom></person>"
    )
    statuses: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            statuses.append(304)
            return web.Response(status=304, headers={"ETag": '"v1"'})
        statuses.append(200)
        return web.Response(body=body, content_type="application/xml", headers={"ETag": '"v1"'})

    server = await serve(app_of(handler))
    async with Highrise(base_url=str(server.make_url("")), token=TOKEN, user_agent=UA) as hr:
        p = await hr.people.get(1)
        p.extra["custom"]["x"]["y"] = "MUTATED"
        p.first_name = "Bob"
        again = await hr.people.get(1)
    assert statuses == [200, 304]
    assert again.extra["custom"]["x"]["y"] == "original"
    assert again.first_name == "Ann"


# -- 7. credentials echoed into a 2xx body that fails to decode --------------------------


async def test_7_decode_error_scrubs_an_echoed_credential(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        auth = request.headers["Authorization"]
        body = f'{{"echo": "{auth}", "token": "{TOKEN}", '.encode()  # truncated JSON
        return web.Response(body=body, content_type="application/json")

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.DecodeError) as info:
            await s.request(Request("GET", "/x.json"))
    assert TOKEN not in str(info.value)
    assert TOKEN.encode() not in info.value.body
    assert b"Basic " + b"c2Vj" not in info.value.body
    assert info.value.status == 200
    assert b'"echo"' in info.value.body


async def test_7_errors_from_result_decoding_show_the_body(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"id": "not-a-number", "note": "secret-bearer-xyz"})

    server = await serve(app_of(handler))
    token = "secret-bearer-xyz"
    async with Basecamp4(
        base_url=str(server.make_url("")), access_token=token, user_agent=UA, strict=True
    ) as bc:
        with pytest.raises(errors.DecodeError) as info:
            await bc.todos.get(2)
    text = str(info.value)
    assert "body starts b''" not in text
    assert "body starts b'{" in text
    assert token not in text
    assert info.value.url.endswith("/todos/2.json")


# -- 9. one client, two event loops -----------------------------------------------------


@pytest.fixture
def threaded_server() -> Iterator[str]:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(0.002)
        return web.json_response({"path": request.path})

    with ThreadedServer(app_of(handler)) as server:
        yield server.url


def test_9_a_client_works_from_a_second_event_loop(threaded_server) -> None:
    # A tight limit makes tasks queue on the limiter's locks, which bind to a loop.
    client = Basecamp4(
        base_url=threaded_server,
        access_token="tok-12345",
        user_agent=UA,
        rate_limit=RateLimit(backend=MemoryLimiterBackend(), limits={"default": Limit(4, 0.1)}),
    )

    async def burst() -> int:
        results = await asyncio.gather(
            *(client.session.request(Request("GET", f"/{i}.json")) for i in range(12))
        )
        return len(results)

    assert asyncio.run(burst()) == 12  # the session is not closed in between
    assert asyncio.run(burst()) == 12

    async def close() -> None:
        await client.close()

    asyncio.run(close())


def test_9_bearer_refresh_works_from_a_second_event_loop(threaded_server) -> None:
    async def refresher() -> str:
        return "new-token-999"

    auth = BearerAuth("old-token-111", refresher=refresher)

    async def refresh_twice() -> list[bool]:
        sent = auth.headers()
        return list(await asyncio.gather(auth.refresh(sent), auth.refresh(sent)))

    assert asyncio.run(refresh_twice()) == [True, True]
    assert asyncio.run(refresh_twice()) == [True, True]


# -- 10. impossible totals --------------------------------------------------------------


@pytest.mark.parametrize("value", ["-5", str(10**23), "12abc", "1e3"])
async def test_10_impossible_total_counts_are_unknown(serve, value) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response([{"id": 1}], headers={"X-Total-Count": value})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        it = iterator(s)
        assert [i async for i in it] == [1]
    assert it.total_count is None


# -- 11. a POST answered with a redirect -------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_11_post_is_never_resent_on_a_redirect(serve, status) -> None:
    seen: list[tuple[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path))
        if request.path == "/create.json":
            return web.Response(status=status, headers={"Location": "/moved.json"})
        return web.json_response({"id": 1}, status=201)

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.UnexpectedRedirect, match="send its body") as info:
            await s.request(Request("POST", "/create.json", body={"name": "x"}))
    assert seen == [("POST", "/create.json")]
    assert info.value.status == status
    assert info.value.location.endswith("/moved.json")


async def test_11_post_answered_303_fetches_the_result_with_get(serve) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        if request.path == "/create.json":
            return web.Response(status=303, headers={"Location": "/things/1.json"})
        return web.json_response({"id": 1})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("POST", "/create.json", body={"name": "x"}))
    assert r.data == {"id": 1}
    assert seen[1] == ("GET", "/things/1.json", b"")


async def test_11_put_follows_a_307_with_its_body(serve) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        if request.path == "/a.json":
            return web.Response(status=307, headers={"Location": "/b.json"})
        return web.json_response({"ok": 1})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("PUT", "/a.json", body={"name": "x"}))
    assert [m for m, _, _ in seen] == ["PUT", "PUT"]
    assert seen[1][2] == b'{"name":"x"}' or json.loads(seen[1][2]) == {"name": "x"}


async def test_11_too_many_redirects_is_its_own_error(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        n = int(request.query.get("n", "0"))
        return web.Response(status=302, headers={"Location": f"/x.json?n={n + 1}"})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.TooManyRedirects) as info:
            await s.request(Request("GET", "/x.json"))
    assert info.value.status == 302


# -- 18. what an HTTPError carries ------------------------------------------------------


async def test_18_http_error_has_server_text_request_id_and_retryable(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/json.json":
            return web.json_response(
                {"error": f"Name can't be blank ({TOKEN})"},
                status=422,
                headers={"X-Request-Id": "req-42"},
            )
        if request.path == "/xml.xml":
            return web.Response(
                body=b"<errors><error>First name can't be blank</error></errors>",
                status=422,
                content_type="application/xml",
            )
        return web.Response(status=500, text="oops")

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.UnprocessableEntity) as info:
            await s.request(Request("POST", "/json.json", body={}))
        e = info.value
        assert "Name can't be blank" in str(e)
        assert TOKEN not in str(e)
        assert e.request_id == "req-42"
        assert e.retryable is False
        with pytest.raises(errors.UnprocessableEntity, match="First name can't be blank"):
            await s.request(Request("POST", "/xml.xml", body={}))
        with pytest.raises(errors.ServerError) as info500:
            await s.request(Request("GET", "/boom.json"))
    assert info500.value.retryable is True
    assert info500.value.request_id is None


async def test_18_throttled_503_is_caught_as_rate_limited_and_server_error(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "0.01"})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=1)) as s:
        with pytest.raises(errors.RateLimited) as info:
            await s.request(Request("GET", "/x.json"))
    assert isinstance(info.value, errors.ServerError)
    assert isinstance(info.value, errors.ServiceUnavailable)
    assert info.value.retryable is True


# -- 19. truncated listings and a start page ---------------------------------------------


def numbered_app(pages: int, size: int) -> tuple[web.Application, list[str]]:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.query.get("page", ""))
        page = int(request.query.get("page", "1"))
        count = size if page <= pages else 0
        return web.json_response([{"id": page * 100 + i} for i in range(count)])

    return app_of(handler), seen


@pytest.mark.parametrize(
    ("kw", "expected_len", "truncated"),
    [
        ({}, 9, False),
        ({"max_items": 4}, 4, True),
        ({"max_pages": 2}, 6, True),
        ({"max_pages": 3}, 9, True),  # the 4th (empty) page was not asked for
        ({"max_items": 9}, 9, True),
        ({"max_items": 20}, 9, False),
    ],
)
async def test_19_truncated_says_whether_limits_cut_the_listing(
    serve, kw, expected_len, truncated
) -> None:
    app, _ = numbered_app(pages=3, size=3)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        it = iterator(s, "page", param="page", page_size=3, **kw)
        got = [i async for i in it]
    assert len(got) == expected_len
    assert it.truncated is truncated


async def test_19_page_iterator_starts_at_a_given_page(serve) -> None:
    app, seen = numbered_app(pages=4, size=3)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        got = [i async for i in iterator(s, "page", param="page", page_size=3, start_page=3)]
    assert seen[:2] == ["3", "4"]
    assert got == [300, 301, 302, 400, 401, 402]
    with pytest.raises(errors.ConfigError):
        iterator(s, "link", start_page=2)


def test_9_a_callers_aiohttp_session_of_another_loop_is_a_config_error(threaded_server) -> None:
    import aiohttp

    async def make_http() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    http = asyncio.run(make_http())
    client = Basecamp4(
        base_url=threaded_server, access_token="tok-12345", user_agent=UA, http_session=http
    )

    async def call() -> None:
        await client.session.request(Request("GET", "/x.json"))

    with pytest.raises(errors.ConfigError, match="another event loop"):
        asyncio.run(call())
    http.detach()
