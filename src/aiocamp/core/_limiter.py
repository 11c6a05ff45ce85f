"""Token-bucket rate limiting shared by every request to one account.

A server limit "N requests per W seconds" becomes a token bucket (GCRA form) with a small
burst ``B`` and a refill interval chosen so that ``N + 1`` requests always span more than
``W`` plus a margin (2% of the window, at least 30 ms): no sliding window of ``W`` seconds can
then hold more than ``N`` sent requests, even when timers fire late or sends are delayed a
little, while long runs sustain 96-98% of ``N / W`` (97-98% with a burst of one).

Tokens are taken only at the moment a request is allowed to go, never reserved ahead, so a
task cancelled while waiting spends nothing. Waiters of one bucket queue in FIFO order.
A 429/503 with Retry-After pauses the whole bucket until the pause ends.

Backends: :class:`MemoryLimiterBackend` (one process) and
:class:`aiocamp.core._redis_backends.RedisLimiterBackend` (one atomic script per attempt, so
many processes and machines share one account's budget).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ._constants import (
    LIMITER_BURST_FRACTION,
    LIMITER_CATCHUP_SHARE,
    LIMITER_MAX_WIDEN,
    LIMITER_MIN_MARGIN,
    LIMITER_NARROW_AFTER,
    LIMITER_WINDOW_MARGIN,
    MAX_RETRY_AFTER,
)
from ._errors import ConfigError

__all__ = [
    "BucketParams",
    "Limit",
    "Limiter",
    "LimiterBackend",
    "LimiterWaitTooLong",
    "MemoryLimiterBackend",
    "RateLimit",
]

log = logging.getLogger("aiocamp.limiter")


@dataclass(frozen=True, slots=True)
class Limit:
    """A server's documented limit: ``requests`` per ``per_seconds``."""

    requests: int
    per_seconds: float

    def __post_init__(self) -> None:
        if self.requests < 1 or not self.per_seconds > 0:
            raise ConfigError(f"a limit needs requests >= 1 and per_seconds > 0, got {self}")

    def scaled(self, factor: float) -> Limit:
        """The same count over a window ``factor`` times as long (tests scale time down)."""
        return Limit(self.requests, self.per_seconds * factor)

    def bucket(self, widen: float = 1.0) -> BucketParams:
        """Burst and interval for a bucket that can never exceed this limit.

        GCRA lets ``burst`` requests go at once and one more every ``interval``, so the
        ``N + 1``-th request of any run comes ``(N - burst + 1) * interval`` after the
        first. That span is set to the window plus the margin: every sliding window holds
        at most ``N`` requests, with the margin (less the catch-up) to spare for jitter,
        and a long run sustains ``(N - burst + 1) / (W + margin)``: 96-98% of the limit
        for windows of a second or more (97% for "20 per second"). ``widen`` multiplies
        the margin (the limiter widens it after throttled replies).
        """
        burst = max(1, math.floor(self.requests * LIMITER_BURST_FRACTION))
        burst = min(burst, self.requests)
        usual = max(self.per_seconds * LIMITER_WINDOW_MARGIN, LIMITER_MIN_MARGIN)
        interval = (self.per_seconds + usual * widen) / (self.requests - burst + 1)
        # The catch-up stays a share of the usual margin: a widened one is all for jitter.
        catchup = min(interval, usual * LIMITER_CATCHUP_SHARE)
        return BucketParams(burst=burst, interval=interval, catchup=catchup)


@dataclass(frozen=True, slots=True)
class BucketParams:
    """GCRA parameters: ``burst`` tokens, one more every ``interval`` seconds.

    ``catchup``: a waiter that wakes this late still gets its scheduled slot, so timer and
    event-loop lateness do not drift the rate down; it is a small share of the margin,
    which keeps the window bound.
    """

    burst: int
    interval: float
    catchup: float = 0.0

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


class LimiterBackend(Protocol):
    """Where bucket state lives. Both calls are atomic over all the keys they name."""

    async def try_acquire(self, keys: Sequence[str], params: Sequence[BucketParams]) -> float:
        """Take a token from every bucket now and return 0, or take nothing and return
        the seconds to wait before the next attempt."""
        ...

    async def pause(
        self, keys: Sequence[str], seconds: float, params: Sequence[BucketParams] = ()
    ) -> None:
        """Let nothing through these buckets for ``seconds`` (extends, never shortens);
        with ``params``, each bucket then restarts with one token, not a full burst."""
        ...


@dataclass(slots=True)
class _BucketState:
    tat: float = 0.0  # theoretical arrival time of the next conforming request
    paused_until: float = 0.0


class MemoryLimiterBackend:
    """Bucket state in this process (safe across threads running their own event loops)."""

    def __init__(self) -> None:
        self._states: dict[str, _BucketState] = {}
        self._mutex = threading.Lock()

    async def try_acquire(self, keys: Sequence[str], params: Sequence[BucketParams]) -> float:
        with self._mutex:
            return self._try_acquire(keys, params)

    def try_acquire_now(self, keys: Sequence[str], params: Sequence[BucketParams]) -> float:
        """:meth:`try_acquire` without the coroutine: the limiter's fast path calls this
        before every request when the backend offers it (a few microseconds saved)."""
        with self._mutex:
            return self._try_acquire(keys, params)

    def _try_acquire(self, keys: Sequence[str], params: Sequence[BucketParams]) -> float:
        now = time.monotonic()
        # One class is the common case and runs before every request: this lean copy of the
        # loop below is worth ~4% of the session's throughput (benchmarks/bench_core.py).
        if len(keys) == 1:
            p = params[0]
            state = self._states.get(keys[0])
            if state is None:
                state = self._states[keys[0]] = _BucketState(tat=now)
            wait = max(state.paused_until - now, state.tat - p.tolerance - now)
            if wait > 0:
                return wait
            tat = state.tat
            state.tat = (tat if tat > now - p.catchup else now - p.catchup) + p.interval
            return 0.0
        wait = 0.0
        states = []
        for key, p in zip(keys, params, strict=True):
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = _BucketState(tat=now)
            states.append(state)
            if state.paused_until > now:
                wait = max(wait, state.paused_until - now)
            wait = max(wait, state.tat - p.tolerance - now)
        if wait > 0:
            return wait
        for state, p in zip(states, params, strict=True):
            state.tat = max(state.tat, now - p.catchup) + p.interval
        return 0.0

    async def pause(
        self, keys: Sequence[str], seconds: float, params: Sequence[BucketParams] = ()
    ) -> None:
        with self._mutex:
            self._pause(keys, seconds, params)

    def _pause(
        self, keys: Sequence[str], seconds: float, params: Sequence[BucketParams] = ()
    ) -> None:
        now = time.monotonic()
        until = now + seconds
        tolerances = [p.tolerance for p in params] or [0.0] * len(keys)
        for key, tolerance in zip(keys, tolerances, strict=True):
            state = self._states.setdefault(key, _BucketState(tat=now))
            if until > state.paused_until:
                state.paused_until = until
                # After a pause the bucket restarts with one token, not a refilled burst:
                # a request conforms while tat - tolerance <= now, so tat starts at
                # until + tolerance and the next tokens follow one interval apart.
                state.tat = max(state.tat, until + tolerance)


#: The default backend: every client of this process shares it, so two clients of the same
#: account (and limit class) draw from one budget.
SHARED_MEMORY_BACKEND = MemoryLimiterBackend()


@dataclass(slots=True)
class RateLimit:
    """The ``rate_limit=`` setting of a client: backend and optional per-class overrides."""

    backend: LimiterBackend = field(default_factory=lambda: SHARED_MEMORY_BACKEND)
    limits: Mapping[str, Limit] | None = None
    #: Multiply every window by this (``0.1`` runs a "50 per 10 s" limit as 50 per 1 s).
    time_scale: float = 1.0


def _sync_try_acquire(
    backend: LimiterBackend,
) -> Callable[[Sequence[str], Sequence[BucketParams]], float] | None:
    """The backend's synchronous ``try_acquire_now``, when the class that defines it also
    defines the ``try_acquire`` in use (a subclass overriding only ``try_acquire``, to
    record or change it, keeps being called)."""
    now = getattr(backend, "try_acquire_now", None)
    if now is None:
        return None
    mro = type(backend).__mro__
    owner_now = next(c for c in mro if "try_acquire_now" in c.__dict__)
    owner_try = next((c for c in mro if "try_acquire" in c.__dict__), None)
    return now if owner_now is owner_try else None


class LimiterWaitTooLong(TimeoutError):
    """The buckets ask for a wait past the caller's deadline (``wait`` seconds)."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        super().__init__(f"the rate limiter asks for a {wait:.3g}s wait")


@dataclass(slots=True)
class _Resolved:
    keys: list[str]
    params: list[BucketParams]
    locks: list[asyncio.Lock]


class Limiter:
    """Token buckets keyed by (product, account, limit class)."""

    def __init__(
        self,
        product: str,
        account: str,
        limits: Mapping[str, Limit],
        backend: LimiterBackend | None = None,
        *,
        time_scale: float = 1.0,
        max_pause: float = MAX_RETRY_AFTER,
    ) -> None:
        if not limits:
            raise ConfigError("a limiter needs at least one limit class")
        self._prefix = f"{product}:{account}"
        self._max_pause = max_pause
        self._limits = {name: lim.scaled(time_scale) for name, lim in limits.items()}
        self._params = {name: lim.bucket() for name, lim in self._limits.items()}
        #: class -> (margin factor, when it last changed): see :meth:`pause`.
        self._widened: dict[str, tuple[float, float]] = {}
        self._backend = backend if backend is not None else SHARED_MEMORY_BACKEND
        self._try_now = _sync_try_acquire(self._backend)
        self._locks: dict[str, asyncio.Lock] = {}
        self._resolved: dict[tuple[str, ...], _Resolved] = {}
        # asyncio locks bind to the loop that first waits on them: a client reused from a
        # second event loop (asyncio.run twice) gets fresh ones.
        self._loop: asyncio.AbstractEventLoop | None = None

    def key(self, limit_class: str) -> str:
        return f"{self._prefix}:{limit_class}"

    def _check(self, classes: Iterable[str]) -> tuple[str, ...]:
        out = tuple(classes)
        for name in out:
            if name not in self._params:
                raise ConfigError(f"unknown limit class {name!r}; known: {sorted(self._params)}")
        return out

    def _resolve(self, classes: Iterable[str]) -> _Resolved:
        names = tuple(classes)
        resolved = self._resolved.get(names)
        if resolved is None:
            self._check(names)
            keys = [self.key(n) for n in names]
            resolved = _Resolved(
                keys,
                [self._params[n] for n in names],
                [self._lock(k) for k in sorted(set(keys))],
            )
            self._resolved[names] = resolved
        return resolved

    async def acquire(self, classes: Iterable[str], deadline: float | None = None) -> float:
        """Wait until every named bucket grants a token at once; return the seconds waited.

        With a ``deadline`` (``time.monotonic()`` value), raise :class:`LimiterWaitTooLong`
        (a ``TimeoutError``) instead of waiting past it.
        """
        r = self._resolved.get(classes) if isinstance(classes, tuple) else None
        if r is None:
            r = self._resolve(classes)
        if not r.keys:
            return 0.0
        # Fast path: nobody of this process is queued and a token is there right now.
        for lock in r.locks:
            if lock.locked():
                break
        else:
            now = self._try_now
            wait = (
                now(r.keys, r.params)
                if now is not None
                else await self._backend.try_acquire(r.keys, r.params)
            )
            if not wait:
                return 0.0
        if self._widened:
            self._narrow()
            r = self._resolve(classes)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._locks.clear()
            self._resolved.clear()
            r = self._resolve(classes)
        started = time.monotonic()
        # Per-key locks (taken in sorted order) make this process's waiters queue FIFO
        # behind a single sleeper; tokens are taken only when all buckets allow, so a
        # task cancelled while it waits has spent nothing.
        async with contextlib.AsyncExitStack() as stack:
            for lock in r.locks:
                await stack.enter_async_context(lock)
            while (wait := await self._backend.try_acquire(r.keys, r.params)) > 0:
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise LimiterWaitTooLong(wait)
                log.debug("buckets %s: waiting %.3fs for a token", r.keys, wait)
                await asyncio.sleep(wait)
        return time.monotonic() - started

    def acquire_now(self, classes: tuple[str, ...]) -> bool:
        """:meth:`acquire`'s fast path without the coroutine: take a token of every bucket
        when nobody of this process is queued and one is there right now (True), else take
        nothing (False: call :meth:`acquire`). Always False for a backend without a
        synchronous ``try_acquire_now``. The session calls this before every request."""
        now = self._try_now
        if now is None or not isinstance(classes, tuple):
            return False
        r = self._resolved.get(classes)
        if r is None:
            r = self._resolve(classes)
        if not r.keys:
            return True
        for lock in r.locks:
            if lock.locked():
                return False
        return not now(r.keys, r.params)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def pause(self, classes: Iterable[str], seconds: float, reason: str) -> None:
        """Hold every request sharing these buckets for ``seconds`` (at most ``max_pause``:
        a shared pause outlives the call that received it)."""
        seconds = min(seconds, self._max_pause)
        names = self._check(classes)
        keys = [self.key(n) for n in names]
        log.debug("buckets %s: paused %.3fs (%s)", keys, seconds, reason)
        # The server counted more than its limit although this limiter kept to it (or
        # another client shares the account): arrivals jitter more than the margin
        # allows on this path, so widen it for a while.
        now = time.monotonic()
        for name in names:
            factor = self._widened.get(name, (1.0, now))[0]
            self._set_margin(name, min(factor * 2, LIMITER_MAX_WIDEN), now)
        await self._backend.pause(keys, seconds, [self._params[n] for n in names])

    def margin_factor(self, limit_class: str) -> float:
        """How many times its usual margin this class's bucket keeps now (1 until a
        throttled reply widens it; back to 1 after quiet windows)."""
        self._narrow()
        return self._widened.get(limit_class, (1.0, 0.0))[0]

    def _set_margin(self, name: str, factor: float, now: float) -> None:
        old = self._widened.get(name, (1.0, now))[0]
        if factor <= 1.0:
            self._widened.pop(name, None)
        else:
            self._widened[name] = (factor, now)
        if factor != old:
            self._params[name] = self._limits[name].bucket(widen=factor)
            self._resolved.clear()
            log.info("limit class %r: safety margin now %gx the usual one", name, factor)

    def _narrow(self) -> None:
        """Halve each widened margin once per ``LIMITER_NARROW_AFTER`` quiet windows."""
        now = time.monotonic()
        for name, (factor, since) in list(self._widened.items()):
            if now - since >= LIMITER_NARROW_AFTER * self._limits[name].per_seconds:
                self._set_margin(name, factor / 2, now)
