"""Hypothesis strategies for the fuzz tests, built from the specs' intermediate form.

Every model of every product gets documents of its own shape, valid first (typed XML
attributes, nil, typed arrays and untyped containers, nested models, huge integers,
unicode, odd date-times and offsets, unknown fields), then perturbed (a field given a value
of another kind, a typed value that does not convert, a repeated element, text where
elements belong, deep nesting). A product added to ``PRODUCTS`` is covered with no change.

Sizes: the CI run is derandomized (a fixed seed) and small; ``nox -s fuzz`` sets
``AIOCAMP_FUZZ_EXAMPLES`` for a larger, random run.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from codegen.ir import PY_SCALAR, Field, Model, TypeRef

from .generated_support import PRODUCTS, spec

__all__ = [
    "PRODUCTS",
    "Node",
    "fuzz_settings",
    "json_records",
    "models_of",
    "perturbed_json_records",
    "perturbed_xml_records",
    "render_xml",
    "xml_records",
]

LARGE_RUN = os.environ.get("AIOCAMP_FUZZ_EXAMPLES")
#: Nested models below this depth are sent as nil (records stay small enough to be fast).
MAX_DEPTH = 2


def fuzz_settings(ci_examples: int) -> settings:
    """``ci_examples`` derandomized examples, or a large random run under ``nox -s fuzz``."""
    return settings(
        max_examples=int(LARGE_RUN) if LARGE_RUN else ci_examples,
        derandomize=not LARGE_RUN,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def models_of(product: str) -> list[Model]:
    return [m for m in spec(product).models if not m.name.startswith("_")]


# --- scalar values --------------------------------------------------------------------

#: Characters XML 1.0 can carry (no C0 controls but tab / newline, no surrogates, no
#: U+FFFE/U+FFFF); carriage returns are left out: XML parsers turn them into newlines.
XML_TEXT = st.characters(
    codec="utf-8",
    exclude_categories=["Cs"],
    exclude_characters="\r\ufffe\uffff"
    + "".join(chr(c) for c in range(32) if chr(c) not in "\t\n"),
)
HUGE_INTS = [2**63 - 1, 2**63, 2**64 - 1, 2**64 + 1, -(2**63) - 1, 10**30, -(10**25)]
ints = st.one_of(st.integers(-(10**12), 10**12), st.sampled_from(HUGE_INTS))
texts = st.one_of(
    st.text(XML_TEXT, max_size=12),
    st.sampled_from(["basecamp", "Zoë ✓ 漢字 🎉", "<b>&amp;</b>", "  padded  ", "0", "true"]),
)
offsets = st.one_of(
    st.just(UTC),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))),
)
datetimes = st.builds(
    lambda d, tz: d.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offsets,
) | st.sampled_from(
    [
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2007, 2, 27, 3, 11, 52, tzinfo=timezone(timedelta(hours=-6))),
        datetime(1970, 1, 1, tzinfo=UTC),
    ]
)
dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**12)
floats = st.floats(allow_nan=False, allow_infinity=False)


def iso(value: datetime, style: int) -> str:
    """A date-time as servers write it: ``Z`` or an offset, with or without fractions."""
    text = value.isoformat(timespec=("seconds", "milliseconds", "microseconds")[style % 3])
    return text.replace("+00:00", "Z") if style % 2 else text


json_any = st.recursive(
    st.none() | st.booleans() | ints | floats | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


# --- JSON ------------------------------------------------------------------------------


def scalar_parts(name: str) -> list[str]:
    """The Python types a spec scalar stands for (``int_or_str`` -> ``["int", "str"]``), read
    from the IR's registry, so a scalar type added there is fuzzed with no change here."""
    return [part.strip() for part in PY_SCALAR[name].split("|")]


@cache
def json_scalar(name: str) -> st.SearchStrategy[Any]:
    by_type: dict[str, st.SearchStrategy[Any]] = {
        "int": ints,
        "str": texts,
        "bool": st.booleans(),
        "float": floats,
        "Decimal": decimals.map(str),
        "datetime": st.builds(iso, datetimes, st.integers(0, 5)),
        "date": dates.map(date.isoformat),
        "Any": json_any,
    }
    return st.one_of(*(by_type[part] for part in scalar_parts(name)))


@cache
def json_value(product: str, t: TypeRef, depth: int) -> st.SearchStrategy[Any]:
    if t.kind == "scalar":
        return json_scalar(t.name)
    if t.kind == "dict":
        return st.dictionaries(texts, texts, max_size=3)
    if t.kind == "model":
        return json_records(product, t.name, depth + 1) if depth < MAX_DEPTH else st.none()
    assert t.item is not None
    return st.lists(json_value(product, t.item, depth), max_size=3)


@cache
def json_records(product: str, model: str, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Valid JSON records of a model: any subset of its fields, nulls, unknown fields."""
    m = spec(product).model(model)
    optional = {f.wire: st.none() | json_value(product, f.type, depth) for f in m.fields}
    unknown = st.dictionaries(st.sampled_from(["zz_new", "x-extra", "ünï"]), json_any, max_size=2)
    return st.builds(
        lambda known, extra: {**extra, **known},
        st.fixed_dictionaries({}, optional=optional),  # type: ignore[arg-type]
        unknown,
    )


#: Values of another kind than declared, as drifting servers send them.
WRONG_JSON = st.one_of(
    st.sampled_from(
        ["basecamp", "", "12", "1024.0", "2022-11-15", "not a date", "2024-13-45T99:00:00Z"]
    ),
    st.sampled_from([1024.0, -1, 0, True, False, 2**64 + 1, [], {}, [1, "a"], {"id": "x"}]),
    st.just(json.loads("[" * 40 + "]" * 40)),
    json_any,
)


@st.composite
def perturbed_json_records(draw: st.DrawFn, product: str, model: str) -> dict[str, Any]:
    record = draw(json_records(product, model))
    fields = spec(product).model(model).fields
    for f in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3)):
        record[f.wire] = draw(WRONG_JSON)
    return record


# --- XML -------------------------------------------------------------------------------

#: An element: tag, attributes, then its text or its child elements.
Node = tuple[str, dict[str, str], "str | list[Node] | None"]


def render_xml(node: Node) -> str:
    tag, attrs, content = node
    head = tag + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    if content is None:
        return f"<{head}/>"
    inner = escape(content) if isinstance(content, str) else "".join(map(render_xml, content))
    return f"<{head}>{inner}</{tag}>"


XML_TYPES = {
    "int": "integer",
    "bool": "boolean",
    "float": "float",
    "Decimal": "decimal",
    "datetime": "datetime",
    "date": "date",
}


@cache
def xml_scalar(name: str) -> st.SearchStrategy[tuple[dict[str, str], str]]:
    """(attributes, text) of a valid typed scalar."""

    def typed(kind: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
        return values.map(lambda text: ({"type": kind}, text))

    by_type: dict[str, st.SearchStrategy[tuple[dict[str, str], str]]] = {
        "int": typed("integer", ints.map(str)),
        "str": texts.map(lambda text: ({}, text)),
        "bool": typed("boolean", st.sampled_from(["true", "false"])),
        "float": typed("float", floats.map(repr)),
        "Decimal": typed("decimal", decimals.map(str)),
        "datetime": typed("datetime", st.builds(iso, datetimes, st.integers(0, 5))),
        "date": typed("date", dates.map(date.isoformat)),
        "Any": texts.map(lambda text: ({}, text)),
    }
    return st.one_of(*(by_type[part] for part in scalar_parts(name)))


def item_tag(product: str, f: Field) -> str:
    assert f.type.item is not None
    if f.item:
        return f.item
    if f.type.item.is_model:
        return spec(product).model(f.type.item.name).xml_tag or "item"
    return "item"


def nil(wire: str, t: TypeRef) -> Node:
    kind = XML_TYPES.get(PY_SCALAR[t.name]) if t.kind == "scalar" else None
    return (wire, {"nil": "true", **({"type": kind} if kind else {})}, "")


@cache
def xml_field(product: str, f: Field, depth: int) -> st.SearchStrategy[Node]:
    t = f.type
    if t.kind == "scalar":
        value = xml_scalar(t.name).map(lambda at: (f.wire, at[0], at[1]))
    elif t.kind == "model":
        if depth >= MAX_DEPTH:
            return st.just(nil(f.wire, t))
        value = xml_elements(product, t.name, depth + 1).map(lambda kids: (f.wire, {}, kids))
    elif t.kind == "dict":
        value = st.dictionaries(st.sampled_from(["a", "b-c"]), texts, max_size=2).map(
            lambda d: (f.wire, {}, [(k, {}, v) for k, v in d.items()])
        )
    else:
        assert t.item is not None
        tag = item_tag(product, f)
        if t.item.is_model and depth >= MAX_DEPTH:
            return st.just((f.wire, {"type": "array"} if f.xml_array else {}, []))
        if t.item.is_model:
            item = xml_elements(product, t.item.name, depth + 1).map(lambda kids: (tag, {}, kids))
        else:
            item = xml_scalar(t.item.name if t.item.kind == "scalar" else "str").map(
                lambda at: (tag, at[0], at[1])
            )
        attrs = {"type": "array"} if f.xml_array else {}
        value = st.lists(item, max_size=3).map(lambda items: (f.wire, attrs, items))
    return value | st.just(nil(f.wire, t))


@cache
def xml_elements(product: str, model: str, depth: int = 0) -> st.SearchStrategy[list[Node]]:
    """Child elements of a valid record: a subset of its fields, in spec order, plus
    unknown elements (fields the spec does not know yet)."""
    m = spec(product).model(model)
    elements = [f for f in m.fields if not f.wire.startswith(("@", "#"))]
    unknown = st.lists(
        st.tuples(st.sampled_from(["zz-new", "x_extra"]), st.just({}), texts), max_size=2
    )
    return st.builds(
        # An element with no children at all decodes as None, not as an empty record.
        lambda chosen, extra: (
            [node for node in chosen if node is not None] + extra or [("zz-new", {}, "x")]
        ),
        st.tuples(*(st.none() | xml_field(product, f, depth) for f in elements)).map(list),
        unknown,
    )


@cache
def xml_records(product: str, model: str) -> st.SearchStrategy[Node]:
    m = spec(product).model(model)
    attrs = {
        f.wire[1:]: st.sampled_from(["Person", "Company"]) for f in m.fields if f.wire[0] == "@"
    }
    return st.builds(
        lambda a, kids: (m.xml_tag or "record", a, kids),
        st.fixed_dictionaries({}, optional=attrs),  # type: ignore[arg-type]
        xml_elements(product, model),
    )


WRONG_XML: st.SearchStrategy[tuple[dict[str, str], Any]] = st.sampled_from(
    [
        ({"type": "integer"}, "basecamp"),
        ({"type": "integer"}, "1024.0"),
        ({"type": "boolean"}, "maybe"),
        ({"type": "datetime"}, "2022-11-15"),
        ({"type": "datetime"}, "yesterday"),
        ({"type": "date"}, "2022-02-30"),
        ({"type": "decimal"}, "1,5"),
        ({"type": "float"}, "one"),
        ({"type": "array"}, "text in an array"),
        ({"type": "array"}, [("x", {}, "1"), ("y", {}, "2")]),
        ({"type": "Unknown"}, [("a", {}, "b")]),
        ({}, [("nested", {}, [("deeper", {}, "x")])]),
        ({}, "text where elements belong"),
        ({"nil": "true"}, [("child", {}, "dropped")]),
        ({"type": "integer"}, str(2**70)),
        ({}, "1" * 30),
    ]
)


@st.composite
def perturbed_xml_records(draw: st.DrawFn, product: str, model: str) -> Node:
    tag, attrs, kids = draw(xml_records(product, model))
    assert isinstance(kids, list)
    fields = [f for f in spec(product).model(model).fields if f.wire[0] not in "@#"]
    if not fields:  # attributes only (Backpack <tag id='4' name='..'/>): spoil those
        wires = [f.wire[1:] for f in spec(product).model(model).fields if f.wire[0] == "@"]
        attrs = dict(attrs)
        for name in draw(st.lists(st.sampled_from(wires), min_size=1, max_size=3)):
            attrs[name] = draw(st.sampled_from(["basecamp", "", "1" * 30, "maybe", "1024.0"]))
        return tag, attrs, kids
    for f in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3)):
        how = draw(st.sampled_from(["replace", "repeat", "deep"]))
        if how == "replace":
            extra_attrs, content = draw(WRONG_XML)
            kids = [k for k in kids if k[0] != f.wire] + [(f.wire, extra_attrs, content)]
        elif how == "repeat":  # a single field sent twice becomes a list
            kids = [*kids, (f.wire, {}, "1"), (f.wire, {"type": "integer"}, "2")]
        else:
            deep: Node = (f.wire, {}, "x")
            for _ in range(draw(st.integers(1, 60))):
                deep = (f.wire, {}, [deep])
            kids = [*kids, deep]
    return tag, attrs, kids
