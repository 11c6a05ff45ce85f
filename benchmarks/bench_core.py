"""Core session vs raw aiohttp on loopback: throughput, memory of a long listing, limiter.

Run with `nox -s bench` (or `python benchmarks/bench_core.py`; `--quick` is the short mode
CI runs to check that it works). The server runs in a separate process so client and
server do not share an event loop. Every figure is printed as min / median / max over
rounds; ratios are computed within a round (the kinds of one round run back to back, so a
noisy neighbour affects them alike) and then summarised. This is a measurement, not a test.

Sections:

1. Single GETs, req/s at concurrency 1, 16 and 64: raw aiohttp, aiocamp with default
   settings (limiter and ETag cache on; the limit set far above the achievable rate so it
   does not bind), and aiocamp with ``rate_limit=None, cache=None``.
2. List pages (100 records of ~1 KB, ETags on, as Basecamp 4 sends them), pages/s: default
   settings vs ``cache=None``.
3. Peak RSS of listing 10 k and 40 k records page by page, each in a fresh subprocess.
4. The limiter's achieved rate against a "50 per 10 s" limit scaled 10x faster.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from aiocamp.core import (
    BasicTokenAuth,
    Limit,
    PageIterator,
    Paging,
    RateLimit,
    Request,
    Session,
)
from aiocamp.core._runtime import json_items
from aiocamp.core._session import ProductConfig
from aiocamp.core._settings import DEFAULT, ClientSettings

BODY = b'{"id": 1, "name": "Widget", "tags": ["a", "b"], "created_at": "2024-01-01T00:00:00Z"}'
PAGE_SIZE = 100


def record(i: int) -> dict[str, Any]:
    """About 1 KB of JSON, shaped like a Basecamp 4 recording."""
    return {
        "id": i,
        "status": "active",
        "title": f"Record number {i}",
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_at": "2024-01-02T00:00:00.000Z",
        "url": f"https://3.basecampapi.com/999/buckets/1/todos/{i}.json",
        "app_url": f"https://3.basecamp.com/999/buckets/1/todos/{i}",
        "content": "x" * 500,
        "creator": {"id": 7, "name": "Victor Cooper", "email_address": "victor@example.com"},
        "bucket": {"id": 1, "name": "The Leto Laptop", "type": "Project"},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(port: int, ready: Any) -> None:
    times: list[float] = []
    pages: dict[int, bytes] = {}

    async def item(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    async def timed(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        return web.Response(body=BODY, content_type="application/json")

    async def get_times(request: web.Request) -> web.Response:
        out = web.json_response(times[:])
        times.clear()
        return out

    async def listing(request: web.Request) -> web.Response:
        total = int(request.query.get("total", "1000"))
        page = int(request.query.get("page", "1"))
        body = pages.get(page)
        if body is None:
            first = (page - 1) * PAGE_SIZE
            body = json.dumps([record(first + i) for i in range(PAGE_SIZE)]).encode()
            pages[page] = body
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        headers = {"ETag": etag, "X-Total-Count": str(total)}
        if page * PAGE_SIZE < total:
            url = request.url.update_query(page=str(page + 1))
            headers["Link"] = f'<{url}>; rel="next"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/json", headers=headers)

    app = web.Application()
    app.router.add_get("/item.json", item)
    app.router.add_get("/timed.json", timed)
    app.router.add_get("/times", get_times)
    app.router.add_get("/records.json", listing)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def product() -> ProductConfig:
    return ProductConfig(
        name="bench",
        format="json",
        limits={"default": Limit(50, 10)},
        default_limit_classes=("default",),
    )


#: Default settings, except a limit far above the achievable rate: the limiter runs but
#: never makes anyone wait.
NOT_BINDING = {"default": Limit(10_000_000, 1)}


def bench_session(base: str, kind: str) -> Session:
    if kind == "defaults":
        rate_limit: RateLimit | None = RateLimit(limits=NOT_BINDING)
        cache: Any = DEFAULT
    elif kind == "cache=None":
        rate_limit, cache = RateLimit(limits=NOT_BINDING), None
    elif kind == "bare":
        rate_limit, cache = None, None
    else:
        raise ValueError(kind)
    return Session(
        product(),
        ClientSettings(
            base_url=base,
            auth=BasicTokenAuth("bench-token"),
            user_agent="aiocamp-bench (dev@example.com)",
            account=f"bench-{kind}-{time.monotonic_ns()}",
            rate_limit=rate_limit,
            cache=cache,
        ),
    )


#: Client CPU seconds (user + system) per request (or page) of the last measurement: on a
#: shared machine, wall-clock rates swing with the neighbours' load; the client's own CPU cost
#: does not.
LAST_CPU_PER_REQUEST = [0.0]


async def _run_workers(total: int, concurrency: int, one: Callable[[], Awaitable[Any]]) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await one()

    started = time.perf_counter()
    cpu = _user_cpu()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    LAST_CPU_PER_REQUEST[0] = (_user_cpu() - cpu) / total
    return total / (time.perf_counter() - started)


def _user_cpu() -> float:
    """CPU seconds of this process (user + system, ``time.process_time``): the client's own
    work. The kernel's user/system split (``getrusage``) is sampled per tick and swings by
    10-20% over runs this short; the sum is exact scheduler accounting."""
    return time.process_time()


async def get_raw(base: str, total: int, concurrency: int) -> float:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one() -> None:
            async with http.get(base + "/item.json") as r:
                await r.json()

        return await _run_workers(total, concurrency, one)


async def get_core(base: str, total: int, concurrency: int, kind: str) -> float:
    async with bench_session(base, kind) as session:
        request = Request("GET", "/item.json")
        return await _run_workers(total, concurrency, lambda: session.request(request))


async def list_core(base: str, records: int, kind: str) -> float:
    """Pages per second of one listing (every page fetched once: cache on or off)."""
    async with bench_session(base, kind) as session:
        it: PageIterator[int] = PageIterator(
            session,
            Request("GET", "/records.json", (("total", str(records)),)),
            paging=Paging("link"),
            extract=json_items,
            convert=lambda d: d["id"],
        )
        started = time.perf_counter()
        cpu = _user_cpu()
        count = 0
        async for _ in it:
            count += 1
        assert count == records, count
        LAST_CPU_PER_REQUEST[0] = (_user_cpu() - cpu) / it.pages_fetched
        return it.pages_fetched / (time.perf_counter() - started)


def summary(values: list[float], fmt: str = ".0f") -> str:
    return f"{min(values):{fmt}} / {statistics.median(values):{fmt}} / {max(values):{fmt}}"


async def section_gets(base: str, total: int, rounds: int) -> None:
    print("1. single GETs (min / median / max over rounds)")
    print("   req/s: wall clock; cpu: the client's CPU microseconds per request, and")
    print("   the ratio of CPU-bound rates (raw cpu / aiocamp cpu), steadier on a busy machine")
    kinds = ["defaults", "bare"]
    print(
        f"{'conc.':>5} {'raw aiohttp req/s':>20} {'defaults req/s':>20} {'bare req/s':>20} "
        f"{'defaults/raw':>20} {'bare/raw':>20}"
    )
    cpu_rows: list[str] = []
    for concurrency in (1, 16, 64):
        raw: list[float] = []
        raw_cpu: list[float] = []
        core: dict[str, list[float]] = {k: [] for k in kinds}
        cpu: dict[str, list[float]] = {k: [] for k in kinds}
        ratios: dict[str, list[float]] = {k: [] for k in kinds}
        cpu_ratios: dict[str, list[float]] = {k: [] for k in kinds}
        for _ in range(rounds):
            r = await get_raw(base, total, concurrency)
            r_cpu = LAST_CPU_PER_REQUEST[0]
            raw.append(r)
            raw_cpu.append(r_cpu * 1e6)
            for kind in kinds:
                c = await get_core(base, total, concurrency, kind)
                core[kind].append(c)
                cpu[kind].append(LAST_CPU_PER_REQUEST[0] * 1e6)
                ratios[kind].append(c / r)
                cpu_ratios[kind].append(r_cpu / LAST_CPU_PER_REQUEST[0])
        print(
            f"{concurrency:>5} {summary(raw):>20} {summary(core['defaults']):>20} "
            f"{summary(core['bare']):>20} {summary(ratios['defaults'], '.2f'):>20} "
            f"{summary(ratios['bare'], '.2f'):>20}"
        )
        cpu_rows.append(
            f"{concurrency:>5} {summary(raw_cpu):>20} {summary(cpu['defaults']):>20} "
            f"{summary(cpu['bare']):>20} {summary(cpu_ratios['defaults'], '.2f'):>20} "
            f"{summary(cpu_ratios['bare'], '.2f'):>20}"
        )
    print(
        f"{'conc.':>5} {'raw cpu us/req':>20} {'defaults cpu':>20} {'bare cpu':>20} "
        f"{'defaults/raw':>20} {'bare/raw':>20}"
    )
    print("\n".join(cpu_rows))
    print("   target: defaults/raw >= 0.8 at every concurrency (issue 8)")


async def section_lists(base: str, records: int, rounds: int) -> None:
    print()
    print(f"2. list pages ({PAGE_SIZE} x ~1 KB records, ETags on), pages/s")
    await _defaults_vs_nocache(rounds, lambda kind: list_core(base, records, kind), "page")
    print()
    print("   single GETs, defaults vs cache=None (concurrency 16), req/s")
    await _defaults_vs_nocache(rounds, lambda kind: get_core(base, 1500, 16, kind), "req")


async def _defaults_vs_nocache(
    rounds: int, run: Callable[[str], Awaitable[float]], unit: str
) -> None:
    """Rate and client CPU of default settings against ``cache=None``, interleaved
    (the order alternates between rounds, so neither kind always runs first)."""
    rate: dict[str, list[float]] = {"defaults": [], "cache=None": []}
    cpu: dict[str, list[float]] = {"defaults": [], "cache=None": []}
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    for i in range(rounds):
        order = ["defaults", "cache=None"] if i % 2 == 0 else ["cache=None", "defaults"]
        this: dict[str, tuple[float, float]] = {}
        for kind in order:
            r = await run(kind)
            this[kind] = (r, LAST_CPU_PER_REQUEST[0] * 1e6)
            rate[kind].append(r)
            cpu[kind].append(this[kind][1])
        ratios.append(this["defaults"][0] / this["cache=None"][0])
        # CPU-bound rate ratio: cache=None CPU per unit over defaults CPU per unit.
        cpu_ratios.append(this["cache=None"][1] / this["defaults"][1])
    print(
        f"   defaults   {summary(rate['defaults']):>20}   cpu us/{unit} {summary(cpu['defaults'])}"
    )
    print(
        f"   cache=None {summary(rate['cache=None']):>20}   cpu us/{unit} "
        f"{summary(cpu['cache=None'])}"
    )
    print(f"   ratio      {summary(ratios, '.2f'):>20}   target >= 0.9 (wall clock)")
    print(f"   cpu ratio  {summary(cpu_ratios, '.2f'):>20}   (cache=None cpu / defaults cpu)")


# -- 3. peak RSS in fresh subprocesses ------------------------------------------------


async def rss_child(base: str, kind: str, records: int) -> None:
    if kind == "raw aiohttp":
        async with aiohttp.ClientSession() as http:
            url: str | None = f"{base}/records.json?total={records}"
            count = 0
            while url:
                async with http.get(url) as r:
                    for item in await r.json():
                        count += item["id"] >= 0
                    url = r.links.get("next", {}).get("url")  # type: ignore[assignment]
                    url = str(url) if url else None
            assert count == records
    else:
        await list_core(base, records, kind)


def reset_peak_rss() -> bool:
    """Start the peak-RSS watermark afresh (Linux: writing 5 to clear_refs resets VmHWM),
    so the peak measured is the listing's, not the imports'."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    # ru_maxrss is KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_rss(base: str, kind: str, records: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind, str(records), base],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    return float(out.strip().splitlines()[-1])


def section_rss(base: str, small: int, large: int, rounds: int) -> None:
    print()
    print(f"3. peak RSS (MiB) listing {PAGE_SIZE}-record pages, fresh subprocess each")
    print(f"{'kind':>14} {f'at {small}':>22} {f'at {large}':>22} {'ratio':>20}")
    for kind in ("defaults", "cache=None", "raw aiohttp"):
        at_small: list[float] = []
        at_large: list[float] = []
        ratios: list[float] = []
        for _ in range(rounds):
            a = measure_rss(base, kind, small)
            b = measure_rss(base, kind, large)
            at_small.append(a)
            at_large.append(b)
            ratios.append(b / a)
        print(
            f"{kind:>14} {summary(at_small, '.1f'):>22} {summary(at_large, '.1f'):>22} "
            f"{summary(ratios, '.2f'):>20}"
        )
    print("   target: defaults ratio <= 1.1 (issue 8 section 1)")


# -- 4. limiter --------------------------------------------------------------------


def worst_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def section_limiter(base: str, total: int) -> None:
    # 50 per 10 s, scaled 10x faster: 50 per 1 s.
    session = Session(
        product(),
        ClientSettings(
            base_url=base,
            auth=BasicTokenAuth("bench-token"),
            user_agent="aiocamp-bench (dev@example.com)",
            account=f"bench-limiter-{time.monotonic_ns()}",
            rate_limit=RateLimit(limits={"default": Limit(50, 10)}, time_scale=0.1),
            cache=None,
        ),
    )
    async with session:
        request = Request("GET", "/timed.json")
        await _run_workers(total, 64, lambda: session.request(request))
    async with aiohttp.ClientSession() as http, http.get(base + "/times") as r:
        times = await r.json()
    rate = (len(times) - 1) / (max(times) - min(times))
    print()
    print("4. limiter: 50 per 10 s scaled 10x faster (50 per 1 s), 64 concurrent tasks")
    print(
        f"   achieved {rate:.2f} req/s = {rate / 50:.1%} of 50/s; "
        f"worst 1 s window: {worst_window(times, 1.0)} (limit 50)"
    )


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=serve, args=(port, ready), daemon=True)
    proc.start()
    ready.wait(10)
    base = f"http://127.0.0.1:{port}"
    try:
        # Warm-up: connections, and the server builds (and keeps) every page body once.
        await get_raw(base, 300, 16)
        await get_core(base, 300, 16, "defaults")
        await list_core(base, max(args.list_records, args.rss_large), "cache=None")
        if "1" in args.sections:
            await section_gets(base, args.requests, args.rounds)
        if "2" in args.sections:
            await section_lists(base, args.list_records, args.rounds)
        if "3" in args.sections:
            section_rss(base, args.rss_small, args.rss_large, args.rss_rounds)
        if "4" in args.sections:
            await section_limiter(base, args.limiter_requests)
    finally:
        proc.terminate()
        proc.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short run (CI checks it runs)")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--list-records", type=int, default=10_000)
    parser.add_argument("--rss-small", type=int, default=10_000)
    parser.add_argument("--rss-large", type=int, default=40_000)
    parser.add_argument("--rss-rounds", type=int, default=3)
    parser.add_argument("--limiter-requests", type=int, default=500)
    parser.add_argument("--sections", default="1234", help="which sections to run, e.g. 12")
    parser.add_argument("--rss-child", nargs=3, metavar=("KIND", "RECORDS", "BASE"))
    args = parser.parse_args()
    if args.rss_child:
        kind, records, base = args.rss_child
        reset_peak_rss()
        asyncio.run(rss_child(base, kind, int(records)))
        print(f"{peak_rss_mib():.2f}")
        sys.exit(0)
    if args.quick:
        args.requests, args.rounds, args.list_records = 200, 1, 1000
        args.rss_small, args.rss_large, args.rss_rounds = 500, 2000, 1
        args.limiter_requests = 60
    asyncio.run(main(args))
