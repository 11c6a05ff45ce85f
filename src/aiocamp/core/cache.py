"""ETag / Last-Modified cache for GET requests.

A cached entry holds the validators, the kept headers and the body. The key hashes the
credential's identity (itself a hash, never the secret), the method and the full URL, so
one user never sees another user's cached data. The in-memory backend is bounded by the
total bytes of the bodies it keeps and evicts the least recently used entries first.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._constants import CACHE_MAX_BYTES, CACHE_MAX_ENTRY_BYTES

__all__ = ["CacheEntry", "EtagCache", "MemoryEtagCache", "cache_key", "hashed_key"]

log = logging.getLogger("aiocamp.cache")


@dataclass(slots=True)
class CacheEntry:
    """A stored response: validators, kept headers, raw body and (in memory) decoded data."""

    etag: str | None
    last_modified: str | None
    headers: dict[str, str]
    body: bytes
    #: The decoded body, kept by the memory backend so a 304 costs no parsing.
    decoded: Any = field(default=None, compare=False)
    has_decoded: bool = field(default=False, compare=False)

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


class EtagCache(Protocol):
    """A cache backend."""

    async def get(self, key: str) -> CacheEntry | None: ...

    async def set(self, key: str, entry: CacheEntry) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryEtagCache:
    """LRU cache in this process, bounded by the total size of the bodies it keeps."""

    def __init__(
        self, max_bytes: int = CACHE_MAX_BYTES, max_entry_bytes: int = CACHE_MAX_ENTRY_BYTES
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> CacheEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    async def set(self, key: str, entry: CacheEntry) -> None:
        size = len(entry.body)
        if size > self.max_entry_bytes:
            await self.delete(key)
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._entries[key] = entry
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)
            log.debug("evicted a %d-byte entry", len(evicted.body))

    async def delete(self, key: str) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
