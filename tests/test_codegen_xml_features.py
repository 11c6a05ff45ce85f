"""Spec keys Basecamp Classic needs, rendered into a small product and run over loopback
HTTP: follow_location, xml_repeat, xml_list, continued_at paging, a GET with a body, an
unpaged product default."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from aiohttp import web

import aiocamp
from aiocamp.errors import DecodeError
from codegen.loader import load
from codegen.render import write_product

from .test_codegen import specs, write

__all__ = ["specs"]  # the fixture, shared with test_codegen

POSTS = {
    "resource": "posts",
    "summary": "Posts.",
    "doc": "sections/posts.md",
    "models": {
        "Post": {"xml_tag": "post", "fields": {"id": "int", "title": "str"}},
        "PostParams": {"fields": {"title": "str"}},
        "Ref": {"xml_tag": "ref", "fields": {"id": "int"}},
        "Comment": {"xml_tag": "comment", "fields": {"id": "int"}},
    },
    "endpoints": {
        "create": {
            "method": "POST",
            "path": "/posts.xml",
            "summary": "Add a post.",
            "doc": "#create",
            "body": {
                "xml_root": "request",
                "fields": {
                    "post": {"type": "PostParams", "required": True},
                    "notify": {"type": "list[int]", "xml_repeat": True},
                },
            },
            "follow_location": True,
            "result": "Post",
            "status": 201,
        },
        "reorder": {
            "method": "POST",
            "path": "/posts/reorder.xml",
            "summary": "Order the posts.",
            "doc": "#reorder",
            "body": {
                "xml_root": "refs",
                "xml_list": True,
                "fields": {"refs": {"type": "list[Ref]", "required": True}},
            },
        },
        "comments": {
            "method": "GET",
            "path": "/posts/{id}/comments.xml",
            "summary": "Comments, newest first.",
            "doc": "#comments",
            "result": "list[Comment]",
            "paging": {"style": "continued_at", "page_size": 2},
        },
        "find": {
            "method": "GET",
            "path": "/posts/find.xml",
            "summary": "Find posts.",
            "doc": "#find",
            "body": {"xml_root": "request", "fields": {"title": "str"}},
            "result": "list[Post]",
        },
    },
}


@contextmanager
def rendered(specs: Path, tmp_path: Path, resource: dict[str, Any]) -> Iterator[ModuleType]:
    """The spec rendered into ``aiocamp.demo`` and imported (removed afterwards)."""
    product = yaml.safe_load((specs / "demo/_product.yaml").read_text())
    product["paging"] = {"style": "none"}
    (specs / "demo/_product.yaml").write_text(yaml.safe_dump(product))
    write(specs, resource)
    write_product(load(specs, "demo"), tmp_path / "src")
    aiocamp.__path__.append(str(tmp_path / "src" / "aiocamp"))
    try:
        yield importlib.import_module("aiocamp.demo")
    finally:
        aiocamp.__path__.remove(str(tmp_path / "src" / "aiocamp"))
        for name in [m for m in sys.modules if m.startswith("aiocamp.demo")]:
            del sys.modules[name]


class Server:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, body))
        xml = "application/xml"
        if request.path == "/posts.xml":
            return web.Response(status=201, headers={"Location": "/posts/9.xml"})
        if request.path == "/elsewhere.xml":
            return web.Response(status=201, headers={"Location": "http://127.0.0.2:1/posts/9.xml"})
        if request.path == "/posts/9.xml":
            text = '<post><id type="integer">9</id><title>T</title></post>'
            return web.Response(text=text, content_type=xml)
        if request.path == "/posts/1/comments.xml":
            if "older" in request.query:
                text = '<comments count="3"><comment><id type="integer">3</id></comment></comments>'
            else:
                text = (
                    '<comments count="3" continued-at="/posts/1/comments.xml?older=2">'
                    '<comment><id type="integer">1</id></comment>'
                    '<comment><id type="integer">2</id></comment></comments>'
                )
            return web.Response(text=text, content_type=xml)
        if request.path == "/posts/find.xml":
            text = '<posts type="array"><post><id type="integer">4</id></post></posts>'
            return web.Response(text=text, content_type=xml)
        return web.Response(status=200)

    async def client(self, demo: ModuleType, serve: Any) -> Any:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        server = await serve(app)
        return demo.Demo(base_url=str(server.make_url("")), token="t", user_agent="t (t@t)")


async def test_follow_location_fetches_the_created_record(specs, tmp_path, serve) -> None:
    with rendered(specs, tmp_path, POSTS) as demo:
        server = Server()
        async with await server.client(demo, serve) as c:
            post = await c.posts.create(post=demo.models.PostParams(title="T"), notify=[21, 22])
        assert "Two requests" in demo.resources.posts.PostsResource.create.__doc__
    assert (post.id, post.title) == (9, "T")
    assert [(m, p) for m, p, _ in server.seen] == [("POST", "/posts.xml"), ("GET", "/posts/9.xml")]
    # xml_repeat: each id is an element named by the field, straight under the root.
    assert server.seen[0][2].endswith(
        b'<request><post><title>T</title></post><notify type="integer">21</notify>'
        b'<notify type="integer">22</notify></request>'
    )


async def test_follow_location_refuses_another_origin(specs, tmp_path, serve) -> None:
    spec = {
        **POSTS,
        "endpoints": {"create": {**POSTS["endpoints"]["create"], "path": "/elsewhere.xml"}},
    }
    with rendered(specs, tmp_path, spec) as demo:
        server = Server()
        async with await server.client(demo, serve) as c:
            with pytest.raises(DecodeError, match="not on the API's origin"):
                await c.posts.create(post=demo.models.PostParams(title="T"))
    assert len(server.seen) == 1


async def test_xml_list_body_is_the_root_array(specs, tmp_path, serve) -> None:
    with rendered(specs, tmp_path, POSTS) as demo:
        server = Server()
        async with await server.client(demo, serve) as c:
            await c.posts.reorder(refs=[demo.models.Ref(id=2), demo.models.Ref(id=1)])
        source = inspect.getsource(demo.resources.posts.PostsResource.reorder)
        assert "xml_list=True" in source
    assert server.seen[0][2].endswith(
        b'<refs type="array"><ref><id type="integer">2</id></ref>'
        b'<ref><id type="integer">1</id></ref></refs>'
    )


async def test_continued_at_paging_follows_the_root_attribute(specs, tmp_path, serve) -> None:
    with rendered(specs, tmp_path, POSTS) as demo:
        server = Server()
        async with await server.client(demo, serve) as c:
            listing = c.posts.comments(1)
            ids = [x.id async for x in listing]
    assert ids == [1, 2, 3]
    assert listing.total_count == 3
    assert [p for _, p, _ in server.seen] == [
        "/posts/1/comments.xml",
        "/posts/1/comments.xml?older=2",
    ]


async def test_a_get_may_send_a_body(specs, tmp_path, serve) -> None:
    with rendered(specs, tmp_path, POSTS) as demo:
        server = Server()
        async with await server.client(demo, serve) as c:
            found = [p.id async for p in c.posts.find(title="T")]
    assert found == [4]
    method, path, body = server.seen[0]
    assert (method, path) == ("GET", "/posts/find.xml")
    assert body.endswith(b"<request><title>T</title></request>")


def test_xml_keys_are_checked(specs) -> None:
    from aiocamp.errors import SpecError

    bad = {**POSTS, "endpoints": {"reorder": {**POSTS["endpoints"]["reorder"]}}}
    bad["endpoints"]["reorder"]["body"] = {
        "xml_root": "refs",
        "xml_list": True,
        "fields": {"refs": {"type": "Ref"}},
    }
    write(specs, bad)
    with pytest.raises(SpecError, match="exactly one field, a list") as info:
        load(specs, "demo")
    assert info.value.key_path == "endpoints.reorder.body.xml_list"
    bad["endpoints"] = {"get": {**POSTS["endpoints"]["find"], "follow_location": True}}
    write(specs, bad)
    with pytest.raises(SpecError, match="POST or PUT") as info:
        load(specs, "demo")
    assert info.value.key_path == "endpoints.get.follow_location"
