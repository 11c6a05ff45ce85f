"""ETag / Last-Modified cache."""

from __future__ import annotations

from aiohttp import web

from aiocamp.core import BasicTokenAuth, CacheEntry, MemoryEtagCache, Request
from aiocamp.core._cache import ENTRY_OVERHEAD_BYTES

from .helpers import make_session


def etag_app(seen: list[dict[str, str]]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        if request.headers.get("If-Modified-Since") == "Wed, 01 Jan 2025 00:00:00 GMT":
            return web.Response(status=304)
        headers = {"Link": '<http://x/next>; rel="next"', "X-Total-Count": "7"}
        if request.path == "/etag.json":
            headers["ETag"] = '"v1"'
        else:
            headers["Last-Modified"] = "Wed, 01 Jan 2025 00:00:00 GMT"
        return web.json_response({"path": request.path}, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def test_304_is_served_from_the_cache(serve) -> None:
    seen: list[dict[str, str]] = []
    server = await serve(etag_app(seen))
    async with make_session(str(server.make_url(""))) as s:
        first = await s.request(Request("GET", "/etag.json"))
        second = await s.request(Request("GET", "/etag.json"))
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == '"v1"'
    assert not first.from_cache
    assert second.from_cache
    assert second.status == 200
    assert second.data == {"path": "/etag.json"}
    # Paging headers survive a 304.
    assert second.headers["X-Total-Count"] == "7"
    assert s.stats.not_modified == 1


async def test_last_modified_is_sent_back_as_if_modified_since(serve) -> None:
    seen: list[dict[str, str]] = []
    server = await serve(etag_app(seen))
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("GET", "/lm.json"))
        second = await s.request(Request("GET", "/lm.json"))
    assert seen[1]["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert second.from_cache


async def test_two_credentials_never_share_cached_data(serve) -> None:
    seen: list[dict[str, str]] = []
    server = await serve(etag_app(seen))
    cache = MemoryEtagCache()
    url = str(server.make_url(""))
    async with make_session(url, auth=BasicTokenAuth("alice"), cache=cache) as a:
        await a.request(Request("GET", "/etag.json"))
    async with make_session(url, auth=BasicTokenAuth("bob"), cache=cache) as b:
        r = await b.request(Request("GET", "/etag.json"))
    assert "If-None-Match" not in seen[1]  # bob's request carries no validator of alice's
    assert not r.from_cache
    assert len(cache) == 2


async def test_cache_none_sends_no_validators(serve) -> None:
    seen: list[dict[str, str]] = []
    server = await serve(etag_app(seen))
    async with make_session(str(server.make_url("")), cache=None) as s:
        await s.request(Request("GET", "/etag.json"))
        await s.request(Request("GET", "/etag.json"))
    assert "If-None-Match" not in seen[1]


async def test_only_get_is_cached(serve) -> None:
    seen: list[dict[str, str]] = []
    server = await serve(etag_app(seen))
    cache = MemoryEtagCache()
    async with make_session(str(server.make_url("")), cache=cache) as s:
        await s.request(Request("PUT", "/etag.json", body={}))
    assert len(cache) == 0


def entry(size: int) -> CacheEntry:
    return CacheEntry('"e"', None, {"Content-Type": "application/json"}, b"x" * size)


def held(key: str, e: CacheEntry) -> int:
    """Every byte the memory cache charges for an entry: data, key and fixed overhead."""
    headers = sum(len(k) + len(v) for k, v in e.headers.items())
    return len(e.body) + len(e.etag or "") + headers + len(key) + ENTRY_OVERHEAD_BYTES


async def test_memory_cache_is_bounded_by_bytes_with_lru_eviction() -> None:
    one = held("a", entry(40))
    cache = MemoryEtagCache(max_bytes=2 * one + one // 2)
    await cache.set("a", entry(40))
    await cache.set("b", entry(40))
    assert await cache.get("a") is not None  # a is now the most recent
    await cache.set("c", entry(40))  # 3 entries > bound: evict the least recent, b
    assert await cache.get("b") is None
    assert await cache.get("a") is not None
    assert await cache.get("c") is not None
    assert cache.size_bytes == 2 * one


async def test_memory_cache_counts_headers_and_validators_not_only_the_body() -> None:
    cache = MemoryEtagCache()
    big_headers = CacheEntry('"' + "e" * 1000 + '"', "x" * 1000, {"Link": "y" * 5000}, b"")
    await cache.set("k", big_headers)
    assert cache.size_bytes >= 7000


async def test_memory_cache_skips_oversized_bodies() -> None:
    cache = MemoryEtagCache(max_bytes=10_000, max_entry_bytes=held("big", entry(50)))
    await cache.set("big", entry(60))
    assert await cache.get("big") is None
    assert cache.size_bytes == 0


async def test_replacing_an_entry_keeps_the_byte_count_right() -> None:
    cache = MemoryEtagCache(max_bytes=10_000)
    await cache.set("a", entry(40))
    await cache.set("a", entry(10))
    assert cache.size_bytes == held("a", entry(10))
    await cache.delete("a")
    assert cache.size_bytes == 0
