"""Emit ``src/aiocamp/<product>/_api.json``: the product's API as plain data.

The sandbox (``aiocamp.sandbox``) serves every product from this table, so it works from an
installed wheel without the specs or codegen. The table holds facts only (paths, fields,
types, wire names, paging, limits), never descriptions, and is written deterministically
(sorted keys) so ``python -m codegen --verify`` can compare it byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .ir import Body, Endpoint, Field, Model, PagingSpec, Param, Product, TypeRef

TABLE_FILE = "_api.json"
TABLE_VERSION = 1


def type_str(t: TypeRef) -> str:
    """The spec spelling of a type: ``int``, ``Person``, ``list[Tag]``, ``dict[str, str]``."""
    if t.kind in ("scalar", "model"):
        return t.name
    if t.kind == "dict":
        return "dict[str, str]"
    assert t.item is not None
    return f"list[{type_str(t.item)}]"


def _field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": type_str(f.type), "wire": f.wire}
    for key in ("nullable", "read_only", "secret", "required"):
        if getattr(f, key, False):
            out[key] = True
    if getattr(f, "item", None):
        out["item"] = f.item
    if not getattr(f, "xml_array", True):
        out["xml_array"] = False
    if getattr(f, "xml_repeat", False):
        out["xml_repeat"] = True
    enum = getattr(f, "enum", ())
    if enum:
        out["enum"] = list(enum)
    return out


def _param(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": type_str(p.type), "wire": p.wire}
    if p.required:
        out["required"] = True
    if p.enum:
        out["enum"] = list(p.enum)
    if getattr(p, "format", None):
        out["format"] = p.format
    item = getattr(p, "item", None)  # XML list body parameters (newer specs)
    if item:
        out["item"] = item
    if not getattr(p, "xml_array", True):
        out["xml_array"] = False
    if getattr(p, "xml_repeat", False):
        out["xml_repeat"] = True
    return out


def _model(m: Model) -> dict[str, Any]:
    return {
        "xml_tag": m.xml_tag,
        "fields": [_field(f) for f in m.fields],
        "private": bool(getattr(m, "private", False)),
    }


def _paging(p: PagingSpec | None) -> dict[str, Any] | None:
    if p is None:
        return None
    out: dict[str, Any] = {"style": p.style, "param": p.param, "page_size": p.page_size}
    if getattr(p, "first_page", 1) != 1:  # Backpack journal: pages numbered from 0
        out["first_page"] = p.first_page
    if getattr(p, "size_param", ""):
        out["size_param"] = p.size_param
    return out


def _body(b: Body | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "kind": b.kind,
        "model": b.model,
        "params": [_param(p) for p in b.params],
        "xml_root": b.xml_root,
        "xml_scalar": b.xml_scalar,
        "content_type": b.content_type,
        "field": getattr(b, "field_name", ""),
        "xml_list": bool(getattr(b, "xml_list", False)),
    }


def _limit_classes(e: Endpoint, product: Product) -> list[str]:
    """The classes an endpoint draws from: its own, else its method's, else the default."""
    if e.limit_classes:
        return list(e.limit_classes)
    defaults: Any = product.default_limit_classes
    by_method = dict(getattr(product, "limit_classes_by_method", None) or {})
    if isinstance(defaults, dict):  # {GET: [reads], "*": [writes]}
        by_method = {**defaults, **by_method}
        defaults = defaults.get("*", ())
    return list(by_method.get(e.method) or by_method.get("*") or defaults)


def _endpoint(resource: str, e: Endpoint, product: Product) -> dict[str, Any]:
    return {
        "resource": resource,
        "name": e.name,
        "method": e.method,
        "path": e.path,
        "path_params": [_param(p) for p in e.path_params],
        "query": [_param(p) for p in e.query],
        "body": _body(e.body),
        "result": type_str(e.result) if e.result is not None else None,
        "result_optional": e.result_optional,
        "result_key": e.result_key,
        "paging": _paging(e.paging),
        "limit_classes": _limit_classes(e, product),
        "status": e.status,
        "envelope": getattr(e, "envelope", None),
        "follow_location": bool(getattr(e, "follow_location", False)),
        **({"url_token": True} if getattr(e, "url_token", False) else {}),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def product_table(product: Product) -> dict[str, Any]:
    """The whole table of one product, as JSON-ready data."""
    return {
        "version": TABLE_VERSION,
        "product": {
            "name": product.name,
            "client": product.client,
            "title": product.title,
            "format": product.format,
            "wire_case": product.wire_case,
            "base_url": product.base_url,
            "base_url_params": [_param(p) for p in product.base_url_params],
            "auth": list(product.auth),
            "rate_limits": {
                r.name: {"requests": r.requests, "per_seconds": r.per_seconds}
                for r in product.rate_limits
            },
            "default_limit_classes": _jsonable(product.default_limit_classes),
            "paging": _paging(product.paging),
            "errors": product.errors,
        },
        "models": {m.name: _model(m) for m in product.models},
        "endpoints": [
            _endpoint(r.name, e, product) for r in product.resources for e in r.endpoints
        ],
    }


def write_tables(product: Product, target: Path) -> None:
    """Write ``_api.json`` into the freshly rendered package folder ``target``."""
    text = json.dumps(product_table(product), indent=1, sort_keys=True, ensure_ascii=False)
    (target / TABLE_FILE).write_text(text + "\n", encoding="utf-8")
