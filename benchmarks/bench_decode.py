"""Decoding pages into models vs the raw parsers (records per second).

* Highrise: a 500-person page (the documented page size) built from the docs' person
  example, decoded into ``Person`` models vs plain ``xmltodict.parse`` of the same bytes.
* Basecamp 4: 100 to-dos built from the docs' to-do example, decoded into ``Todo``
  models vs plain ``json.loads``.

Run with `nox -s bench` (or `python benchmarks/bench_decode.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import xmltodict

from aiocamp.basecamp4.models import Todo
from aiocamp.core.codecs import CODECS
from aiocamp.core.runtime import json_items, xml_items
from aiocamp.highrise.models import Person

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


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


def rate(fn: Callable[[], int], seconds: float = 2.0) -> float:
    """Records per second: best of several timed rounds."""
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        count = fn()
        best = max(best, count / (time.perf_counter() - started))
    return best


def main() -> None:
    xml = highrise_page()
    xml_codec = CODECS["xml"]

    def raw_xml() -> int:
        return len(xmltodict.parse(xml)["people"]["person"])

    def xml_models() -> int:
        return len([Person.from_wire(r) for r in xml_items(xml_codec.decode(xml))])

    def xml_codec_only() -> int:  # the one-pass decoder, typed values included, no models
        return len(xml_items(xml_codec.decode(xml)))

    js = basecamp_page()
    json_codec = CODECS["json"]

    def raw_json() -> int:
        return len(json.loads(js))

    def json_models() -> int:
        return len([Todo.from_wire(r) for r in json_items(json_codec.decode(js))])

    assert raw_xml() == xml_models() == xml_codec_only() == 500
    assert raw_json() == json_models() == 100
    print(f"{'payload':<32} {'raw records/s':>14} {'models records/s':>17} {'ratio':>6}")
    for name, raw, models in (
        ("Highrise 500 people (XML)", raw_xml, xml_models),
        ("Highrise 500 people, codec only", raw_xml, xml_codec_only),
        ("Basecamp 4 100 to-dos (JSON)", raw_json, json_models),
    ):
        r, m = rate(raw), rate(models)
        print(f"{name:<32} {r:>14.0f} {m:>17.0f} {m / r:>6.2f}")


if __name__ == "__main__":
    main()
