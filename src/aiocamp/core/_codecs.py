"""Wire formats: XML (expat, entities refused) and JSON (msgspec in, orjson out).

XML typed attributes are normalised into Python values on the way in and written back on
the way out:

* ``type="integer|boolean|datetime|date|decimal|float"`` -> ``int``, ``bool``, ``datetime``,
  ``date``, ``Decimal``, ``float``; an empty typed element or ``nil="true"`` -> ``None``;
* ``type="array"`` -> :class:`XmlArray`, a list that remembers its items' element name;
* an element repeated inside an untyped container -> a plain list (xmltodict's shape);
* other attributes stay as ``"@name"`` keys, text next to attributes as ``"#text"``.

XML is decoded in one pass: expat callbacks build xmltodict's shape and normalise each
element as it closes. Measured on a Highrise page of 500 people (process CPU time, median
of 24 rounds): ``xmltodict.parse`` alone 1.00, the former parse-then-walk 0.88, xmltodict
with a normalising ``postprocessor`` 0.87 (0.80 with models), this decoder 2.00 (1.74 with
models); hence expat directly rather than xmltodict, which still writes XML. Entity
declarations are refused (no billion laughs) and elements nested deeper than
``MAX_NESTING_DEPTH`` are refused while parsing.

JSON is decoded by msgspec: as fast as orjson here and exact for integers beyond 64 bits,
which orjson turns into floats (a JSON id must round-trip exactly). JSON nesting is bounded
by the parser's recursion guard (about 1000 levels, fewer when called from deep in a
stack). Encoding uses orjson, or the standard library for what orjson refuses (integers
beyond 64 bits).

Whatever the bytes, decoding raises only :class:`~aiocamp.core._errors.DecodeError` (with
the status, URL and first bytes of the body) or returns plain data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from xml.parsers import expat
from xml.parsers.expat import ExpatError

import msgspec
import orjson
import xmltodict

from ._constants import MAX_NESTING_DEPTH
from ._errors import DecodeError, EncodeError

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
    """A list decoded from (or to be encoded as) ``<x type="array"><item>...``.

    ``item_tag`` is the items' element name; ``attributes`` holds the array element's other
    attributes (``{"@count": "50"}``), so that they are neither lost nor dropped on encode.
    """

    __slots__ = ("attributes", "item_tag")

    def __init__(
        self, items: Any = (), item_tag: str | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        super().__init__(items)
        self.item_tag = item_tag
        self.attributes = attributes if attributes is not None else {}


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
    """ISO 8601 with the value's own offset (``Z`` for UTC; naive values are UTC) and its
    fractional seconds when present (milliseconds, or microseconds when they are needed),
    so writing a decoded date-time back moves it neither in time nor into another zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    micro = value.microsecond
    spec = "seconds" if not micro else "milliseconds" if not micro % 1000 else "microseconds"
    text = value.isoformat(timespec=spec)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


#: What XML 1.0 cannot carry at all: C0 controls other than tab, LF and CR, lone
#: surrogates, U+FFFE and U+FFFF.
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


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
    # Rails writes type="string" on some text elements (Backpack bookmarks).
    "string": str,
}


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
        out: dict[str, Any] = {**value.attributes, "@type": "array"}
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


class _EntitiesRefused(Exception):
    """An entity declaration: refused outright (no entity expansion, no billion laughs)."""


class _TooDeep(Exception):
    """The document nests elements deeper than ``MAX_NESTING_DEPTH``."""


class _BadValue(Exception):
    """A typed value that does not convert (``<id type="integer">four</id>``)."""


def _refuse_entities(*_args: object) -> None:
    raise _EntitiesRefused


def _parse_xml(body: bytes) -> Any:
    """Bytes -> normalised data in one expat pass (see the module docstring).

    The shape is exactly xmltodict's default output (``xmltodict.parse(body)``: ``@``
    attributes, ``#text``, repeated children as lists, whitespace stripped, empty -> None)
    with each element normalised as it closes, instead of a second walk over the tree.
    A typed value that does not convert is reported only once the document has parsed
    (a malformed document is reported as such first) and only if it was kept: a typed or
    nil parent discards its children, and their errors with them.
    """
    # (parent item, parent text, errors before this element) for each open element
    frames: list[tuple[Any, Any, int]] = []
    failed: list[Exception] = []  # typed values that did not convert, in document order
    item: Any = None  # dict of the open element: its attributes, then its children
    text: Any = None  # its character data: None, one str, or a list of chunks

    def start(name: str, attrs: list[str]) -> None:
        nonlocal item, text
        frames.append((item, text, len(failed)))
        if len(frames) > MAX_NESTING_DEPTH:
            raise _TooDeep
        if not attrs:
            item = None
        elif len(attrs) == 2:
            item = {"@" + attrs[0]: attrs[1]}
        else:
            item = {"@" + attrs[i]: attrs[i + 1] for i in range(0, len(attrs), 2)}
        text = None

    def characters(data: str) -> None:
        nonlocal text
        if text is None:
            text = data
        elif text.__class__ is list:
            text.append(data)
        else:
            text = [text, data]

    def end(name: str) -> None:
        nonlocal item, text
        value = item
        if text is not None:
            if text.__class__ is list:
                text = "".join(text)
            text = text.strip() or None
        if value is None:
            value = text
        else:
            kind = value.get("@type")
            convert = _SCALARS.get(kind) if kind is not None else None
            if convert is not None or (kind != "array" and value.get("@nil") == "true"):
                if failed:  # children are dropped: so are their errors (not earlier ones)
                    del failed[frames[-1][2] :]
                if convert is None or text is None or value.get("@nil") == "true":
                    value = None
                else:
                    try:
                        value = convert(text)
                    except (ValueError, ArithmeticError, TypeError) as exc:
                        failed.append(exc)
                        value = None
            elif kind == "array":
                items = XmlArray()
                for key, child in value.items():
                    if key[0] == "@":
                        if key != "@type":
                            items.attributes[key] = child
                        continue
                    items.item_tag = key
                    if child.__class__ is list:
                        items.extend(child)
                    else:
                        items.append(child)
                value = items
            elif text is not None:
                value["#text"] = text
        parent, text, _ = frames.pop()
        if parent is None:
            parent = {name: value}
        elif name in parent:
            siblings = parent[name]
            if siblings.__class__ is list:  # exactly list: an XmlArray is one value
                siblings.append(value)
            else:
                parent[name] = [siblings, value]
        else:
            parent[name] = value
        item = parent

    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.EntityDeclHandler = _refuse_entities
    parser.Parse(body, True)
    if failed:
        raise _BadValue(failed[0])
    return item


class XmlCodec(Codec):
    name = "xml"
    content_type = "application/xml; charset=utf-8"
    accept = "application/xml"

    def decode(self, body: bytes, *, status: int | None = None, url: str = "") -> Any:
        if not body or body.isspace():
            return None
        try:
            return _parse_xml(body)
        except ExpatError as exc:
            reason = f"malformed XML: {exc}"
        except _EntitiesRefused:
            reason = "rejected XML: entities are disabled"
        except _TooDeep:
            reason = f"rejected XML: elements nested deeper than {MAX_NESTING_DEPTH} levels"
        except _BadValue as exc:
            reason = f"bad typed XML value: {exc.args[0]}"
        except (ValueError, LookupError) as exc:  # an encoding expat cannot read, e.g. "bogus"
            reason = f"malformed XML: {exc}"
        raise DecodeError(reason, status=status, url=url, body=body)

    def encode(self, data: Any) -> bytes:
        if not isinstance(data, dict) or len(data) != 1:
            raise EncodeError("an XML body needs exactly one root element")
        try:
            text: str = xmltodict.unparse(_xml_value(data), full_document=True)
        except (ValueError, TypeError) as exc:
            raise EncodeError(f"cannot write XML: {exc}") from None
        except RecursionError:
            raise EncodeError("cannot write XML: the data is nested too deeply") from None
        bad = _NOT_XML_TEXT.search(text)
        if bad is not None:
            raise EncodeError(f"cannot write XML: U+{ord(bad.group()):04X} is not allowed in XML")
        # A parser reads a literal CR as LF: only a character reference keeps it (attribute
        # values already get one from xmltodict; raw CRs left are in text content).
        return text.replace("\r", "&#13;").encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact; the JSON APIs send decimals as strings too
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


_json_decoder = msgspec.json.Decoder()


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_or_exact(text: str) -> float | Decimal:
    value = float(text)
    return value if math.isfinite(value) else Decimal(text)


#: The standard library's decoder, for the documents JSON allows and msgspec refuses: a
#: lone surrogate escape (half an emoji cut by a server) and a number beyond a double (kept
#: exact as a Decimal, never ``inf``); ``NaN`` and ``Infinity`` stay refused. Big pages are
#: decoded with it too (``Session``), so a record reads the same on any page.
STDLIB_JSON = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite_or_exact)


class JsonCodec(Codec):
    name = "json"
    content_type = "application/json; charset=utf-8"
    accept = "application/json"

    def decode(self, body: bytes, *, status: int | None = None, url: str = "") -> Any:
        if not body or body.isspace():
            return None
        try:
            return _json_decoder.decode(body)
        except msgspec.DecodeError as exc:  # ValidationError too: an integer over 4300 digits
            reason = f"malformed JSON: {exc}"
        except RecursionError:
            raise DecodeError(
                "rejected JSON: nested too deeply", status=status, url=url, body=body
            ) from None
        try:  # the error path only: what JSON allows and msgspec refuses (see STDLIB_JSON)
            return STDLIB_JSON.decode(body.decode("utf-8"))
        except (ValueError, RecursionError):
            raise DecodeError(reason, status=status, url=url, body=body) from None

    def encode(self, data: Any) -> bytes:
        try:
            return orjson.dumps(data, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except orjson.JSONEncodeError:
            pass  # e.g. an integer beyond 64 bits: the standard library writes it exactly
        try:
            text = json.dumps(
                data,
                default=_json_default,
                separators=(",", ":"),
                ensure_ascii=False,
                allow_nan=False,
            )
            try:
                return text.encode()
            except UnicodeEncodeError:  # a lone surrogate (read from a server): escape it
                return json.dumps(
                    data, default=_json_default, separators=(",", ":"), allow_nan=False
                ).encode()
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"cannot write JSON: {exc}") from None
        except RecursionError:
            raise EncodeError("cannot write JSON: the data is nested too deeply") from None


CODECS: dict[str, Codec] = {"xml": XmlCodec(), "json": JsonCodec()}
