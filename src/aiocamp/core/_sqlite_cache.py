"""A file-backed ETag cache backend on SQLite (standard library), for exports.

It keeps what the core cache holds, bytes and validators only, in one table, so a second
export of an unchanged account days later still sends ``If-None-Match`` and gets 304s.
Keys are hashed (:func:`~aiocamp.core._cache.hashed_key`), so the file names no URL and no
credential identity in clear. Bounded by the total bytes of the bodies it keeps: the least
recently used entries go first.

SQLite calls are synchronous and take well under a millisecond on a local disk, so they
run on the event loop; the connection is used by one process (several export processes
share a cache through Redis instead).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path

from ._cache import CacheEntry, hashed_key
from ._constants import CACHE_MAX_ENTRY_BYTES
from ._errors import ConfigError

__all__ = ["SqliteEtagCache"]

log = logging.getLogger("aiocamp.cache")

#: Default bound of the file's bodies (an export cache is larger than the memory one).
SQLITE_CACHE_MAX_BYTES = 1024 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_used ON entries (used);
"""


class SqliteEtagCache:
    """ETag cache entries in a SQLite file (``path``), LRU-bounded by ``max_bytes``."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = SQLITE_CACHE_MAX_BYTES,
        max_entry_bytes: int = CACHE_MAX_ENTRY_BYTES,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cannot open the cache file {self.path}: {exc}") from None
        self._bytes = int(row[0])

    def __repr__(self) -> str:
        return f"SqliteEtagCache({str(self.path)!r})"

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    async def get(self, key: str) -> CacheEntry | None:
        hashed = hashed_key(key)
        try:
            row = self._db.execute(
                "SELECT etag, last_modified, headers, body FROM entries WHERE key = ?", (hashed,)
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE entries SET used = ? WHERE key = ?", (time.time(), hashed))
            headers = json.loads(row[2])
        except (sqlite3.DatabaseError, ValueError) as exc:
            log.warning("cache file %s: unreadable entry dropped (%s)", self.path, exc)
            await self.delete(key)
            return None
        if not isinstance(headers, dict):
            await self.delete(key)
            return None
        return CacheEntry(row[0], row[1], {str(k): str(v) for k, v in headers.items()}, row[3])

    async def set(self, key: str, entry: CacheEntry) -> None:
        body = bytes(entry.body)
        headers = json.dumps(entry.headers)
        # Every stored byte counts toward the bound, not only the body's.
        size = len(body) + len(headers) + len(entry.etag or "") + len(entry.last_modified or "")
        if size > self.max_entry_bytes:
            await self.delete(key)
            return
        hashed = hashed_key(key)
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            old = db.execute("SELECT size FROM entries WHERE key = ?", (hashed,)).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    hashed,
                    entry.etag,
                    entry.last_modified,
                    headers,
                    body,
                    size,
                    time.time(),
                ),
            )
            total = self._bytes + size - (int(old[0]) if old else 0)
            while total > self.max_bytes:
                victim = db.execute(
                    "SELECT key, size FROM entries ORDER BY used LIMIT 1"
                ).fetchone()
                if victim is None:  # pragma: no cover - total counts rows
                    break
                db.execute("DELETE FROM entries WHERE key = ?", (victim[0],))
                total -= int(victim[1])
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            log.warning("cache file %s: entry not stored (%s)", self.path, exc)
            return
        self._bytes = total

    async def delete(self, key: str) -> None:
        hashed = hashed_key(key)
        db = self._db
        try:
            row = db.execute("SELECT size FROM entries WHERE key = ?", (hashed,)).fetchone()
            if row is not None:
                db.execute("DELETE FROM entries WHERE key = ?", (hashed,))
                self._bytes -= int(row[0])
        except sqlite3.DatabaseError as exc:  # pragma: no cover - disk trouble
            log.warning("cache file %s: delete failed (%s)", self.path, exc)

    def close(self) -> None:
        self._db.close()
