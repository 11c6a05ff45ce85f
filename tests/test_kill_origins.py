"""Same-origin rules: next-page links and redirects never take the credential elsewhere.

An origin is scheme, host *and* port; each test changes exactly one of them, and the
server at the other end records whether anything reached it.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiocamp import errors
from aiocamp.core import PageIterator, Paging, Request
from aiocamp.core._runtime import json_items

from .helpers import make_session, self_signed_tls


def pages_app(seen: list[str], next_url: str | None = None) -> web.Application:
    """Page 1 links to ``app["link"]["next"]`` (set once the port is known); page 2 is last."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        target = request.app["link"]["next"]
        headers = {"Link": f'<{target}>; rel="next"'} if target and not request.query else {}
        page = 2 if request.query else 1
        return web.json_response([{"id": page * 10}, {"id": page * 10 + 1}], headers=headers)

    app = web.Application()
    app["link"] = {"next": next_url}
    app.router.add_get("/items.json", handler)
    return app


def iterate(s: Any) -> PageIterator[int]:
    return PageIterator(
        s,
        Request("GET", "/items.json"),
        paging=Paging("link"),
        extract=json_items,
        convert=lambda d: d["id"],
    )


async def test_a_next_link_on_the_same_origin_is_followed(serve) -> None:
    """The control case: the links below differ from this one only in their origin."""
    seen: list[str] = []
    app = pages_app(seen)
    server = await serve(app)
    app["link"]["next"] = str(server.make_url("/items.json?page=2"))
    async with make_session(str(server.make_url(""))) as s:
        ids = [i async for i in iterate(s)]
    assert ids == [10, 11, 20, 21]
    assert seen == ["/items.json", "/items.json?page=2"]


async def test_a_next_link_to_another_port_of_the_same_host_is_not_followed(serve) -> None:
    """Kills: the same-origin check for Link next ignoring the port."""
    other_seen: list[str] = []
    other = await serve(pages_app(other_seen))
    seen: list[str] = []
    server = await serve(pages_app(seen, str(other.make_url("/items.json?page=2"))))
    assert other.port != server.port
    assert other.host == server.host
    async with make_session(str(server.make_url(""))) as s:
        ids = [i async for i in iterate(s)]
    assert ids == [10, 11]
    assert seen == ["/items.json"]
    assert other_seen == []


async def test_a_next_link_to_https_on_the_same_host_and_port_is_not_followed(serve) -> None:
    """Kills: the same-origin check ignoring the scheme (only the scheme differs here)."""
    seen: list[str] = []
    app = pages_app(seen)
    server = await serve(app)
    page2 = str(server.make_url("/items.json?page=2"))
    app["link"]["next"] = page2.replace("http://", "https://", 1)
    async with make_session(str(server.make_url(""))) as s:
        ids = [i async for i in iterate(s)]
    assert ids == [10, 11]
    assert seen == ["/items.json"]


# -- redirects over TLS --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made on the fly."""
    return self_signed_tls(tmp_path_factory.mktemp("tls"), "127.0.0.1", ips=("127.0.0.1",))


async def start_tls(app: web.Application, files: tuple[Path, Path]) -> TestServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*files)
    server = TestServer(app, host="127.0.0.1", scheme="https")
    await server.start_server(ssl=context)
    return server


def trusting_client(files: tuple[Path, Path]) -> aiohttp.ClientSession:
    context = ssl.create_default_context(cafile=str(files[0]))
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


async def test_an_https_to_http_redirect_is_refused(serve, tls_files) -> None:
    """Kills: an https -> http redirect accepted (the credential would go in clear)."""
    plain_seen: list[str] = []

    async def plain(request: web.Request) -> web.Response:
        plain_seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True})

    plain_app = web.Application()
    plain_app.router.add_get("/{tail:.*}", plain)
    plain_server = await serve(plain_app)
    target = str(plain_server.make_url("/landing.json"))
    tls_seen: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        tls_seen.append(request.path)
        return web.Response(status=302, headers={"Location": target})

    tls_app = web.Application()
    tls_app.router.add_get("/{tail:.*}", moved)
    tls_server = await start_tls(tls_app, tls_files)
    try:
        async with trusting_client(tls_files) as http:
            s = make_session(str(tls_server.make_url("")), session=http)
            with pytest.raises(errors.UnexpectedRedirect) as info:
                await s.request(Request("GET", "/start.json"))
            await s.close()
    finally:
        await tls_server.close()
    assert tls_seen == ["/start.json"]
    assert plain_seen == []
    assert "http://127.0.0.1" in str(info.value)


async def test_an_https_same_host_redirect_is_followed_over_tls(serve, tls_files) -> None:
    """The control case for the test above: over TLS, a same-origin redirect works."""
    seen: list[tuple[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization", "")))
        if request.path == "/start.json":
            return web.Response(status=301, headers={"Location": "/landing.json"})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await start_tls(app, tls_files)
    try:
        async with trusting_client(tls_files) as http:
            s = make_session(str(server.make_url("")), session=http)
            r = await s.request(Request("GET", "/start.json"))
            await s.close()
    finally:
        await server.close()
    assert r.data == {"ok": True}
    assert [p for p, _ in seen] == ["/start.json", "/landing.json"]
    assert all(a.startswith("Basic ") for _, a in seen)
