"""Whatever a server sends, a call raises only aiocamp errors, and never hangs.

A get and a list call of every product go over loopback HTTP to a server whose status,
headers (Link, Location, Retry-After, ETag, Content-Type, X-Total-Count) and body are drawn
by Hypothesis: hostile values, structure-aware records of the endpoint's model (valid and
perturbed), and random bytes. Each call runs twice on one client, so the ETag cache and its
304 path are fuzzed too.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.core import MemoryLimiterBackend, PageIterator, RateLimit, RetryPolicy
from codegen.ir import Endpoint

from .fuzz_strategies import (
    PRODUCTS,
    fuzz_settings,
    json_records,
    perturbed_json_records,
    perturbed_xml_records,
    render_xml,
    xml_records,
)
from .generated_support import endpoints, spec
from .helpers import FIXTURES, free_port

#: Seconds a fuzzed call may take at most: far above a legitimate call here (retries are
#: bounded to half a second), so hitting it means a hang.
HANG = 5.0


def get_endpoints(product: str) -> list[tuple[str, Endpoint]]:
    return [
        (r, e)
        for r, e in endpoints(product)
        if e.method == "GET" and e.result is not None and e.result.is_model and not e.absolute
    ]


def list_endpoints(product: str) -> list[tuple[str, Endpoint]]:
    return [
        (r, e)
        for r, e in endpoints(product)
        if e.method == "GET"
        and e.is_list
        and e.result is not None
        and e.result.item is not None
        and e.result.item.is_model
        and not e.absolute
    ]


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_product_has_a_get_and_a_list_to_fuzz(product) -> None:
    assert get_endpoints(product)
    assert list_endpoints(product)


def argument(t: Any) -> Any:
    return {"int": 1, "str": "x", "bool": True}.get(t.name, "x") if t.kind == "scalar" else "x"


# --- what the server sends --------------------------------------------------------------

URLS = [
    "",
    "<>",
    "{base}/next",
    "{base}/same?page=2",
    "http://[::1",
    "http://127.0.0.1:99999/x",
    "http://user:secret@{host}/x",
    "{other}/x",
    "https://{host}/x",
    "//evil.example/x",
    "/relative/path?n=500",
    "javascript:alert(1)",
    "http://%zz/",
    "\u00e9t\u00e9",
]
header_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
    max_size=40,
)
links = st.one_of(
    st.sampled_from(URLS).map(lambda u: f'<{u}>; rel="next"'),
    st.sampled_from(
        [
            '<>; rel="next", <{base}/page2>; rel="next"',
            "<{base}/a>; rel=NEXT",
            '<{base}/a>; rel="prev next"',
            "<{base}/a",
            'rel="next"',
            "<{base}/a>; rel=next, <{base}/b>; rel=next",
        ]
    ),
    header_text,
)
retry_after = st.one_of(
    st.sampled_from(
        [
            "0",
            "0.01",
            "-1",
            "999999999",
            "1e308",
            "nan",
            "inf",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "soon",
            "",
        ]
    ),
    header_text,
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/xml",
            "application/xml; charset=utf-16",
            "text/html",
            "application/json; charset=latin-1",
            "multipart/mixed; boundary=x",
            "",
        ]
    ),
    header_text,
)
total_counts = st.one_of(
    st.sampled_from(["-5", "0", "3", str(10**23), "1e3", "abc", "", " 7 "]), header_text
)
etags = st.one_of(st.sampled_from(['"abc"', 'W/"x"', "unquoted", '"', ""]), header_text)

headers = st.fixed_dictionaries(
    {},
    optional={
        "Link": links,
        "Location": st.sampled_from(URLS) | header_text,
        "Retry-After": retry_after,
        "ETag": etags,
        "Content-Type": content_types,
        "X-Total-Count": total_counts,
    },
)
statuses = st.one_of(
    st.just(200),
    st.sampled_from([201, 204, 299, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 410]),
    st.sampled_from([422, 429, 500, 502, 503, 504, 599]),
)

HOSTILE_BODIES = [
    b"",
    b"   \n",
    b"null",
    b"[]",
    b"{}",
    b'"text"',
    b"[" * 2000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'[{"id": 18446744073709551617}]',
    b'{"id": 18446744073709551617}',
    b"<{root}>hello</{root}>",
    b'<{root} type="integer">5</{root}>',
    b'<{root} type="array"><x/></{root}>',
    b"<{root}><id>1</id><id>2</id></{root}>",
    b"<records>text</records>",
    b'<records type="array"><{root}>hello</{root}></records>',
    b'<records type="array"><{root} type="integer">5</{root}></records>',
    b"<records><{root}>hello</{root}><{root}/></records>",
    b"<a>" * 600 + b"</a>" * 600,
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    b'<?xml version="1.0" encoding="utf-16"?><x/>',
    b'<?xml version="1.0" encoding="bogus"?><x/>',
    b"\xef\xbb\xbf<x/>",
    b"\xff\xfe<\x00x\x00/\x00>\x00",
    b'<x><id type="integer">1e5</id></x>',
    b"<html><body>Bad gateway</body></html>",
    b'{"error": "secret-token"}',
    (FIXTURES / "highrise/people/get.response.xml").read_bytes()[:300],
]


def record_bodies(product: str, e: Endpoint) -> st.SearchStrategy[bytes]:
    """Valid and perturbed records of the endpoint's model, as its reply would carry them."""
    assert e.result is not None
    item = e.result.item if e.is_list else e.result
    assert item is not None
    name = item.name
    if spec(product).format == "json":
        record = json_records(product, name) | perturbed_json_records(product, name)
        if not e.is_list:
            return record.map(lambda r: json.dumps(r).encode())
        records = st.lists(record, max_size=3)
        if e.result_key:
            return records.map(lambda rs: json.dumps({e.result_key: rs}).encode())
        return records.map(lambda rs: json.dumps(rs).encode())
    node = xml_records(product, name) | perturbed_xml_records(product, name)
    if not e.is_list:
        return node.map(lambda n: render_xml(n).encode())
    attrs = st.sampled_from([{"type": "array"}, {}])
    return st.builds(
        lambda a, ns: render_xml(("records", a, ns)).encode(), attrs, st.lists(node, max_size=3)
    )


def root_tag(product: str, e: Endpoint) -> bytes:
    """The element name of the endpoint's records (XML), to aim hostile bodies at it."""
    assert e.result is not None
    item = e.result.item if e.is_list else e.result
    assert item is not None
    return (spec(product).model(item.name).xml_tag or "record").encode()


def replies(
    product: str, e: Endpoint
) -> st.SearchStrategy[list[tuple[int, dict[str, str], bytes]]]:
    tag = root_tag(product, e)
    body = st.one_of(
        record_bodies(product, e),
        st.sampled_from(HOSTILE_BODIES).map(lambda b: b.replace(b"{root}", tag)),
        st.binary(max_size=200),
    )
    return st.lists(st.tuples(statuses, headers, body), min_size=1, max_size=3)


# --- the calls ---------------------------------------------------------------------------


class Script:
    """The replies the server gives, in order (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, dict[str, str], bytes]] = []
        self.served = 0
        self.base = ""
        self.other = ""

    def fill(self, text: str) -> str:
        host = self.base.split("//", 1)[1]
        return (
            text.replace("{base}", self.base).replace("{host}", host).replace("{other}", self.other)
        )

    def next(self) -> tuple[int, dict[str, str], bytes]:
        status, hdrs, body = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return status, {k: self.fill(v) for k, v in hdrs.items()}, body


@pytest.fixture
async def script(serve) -> Script:
    state = Script()

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        status, hdrs, body = state.next()
        response = web.Response(status=status, body=body if status not in (204, 304) else None)
        for key, value in hdrs.items():
            try:
                response.headers[key] = value
            except ValueError:  # aiohttp refuses some header values itself
                continue
        if "Content-Type" not in hdrs:
            response.headers["Content-Type"] = (
                "application/xml" if body.lstrip().startswith(b"<") else "application/json"
            )
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    state.base = str(server.make_url("")).rstrip("/")
    state.other = f"http://127.0.0.1:{free_port()}"
    return state


def client_for(product: str, base_url: str) -> Any:
    module = importlib.import_module(f"aiocamp.{product}")
    cls = getattr(module, spec(product).client)
    credentials = {"access_token": "tok"} if spec(product).auth[0] == "bearer" else {"token": "tok"}
    return cls(
        base_url=base_url,
        user_agent="aiocamp-fuzz (dev@example.com)",
        host_overrides={host: base_url for host in module.PRODUCT.credential_hosts},
        rate_limit=RateLimit(backend=MemoryLimiterBackend()),
        retry=RetryPolicy(
            max_retries=1, total_budget=0.2, backoff_initial=0.001, backoff_max=0.005
        ),
        **credentials,
    )


async def call_twice(product: str, base: str, resource: str, e: Endpoint) -> None:
    args = {p.name: argument(p.type) for p in e.path_params}
    args.update({q.name: argument(q.type) for q in e.query if q.required})
    if e.is_list:
        args["max_pages"] = 3
    async with client_for(product, base) as client:
        method = getattr(getattr(client, resource), e.name)
        for _ in range(2):
            try:
                async with asyncio.timeout(HANG):
                    result = method(**args)
                    if isinstance(result, PageIterator):
                        [x async for x in result]
                    else:
                        await result
            except errors.AiocampError:
                continue


@pytest.mark.parametrize("product", PRODUCTS)
@fuzz_settings(25)
@given(data=st.data())
async def test_a_get_raises_only_aiocamp_errors(script: Script, product: str, data) -> None:
    resource, e = data.draw(st.sampled_from(get_endpoints(product)), label="endpoint")
    script.replies = data.draw(replies(product, e), label="replies")
    script.served = 0
    await call_twice(product, script.base, resource, e)


@pytest.mark.parametrize("product", PRODUCTS)
@fuzz_settings(25)
@given(data=st.data())
async def test_a_list_raises_only_aiocamp_errors(script: Script, product: str, data) -> None:
    resource, e = data.draw(st.sampled_from(list_endpoints(product)), label="endpoint")
    script.replies = data.draw(replies(product, e), label="replies")
    script.served = 0
    await call_twice(product, script.base, resource, e)


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("kind", ["get", "list"])
@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda b: repr(b[:24]))
async def test_each_hostile_body_raises_only_aiocamp_errors(
    script: Script, product: str, kind: str, body: bytes
) -> None:
    """Every known-bad body, on a 200, for the first get and list of each product."""
    resource, e = (get_endpoints if kind == "get" else list_endpoints)(product)[0]
    script.replies = [(200, {}, body.replace(b"{root}", root_tag(product, e)))]
    await call_twice(product, script.base, resource, e)
    assert script.served >= 1
