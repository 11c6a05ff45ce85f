"""Mutation kills for ``aiocamp.core._runtime`` (issue 7): the path, query and scalar
helpers the generated resources and the core verbs call, checked value by value.

These are pure functions (no I/O): each test pins the exact text or value a caller gets,
so an inverted check, a lost ``strip`` or a changed spelling fails here.
"""

from __future__ import annotations

import enum
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aiocamp.core._codecs import XmlArray
from aiocamp.core._runtime import (
    UNSET,
    add_query,
    expect_bytes,
    json_items,
    path_param,
    to_bool,
    to_date,
    to_datetime,
    to_decimal,
    to_float,
    to_int,
    to_str,
    xml_container,
    xml_items,
    xml_root,
    xml_value,
)
from aiocamp.errors import ConfigError, DecodeError


class Color(enum.Enum):
    RED = "red"
    SEVEN = 7


def test_unset_is_falsy_and_shows_its_name() -> None:
    """Kills ``__repr__`` -> "XXUNSETXX" / None and ``__bool__`` -> True."""
    assert repr(UNSET) == "UNSET"
    assert bool(UNSET) is False
    assert not UNSET


def test_path_param_quotes_everything_and_refuses_empty_values() -> None:
    """Kills the ``or`` -> ``and`` of the None / UNSET / bool refusal, a dropped ``strip``,
    ``not`` removed, ``quote(safe=...)`` changes and the message mutants (name and value)."""
    assert path_param(5, "id") == "5"
    assert path_param("a b/c?d", "x") == "a%20b%2Fc%3Fd"
    assert path_param("XX", "x") == "XX"
    for bad in (None, UNSET, True, False):
        with pytest.raises(ConfigError) as info:
            path_param(bad, "bucket_id")
        assert str(info.value) == f"path parameter 'bucket_id' is required, got {bad!r}"
    for blank in ("", "   ", "\t"):
        with pytest.raises(ConfigError) as info:
            path_param(blank, "name")
        assert str(info.value) == "path parameter 'name' must not be empty"
    assert path_param(" x ", "n") == "%20x%20"  # stripped only to test emptiness


def test_add_query_spells_every_kind_of_value() -> None:
    """Kills the booleans' spelling, the UTC conversion and ``Z`` suffix of date-times,
    ``strftime`` patterns dropped, the enum value, dict keys as ``name[key]`` (None items
    left out) and lists as ``name[]``, and UNSET / None not skipped."""
    out: list[tuple[str, str]] = []
    add_query(out, "u", UNSET)
    add_query(out, "n", None)
    assert out == []
    add_query(out, "t", True)
    add_query(out, "f", False)
    add_query(out, "i", 7)
    add_query(out, "s", "x y")
    add_query(out, "c", Color.RED)
    add_query(out, "c7", Color.SEVEN)
    add_query(out, "naive", datetime(2024, 1, 2, 3, 4, 5))
    plus2 = timezone(timedelta(hours=2))
    add_query(out, "aware", datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus2))
    add_query(out, "fmt", datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus2), "%Y%m%d %H:%M")
    add_query(out, "d", date(2024, 1, 2))
    add_query(out, "dfmt", date(2024, 1, 2), "%d/%m/%Y")
    add_query(out, "m", {"a": 1, "b": None, "c": False})
    add_query(out, "l", [1, "two", True])
    add_query(out, "tu", (date(2024, 3, 4),))
    add_query(out, "lf", [date(2024, 3, 4)], "%Y%m%d")
    add_query(out, "mf", {"k": date(2024, 3, 4)}, "%Y%m%d")
    assert out == [
        ("t", "true"),
        ("f", "false"),
        ("i", "7"),
        ("s", "x y"),
        ("c", "red"),
        ("c7", "7"),
        ("naive", "2024-01-02T03:04:05Z"),
        ("aware", "2024-01-02T01:04:05Z"),
        ("fmt", "20240102 01:04"),
        ("d", "2024-01-02"),
        ("dfmt", "02/01/2024"),
        ("m[a]", "1"),
        ("m[c]", "false"),
        ("l[]", "1"),
        ("l[]", "two"),
        ("l[]", "true"),
        ("tu[]", "2024-03-04"),
        ("lf[]", "20240304"),
        ("mf[k]", "20240304"),
    ]


def _message(exc: pytest.ExceptionInfo[DecodeError]) -> str:
    return str(exc.value)


def test_scalar_conversions_accept_wire_spellings() -> None:
    """Kills a lost ``strip`` in ``to_int`` / ``to_decimal`` / ``to_bool``, the float
    ``is_integer`` check, ``to_float`` of ints and Decimals, ``to_str`` of numbers and the
    date conversions (a date-time's date, RFC 822 dates)."""
    assert to_int(" 42 ", "f") == 42
    assert to_int("-3", "f") == -3
    assert to_int(5.0, "f") == 5
    assert type(to_int(5.0, "f")) is int
    assert to_float(3, "f") == 3.0
    assert type(to_float(3, "f")) is float
    assert to_float(Decimal("2.5"), "f") == 2.5
    assert to_float("1.25", "f") == 1.25
    assert to_decimal(" 1.10 ", "f") == Decimal("1.10")
    assert str(to_decimal(" 1.10 ", "f")) == "1.10"
    assert to_decimal(3, "f") == Decimal(3)
    assert to_decimal(0.5, "f") == Decimal("0.5")
    assert to_bool(" TRUE ", "f") is True
    assert to_bool("true", "f") is True
    assert to_bool(" False", "f") is False
    assert to_str(12, "f") == "12"
    assert to_str(1.5, "f") == "1.5"
    assert to_str(Decimal("2.50"), "f") == "2.50"
    assert to_datetime("2024-01-02T03:04:05Z", "f") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert to_datetime("2024-01-02T03:04:05", "f").tzinfo is UTC
    assert to_date("2024-01-02", "f") == date(2024, 1, 2)
    assert to_date("Wed, 18 Oct 2006", "f") == date(2006, 10, 18)
    assert to_date(datetime(2024, 5, 6, 23, 0, tzinfo=UTC), "f") == date(2024, 5, 6)
    assert type(to_date(datetime(2024, 5, 6, tzinfo=UTC), "f")) is date


@pytest.mark.parametrize(
    ("convert", "value", "expected"),
    [
        (to_int, "4.5", "an integer"),
        (to_int, 4.5, "an integer"),
        (to_int, True, "an integer"),
        (to_int, None, "an integer"),
        (to_float, True, "a number"),
        (to_float, "abc", "a number"),
        (to_float, None, "a number"),
        (to_decimal, True, "a decimal number"),
        (to_decimal, "x1", "a decimal number"),
        (to_decimal, None, "a decimal number"),
        (to_bool, "yes", "a boolean"),
        (to_bool, 1, "a boolean"),
        (to_str, True, "a string"),
        (to_str, None, "a string"),
        (to_datetime, "not a time", "an ISO 8601 date-time"),
        (to_datetime, 17, "an ISO 8601 date-time"),
        (to_date, "2024-13-45", "an ISO 8601 date"),
        (to_date, 17, "an ISO 8601 date"),
    ],
)
def test_scalar_conversions_refuse_other_values_with_the_field(
    convert, value, expected: str
) -> None:
    """Kills a refused value accepted (``not isinstance(value, bool)`` dropped, ``and`` ->
    ``or``) and every message mutant: the field name, what was expected and the value."""
    with pytest.raises(DecodeError) as info:
        convert(value, "due_on")
    assert str(info.value) == f"field 'due_on': expected {expected}, got {value!r}"


def test_long_values_are_cut_in_messages() -> None:
    """Kills the 80-character bound (``>=``, 81) and the cut (``[:77]``, ``"..."``)."""
    long = "y" * 100
    with pytest.raises(DecodeError) as info:
        to_int(long, "n")
    shown = repr(long)[:77] + "..."
    assert str(info.value) == f"field 'n': expected an integer, got {shown}"
    exact = "z" * 78  # repr is 80 characters: shown whole
    with pytest.raises(DecodeError) as info:
        to_int(exact, "n")
    assert str(info.value).endswith(repr(exact))
    longer = "z" * 79  # repr is 81 characters: cut
    with pytest.raises(DecodeError) as info:
        to_int(longer, "n")
    assert str(info.value).endswith(repr(longer)[:77] + "...")


def test_xml_root_and_value() -> None:
    """Kills ``or`` -> ``and`` of the root check, an empty root not read as ``{}``, text
    under a root accepted, the one-element check of ``xml_value`` and their messages."""
    assert xml_root({"person": {"id": 1}}, "person") == {"id": 1}
    assert xml_root({"person": None}, "person") == {}
    with pytest.raises(DecodeError) as info:
        xml_root({"company": {}}, "person")
    assert str(info.value) == "expected a <person> document, got ['company']"
    with pytest.raises(DecodeError) as info:
        xml_root([1], "person")
    assert str(info.value) == "expected a <person> document, got list"
    with pytest.raises(DecodeError) as info:
        xml_root({"person": "hello"}, "person")
    assert str(info.value) == "expected elements inside <person>, got str"
    assert xml_value({"count": 3}) == 3
    for bad, name in (({"a": 1, "b": 2}, "dict"), ({}, "dict"), ([3], "list")):
        with pytest.raises(DecodeError) as info:
            xml_value(bad)
        assert str(info.value) == f"expected a single XML element, got {name}"


def test_xml_items_reads_arrays_and_containers() -> None:
    """Kills the collection-root checks, the attribute skip (``@``/``#`` keys), a single
    child not wrapped in a list, and the messages."""
    assert xml_items(None) == []
    assert xml_items({"people": None}) == []
    assert xml_items({"people": [{"id": 1}, {"id": 2}]}, "people") == [{"id": 1}, {"id": 2}]
    assert xml_items({"people": {"@type": "array", "person": {"id": 1}}}) == [{"id": 1}]
    assert xml_items({"people": {"#text": "x", "person": [{"id": 1}, {"id": 2}]}}) == [
        {"id": 1},
        {"id": 2},
    ]
    assert xml_items({"list": {"a": {"id": 1}, "b": [{"id": 2}]}}) == [{"id": 1}, {"id": 2}]
    for bad, name in (({"a": [], "b": []}, "dict"), ({}, "dict"), ([1], "list")):
        with pytest.raises(DecodeError) as info:
            xml_items(bad)
        assert str(info.value) == f"expected one XML collection root, got {name}"
    with pytest.raises(DecodeError) as info:
        xml_items({"companies": []}, "people")
    assert str(info.value) == "expected a <people> collection, got <companies>"
    assert xml_items({"people": []}, "people") == []
    with pytest.raises(DecodeError) as info:
        xml_items({"people": "text"})
    assert str(info.value) == "expected records inside <people>, got text"


def test_json_items_and_the_small_helpers() -> None:
    """Kills ``json_items`` key handling (a missing key is an empty list, a non-object
    refused), the list check, ``expect_bytes`` and ``xml_container`` shapes."""
    assert json_items([{"id": 1}]) == [{"id": 1}]
    assert json_items(None) == []
    assert json_items({"items": [1, 2]}, "items") == [1, 2]
    assert json_items({"other": [1]}, "items") == []
    assert json_items({"items": None}, "items") == []
    with pytest.raises(DecodeError) as info:
        json_items([1], "items")
    assert str(info.value) == "expected an object with 'items', got list"
    with pytest.raises(DecodeError) as info:
        json_items({"a": 1})
    assert str(info.value) == "expected a JSON list, got dict"
    with pytest.raises(DecodeError) as info:
        json_items({"items": "x"}, "items")
    assert str(info.value) == "expected a JSON list, got str"
    expect_bytes(b"x", "data")
    expect_bytes(bytearray(b"x"), "data")
    expect_bytes(memoryview(b"x"), "data")
    with pytest.raises(ConfigError) as cfg:
        expect_bytes("text", "data")
    assert str(cfg.value) == "data must be bytes, got str"
    assert xml_container([], "id") == {}
    assert xml_container([1], "id") == {"id": 1}
    assert xml_container([1, 2], "id") == {"id": [1, 2]}
    assert not isinstance(xml_container([1, 2], "id")["id"], XmlArray)


def test_date_times_are_written_in_utc_whatever_the_local_zone(monkeypatch) -> None:
    """Kills ``replace(tzinfo=None)`` for a naive value (read as local time) and
    ``astimezone(None)`` (converted to local time): both equal UTC only where the
    machine's zone is UTC, so the zone is set to Tokyo here."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        out: list[tuple[str, str]] = []
        add_query(out, "naive", datetime(2024, 1, 2, 3, 4, 5))
        add_query(out, "aware", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
        assert out == [("naive", "2024-01-02T03:04:05Z"), ("aware", "2024-01-02T03:04:05Z")]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_messages_and_element_names_beginning_with_x() -> None:
    """Kills ``list(data)[:2]`` in ``xml_root``'s message and ``"XX@#XX"`` in
    ``xml_items`` (a child element whose name starts with X skipped)."""
    with pytest.raises(DecodeError) as info:
        xml_root({"a": 1, "b": 2}, "person")
    assert str(info.value) == "expected a <person> document, got ['a']"
    assert xml_items({"list": {"Xitem": [{"id": 1}, {"id": 2}]}}) == [{"id": 1}, {"id": 2}]
