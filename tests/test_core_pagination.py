"""Lazy pagination styles over HTTP."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web

from aiocamp.core import PageIterator, Paging, Request
from aiocamp.core._pagination import next_link
from aiocamp.core._runtime import json_items, xml_items

from .helpers import make_session


def test_next_link_parsing() -> None:
    header = '<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next"'
    assert next_link(header) == "https://a/x?page=3"
    assert next_link('<https://a/x?page=2>; rel="first"') is None
    assert next_link(None) is None


def link_app(pages: int, size: int, next_url=None) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        headers = {"X-Total-Count": str(pages * size)}
        if page < pages:
            target = next_url or str(request.url.with_query(page=str(page + 1)))
            headers["Link"] = f'<{target}>; rel="next"'
        items = [{"id": (page - 1) * size + i} for i in range(size)]
        return web.json_response(items, headers=headers)

    app = web.Application()
    app.router.add_get("/items.json", handler)
    return app


def iterator(s, style="link", **kw) -> PageIterator[int]:
    return PageIterator(
        s,
        Request("GET", "/items.json"),
        paging=Paging(style, kw.pop("param", ""), kw.pop("page_size", 0)),
        extract=kw.pop("extract", json_items),
        convert=lambda d: d["id"],
        **kw,
    )


async def test_link_paging_follows_next_and_exposes_total(serve) -> None:
    server = await serve(link_app(pages=3, size=4))
    async with make_session(str(server.make_url(""))) as s:
        it = iterator(s)
        ids = [i async for i in it]
    assert ids == list(range(12))
    assert it.total_count == 12
    assert it.pages_fetched == 3


async def test_paging_is_lazy(serve) -> None:
    server = await serve(link_app(pages=5, size=2))
    async with make_session(str(server.make_url(""))) as s:
        it = iterator(s)
        first = await anext(it)
        assert first == 0
        assert s.stats.requests == 1
        await anext(it)
        await anext(it)
        assert s.stats.requests == 2


async def test_cross_origin_next_link_is_not_followed(serve, caplog) -> None:
    server = await serve(link_app(pages=3, size=2, next_url="https://evil.example.test/x"))
    caplog.set_level(logging.WARNING, logger="aiocamp.pagination")
    async with make_session(str(server.make_url(""))) as s:
        ids = [i async for i in iterator(s)]
    assert ids == [0, 1]
    assert "another origin" in caplog.text
    assert s.stats.requests == 1


async def test_scheme_change_in_next_link_is_not_followed(serve) -> None:
    server = await serve(link_app(pages=3, size=2))
    https_twin = str(server.make_url("/items.json?page=2")).replace("http://", "https://")
    await server.close()
    server = await serve(link_app(pages=3, size=2, next_url=https_twin))
    async with make_session(str(server.make_url(""))) as s:
        ids = [i async for i in iterator(s)]
    assert ids == [0, 1]


async def test_max_pages_and_max_items(serve) -> None:
    server = await serve(link_app(pages=5, size=3))
    async with make_session(str(server.make_url(""))) as s:
        assert [i async for i in iterator(s, max_pages=2)] == list(range(6))
        it = iterator(s, max_items=4)
        assert [i async for i in it] == [0, 1, 2, 3]
        assert it.pages_fetched == 2
        assert [i async for i in iterator(s, max_items=0)] == []


def offset_app(total: int, size: int, seen: list[str]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        seen.append(request.query_string)
        n = int(request.query.get("n", "0"))
        ids = "".join(
            f'<person><id type="integer">{i}</id></person>' for i in range(n, min(n + size, total))
        )
        return web.Response(
            body=f'<people type="array">{ids}</people>'.encode(), content_type="application/xml"
        )

    app = web.Application()
    app.router.add_get("/items.json", handler)
    return app


async def test_offset_paging_with_n(serve) -> None:
    seen: list[str] = []
    server = await serve(offset_app(total=7, size=3, seen=seen))
    async with make_session(str(server.make_url("")), fmt="xml") as s:
        it = iterator(s, "offset", param="n", page_size=3, extract=xml_items)
        ids = [i async for i in it]
    assert ids == list(range(7))
    assert seen == ["", "n=3", "n=6"]


async def test_offset_paging_stops_on_an_empty_page(serve) -> None:
    seen: list[str] = []
    server = await serve(offset_app(total=6, size=3, seen=seen))
    async with make_session(str(server.make_url("")), fmt="xml") as s:
        ids = [i async for i in iterator(s, "offset", param="n", page_size=3, extract=xml_items)]
    assert ids == list(range(6))
    assert seen == ["", "n=3", "n=6"]


async def test_numbered_pages_with_x_pages(serve) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        seen.append(request.query["page"])
        return web.json_response(
            [{"id": page * 10 + i} for i in range(2)], headers={"X-Pages": "3", "X-Records": "6"}
        )

    app = web.Application()
    app.router.add_get("/items.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        it = iterator(s, "page", param="page", page_size=2)
        ids = [i async for i in it]
    assert ids == [10, 11, 20, 21, 30, 31]
    assert seen == ["1", "2", "3"]
    assert it.total_count == 6
    assert it.total_pages == 3


def test_bad_paging_arguments() -> None:
    with pytest.raises(ValueError, match="page size"):
        Paging("offset", "n", 0)
