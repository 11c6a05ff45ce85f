"""A product is its table plus optional conventions: a tiny API served from a table alone,
covering the shapes later products bring (continued-at pages, Location-only creates,
list roots as bodies, repeated elements, envelopes, per-method limit classes)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import aiohttp

from aiocamp.sandbox import serve
from aiocamp.sandbox._table import load_table, parse_table

ROOT = Path(__file__).resolve().parent.parent


def field(name: str, type_: str = "str", **kw: object) -> dict[str, object]:
    return {"name": name, "type": type_, "wire": name.replace("_", "-"), **kw}


def endpoint(name: str, method: str, path: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "resource": "comments",
        "name": name,
        "method": method,
        "path": path,
        "path_params": [],
        "query": [],
        "body": None,
        "result": None,
        "result_optional": False,
        "result_key": None,
        "paging": None,
        "limit_classes": ["reads"] if method == "GET" else ["writes"],
        "status": None,
    }
    base.update(kw)
    return base


def body(**kw: object) -> dict[str, object]:
    return {
        "kind": "fields",
        "model": "",
        "params": [],
        "xml_root": None,
        "xml_scalar": False,
        "content_type": None,
        **kw,
    }


TINY = {
    "version": 1,
    "product": {
        "name": "tiny",
        "client": "Tiny",
        "title": "Tiny",
        "format": "xml",
        "wire_case": "kebab",
        "base_url": "https://tiny.example",
        "base_url_params": [],
        "auth": ["basic_token"],
        "rate_limits": {
            "reads": {"requests": 500, "per_seconds": 10},
            "writes": {"requests": 3, "per_seconds": 10},
        },
        "default_limit_classes": {"GET": ["reads"], "*": ["writes"]},
        "paging": {"style": "none", "param": "", "page_size": 0},
        "errors": "http",
    },
    "models": {
        "Comment": {
            "xml_tag": "comment",
            "private": False,
            "fields": [
                field("id", "int", read_only=True),
                field("body"),
                field("tags", "list[int]"),
            ],
        },
    },
    "endpoints": [
        endpoint(
            "list",
            "GET",
            "/comments.xml",
            result="list[Comment]",
            paging={"style": "continued_at", "param": "", "page_size": 2},
        ),
        endpoint(
            "get",
            "GET",
            "/comments/{id}.xml",
            path_params=[field("id", "int", required=True)],
            result="Comment",
        ),
        endpoint(
            "create",
            "POST",
            "/comments.xml",
            result="Comment",
            status=201,
            follow_location=True,
            body=body(
                xml_root="request",
                params=[field("body", required=True), field("tags", "list[int]", xml_repeat=True)],
            ),
        ),
        endpoint(
            "reorder",
            "PUT",
            "/comments/order.xml",
            status=200,
            body=body(
                xml_root="comments",
                xml_list=True,
                params=[field("comments", "list[int]", item="id")],
            ),
        ),
    ],
}


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:X".encode()).decode()}


async def test_a_table_alone_serves_a_product_with_classic_shapes() -> None:
    table = parse_table(json.loads(json.dumps(TINY)))
    async with serve("tiny", table=table, scale=0.5) as sb, aiohttp.ClientSession() as http:
        headers = {**basic(sb.token), "Content-Type": "application/xml"}
        request = b"<request><body>First!</body><tags>4</tags><tags>5</tags></request>"
        async with http.post(f"{sb.url}/comments.xml", data=request, headers=headers) as r:
            assert r.status == 201
            assert await r.read() == b""  # follow_location: only the Location header
            location = r.headers["Location"]
        async with http.get(location, headers=basic(sb.token)) as r:
            text = await r.text()
        assert "<body>First!</body>" in text
        assert '<tags type="array"><tag type="integer">4</tag><tag type="integer">5</tag>' in text

        total = sb.state.counts()["Comment"]
        seen = 0
        path: str | None = "/comments.xml"
        while path:
            async with http.get(sb.url + path, headers=basic(sb.token)) as r:
                text = await r.text()
            assert f'count="{total}"' in text
            seen += text.count("<comment>")
            path = (
                text.split('continued-at="', 1)[1].split('"', 1)[0]
                if "continued-at" in text
                else None
            )
        assert seen == total > 2

        order = (
            b'<comments type="array"><id type="integer">1</id><id type="integer">2</id></comments>'
        )
        async with http.put(f"{sb.url}/comments/order.xml", data=order, headers=headers) as r:
            assert r.status == 200
        async with http.put(f"{sb.url}/comments/order.xml", data=b"<nope/>", headers=headers) as r:
            assert r.status == 422
        async with http.put(f"{sb.url}/comments/order.xml", data=order, headers=headers) as r:
            assert r.status == 503  # writes: 3 per 10 s, by method
        assert sb.stats()["by_limit_class"] == {
            "writes": 4,
            "reads": sb.stats()["by_method"]["GET"],
        }


def test_shipped_tables_load_for_every_generated_product() -> None:
    for product in ("highrise", "basecamp4"):
        table = load_table(product)
        assert table.name == product
        assert len(table.endpoints) > 50


async def test_a_product_with_a_body_token_and_an_envelope_needs_only_a_conventions_class(
    monkeypatch,
) -> None:
    from aiohttp import web

    from aiocamp.sandbox import _conventions
    from aiocamp.sandbox._wire import XML_DECL

    class EnvelopeConventions(_conventions.Conventions):
        """Backpack-like: <request><token> in the body, <response success='true'> back."""

        def wrap_reply(self, body: bytes, status: int) -> bytes:
            inner = body.decode().removeprefix(XML_DECL)
            return f"<response success='true'>{inner}</response>".encode()

        def error(self, status: int, messages: list[str]) -> web.Response:
            text = (
                f"<response success='false'><error code='{status}'>{messages[0]}</error></response>"
            )
            return web.Response(status=200, text=text, content_type="application/xml")

    monkeypatch.setitem(_conventions.CONVENTIONS, "packlike", EnvelopeConventions)
    raw = json.loads(json.dumps(TINY))
    raw["product"].update(name="packlike", auth=["body_token"])
    raw["endpoints"] = [
        endpoint(
            "list",
            "POST",
            "/ws/comments",
            result="list[Comment]",
            body=body(xml_root="request", params=[]),
        ),
    ]
    sandbox = serve("packlike", table=parse_table(raw), scale=0.5)
    async with sandbox as sb, aiohttp.ClientSession() as http:
        ok = f"<request><token>{sb.token}</token></request>".encode()
        async with http.post(f"{sb.url}/ws/comments", data=ok) as r:
            text = await r.text()
        assert r.status == 200
        assert text.startswith("<response success='true'><comments type=\"array\">")
        assert text.count("<comment>") == sb.state.counts()["Comment"]
        bad = b"<request><token>wrong</token></request>"
        async with http.post(f"{sb.url}/ws/comments", data=bad) as r:
            assert r.status == 401
