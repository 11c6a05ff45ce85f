"""XML / JSON codecs and decode errors over HTTP."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from aiohttp import web
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.core import Request, XmlArray
from aiocamp.core._codecs import CODECS

from .helpers import make_session

XML = CODECS["xml"]
JSON = CODECS["json"]


def test_xml_typed_attributes_are_normalised() -> None:
    data = XML.decode(
        b"""<person>
          <id type="integer">4</id>
          <admin type="boolean">true</admin>
          <born-on type="date">1980-02-03</born-on>
          <created-at type="datetime">2007-02-27T03:11:52Z</created-at>
          <price type="decimal">10.50</price>
          <ratio type="float">0.25</ratio>
          <owner-id type="integer"></owner-id>
          <group-id type="integer" nil="true"></group-id>
          <title></title>
          <tags type="array"><tag><id type="integer">1</id></tag></tags>
          <empty type="array"></empty>
          <party type="Person"><name>Ann</name></party>
        </person>"""
    )
    p = data["person"]
    assert p["id"] == 4
    assert p["admin"] is True
    assert p["born-on"] == date(1980, 2, 3)
    assert p["created-at"] == datetime(2007, 2, 27, 3, 11, 52, tzinfo=UTC)
    assert p["price"] == Decimal("10.50")
    assert p["ratio"] == 0.25
    assert p["owner-id"] is None
    assert p["group-id"] is None
    assert p["title"] is None
    assert p["tags"] == [{"id": 1}]
    assert isinstance(p["tags"], XmlArray)
    assert p["tags"].item_tag == "tag"
    assert p["empty"] == []
    assert p["party"] == {"@type": "Person", "name": "Ann"}


def test_xml_encodes_back_into_the_same_shape() -> None:
    original = (
        b'<deal><id type="integer">4</id><price type="decimal">1.5</price>'
        b'<visible type="boolean">false</visible><due type="date">2024-01-02</due>'
        b'<parties type="array"><party><name>A</name></party><party><name>B</name></party>'
        b'</parties><note nil="true"></note></deal>'
    )
    data = XML.decode(original)
    again = XML.decode(XML.encode(data))
    assert again == data
    assert b'<price type="decimal">1.5</price>' in XML.encode(data)


def test_xml_encode_refuses_an_array_without_item_name() -> None:
    with pytest.raises(errors.EncodeError):
        XML.encode({"a": {"b": XmlArray([1])}})


def test_json_round_trip_with_dates() -> None:
    data = {"due_on": date(2024, 1, 2), "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}
    assert JSON.decode(JSON.encode(data)) == {"due_on": "2024-01-02", "at": "2024-01-02T03:04:05Z"}


def test_billion_laughs_is_rejected_quickly() -> None:
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]><lolz>&lol9;</lolz>"
    )
    started = time.monotonic()
    with pytest.raises(errors.DecodeError, match="entities"):
        XML.decode(lol, status=200, url="https://x/y.xml")
    assert time.monotonic() - started < 0.5


def test_bad_typed_value_is_a_decode_error() -> None:
    with pytest.raises(errors.DecodeError, match="bad typed XML value"):
        XML.decode(b'<a><n type="integer">four</n></a>')


def body_app(body: bytes, content_type: str) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("xml", b"<people><person><id>1</id></people>"),  # malformed
        ("xml", b"<people><person><id>1</id></person><per"),  # truncated
        ("json", b'{"id": 1,, }'),  # malformed
        ("json", b'[{"id": 1}, {"id"'),  # truncated
    ],
)
async def test_undecodable_bodies_raise_decode_error_with_context(serve, fmt, body) -> None:
    ctype = "application/xml" if fmt == "xml" else "application/json"
    server = await serve(body_app(body, ctype))
    async with make_session(str(server.make_url("")), fmt=fmt) as s:
        with pytest.raises(errors.DecodeError) as info:
            await s.request(Request("GET", "/people.x"))
    err = info.value
    assert err.status == 200
    assert err.url.endswith("/people.x")
    assert err.body == body[: len(err.body)]
    assert "secret-token-123" not in str(err)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\ufffe\uffff")))
@example("line one\r\nline two\r")
@example("tab\tand  spaces\n")
def test_xml_text_round_trips_exactly_or_is_refused_on_encode(text: str) -> None:
    data = {"a": {"b": text, "@t": text}}
    try:
        body = XML.encode(data)
    except errors.EncodeError:
        assert any(ord(c) < 32 and c not in "\t\n\r" for c in text)
        return
    again = XML.decode(body)["a"]
    assert again["@t"] == text
    assert again.get("b") == (text.strip() or None)


@pytest.mark.parametrize("text", ["\ud800", "a\x01", "\ufffe", "\x00"])
def test_text_xml_cannot_carry_is_an_encode_error(text: str) -> None:
    with pytest.raises(errors.EncodeError, match="not allowed in XML"):
        XML.encode({"a": {"b": text}})
