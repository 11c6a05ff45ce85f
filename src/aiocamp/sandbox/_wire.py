"""Records to wire bytes and request bodies to records, driven by the table alone.

Records are plain dicts keyed by field name holding Python values (``int``, ``str``,
``datetime``, ``date``, ``Decimal``, nested dicts and lists). This module is independent of
the generated client models on purpose: the sandbox must keep working while they change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape, quoteattr

import xmltodict

from ._table import ApiTable, FieldInfo, ModelInfo, TypeInfo

try:  # orjson is faster; the sandbox must not depend on it
    import orjson

    def _json_dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - exercised only without the optional extra

    def _json_dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class BodyError(Exception):
    """A request body the product would reject: ``status`` 400 (unparseable) or 422."""

    def __init__(self, status: int, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = messages


XML_TYPE = {
    "int": "integer",
    "bool": "boolean",
    "datetime": "datetime",
    "date": "date",
    "decimal": "decimal",
    "float": "float",
}


# -- values --------------------------------------------------------------------------------


def format_datetime(value: datetime, *, millis: bool) -> str:
    value = value.astimezone(UTC)
    if millis:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar_text(value: Any, *, millis: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value, millis=millis)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_scalar(kind: str, value: Any) -> Any:
    """Coerce a decoded value to ``kind``; raise ``ValueError`` when it does not fit."""
    if value is None:
        return None
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise ValueError("expected text")
        return value if isinstance(value, str) else _scalar_text(value, millis=True)
    if kind == "int":
        if isinstance(value, bool | float | Decimal):
            raise ValueError("expected an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise ValueError("expected an integer")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        raise ValueError("expected true or false")
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        return int(text) if text.lstrip("-").isdigit() else parse_scalar("float", text)
    if kind == "int_or_str":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            return int(value) if value.strip().lstrip("-").isdigit() else value
        raise ValueError("expected an integer or text")
    if kind in ("decimal", "float"):
        if isinstance(value, bool | dict | list):
            raise ValueError("expected a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("expected a number") from exc
        if not number.is_finite():
            raise ValueError("expected a finite number")
        return number if kind == "decimal" else float(number)
    if kind in ("datetime", "date", "datetime_or_date"):
        if not isinstance(value, str):
            raise ValueError("expected an ISO 8601 date")
        text = value.strip()
        if kind != "datetime" and len(text) == 10:
            return date.fromisoformat(text)
        if kind == "date":
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value  # json: kept as decoded


def plain_to_record(
    table: ApiTable, fields: Iterable[FieldInfo], data: Mapping[str, Any], path: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """Wire-keyed decoded data -> a record keyed by field name; problems as messages."""
    record: dict[str, Any] = {}
    problems: list[str] = []
    for f in fields:
        if f.wire not in data:
            continue
        try:
            record[f.name] = _coerce(table, f.type, data[f.wire], f"{path}{f.wire}", problems)
        except (ValueError, TypeError) as exc:
            problems.append(f"{path}{f.wire}: {exc}")
    return record, problems


def _coerce(table: ApiTable, t: TypeInfo, value: Any, where: str, problems: list[str]) -> Any:
    if value is None:
        return None
    if t.kind == "scalar":
        return parse_scalar(t.name, value)
    if t.kind == "model":
        if not isinstance(value, Mapping):
            raise ValueError("expected an object")
        model = table.models.get(t.name)
        if model is None:
            return dict(value)
        record, nested = plain_to_record(table, model.fields, value, where + ".")
        problems.extend(nested)
        return record
    if t.kind == "list":
        assert t.item is not None
        if isinstance(value, Mapping) and table.format == "xml" and len(value) == 1:
            value = next(iter(value.values()))  # <tags><tag>..</tag></tags> without type=array
            value = value if isinstance(value, list) else [value]
        if not isinstance(value, list):
            if table.format != "xml" or isinstance(value, Mapping):
                raise ValueError("expected a list")
            value = [value]  # one repeated element (xml_repeat) arrives as a lone value
        return [_coerce(table, t.item, v, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if t.kind == "dict":
        if not isinstance(value, Mapping):
            raise ValueError("expected an object")
        return {str(k): str(v) for k, v in value.items()}
    return value


# -- JSON ----------------------------------------------------------------------------------


def _json_value(table: ApiTable, t: TypeInfo, value: Any) -> Any:
    if value is None:
        return None
    if t.kind == "scalar":
        if isinstance(value, datetime):
            return format_datetime(value, millis=True)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value
    if t.kind == "model":
        model = table.models.get(t.name)
        if model is None or not isinstance(value, dict):
            return value
        return json_record(table, model, value)
    if t.kind == "list" and isinstance(value, list):
        assert t.item is not None
        return [_json_value(table, t.item, v) for v in value]
    return value


def json_record(table: ApiTable, model: ModelInfo, record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in model.fields:
        if f.name in record:
            out[f.wire] = _json_value(table, f.type, record[f.name])
    return out


def json_body(value: Any) -> bytes:
    return _json_dumps(value)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BodyError(400, [f"the body is not valid JSON ({type(exc).__name__})"]) from None


# -- XML -----------------------------------------------------------------------------------


def _singular(word: str) -> str:
    if word == "people":
        return "person"
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def plural(word: str) -> str:
    if word == "person":
        return "people"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _xml_element(table: ApiTable, tag: str, t: TypeInfo, value: Any, f: FieldInfo | None) -> str:
    if value is None:
        nil_kind = XML_TYPE.get(t.name, "") if t.kind == "scalar" else ""
        type_attr = f' type="{nil_kind}"' if nil_kind else ""
        return f'<{tag}{type_attr} nil="true"></{tag}>'
    if t.kind == "scalar":
        kind: str | None = XML_TYPE.get(t.name)
        if t.name == "datetime_or_date":
            kind = "datetime" if isinstance(value, datetime) else "date"
        text = escape(_scalar_text(value, millis=False))
        return f'<{tag} type="{kind}">{text}</{tag}>' if kind else f"<{tag}>{text}</{tag}>"
    if t.kind == "model":
        model = table.models.get(t.name)
        if model is None or not isinstance(value, dict):
            return f"<{tag}>{escape(str(value))}</{tag}>"
        return xml_record(table, model, value, tag)
    if t.kind == "list" and isinstance(value, list):
        assert t.item is not None
        item_tag = (f.item if f is not None else None) or _item_tag(table, t.item, tag)
        inner = "".join(_xml_element(table, item_tag, t.item, v, None) for v in value)
        array = ' type="array"' if f is None or f.xml_array else ""
        return f"<{tag}{array}>{inner}</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _item_tag(table: ApiTable, t: TypeInfo, container: str) -> str:
    if t.kind == "model":
        model = table.models.get(t.name)
        if model is not None and model.xml_tag:
            return model.xml_tag
    return _singular(container)


def xml_record(
    table: ApiTable, model: ModelInfo, record: Mapping[str, Any], tag: str | None = None
) -> str:
    tag = tag or model.xml_tag or "record"
    attrs = []
    children = []
    for f in model.fields:
        if f.name not in record:
            continue
        value = record[f.name]
        if f.wire.startswith("@"):
            if value is not None:
                attrs.append(f" {f.wire[1:]}={quoteattr(_scalar_text(value, millis=False))}")
            continue
        if f.wire == "#text":  # the element's own text (Backpack <item ..>text</item>)
            if value is not None:
                children.append(escape(_scalar_text(value, millis=False)))
            continue
        children.append(_xml_element(table, f.wire, f.type, value, f))
    return f"<{tag}{''.join(attrs)}>{''.join(children)}</{tag}>"


XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def xml_list(table: ApiTable, model: ModelInfo, records: Iterable[Mapping[str, Any]]) -> bytes:
    root = plural(model.xml_tag or "record")
    inner = "".join(xml_record(table, model, r) for r in records)
    return f'{XML_DECL}<{root} type="array">{inner}</{root}>'.encode()


def xml_document(fragment: str) -> bytes:
    return (XML_DECL + fragment).encode()


def _normalize_xml(node: Any) -> Any:
    """xmltodict output -> plain values: typed attributes applied, nil -> None."""
    if node is None or isinstance(node, str):
        return node
    if isinstance(node, list):
        return [_normalize_xml(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("@nil") == "true":
        return None
    kind = node.get("@type")
    if kind == "array":
        items = [v for k, v in node.items() if not k.startswith("@")]
        if not items:
            return []
        first = items[0]
        return [_normalize_xml(n) for n in (first if isinstance(first, list) else [first])]
    if kind in ("integer", "boolean", "datetime", "date", "decimal", "float") and (
        set(node) <= {"@type", "#text", "@nil"}
    ):
        return node.get("#text", "")
    out = {}
    for k, v in node.items():
        out[k] = _normalize_xml(v)
    return out


def parse_xml(body: bytes) -> tuple[str, Any]:
    """The root tag and its normalized content of an XML body."""
    try:
        doc = xmltodict.parse(body, disable_entities=True)
    except (ExpatError, ValueError, RecursionError) as exc:
        raise BodyError(400, [f"the body is not well-formed XML ({type(exc).__name__})"]) from None
    if not isinstance(doc, dict) or len(doc) != 1:
        raise BodyError(400, ["the body needs exactly one root element"])
    root, content = next(iter(doc.items()))
    try:
        return root, _normalize_xml(content)
    except RecursionError:
        raise BodyError(400, ["the body nests elements too deeply"]) from None
