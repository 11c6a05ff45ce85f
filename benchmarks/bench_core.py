"""Core session vs raw aiohttp on loopback, and the limiter's achieved rate.

Run with `nox -s bench` (or `python benchmarks/bench_core.py`). The server runs in a
separate process so client and server do not share an event loop. Prints a table; this
is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from typing import Any

import aiohttp
from aiohttp import web

from aiocamp.core import BasicTokenAuth, Limit, MemoryEtagCache, RateLimit, Request, Session
from aiocamp.core.session import ProductConfig
from aiocamp.core.settings import ClientSettings

BODY = b'{"id": 1, "name": "Widget", "tags": ["a", "b"], "created_at": "2024-01-01T00:00:00Z"}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(port: int, ready: Any) -> None:
    times: list[float] = []

    async def item(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    async def timed(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        return web.Response(body=BODY, content_type="application/json")

    async def get_times(request: web.Request) -> web.Response:
        out = web.json_response(times[:])
        times.clear()
        return out

    app = web.Application()
    app.router.add_get("/item.json", item)
    app.router.add_get("/timed.json", timed)
    app.router.add_get("/times", get_times)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def run_raw(base: str, total: int, concurrency: int) -> float:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                async with http.get(base + "/item.json") as r:
                    await r.json()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def product() -> ProductConfig:
    return ProductConfig(
        name="bench",
        format="json",
        limits={"default": Limit(50, 10)},
        default_limit_classes=("default",),
    )


def bench_session(base: str, rate_limit: RateLimit, cache: MemoryEtagCache | None) -> Session:
    return Session(
        product(),
        ClientSettings(
            base_url=base,
            auth=BasicTokenAuth("bench-token"),
            user_agent="aiocamp-bench (dev@example.com)",
            account="bench",
            rate_limit=rate_limit,
            cache=cache,
        ),
    )


async def run_core(base: str, total: int, concurrency: int) -> float:
    # Limiter and cache enabled but not binding: a limit far above the achievable rate.
    session = bench_session(
        base, RateLimit(limits={"default": Limit(10_000_000, 1)}), MemoryEtagCache()
    )
    async with session:
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                await session.request(Request("GET", "/item.json"))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def worst_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run_limiter(base: str, total: int) -> tuple[float, int, float]:
    limit = Limit(50, 10)
    # 50 per 10 s, scaled 10x faster: 50 per 1 s.
    session = bench_session(base, RateLimit(limits={"default": limit}, time_scale=0.1), None)
    async with session:
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                await session.request(Request("GET", "/timed.json"))

        await asyncio.gather(*(worker() for _ in range(64)))
    async with aiohttp.ClientSession() as http, http.get(base + "/times") as r:
        times = await r.json()
    rate = (len(times) - 1) / (max(times) - min(times))
    return rate, worst_window(times, 1.0), rate / 50


async def main(total: int, limiter_total: int) -> None:
    port = free_port()
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=serve, args=(port, ready), daemon=True)
    proc.start()
    ready.wait(10)
    base = f"http://127.0.0.1:{port}"
    try:
        await run_raw(base, 500, 16)  # warm-up
        await run_core(base, 500, 16)
        print(
            f"{'concurrency':>11} {'raw aiohttp req/s':>18} {'core session req/s':>19} {'ratio':>6}"
        )
        for c in (1, 16, 64):
            raw = max([await run_raw(base, total, c) for _ in range(3)])
            core = max([await run_core(base, total, c) for _ in range(3)])
            print(f"{c:>11} {raw:>18.0f} {core:>19.0f} {core / raw:>6.2f}")
        rate, worst, share = await run_limiter(base, limiter_total)
        print()
        print("limiter: 50 per 10 s scaled 10x faster (50 per 1 s), 64 concurrent tasks")
        print(
            f"  achieved {rate:.2f} req/s = {share:.1%} of 50/s; "
            f"worst 1 s window: {worst} (limit 50)"
        )
    finally:
        proc.terminate()
        proc.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--limiter-requests", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.limiter_requests))
