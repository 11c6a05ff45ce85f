"""Kill tests for ``aiocamp.core._codecs`` (issue 7, mutation testing).

Each test names, in its docstring, the mutants of ``_codecs.py`` it was written to kill.
They assert exact wire text and exact error messages, which the round-trip and fuzz tests
(decode(encode(x)) == x) cannot see.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aiocamp import errors
from aiocamp.core import XmlArray
from aiocamp.core._codecs import CODECS, Codec, format_datetime

XML = CODECS["xml"]
JSON = CODECS["json"]


def test_format_datetime_writes_exact_iso_text() -> None:
    """format_datetime: ``tzinfo is not None`` / ``value = None`` / ``tzinfo=None`` for a
    naive value, ``micro = None``, the ``seconds`` / ``milliseconds`` / ``microseconds``
    choice (``or True``, ``and False``, ``micro % 1001``, ``micro / 1000``, upper-cased or
    padded timespec names) and the ``Z`` suffix only for ``+00:00`` (``or True``)."""
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9)) == "2024-05-06T07:08:09Z"
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)) == "2024-05-06T07:08:09Z"
    plus2 = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9, tzinfo=plus2)) == (
        "2024-05-06T07:08:09+02:00"
    )
    # milliseconds when they suffice, microseconds when needed, none when zero
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9, 120_000, tzinfo=UTC)) == (
        "2024-05-06T07:08:09.120Z"
    )
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9, 1_000)) == "2024-05-06T07:08:09.001Z"
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9, 1_001)) == ("2024-05-06T07:08:09.001001Z")
    assert format_datetime(datetime(2024, 5, 6, 7, 8, 9, 7, tzinfo=plus2)) == (
        "2024-05-06T07:08:09.000007+02:00"
    )
    # the same text reaches the wire through both codecs
    assert JSON.encode({"at": datetime(2024, 5, 6, 7, 8, 9, 1_000)}) == (
        b'{"at":"2024-05-06T07:08:09.001Z"}'
    )
    body = XML.encode({"a": {"at": datetime(2024, 5, 6, 7, 8, 9, tzinfo=plus2)}})
    assert b'<at type="datetime">2024-05-06T07:08:09+02:00</at>' in body


def test_xml_booleans_decode_and_encode_in_lower_case() -> None:
    """_parse_bool: ``"1"`` -> ``"XX1XX"`` (a ``1`` must be true), the message of a bad
    boolean (``ValueError(None)``); _xml_value: ``"TRUE"`` / ``"FALSE"`` on encode."""
    data = XML.decode(
        b'<a><t type="boolean">1</t><f type="boolean">0</f><u type="boolean">TRUE</u></a>'
    )
    assert data == {"a": {"t": True, "f": False, "u": True}}
    assert data["a"]["t"] is True
    with pytest.raises(errors.DecodeError) as info:
        XML.decode(b'<a><b type="boolean">maybe</b></a>')
    assert info.value.reason == "bad typed XML value: not a boolean: 'maybe'"
    body = XML.encode({"a": {"t": True, "f": False}})
    assert b'<t type="boolean">true</t>' in body
    assert b'<f type="boolean">false</f>' in body


def test_xml_array_keeps_the_attributes_it_is_given() -> None:
    """XmlArray.__init__: ``attributes if (attributes is not None) and False``: attributes
    passed in were dropped, so encoding lost ``count``."""
    items = XmlArray([1, 2], "id", {"@count": "2"})
    assert items.attributes == {"@count": "2"}
    assert items.item_tag == "id"
    assert list(items) == [1, 2]
    body = XML.encode({"a": {"ids": items}})
    assert b'<ids count="2" type="array"><id type="integer">1</id>' in body
    assert XmlArray().attributes == {}
    assert XmlArray().item_tag is None


def test_xml_encode_errors_say_what_is_wrong() -> None:
    """_xml_value: the EncodeError messages (``None``, upper / lower case, the type name
    taken from ``type(None)``); a key starting with ``X`` converted like any other
    (``k[0] in "XX@#XX"`` would pass its value through raw)."""
    with pytest.raises(errors.EncodeError) as info:
        XML.encode({"a": {"list": XmlArray([1])}})
    assert str(info.value) == "cannot write XML: an XML array needs the element name of its items"
    with pytest.raises(errors.EncodeError) as info:
        XML.encode({"a": {"bad": {1, 2}}})
    assert str(info.value) == "cannot write XML: cannot write a set as XML"
    body = XML.encode({"a": {"Xval": 5, "Xday": date(2024, 1, 2), "@id": "7"}})
    assert body == (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<a id="7"><Xval type="integer">5</Xval><Xday type="date">2024-01-02</Xday></a>'
    )


def test_the_codec_base_is_abstract() -> None:
    """Codec.decode / Codec.encode: the base class refuses both."""
    with pytest.raises(NotImplementedError):
        Codec().decode(b"<a/>")
    with pytest.raises(NotImplementedError):
        Codec().encode({"a": 1})


@pytest.mark.parametrize(
    ("codec", "body", "reason"),
    [
        ("xml", b"<a><b></a>", "malformed XML: mismatched tag: line 1, column 8"),
        (
            "xml",
            b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
            "rejected XML: entities are disabled",
        ),
        ("xml", b"<a>" * 300, "rejected XML: elements nested deeper than 128 levels"),
        (
            "xml",
            b'<a><n type="integer">x</n></a>',
            "bad typed XML value: invalid literal for int() with base 10: 'x'",
        ),
        (
            "xml",
            b'<?xml version="1.0" encoding="bogus"?><a/>',
            "malformed XML: unknown encoding: bogus",
        ),
        ("json", b'{"a":', "malformed JSON: Input data was truncated"),
        ("json", b"[" * 5000, "rejected JSON: nested too deeply"),
    ],
)
def test_each_decode_failure_has_its_own_reason_and_the_context(codec, body, reason) -> None:
    """XmlCodec.decode / JsonCodec.decode: every reason string (``None``, case, padding),
    and the status, URL and body handed to DecodeError (``status=None``, ``url=None``,
    ``body=None``, arguments dropped)."""
    with pytest.raises(errors.DecodeError) as info:
        CODECS[codec].decode(body, status=502, url="http://h.test/x")
    err = info.value
    assert err.reason == reason
    assert err.status == 502
    assert err.url == "http://h.test/x"
    assert err.body == body[: len(err.body)]
    assert err.body
    assert str(err).startswith(f"{reason} (HTTP 502 from http://h.test/x)")


@pytest.mark.parametrize("body", [b"", b"  \r\n\t "])
def test_empty_and_blank_bodies_decode_to_none(body) -> None:
    """XmlCodec.decode / JsonCodec.decode: ``not body or body.isspace()`` (``and``, ``not``
    dropped): both an empty and a blank body are no data, not an error."""
    assert XML.decode(body) is None
    assert JSON.decode(body) is None


def test_json_encode_exact_bytes_and_failures() -> None:
    """JsonCodec.encode: the standard-library fallback's ``separators`` (``None``, padded),
    ``ensure_ascii=False`` (``True`` would escape), ``allow_nan``, the default hook for
    dates and decimals, ``.encode()``; the fallback's EncodeError messages; _json_default's
    message and the date / decimal branches."""
    big = 2**70
    assert JSON.encode({"a": big, "s": "é", "d": Decimal("1.50"), "l": [1, 2]}) == (
        b'{"a":1180591620717411303424,"s":"\xc3\xa9","d":"1.50","l":[1,2]}'
    )
    assert JSON.encode(
        {"a": big, "day": date(2020, 1, 2), "at": datetime(2020, 1, 2, 3, 4, 5, 1_000)}
    ) == (b'{"a":1180591620717411303424,"day":"2020-01-02","at":"2020-01-02T03:04:05.001Z"}')
    assert JSON.encode({"day": date(2020, 1, 2), "n": Decimal("0.10")}) == (
        b'{"day":"2020-01-02","n":"0.10"}'
    )
    with pytest.raises(errors.EncodeError) as info:
        JSON.encode({"a": big, "b": float("inf")})
    assert str(info.value) == "cannot write JSON: Out of range float values are not JSON compliant"
    with pytest.raises(errors.EncodeError) as info:
        JSON.encode({"a": {1, 2}})
    assert str(info.value) == "cannot write JSON: cannot write a set as JSON"
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(errors.EncodeError) as info:
        JSON.encode(deep)
    assert str(info.value) == "cannot write JSON: the data is nested too deeply"


def test_xml_encode_exact_bytes_and_failures() -> None:
    """XmlCodec.encode: one root element (``!= 1``, ``or``), its message; the control
    character message (``U+0001``, ``:04X``); a CR kept as a character reference; a deep
    tree refused with its own message; full_document (the declaration)."""
    for bad in ({}, {"a": 1, "b": 2}, ["a"]):
        with pytest.raises(errors.EncodeError) as info:
            XML.encode(bad)
        assert str(info.value) == "an XML body needs exactly one root element"
    with pytest.raises(errors.EncodeError) as info:
        XML.encode({"a": {"b": "x\x01y"}})
    assert str(info.value) == "cannot write XML: U+0001 is not allowed in XML"
    assert XML.encode({"a": {"b": "one\rtwo"}}) == (
        b'<?xml version="1.0" encoding="utf-8"?>\n<a><b>one&#13;two</b></a>'
    )
    assert XML.decode(XML.encode({"a": {"b": "one\rtwo"}})) == {"a": {"b": "one\rtwo"}}
    deep: dict[str, object] = {}
    for _ in range(100_000):
        deep = {"d": deep}
    with pytest.raises(errors.EncodeError) as info:
        XML.encode({"a": deep})
    assert str(info.value) == "cannot write XML: the data is nested too deeply"


def test_xml_dates_in_every_form_the_products_send() -> None:
    """parse_datetime: the ``%Y-%m-%d %H:%M:%S %Z`` fallback (text ``None``, format
    ``None`` / dropped / padded / re-cased), the RFC 822 form with its own offset, a naive
    value taken as UTC; parse_date / rfc822_date: ``Wed, 18 Oct 2006``; a date that is
    none of these is a DecodeError naming the format tried."""
    data = XML.decode(
        b"<a>"
        b'<t type="datetime">2011-11-17 10:19:57 UTC</t>'
        b'<r type="datetime">Thu, 17 Nov 2011 10:19:57 +0100</r>'
        b'<n type="datetime">2011-11-17T10:19:57</n>'
        b'<d type="date">Wed, 18 Oct 2006</d>'
        b'<i type="date">2006-10-18</i>'
        b"</a>"
    )["a"]
    assert data["t"] == datetime(2011, 11, 17, 10, 19, 57, tzinfo=UTC)
    assert data["t"].utcoffset() == timedelta(0)
    assert data["r"] == datetime(2011, 11, 17, 9, 19, 57, tzinfo=UTC)
    assert data["r"].utcoffset() == timedelta(hours=1)
    assert data["n"] == datetime(2011, 11, 17, 10, 19, 57, tzinfo=UTC)
    assert data["n"].tzinfo is UTC
    assert data["d"] == date(2006, 10, 18)
    assert data["i"] == date(2006, 10, 18)
    with pytest.raises(errors.DecodeError) as info:
        XML.decode(b'<a><t type="datetime">Thu, 99 Nov</t></a>')
    assert info.value.reason == (
        "bad typed XML value: time data 'Thu, 99 Nov' does not match format '%Y-%m-%d %H:%M:%S %Z'"
    )
    with pytest.raises(errors.DecodeError) as info:
        XML.decode(b'<a><d type="date">Wed, 99 Oct 2006</d></a>')
    assert info.value.reason == "bad typed XML value: Invalid isoformat string: 'Wed, 99 Oct 2006'"


@pytest.mark.parametrize(("codec", "body"), [("xml", b"<a><b></a>"), ("json", b"{")])
def test_a_decode_error_without_context_names_no_url(codec, body) -> None:
    """XmlCodec.decode / JsonCodec.decode: the defaults ``status=None`` and ``url=""``
    (``url="XXXX"`` would claim a URL)."""
    with pytest.raises(errors.DecodeError) as info:
        CODECS[codec].decode(body)
    assert info.value.url == ""
    assert info.value.status is None
    assert "HTTP" not in str(info.value)
    assert str(info.value).startswith(f"malformed {codec.upper()}: ")


def test_a_lone_surrogate_is_escaped_and_dates_and_decimals_still_written() -> None:
    """JsonCodec.encode: the escaping fallback for a lone surrogate keeps the default hook
    (``default=None`` or dropped would refuse the decimal and the dates)."""
    body = JSON.encode(
        {"s": "\ud800x", "d": Decimal("1.5"), "day": date(2020, 1, 2), "at": datetime(2020, 1, 2)}
    )
    assert body == (b'{"s":"\\ud800x","d":"1.5","day":"2020-01-02","at":"2020-01-02T00:00:00Z"}')
