"""codegen/tables.py: the per-product API table the sandbox serves from."""

from __future__ import annotations

import json
from pathlib import Path

import attrs

from codegen.loader import load
from codegen.tables import TABLE_FILE, _limit_classes, product_table, write_tables

ROOT = Path(__file__).resolve().parent.parent


def _product(name: str):  # type: ignore[no-untyped-def]
    return load(ROOT / "specs", name, ROOT / "tests" / "fixtures")


def test_table_holds_every_endpoint_and_model_with_resolved_paging_and_limits() -> None:
    product = _product("highrise")
    table = product_table(product)
    assert len(table["endpoints"]) == product.endpoint_count()
    assert set(table["models"]) == {m.name for m in product.models}
    by_key = {(e["resource"], e["name"]): e for e in table["endpoints"]}
    people = by_key[("people", "list")]
    assert (people["method"], people["path"]) == ("GET", "/people.xml")
    assert people["paging"] == {"style": "offset", "param": "n", "page_size": 500}
    assert by_key[("people", "search")]["limit_classes"] == ["default", "email_search"]
    assert by_key[("people", "get")]["limit_classes"] == ["default"]  # the product default
    person = {f["name"]: f for f in table["models"]["Person"]["fields"]}
    assert person["first_name"]["wire"] == "first-name"
    assert table["product"]["rate_limits"]["default"] == {"requests": 150, "per_seconds": 5.0}


def test_written_table_is_deterministic_json(tmp_path: Path) -> None:
    product = _product("basecamp4")
    write_tables(product, tmp_path)
    first = (tmp_path / TABLE_FILE).read_text("utf-8")
    write_tables(product, tmp_path)
    assert (tmp_path / TABLE_FILE).read_text("utf-8") == first
    assert json.loads(first)["product"]["name"] == "basecamp4"
    shipped = ROOT / "src" / "aiocamp" / "basecamp4" / TABLE_FILE
    assert shipped.read_text("utf-8") == first  # what codegen committed


def test_limit_classes_follow_the_method_when_the_product_says_so() -> None:
    product = attrs.evolve(
        _product("highrise"), default_limit_classes={"GET": ("reads",), "*": ("writes",)}
    )
    endpoints = {e.name: e for r in product.resources if r.name == "people" for e in r.endpoints}
    assert _limit_classes(endpoints["get"], product) == ["reads"]
    assert _limit_classes(endpoints["create"], product) == ["writes"]
    assert _limit_classes(endpoints["search"], product) == ["default", "email_search"]
