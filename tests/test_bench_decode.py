"""The decode benchmark runs (its short mode), so CI notices when it breaks; the figures
themselves come from `nox -s bench`."""

from __future__ import annotations

import sys

from .helpers import ROOT


def test_the_decode_benchmark_runs_in_its_short_mode(capsys) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_decode
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    bench_decode.main(["--quick"])
    out = capsys.readouterr().out
    for row in ("json.loads", "orjson.loads", "aiocamp models", "xmltodict.parse"):
        assert row in out
    for module in ("aiohttp", "aiocamp.basecamp4", "aiocamp.highrise"):
        assert f"  {module} " in out
