"""Redis backends against a real redis-server started on a free loopback port."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from aiocamp.core import CacheEntry, Limit, Limiter, RateLimit, Request
from aiocamp.core._redis_backends import RedisEtagCache, RedisLimiterBackend

from .helpers import JITTER, make_session, max_in_window

redis_asyncio = pytest.importorskip("redis.asyncio")


async def test_two_processes_share_one_account_budget(redis, serve) -> None:
    """Two sessions with separate limiters (as two processes would have) share a bucket."""
    times: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    limit = Limit(10, 0.5)  # 20 per second in total
    sessions = [
        make_session(
            str(server.make_url("")),
            rate_limit=RateLimit(backend=RedisLimiterBackend(redis), limits={"default": limit}),
            cache=None,
        )
        for _ in range(2)
    ]

    async def run(s, n: int) -> None:
        await asyncio.gather(*(s.request(Request("GET", f"/{i}.json")) for i in range(n)))

    await asyncio.gather(run(sessions[0], 25), run(sessions[1], 25))
    for s in sessions:
        await s.close()
    assert len(times) == 50
    assert max_in_window(times, 0.5, jitter=JITTER) <= 10
    rate = (len(times) - 1) / (times[-1] - times[0])
    # Shared, not starved: well above one process's share (the benchmark reports the real
    # rate; a loaded test machine must not turn this into a timing failure).
    assert rate >= 0.5 * 20


async def test_redis_pause_is_seen_by_every_limiter(redis) -> None:
    a = Limiter("p", "acct", {"default": Limit(100, 1)}, RedisLimiterBackend(redis))
    b = Limiter("p", "acct", {"default": Limit(100, 1)}, RedisLimiterBackend(redis))
    await a.pause(["default"], 0.4, "429")
    started = time.monotonic()
    await b.acquire(["default"])
    assert time.monotonic() - started >= 0.35


async def test_redis_cancelled_waiters_spend_nothing(redis) -> None:
    limiter = Limiter("p", "c", {"default": Limit(2, 0.4)}, RedisLimiterBackend(redis))
    interval = Limit(2, 0.4).bucket().interval
    await limiter.acquire(["default"])
    started = time.monotonic()
    waiters = [asyncio.create_task(limiter.acquire(["default"])) for _ in range(4)]
    await asyncio.sleep(0.1)
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await limiter.acquire(["default"])
    assert time.monotonic() - started == pytest.approx(interval, abs=0.1)


async def test_redis_cache_round_trip_and_304(redis, serve) -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"e1"':
            return web.Response(status=304)
        return web.json_response([{"id": 1}], headers={"ETag": '"e1"', "X-Total-Count": "1"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    cache = RedisEtagCache(redis)
    async with make_session(str(server.make_url("")), cache=cache) as s:
        await s.request(Request("GET", "/items.json"))
    # A new session (another process) reuses the stored validators and body.
    async with make_session(str(server.make_url("")), cache=cache) as s:
        r = await s.request(Request("GET", "/items.json"))
    assert seen == [None, '"e1"']
    assert r.from_cache
    assert r.data == [{"id": 1}]
    assert r.headers["X-Total-Count"] == "1"


async def test_redis_cache_is_bounded_with_lru_eviction(redis) -> None:
    # Every byte of an entry counts: body, ETag, headers (JSON "{}") and the entry's key.
    one = 40 + len('"a"') + len("{}") + len("aiocamp:cache:e:") + 64
    cache = RedisEtagCache(redis, max_bytes=2 * one + one // 2)
    await cache.set("a", CacheEntry('"a"', None, {}, b"a" * 40))
    await cache.set("b", CacheEntry('"b"', None, {}, b"b" * 40))
    assert await cache.get("a") is not None
    await cache.set("c", CacheEntry('"c"', None, {}, b"c" * 40))
    assert await cache.get("b") is None
    got = await cache.get("a")
    assert got is not None
    assert got.body == b"a" * 40
    assert got.etag == '"a"'
    assert await cache.size_bytes() == 2 * one
    await cache.delete("a")
    assert await cache.size_bytes() == one


async def test_redis_after_a_pause_the_bucket_restarts_with_one_token(redis) -> None:
    limit = Limit(200, 2)  # burst 5, a token every ~10.5 ms
    limiter = Limiter("p", "burst", {"default": limit}, RedisLimiterBackend(redis))
    await limiter.pause(["default"], 0.1, "429")
    stamps = []
    for _ in range(5):
        await limiter.acquire(["default"])
        stamps.append(time.monotonic())
    # 4 intervals, less the catch-up a late waiter may claim; a burst would be ~0 s.
    assert stamps[-1] - stamps[0] >= 2.5 * limit.bucket().interval
