"""Redis backends for the limiter and the ETag cache (``pip install aiocamp[redis]``).

Each operation is one atomic Lua script, so any number of processes and machines can share
one account's rate budget and one cache. Clock: the Redis server's ``TIME``, so the hosts'
clocks never need to agree. Keys carry a prefix and expire when idle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._cache import CacheEntry, hashed_key
from ._limiter import BucketParams

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisEtagCache", "RedisLimiterBackend"]

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local tolerance = tonumber(ARGV[2 * i])
  local catchup = tonumber(ARGV[#KEYS * 2 + i])
  local tat = tonumber(redis.call('HGET', key, 'tat') or now)
  local paused = tonumber(redis.call('HGET', key, 'paused') or 0)
  if paused - now > wait then wait = paused - now end
  if tat - tolerance - now > wait then wait = tat - tolerance - now end
  if tat < now - catchup then tat = now - catchup end
  tats[i] = tat
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tat = tats[i] + interval
  redis.call('HSET', key, 'tat', tostring(tat))
  redis.call('PEXPIRE', key, math.ceil((tat - now) / 1000) + 60000)
end
return '0'
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untill = now + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local paused = tonumber(redis.call('HGET', key, 'paused') or 0)
  if untill > paused then
    local tat = tonumber(redis.call('HGET', key, 'tat') or now)
    -- restart with one token: conforming while tat - tolerance <= now
    local restart = untill + tonumber(ARGV[i + 1] or 0)
    if restart > tat then tat = restart end
    redis.call('HSET', key, 'paused', tostring(untill), 'tat', tostring(tat))
    redis.call('PEXPIRE', key, math.ceil((tat - now) / 1000) + 60000)
  end
end
return 1
"""


class RedisLimiterBackend:
    """Token buckets in Redis: one script call per acquire attempt."""

    def __init__(self, redis: Redis, *, prefix: str = "aiocamp:limit:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)

    async def try_acquire(self, keys: Sequence[str], params: Sequence[BucketParams]) -> float:
        args: list[str] = []
        for p in params:
            args += [repr(p.interval * 1e6), repr(p.tolerance * 1e6)]
        args += [repr(p.catchup * 1e6) for p in params]
        result = await self._acquire(keys=[self._prefix + k for k in keys], args=args)
        return float(result) / 1e6

    async def pause(
        self, keys: Sequence[str], seconds: float, params: Sequence[BucketParams] = ()
    ) -> None:
        args = [repr(seconds * 1e6)] + [repr(p.tolerance * 1e6) for p in params]
        await self._pause(keys=[self._prefix + k for k in keys], args=args)


_CACHE_SET = """
local entry, lru, total, counter = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, prefix, max = ARGV[1], ARGV[2], tonumber(ARGV[7])
local old = redis.call('HGET', entry, 'size')
if old then redis.call('DECRBY', total, old) end
-- every byte the entry holds counts: body, validators, headers and its key
local size = #ARGV[6] + #ARGV[3] + #ARGV[4] + #ARGV[5] + #entry
redis.call('HSET', entry, 'etag', ARGV[3], 'lm', ARGV[4], 'headers', ARGV[5], 'body', ARGV[6],
           'size', size)
redis.call('INCRBY', total, size)
redis.call('ZADD', lru, redis.call('INCR', counter), id)
while tonumber(redis.call('GET', total) or 0) > max do
  local oldest = redis.call('ZRANGE', lru, 0, 0)[1]
  if not oldest then break end
  local key = prefix .. oldest
  local size = redis.call('HGET', key, 'size')
  if size then redis.call('DECRBY', total, size) end
  redis.call('DEL', key)
  redis.call('ZREM', lru, oldest)
end
return 1
"""

_CACHE_GET = """
local values = redis.call('HMGET', KEYS[1], 'etag', 'lm', 'headers', 'body')
if not values[4] then return nil end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
return values
"""

_CACHE_DELETE = """
local size = redis.call('HGET', KEYS[1], 'size')
if size then redis.call('DECRBY', KEYS[3], size) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


class RedisEtagCache:
    """ETag cache in Redis, bounded by the total bytes of its entries (bodies, validators,
    headers, keys) with LRU eviction (atomic scripts).

    The decoded body is not stored: a hit decodes the stored bytes again.
    """

    def __init__(
        self, redis: Redis, *, max_bytes: int = 64 * 1024 * 1024, prefix: str = "aiocamp:cache:"
    ) -> None:
        self._redis = redis
        self.max_bytes = max_bytes
        self._prefix = prefix
        self._set = redis.register_script(_CACHE_SET)
        self._get = redis.register_script(_CACHE_GET)
        self._delete = redis.register_script(_CACHE_DELETE)

    def _keys(self, key: str) -> list[str]:
        key = hashed_key(key)
        p = self._prefix
        return [f"{p}e:{key}", f"{p}lru", f"{p}bytes", f"{p}clock"]

    async def get(self, key: str) -> CacheEntry | None:
        entry_key, lru, _total, clock = self._keys(key)
        values: Any = await self._get(keys=[entry_key, lru, clock], args=[hashed_key(key)])
        if not values:
            return None
        etag, modified, headers, body = values
        return CacheEntry(
            etag=etag.decode() or None,
            last_modified=modified.decode() or None,
            headers=json.loads(headers),
            body=bytes(body),
        )

    async def set(self, key: str, entry: CacheEntry) -> None:
        keys = self._keys(key)
        etag, modified = entry.etag or "", entry.last_modified or ""
        headers = json.dumps(entry.headers)
        # The bytes the script counts: an entry over the bound would evict every other
        # entry before itself, so it is refused here instead.
        size = len(entry.body) + sum(len(v.encode()) for v in (etag, modified, headers, keys[0]))
        if size > self.max_bytes:
            await self.delete(key)
            return
        await self._set(
            keys=keys,
            args=[
                hashed_key(key),
                f"{self._prefix}e:",
                etag,
                modified,
                headers,
                entry.body,
                self.max_bytes,
            ],
        )

    async def delete(self, key: str) -> None:
        await self._delete(keys=self._keys(key)[:3], args=[hashed_key(key)])

    async def size_bytes(self) -> int:
        value = await self._redis.get(f"{self._prefix}bytes")
        return int(value or 0)
