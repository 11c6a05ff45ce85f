"""The SQLite ETag cache backend: bytes and validators in a file, LRU-bounded by bytes."""

from __future__ import annotations

import sqlite3

from aiohttp import web

from aiocamp.core._cache import CacheEntry
from aiocamp.core._sqlite_cache import SqliteEtagCache

from .helpers import make_session


def entry(body: bytes, etag: str = '"e1"') -> CacheEntry:
    return CacheEntry(etag, "Mon, 01 Jan 2024 00:00:00 GMT", {"Link": "<x>; rel=next"}, body)


async def test_entries_survive_reopening_the_file(tmp_path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = SqliteEtagCache(path)
    await cache.set("id GET https://h/people.xml", entry(b"<people/>"))
    cache.close()
    again = SqliteEtagCache(path)
    got = await again.get("id GET https://h/people.xml")
    assert got is not None
    assert (got.etag, got.last_modified, got.headers, got.body) == (
        '"e1"',
        "Mon, 01 Jan 2024 00:00:00 GMT",
        {"Link": "<x>; rel=next"},
        b"<people/>",
    )
    assert again.size_bytes == len(
        b'<people/>"e1"Mon, 01 Jan 2024 00:00:00 GMT{"Link": "<x>; rel=next"}'
    )
    assert await again.get("id GET https://h/other.xml") is None


async def test_the_file_holds_no_url_or_identity_in_clear(tmp_path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = SqliteEtagCache(path)
    await cache.set("identity-hash GET https://acme.example/people.xml?n=500", entry(b"x"))
    cache.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"acme.example" not in raw
    assert b"identity-hash" not in raw


async def test_least_recently_used_entries_go_first_when_over_the_bound(tmp_path) -> None:
    def bare(body: bytes) -> CacheEntry:  # stored size: body + '"e"' + '{}' = body + 5
        return CacheEntry('"e"', None, {}, body)

    cache = SqliteEtagCache(tmp_path / "c.sqlite3", max_bytes=40, max_entry_bytes=25)
    await cache.set("a", bare(b"a" * 10))
    await cache.set("b", bare(b"b" * 10))
    assert await cache.get("a") is not None  # a is now more recent than b
    await cache.set("c", bare(b"c" * 15))
    assert await cache.get("b") is None
    assert await cache.get("a") is not None
    assert await cache.get("c") is not None
    assert cache.size_bytes == 35
    await cache.set("big", bare(b"z" * 21))  # larger than one entry may be: not kept
    assert await cache.get("big") is None
    await cache.set("a", bare(b"A" * 5))  # replacing counts the new size only
    assert cache.size_bytes == 30
    await cache.delete("a")
    assert cache.size_bytes == 20
    assert len(cache) == 1


async def test_a_corrupt_row_is_dropped_not_raised(tmp_path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = SqliteEtagCache(path)
    await cache.set("k", entry(b"body"))
    db = sqlite3.connect(path)
    db.execute("UPDATE entries SET headers = 'not json'")
    db.commit()
    db.close()
    assert await cache.get("k") is None
    assert len(cache) == 0


async def test_a_session_gets_304s_from_a_reopened_file(serve, tmp_path) -> None:
    sent: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        sent.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.json_response({"id": 1}, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/thing.json", handler)
    server = await serve(app)
    from aiocamp.core import Request

    for _ in range(2):
        cache = SqliteEtagCache(tmp_path / "c.sqlite3")
        async with make_session(str(server.make_url("")), cache=cache) as session:
            response = await session.request(Request("GET", "/thing.json"))
            assert response.data == {"id": 1}
        cache.close()
    assert sent == [None, '"v1"']
