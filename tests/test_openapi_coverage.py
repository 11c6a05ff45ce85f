"""Basecamp 4 against Basecamp's own OpenAPI description (basecamp4-openapi/openapi.json).

Every operation, request parameter and top-level response field of the description is in
our specs, or in ``OPENAPI_EXCLUSIONS`` (tests/openapi_exclusions.py) with a reason. The
docs rank first where both cover a fact (basecamp4-openapi/README.md); this test only
checks that nothing the newer description knows is silently missing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .generated_support import endpoints, spec
from .helpers import DOCS
from .openapi_exclusions import OPENAPI_EXCLUSIONS

OPENAPI = DOCS / "basecamp4-openapi" / "openapi.json"
PLACEHOLDER = re.compile(r"\{[^}]+\}")
# Paths the docs write without the bucket prefix that the description keeps (same resource).
BUCKETLESS = re.compile(r"^/buckets/\{\}(?=/(card_tables/columns|recordings/\{\}/position))")


def normal(path: str) -> str:
    path = path.replace("/{accountId}", "", 1)
    path = PLACEHOLDER.sub("{}", path)
    path = re.sub(r"\.json$", "", path)
    return BUCKETLESS.sub("", path)


def load() -> dict[str, Any]:
    assert OPENAPI.is_file(), f"the OpenAPI description is missing: {OPENAPI}"
    return json.loads(OPENAPI.read_text(encoding="utf-8"))


def operations(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                ops.append((op["operationId"], method.upper(), normal(path), op))
    return ops


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf"):
        alts = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if len(alts) == 1:
            return resolve(doc, alts[0])
    return schema


def ours() -> dict[tuple[str, str], Any]:
    return {(e.method, normal(e.path)): e for _, e in endpoints("basecamp4")}


def gaps() -> list[str]:
    doc = load()
    models = {m.name: m for m in spec("basecamp4").models}
    mine = ours()
    found: list[str] = []
    for op_id, method, path, op in operations(doc):
        endpoint = mine.get((method, path))
        if endpoint is None:
            found.append(f"{op_id}")
            continue
        wires = {p.wire for p in endpoint.query}
        for param in op.get("parameters", []):
            param = resolve(doc, param)
            if param["in"] == "query" and param["name"] != "page" and param["name"] not in wires:
                found.append(f"{op_id} query {param['name']}")
        body = op.get("requestBody")
        if body is not None:
            schema = resolve(doc, next(iter(body["content"].values()))["schema"])
            sent: set[str] = set()
            if endpoint.body is not None:
                sent = {p.wire for p in endpoint.body.params}
                if endpoint.body.model in models:
                    sent |= {f.wire for f in models[endpoint.body.model].fields}
                if endpoint.body.kind in ("raw", "multipart"):
                    sent = set(schema.get("properties", {}))
            for name in schema.get("properties", {}):
                if name not in sent:
                    found.append(f"{op_id} body {name}")
        result = endpoint.result
        while result is not None and result.item is not None:
            result = result.item
        ok = next((r for c, r in op["responses"].items() if c.startswith("2")), {})
        content = ok.get("content")
        if content and result is not None and result.kind == "model":
            schema = resolve(doc, next(iter(content.values()))["schema"])
            if schema.get("type") == "array":
                schema = resolve(doc, schema["items"])
            fields = {f.wire for f in models[result.name].fields}
            for name in schema.get("properties", {}):
                if name not in fields:
                    found.append(f"{op_id} response {name}")
    return found


def test_every_openapi_operation_parameter_and_field_is_covered() -> None:
    missing = [
        g
        for g in gaps()
        if g.split(" ", 1)[0] not in OPENAPI_EXCLUSIONS and g not in OPENAPI_EXCLUSIONS
    ]
    assert missing == []


def test_exclusions_are_still_needed_and_justified() -> None:
    found = set(gaps())
    stale = [
        k
        for k in OPENAPI_EXCLUSIONS
        if k not in found and not any(g.startswith(k + " ") for g in found)
    ]
    assert stale == []
    assert all(len(reason) > 20 for reason in OPENAPI_EXCLUSIONS.values())


@pytest.mark.parametrize("op_id", ["CreateWormhole", "ListFolders", "GetEverythingOpenTodos"])
def test_new_operations_cite_their_operation_id(op_id: str) -> None:
    cited = [e for _, e in endpoints("basecamp4") if e.doc_url.endswith("#" + op_id)]
    assert len(cited) == 1
