"""Paging edge cases a server can produce, and the iterator's public counters."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import PageIterator, Paging, Request
from aiocamp.core._pagination import next_link
from aiocamp.core._runtime import json_items

from .helpers import make_session


def pages_app(pages: list[list[int]], seen: list[str], headers: Any = None) -> web.Application:
    """``pages[i]`` is served for ``?page=i+1`` (or ``?n=<offset>``), linked with rel=next;
    ``headers(i)`` adds headers to page i."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.query_string)
        if "n" in request.query:
            offset = int(request.query["n"])
            flat = [x for page in pages for x in page]
            index, body = None, flat[offset : offset + 3]
        else:
            index = int(request.query.get("page", "1")) - 1
            body = pages[index] if index < len(pages) else []
        extra = dict(headers(index) if headers and index is not None else {})
        if index is not None and index + 1 < len(pages):
            target = request.url.update_query(page=str(index + 2))
            extra["Link"] = f'<{target}>; rel="next"; title="Next page"'
        return web.json_response([{"id": x} for x in body], headers=extra)

    app = web.Application()
    app.router.add_get("/items.json", handler)
    return app


def listing(s: Any, style: str = "link", query: tuple[tuple[str, str], ...] = (), **kw: Any):
    return PageIterator(
        s,
        Request("GET", "/items.json", query),
        paging=Paging(style, kw.pop("param", ""), kw.pop("page_size", 0)),  # type: ignore[arg-type]
        extract=json_items,
        convert=kw.pop("convert", lambda d: d["id"]),
        **kw,
    )


async def test_offset_paging_keeps_the_other_query_parameters_on_every_page(serve) -> None:
    """Kills: the next page's query keeping only the paging parameter, and an offset that
    restarts from the page length instead of adding up (seen from the fourth page on)."""
    seen: list[str] = []
    server = await serve(pages_app([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]], seen))
    async with make_session(str(server.make_url("")), cache=None) as s:
        it = listing(s, "offset", (("since", "20240102"),), param="n", page_size=3)
        ids = [i async for i in it]
    assert ids == list(range(1, 11))
    assert seen == [
        "since=20240102",
        "since=20240102&n=3",
        "since=20240102&n=6",
        "since=20240102&n=9",
    ]
    assert it.items_yielded == 10
    assert it.pages_fetched == 4


async def test_a_link_next_url_is_followed_as_given(serve) -> None:
    """Kills: the first request's query added again to the Link URL (it carries its own)."""
    seen: list[str] = []
    server = await serve(pages_app([[1], [2], [3]], seen))
    async with make_session(str(server.make_url("")), cache=None) as s:
        it = listing(s, query=(("status", "active"),))
        ids = [i async for i in it]
    assert ids == [1, 2, 3]  # one-record pages are followed too
    assert seen == ["status=active", "status=active&page=2", "status=active&page=3"]


async def test_an_empty_page_ends_link_paging_even_with_a_next_link(serve) -> None:
    seen: list[str] = []
    server = await serve(pages_app([[], [5]], seen))
    async with make_session(str(server.make_url("")), cache=None) as s:
        assert [i async for i in listing(s)] == []
    assert seen == [""]


async def test_an_unpaged_list_makes_one_request_whatever_the_server_says(serve) -> None:
    seen: list[str] = []
    server = await serve(pages_app([[1, 2], [3, 4]], seen))
    async with make_session(str(server.make_url("")), cache=None) as s:
        it = listing(s, "none")
        assert [i async for i in it] == [1, 2]
    assert seen == [""]
    assert it.pages_fetched == 1


async def test_totals_come_from_the_first_page(serve) -> None:
    seen: list[str] = []
    totals = {0: {"X-Total-Count": "6", "X-Pages": "3"}, 1: {"X-Total-Count": "99"}}
    server = await serve(pages_app([[1, 2], [3, 4], [5, 6]], seen, lambda i: totals.get(i, {})))
    async with make_session(str(server.make_url("")), cache=None) as s:
        it = listing(s)
        assert it.total_count is None
        assert it.total_pages is None
        assert [i async for i in it] == [1, 2, 3, 4, 5, 6]
    assert it.total_count == 6
    assert it.total_pages == 3


async def test_max_items_equal_to_a_page_stops_without_asking_for_the_next(serve) -> None:
    seen: list[str] = []
    server = await serve(pages_app([[1, 2, 3], [4, 5, 6]], seen))
    async with make_session(str(server.make_url("")), cache=None) as s:
        it = listing(s, max_items=3)
        assert [i async for i in it] == [1, 2, 3]
        one_page = listing(s, max_pages=1)
        assert [i async for i in one_page] == [1, 2, 3]
        spanning = listing(s, max_items=4)
        assert [i async for i in spanning] == [1, 2, 3, 4]
    assert seen == ["", "", "", "page=2"]
    assert it.items_yielded == 3
    assert spanning.items_yielded == 4


async def test_a_record_that_does_not_convert_names_the_page(serve) -> None:
    seen: list[str] = []
    server = await serve(pages_app([[1, 2]], seen))

    def convert(d: dict[str, Any]) -> int:
        raise errors.DecodeError("field 'id': expected text")

    async with make_session(str(server.make_url("")), cache=None) as s:
        with pytest.raises(errors.DecodeError) as info:
            [i async for i in listing(s, convert=convert)]
    err = info.value
    assert "field 'id': expected text" in str(err)
    assert err.status == 200
    assert err.url is not None
    assert err.url.endswith("/items.json")


def test_paging_arguments_are_checked() -> None:
    with pytest.raises(errors.ConfigError, match="page paging needs"):
        Paging("page", "", 0)
    with pytest.raises(errors.ConfigError, match="offset paging needs"):
        Paging("offset", "n", 0)
    assert Paging("offset", "n", 1).page_size == 1
    assert Paging("link").style == "link"


async def test_iterator_bounds_are_checked() -> None:
    s = make_session("http://127.0.0.1:9")
    with pytest.raises(errors.ConfigError, match="max_pages must be >= 1"):
        listing(s, max_pages=0)
    with pytest.raises(errors.ConfigError, match="max_items must be >= 0"):
        listing(s, max_items=-1)
    assert listing(s, max_pages=1, max_items=0) is not None
    await s.close()


def test_next_link_reads_rel_among_other_link_parameters() -> None:
    header = '<https://a.test/x?page=3>; rel="next"; title="Next page"'
    assert next_link(header) == "https://a.test/x?page=3"
    assert next_link('<https://a.test/1>; title="x"; rel="prev next"') == "https://a.test/1"
