"""Kill tests for ``aiocamp.core._models`` (issue 7, mutation testing).

Each test names, in its docstring, the mutants of ``_models.py`` it was written to kill.
Models are declared *inside* the tests: a model declared at import time has its fields
and its codec built once, before any mutant is active, so only a class made during the
test runs the mutated declaration and codec-building code.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import pytest

import aiocamp
from aiocamp import errors
from aiocamp.core import _models
from aiocamp.core._codecs import CODECS, XmlArray
from aiocamp.core._models import (
    ModelMeta,
    WireDatetime,
    WireModel,
    codec_of,
    parse_wire_datetime,
    secret,
    wire,
)

XML = CODECS["xml"]
JSON = CODECS["json"]


class Tag(WireModel):
    """A nested XML model (nested types must resolve from the module's globals)."""

    WIRE_FORMAT: ClassVar[str] = "xml"
    name: str | None = None


class Leaf(WireModel):
    """A nested JSON model."""

    id: int | None = None


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    aiocamp.reset_decode_stats()


def test_wire_and_secret_declare_names_items_and_redaction() -> None:
    """wire(): the ``wire`` / ``item`` / ``xml_array`` metadata (keys re-cased or padded,
    values ``None``, conditions inverted, ``metadata=None``, the ``None`` default
    dropped); secret(): its metadata, its wire name, its ``repr`` (``_redacted``:
    ``None`` shown for an unset value, ``'***'`` otherwise)."""

    class Card(WireModel):
        WIRE_FORMAT: ClassVar[str] = "xml"
        WIRE_CASE: ClassVar[str] = "kebab"
        label: str | None = wire("Label")
        tags: list[Tag] | None = wire(item="tag")
        day_entries: list[Tag] | None = wire("day_entries", item="entry", xml_array=False)
        api_key: str | None = secret("API-KEY")
        pin: str | None = secret()
        plain_name: str | None = None

    assert dict(Card.WIRE_NAMES) == {
        "label": "Label",
        "tags": "tags",
        "day_entries": "day_entries",
        "api_key": "API-KEY",
        "pin": "pin",
        "plain_name": "plain-name",
    }
    empty = Card()
    assert (empty.label, empty.tags, empty.day_entries, empty.api_key, empty.pin) == (None,) * 5
    assert "api_key=None" in repr(empty)
    assert "pin=None" in repr(empty)
    card = Card.from_wire(
        {
            "Label": "L",
            "tags": XmlArray([{"name": "a"}], "tag"),
            "day_entries": {"entry": [{"name": "x"}, {"name": "y"}]},
            "API-KEY": "k-123",
            "pin": "0000",
            "plain-name": "P",
        }
    )
    assert card.label == "L"
    assert [t.name for t in card.tags or []] == ["a"]
    assert [t.name for t in card.day_entries or []] == ["x", "y"]
    assert card.api_key == "k-123"
    shown = repr(card)
    assert "k-123" not in shown
    assert "0000" not in shown
    assert "api_key='***'" in shown
    assert "pin='***'" in shown
    card.tags = [Tag(name="b")]
    card.day_entries = [Tag(name="z")]
    out = card.to_wire()
    assert out["tags"] == [{"name": "b"}]
    assert isinstance(out["tags"], XmlArray)
    assert out["tags"].item_tag == "tag"
    assert out["day_entries"] == {"entry": {"name": "z"}}
    assert not isinstance(out["day_entries"], XmlArray)
    card.day_entries = [Tag(name="z"), Tag(name="w")]
    assert card.to_wire()["day_entries"] == {"entry": [{"name": "z"}, {"name": "w"}]}
    card.day_entries = []
    assert card.to_wire()["day_entries"] == {}
    body = XML.encode({"card": card.to_wire()})
    assert b'<tags type="array"><tag><name>b</name></tag></tags>' in body


def test_a_drifted_secret_is_redacted_in_the_log_and_the_strict_error(caplog) -> None:
    """secret(): ``{"secret": False}`` or the key renamed would show the value;
    _FieldInfo.drift: ``<redacted>``."""
    caplog.set_level(logging.WARNING, logger="aiocamp.models")

    class Login(WireModel):
        token: str | None = secret("Token")

    Login.from_wire({"Token": ["hunter2-value"]})
    assert "hunter2-value" not in caplog.text
    assert "<redacted>" in caplog.text
    with pytest.raises(errors.DecodeError) as info:
        Login.from_wire({"Token": ["hunter2-value"]}, strict=True)
    assert str(info.value) == "field 'Login.token': expected a string, got <redacted>"


def test_class_variables_are_not_fields_in_either_annotation_form() -> None:
    """_is_class_var: the ``ClassVar`` / ``typing.ClassVar`` prefixes of string
    annotations (re-cased, padded) and ``get_origin(...) is ClassVar`` for real ones."""
    import typing

    class Strings(WireModel):
        A: ClassVar[int] = 1
        B: typing.ClassVar[int] = 2
        name: str | None = None

    assert Strings.__slots__ == ("name",)
    assert [f.name for f in attrs.fields(Strings) if f.name == "name"] == ["name"]
    assert (Strings.A, Strings.B) == (1, 2)
    Real = ModelMeta(
        "Real",
        (WireModel,),
        {"__annotations__": {"C": ClassVar[int], "n": int | None}, "C": 3, "n": None},
    )
    assert Real.__slots__ == ("n",)
    assert Real.C == 3
    assert Real.from_wire({"n": 4, "C": 5}).extra == {"C": 5}


def test_a_model_is_declared_on_first_instantiation_with_positional_arguments() -> None:
    """ModelMeta.__call__: the ``_wire_attrs_`` check (re-cased, padded, inverted),
    ``_declare(None)``, positional arguments dropped."""

    class Point(WireModel):
        x: int | None = None
        y: int | None = None

    assert "_wire_attrs_" not in Point.__dict__
    p = Point(1, 2)
    assert (p.x, p.y) == (1, 2)
    assert "_wire_attrs_" in Point.__dict__
    q = Point(3, y=4)
    assert (q.x, q.y) == (3, 4)
    assert p.to_wire() == {"x": 1, "y": 2}


def test_date_times_without_wire_text_copy_and_pickle() -> None:
    """WireDatetime.__reduce_ex__: ``getattr(self, "wire")`` without its default (a value
    made in code has no text) and the protocol passed on as ``None``."""
    made = WireDatetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    for clone in (copy.copy(made), copy.deepcopy(made), pickle.loads(pickle.dumps(made))):
        assert clone == made
        assert clone.tzinfo == UTC
    parsed = parse_wire_datetime("2024-01-02T03:04:05.000+01:00")
    for clone in (copy.copy(parsed), pickle.loads(pickle.dumps(parsed, protocol=2))):
        assert clone == parsed
        assert clone.wire == "2024-01-02T03:04:05.000+01:00"
    assert made.__reduce_ex__(2)[0] is not parse_wire_datetime


def test_markers_and_module_attributes() -> None:
    """_Mismatch / _Pending.__repr__ and the module ``__getattr__`` message."""
    assert repr(_models.MISMATCH) == "MISMATCH"
    assert repr(_models.PENDING) == "PENDING"
    with pytest.raises(AttributeError) as info:
        _models.no_such_thing  # noqa: B018
    assert str(info.value) == "module 'aiocamp.core._models' has no attribute 'no_such_thing'"


def test_xml_scalar_conversions_of_every_kind() -> None:
    """_text_float (an int kept, text parsed), _number (int, float, stripped text, bad
    text), _decimal (a float through its repr), _datetime_or_date (a space-separated
    date-time), _int_or_str (only int or str accepted)."""

    class Reading(WireModel):
        WIRE_FORMAT: ClassVar[str] = "xml"
        ratio: float | None = None
        amount: int | float | None = None
        price: Decimal | None = None
        when: datetime | date | None = None
        ref: int | str | None = None

    r = Reading.from_wire(
        {"ratio": "0.5", "amount": " 4 ", "price": " 1.50 ", "when": "2020-01-02 03:04:05"}
    )
    assert r.ratio == 0.5
    assert r.ratio.__class__ is float
    assert r.amount == 4
    assert r.amount.__class__ is int
    assert r.price == Decimal("1.50")
    assert str(r.price) == "1.50"
    assert r.when == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert isinstance(r.when, WireDatetime)
    assert r.when.wire == "2020-01-02 03:04:05"
    assert r.extra == {}
    r = Reading.from_wire(
        {"ratio": 3, "amount": "2.5", "price": 0.1, "ref": 7, "when": "2020-01-02"}
    )
    assert r.ratio == 3
    assert r.ratio.__class__ is int
    assert r.amount == 2.5
    assert r.price == Decimal("0.1")
    assert r.ref == 7
    assert r.when == date(2020, 1, 2)
    assert Reading.from_wire({"amount": 5.5, "ref": "x"}).amount == 5.5
    assert Reading.from_wire({"amount": 6}).amount == 6
    assert Reading.from_wire({"ref": "x"}).ref == "x"
    bad = Reading.from_wire(
        {"ratio": "half", "amount": "lots", "price": "cheap", "ref": {"@a": "1"}, "when": "soon"}
    )
    assert (bad.ratio, bad.amount, bad.price, bad.ref, bad.when) == (None,) * 5
    assert bad.extra == {
        "ratio": "half",
        "amount": "lots",
        "price": "cheap",
        "ref": {"@a": "1"},
        "when": "soon",
    }
    assert Reading.from_wire({"amount": [1]}).extra == {"amount": [1]}
    assert Reading.from_wire({"ref": True}).extra == {"ref": True}


def test_json_floats_and_decimals() -> None:
    """_float: an int is kept for a float field (``is not int``, ``and False``,
    ``or True``); a string is drift; _decimal from a JSON number."""

    class Money(WireModel):
        rate: float | None = None
        total: Decimal | None = None

    m = Money.from_wire({"rate": 2, "total": 0.25})
    assert m.rate == 2
    assert m.rate.__class__ is int
    assert m.total == Decimal("0.25")
    assert Money.from_wire({"rate": 2.5}).rate == 2.5
    s = Money.from_wire({"rate": "2.5", "total": [1]})
    assert s.rate is None
    assert s.total is None
    assert s.extra == {"rate": "2.5", "total": [1]}


def test_deleting_a_lazy_field_and_extra() -> None:
    """_LazyField.__delete__ / _Settled.__delete__: the object passed on (``None``)."""

    class Tree(WireModel):
        leaf: Leaf | None = None
        leaves: list[Leaf] | None = None

    t = Tree.from_wire({"leaf": {"id": 1}, "leaves": [{"id": 2}], "x": 1})
    del t.leaf
    del t.leaves
    with pytest.raises(AttributeError):
        t.leaf  # noqa: B018
    with pytest.raises(AttributeError):
        t.leaves  # noqa: B018
    del t.extra
    with pytest.raises(AttributeError):
        t.extra  # noqa: B018


def test_the_converter_hooks_only_models() -> None:
    """_is_model: each ``and`` turned ``or``, ``issubclass`` arguments dropped or
    ``None``, ``is WireModel``: plain types keep cattrs' own hooks, every model class
    (declared now) goes through its wire codec (``extra`` kept)."""

    class Fresh(WireModel):
        id: int | None = None

    conv = _models.converter
    got = conv.structure({"id": 1, "zzz": 2}, Fresh)
    assert isinstance(got, Fresh)
    assert got.id == 1
    assert got.extra == {"zzz": 2}
    assert conv.unstructure(got) == {"id": 1, "zzz": 2}
    assert conv.structure("5", int) == 5
    assert conv.structure([1, "2"], list[int]) == [1, 2]
    assert [r.id for r in conv.structure([{"id": 3}], list[Fresh])] == [3]
    assert conv.unstructure({"a": [1]}) == {"a": [1]}
    dt = datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert conv.unstructure(dt) is dt


def json_everything() -> type[WireModel]:
    """A JSON model with a field of every kind the codec builder knows, declared now."""

    class Everything(WireModel):
        anything: Any = None
        n: int | None = None
        s: str | None = None
        b: bool | None = None
        f: float | None = None
        num: int | float | None = None
        dec: Decimal | None = None
        at: datetime | None = None
        day: date | None = None
        when: datetime | date | None = None
        ref: int | str | None = None
        obj: dict[str, Any] | None = None
        leaf: Leaf | None = None
        leaves: list[Leaf] | None = None
        ints: list[int] | None = None
        stamps: list[datetime] | None = None
        days: list[date | None] | None = None
        anys: list[Any] | None = None
        count: int | None = 5

    return Everything


JSON_RECORD: dict[str, Any] = {
    "anything": {"x": [1]},
    "n": 7,
    "s": "text",
    "b": False,
    "f": 1.5,
    "num": 3,
    "dec": "2.50",
    "at": "2024-01-02T03:04:05.120+02:00",
    "day": "2024-01-02",
    "when": "2024-01-03",
    "ref": "r-1",
    "obj": {"k": "v"},
    "leaf": {"id": 1, "more": True},
    "leaves": [{"id": 2}, {"id": 3}],
    "ints": [1, 2],
    "stamps": ["2024-01-02T03:04:05Z"],
    "days": ["2024-01-02", None],
    "anys": [1, "a", None],
    "count": None,
}


def test_a_json_model_of_every_kind_decodes_and_encodes_exactly() -> None:
    """_build (JSON): the generated decode / encode lines of every field kind (scalar
    tests ``is not T`` / ``not in T`` / ``True``, converters per format, lazy nested
    models and lists, scalar lists, dates written back as text), _scalar_kind's kind
    names, _strip_none, _wire_name, the plain default kept (_declare)."""
    Everything = json_everything()
    assert Everything().count == 5
    e = Everything.from_wire(JSON_RECORD)
    assert e.anything == {"x": [1]}
    assert (e.n, e.s, e.b, e.f, e.num) == (7, "text", False, 1.5, 3)
    assert e.b is False
    assert e.dec == Decimal("2.50")
    assert isinstance(e.at, WireDatetime)
    assert e.at == datetime(2024, 1, 2, 1, 4, 5, 120_000, tzinfo=UTC)
    assert e.day == date(2024, 1, 2)
    assert e.when == date(2024, 1, 3)
    assert not isinstance(e.when, datetime)
    assert e.ref == "r-1"
    assert e.obj == {"k": "v"}
    assert e.count is None
    assert isinstance(e.leaf, Leaf)
    assert e.leaf.id == 1
    assert e.leaf.extra == {"more": True}
    assert [x.id for x in e.leaves or []] == [2, 3]
    assert all(isinstance(x, Leaf) for x in e.leaves or [])
    assert e.ints == [1, 2]
    assert e.stamps == [datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)]
    assert e.days == [date(2024, 1, 2), None]
    assert e.anys == [1, "a", None]
    assert e.extra == {}
    # a decimal stays a Decimal (the JSON codec writes it as text); a null date item is
    # written back as null (it raised AttributeError before the fix)
    assert e.to_wire() == {**JSON_RECORD, "dec": Decimal("2.50")}
    assert json.loads(JSON.encode(e.to_wire())) == JSON_RECORD
    # values set in code: dates written as text, nested models encoded, None left out
    made = Everything(
        n=1,
        at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        day=date(2024, 1, 2),
        when=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
        leaf=Leaf(id=9),
        leaves=[Leaf(id=8)],
        stamps=[datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)],
        days=[date(2024, 1, 3)],
        ints=[4],
        anys=[None],
        count=None,
    )
    assert made.to_wire() == {
        "n": 1,
        "at": "2024-01-02T03:04:05Z",
        "day": "2024-01-02",
        "when": "2024-01-02T03:04:05-05:00",
        "leaf": {"id": 9},
        "leaves": [{"id": 8}],
        "stamps": ["2024-01-02T03:04:05Z"],
        "days": ["2024-01-03"],
        "ints": [4],
        "anys": [None],
    }
    # a decoded record writes back the nulls it carried and leaves out what it lacked
    nulls = dict.fromkeys(JSON_RECORD)
    assert Everything.from_wire(nulls).to_wire() == nulls
    assert Everything.from_wire({"n": 2}).to_wire() == {"n": 2}
    some = Everything.from_wire({"n": 2})
    some.day = date(2020, 5, 6)
    some.leaves = [Leaf(id=4)]
    some.ints = [5]
    assert some.to_wire() == {"n": 2, "day": "2020-05-06", "leaves": [{"id": 4}], "ints": [5]}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("n", "seven", "an integer"),
        ("n", True, "an integer"),
        ("s", 5, "a string"),
        ("b", "yes", "a boolean"),
        ("f", "1.5", "a number"),
        ("num", "3", "a number"),
        ("dec", "lots", "a decimal number"),
        ("at", "yesterday", "an ISO 8601 date-time"),
        ("at", 5, "an ISO 8601 date-time"),
        ("day", "2024-1-2", "an ISO 8601 date"),
        ("day", 5, "an ISO 8601 date"),
        ("when", "soon", "an ISO 8601 date-time or date"),
        ("ref", 1.5, "an integer or a string"),
        ("obj", [1], "an object"),
        ("leaf", [1], "an object"),
        ("leaf", "x", "an object"),
        ("leaves", {"id": 1}, "a list"),
        ("leaves", [{"id": 1}, 2], "a list"),
        ("ints", [1, "2"], "a list"),
        ("ints", "1", "a list"),
        ("stamps", ["later"], "a list"),
        ("days", {"a": 1}, "a list"),
    ],
)
def test_each_json_kind_drifts_and_raises_in_strict_mode(field, value, expected) -> None:
    """_build: the drift lines of every field kind (``F.drift(v, strict)``, ``bad``
    collected, the value left absent and kept in ``extra``), the ``expected`` wording per
    kind (_SCALARS names, ``a list``, ``an object``), _finish."""
    Everything = json_everything()
    record = {"n": 1, field: value} if field != "n" else {field: value, "s": "x"}
    e = Everything.from_wire(record)
    assert getattr(e, field) is None
    assert e.extra == {field: value}
    assert e.to_wire() == record
    assert aiocamp.decode_stats() == {f"Everything.{field}": 1}
    shown = repr(value)
    with pytest.raises(errors.DecodeError) as info:
        Everything.from_wire(record, strict=True)
    assert str(info.value) == f"field 'Everything.{field}': expected {expected}, got {shown}"


def xml_everything() -> type[WireModel]:
    """An XML model (kebab case) with every list shape, declared now."""

    class Sheet(WireModel):
        WIRE_FORMAT: ClassVar[str] = "xml"
        WIRE_CASE: ClassVar[str] = "kebab"
        sheet_id: int | None = None
        ok: bool | None = None
        ratio: float | None = None
        at: datetime | None = None
        day: date | None = None
        leaf: Tag | None = None
        tags: list[Tag] | None = wire(item="tag")
        entries: list[Tag] | None = wire(item="entry", xml_array=False)
        ids: list[int] | None = wire(item="id")
        stamps: list[datetime] | None = wire(item="at")
        anys: list[Any] | None = wire(item="x")

    return Sheet


SHEET = b"""<sheet>
  <sheet-id type="integer">5</sheet-id>
  <ok type="boolean">true</ok>
  <ratio>0.5</ratio>
  <at type="datetime">2024-01-02T03:04:05+01:00</at>
  <day>2024-01-02</day>
  <leaf><name>one</name></leaf>
  <tags type="array"><tag><name>a</name></tag><tag><name>b</name></tag></tags>
  <entries><entry><name>e</name></entry></entries>
  <ids type="array"><id type="integer">1</id><id>2</id></ids>
  <stamps><at>2024-01-02T03:04:05Z</at><at>2024-01-03 00:00:00</at></stamps>
  <anys><x>1</x><x><y>2</y></x></anys>
  <other>kept</other>
</sheet>"""


def test_an_xml_model_of_every_list_shape_decodes_and_round_trips() -> None:
    """_build (XML): kebab wire names (_wire_name), text converters per format, lazy
    XML lists (_object_items, _xml_items: typed array, container of one / many items),
    _list_loader, scalar lists (_scalar_items), ``XmlArray`` vs a plain container on
    encode, ``extra`` kept."""
    Sheet = xml_everything()
    data = XML.decode(SHEET)["sheet"]
    s = Sheet.from_wire(data)
    assert s.WIRE_NAMES["sheet_id"] == "sheet-id"
    assert (s.sheet_id, s.ok, s.ratio) == (5, True, 0.5)
    assert s.at == datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC)
    assert s.day == date(2024, 1, 2)
    assert isinstance(s.leaf, Tag)
    assert s.leaf.name == "one"
    assert [t.name for t in s.tags or []] == ["a", "b"]
    assert [t.name for t in s.entries or []] == ["e"]
    assert s.ids == [1, 2]
    assert s.stamps == [
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 3, tzinfo=UTC),
    ]
    assert s.anys == ["1", {"y": "2"}]
    assert s.extra == {"other": "kept"}
    written = s.to_wire()
    assert list(written) == list(data)
    assert written["ratio"] == 0.5  # converted values are written as their type
    assert written["other"] == "kept"
    # read again from fresh: unread lazy fields write back what came
    again = Sheet.from_wire(data).to_wire()
    assert again["tags"] is data["tags"]
    assert again["entries"] is data["entries"]
    assert again["leaf"] is data["leaf"]
    assert again["stamps"] == s.stamps
    assert isinstance(again["stamps"], XmlArray)
    assert again["stamps"].item_tag == "at"
    # lists set in code
    made = Sheet(ids=[3], tags=[Tag(name="t")], entries=[], stamps=[], anys=["z"])
    out = made.to_wire()
    assert out == {"ids": [3], "tags": [{"name": "t"}], "entries": {}, "stamps": [], "anys": ["z"]}
    assert isinstance(out["ids"], XmlArray)
    assert out["ids"].item_tag == "id"
    assert out["anys"].item_tag == "x"
    assert isinstance(out["tags"], XmlArray)
    assert out["tags"].item_tag == "tag"
    assert XML.encode({"sheet": out}) == (
        b'<?xml version="1.0" encoding="utf-8"?>\n<sheet>'
        b'<tags type="array"><tag><name>t</name></tag></tags><entries></entries>'
        b'<ids type="array"><id type="integer">3</id></ids><stamps type="array"></stamps>'
        b'<anys type="array"><x>z</x></anys></sheet>'
    )


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ({"tag": {"name": "a"}}, ["a"]),
        ({"tag": [{"name": "a"}, {"name": "b"}]}, ["a", "b"]),
        ({}, []),
        ({"@count": "0"}, []),
        ({"@type": "array", "#text": "x"}, []),
        (XmlArray([{"name": "c"}], "tag"), ["c"]),
    ],
)
def test_xml_list_containers_of_every_shape(value, names) -> None:
    """_xml_items: a typed array, one item, many items, an empty container, a container
    holding only attributes or text (``all(k[0] in "@#")``, ``len(value) == 0``)."""
    Sheet = xml_everything()
    for strict in (False, True):
        s = Sheet.from_wire({"tags": value, "ids": {"id": ["1", "2"]}}, strict=strict)
        assert [t.name for t in s.tags or []] == names
        assert s.ids == [1, 2]
        assert s.extra == {}


@pytest.mark.parametrize(
    "value",
    [
        {"other": {"name": "a"}},
        {"@count": "1", "other": "x"},
        "text",
        {"tag": ["x"]},
        {"tag": "x"},
    ],
)
def test_xml_list_containers_that_do_not_fit_are_drift(value) -> None:
    """_xml_items / _object_items / _scalar_items: a container with other elements, text
    for a list, items that are not objects: MISMATCH, the whole field kept in extra."""
    Sheet = xml_everything()
    s = Sheet.from_wire({"tags": value, "ids": value})
    assert s.tags is None
    assert s.ids is None
    assert s.extra == {"tags": value, "ids": value}
    assert s.to_wire() == {"tags": value, "ids": value}
    with pytest.raises(errors.DecodeError, match=r"field 'Sheet.tags': expected a list"):
        Sheet.from_wire({"tags": value}, strict=True)


def test_xml_scalar_lists_convert_and_drift_per_item() -> None:
    """_scalar_items: accepted classes kept, others converted, None kept, one bad item
    makes the field drift (``return MISMATCH``), the converter of the XML format."""
    Sheet = xml_everything()
    s = Sheet.from_wire({"ids": XmlArray([1, " 2 ", None], "id")})
    assert s.ids == [1, 2, None]
    bad = Sheet.from_wire({"ids": XmlArray([1, "two"], "id")})
    assert bad.ids is None
    assert bad.extra == {"ids": [1, "two"]}


def test_declaration_errors_name_the_class_and_field() -> None:
    """_build: the ConfigErrors of an XML list without an item name, a list of objects
    that are not models, a field type it cannot decode, unresolvable annotations."""

    class NoItem(WireModel):
        WIRE_FORMAT: ClassVar[str] = "xml"
        ids: list[int] | None = None

    class DictItems(WireModel):
        rows: list[dict[str, Any]] | None = None

    class Odd(WireModel):
        pair: tuple[int, int] | None = None

    class Unknown(WireModel):
        thing: NotDefinedAnywhere | None = None  # type: ignore[name-defined]  # noqa: F821

    cases = [
        (NoItem, "NoItem.ids: an XML list needs its item name"),
        (DictItems, "DictItems.rows: unsupported list item type dict[str, typing.Any]"),
        (Odd, "Odd.pair: unsupported field type tuple[int, int]"),
        (
            Unknown,
            "cannot resolve the field types of Unknown: name 'NotDefinedAnywhere' is not defined",
        ),
    ]
    for cls, message in cases:
        with pytest.raises(errors.ConfigError) as info:
            cls.from_wire({})
        assert str(info.value) == message


def test_a_subclass_declared_after_its_base_shares_its_slots_and_equality() -> None:
    """_declare: bases declared first (``__mro__[2:]``, ``_declare(None)``, the
    ``_wire_attrs_`` checks), plain defaults (``default=None``), ``eq=True`` (``None`` /
    ``False`` / dropped); _member: the slot found on a base, under its lazy wrapper
    (_LazyField.member)."""

    class Base(WireModel):
        leaf: Leaf | None = None
        leaves: list[Leaf] | None = None
        size: int | None = 3

    class Child(Base):
        name: str | None = "c"

    child = Child(leaf=Leaf(id=1))
    assert (child.size, child.name, child.leaf) == (3, "c", Leaf(id=1))
    assert "_wire_attrs_" in Base.__dict__
    assert [f.name for f in attrs.fields(Child) if not f.name.startswith("_")] == [
        "extra",
        "leaf",
        "leaves",
        "size",
        "name",
    ]
    base = Base.from_wire({"leaf": {"id": 1}, "leaves": [{"id": 2}]})
    assert base.leaf == Leaf(id=1)
    record = {"leaf": {"id": 5}, "leaves": [{"id": 6}], "name": "n"}
    a, b = Child.from_wire(record), Child.from_wire(record)
    assert a == b
    assert a.leaf == Leaf(id=5)
    assert a == b  # one read, one not: still equal
    assert a != Child.from_wire({**record, "name": "m"})
    assert [x.id for x in b.leaves or []] == [6]
    assert b.to_wire() == record
    assert Child.from_wire({"leaf": {"id": 5}}).to_wire() == {"leaf": {"id": 5}}
    assert Base(size=None) == Base(size=None)
    assert Base() != Base(size=4)


def test_date_times_in_every_accepted_form_keep_offset_and_text() -> None:
    """parse_wire_datetime: the ``%Y-%m-%d %H:%M:%S %Z`` fallback (format padded or
    re-cased), ``WireDatetime.combine`` (``None`` value, date, time or zone, an argument
    dropped, ``tzinfo and UTC``) for the RFC 822 form with its own offset;
    format_wire_datetime: a naive value set in code is written as UTC (``value = None``,
    ``tzinfo=None``)."""

    class Stamp(WireModel):
        at: datetime | None = None

    for text, expected, offset in [
        ("2011-11-17 10:19:57 UTC", datetime(2011, 11, 17, 10, 19, 57, tzinfo=UTC), 0),
        ("Thu, 17 Nov 2011 10:19:57 +0100", datetime(2011, 11, 17, 9, 19, 57, tzinfo=UTC), 1),
        ("Thu, 17 Nov 2011 10:19:57 -0000", datetime(2011, 11, 17, 10, 19, 57, tzinfo=UTC), 0),
    ]:
        s = Stamp.from_wire({"at": text}, strict=True)
        assert isinstance(s.at, WireDatetime)
        assert s.at == expected
        assert s.at.utcoffset() == timedelta(hours=offset)
        assert (s.at.hour, s.at.minute, s.at.second) == (10, 19, 57)
        assert s.at.wire == text
        assert s.to_wire() == {"at": text}
    assert Stamp(at=datetime(2024, 1, 2, 3, 4, 5)).to_wire() == {"at": "2024-01-02T03:04:05Z"}
    assert Stamp(at=datetime(2024, 1, 2, 3, 4, 5, 6)).to_wire() == {
        "at": "2024-01-02T03:04:05.000006Z"
    }


def test_only_plain_and_rfc822_dates_are_dates() -> None:
    """_plain_date: the RFC 822 date (``found = None``, ``or True``) and a ten-character
    ISO week date that would not round-trip (``len(text) == 10 or ...``)."""

    class Day(WireModel):
        day: date | None = None

    assert Day.from_wire({"day": "Wed, 18 Oct 2006"}).day == date(2006, 10, 18)
    week = Day.from_wire({"day": "2022-W46-2"})
    assert week.day is None
    assert week.extra == {"day": "2022-W46-2"}
    assert Day.from_wire({"day": "2022-11-15"}).day == date(2022, 11, 15)


def test_drift_messages_shorten_long_values_and_log_the_wire_name(caplog) -> None:
    """_shown: 80 characters shown whole, 81 cut to 77 and ``...`` (``< 80``, ``<= 81``,
    ``[:78]``, ``XX...XX``, ``or True``); _FieldInfo.drift's log line (format and
    arguments: wire name, expected) and _build passing the wire name (``None``)."""
    caplog.set_level(logging.WARNING, logger="aiocamp.models")

    class Note(WireModel):
        body_text: int | None = wire("Body")

    fits = "x" * 78  # repr adds two quotes: 80 characters
    with pytest.raises(errors.DecodeError) as info:
        Note.from_wire({"Body": fits}, strict=True)
    assert str(info.value) == f"field 'Note.body_text': expected an integer, got '{fits}'"
    long = "y" * 79  # 81 characters
    with pytest.raises(errors.DecodeError) as info:
        Note.from_wire({"Body": long}, strict=True)
    assert str(info.value) == (f"field 'Note.body_text': expected an integer, got '{'y' * 76}...")
    Note.from_wire({"Body": "z"})
    assert [r.getMessage() for r in caplog.records if r.name == "aiocamp.models"] == [
        "field Note.body_text (wire name 'Body'): expected an integer, got 'z'; kept in "
        "extra, field left absent (later mismatches of this field are only counted)"
    ]


def test_from_wire_accepts_dict_subclasses_and_names_what_it_got() -> None:
    """WireModel.from_wire: ``is not dict or not isinstance`` (a dict subclass refused)
    and the type named in the error (``type(None)``)."""
    from collections import OrderedDict

    class Row(WireModel):
        id: int | None = None

    row = Row.from_wire(OrderedDict(id=3, more=4))
    assert row.id == 3
    assert row.extra == {"more": 4}
    with pytest.raises(errors.DecodeError) as info:
        Row.from_wire([1])  # type: ignore[arg-type]
    assert str(info.value) == "expected an object for Row, got list"


def test_snake_case_names_stay_and_json_scalar_lists_need_a_list() -> None:
    """_wire_name: snake case keeps underscores (``case == "kebab" or True``);
    _scalar_items: a JSON value that is not a list is drift (``is list or True`` would
    iterate a string's characters or a dict's keys)."""

    class Labels(WireModel):
        created_by: str | None = None
        names: list[str] | None = None

    assert dict(Labels.WIRE_NAMES) == {"created_by": "created_by", "names": "names"}
    for value in ("ab", {"a": 1}):
        got = Labels.from_wire({"created_by": "me", "names": value})
        assert got.created_by == "me"
        assert got.names is None
        assert got.extra == {"names": value}
    assert Labels.from_wire({"names": ["a", None]}).names == ["a", None]


def test_lists_of_dates_and_date_times_are_written_as_text() -> None:
    """_build: the list encoder's date kinds (``datetime_or_date`` padded / re-cased) and
    ``ns["datetime"]`` in a model whose only dates are in a list."""

    class Only(WireModel):
        whens: list[datetime | date] | None = None

    made = Only(whens=[datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), date(2024, 1, 3)])
    assert made.to_wire() == {"whens": ["2024-01-02T03:04:05Z", "2024-01-03"]}
    got = Only.from_wire({"whens": ["2024-01-02T03:04:05+01:00", "2024-01-03"]})
    assert got.whens == [datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC), date(2024, 1, 3)]
    assert got.to_wire() == {"whens": ["2024-01-02T03:04:05+01:00", "2024-01-03"]}


def test_strict_decodes_nested_models_of_a_fresh_class() -> None:
    """_build: the nested model class in the namespace (``M = None``) used by strict
    decoding; _xml_items: keys starting with ``X`` are not attributes (``XX@#XX``)."""
    Everything = json_everything()
    e = Everything.from_wire(JSON_RECORD, strict=True)
    slot = type(e).__dict__["leaf"].member.__get__(e)
    assert isinstance(slot, Leaf)
    assert slot.id == 1
    assert [x.id for x in type(e).__dict__["leaves"].member.__get__(e)] == [2, 3]
    Sheet = xml_everything()
    odd = Sheet.from_wire({"tags": {"Xtra": "1"}})
    assert odd.tags is None
    assert odd.extra == {"tags": {"Xtra": "1"}}


def test_unsupported_unions_and_missing_slots_are_config_errors() -> None:
    """_build: a union of models is an unsupported type (``isinstance(tp, type) or
    issubclass(...)`` raised TypeError); _member: a field without a slot."""

    class Either(WireModel):
        one: Leaf | Tag | None = None

    with pytest.raises(errors.ConfigError) as info:
        Either.from_wire({})
    assert str(info.value).startswith("Either.one: unsupported field type ")

    class Slotless(WireModel):
        __slots__ = ()
        leaf: Leaf | None = None

    with pytest.raises(errors.ConfigError) as info:
        Slotless.from_wire({})
    assert str(info.value) == "Slotless has no slot 'leaf'"


def test_each_built_codec_shows_its_own_source_in_tracebacks() -> None:
    """_build: ``_counter += 1`` (``= 1``): two classes of the same name get distinct
    linecache entries, each holding its own source."""
    import linecache

    def declare(with_extra_field: bool) -> type[WireModel]:
        if with_extra_field:

            class Same(WireModel):
                a: int | None = None
                b: int | None = None

        else:

            class Same(WireModel):  # type: ignore[no-redef]
                a: int | None = None

        return Same

    first, second = declare(False), declare(True)
    f1 = codec_of(first).decode.__code__.co_filename
    f2 = codec_of(second).decode.__code__.co_filename
    assert f1 != f2
    assert "".join(linecache.getlines(f1)) == codec_of(first).source
    assert "".join(linecache.getlines(f2)) == codec_of(second).source
    assert codec_of(first).source != codec_of(second).source


def test_a_subclass_built_after_its_base_writes_unread_nested_values_untouched() -> None:
    """_member: the slot under the base's lazy wrapper (``isinstance(...) and False``
    would read through the wrapper and decode on encode)."""

    class Holder(WireModel):
        leaf: Leaf | None = None
        leaves: list[Leaf] | None = None

    record = {"leaf": {"id": 1}, "leaves": [{"id": 2}]}
    assert Holder.from_wire(record).leaf == Leaf(id=1)  # the base's codec is built

    class Sub(Holder):
        pass

    out = Sub.from_wire(record).to_wire()
    assert out["leaf"] is record["leaf"]
    assert out["leaves"] is record["leaves"]


def test_the_converter_leaves_plain_attrs_classes_to_cattrs() -> None:
    """_is_model: ``isinstance(tp, type) or ...`` would send every class (here a plain
    attrs class never seen before) to ``from_wire``."""

    @attrs.define
    class Plain:
        x: int

    assert _models.converter.structure({"x": "1"}, Plain) == Plain(x=1)
    assert _models.converter.unstructure(Plain(x=2)) == {"x": 2}
