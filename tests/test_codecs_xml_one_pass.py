"""The one-pass XML decoder gives exactly what the former two-pass decoder gave.

The former decoder (``xmltodict.parse`` then a recursive walk that normalised typed
attributes) is kept here as the reference. Outputs are compared in a canonical form that
also sees what ``==`` does not: key order, ``list`` vs :class:`XmlArray`, the array's item
tag, and the exact Python type of every scalar.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape, quoteattr

import pytest
import xmltodict
from hypothesis import example, given
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.core._codecs import CODECS, XmlArray, parse_date, parse_datetime
from aiocamp.core._constants import MAX_NESTING_DEPTH

from .fuzz_strategies import fuzz_settings
from .helpers import FIXTURES

XML = CODECS["xml"]


# --- the reference: the two-pass decoder as it was before the one-pass rewrite ---------


def _reference_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


_REFERENCE_SCALARS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "boolean": _reference_bool,
    "datetime": parse_datetime,
    "date": parse_date,
    "decimal": Decimal,
    "float": float,
    "string": str,
}


def _reference_normalise(value: Any) -> Any:
    if value.__class__ is str or value is None:
        return value
    if value.__class__ is dict:
        kind = value.get("@type")
        if kind is not None:
            convert = _REFERENCE_SCALARS.get(kind)
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
                        items.extend([_reference_normalise(c) for c in child])
                    else:
                        items.append(_reference_normalise(child))
                return items
        if value.get("@nil") == "true":
            return None
        return {k: _reference_normalise(v) for k, v in value.items()}
    if value.__class__ is list:
        return [_reference_normalise(v) for v in value]
    return value


class ReferenceFailed(Exception):
    pass


def reference_decode(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return _reference_normalise(xmltodict.parse(body, disable_entities=True))
    except (ExpatError, ValueError, InvalidOperation, TypeError) as exc:
        raise ReferenceFailed(str(exc)) from None


# --- comparison -----------------------------------------------------------------------


def canonical(value: Any) -> Any:
    """A form where equal means identical: types, order, item tags (not the array's own
    attributes, which the former decoder dropped)."""
    cls = value.__class__
    if cls is XmlArray:
        return ("XmlArray", value.item_tag, [canonical(v) for v in value])
    if cls is list:
        return ("list", [canonical(v) for v in value])
    if cls is dict:
        return ("dict", [(k, canonical(v)) for k, v in value.items()])
    return (cls.__name__, repr(value))


def outcome(decode: Callable[[bytes], Any], body: bytes) -> Any:
    try:
        return canonical(decode(body))
    except (errors.DecodeError, ReferenceFailed):
        return "refused"


def assert_same(body: bytes) -> None:
    assert outcome(XML.decode, body) == outcome(reference_decode, body)


XML_FIXTURES = sorted(FIXTURES.rglob("*.xml"))


def test_there_are_xml_fixtures_to_compare() -> None:
    assert len(XML_FIXTURES) >= 50


@pytest.mark.parametrize("path", XML_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_xml_fixture_decodes_exactly_as_before(path) -> None:
    body = path.read_bytes()
    assert XML.decode(body) is not None
    assert canonical(XML.decode(body)) == canonical(reference_decode(body))


def test_a_500_person_page_decodes_exactly_as_before() -> None:
    person = (FIXTURES / "highrise/people/get.response.xml").read_bytes().split(b"?>", 1)[-1]
    page = b'<people type="array">' + person * 500 + b"</people>"
    decoded = XML.decode(page)
    assert len(decoded["people"]) == 500
    assert canonical(decoded) == canonical(reference_decode(page))


# --- generated documents ----------------------------------------------------------------

TAGS = ["a", "b", "id", "person", "x-y", "ns:tag", "item", "_u"]
TYPES = ["integer", "boolean", "datetime", "date", "decimal", "float", "array", "Person", ""]
SCALAR_TEXTS = [
    "",
    "  ",
    "5",
    " 7 ",
    "-3",
    "0x10",
    "true",
    "FALSE",
    "1",
    "0",
    "yes",
    "2007-02-27T03:11:52Z",
    "2007-02-27T03:11:52.123-06:00",
    "2007-02-27 03:11:52 UTC",
    "2024-01-02",
    "2024-13-02",
    "1.5",
    "1e3",
    "NaN",
    "-Infinity",
    "99999999999999999999999999999",
    "abc",
]

texts = st.one_of(
    st.sampled_from(SCALAR_TEXTS),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
)


@st.composite
def attributes(draw: st.DrawFn) -> dict[str, str]:
    attrs: dict[str, str] = {}
    kind = draw(st.none() | st.sampled_from(TYPES))
    if kind is not None:
        attrs["type"] = kind
    nil = draw(st.sampled_from([None, "true", "false"]))
    if nil is not None:
        attrs["nil"] = nil
    if draw(st.booleans()):
        attrs[draw(st.sampled_from(["x", "xmlns", "xmlns:n", "title"]))] = draw(texts)
    return attrs


def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, parts: (
            f"<{tag}{''.join(f' {k}={quoteattr(v)}' for k, v in attrs.items())}>"
            + "".join(parts)
            + f"</{tag}>"
        ),
        st.sampled_from(TAGS),
        attributes(),
        st.lists(children, max_size=4),
    )


leaf_text = texts.map(lambda t: escape(t))
markup = st.sampled_from(["<!-- c -->", "<![CDATA[ <x> & ]]>", "<?pi x?>", "\n  ", "&amp;"])
documents = element(
    st.recursive(
        leaf_text | markup,
        lambda inner: inner | element(inner),
        max_leaves=25,
    )
).map(lambda root: root.encode())

FAST = fuzz_settings(300)


@FAST
@given(documents)
@example(b'<a><t type="array"><x/></t><t type="array"><x/></t></a>')
@example(b'<a><n type="integer"><m type="integer">bad</m>5</n></a>')
@example(b'<a nil="true"><m type="integer">bad</m></a>')
@example(b'<r><x><a type="integer">0x10</a></x><b nil="true"/></r>')
@example(b'<r><x><a type="integer">0x10</a></x><n type="integer"><y>1</y>2</n></r>')
@example(b'<a><m type="integer">bad</m><p>unclosed</a>')
@example(b"<a>one<b/>two<b/>three</a>")
@example(b'<a type="array">text<b>1</b><c>2</c><b>3</b></a>')
def test_generated_documents_decode_exactly_as_before(body: bytes) -> None:
    assert_same(body)


@FAST
@given(documents, st.data())
def test_damaged_documents_are_refused_or_decoded_exactly_as_before(body, data) -> None:
    cut = data.draw(st.integers(0, len(body)))
    junk = data.draw(st.binary(max_size=6))
    at = data.draw(st.integers(0, len(body)))
    assert_same(body[:cut])
    assert_same(body[:at] + junk + body[at:])


# --- limits -----------------------------------------------------------------------------


def test_nesting_at_the_limit_decodes() -> None:
    depth = MAX_NESTING_DEPTH
    body = b"<a>" * depth + b"<![CDATA[x]]>" + b"</a>" * depth
    data = XML.decode(body)
    for _ in range(depth - 1):
        data = data["a"]
    assert data == {"a": "x"}


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 500, 100_000])
def test_nesting_beyond_the_limit_is_a_decode_error_not_a_recursion_error(depth) -> None:
    body = b'<a type="array">' * depth + b"</a>" * depth
    started = time.monotonic()
    with pytest.raises(errors.DecodeError, match=f"deeper than {MAX_NESTING_DEPTH} levels"):
        XML.decode(body, status=200, url="https://x/deep.xml")
    assert time.monotonic() - started < 1.0


def test_a_deep_subtree_is_refused_even_inside_an_otherwise_normal_page() -> None:
    deep = b"<n>" * 300 + b"</n>" * 300
    with pytest.raises(errors.DecodeError, match="deeper than"):
        XML.decode(b'<people type="array"><person><id type="integer">1</id>' + deep + b"</person>")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<person>hello</person>", {"person": "hello"}),
        (b'<person type="integer">5</person>', {"person": 5}),
        (b'<person nil="true"/>', {"person": None}),
        (b"<person/>", {"person": None}),
    ],
)
def test_a_scalar_root_decodes_to_a_scalar_value(body, expected) -> None:
    assert XML.decode(body) == expected


def test_a_dropped_element_does_not_excuse_an_earlier_bad_value() -> None:
    # The nil <b> drops its own children only, not the error of <a> in an earlier subtree.
    with pytest.raises(errors.DecodeError, match="bad typed XML value"):
        XML.decode(b'<r><x><a type="integer">0x10</a></x><b nil="true"/></r>')


def test_an_unconvertible_value_inside_a_dropped_parent_is_not_an_error() -> None:
    # A typed parent keeps only its own text (as before): what it drops cannot fail it.
    assert XML.decode(b'<a><n type="integer"><m type="integer">x</m>5</n></a>') == {"a": {"n": 5}}
    assert XML.decode(b'<a nil="true"><m type="date">x</m></a>') == {"a": None}


def test_a_malformed_document_is_reported_as_malformed_before_any_bad_value() -> None:
    with pytest.raises(errors.DecodeError, match="malformed XML"):
        XML.decode(b'<a><m type="integer">bad</m><p>unclosed</a>')


def test_repeated_typed_arrays_stay_separate_values() -> None:
    data = XML.decode(b'<a><t type="array"><x>1</x></t><t type="array"><x>2</x></t></a>')
    groups = data["a"]["t"]
    assert type(groups) is list
    assert [type(g) for g in groups] == [XmlArray, XmlArray]
    assert groups == [["1"], ["2"]]


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0" encoding="bogus"?><x/>',
        b'<?xml version="1.0" encoding="shift_jis"?><x>\x82\xa0</x>',
        b"\xff\xfe<\x00x\x00/\x00>\x00<",
    ],
)
def test_an_unreadable_encoding_is_a_decode_error(body) -> None:
    with pytest.raises(errors.DecodeError, match="malformed XML"):
        XML.decode(body)


def test_a_declared_encoding_expat_knows_is_read() -> None:
    body = '<?xml version="1.0" encoding="utf-16"?><x>é</x>'.encode("utf-16")
    assert XML.decode(body) == {"x": "é"}
    assert XML.decode('<?xml version="1.0" encoding="iso-8859-1"?><x>é</x>'.encode("latin-1")) == {
        "x": "é"
    }


def test_a_typed_array_keeps_its_other_attributes_both_ways() -> None:
    body = (
        b'<comments type="array" count="50" continued-at="/x/comments.xml?older=9">'
        b'<comment><id type="integer">1</id></comment></comments>'
    )
    data = XML.decode(body)
    comments = data["comments"]
    assert comments == [{"id": 1}]
    assert comments.attributes == {"@count": "50", "@continued-at": "/x/comments.xml?older=9"}
    again = XML.decode(XML.encode(data))["comments"]
    assert again.attributes == comments.attributes
    assert again == comments
    assert XML.decode(b'<a type="array"/>')["a"].attributes == {}
