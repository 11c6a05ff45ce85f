"""Mutation kills for ``aiocamp.core._resource`` (issue 7): listings (limits, keys, pages,
envelopes), JSON that mirrors XML (Harvest), ``_patch``, ``_follow_location`` and body
encoding, over loopback HTTP against recording servers.

Each test names in its docstring the mutants it kills; the servers record method, path,
query and body of every request so a changed argument shows.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import attrs
import pytest
from aiohttp import web

from aiocamp.core import Paging, Request, Session
from aiocamp.core._codecs import XmlArray
from aiocamp.core._resource import (
    EnvelopePageIterator,
    Resource,
    _xml_tag,
    mirror_items,
    rename_keys,
    strftime,
    unwrap,
    xml_list,
)
from aiocamp.core._runtime import UNSET
from aiocamp.errors import ConcurrentModification, ConfigError, DecodeError

from .helpers import make_session, product
from .test_resource_verbs import JSON, XML, Recorder, Thing


@attrs.define
class Rec:
    """A model that keeps the mapping it was decoded from (and the strict flag)."""

    data: dict[str, Any]
    strict: bool = False
    XML_TAG: ClassVar[str] = "time-entry"

    @classmethod
    def from_wire(cls, data: dict[str, Any], *, strict: bool = False) -> Rec:
        return cls(dict(data), strict)


@attrs.define
class Env:
    """An envelope model: the reply's fields besides the list."""

    data: dict[str, Any]
    strict: bool = False

    @classmethod
    def from_wire(cls, data: dict[str, Any], *, strict: bool = False) -> Env:
        return cls(dict(data), strict)


def mirror_session(url: str, **kw: Any) -> Session:
    """A session for a JSON product whose JSON mirrors its XML (as Harvest's does)."""
    base = make_session(url, **kw)
    return Session(product("json", json_mirrors_xml=True), base.settings)


def page_link(n: int) -> dict[str, str]:
    return {**JSON, "Link": f'</things.json?page={n}>; rel="next"'}


def test_absent_values_pass_through_the_markers() -> None:
    """Kills ``strftime``'s ``or`` -> ``and`` and ``_xml_tag`` keeping a non-string tag."""
    assert strftime(None, "%Y") is None
    assert strftime(UNSET, "%Y") is UNSET
    assert xml_list(None, "x") is None
    assert xml_list(UNSET, "x") is UNSET
    assert _xml_tag(type("Odd", (), {"XML_TAG": 5})) is None
    assert _xml_tag(Rec) == "time-entry"


async def test_bodies_walk_mappings_and_refuse_a_non_list_item_list(serve) -> None:
    """Kills ``_wire`` of a nested mapping (values dropped to None, UNSET kept instead of
    dropped), ``_expect_list``'s name and message, and ``encode_body`` with an empty
    ``xml_scalar`` body (``next(..., None)`` without its default)."""
    rec = Recorder((200, b"{}", JSON), (200, b"", XML))
    async with make_session(await rec.start(serve)) as session:
        await Resource(session)._post(
            "/things.json", body={"meta": {"a": 1, "gone": UNSET, "child": Thing("c")}}
        )
        with pytest.raises(ConfigError) as info:
            await Resource(session)._post("/x.json", body={"parts": xml_list("abc", "part")})
        assert str(info.value) == "'part' must be a list, got str"
    assert json.loads(rec.seen[0]["body"]) == {"meta": {"a": 1, "child": {"name": "c"}}}
    assert len(rec.seen) == 1
    rec2 = Recorder((200, b"", XML))
    async with make_session(await rec2.start(serve), fmt="xml") as session:
        await Resource(session)._post(
            "/tags.xml", body={"name": UNSET}, xml_root="name", xml_scalar=True
        )
    assert rec2.seen[0]["body"].rstrip().endswith(b'<name nil="true"></name>')


async def test_a_listing_honours_max_pages_max_items_and_a_key(serve) -> None:
    """Kills ``_list`` passing ``max_pages`` / ``max_items`` as None or not at all, the
    ``key`` dropped (``_extractor(None, ...)``, ``key is not None``, ``json_items`` of
    None or without its key), and the scalar label (``"item"``, ``into.__name__``)."""
    pages = (
        (200, b'{"things": [{"name": "a"}, {"name": "b"}]}', page_link(2)),
        (200, b'{"things": [{"name": "c"}]}', page_link(3)),
        (200, b'{"things": [{"name": "d"}]}', JSON),
    )
    got = []
    for limits in ({"max_pages": 1}, {"max_items": 3}, {}):
        rec = Recorder(*pages)
        async with make_session(await rec.start(serve)) as session:
            listing = Resource(session)._list(
                "/things.json", into=Thing, key="things", paging=Paging("link"), **limits
            )
            got.append(([t.name async for t in listing], len(rec.seen)))
    assert got == [(["a", "b"], 1), (["a", "b", "c"], 2), (["a", "b", "c", "d"], 3)]
    rec = Recorder(pages[2])
    async with make_session(await rec.start(serve)) as session:
        raw = Resource(session)._list("/things.json", key="things", paging=Paging("link"))
        assert [t async for t in raw] == [{"name": "d"}]

    rec2 = Recorder((200, b'["x"]', JSON))
    async with make_session(await rec2.start(serve)) as session:
        with pytest.raises(DecodeError) as info:
            _ = [
                n async for n in Resource(session)._list("/n.json", into=int, paging=Paging("none"))
            ]
    assert "field 'int': expected an integer, got 'x'" in str(info.value)


async def test_page_numbers_are_checked_and_replace_a_page_in_the_query(serve) -> None:
    """Kills ``_start_page``'s ``or`` -> ``and`` (a bool or a string page accepted),
    ``< 1`` -> ``<= 1`` / ``< 2`` (page 1 refused) and the ``!= "page"`` filter (a
    caller's ``page`` left in the query of a Link-paged listing)."""
    rec = Recorder((200, b"[]", JSON))
    async with make_session(await rec.start(serve)) as session:
        resource = Resource(session)
        for bad in (True, "2", 0, -1, 1.0):
            with pytest.raises(ConfigError) as info:
                resource._list("/t.json", paging=Paging("page", "page", 2), page=bad)
            assert str(info.value) == f"page must be an integer >= 1, got {bad!r}"
        first = resource._list("/t.json", paging=Paging("page", "page", 2), page=1)
        assert [x async for x in first] == []
        linked = resource._list(
            "/t.json", query={"page": 9, "q": "x"}, paging=Paging("link"), page=3
        )
        assert [x async for x in linked] == []
    assert [s["query"] for s in rec.seen] == [[("page", "1")], [("q", "x"), ("page", "3")]]


async def test_an_envelope_listing_passes_every_option_on(serve) -> None:
    """Kills ``_list_envelope``: the method read from the options (name, default "GET"
    lower-cased: not idempotent, so not retried), ``page`` dropped, ``strict`` None, the
    envelope and item decoders (None type or label), ``max_pages`` / ``max_items`` /
    ``start_page`` lost, and ``_extract_and_keep`` replacing the envelope on page 2."""
    rec = Recorder(
        (503, b"busy", {"Retry-After": "0"}),
        (200, b'{"who": "amy", "items": [{"name": "a"}, {"name": "b"}]}', page_link(4)),
        (200, b'{"who": "bob", "items": [{"name": "c"}]}', JSON),
        (200, b'{"who": "cat", "items": [{"name": "d"}]}', JSON),
        (200, b'{"who": "dan", "items": [{"name": "e"}, {"name": "f"}]}', JSON),
    )
    async with make_session(await rec.start(serve), strict=True) as session:
        listing = Resource(session)._list_envelope(
            "/things.json", into=Rec, envelope=Env, key="items", paging=Paging("link"), page=3
        )
        items = [r async for r in listing]
        assert [r.data for r in items] == [{"name": "a"}, {"name": "b"}, {"name": "c"}]
        assert all(r.strict is True for r in items)
        assert listing.envelope == Env({"who": "amy"}, True)
        limited = Resource(session)._list_envelope(
            "/things.json",
            into=Rec,
            envelope=Env,
            key="items",
            paging=Paging("page", "p", 1),
            max_pages=1,
            method="POST",
            page=2,
        )
        got = [r.data async for r in limited]
        assert got == [{"name": "d"}]
        capped = Resource(session)._list_envelope(
            "/things.json", into=Rec, envelope=Env, key="items", paging=Paging("link"), max_items=1
        )
        assert [r.data async for r in capped] == [{"name": "e"}]
    assert [s["method"] for s in rec.seen] == ["GET", "GET", "GET", "POST", "GET"]
    assert rec.seen[1]["query"] == [("page", "3")]
    assert rec.seen[3]["query"] == [("p", "2")]


async def test_an_envelope_iterator_built_directly_starts_at_page_one(serve) -> None:
    """Kills ``EnvelopePageIterator``'s ``start_page`` default (2) and its ``max_items``
    / ``max_pages`` / ``start_page`` not handed to the base iterator."""
    body = b'{"n": 1, "items": [{"name": "a"}, {"name": "b"}]}'
    rec = Recorder((200, body, JSON))
    async with make_session(await rec.start(serve)) as session:
        plain = EnvelopePageIterator(
            session,
            Request("GET", "/e.json"),
            paging=Paging("page", "page", 2),
            key="items",
            envelope=dict,
            convert=lambda v: v["name"],
            max_pages=1,
        )
        assert [x async for x in plain] == ["a", "b"]
        assert plain.envelope == {"n": 1}
        capped = EnvelopePageIterator(
            session,
            Request("GET", "/e.json"),
            paging=Paging("page", "page", 2),
            key="items",
            envelope=dict,
            convert=lambda v: v["name"],
            max_items=1,
            start_page=5,
        )
        assert [x async for x in capped] == ["a"]
    assert [s["query"] for s in rec.seen] == [[("page", "1")], [("page", "5")]]


def test_mirror_helpers() -> None:
    """Kills ``unwrap`` (tag with dashes read with underscores or as is, ``and`` -> ``or``,
    ``len == 1``, ``tag is None``), ``mirror_items`` (None, its message, the dash renaming,
    the tag), and ``rename_keys`` keeping an ``XmlArray`` and its item tag."""
    assert unwrap({"time_entry": {"id": 1}}, "time-entry") == {"id": 1}
    assert unwrap({"time-entry": {"id": 2}}, "time-entry") == {"id": 2}
    assert unwrap({"client": {"id": 3}}, "client") == {"id": 3}
    assert unwrap({"client": {"id": 3}}, None) == {"client": {"id": 3}}
    assert unwrap({"client": {"id": 3}, "x": 1}, "client") == {"client": {"id": 3}, "x": 1}
    assert unwrap({"other": {"id": 3}}, "client") == {"other": {"id": 3}}
    assert unwrap({"client": 5}, "client") == {"client": 5}
    assert unwrap([{"client": {}}], "client") == [{"client": {}}]
    assert unwrap({}, "client") == {}
    assert mirror_items(None, "client", dashes=False) == []
    with pytest.raises(DecodeError) as info:
        mirror_items({"a": 1}, "client", dashes=False)
    assert str(info.value) == "expected a JSON array of records, got dict"
    data = [{"time_entry": {"spent_at": 1}}, {"hours_x": 2}]
    assert mirror_items(data, "time-entry", dashes=True) == [{"spent-at": 1}, {"hours-x": 2}]
    assert mirror_items(data, "time-entry", dashes=False) == [{"spent_at": 1}, {"hours_x": 2}]
    arr = XmlArray([{"a_b": 1}], "item")
    renamed = rename_keys({"x_y": arr}, "_", "-")
    assert renamed == {"x-y": [{"a-b": 1}]}
    inner = renamed["x-y"]
    assert isinstance(inner, XmlArray)
    assert inner.item_tag == "item"
    assert list(inner) == [{"a-b": 1}]


async def test_mirrored_json_is_unwrapped_and_renamed_both_ways(serve) -> None:
    """Kills ``_call``'s dash renaming (``or``, the option's name / default), ``_decode``
    unwrapping with no tag, the object check inverted for scalars and its message, the
    scalar label, and ``_extractor`` for mirrors (``dashes`` None / ``or`` / its option,
    the tag dropped)."""
    rec = Recorder(
        (200, b'{"time_entry": {"spent_at": "x", "hours": 2}}', JSON),
        (200, b'{"time_entry": {"spent_at": "y"}}', JSON),
        (200, b"5", JSON),
        (200, b"[1, 2]", JSON),
        (200, b'[{"time_entry": {"spent_at": "z"}}, {"time_entry": {"a_b": 1}}]', JSON),
        (200, b'[{"time_entry": {"spent_at": "w"}}]', JSON),
        (200, b'"nope"', JSON),
    )
    async with mirror_session(await rec.start(serve)) as session:
        resource = Resource(session)
        dashed = await resource._get("/e.json", into=Rec, xml_dashes=True)
        assert dashed.data == {"spent-at": "x", "hours": 2}
        plain = await resource._get("/e.json", into=Rec)
        assert plain.data == {"spent_at": "y"}
        assert await resource._get("/n.json", into=int) == 5
        with pytest.raises(DecodeError) as info:
            await resource._get("/l.json", into=Rec)
        assert "expected a JSON object, got list" in str(info.value)
        listed = resource._list("/l.json", into=Rec, paging=Paging("none"), xml_dashes=True)
        assert [r.data async for r in listed] == [{"spent-at": "z"}, {"a-b": 1}]
        # Other options but no xml_dashes: no renaming (``o or ...``, default True).
        undashed = resource._list("/l.json", into=Rec, paging=Paging("none"), query={"a": 1})
        assert [r.data async for r in undashed] == [{"spent_at": "w"}]
        with pytest.raises(DecodeError) as info:
            await resource._get("/s.json", into=int)
        assert "field 'int': expected an integer, got 'nope'" in str(info.value)
    rec2 = Recorder((200, b'{"a_b": {"c_d": 1}}', JSON))
    async with make_session(await rec2.start(serve)) as session:
        # Not a mirror: the option changes nothing.
        assert await Resource(session)._get("/x.json", xml_dashes=True) == {"a_b": {"c_d": 1}}


async def test_a_plain_json_result_must_be_an_object(serve) -> None:
    """Kills the message of ``_decode``'s object check (type of None instead of data)."""
    rec = Recorder((200, b'"text"', JSON))
    async with make_session(await rec.start(serve)) as session:
        with pytest.raises(DecodeError) as info:
            await Resource(session)._get("/t.json", into=Thing)
    assert "expected a JSON object, got str" in str(info.value)


class PatchServer:
    """A record server for ``_patch``: GETs answer from ``reads`` in turn, PUTs from
    ``writes``; every request is recorded."""

    def __init__(self, reads: list[Any], writes: list[tuple[int, bytes]]) -> None:
        self.reads = reads
        self.writes = writes
        self.seen: list[tuple[str, str, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append((request.method, request.path, body))
        if request.method == "GET":
            data = self.reads.pop(0)
            return web.Response(body=json.dumps(data).encode(), content_type="application/json")
        status, reply = self.writes.pop(0)
        return web.Response(status=status, body=reply, content_type="application/json")

    async def start(self, serve: Any) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return str((await serve(app)).make_url(""))


async def test_patch_copies_only_present_fields_and_retries_its_put(serve) -> None:
    """Kills ``_pick`` reporting a missing list as found (None sent), ``_call("put")``
    (lower case: not idempotent, the 503 not retried), and ``optional`` True / None for
    the written record (an empty reply must be a decode error)."""
    record = {"updated_at": "t1", "title": "old", "content": "c"}
    server = PatchServer(
        [record, record, record, record], [(503, b""), (200, b'{"name": "done"}'), (200, b"")]
    )
    async with make_session(await server.start(serve)) as session:
        resource = Resource(session)
        done = await resource._patch(
            "/d/{id}.json",
            read="/d/{id}.json",
            path={"id": 5},
            changes={"title": "new", "content": UNSET, "participant_ids": UNSET},
            sources={"participant_ids": "participants[].id"},
            into=Thing,
        )
        assert done == Thing("done")
        with pytest.raises(DecodeError):
            await resource._patch(
                "/d/{id}.json",
                read="/d/{id}.json",
                path={"id": 5},
                changes={"title": "x"},
                sources={},
                into=Thing,
            )
    puts = [json.loads(b) for m, _, b in server.seen if m == "PUT"]
    assert puts[0] == {"title": "new", "content": "c"}
    assert puts[1] == puts[0]  # the retried PUT, same body
    assert [m for m, _, _ in server.seen] == ["GET", "GET", "PUT", "PUT", "GET", "GET", "PUT"]


async def test_patch_errors_say_what_happened(serve) -> None:
    """Kills the messages of ``_patch``'s two refusals (None, padded, case-changed)."""
    server = PatchServer([[1, 2], {"updated_at": "a"}, {"updated_at": "b"}], [])
    async with make_session(await server.start(serve)) as session:
        resource = Resource(session)
        with pytest.raises(DecodeError) as info:
            await resource._patch(
                "/d/1.json", read="/d/1.json", path={}, changes={}, sources={}, into=Thing
            )
        assert str(info.value).startswith("expected the record as a JSON object")
        with pytest.raises(ConcurrentModification) as changed:
            await resource._patch(
                "/d/1.json", read="/d/1.json", path={}, changes={}, sources={}, into=Thing
            )
    assert str(changed.value).startswith(
        "the record changed between its read and the write; read it again and retry ("
    )
    assert [m for m, _, _ in server.seen] == ["GET", "GET", "GET"]


async def test_follow_location_returns_a_sent_record_and_retries_its_get(serve) -> None:
    """Kills ``_follow_location``: a reply that carries the record with no Location
    (``data is None`` inverted), the two refusal messages, and the follow-up request sent
    as ``"get"`` (not idempotent: its 503 would not be retried)."""
    seen: list[tuple[str, str]] = []
    follow_replies = [503, 200]

    async def create(request: web.Request) -> web.Response:
        seen.append((request.method, request.path))
        if request.path == "/made.json":
            return web.json_response({"name": "sent"})
        if request.path == "/empty.json":
            return web.Response(status=201)
        if request.path == "/away.json":
            return web.Response(status=201, headers={"Location": "http://127.0.0.2:1/x.json"})
        return web.Response(status=201, headers={"Location": "/things/9.json"})

    async def thing(request: web.Request) -> web.Response:
        seen.append((request.method, request.path))
        status = follow_replies.pop(0)
        if status != 200:
            return web.Response(status=status, headers={"Retry-After": "0"})
        return web.json_response({"name": "fetched"})

    app = web.Application()
    app.router.add_get("/things/9.json", thing)
    app.router.add_route("*", "/{tail:.*}", create)
    url = str((await serve(app)).make_url(""))
    async with make_session(url) as session:
        resource = Resource(session)
        sent = await resource._post("/made.json", body={}, into=Thing, follow_location=True)
        assert sent == Thing("sent")
        fetched = await resource._post("/new.json", body={}, into=Thing, follow_location=True)
        assert fetched == Thing("fetched")
        with pytest.raises(DecodeError) as info:
            await resource._post("/empty.json", body={}, into=Thing, follow_location=True)
        assert str(info.value).startswith("expected a Location header naming the new record")
        with pytest.raises(DecodeError) as info:
            await resource._post("/away.json", body={}, into=Thing, follow_location=True)
        assert str(info.value).startswith(
            "the new record's Location is not on the API's origin; not following"
        )
    assert seen[:4] == [
        ("POST", "/made.json"),
        ("POST", "/new.json"),
        ("GET", "/things/9.json"),
        ("GET", "/things/9.json"),
    ]


async def test_verbs_are_named_and_an_empty_reply_is_an_error_unless_optional(serve) -> None:
    """Kills ``_verb`` (run at import: checked by hand with ``MUTANT_UNDER_TEST`` set
    before the import, see equivalent_resource.md): ``optional`` defaulting to True (an
    empty reply would pass as None) and the verb named ``_GET``."""
    assert [Resource._get.__name__, Resource._post.__name__] == ["_get", "_post"]
    assert [Resource._put.__qualname__, Resource._delete.__qualname__] == ["_put", "_delete"]
    rec = Recorder((200, b"", JSON))
    async with make_session(await rec.start(serve)) as session:
        with pytest.raises(DecodeError):
            await Resource(session)._get("/t.json", into=Thing)
        assert await Resource(session)._get("/t.json", into=Thing, optional=True) is None
    assert [s["method"] for s in rec.seen] == ["GET", "GET"]


async def test_request_options_reach_the_wire(serve) -> None:
    """Kills ``_request``: ``idempotent`` not passed or read under another name (a POST
    marked idempotent is retried after a 503), ``cache`` not passed or misnamed (a GET
    with ``cache=False`` sends no validator), the ``/{token}`` prefix not removed for a
    credential that travels in a header, the ``data`` name of the bytes check, the
    multipart media type default (``and``, padded, upper case), and an ``xml_root``
    wrapping a plain JSON body (``or True``)."""
    seen: list[dict[str, Any]] = []
    busy = [503]

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "inm": request.headers.get("If-None-Match"),
                "ctype": request.headers.get("Content-Type", ""),
                "body": await request.read(),
            }
        )
        if request.path == "/busy.json" and busy:
            busy.pop()
            return web.Response(status=503, headers={"Retry-After": "0"})
        return web.json_response({"name": "ok"}, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    url = str((await serve(app)).make_url(""))
    async with make_session(url) as session:
        resource = Resource(session)
        assert await resource._post("/busy.json", body={}, idempotent=True) == {"name": "ok"}
        await resource._get("/c.json", cache=False)
        await resource._get("/c.json", cache=False)
        await resource._get("/{token}/items.json", url_token=True)
        with pytest.raises(ConfigError) as info:
            await resource._post("/up.json", data="text")  # type: ignore[arg-type]
        assert str(info.value) == "data must be bytes, got str"
        await resource._post("/up.json", data=b"abc", multipart=("file", "a.txt"))
        await resource._post("/wrapped.json", body={"name": "n"}, xml_root="thing")
    assert [(s["method"], s["path"]) for s in seen] == [
        ("POST", "/busy.json"),
        ("POST", "/busy.json"),
        ("GET", "/c.json"),
        ("GET", "/c.json"),
        ("GET", "/items.json"),
        ("POST", "/up.json"),
        ("POST", "/wrapped.json"),
    ]
    assert [s["inm"] for s in seen[2:4]] == [None, None]
    upload = seen[5]
    assert upload["ctype"].startswith("multipart/form-data; boundary=")
    assert b"Content-Type: application/octet-stream" in upload["body"]
    assert b'filename="a.txt"' in upload["body"]
    assert json.loads(seen[6]["body"]) == {"name": "n"}


async def test_scalars_are_coerced_and_models_need_objects(serve) -> None:
    """Kills ``_decoder``: the coercion given None, no label or no value, the model's
    name dropped (``name = None``), and the not-an-object message (None, type of None);
    and a mirror body renamed although ``xml_dashes`` is off (default True)."""
    rec = Recorder((200, b'"7"', JSON), (200, b"[1]", JSON), (200, b"{}", JSON))
    async with make_session(await rec.start(serve)) as session:
        resource = Resource(session)
        assert await resource._get("/n.json", into=int) == 7
        with pytest.raises(DecodeError) as info:
            _ = [t async for t in resource._list("/l.json", into=Thing, paging=Paging("none"))]
    assert "field 'Thing': expected an object, got int" in str(info.value)
    rec2 = Recorder((200, b"{}", JSON))
    async with mirror_session(await rec2.start(serve)) as session:
        await Resource(session)._post("/x.json", body={"a-b": 1, "c_d": 2})
    assert json.loads(rec2.seen[0]["body"]) == {"a-b": 1, "c_d": 2}
