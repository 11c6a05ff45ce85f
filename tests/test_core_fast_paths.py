"""The synchronous fast paths of the default request loop (limiter token, cache lookup)
behave exactly as the coroutines they stand in for."""

from __future__ import annotations

import asyncio

from aiohttp import web

from aiocamp.core import CacheEntry, Limit, Limiter, MemoryEtagCache, Request
from aiocamp.core._cache import sync_get
from aiocamp.core._limiter import MemoryLimiterBackend

from .helpers import make_session


def _entry(body: bytes) -> CacheEntry:
    return CacheEntry('"e"', None, {}, body)


async def test_acquire_now_takes_a_token_only_when_one_is_there() -> None:
    limit = Limit(10, 0.5)
    params = limit.bucket()
    limiter = Limiter("p", "fast", {"default": limit}, MemoryLimiterBackend())
    for _ in range(params.burst):
        assert limiter.acquire_now(("default",))
    # Spent: refused, and nothing taken, so the coroutine path waits one interval only.
    assert not limiter.acquire_now(("default",))
    waited = await limiter.acquire(("default",))
    assert 0 < waited <= params.interval + 0.1


async def test_acquire_now_leaves_queued_waiters_first() -> None:
    limiter = Limiter("p", "queue", {"default": Limit(1, 0.2)}, MemoryLimiterBackend())
    await limiter.acquire(("default",))
    waiter = asyncio.create_task(limiter.acquire(("default",)))
    await asyncio.sleep(0.01)  # the waiter holds the bucket's lock while it sleeps
    assert not limiter.acquire_now(("default",))
    await waiter


async def test_acquire_now_defers_to_a_backend_without_a_synchronous_path() -> None:
    calls: list[tuple[str, ...]] = []

    class Recording(MemoryLimiterBackend):
        async def try_acquire(self, keys, params) -> float:  # type: ignore[no-untyped-def]
            calls.append(tuple(keys))
            return await super().try_acquire(keys, params)

    limiter = Limiter("p", "rec", {"default": Limit(100, 1)}, Recording())
    assert not limiter.acquire_now(("default",))
    assert not limiter.acquire_now(["default"])  # type: ignore[arg-type]
    assert calls == []


def test_sync_get_only_when_the_same_class_defines_get() -> None:
    class Counting(MemoryEtagCache):
        async def get(self, key: str) -> CacheEntry | None:
            return await super().get(key)

    assert sync_get(MemoryEtagCache()) is not None
    assert sync_get(Counting()) is None


async def test_get_now_counts_as_recently_used_like_get() -> None:
    overhead = len("a") + 400 + 1000
    cache = MemoryEtagCache(max_bytes=2 * overhead + 10 + 2 * len('"e"'))
    await cache.set("a", _entry(b"x" * 1000))
    await cache.set("b", _entry(b"y" * 1000))
    assert cache.get_now("a") is not None  # "a" is now the most recently used
    await cache.set("c", _entry(b"z" * 1000))  # evicts the least recently used: "b"
    assert await cache.get("b") is None
    assert cache.get_now("a") is not None
    assert cache.get_now("c") is not None


async def test_a_cache_overriding_get_is_still_consulted_by_the_session(serve) -> None:
    looked_up: list[str] = []

    class Counting(MemoryEtagCache):
        async def get(self, key: str) -> CacheEntry | None:
            looked_up.append(key)
            return await super().get(key)

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.json_response({"n": 1}, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/x.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url("")), cache=Counting()) as s:
        await s.request(Request("GET", "/x.json"))
        second = await s.request(Request("GET", "/x.json"))
    assert len(looked_up) == 2
    assert second.from_cache
    assert second.data == {"n": 1}
