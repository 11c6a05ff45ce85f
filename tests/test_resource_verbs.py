"""The core verbs every generated endpoint calls, and what they promise, over loopback HTTP:
path quoting, query building, body encoding, result decoding, paging by Link and by number,
and the reply fields kept next to a list (envelopes)."""

from __future__ import annotations

import ast
import importlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import attrs
import pytest
from aiohttp import web

from aiocamp.core import PageIterator, Paging
from aiocamp.core._resource import Resource, strftime, xml_list
from aiocamp.core._runtime import UNSET
from aiocamp.errors import ConfigError, DecodeError
from codegen.ir import Endpoint, Param

from .generated_support import PRODUCTS, endpoints, format_arg, spec
from .helpers import FIXTURES, ROOT, make_session


def client_for(product: str, base_url: str, fmt: str | None = None) -> Any:
    """The product's generated client against a loopback server, without a rate limit
    (``fmt``: the wire format, for products that offer more than one)."""
    module = importlib.import_module(f"aiocamp.{product}")
    cls = getattr(module, spec(product).client)
    credentials = {"access_token": "tok"} if spec(product).auth[0] == "bearer" else {"token": "tok"}
    return cls(
        base_url=base_url,
        user_agent="aiocamp-tests (dev@example.com)",
        host_overrides={host: base_url for host in module.PRODUCT.credential_hosts},
        rate_limit=None,
        **credentials,
        **({"format": fmt} if fmt is not None else {}),
    )


@attrs.define
class Thing:
    """A stand-in model: the verbs rely only on from_wire / to_wire (and XML_TAG)."""

    name: str | None = None
    XML_TAG = "thing"
    #: The ``strict`` flag of each decode, so tests can see the client setting arrive.
    STRICT_SEEN: ClassVar[list[bool]] = []

    @classmethod
    def from_wire(cls, data: dict[str, Any], *, strict: bool = False) -> Thing:
        cls.STRICT_SEEN.append(strict)
        return cls(name=data.get("name"))

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name}


class Recorder:
    """A loopback server that records requests and answers from a list of replies."""

    def __init__(self, *replies: tuple[int, bytes, dict[str, str]]) -> None:
        self.replies = list(replies)
        self.seen: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            {
                "method": request.method,
                "raw_path": request.raw_path.split("?", 1)[0],
                "query": parse_qsl(request.query_string, keep_blank_values=True),
                "body": await request.read(),
            }
        )
        status, body, headers = self.replies[min(len(self.seen), len(self.replies)) - 1]
        return web.Response(status=status, body=body, headers=headers)

    async def start(self, serve: Any) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        server = await serve(app)
        return str(server.make_url(""))


JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "application/xml"}


async def test_path_parameters_are_quoted_and_empty_ones_fail_before_io(serve) -> None:
    rec = Recorder((204, b"", JSON))
    async with make_session(await rec.start(serve)) as session:
        resource = Resource(session)
        await resource._delete("/a/{id}/b/{name}.json", path={"id": 5, "name": "x y/z?"})
        with pytest.raises(ConfigError, match="'id'"):
            await resource._delete("/a/{id}.json", path={"id": ""})
        with pytest.raises(ConfigError, match="missing"):
            await resource._delete("/a/{id}.json", path={})
    assert [s["raw_path"] for s in rec.seen] == ["/a/5/b/x%20y%2Fz%3F.json"]


async def test_query_leaves_out_unset_and_none_and_spells_values_as_the_apis_expect(
    serve,
) -> None:
    rec = Recorder((200, b"{}", JSON))
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with make_session(await rec.start(serve)) as session:
        await Resource(session)._get(
            "/q.json",
            query={
                "a": UNSET,
                "b": None,
                "flag": False,
                "since": when,
                "day": date(2024, 1, 2),
                "ids": [1, 2],
                "where": {"state": "CA"},
                "stamp": strftime(when, "%Y%m%d%H%M%S"),
                "unset_stamp": strftime(UNSET, "%Y"),
            },
        )
    assert rec.seen[0]["query"] == [
        ("flag", "false"),
        ("since", "2024-01-02T03:04:05Z"),
        ("day", "2024-01-02"),
        ("ids[]", "1"),
        ("ids[]", "2"),
        ("where[state]", "CA"),
        ("stamp", "20240102030405"),
    ]


async def test_json_body_drops_unset_sends_none_as_null_and_encodes_models(serve) -> None:
    rec = Recorder((200, b'{"name": "made"}', JSON))
    async with make_session(await rec.start(serve)) as session:
        made = await Resource(session)._post(
            "/things.json",
            body={
                "name": "n",
                "gone": UNSET,
                "cleared": None,
                "price": Decimal("2.50"),
                "child": Thing("c"),
                "children": [Thing("d")],
                "ids": [1, 2],
            },
            into=Thing,
        )
    assert made == Thing("made")
    assert json.loads(rec.seen[0]["body"]) == {
        "name": "n",
        "cleared": None,
        "price": "2.50",
        "child": {"name": "c"},
        "children": [{"name": "d"}],
        "ids": [1, 2],
    }


async def test_xml_body_gets_its_root_and_lists_their_item_elements(serve) -> None:
    rec = Recorder((200, b"<thing><name>made</name></thing>", XML), (200, b"", XML))
    async with make_session(await rec.start(serve), fmt="xml") as session:
        resource = Resource(session)
        made = await resource._post(
            "/things.xml",
            body={
                "name": "n",
                "skip": UNSET,
                "parts": xml_list([Thing("p")], "part"),
                "tags": xml_list(["a"], "tag", array=False),
                "none": xml_list(UNSET, "x"),
            },
            xml_root="thing",
            into=Thing,
        )
        await resource._post("/tags.xml", body={"name": "t"}, xml_root="name", xml_scalar=True)
    assert made == Thing("made")
    assert rec.seen[0]["body"].endswith(
        b'<thing><name>n</name><parts type="array"><part><name>p</name></part></parts>'
        b"<tags><tag>a</tag></tags></thing>"
    )
    assert rec.seen[1]["body"].endswith(b"<name>t</name>")


async def test_results_decode_into_their_type_with_status_and_url_on_failure(serve) -> None:
    rec = Recorder(
        (200, b'<count type="integer">3</count>', XML),
        (200, b"", XML),
        (200, b"<other><name>x</name></other>", XML),
    )
    async with make_session(await rec.start(serve), fmt="xml") as session:
        resource = Resource(session)
        assert await resource._get("/count.xml", into=int) == 3
        assert await resource._put("/things/1.xml", into=Thing, optional=True) is None
        with pytest.raises(DecodeError, match="<thing>") as info:
            await resource._get("/things/1.xml", into=Thing)
    assert info.value.status == 200
    assert info.value.url.endswith("/things/1.xml")


@pytest.mark.parametrize("strict", [False, True])
async def test_the_clients_strict_setting_reaches_the_model_decoder(serve, strict) -> None:
    rec = Recorder((200, b'{"name": "x"}', JSON), (200, b'[{"name": "y"}]', JSON))
    Thing.STRICT_SEEN.clear()
    async with make_session(await rec.start(serve), strict=strict) as session:
        resource = Resource(session)
        await resource._get("/things/1.json", into=Thing)
        listed = [
            t async for t in resource._list("/things.json", into=Thing, paging=Paging("none"))
        ]
    seen = list(Thing.STRICT_SEEN)
    assert listed == [Thing("y")]
    assert seen == [strict, strict]


async def test_a_json_result_that_is_not_an_object_is_a_decode_error(serve) -> None:
    rec = Recorder((200, b"[1, 2]", JSON))
    async with make_session(await rec.start(serve)) as session:
        with pytest.raises(DecodeError, match="JSON object"):
            await Resource(session)._get("/things/1.json", into=Thing)


async def test_page_starts_a_numbered_listing_further_in(serve) -> None:
    rec = Recorder(
        (200, b'[{"name": "a"}, {"name": "b"}]', JSON),
        (200, b'[{"name": "c"}]', JSON),
    )
    async with make_session(await rec.start(serve)) as session:
        resource = Resource(session)
        listing = resource._list(
            "/things.json", query={"q": "x"}, into=Thing, paging=Paging("page", "page", 2), page=3
        )
        assert [t.name async for t in listing] == ["a", "b", "c"]
        with pytest.raises(ConfigError, match="not by page number"):
            resource._list("/t.xml", paging=Paging("offset", "n", 25), page=2)
        with pytest.raises(ConfigError, match=">= 1"):
            resource._list("/t.json", paging=Paging("page", "page", 2), page=0)
    assert [s["query"] for s in rec.seen] == [
        [("q", "x"), ("page", "3")],
        [("q", "x"), ("page", "4")],
    ]


async def test_page_starts_a_link_paged_listing_and_the_link_takes_over(serve) -> None:
    rec = Recorder(
        (200, b"[{}]", {**JSON, "Link": '</todolists/7/todos.json?page=4>; rel="next"'}),
        (200, b"[{}]", JSON),
    )
    async with client_for("basecamp4", await rec.start(serve)) as client:
        todos = [t async for t in client.todos.list(7, completed=True, page=3)]
    assert len(todos) == 2
    assert rec.seen[0]["query"] == [("completed", "true"), ("page", "3")]
    assert rec.seen[1]["query"] == [("page", "4")]


# -- issue 6.15: every list endpoint follows Link rel="next" when present ------------------


def _sample(p: Param) -> Any:
    if p.enum:
        return p.enum[0]
    t = p.type
    if t.kind == "scalar":
        return {"int": 7, "str": "s", "bool": True, "date": date(2024, 1, 2)}.get(t.name, 7)
    return [] if t.kind == "list" else {}


def _list_reply(e: Endpoint, product: str) -> bytes:
    if spec(product).format == "xml":
        assert e.result is not None
        assert e.result.item is not None
        tag = spec(product).model(e.result.item.name).xml_tag if e.result.item.is_model else "v"
        return f'<items type="array"><{tag}><id type="integer">1</id></{tag}></items>'.encode()
    return json.dumps({e.result_key: [{}]} if e.result_key else [{}]).encode()


LINKED = [
    pytest.param(product, resource, e, id=f"{product}:{resource}.{e.name}")
    for product in PRODUCTS
    for resource, e in endpoints(product)
    if e.is_list and e.paging is not None and e.paging.style in ("link", "none")
]


def test_the_lists_issue_6_names_are_among_the_linked_ones() -> None:
    ids = {p.id for p in LINKED}
    for name in (
        "message_types.list",
        "webhooks.list",
        "people.list_pingable",
        "uploads.list_versions",
    ):
        assert f"basecamp4:{name}" in ids


@pytest.mark.parametrize(("product", "resource", "e"), LINKED)
async def test_every_list_endpoint_follows_a_next_link(serve, product, resource, e) -> None:
    ctype = XML if spec(product).format == "xml" else JSON
    body = _list_reply(e, product)
    rec = Recorder(
        (200, body, {**ctype, "Link": '</next-page?page=2>; rel="next"'}), (200, body, ctype)
    )
    args = {p.name: _sample(p) for p in e.path_params}
    named = [*e.query, *(e.body.params if e.body else ())]
    args |= {p.name: _sample(p) for p in named if p.required}
    fmt = format_arg(product, spec(product).format)  # the format of the reply above
    async with client_for(product, await rec.start(serve), fmt) as client:
        items = [x async for x in getattr(getattr(client, resource), e.name)(**args)]
    assert len(items) == 2
    assert [s["raw_path"] for s in rec.seen][1:] == ["/next-page"]


# -- issue 6.16: documented fields next to a list are kept ---------------------------------


@pytest.mark.parametrize(
    ("resource", "method", "fixture", "expected"),
    [
        (
            "reports",
            "list_person_assignments",
            "reports/list_person_assignments.response.json",
            {"person": "Amy Rivera", "grouped_by": "bucket"},
        ),
        (
            "timeline",
            "list_for_person",
            "timeline/list_for_person.response.json",
            {"person": "Victor Cooper"},
        ),
    ],
)
async def test_reply_fields_next_to_a_list_are_kept_on_the_iterator(
    serve, resource, method, fixture, expected
) -> None:
    raw = (FIXTURES / "basecamp4" / fixture).read_bytes()
    data = json.loads(raw)
    rec = Recorder((200, raw, JSON))
    async with client_for("basecamp4", await rec.start(serve)) as client:
        listing = getattr(getattr(client, resource), method)(1049715915)
        assert listing.envelope is None  # nothing fetched yet
        items = [x async for x in listing]
    key = next(k for k, v in data.items() if isinstance(v, list))
    assert len(items) == len(data[key]) > 0
    envelope = listing.envelope
    assert envelope is not None
    assert envelope.person.name == expected["person"]
    if "grouped_by" in expected:
        assert envelope.grouped_by == expected["grouped_by"]
    assert key not in envelope.extra
    assert envelope.extra == {}


# -- the generated layer's shape ------------------------------------------------------------

VERBS = {"_get", "_post", "_put", "_delete", "_list", "_list_envelope", "_patch"}


def _resource_files() -> list[Path]:
    files = (ROOT / "src" / "aiocamp").glob("*/resources/*.py")
    return sorted(p for p in files if p.name != "__init__.py")


@pytest.mark.parametrize("path", _resource_files(), ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_every_generated_method_is_a_docstring_and_one_verb_call(path: Path) -> None:
    tree = ast.parse(path.read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    methods = [
        n for c in classes for n in c.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    assert methods
    for m in methods:
        doc, call = m.body
        assert isinstance(doc, ast.Expr)
        assert isinstance(doc.value, ast.Constant)
        assert "\n\n        Docs: https://" in doc.value.value
        assert "Path parameter" not in doc.value.value
        assert "Body field" not in doc.value.value
        node = call.value if isinstance(call, ast.Return | ast.Expr) else None
        if isinstance(node, ast.Await):
            node = node.value
        assert isinstance(node, ast.Call), m.name
        assert isinstance(node.func, ast.Attribute), m.name
        assert node.func.attr in VERBS, m.name
    # Nothing imported for show: every imported name is used.
    text = path.read_text()
    assert "\n_ = (" not in text
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                name = alias.asname or alias.name
                assert text.count(name) > 1, f"{name} imported but unused"


def test_no_private_body_models_are_generated() -> None:
    for product in PRODUCTS:
        models = importlib.import_module(f"aiocamp.{product}.models")
        assert not [n for n in vars(models) if n.startswith("_") and n.endswith("Body")]


async def test_list_methods_return_page_iterators_without_io() -> None:
    async with client_for("basecamp4", "http://127.0.0.1:9") as client:
        assert isinstance(client.todos.list(1), PageIterator)
