"""Wire formats: XML (through xmltodict, entities disabled) and JSON.

XML typed attributes are normalised into Python values on the way in and written back on
the way out:

* ``type="integer|boolean|datetime|date|decimal|float"`` -> ``int``, ``bool``, ``datetime``,
  ``date``, ``Decimal``, ``float``; an empty typed element or ``nil="true"`` -> ``None``;
* ``type="array"`` -> :class:`XmlArray`, a list that remembers its items' element name;
* an element repeated inside an untyped container -> a plain list (xmltodict's shape);
* other attributes stay as ``"@name"`` keys, text next to attributes as ``"#text"``.

Decoding errors of either format become :class:`~aiocamp.core.errors.DecodeError` with the
status, URL and first bytes of the body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict

from .errors import DecodeError, EncodeError

try:  # orjson is optional: faster, same results
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _orjson = None  # type: ignore[assignment]

__all__ = [
    "CODECS",
    "Codec",
    "JsonCodec",
    "XmlArray",
    "XmlCodec",
    "format_datetime",
    "parse_date",
    "parse_datetime",
]


class XmlArray(list[Any]):
    """A list decoded from (or to be encoded as) ``<x type="array"><item>...``."""

    __slots__ = ("item_tag",)

    def __init__(self, items: Any = (), item_tag: str | None = None) -> None:
        super().__init__(items)
        self.item_tag = item_tag


def parse_datetime(text: str) -> datetime:
    """ISO 8601 (``Z`` or offset; naive values are UTC), or RFC 822 as Harvest's daily
    payloads send it (``Thu, 17 Nov 2011 10:19:57 +0000``)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = _rfc822_datetime(text) or datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %Z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def parse_date(text: str) -> date:
    """ISO 8601, or RFC 822 without the time (``Wed, 18 Oct 2006``, Harvest)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        found = rfc822_date(text)
        if found is None:
            raise
        return found


def _rfc822_datetime(text: str) -> datetime | None:
    if "," not in text:
        return None
    try:
        return parsedate_to_datetime(text.strip())
    except (ValueError, TypeError, IndexError):
        return None


def rfc822_date(text: str) -> date | None:
    """``Wed, 18 Oct 2006`` as a date (None when the text is not of that form)."""
    if "," not in text:
        return None
    try:
        return datetime.strptime(text.strip(), "%a, %d %b %Y").date()
    except ValueError:
        return None


def format_datetime(value: datetime) -> str:
    """UTC, ``Z`` suffix, fractional seconds only when present."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


_SCALARS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "boolean": _parse_bool,
    "datetime": parse_datetime,
    "date": parse_date,
    "decimal": Decimal,
    "float": float,
}


def _normalise(value: Any) -> Any:
    cls = value.__class__
    if cls is str or value is None:
        return value
    if cls is dict:
        kind = value.get("@type")
        if kind is not None:
            convert = _SCALARS.get(kind)
            if convert is not None:
                text = value.get("#text")
                if text is None or value.get("@nil") == "true":
                    return None
                return convert(text)
            if kind == "array":
                items = XmlArray()
                for key, child in value.items():
                    if key[0] == "@" or key == "#text":
                        continue
                    items.item_tag = key
                    if child.__class__ is list:
                        items.extend([_normalise(c) for c in child])
                    else:
                        items.append(_normalise(child))
                return items
        if value.get("@nil") == "true":
            return None
        return {k: _normalise(v) for k, v in value.items()}
    if cls is list:
        return [_normalise(v) for v in value]
    return value


def _xml_value(value: Any) -> Any:
    """A normalised value back to xmltodict's input shape."""
    if value is None:
        return {"@nil": "true"}
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return {"@type": "boolean", "#text": "true" if value else "false"}
    if isinstance(value, int):
        return {"@type": "integer", "#text": str(value)}
    if isinstance(value, Decimal):
        return {"@type": "decimal", "#text": str(value)}
    if isinstance(value, float):
        return {"@type": "float", "#text": repr(value)}
    if isinstance(value, datetime):
        return {"@type": "datetime", "#text": format_datetime(value)}
    if isinstance(value, date):
        return {"@type": "date", "#text": value.isoformat()}
    if isinstance(value, XmlArray):
        out: dict[str, Any] = {"@type": "array"}
        if value:
            if not value.item_tag:
                raise EncodeError("an XML array needs the element name of its items")
            out[value.item_tag] = [_xml_value(v) for v in value]
        return out
    if isinstance(value, dict):
        return {
            k: (
                v
                if k[0] in "@#"
                else _xml_repeat(v)
                if isinstance(v, list) and not isinstance(v, XmlArray)
                else _xml_value(v)
            )
            for k, v in value.items()
        }
    raise EncodeError(f"cannot write a {type(value).__name__} as XML")


def _xml_repeat(values: list[Any]) -> list[Any]:
    return [_xml_value(v) for v in values]


class Codec:
    """Turns wire bytes into plain Python data and back."""

    name = ""
    content_type = ""
    accept = ""

    def decode(self, body: bytes, *, status: int | None = None, url: str = "") -> Any:
        raise NotImplementedError

    def encode(self, data: Any) -> bytes:
        raise NotImplementedError


class XmlCodec(Codec):
    name = "xml"
    content_type = "application/xml; charset=utf-8"
    accept = "application/xml"

    def decode(self, body: bytes, *, status: int | None = None, url: str = "") -> Any:
        if not body.strip():
            return None
        try:
            parsed = xmltodict.parse(body, disable_entities=True)
        except ExpatError as exc:
            raise DecodeError(f"malformed XML: {exc}", status=status, url=url, body=body) from None
        except ValueError as exc:  # xmltodict refuses entity declarations this way
            raise DecodeError(f"rejected XML: {exc}", status=status, url=url, body=body) from None
        try:
            return _normalise(parsed)
        except (ValueError, InvalidOperation, TypeError) as exc:
            raise DecodeError(
                f"bad typed XML value: {exc}", status=status, url=url, body=body
            ) from None

    def encode(self, data: Any) -> bytes:
        if not isinstance(data, dict) or len(data) != 1:
            raise EncodeError("an XML body needs exactly one root element")
        try:
            text: str = xmltodict.unparse(_xml_value(data), full_document=True)
        except (ValueError, TypeError) as exc:
            raise EncodeError(f"cannot write XML: {exc}") from None
        return text.encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact; the JSON APIs send decimals as strings too
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


class JsonCodec(Codec):
    name = "json"
    content_type = "application/json; charset=utf-8"
    accept = "application/json"

    def decode(self, body: bytes, *, status: int | None = None, url: str = "") -> Any:
        if not body.strip():
            return None
        try:
            if _orjson is not None:
                return _orjson.loads(body)
            return json.loads(body)
        except ValueError as exc:
            raise DecodeError(f"malformed JSON: {exc}", status=status, url=url, body=body) from None

    def encode(self, data: Any) -> bytes:
        try:
            if _orjson is not None:
                return _orjson.dumps(
                    data, default=_json_default, option=_orjson.OPT_PASSTHROUGH_DATETIME
                )
            return json.dumps(data, default=_json_default, separators=(",", ":")).encode()
        except TypeError as exc:
            raise EncodeError(str(exc)) from None


CODECS: dict[str, Codec] = {"xml": XmlCodec(), "json": JsonCodec()}
