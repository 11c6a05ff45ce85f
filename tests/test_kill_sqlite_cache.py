"""Mutation kills for ``aiocamp.core._sqlite_cache`` (issue 7): a cache file in a folder
that does not exist yet, a file that is not a database, the exact byte bounds, a row
whose headers are not a mapping, and a write that fails half-way (rolled back)."""

from __future__ import annotations

import sqlite3

import pytest

from aiocamp.core._cache import CacheEntry
from aiocamp.core._sqlite_cache import SqliteEtagCache
from aiocamp.errors import ConfigError


def bare(body: bytes) -> CacheEntry:
    """An entry whose stored size is the body plus 5 (``'"e"'`` and ``'{}'``)."""
    return CacheEntry('"e"', None, {}, body)


async def test_the_file_is_made_in_new_folders_and_a_foreign_file_is_refused(tmp_path) -> None:
    """Kills ``mkdir(parents=...)`` mutants (None, False, left out), the refusal's message
    (None) and the ``__repr__`` mutant."""
    path = tmp_path / "a" / "b" / "c.sqlite3"
    cache = SqliteEtagCache(path)
    await cache.set("k", bare(b"x"))
    assert (await cache.get("k")) == bare(b"x")
    assert repr(cache) == f"SqliteEtagCache({str(path)!r})"
    cache.close()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database, only text " * 100)
    with pytest.raises(ConfigError) as info:
        SqliteEtagCache(junk)
    assert str(info.value).startswith(f"cannot open the cache file {junk}: ")
    assert "not a database" in str(info.value)


async def test_the_bounds_are_inclusive(tmp_path) -> None:
    """Kills ``size > max_entry_bytes`` -> ``>=`` (an entry of exactly the largest size
    dropped) and ``total > max_bytes`` -> ``>=`` (a cache exactly full evicting)."""
    cache = SqliteEtagCache(tmp_path / "c.sqlite3", max_bytes=30, max_entry_bytes=15)
    await cache.set("a", bare(b"a" * 10))  # 15 bytes: exactly the largest entry
    assert await cache.get("a") is not None
    await cache.set("b", bare(b"b" * 10))  # 30 in all: exactly the bound
    assert await cache.get("a") is not None
    assert await cache.get("b") is not None
    assert cache.size_bytes == 30
    assert len(cache) == 2
    await cache.set("c", bare(b"c" * 11))  # 16 bytes: over the largest entry
    assert await cache.get("c") is None
    assert cache.size_bytes == 30


async def test_a_row_whose_headers_are_not_a_mapping_is_dropped(tmp_path) -> None:
    """Kills ``await self.delete(None)`` for a row whose headers decode to a list (the
    row must go, and the byte count with it)."""
    path = tmp_path / "c.sqlite3"
    cache = SqliteEtagCache(path)
    await cache.set("k", bare(b"body"))
    await cache.set("other", bare(b"zz"))
    db = sqlite3.connect(path)
    db.execute("UPDATE entries SET headers = '[1, 2]' WHERE size = 9")
    db.commit()
    db.close()
    assert await cache.get("k") is None
    assert len(cache) == 1
    assert cache.size_bytes == 7
    assert await cache.get("other") == bare(b"zz")


async def test_a_write_that_fails_half_way_is_rolled_back(tmp_path) -> None:
    """Kills the ``ROLLBACK`` mutants (None, padded, lower case is equivalent): the table
    disappears under the connection after ``BEGIN``, the write is dropped without an
    exception, nothing is counted, and the connection is usable again."""
    path = tmp_path / "c.sqlite3"
    cache = SqliteEtagCache(path)
    await cache.set("a", bare(b"a"))
    other = sqlite3.connect(path)
    other.execute("DROP TABLE entries")
    other.commit()
    await cache.set("b", bare(b"b" * 10))  # fails inside the transaction: no raise
    assert cache.size_bytes == 6
    assert not cache._db.in_transaction
    other.execute(
        "CREATE TABLE entries (key TEXT PRIMARY KEY, etag TEXT, last_modified TEXT,"
        " headers TEXT NOT NULL, body BLOB NOT NULL, size INTEGER NOT NULL, used REAL NOT NULL)"
    )
    other.commit()
    other.close()
    await cache.set("c", bare(b"c"))
    assert await cache.get("c") == bare(b"c")
    assert cache.size_bytes == 12
