"""JSON codec: integers beyond 64 bits round-trip exactly, deep nesting is a DecodeError."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.basecamp4.models import Todo
from aiocamp.core import Request
from aiocamp.core._codecs import CODECS

from .helpers import FIXTURES, app_of, make_session

JSON = CODECS["json"]

BIG = [2**64, 2**64 + 1, -(2**63) - 1, 10**30, -(10**40) + 7, 2**64 - 1, -(2**63)]


@pytest.mark.parametrize("number", BIG)
def test_integers_beyond_64_bits_decode_exactly(number) -> None:
    body = f'{{"id": {number}, "ids": [{number}]}}'.encode()
    data = JSON.decode(body)
    assert data == {"id": number, "ids": [number]}
    assert type(data["id"]) is int


@pytest.mark.parametrize("number", BIG)
def test_integers_beyond_64_bits_encode_exactly(number) -> None:
    body = JSON.encode({"id": number, "name": "é"})
    assert body == f'{{"id":{number},"name":"é"}}'.encode()
    assert JSON.decode(body) == {"id": number, "name": "é"}


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.integers() | st.text(max_size=5), lambda x: st.lists(x, max_size=3)))
def test_any_integer_round_trips_exactly(value) -> None:
    assert JSON.decode(JSON.encode({"v": value})) == {"v": value}


def test_a_todo_with_a_huge_id_round_trips_through_the_model() -> None:
    record = json.loads((FIXTURES / "basecamp4/todos/get.response.json").read_bytes())
    record["id"] = 18446744073709551617
    todo = Todo.from_wire(JSON.decode(JSON.encode(record)))
    assert todo.id == 18446744073709551617
    assert JSON.decode(JSON.encode(todo.to_wire()))["id"] == 18446744073709551617


async def test_huge_ids_survive_a_get_and_a_post_over_http(serve) -> None:
    received: list[bytes] = []

    async def echo(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(
            body=b'{"id": 18446744073709551617, "parent": {"id": -9223372036854775809}}',
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        got = await s.request(Request("GET", "/todos/1.json"))
        await s.request(Request("POST", "/todos.json", body={"parent_id": got.data["id"]}))
    assert got.data == {"id": 18446744073709551617, "parent": {"id": -9223372036854775809}}
    assert received[-1] == b'{"parent_id":18446744073709551617}'


@pytest.mark.parametrize(
    "body",
    [b"[" * 2000, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000],
)
def test_deep_json_is_a_decode_error_not_a_recursion_error(body) -> None:
    with pytest.raises(errors.DecodeError):
        JSON.decode(body, status=200, url="https://x/deep.json")


def test_an_integer_too_long_to_read_is_a_decode_error() -> None:
    with pytest.raises(errors.DecodeError, match="malformed JSON"):
        JSON.decode(b"[" + b"7" * 5000 + b"]")


@pytest.mark.parametrize("body", [b"", b"  \n\t", b"\r\n"])
def test_an_empty_body_is_none(body) -> None:
    assert JSON.decode(body) is None


def test_encode_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(errors.EncodeError):
        JSON.encode({"x": object()})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(errors.EncodeError):
        JSON.encode(loop)
    # A lone surrogate (as a server may send one) is written escaped, not refused.
    assert (
        JSON.encode({"big": 2**64, "odd": "\ud800"})
        == b'{"big":18446744073709551616,"odd":"\\ud800"}'
    )


ODD = b'[{"id": 1, "title": "cut emoji \\ud83d", "ratio": 1e400, "hours": 1.5}]'


def test_what_json_allows_and_msgspec_refuses_is_kept_exactly() -> None:
    """A lone surrogate escape (half an emoji a server cut) and a number beyond a double
    keep their record: the text as sent, the number exact as a Decimal (never inf)."""
    from decimal import Decimal

    data = JSON.decode(ODD)
    assert data == [{"id": 1, "title": "cut emoji \ud83d", "ratio": Decimal("1e400"), "hours": 1.5}]
    assert type(data[0]["hours"]) is float
    # Written back escaped: valid UTF-8 JSON that decodes to the same text.
    body = JSON.encode({"title": data[0]["title"]})
    body.decode("utf-8")
    assert JSON.decode(body) == {"title": "cut emoji \ud83d"}
    for bad in (b"[NaN]", b'{"a": Infinity}', b"[1, 2", b'"\xff"', b"[1] x"):
        with pytest.raises(errors.DecodeError):
            JSON.decode(bad)


async def test_a_record_reads_the_same_on_a_small_and_a_big_page(serve) -> None:
    """Pages of 256 KiB and more are decoded a record at a time off the loop; the odd
    values above must read the same there as on a small page, and NaN fail on both."""
    from aiocamp.core._constants import OFFLOOP_DECODE_BYTES

    big = ODD + b" " * OFFLOOP_DECODE_BYTES

    async def handler(request: web.Request) -> web.Response:
        body = {"/small.json": ODD, "/big.json": big}.get(request.path)
        if body is None:
            body = b"[NaN]" + (b" " * OFFLOOP_DECODE_BYTES if "big" in request.path else b"")
        return web.Response(body=body, content_type="application/json")

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        small = (await s.request(Request("GET", "/small.json"))).data
        large = (await s.request(Request("GET", "/big.json"))).data
        assert small == large == JSON.decode(ODD)
        for path in ("/nan.json", "/nan-big.json"):
            with pytest.raises(errors.DecodeError):
                await s.request(Request("GET", path))


def test_an_export_line_keeps_a_lone_surrogate_escaped() -> None:
    from aiocamp.export._jsonl import encode_record

    line = encode_record(JSON.decode(ODD)[0])
    assert line.endswith(b"\n")
    assert json.loads(line)["title"] == "cut emoji \ud83d"
    assert b"\\ud83d" in line
    assert encode_record({"t": "é"}) == '{"t":"é"}\n'.encode()
