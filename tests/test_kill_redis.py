"""Mutation kills for ``aiocamp.core._redis_backends`` (issue 7), against a real
redis-server: key prefixes, the arguments the limiter script receives (tolerance and
catch-up scaled to microseconds, one pair per bucket), the cache's stored fields and its
byte bound."""

from __future__ import annotations

import asyncio

import pytest

from aiocamp.core import CacheEntry
from aiocamp.core._limiter import BucketParams
from aiocamp.core._redis_backends import RedisEtagCache, RedisLimiterBackend

redis_asyncio = pytest.importorskip("redis.asyncio")


async def test_limiter_keys_and_script_arguments(redis) -> None:
    """Kills the default prefix mutants, ``args =`` for ``args +=`` (only the last
    bucket's pair kept), and the tolerance and catch-up divided by 1e6 instead of
    multiplied (no burst, no catch-up)."""
    backend = RedisLimiterBackend(redis)
    burst = BucketParams(burst=3, interval=10.0)
    assert await backend.try_acquire(["b"], [burst]) == 0.0
    assert await backend.try_acquire(["b"], [burst]) == 0.0  # the burst
    assert await backend.try_acquire(["b"], [burst]) == 0.0
    assert 0 < await backend.try_acquire(["b"], [burst]) <= 10.0
    assert sorted(await redis.keys("*")) == [b"aiocamp:limit:b"]
    # Two buckets in one call: each gets its own interval.
    a, b = BucketParams(1, 1.0), BucketParams(1, 100.0)
    assert await backend.try_acquire(["x", "y"], [a, b]) == 0.0
    wait_x = await backend.try_acquire(["x"], [a])
    wait_y = await backend.try_acquire(["y"], [b])
    assert 0.5 < wait_x <= 1.0
    assert 99.0 < wait_y <= 100.0
    # Catch-up: a bucket idle for long starts ``catchup`` in the past, so a late waiter
    # keeps its slot: two tokens at once when the catch-up covers an interval.
    late = BucketParams(burst=1, interval=5.0, catchup=5.0)
    await redis.hset("aiocamp:limit:late", "tat", "0")
    assert await backend.try_acquire(["late"], [late]) == 0.0
    assert await backend.try_acquire(["late"], [late]) == 0.0
    assert await backend.try_acquire(["late"], [late]) > 4.0


async def test_cache_fields_prefix_and_empty_size(redis) -> None:
    """Kills the cache's default prefix (upper case), ``last_modified`` dropped (None,
    ``and``), a missing ETag stored as ``"XXXX"``, and ``size_bytes`` of an empty cache
    (``or 1``)."""
    cache = RedisEtagCache(redis)
    assert await cache.size_bytes() == 0
    await cache.set("k", CacheEntry(None, "Mon, 01 Jan 2024 00:00:00 GMT", {"A": "b"}, b"x"))
    got = await cache.get("k")
    assert got == CacheEntry(None, "Mon, 01 Jan 2024 00:00:00 GMT", {"A": "b"}, b"x")
    keys = sorted(k.decode() for k in await redis.keys("*"))
    assert all(k.startswith("aiocamp:cache:") for k in keys)
    assert len(keys) == 4  # entry, lru, bytes, clock


async def test_an_entry_over_the_bound_leaves_the_others_alone(redis) -> None:
    """Kills ``size > max_bytes`` -> ``>=`` and ``delete(None)``; and the defect it
    found: an entry whose body fit but whose stored bytes did not was stored, then
    evicted everything (itself last)."""
    key_len = len("aiocamp:cache:e:") + 64
    small = CacheEntry('"s"', None, {}, b"s" * 10)
    small_size = 10 + len('"s"') + len("{}") + key_len
    bound = 2 * small_size
    cache = RedisEtagCache(redis, max_bytes=bound)
    await cache.set("small", small)
    exact = CacheEntry('"s"', None, {}, b"e" * 10)
    await cache.set("exact", exact)  # exactly fills the bound: both stay
    assert await cache.get("small") == small
    assert await cache.get("exact") == exact
    assert await cache.size_bytes() == bound
    alone_size = 10 + len('"s"') + len("{}") + len("alone:e:") + 64
    alone = RedisEtagCache(redis, max_bytes=alone_size, prefix="alone:")
    await alone.set("small", small)  # exactly the bound: kept
    assert await alone.get("small") == small
    # A body shorter than the bound, an entry longer: refused, nothing evicted.
    big = CacheEntry('"b"', None, {"h": "v" * 20}, b"b" * (bound - key_len))
    await cache.set("big", big)
    assert await cache.get("big") is None
    assert await cache.get("small") == small
    assert await cache.get("exact") == exact
    # Replacing a stored entry with one over the bound removes the old one.
    await cache.set("small", CacheEntry(None, None, {}, b"z" * bound))
    assert await cache.get("small") is None
    assert await cache.size_bytes() == small_size


async def test_after_a_pause_the_bucket_restarts_with_one_token(redis) -> None:
    """Kills the pause's tolerance divided by 1e6 (the bucket would restart with its whole
    burst): a deterministic form of test_core_redis's timing test, which the mutation run
    deselects on a loaded machine."""
    backend = RedisLimiterBackend(redis)
    burst = BucketParams(burst=5, interval=1.0)
    await backend.pause(["p"], 0.1, [burst])
    assert 0 < await backend.try_acquire(["p"], [burst]) <= 0.1
    await asyncio.sleep(0.15)
    assert await backend.try_acquire(["p"], [burst]) == 0.0
    assert await backend.try_acquire(["p"], [burst]) > 0.5
