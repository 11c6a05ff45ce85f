"""Token-bucket limiter: the sliding-window bound, shared pauses, cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from aiocamp.core import (
    BasicTokenAuth,
    Limit,
    Limiter,
    MemoryLimiterBackend,
    RateLimit,
    Request,
)

from .helpers import JITTER, make_session, max_in_window


def test_bucket_parameters_leave_a_margin() -> None:
    """GCRA sends ``burst`` at once, then one per ``interval``; a waiter that wakes up to
    ``catchup`` late keeps its slot. So the tightest run of N + 1 requests spans
    ``(N - burst + 1) * interval - catchup``: it must exceed the window by most of the margin
    (2%, at least 30 ms), while a long run keeps >= 95% of the limit (windows >= 1 s; the
    burst's tokens are what a long run gives up: 97-98% for a burst of one)."""
    for n, w in [(50, 10), (150, 5), (500, 10), (100, 15), (2, 10), (1, 1), (20, 1), (10, 0.2)]:
        p = Limit(n, w).bucket()
        assert 1 <= p.burst <= max(1, n // 40)
        margin = max(0.02 * w, 0.03)
        tightest = (n - p.burst + 1) * p.interval - p.catchup
        assert tightest >= w + 0.75 * margin - 1e-9, (n, w)
        assert tightest <= w + margin + 1e-9, (n, w)
        if w >= 1:
            assert (1 / p.interval) / (n / w) >= 0.95, (n, w)
    assert Limit(20, 1).bucket().interval == pytest.approx(1.03 / 20)  # the benchmark's limit
    # Behaviour over HTTP: test_kill_limiter.py (long run, bursts, catch-up).


def test_limit_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="requests"):
        Limit(0, 1)


def counting_app(times: list[float]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def test_sliding_window_bound_holds_under_64_concurrent_tasks(serve) -> None:
    times: list[float] = []
    server = await serve(counting_app(times))
    limit = Limit(20, 0.5)  # 40 requests/s
    total = 120
    s = make_session(str(server.make_url("")), limits={"default": limit}, cache=None)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await s.request(Request("GET", f"/r/{i}.json"))

    await asyncio.gather(*(worker() for _ in range(64)))
    await s.close()
    assert len(times) == total
    assert max_in_window(times, limit.per_seconds, jitter=JITTER) <= limit.requests
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate >= 0.85 * limit.requests / limit.per_seconds


async def test_429_pauses_every_request_sharing_the_bucket(serve) -> None:
    times: list[float] = []
    throttled_at: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        now = time.monotonic()
        if not throttled_at:
            throttled_at.append(now)
            return web.Response(status=429, headers={"Retry-After": "0.5"})
        times.append(now)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    s = make_session(str(server.make_url("")), cache=None)
    first = asyncio.create_task(s.request(Request("GET", "/first.json")))
    await asyncio.sleep(0.1)  # the 429 has arrived and paused the bucket
    others = [s.request(Request("GET", f"/other/{i}.json")) for i in range(5)]
    await asyncio.gather(first, *others)
    await s.close()
    assert len(times) == 6
    assert min(times) >= throttled_at[0] + 0.45


async def test_pause_does_not_touch_other_accounts() -> None:
    backend = MemoryLimiterBackend()
    a = Limiter("p", "a", {"default": Limit(100, 1)}, backend)
    b = Limiter("p", "b", {"default": Limit(100, 1)}, backend)
    await a.pause(["default"], 5, "test")
    started = time.monotonic()
    await b.acquire(["default"])
    assert time.monotonic() - started < 0.1


async def test_cancelled_waiters_neither_leak_nor_double_spend_tokens() -> None:
    # burst 1, a token per 0.408 s
    limiter = Limiter("p", "acct", {"default": Limit(2, 0.4)}, MemoryLimiterBackend())
    interval = Limit(2, 0.4).bucket().interval
    await limiter.acquire(["default"])
    started = time.monotonic()
    waiters = [asyncio.create_task(limiter.acquire(["default"])) for _ in range(5)]
    await asyncio.sleep(0.1)
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await limiter.acquire(["default"])
    first = time.monotonic() - started
    await limiter.acquire(["default"])
    second = time.monotonic() - started
    # The next token arrives on schedule (the cancelled tasks took none) ...
    assert first == pytest.approx(interval, abs=0.08)
    # ... and the one after that a full interval later (none was handed out twice).
    assert second - first == pytest.approx(interval, abs=0.08)


async def test_an_endpoint_draws_from_all_its_classes() -> None:
    limiter = Limiter(
        "p", "acct", {"default": Limit(100, 1), "slow": Limit(2, 0.4)}, MemoryLimiterBackend()
    )
    started = time.monotonic()
    await limiter.acquire(["default", "slow"])
    await limiter.acquire(["default", "slow"])
    assert time.monotonic() - started >= Limit(2, 0.4).bucket().interval - 0.01
    started = time.monotonic()
    await limiter.acquire(["default"])
    assert time.monotonic() - started < 0.05


async def test_unknown_limit_class_is_a_clear_error() -> None:
    limiter = Limiter("p", "acct", {"default": Limit(1, 1)}, MemoryLimiterBackend())
    with pytest.raises(ValueError, match="unknown limit class"):
        await limiter.acquire(["nope"])


async def test_rate_limit_none_switches_the_limiter_off(serve) -> None:
    times: list[float] = []
    server = await serve(counting_app(times))
    s = make_session(
        str(server.make_url("")), limits={"default": Limit(1, 10)}, rate_limit=None, cache=None
    )
    await asyncio.gather(*(s.request(Request("GET", f"/{i}.json")) for i in range(5)))
    await s.close()
    assert len(times) == 5
    assert times[-1] - times[0] < 1


async def test_time_scale_and_override_limits(serve) -> None:
    times: list[float] = []
    server = await serve(counting_app(times))
    rl = RateLimit(limits={"default": Limit(4, 10)}, time_scale=0.02)  # 4 per 0.2 s
    s = make_session(str(server.make_url("")), rate_limit=rl, cache=None)
    await asyncio.gather(*(s.request(Request("GET", f"/{i}.json")) for i in range(12)))
    await s.close()
    assert max_in_window(times, 0.2, jitter=JITTER) <= 4


async def test_clients_of_one_account_share_the_default_budget(serve) -> None:
    """Two sessions built with the default rate_limit draw from one bucket per account."""
    times: list[float] = []
    server = await serve(counting_app(times))
    from aiocamp.core import Session
    from aiocamp.core._settings import ClientSettings

    from .helpers import product

    account = f"shared-{time.monotonic_ns()}"
    sessions = [
        Session(
            product(limits={"default": Limit(4, 0.4)}),
            ClientSettings(
                base_url=str(server.make_url("")),
                auth=BasicTokenAuth("t"),
                user_agent="tests (dev@example.com)",
                account=account,
                cache=None,
            ),
        )
        for _ in range(2)
    ]
    await asyncio.gather(
        *(s.request(Request("GET", f"/{i}.json")) for s in sessions for i in range(6))
    )
    for s in sessions:
        await s.close()
    assert len(times) == 12
    assert max_in_window(times, 0.4, jitter=JITTER) <= 4


async def test_a_backend_overriding_try_acquire_is_called_on_the_fast_path() -> None:
    from aiocamp.core._limiter import MemoryLimiterBackend

    calls: list[tuple[str, ...]] = []

    class Recording(MemoryLimiterBackend):
        async def try_acquire(self, keys, params) -> float:
            calls.append(tuple(keys))
            return await super().try_acquire(keys, params)

    limiter = Limiter("p", "a", {"default": Limit(1000, 1)}, Recording())
    await limiter.acquire(("default",))
    assert calls == [("p:a:default",)]
    fast = Limiter("p", "b", {"default": Limit(1000, 1)}, MemoryLimiterBackend())
    assert fast._try_now is not None


async def test_after_a_pause_the_bucket_restarts_with_one_token_not_a_burst() -> None:
    from aiocamp.core._limiter import MemoryLimiterBackend

    limit = Limit(200, 2)  # burst 5, a token every ~10.5 ms
    params = limit.bucket()
    assert params.burst == 5
    limiter = Limiter("p", "pause-burst", {"default": limit}, MemoryLimiterBackend())
    await limiter.pause(["default"], 0.1, "429")
    started = time.monotonic()
    stamps = []
    for _ in range(5):
        await limiter.acquire(["default"])
        stamps.append(time.monotonic())
    assert stamps[0] - started >= 0.09
    # 4 intervals, less the catch-up a late waiter may claim; a burst would be ~0 s.
    assert stamps[-1] - stamps[0] >= 2.5 * params.interval


async def test_a_throttled_reply_widens_the_margin_until_quiet_windows_pass() -> None:
    """A 429/503 with Retry-After while the limiter kept to the limit means arrivals jitter
    more than the margin on this path: each pause doubles the class's margin (at most 4x),
    only for the classes paused, and each 30 quiet windows halve it again."""
    limiter = Limiter(
        "p",
        f"widen-{time.monotonic_ns()}",
        {"default": Limit(10, 0.2), "other": Limit(10, 0.2), "tiny": Limit(2, 0.005)},
        MemoryLimiterBackend(),
    )
    assert limiter.margin_factor("default") == 1.0
    await limiter.pause(["default"], 0.01, "429")
    assert limiter.margin_factor("default") == 2.0
    assert limiter.margin_factor("other") == 1.0
    await limiter.pause(["default"], 0.01, "429")
    await limiter.pause(["default"], 0.01, "429")
    assert limiter.margin_factor("default") == 4.0  # capped
    # The wider margin is what the bucket now keeps: 11 tokens (one more than a window
    # holds) span the window plus 4 x 30 ms, less the usual catch-up; lateness only adds.
    await asyncio.sleep(0.25)  # the bucket refills
    started = time.monotonic()
    for _ in range(11):
        await limiter.acquire(("default",))
    assert time.monotonic() - started >= 0.2 + 0.12 - 0.0075 - 0.005
    # ... while the catch-up a late waiter may claim stays that of the usual margin.
    assert Limit(10, 0.2).bucket(widen=4).catchup == Limit(10, 0.2).bucket().catchup
    # 30 quiet windows of 5 ms: the margin halves, and halves again after 30 more.
    await limiter.pause(["tiny"], 0.001, "503")
    assert limiter.margin_factor("tiny") == 2.0
    await asyncio.sleep(30 * 0.005 + 0.02)
    assert limiter.margin_factor("tiny") == 1.0
