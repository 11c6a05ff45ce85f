"""A listing served from the ETag cache pages exactly like a fresh one."""

from __future__ import annotations

from aiohttp import web

from aiocamp.core import CacheEntry, MemoryEtagCache, PageIterator, Paging, Request
from aiocamp.core._runtime import json_items

from .helpers import make_session


def etag_pages_app(seen: list[tuple[str, str | None]]) -> web.Application:
    """Three linked pages with ETags; a matching If-None-Match gets a bare 304 (no Link)."""

    async def handler(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        validator = request.headers.get("If-None-Match")
        seen.append((request.path_qs, validator))
        etag = f'"p{page}"'
        if validator == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag, "X-Total-Count": "6"}
        if page < 3:
            headers["Link"] = f'<{request.url.with_query(page=str(page + 1))}>; rel="next"'
        return web.json_response([{"id": page * 10}, {"id": page * 10 + 1}], headers=headers)

    app = web.Application()
    app.router.add_get("/items.json", handler)
    return app


def listing(s) -> PageIterator[int]:
    return PageIterator(
        s,
        Request("GET", "/items.json"),
        paging=Paging("link"),
        extract=json_items,
        convert=lambda d: d["id"],
    )


async def test_paging_continues_after_a_304_from_the_link_kept_in_the_cache(serve) -> None:
    """Kills: dropping ``Link`` from a cached entry (paging would stop after a 304)."""
    seen: list[tuple[str, str | None]] = []
    server = await serve(etag_pages_app(seen))
    async with make_session(str(server.make_url(""))) as s:
        first = [i async for i in listing(s)]
        again = listing(s)
        second = [i async for i in again]
    assert first == second == [10, 11, 20, 21, 30, 31]
    assert again.total_count == 6  # from the cached first page's headers
    assert s.stats.not_modified == 3
    assert seen[3:] == [
        ("/items.json", '"p1"'),
        ("/items.json?page=2", '"p2"'),
        ("/items.json?page=3", '"p3"'),
    ]


async def test_a_304_returns_the_cached_data_not_an_empty_body(serve) -> None:
    seen: list[tuple[str, str | None]] = []
    server = await serve(etag_pages_app(seen))
    async with make_session(str(server.make_url(""))) as s:
        fresh = await s.request(Request("GET", "/items.json", (("page", "3"),)))
        cached = await s.request(Request("GET", "/items.json", (("page", "3"),)))
    assert cached.from_cache
    assert not fresh.from_cache
    assert cached.data == fresh.data == [{"id": 30}, {"id": 31}]
    assert cached.headers["ETag"] == '"p3"'
    assert "Link" not in cached.headers  # the last page had none; nothing invented


def entry(size: int) -> CacheEntry:
    return CacheEntry('"e"', None, {}, b"x" * size)


async def charge(size: int) -> int:
    """The bytes the memory cache counts for one entry of a ``size``-byte body."""
    probe = MemoryEtagCache()
    await probe.set("a", entry(size))
    return probe.size_bytes


async def test_the_memory_cache_bounds_are_inclusive() -> None:
    """An entry of exactly the per-entry limit is kept; a cache exactly full evicts nothing."""
    one = await charge(50)
    cache = MemoryEtagCache(max_bytes=2 * one, max_entry_bytes=one)
    await cache.set("a", entry(50))
    await cache.set("b", entry(50))
    assert await cache.get("a") is not None
    assert await cache.get("b") is not None
    assert cache.size_bytes == 2 * one
    await cache.set("c", entry(50))  # one more: the least recently used goes
    assert await cache.get("a") is None
    assert cache.size_bytes == 2 * one


async def test_a_body_grown_too_big_to_cache_drops_the_stale_entry() -> None:
    """The old, smaller body must not be served after the resource outgrew the cache."""
    cache = MemoryEtagCache(max_entry_bytes=await charge(10) + 10)
    await cache.set("a", entry(10))
    assert await cache.get("a") is not None
    await cache.set("a", entry(60))
    assert await cache.get("a") is None
    assert cache.size_bytes == 0
