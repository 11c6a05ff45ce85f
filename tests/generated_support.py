"""Loading the specs' intermediate form and the generated modules, for generated-code tests."""

from __future__ import annotations

import importlib
import json
import re
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

import attrs

from aiocamp.core._codecs import CODECS, parse_datetime
from codegen.ir import Endpoint, Product
from codegen.loader import load

from .helpers import FIXTURES, ROOT

#: Every product with a spec folder: a new product is exercised by every generic test as soon
#: as its ``specs/<product>/_product.yaml`` exists.
PRODUCTS = tuple(sorted(f.parent.name for f in (ROOT / "specs").glob("*/_product.yaml")))


@cache
def spec(product: str) -> Product:
    return load(ROOT / "specs", product, FIXTURES)


def models_module(product: str) -> ModuleType:
    return importlib.import_module(f"aiocamp.{product}.models")


def endpoints(product: str) -> list[tuple[str, Endpoint]]:
    return [(r.name, e) for r in spec(product).resources for e in r.endpoints]


_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


def canon(value: Any) -> Any:
    """JSON data with ISO date-times compared as instants, not as strings."""
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, str) and _ISO.match(value):
        return parse_datetime(value)
    if isinstance(value, datetime):
        return value
    return value


_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d+\.\d+$")


def xml_canon(value: Any) -> Any:
    """Normalised XML data with untyped scalars read as what they spell ("true", "5", ISO)."""
    if isinstance(value, dict):
        return {k: xml_canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [xml_canon(v) for v in value]
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)  # Harvest's untyped <hours>0.00</hours>
        if _ISO.match(value):
            return parse_datetime(value)
    return value


def unknown_fields(value: Any, path: str = "") -> list[str]:
    """Paths of every ``extra`` entry in a decoded model tree (fields the spec lacks)."""
    found: list[str] = []
    if attrs.has(type(value)):
        found += [f"{path}{type(value).__name__}.{k}" for k in value.extra]
        for f in attrs.fields(type(value)):
            if f.name not in ("extra", "_absent"):
                found += unknown_fields(getattr(value, f.name), f"{path}{f.name}.")
    elif isinstance(value, list):
        for item in value:
            found += unknown_fields(item, path)
    return found


def envelope_free(product: str, data: Any) -> Any:
    """A decoded reply without Backpack's ``<response success='true'>`` envelope."""
    if spec(product).errors == "backpack_envelope":
        from aiocamp.core._session import unwrap_envelope

        return unwrap_envelope(data)
    return data


def without_request_token(product: str, e: Endpoint, data: Any) -> Any:
    """A decoded request body as the endpoint's ``xml_root`` names it: body-token products
    send ``<request><token>..</token>RECORD</request>``, so the token is dropped and a
    record rooted elsewhere is taken out of the ``<request>``."""
    if "body_token" not in spec(product).auth or e.url_token or e.body is None:
        return data
    if not isinstance(data, dict) or list(data) != ["request"]:
        return data
    inner = {k: v for k, v in (data["request"] or {}).items() if k != "token"}
    if e.body.xml_root == "request":
        return {"request": inner or None}
    return inner


def formats(product: str) -> tuple[str, ...]:
    """The wire formats the product's client offers (Harvest: JSON and XML)."""
    return spec(product).formats or (spec(product).format,)


def format_arg(product: str, fmt: str) -> str | None:
    """The client's ``format=`` argument for ``fmt`` (None for one-format products)."""
    return fmt if len(formats(product)) > 1 else None


def mirror_json(value: Any, dashes: bool) -> Any:
    """XML-shaped data as the JSON of a product whose JSON mirrors its XML: the same
    structure, underscores where the XML element names have dashes, values as JSON has them."""
    if isinstance(value, dict):
        return {
            (k.replace("-", "_") if dashes else k): mirror_json(v, dashes) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mirror_json(v, dashes) for v in value]
    return json.loads(CODECS["json"].encode(value)) if value is not None else None
