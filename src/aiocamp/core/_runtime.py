"""Helpers the generated resource modules and the core verbs call (never product-specific).

Kept small and explicit: path and query building that rejects bad arguments before any
I/O, the ``UNSET`` sentinel, and the conversions of scalar results. Models decode and
encode through the codecs ``aiocamp.core._models`` builds for them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar
from urllib.parse import quote

from ._codecs import parse_date, parse_datetime
from ._errors import ConfigError, DecodeError

__all__ = [
    "UNSET",
    "UnsetType",
    "add_query",
    "json_items",
    "path_param",
    "to_bool",
    "to_date",
    "to_datetime",
    "to_decimal",
    "to_float",
    "to_int",
    "to_str",
    "xml_items",
    "xml_root",
    "xml_value",
]

T = TypeVar("T")


class UnsetType(enum.Enum):
    """Type of :data:`UNSET`: "not given", as opposed to ``None`` ("send null")."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = UnsetType.UNSET


def path_param(value: object, name: str) -> str:
    """A path segment: rejects empty values before any I/O, escapes the rest."""
    if value is None or value is UNSET or isinstance(value, bool):
        raise ConfigError(f"path parameter {name!r} is required, got {value!r}")
    text = str(value)
    if not text.strip():
        raise ConfigError(f"path parameter {name!r} must not be empty")
    return quote(text, safe="")


def _query_text(value: object, fmt: str | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime(fmt) if fmt else value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.strftime(fmt) if fmt else value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def add_query(
    query: list[tuple[str, str]], name: str, value: object, fmt: str | None = None
) -> None:
    """Append a query parameter unless it is UNSET / None; dicts become ``name[key]``."""
    if value is UNSET or value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if item is not None:
                query.append((f"{name}[{key}]", _query_text(item, fmt)))
        return
    if isinstance(value, list | tuple):
        for item in value:
            query.append((f"{name}[]", _query_text(item, fmt)))
        return
    query.append((name, _query_text(value, fmt)))


# -- decoding ------------------------------------------------------------------------------


def _bad(field: str, expected: str, value: object) -> DecodeError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return DecodeError(f"field {field!r}: expected {expected}, got {shown}")


def to_int(value: object, field: str) -> int:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    elif isinstance(value, float) and value.is_integer():
        return int(value)
    raise _bad(field, "an integer", value)


def to_float(value: object, field: str) -> float:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _bad(field, "a number", value)


def to_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            pass
    raise _bad(field, "a decimal number", value)


def to_bool(value: object, field: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _bad(field, "a boolean", value)


def to_str(value: object, field: str) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise _bad(field, "a string", value)


def to_datetime(value: object, field: str) -> datetime:
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            pass
    raise _bad(field, "an ISO 8601 date-time", value)


def to_date(value: object, field: str) -> date:
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date()
    raise _bad(field, "an ISO 8601 date", value)


def xml_root(data: object, root: str) -> Any:
    """The record under the expected XML root element."""
    if not isinstance(data, dict) or root not in data:
        found = list(data)[:1] if isinstance(data, dict) else type(data).__name__
        raise DecodeError(f"expected a <{root}> document, got {found}")
    value = data[root]
    if value is None:
        return {}
    if not isinstance(value, dict):  # e.g. <person>hello</person>: text, not a record
        raise DecodeError(f"expected elements inside <{root}>, got {type(value).__name__}")
    return value


def xml_value(data: object) -> Any:
    """The value of a one-element XML document (``<count type="integer">3</count>``)."""
    if not isinstance(data, dict) or len(data) != 1:
        raise DecodeError(f"expected a single XML element, got {type(data).__name__}")
    return next(iter(data.values()))


def xml_items(data: object, root: str | None = None) -> list[Any]:
    """Records of an XML collection document, typed array or untyped container."""
    if data is None:
        return []
    if not isinstance(data, dict) or len(data) != 1:
        raise DecodeError(f"expected one XML collection root, got {type(data).__name__}")
    ((name, value),) = data.items()
    if root is not None and name != root:
        raise DecodeError(f"expected a <{root}> collection, got <{name}>")
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        items: list[Any] = []
        for key, child in value.items():
            if key[0] in "@#":
                continue
            items.extend(child if isinstance(child, list) else [child])
        return items
    raise DecodeError(f"expected records inside <{name}>, got text")


def json_items(data: object, key: str | None = None) -> list[Any]:
    """Records of a JSON collection: the body itself, or the list under ``key``."""
    if key is not None:
        if not isinstance(data, dict):
            raise DecodeError(f"expected an object with {key!r}, got {type(data).__name__}")
        data = data.get(key)
        if data is None:
            return []
    if data is None:
        return []
    if not isinstance(data, list):
        raise DecodeError(f"expected a JSON list, got {type(data).__name__}")
    return data


def expect_bytes(value: object, name: str) -> None:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ConfigError(f"{name} must be bytes, got {type(value).__name__}")


def xml_container(items: list[Any], item: str) -> dict[str, Any]:
    """The untyped-container shape xmltodict gives for ``items`` (inverse of the decode)."""
    if not items:
        return {}
    return {item: items[0] if len(items) == 1 else items}
