"""Rate-limiter behaviour seen from a server: bursts, pauses, several classes, margin.

Limits here are chosen so that the behaviour under test and its broken variants are tens of
milliseconds apart (see each docstring); servers record when each request arrives.
A burst of ``B`` tokens is 2.5% of the limit (at least 1); ``N + 1`` requests span the window
plus a margin of 2% of it, at least 30 ms (``Limit.bucket``).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import Limit, Limiter, RateLimit, Request
from aiocamp.core._limiter import (
    SHARED_MEMORY_BACKEND,
    BucketParams,
    LimiterWaitTooLong,
    MemoryLimiterBackend,
)

from .helpers import fast_retry, make_session


def timed_app(times: list[float], throttle: float | None = None) -> web.Application:
    """Records arrival times; with ``throttle``, the first request gets 429 Retry-After."""
    throttled: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        now = time.monotonic()
        if throttle is not None and not throttled:
            throttled.append(now)
            return web.Response(status=429, headers={"Retry-After": str(throttle)})
        times.append(now)
        return web.json_response({})

    app = web.Application()
    app["throttled"] = throttled
    app.router.add_get("/{tail:.*}", handler)
    return app


# (*) On an idle VM the first request after a few hundred ms of sleep takes 10-25 ms longer
# (cold caches and page faults after idle), which skews the gap to the next request. A
# request of no limit class first absorbs that without touching the bucket.


def get(i: int, classes: tuple[str, ...] | None = None) -> Request:
    return Request("GET", f"/r/{i}.json", limit_classes=classes)


async def test_a_pause_holds_requests_that_draw_from_several_classes(serve) -> None:
    """Kills: pauses ignored on the multi-class path. Each class has a burst of 25, so a
    bucket that only counts tokens would let the next requests go ~0.5 s into the pause."""
    times: list[float] = []
    app = timed_app(times, throttle=0.8)
    server = await serve(app)
    limits = {"default": Limit(1000, 20), "other": Limit(1000, 20)}
    both = ("default", "other")
    async with make_session(str(server.make_url("")), limits=limits, cache=None) as s:
        first = asyncio.create_task(s.request(get(0, both)))
        await asyncio.sleep(0.1)  # the 429 has come back and paused both buckets
        await asyncio.gather(first, *(s.request(get(i, both)) for i in range(1, 4)))
    assert len(times) == 4
    assert min(times) >= app["throttled"][0] + 0.75


async def test_waiting_for_one_class_spends_no_token_of_another(serve) -> None:
    """Kills: tokens spent on the multi-class path while the caller must still wait.
    ``fast`` (1 per 0.2 s) refills after 0.22 s, ``slow`` (2 per 1 s) one token every
    0.51 s: a call drawing from both that waits for ``fast`` must take ~0.22 s, not also pay
    for a ``slow`` token spent while it waited (0.51 s)."""
    times: list[float] = []
    server = await serve(timed_app(times))
    limits = {"default": Limit(10_000, 1), "slow": Limit(2, 1.0), "fast": Limit(1, 0.2)}
    async with make_session(str(server.make_url("")), limits=limits, cache=None) as s:
        await s.request(get(0, ("fast",)))  # fast is now empty for 0.22 s
        started = time.monotonic()
        await s.request(get(1, ("slow", "fast")))
        elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 0.4


async def test_after_a_429_pause_requests_resume_one_by_one_not_as_a_burst(serve) -> None:
    """Kills: a full burst right after a 429 pause. Limit(200, 20): burst 5, about one token
    every 0.105 s; after the pause the six requests must be spread, not sent at once."""
    times: list[float] = []
    app = timed_app(times, throttle=0.3)
    server = await serve(app)
    async with make_session(
        str(server.make_url("")), limits={"default": Limit(200, 20)}, cache=None
    ) as s:
        first = asyncio.create_task(s.request(get(0)))
        await asyncio.sleep(0.1)
        await asyncio.gather(first, *(s.request(get(i)) for i in range(1, 6)))
    assert len(times) == 6
    assert max(times) - min(times) >= 0.3


async def test_after_an_idle_spell_only_the_burst_goes_at_once(serve) -> None:
    """Kills: catch-up of a whole interval (an idle bucket would then grant burst + 1).
    Limit(10, 0.5): burst 1, a token every 0.053 s, catch-up 7.5 ms."""
    times: list[float] = []
    server = await serve(timed_app(times))
    async with make_session(
        str(server.make_url("")), limits={"default": Limit(10, 0.5)}, cache=None
    ) as s:
        await s.request(get(0))
        await asyncio.sleep(0.6)  # longer than the window: the bucket is idle and full
        await s.request(get(-1, ()))  # no class: spends nothing, wakes an idle machine (*)
        await asyncio.gather(s.request(get(1)), s.request(get(2)))
    assert len(times) == 4
    assert times[3] - times[2] >= 0.035


async def test_a_fresh_bucket_grants_exactly_its_burst_at_once(serve) -> None:
    """Kills: one extra token (burst + 1, or a tolerance of a whole burst).
    Limit(80, 8): burst 2, then one token every 0.103 s."""
    times: list[float] = []
    server = await serve(timed_app(times))
    async with make_session(
        str(server.make_url("")), limits={"default": Limit(80, 8)}, cache=None
    ) as s:
        await asyncio.gather(*(s.request(get(i)) for i in range(3)))
    assert len(times) == 3
    assert times[1] - times[0] < 0.05
    assert times[2] - times[0] >= 0.07


async def test_a_long_run_stays_a_margin_below_the_limit(serve) -> None:
    """Kills: a window margin of zero (or a smaller one). Limit(50, 2): burst 1, then one
    token every 2.04 / 50 s, so 51 requests (one more than a window may hold) span >= 2.04 s
    less a catch-up of 10 ms; with no margin they take 2.0 s. Lateness only makes runs
    longer, so the bound cannot fail by load."""
    times: list[float] = []
    server = await serve(timed_app(times))
    async with make_session(
        str(server.make_url("")), limits={"default": Limit(50, 2)}, cache=None
    ) as s:
        await s.request(get(-1, ()))  # no limit class: opens the connection, spends nothing
        queue = list(range(51))

        async def worker() -> None:
            while queue:
                await s.request(get(queue.pop()))

        await asyncio.gather(*(worker() for _ in range(4)))
    runs = times[1:]
    assert len(runs) == 51
    span = runs[-1] - runs[0]
    assert span >= 2.0 * 1.01
    # ... and not far beyond the ideal 2.04 s either (a doubled window would take 4 s).
    assert span < 3.3


def test_a_limit_needs_a_positive_window() -> None:
    with pytest.raises(errors.ConfigError, match="per_seconds > 0"):
        Limit(5, 0)
    with pytest.raises(errors.ConfigError, match="requests >= 1"):
        Limit(0, 5)
    assert Limit(1, 0.001).per_seconds == 0.001


@pytest.mark.parametrize("classes", [None, ("default", "other")], ids=["one", "two-classes"])
async def test_after_an_idle_spell_the_whole_burst_is_there_again(serve, classes) -> None:
    """Kills: an idle bucket restarting *ahead* of now (catch-up added instead of taken
    off), on the one-class and the multi-class path. Limit(80, 8): burst 2, a token every
    0.103 s, catch-up 0.04 s."""
    times: list[float] = []
    server = await serve(timed_app(times))
    limits = {"default": Limit(80, 8), "other": Limit(80, 8)}
    async with make_session(str(server.make_url("")), limits=limits, cache=None) as s:
        await s.request(get(0, classes))
        await asyncio.sleep(0.3)  # idle for ~3 intervals: the burst has refilled
        await s.request(get(-1, ()))  # no class: spends nothing, wakes an idle machine (*)
        await asyncio.gather(*(s.request(get(i, classes)) for i in range(1, 4)))
    later = sorted(times[2:])  # after the first request and the warm-up
    assert len(later) == 3
    assert later[1] - later[0] < 0.03  # two at once: the burst
    assert later[2] - later[0] >= 0.05  # the third waits for a token


async def test_a_call_of_several_classes_gets_their_bursts_at_once(serve) -> None:
    """Kills: the tolerance added instead of subtracted on the multi-class path (a fresh
    pair of buckets would then make the very first call wait)."""
    times: list[float] = []
    server = await serve(timed_app(times))
    limits = {"default": Limit(80, 8), "other": Limit(80, 8)}
    both = ("default", "other")
    async with make_session(str(server.make_url("")), limits=limits, cache=None) as s:
        started = time.monotonic()
        await asyncio.gather(s.request(get(1, both)), s.request(get(2, both)))
        elapsed = time.monotonic() - started
    assert len(times) == 2
    assert elapsed < 0.05


async def test_a_limiter_wait_beyond_the_call_budget_fails_at_once(serve) -> None:
    """Kills: the deadline check of the limiter's wait comparing the wrong way (the call
    would sleep its whole budget, or past it, instead of failing at once)."""
    times: list[float] = []
    server = await serve(timed_app(times))
    async with make_session(
        str(server.make_url("")),
        limits={"default": Limit(1, 30)},
        cache=None,
        retry=fast_retry(total_budget=2.0),
    ) as s:
        await s.request(get(0))
        started = time.monotonic()
        with pytest.raises((errors.RequestTimeout, errors.RateLimited)):
            await s.request(get(1))
        assert time.monotonic() - started < 0.5
    assert len(times) == 1


async def test_a_limiter_built_without_a_backend_uses_the_shared_one() -> None:
    account = f"acct-{time.monotonic_ns()}"
    a = Limiter("p", account, {"default": Limit(1, 30)})
    b = Limiter("p", account, {"default": Limit(1, 30)}, SHARED_MEMORY_BACKEND)
    assert await a.acquire(["default"]) == 0.0
    with pytest.raises(TimeoutError):  # the same bucket: its one token is spent
        await b.acquire(["default"], deadline=time.monotonic() + 1)


async def test_waiters_of_different_class_sets_queue_in_one_fifo() -> None:
    """Kills: ``Limiter._lock`` handing each class set its own lock for a shared bucket.
    B waits for the next ``default`` token; the loop is then held past that token's time,
    and C (drawing from ``default`` and ``other``) arrives before B wakes. C must queue
    behind B, not take the token on the fast path because its own lock looks free."""
    limiter = Limiter(
        "p",
        f"fifo-{time.monotonic_ns()}",
        {"default": Limit(2, 0.2), "other": Limit(100, 1)},
        MemoryLimiterBackend(),
    )
    order: list[str] = []

    async def take(name: str, classes: tuple[str, ...]) -> None:
        await limiter.acquire(classes)
        order.append(name)

    await limiter.acquire(("default",))  # a fresh bucket: its burst of one is spent
    b = asyncio.create_task(take("B", ("default",)))
    await asyncio.sleep(0.01)  # B now sleeps for the next token (0.115 s), first in line
    time.sleep(0.2)  # noqa: ASYNC251 (on purpose: the loop is late, B has not woken yet)
    c = asyncio.create_task(take("C", ("default", "other")))
    await asyncio.gather(b, c)
    assert order == ["B", "C"]


def test_a_limiter_queues_waiters_again_in_a_second_event_loop() -> None:
    """Kills: the event-loop tracking of the queue locks (``self._loop`` not updated, the
    locks or the resolved class sets not dropped): asyncio locks bind to the loop they
    first queue waiters on, so a second ``asyncio.run`` would fail with a RuntimeError."""
    limiter = Limiter(
        "p", f"loops-{time.monotonic_ns()}", {"default": Limit(2, 0.2)}, MemoryLimiterBackend()
    )

    async def contend() -> float:
        started = time.monotonic()
        await asyncio.gather(*(limiter.acquire(("default",)) for _ in range(3)))
        return time.monotonic() - started

    first = asyncio.run(contend())
    second = asyncio.run(contend())
    # three tokens one interval (0.115 s) apart: waiters really queued in both loops
    assert first >= 0.2
    assert second >= 0.2


async def test_a_request_without_limit_classes_never_calls_the_backend(serve) -> None:
    """Kills: ``acquire`` of no class going to the backend (``if not r.keys``), on the
    path of a backend without a synchronous fast path (as Redis is)."""

    class Recording(MemoryLimiterBackend):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[tuple[str, ...]] = []

        async def try_acquire(self, keys, params) -> float:  # type: ignore[no-untyped-def]
            self.calls.append(tuple(keys))
            return await super().try_acquire(keys, params)

    backend = Recording()
    limiter = Limiter("p", f"none-{time.monotonic_ns()}", {"default": Limit(1, 10)}, backend)
    assert await limiter.acquire(()) == 0.0
    assert await limiter.acquire([]) == 0.0
    assert backend.calls == []
    assert await limiter.acquire(("default",)) == 0.0
    assert backend.calls == [(limiter.key("default"),)]


async def test_a_pause_without_bucket_parameters_restarts_at_the_pause_end() -> None:
    """Kills: the defaults of ``MemoryLimiterBackend.pause`` for callers that pass no
    bucket parameters (tolerance 0: the first token comes when the pause ends)."""
    backend = MemoryLimiterBackend()
    await backend.pause(["k"], 0.3)
    wait = backend.try_acquire_now(["k"], [BucketParams(burst=1, interval=0.5)])
    assert 0.25 < wait <= 0.3
    await backend.pause(["k"], 0.1)  # shorter: never shortens the pause
    wait = backend.try_acquire_now(["k"], [BucketParams(burst=1, interval=0.5)])
    assert 0.25 < wait <= 0.3


async def test_limiter_errors_say_what_is_wrong() -> None:
    """Kills: ``None`` messages of LimiterWaitTooLong and of a limiter with no classes."""
    with pytest.raises(errors.ConfigError, match="at least one limit class"):
        Limiter("p", "a", {})
    limiter = Limiter(
        "p", f"msg-{time.monotonic_ns()}", {"default": Limit(1, 10)}, MemoryLimiterBackend()
    )
    await limiter.acquire(("default",))
    with pytest.raises(LimiterWaitTooLong, match=r"asks for a 10\.\ds wait") as info:
        await limiter.acquire(("default",), deadline=time.monotonic() + 0.05)
    assert 10.0 <= info.value.wait <= 10.3
    with pytest.raises(errors.ConfigError, match="unknown limit class 'nope'"):
        await limiter.acquire(("nope",))


class _ProtocolOnlyBackend:
    """A backend with just the two protocol calls (as Redis has): no synchronous fast
    path, so every token goes through ``await try_acquire``."""

    def __init__(self) -> None:
        self._inner = MemoryLimiterBackend()
        self.calls = 0

    async def try_acquire(self, keys, params) -> float:  # type: ignore[no-untyped-def]
        self.calls += 1
        return await self._inner.try_acquire(keys, params)

    async def pause(self, keys, seconds, params=()) -> None:  # type: ignore[no-untyped-def]
        await self._inner.pause(keys, seconds, params)


async def test_a_backend_without_a_fast_path_still_limits_every_request(serve) -> None:
    """Kills: ``_sync_try_acquire`` without a default for a backend lacking
    ``try_acquire_now`` (the limiter could not be built), and ``acquire_now`` reporting a
    token taken (or calling a missing fast path) when the backend has none: requests
    would then go unlimited or fail."""
    times: list[float] = []
    server = await serve(timed_app(times))
    backend = _ProtocolOnlyBackend()
    limit = Limit(2, 0.2)  # burst 1, then one token every 0.115 s
    async with make_session(
        str(server.make_url("")),
        rate_limit=RateLimit(backend=backend, limits={"default": limit}),
        cache=None,
    ) as s:
        await asyncio.gather(*(s.request(get(i)) for i in range(3)))
    assert len(times) == 3
    assert backend.calls >= 3
    times.sort()
    interval = limit.bucket().interval
    assert times[1] - times[0] >= interval - 0.02
    assert times[2] - times[1] >= interval - 0.02


def test_a_late_waiter_keeps_its_scheduled_slot() -> None:
    """Kills: a bucket without catch-up (``BucketParams`` built without ``catchup``): a
    waiter woken a little late must keep its slot, so the next token is one interval
    after the slot, not after the late wake-up (else every late timer drifts the rate
    down). Limit(10, 0.5): a token every 0.053 s, catch-up 7.5 ms; the wake is 4 ms late."""
    params = Limit(10, 0.5).bucket()
    assert params.catchup == pytest.approx(0.0075)
    backend = MemoryLimiterBackend()
    assert backend.try_acquire_now(["k"], [params]) == 0.0  # the burst of one
    wait = backend.try_acquire_now(["k"], [params])
    assert 0.04 < wait <= params.interval
    time.sleep(wait + 0.004)
    assert backend.try_acquire_now(["k"], [params]) == 0.0
    after = backend.try_acquire_now(["k"], [params])
    assert after <= params.interval - 0.003


async def test_acquire_returns_the_seconds_it_waited() -> None:
    """Kills: ``acquire`` returning anything but the time waited (the session adds it to
    ``stats.limiter_wait``, which the export's summary reports)."""
    limiter = Limiter(
        "p", f"waited-{time.monotonic_ns()}", {"default": Limit(2, 0.2)}, MemoryLimiterBackend()
    )
    assert await limiter.acquire(("default",)) == 0.0
    started = time.monotonic()
    waited = await limiter.acquire(("default",))
    elapsed = time.monotonic() - started
    assert 0.09 <= waited <= elapsed
