"""Every documented endpoint answers, and no garbage request ever breaks the sandbox."""

from __future__ import annotations

import base64
import random

import aiohttp
import pytest

from aiocamp.sandbox import available_products, serve
from aiocamp.sandbox._examples import ExampleRequest, example_request

# every product whose generated package ships a table: new products are covered as they land
PRODUCTS = available_products()


def _ordered(routes):  # deletes last, so the records other requests name still exist
    return sorted(routes, key=lambda r: r.endpoint.method == "DELETE")


@pytest.mark.parametrize("product", PRODUCTS)
async def test_every_endpoint_answers_with_its_documented_status(product: str) -> None:
    async with serve(product, scale=0.05, rate_limit="off") as sb, aiohttp.ClientSession() as http:
        routes = _ordered(sb.app.schema.routes)
        wrong = []
        for route in routes:
            ex = example_request(sb.app, route)
            assert ex is not None, route.endpoint.key
            async with http.request(
                ex.method, sb.url + ex.path, data=ex.body, headers=ex.headers
            ) as r:
                await r.read()
                if r.status != ex.expected_status:
                    wrong.append((route.endpoint.key, r.status, ex.expected_status))
        assert wrong == []
        stats = sb.stats()
        shape = {r.endpoint.key: (r.endpoint.method, r.endpoint.path) for r in routes}
        # two endpoints may share one URL (to-do list groups are to-do lists): count URLs
        assert {shape[k] for k in stats["by_endpoint"]} == set(shape.values())
        assert stats["sandbox_errors"] == 0


GARBAGE_BODIES = [
    b"",
    b"\x00\xff\xfe\xfd not text at all",
    b"<" * 2000,
    b"[" * 5000,
    b"{" * 5000,
    b"<a>" * 5000 + b"</a>" * 5000,
    b'{"name": {"x": [1]}, "content": 12, "due_on": "not a date", "id": "x"}',
    b'{"id": 1e999, "name": null}',
    b"[1, 2, 3]",
    b'"just a string"',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
    b"<person><first-name type='integer'>abc</first-name><id type='integer'>x</id></person>",
    b"<person><first-name><nested>deep</nested></first-name></person>",
    b"<kase><name>unterminated",
    "<note><body>\u2603 snowman \U0001f600</body></note>".encode(),
]
GARBAGE_HEADERS = [
    {"Authorization": "Basic !!!not-base64!!!"},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()},
    {"If-None-Match": '"no such tag, W/, ,,'},
    {"If-Modified-Since": "yesterday at noon"},
    {"If-Modified-Since": "Mon, 99 Foo 99999 99:99:99 GMT"},
    {"Content-Type": "text/x-garbage; charset=nonsense"},
    {"User-Agent": ""},
]
GARBAGE_QUERIES = [
    "n=-5",
    "n=abc",
    "page=0",
    "page=99999999999999999999",
    "since=garbage",
    "reload=maybe",
    "term=%00%ff",
    "n=1e9",
]


def _variants(
    ex: ExampleRequest, rng: random.Random
) -> list[tuple[str, dict[str, str], bytes | None]]:
    out = []
    for body in rng.sample(GARBAGE_BODIES, 4):
        out.append((ex.path, ex.headers, body))
    for extra in rng.sample(GARBAGE_HEADERS, 2):
        out.append((ex.path, {**ex.headers, **extra}, ex.body))
    sep = "&" if "?" in ex.path else "?"
    out.append((ex.path + sep + rng.choice(GARBAGE_QUERIES), ex.headers, ex.body))
    return out


@pytest.mark.parametrize("product", PRODUCTS)
async def test_garbage_bodies_headers_and_queries_never_crash_it(product: str) -> None:
    rng = random.Random(10)
    async with serve(product, scale=0.05, rate_limit="off") as sb, aiohttp.ClientSession() as http:
        statuses: set[int] = set()
        for route in _ordered(sb.app.schema.routes):
            ex = example_request(sb.app, route)
            assert ex is not None
            for path, headers, body in _variants(ex, rng):
                async with http.request(ex.method, sb.url + path, data=body, headers=headers) as r:
                    await r.read()
                    statuses.add(r.status)
                    assert r.status < 500, (
                        route.endpoint.key,
                        path,
                        headers,
                        body[:60] if body else b"",
                        r.status,
                    )
        assert sb.stats()["sandbox_errors"] == 0
        assert {400, 401, 422} <= statuses  # the product's rejections, not silence
        # still healthy afterwards
        ex = example_request(sb.app, sb.app.schema.routes[0])
        assert ex is not None
        async with http.request(ex.method, sb.url + ex.path, headers=ex.headers) as r:
            assert r.status == 200


@pytest.mark.parametrize("product", PRODUCTS)
async def test_unknown_paths_and_huge_ids_are_404(product: str) -> None:
    async with serve(product, scale=0.05) as sb, aiohttp.ClientSession() as http:
        ex = example_request(sb.app, next(r for r in sb.app.schema.routes if r.action == "get"))
        assert ex is not None
        for path in ("/nothing/here.xml", "/people/99999999999999999999999.xml", "/%ff%fe", "/"):
            async with http.get(sb.api_url + path, headers=ex.headers) as r:
                assert r.status == 404
