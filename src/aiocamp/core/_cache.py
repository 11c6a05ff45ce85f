"""ETag / Last-Modified cache for GET requests.

A cached entry holds the validators, the kept headers and the body bytes, never decoded
data: a 304 is decoded afresh from the bytes, so what it serves is exactly what the server
sent (no object shared with, or mutated by, an earlier caller). The key hashes the
credential's identity (itself a hash, never the secret), the method and the full URL, so
one user never sees another user's cached data. The in-memory backend is bounded by every
byte it keeps (key, validators, headers, body and a fixed per-entry overhead) and evicts
the least recently used entries first.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ._constants import CACHE_MAX_BYTES, CACHE_MAX_ENTRY_BYTES

__all__ = ["CacheEntry", "EtagCache", "MemoryEtagCache", "cache_key", "hashed_key", "sync_get"]

log = logging.getLogger("aiocamp.cache")


#: Bytes charged per in-memory entry for the objects around the data (entry, dict slots).
ENTRY_OVERHEAD_BYTES = 400


@dataclass(slots=True)
class CacheEntry:
    """A stored response: validators, kept headers and the raw body."""

    etag: str | None
    last_modified: str | None
    headers: dict[str, str]
    body: bytes

    def size(self) -> int:
        """The bytes this entry holds (the in-memory bound counts all of them)."""
        n = len(self.body) + len(self.etag or "") + len(self.last_modified or "")
        return n + sum(len(k) + len(v) for k, v in self.headers.items())

    def validators(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


def cache_key(identity: str, method: str, url: str) -> str:
    """The entry's key. ``identity`` is already a one-way hash of the credential; shared
    backends hash the whole key again (see :func:`hashed_key`)."""
    return f"{identity} {method} {url}"


def hashed_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def sync_get(cache: EtagCache) -> Callable[[str], CacheEntry | None] | None:
    """The backend's synchronous ``get_now``, when the class that defines it also defines
    the ``get`` in use (a subclass overriding only ``get``, to record or change it, keeps
    being called)."""
    now = getattr(cache, "get_now", None)
    if now is None:
        return None
    mro = type(cache).__mro__
    owner_now = next((c for c in mro if "get_now" in c.__dict__), None)
    owner_get = next((c for c in mro if "get" in c.__dict__), None)
    return now if owner_now is not None and owner_now is owner_get else None


class EtagCache(Protocol):
    """A cache backend."""

    async def get(self, key: str) -> CacheEntry | None: ...

    async def set(self, key: str, entry: CacheEntry) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryEtagCache:
    """LRU cache in this process, bounded by the total bytes of what it keeps."""

    def __init__(
        self, max_bytes: int = CACHE_MAX_BYTES, max_entry_bytes: int = CACHE_MAX_ENTRY_BYTES
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._entries: OrderedDict[str, tuple[CacheEntry, int]] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> CacheEntry | None:
        return self.get_now(key)

    def get_now(self, key: str) -> CacheEntry | None:
        """:meth:`get` without the coroutine (the session looks up every GET: a coroutine
        less per request)."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    async def set(self, key: str, entry: CacheEntry) -> None:
        size = entry.size() + len(key) + ENTRY_OVERHEAD_BYTES
        if size > self.max_entry_bytes:
            await self.delete(key)
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._entries[key] = (entry, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_evicted, evicted_size) = self._entries.popitem(last=False)
            self._bytes -= evicted_size
            log.debug("evicted a %d-byte entry", evicted_size)

    async def delete(self, key: str) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
