"""Sandbox throughput: requests/s it serves at concurrency 64 (issue 10, item 8).

The sandbox runs in its own process (as `aiocamp sandbox` would) so the load generator,
plain aiohttp, does not share its event loop. Rows: a JSON GET of one Basecamp 4 record,
an XML list page of Highrise (people, 500 per page) and a short XML page (25 per page),
beside a bare aiohttp server answering fixed bytes (the ceiling on this machine).
Run with `nox -s bench` or `python benchmarks/bench_sandbox.py`. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import statistics
import time
from typing import Any

import aiohttp

from aiocamp.sandbox import serve

CONCURRENCY = 64


async def bare_server(conn: Any) -> None:
    """Plain aiohttp answering fixed bytes: the ceiling the sandbox is compared with."""
    from aiohttp import web

    body = b'{"id": 1, "name": "x"}' * 110  # about the size of the JSON GET row

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    conn.send({"url": url, "api": url, "headers": {}})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await runner.cleanup()


def run_sandbox(product: str, conn: Any) -> None:
    if product == "bare":
        asyncio.run(bare_server(conn))
        return

    async def main() -> None:
        async with serve(product, scale=0.2, rate_limit="off") as sb:
            app = sb.app
            info: dict[str, Any] = {"url": sb.url, "api": sb.api_url}
            if product == "basecamp4":
                info["headers"] = {
                    "Authorization": f"Bearer {sb.access_token}",
                    "User-Agent": "bench (bench@example.com)",
                }
                info["record"] = app.store.ids("Project")[0]
            else:
                token = base64.b64encode(f"{sb.token}:X".encode()).decode()
                info["headers"] = {"Authorization": f"Basic {token}"}
            conn.send(info)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


async def load(url: str, headers: dict[str, str], seconds: float) -> tuple[float, int, int]:
    """Requests/s over ``seconds`` with CONCURRENCY workers; also errors and bytes per reply."""
    done = 0
    errors = 0
    size = 0
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal done, errors, size
            while time.monotonic() < stop:
                async with http.get(url, headers=headers) as r:
                    body = await r.read()
                    if r.status == 200:
                        done += 1
                        size = len(body)
                    else:
                        errors += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return done / (time.monotonic() - started), errors, size


def measure(
    product: str, path_of: Any, seconds: float, rounds: int
) -> tuple[list[float], int, int]:
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=run_sandbox, args=(product, child), daemon=True)
    proc.start()
    try:
        info = parent.recv()
        url = info["api"] + path_of(info)
        rates = []
        errors = size = 0
        for _ in range(rounds):
            rate, err, size = asyncio.run(load(url, info["headers"], seconds))
            rates.append(rate)
            errors += err
        return rates, errors, size
    finally:
        parent.send("stop")
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = [
        ("bare aiohttp, fixed 2.5 KB JSON (ceiling)", "bare", lambda i: "/x.json"),
        (
            "JSON GET one record (basecamp4 project)",
            "basecamp4",
            lambda i: f"/projects/{i['record']}.json",
        ),
        ("XML list page, 500 people (highrise)", "highrise", lambda i: "/people.xml"),
        (
            "XML list page, 25 companies (highrise search)",
            "highrise",
            lambda i: "/companies/search.xml?term=",
        ),
    ]
    print(f"sandbox throughput at concurrency {CONCURRENCY} ({args.rounds} x {args.seconds:g} s)")
    print(f"{'request':48} {'min':>8} {'median':>8} {'max':>8}  req/s   {'bytes':>8} errors")
    for label, product, path_of in rows:
        rates, errors, size = measure(product, path_of, args.seconds, args.rounds)
        print(
            f"{label:48} {min(rates):8.0f} {statistics.median(rates):8.0f} {max(rates):8.0f}"
            f"         {size:8d} {errors}"
        )


if __name__ == "__main__":
    main()
