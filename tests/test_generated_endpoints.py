"""Every generated endpoint method is called over real HTTP on loopback against a server
that checks the method, path, query and body the spec prescribes."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from aiohttp import web

from aiocamp.core import MemoryLimiterBackend, PageIterator, RateLimit
from aiocamp.core.codecs import CODECS
from codegen.ir import Endpoint, Param, TypeRef

from .generated_support import PRODUCTS, endpoints, models_module, spec

WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
DAY = date(2024, 1, 2)


def sample(t: TypeRef, p: Param | None, product: str) -> Any:
    """A value of the parameter's type (the first enum value when it has an enum)."""
    if p is not None and p.enum:
        return p.enum[0]
    if t.kind == "scalar":
        return {
            "int": 7,
            "str": "s-x",
            "bool": True,
            "float": 1.5,
            "decimal": Decimal("2.50"),
            "datetime": WHEN,
            "date": DAY,
            "datetime_or_date": DAY,
            "json": {"k": "v"},
        }[t.name]
    if t.kind == "dict":
        return {"state": "CA"}
    if t.kind == "model":
        return getattr(models_module(product), t.name)()
    assert t.item is not None
    return [sample(t.item, None, product)]


def query_text(value: Any, fmt: str | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime(fmt) if fmt else "2024-01-02T03:04:05Z"
    if isinstance(value, date):
        return value.strftime(fmt) if fmt else "2024-01-02"
    return str(value)


def expected_query(e: Endpoint, values: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for q in e.query:
        v = values[q.name]
        if isinstance(v, dict):
            out += [(f"{q.wire}[{k}]", query_text(x, q.format)) for k, x in v.items()]
        elif isinstance(v, list):
            out += [(f"{q.wire}[]", query_text(x, q.format)) for x in v]
        else:
            out.append((q.wire, query_text(v, q.format)))
    return out


def wire_scalar(value: Any, fmt: str) -> Any:
    """What a JSON / XML body carries for a sample value, after decoding."""
    if isinstance(value, datetime):
        return "2024-01-02T03:04:05Z" if fmt == "json" else WHEN
    if isinstance(value, date):
        return "2024-01-02" if fmt == "json" else DAY
    if isinstance(value, Decimal):
        return "2.50" if fmt == "json" else value
    return value


def reply_for(e: Endpoint, product: str) -> tuple[int, bytes, str]:
    fmt = spec(product).format
    ctype = "application/xml" if fmt == "xml" else "application/json"
    r = e.result
    if r is None:
        return (204 if fmt == "json" else 200), b"", ctype
    if fmt == "json":
        body: Any = [{}] if r.is_list else {}
        if r.is_list and e.result_key:
            body = {e.result_key: [{}]}
        return 200, json.dumps(body).encode(), ctype
    if r.is_list:
        assert r.item is not None
        tag = spec(product).model(r.item.name).xml_tag if r.item.is_model else "item"
        item = f"<{tag}><id type='integer'>1</id></{tag}>"
        return 200, f'<items type="array">{item}</items>'.encode(), ctype
    if r.is_model:
        tag = spec(product).model(r.name).xml_tag
        return 200, f"<{tag}><id type='integer'>1</id></{tag}>".encode(), ctype
    return 200, b"<value>1</value>", ctype


def cases() -> list[Any]:
    return [
        pytest.param(product, resource, e, id=f"{product}:{resource}.{e.name}")
        for product in PRODUCTS
        for resource, e in endpoints(product)
    ]


CASES = cases()


def test_every_endpoint_is_covered() -> None:
    assert len(CASES) == sum(spec(p).endpoint_count() for p in PRODUCTS)
    assert len(CASES) >= 285


def client_for(product: str, base_url: str) -> Any:
    module = importlib.import_module(f"aiocamp.{product}")
    cls = getattr(module, spec(product).client)
    credentials = {"access_token": "tok"} if spec(product).auth[0] == "bearer" else {"token": "tok"}
    overrides = {host: base_url for host in module.PRODUCT.credential_hosts}
    return cls(
        base_url=base_url,
        user_agent="aiocamp-tests (dev@example.com)",
        host_overrides=overrides,
        rate_limit=RateLimit(backend=MemoryLimiterBackend()),
        **credentials,
    )


@pytest.mark.parametrize(("product", "resource", "e"), CASES)
async def test_endpoint_sends_what_the_spec_says(serve, product, resource, e: Endpoint) -> None:
    p = spec(product)
    received: list[dict[str, Any]] = []
    status, reply, ctype = reply_for(e, product)

    async def handler(request: web.Request) -> web.Response:
        received.append(
            {
                "method": request.method,
                "path": request.raw_path.split("?", 1)[0],
                "query": parse_qsl(request.query_string, keep_blank_values=True),
                "body": await request.read(),
                "ctype": request.headers.get("Content-Type", ""),
            }
        )
        return web.Response(status=status, body=reply, headers={"Content-Type": ctype})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    base = str(server.make_url(""))

    args: dict[str, Any] = {}
    for pp in e.path_params:
        args[pp.name] = sample(pp.type, pp, product)
    for q in e.query:
        args[q.name] = sample(q.type, q, product)
    body_params = list(e.body.params) if e.body is not None else []
    for b in body_params:
        args[b.name] = sample(b.type, b, product)
    if e.body is not None and e.body.kind in ("raw", "multipart"):
        args["data"] = b"\x89PNG-bytes"
        args["content_type"] = "image/png"
        if e.body.kind == "multipart":
            args["filename"] = "logo.png"

    async with client_for(product, base) as client:
        method = getattr(getattr(client, resource), e.name)
        result = method(**args)
        if isinstance(result, PageIterator):
            items = [x async for x in result]
            assert len(items) == 1
        else:
            result = await result

    assert len(received) == 1
    got = received[0]
    assert got["method"] == e.method
    path = "/" + e.path.split("/", 3)[3] if e.absolute else e.path
    for pp in e.path_params:
        path = path.replace("{" + pp.name + "}", quote(str(args[pp.name]), safe=""))
    assert got["path"] == path
    assert got["query"] == expected_query(e, args)

    if e.body is None:
        if e.method in ("POST", "PUT"):
            assert got["body"] == b""
        else:
            assert got["body"] in (b"", None)
    elif e.body.kind == "raw":
        assert got["body"] == b"\x89PNG-bytes"
        assert got["ctype"] == "image/png"
    elif e.body.kind == "multipart":
        assert got["ctype"].startswith("multipart/form-data; boundary=")
        assert b'name="logo"; filename="logo.png"' in got["body"]
        assert b"\x89PNG-bytes" in got["body"]
    else:
        decoded = CODECS[p.format].decode(got["body"])
        if p.format == "xml":
            assert list(decoded) == [e.body.xml_root]
            record = decoded[e.body.xml_root]
            if e.body.xml_scalar:
                assert record == args[body_params[0].name]
                return
        else:
            record = decoded
        assert set(record) == {b.wire for b in body_params}
        for b in body_params:
            value = args[b.name]
            if b.type.kind == "scalar" and b.type.name != "json":
                assert record[b.wire] == wire_scalar(value, p.format), b.name

    # The reply decodes into the declared result.
    r = e.result
    if r is not None and r.is_model and not r.is_list:
        assert type(result).__name__ == r.name


async def test_absolute_endpoint_host_is_a_credential_host() -> None:
    from aiocamp.basecamp4 import PRODUCT

    absolute = [e for _, e in endpoints("basecamp4") if e.absolute]
    assert absolute, "Launchpad authorization.json is an absolute URL"
    assert PRODUCT.credential_hosts == ("launchpad.37signals.com",)
