"""`aiocamp export` figures (issue 11, item 10), against the sandbox over loopback HTTP.

(a) Rate: the sandbox limits every class to 20 requests/s; an export of >= 600 requests
    with the same client limit. Reports achieved rate / limit (target >= 0.95), throttled
    replies (target 0) and the sandbox's worst sliding-window count.
(b) Memory: peak RSS of the export process for N and 10 x N records (target: the larger
    within 1.2x of the smaller). The sandbox runs in this process, the export in its own.
(c) Cache: an unchanged account exported twice with --cache-dir; share of 304s in the
    second export (target >= 0.9).

Run with `nox -s bench` or `python benchmarks/bench_export.py [--quick]`. Each export is
a real `python -m aiocamp export` process; figures come from its summary.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiocamp.sandbox import serve

ROOT = Path(__file__).resolve().parent.parent


async def export(sb: Any, out: Path, *extra: str) -> dict[str, Any]:
    """Run one export process against a running Highrise sandbox; its summary."""
    env = {
        **os.environ,
        "AIOCAMP_HIGHRISE_TOKEN": sb.token,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiocamp", "export", "highrise", "--base-url", sb.url,
        "--out", str(out), "--progress", "off", *extra,
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"export failed ({proc.returncode}): {err.decode()[-2000:]}")
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


async def bench_rate(tmp: Path, people: int) -> None:
    counts = {"Person": people, "Company": 30, "Deal": 30, "Deletion": 30}
    async with serve("highrise", rate_limit="20/1", counts=counts) as sb:
        summary = await export(sb, tmp / "rate", "--rate-limit", "20/1")
        stats = sb.stats()
    worst = stats["worst_window"]["default"]["worst"]
    print("(a) rate at a 20 requests/s sandbox limit")
    print(f"    requests            {summary['requests']}")
    print(f"    elapsed             {summary['elapsed_seconds']:.2f} s")
    print(f"    achieved rate       {summary['request_rate']:.2f} requests/s")
    print(f"    rate / limit        {summary['rate_ratio']:.3f}   (target >= 0.95)")
    print(f"    throttled replies   {summary['throttled']} client, {stats['throttled']} sandbox"
          "   (target 0)")  # fmt: skip
    print(f"    worst 1 s window    {worst} requests (limit 20)")


async def bench_memory(tmp: Path, people: int) -> None:
    """N: one full 500-record page of people (so both runs hold pages of the same size;
    a page is what an export holds in memory at a time), 10 x N: ten pages."""
    rows = []
    for factor in (1, 10):
        counts = {
            "Person": people * factor,
            "Company": people * factor // 10,
            "Deal": people * factor // 10,
            "Deletion": people * factor // 10,
        }
        async with serve("highrise", rate_limit="off", counts=counts, scale=0.1 * factor) as sb:
            summary = await export(
                sb, tmp / f"rss-{factor}", "--rate-limit", "100000/1", "--concurrency", "16"
            )
        rows.append(
            (factor, summary["records_total"], summary["requests"], summary["peak_rss_bytes"])
        )
    print("(b) peak RSS of the export process")
    for factor, records, requests, rss in rows:
        print(f"    {factor:>2} x N: {records:>7} records, {requests:>6} requests, "
              f"peak RSS {rss / 2**20:7.1f} MiB")  # fmt: skip
    ratio = rows[1][3] / rows[0][3]
    print(f"    10N / N             {ratio:.3f}   (target <= 1.2)")


async def bench_cache(tmp: Path, scale: float) -> None:
    cache = tmp / "cache"
    async with serve("highrise", rate_limit="off", scale=scale) as sb:
        first = await export(sb, tmp / "c1", "--rate-limit", "100000/1", "--cache-dir", str(cache))
        second = await export(sb, tmp / "c2", "--rate-limit", "100000/1", "--cache-dir", str(cache))
    share = second["not_modified"] / second["requests"]
    print("(c) unchanged second export with --cache-dir")
    print(f"    first export        {first['requests']} requests, {first['not_modified']} 304s")
    print(f"    second export       {second['requests']} requests, {second['not_modified']} 304s")
    print(f"    304 share           {share:.3f}   (target >= 0.9)")
    same = all(
        (tmp / "c1" / p.name).read_bytes() == p.read_bytes() for p in (tmp / "c2").glob("*.jsonl")
    )
    print(f"    identical JSONL     {same}")


async def main(quick: bool, only: str) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aiocamp-bench-export-") as name:
        tmp = Path(name)
        if "a" in only:
            await bench_rate(tmp, people=120 if quick else 260)
        if "b" in only:
            await bench_memory(tmp, people=100 if quick else 500)
        if "c" in only:
            await bench_cache(tmp, scale=0.05 if quick else 0.2)
    print(f"total {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (not the figures)")
    parser.add_argument("--only", default="abc", help="which figures: any of a, b, c")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.only))
