"""Decoding into models vs the raw parsers, and import time (issue 8, sections 2, 3 and 4).

Side by side in one run, each row timed over several rounds (min / median / max):

* Basecamp 4, a list page: 100 to-dos built from the docs' to-do example (5 KB each),
  bytes -> ``Todo`` models (aiocamp's JSON codec, orjson, then the models' run-time built
  decoders) vs ``json.loads`` and ``orjson.loads`` of the same bytes. The models decode
  nested records on first read, so a second row also reads every nested model (creator,
  bucket, parent, assignees, ...) to show what a caller who touches everything pays.
* Basecamp 4, a single get: one 5 KB to-do, same comparison.
* Highrise: a 500-person page (the documented page size) built from the docs' person
  example, into ``Person`` models vs plain ``xmltodict.parse``.
* Import time of ``aiocamp.basecamp4`` vs ``aiohttp`` alone, each in fresh interpreters
  with bytecode cached (an installed package), alternating.

Ratios are records per second of the aiocamp path over records per second of the raw
parser, from the medians; above 1.0 the whole path into models beats the raw parse alone.

Run with `nox -s bench` (or `python benchmarks/bench_decode.py`; `--quick` for the short
CI mode that only checks everything runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import xmltodict

from aiocamp.basecamp4.models import Todo
from aiocamp.core._codecs import CODECS
from aiocamp.core._runtime import json_items, xml_items
from aiocamp.highrise.models import Person

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def highrise_page(n: int = 500) -> bytes:
    person = (FIXTURES / "highrise/people/get.response.xml").read_text()
    person = person.split("?>", 1)[-1].strip()
    people = [
        person.replace('<id type="integer">1</id>', f'<id type="integer">{i}</id>', 1)
        for i in range(n)
    ]
    return ('<people type="array">' + "".join(people) + "</people>").encode()


def basecamp_page(n: int = 100) -> bytes:
    todo = json.loads((FIXTURES / "basecamp4/todos/get.response.json").read_bytes())
    todos = [{**todo, "id": todo["id"] + i} for i in range(n)]
    return json.dumps(todos).encode()


def basecamp_get() -> bytes:
    return json.dumps(json.loads(basecamp_page(1))[0]).encode()


def timings(fn: Callable[[], int], rounds: int, budget: float) -> list[float]:
    """Records per second of ``fn`` in each round; a round repeats it for ``budget`` s."""
    rates = []
    for _ in range(rounds):
        count, started = 0, time.perf_counter()
        while True:
            count += fn()
            elapsed = time.perf_counter() - started
            if elapsed >= budget:
                break
        rates.append(count / elapsed)
    return rates


def read_everything(todo: Todo) -> None:
    """Touch every nested model, as a caller walking the whole record would."""
    for person in [todo.creator, *(todo.assignees or []), *(todo.completion_subscribers or [])]:
        if person is not None:
            _ = person.company
    _ = (todo.bucket, todo.parent, todo.completion, todo.extra)


def decode_rows(rounds: int, budget: float) -> None:
    json_codec, xml_codec = CODECS["json"], CODECS["xml"]
    page, one, people = basecamp_page(), basecamp_get(), highrise_page()

    def models_page() -> int:
        return len([Todo.from_wire(r) for r in json_items(json_codec.decode(page))])

    def models_page_read() -> int:
        todos = [Todo.from_wire(r) for r in json_items(json_codec.decode(page))]
        for todo in todos:
            read_everything(todo)
        return len(todos)

    def models_get() -> int:
        Todo.from_wire(json_codec.decode(one))
        return 1

    def xml_models() -> int:
        return len([Person.from_wire(r) for r in xml_items(xml_codec.decode(people))])

    def xml_codec_only() -> int:  # the one-pass decoder, typed values included, no models
        return len(xml_items(xml_codec.decode(people)))

    rows: list[tuple[str, list[tuple[str, Callable[[], int]]]]] = [
        (
            f"Basecamp 4 to-do page (100 x 5 KB, {len(page) // 1024} KB)",
            [
                ("json.loads", lambda: len(json.loads(page))),
                ("orjson.loads", lambda: len(orjson.loads(page))),
                ("aiocamp models", models_page),
                ("aiocamp models, all read", models_page_read),
            ],
        ),
        (
            f"Basecamp 4 to-do get ({len(one) / 1024:.1f} KB)",
            [
                ("json.loads", lambda: len(json.loads(one)) and 1),
                ("orjson.loads", lambda: len(orjson.loads(one)) and 1),
                ("aiocamp models", models_get),
            ],
        ),
        (
            "Highrise people page (500 x 1.9 KB, XML)",
            [
                ("xmltodict.parse", lambda: len(xmltodict.parse(people)["people"]["person"])),
                ("aiocamp codec, no models", xml_codec_only),
                ("aiocamp models", xml_models),
            ],
        ),
    ]
    print(f"decode: records/s over {rounds} rounds of {budget:.2f} s; ratio = median / first row")
    head = f"  {'path':<26} {'min':>10} {'median':>10} {'max':>10} {'ratio':>7}"
    for title, variants in rows:
        print(title)
        print(head)
        # Interleave the variants round by round so drift in machine load hits all alike.
        per_round: list[list[float]] = [[] for _ in variants]
        for _ in range(rounds):
            for i, (_name, fn) in enumerate(variants):
                per_round[i] += timings(fn, 1, budget)
        results = [(name, rates) for (name, _fn), rates in zip(variants, per_round, strict=True)]
        base = statistics.median(results[0][1])
        for name, rates in results:
            median = statistics.median(rates)
            print(
                f"  {name:<26} {min(rates):>10.0f} {median:>10.0f} {max(rates):>10.0f}"
                f" {median / base:>7.2f}"
            )
        if len(results) > 2 and results[1][0] == "orjson.loads":
            o = statistics.median(results[1][1])
            m = statistics.median(results[2][1])
            print(f"  aiocamp models / orjson.loads: {m / o:.2f}")


_IMPORT = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"


def import_seconds(module: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT.format(module)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def import_rows(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        modules = ("aiohttp", "aiocamp.basecamp4", "aiocamp.highrise")
        for module in modules:  # warm the bytecode cache
            import_seconds(module, env)
        times: dict[str, list[float]] = {m: [] for m in modules}
        for _ in range(rounds):
            for module in modules:
                times[module].append(import_seconds(module, env))
    base, base_min = statistics.median(times["aiohttp"]), min(times["aiohttp"])
    print(f"import: ms in fresh interpreters, bytecode cached, {rounds} rounds;")
    print("  ratios to aiohttp of the medians and of the minimums (the least disturbed runs)")
    head = f"  {'module':<26} {'min':>10} {'median':>10} {'max':>10} {'ratio':>7} {'min ratio':>9}"
    print(head)
    for module, values in times.items():
        ms = [v * 1000 for v in values]
        median = statistics.median(values)
        print(
            f"  {module:<26} {min(ms):>10.1f} {statistics.median(ms):>10.1f} {max(ms):>10.1f}"
            f" {median / base:>7.2f} {min(values) / base_min:>9.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short run: check it all works")
    args = parser.parse_args(argv)
    rounds, budget, import_rounds = (2, 0.01, 1) if args.quick else (7, 0.5, 15)
    assert len([Todo.from_wire(r) for r in json_items(orjson.loads(basecamp_page()))]) == 100
    decode_rows(rounds, budget)
    import_rows(import_rounds)


if __name__ == "__main__":
    main()
