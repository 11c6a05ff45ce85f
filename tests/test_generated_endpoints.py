"""Every generated endpoint method is called over real HTTP on loopback against a server
that checks the method, path, query and body the spec prescribes."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from aiohttp import web

from aiocamp.core import MemoryLimiterBackend, PageIterator, RateLimit
from aiocamp.core._auth import NoAuth
from aiocamp.core._client import Resource
from aiocamp.core._codecs import CODECS
from aiocamp.core._limiter import BucketParams
from codegen.ir import Endpoint, Param, TypeRef

from .generated_support import (
    PRODUCTS,
    endpoints,
    format_arg,
    formats,
    models_module,
    spec,
    without_request_token,
    xml_canon,
)

WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
DAY = date(2024, 1, 2)


class Samples:
    """Values of each parameter's type, all different from one another, so an argument
    that lands in another parameter's place (path, query or body) fails the test."""

    def __init__(self, product: str) -> None:
        self.product = product
        self.n = 0

    def __call__(self, t: TypeRef, p: Param | None) -> Any:
        self.n += 1
        n = self.n
        if p is not None and p.enum:
            return p.enum[(n - 1) % len(p.enum)]
        if t.kind == "scalar":
            return {
                "int": 100 + n,
                "str": f"s{n}-x",
                "bool": n % 2 == 1,
                "float": n + 0.25,
                "decimal": Decimal(f"{n}.50"),
                "datetime": WHEN + timedelta(days=n, hours=n, minutes=n),
                "date": DAY + timedelta(days=n),
                "datetime_or_date": DAY + timedelta(days=n),
                "json": {"k": f"v{n}"},
                "int_or_str": f"user{n}@example.com",
            }[t.name]
        if t.kind == "dict":
            return {"state": f"CA{n}", "zip": f"9{n:04d}"}
        if t.kind == "model":
            return getattr(models_module(self.product), t.name)()
        assert t.item is not None
        return [self(t.item, None), self(t.item, None)]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_text(value: Any, fmt: str | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(fmt) if fmt else iso(value)
    if isinstance(value, date):
        return value.strftime(fmt) if fmt else value.isoformat()
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
        return iso(value) if fmt == "json" else value
    if isinstance(value, date):
        return value.isoformat() if fmt == "json" else value
    if isinstance(value, Decimal):
        return str(value) if fmt == "json" else value
    return value


#: Where the loopback server says a Location-only create put the new record.
CREATED_PATH = "/created/4242.xml"
#: The older page a continued-at list root points to.
CONTINUED_PATH = "/older/comments.xml"


def reply_for(
    e: Endpoint, product: str, items: int = 1, fmt: str | None = None
) -> tuple[int, bytes, str]:
    """A reply of the endpoint's result type; a list result holds ``items`` records.
    Backpack's /ws/ calls answer inside ``<response success='true'>``."""
    status, body, ctype = _reply_for(e, product, items, fmt)
    if spec(product).errors == "backpack_envelope" and e.path.startswith("/ws/"):
        body = b"<response success='true'>" + body + b"</response>"
    return status, body, ctype


def _reply_for(
    e: Endpoint, product: str, items: int, fmt: str | None = None
) -> tuple[int, bytes, str]:
    fmt = fmt or spec(product).format
    ctype = "application/xml" if fmt == "xml" else "application/json"
    r = e.result
    if r is None:
        return (204 if fmt == "json" else 200), b"", ctype
    if fmt != spec(product).format:  # JSON mirroring XML: records wrapped in their tag
        model = r.item if r.is_list else r
        tag = spec(product).model(model.name).xml_tag if model and model.is_model else None
        key = tag.replace("-", "_") if tag and e.xml_dashes else tag

        def record(i: int) -> Any:
            return {key: {"id": i}} if key else {"id": i}

        body = [record(i) for i in range(items)] if r.is_list else record(1)
        return 200, json.dumps(body).encode(), ctype
    if fmt == "json":
        body: Any = [{"id": i} for i in range(items)] if r.is_list else {}
        if r.is_list and e.result_key:
            body = {e.result_key: body}
        return 200, json.dumps(body).encode(), ctype
    if r.is_list:
        assert r.item is not None
        tag = spec(product).model(r.item.name).xml_tag if r.item.is_model else "item"
        records = "".join(f"<{tag}><id type='integer'>{i}</id></{tag}>" for i in range(items))
        return 200, f'<items type="array">{records}</items>'.encode(), ctype
    if r.is_model:
        tag = spec(product).model(r.name).xml_tag
        return 200, f"<{tag}><id type='integer'>1</id></{tag}>".encode(), ctype
    return 200, b"<value>1</value>", ctype


def cases() -> list[Any]:
    """Every endpoint of every product, in each wire format its client offers."""
    return [
        pytest.param(
            product,
            fmt,
            resource,
            e,
            id=f"{product}:{resource}.{e.name}"
            if len(formats(product)) == 1
            else f"{product}[{fmt}]:{resource}.{e.name}",
        )
        for product in PRODUCTS
        for fmt in formats(product)
        for resource, e in endpoints(product)
    ]


CASES = cases()


def generated_methods(product: str) -> set[tuple[str, str]]:
    """(resource, method) of every public method the generated client really has."""
    module = importlib.import_module(f"aiocamp.{product}")
    client = getattr(module, spec(product).client)(
        base_url="https://example.test", user_agent="t (t@example.test)", auth=NoAuth()
    )
    found = set()
    for attr, resource in vars(client).items():
        if isinstance(resource, Resource):
            for name, member in vars(type(resource)).items():
                if callable(member) and not name.startswith("_"):
                    found.add((attr, name))
    return found


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_generated_client_has_exactly_the_spec_endpoints(product) -> None:
    """Every spec endpoint is a method of the generated client (plus the patch() of a
    replace-style PUT), and nothing else is."""
    expected = {(r, e.name) for r, e in endpoints(product)}
    expected |= {(r, e.patch.name) for r, e in endpoints(product) if e.patch}
    assert generated_methods(product) == expected


class RecordingBackend(MemoryLimiterBackend):
    """A limiter backend that notes the buckets every request draws from."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: list[tuple[str, ...]] = []

    async def try_acquire(self, keys: Sequence[str], params: Sequence[BucketParams]) -> float:
        wait = await super().try_acquire(keys, params)
        if not wait:
            self.drawn.append(tuple(sorted(k.rsplit(":", 1)[1] for k in keys)))
        return wait


def client_for(
    product: str, base_url: str, backend: RecordingBackend, fmt: str | None = None
) -> Any:
    module = importlib.import_module(f"aiocamp.{product}")
    cls = getattr(module, spec(product).client)
    credentials = {"access_token": "tok"} if spec(product).auth[0] == "bearer" else {"token": "tok"}
    overrides = {host: base_url for host in module.PRODUCT.credential_hosts}
    return cls(
        base_url=base_url,
        user_agent="aiocamp-tests (dev@example.com)",
        host_overrides=overrides,
        # Documented limits, on windows 100 times shorter (email search: 2 per 0.1 s).
        rate_limit=RateLimit(backend=backend, time_scale=0.01),
        **credentials,
        **({"format": format_arg(product, fmt)} if fmt and format_arg(product, fmt) else {}),
    )


@pytest.mark.parametrize(("product", "fmt", "resource", "e"), CASES)
async def test_endpoint_sends_what_the_spec_says(
    serve, product, fmt, resource, e: Endpoint
) -> None:
    """Method, path, query, body, paging and limit classes of one call, seen by a server.

    List endpoints get a full first page, with a ``Link: rel="next"`` header too: offset
    and page endpoints must ask for the next page with their parameter, link endpoints
    must follow the link, unpaged ones must stop after one request.
    """
    p = spec(product)
    paging = (e.paging or p.paging) if e.is_list else None
    first_page = paging.page_size if paging is not None and paging.page_size else 1
    received: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(
            {
                "method": request.method,
                "path": request.raw_path.split("?", 1)[0],
                "query": parse_qsl(request.query_string, keep_blank_values=True),
                "body": await request.read(),
                "ctype": request.headers.get("Content-Type", ""),
                "accept": request.headers.get("Accept", ""),
            }
        )
        headers = {}
        if e.follow_location and len(received) == 1:
            # A Location-only create: 201, no body, the new record named in Location.
            headers["Location"] = str(request.url.with_path(CREATED_PATH).with_query(None))
            return web.Response(status=201, headers=headers)
        if e.follow_location:
            status, reply, ctype = reply_for(e, product, 1, fmt)
        elif len(received) == 1:
            status, reply, ctype = reply_for(e, product, first_page, fmt)
            next_url = request.url.with_query({"page": "2"})
            headers["Link"] = f'<{next_url}>; rel="next"'
            if paging is not None and paging.style == "continued_at":
                # Classic comments: the root names the next (older) page in continued-at.
                reply = reply.replace(
                    b'<items type="array">',
                    f'<items count="{2 * first_page}" continued-at="{CONTINUED_PATH}">'.encode(),
                    1,
                )
        else:
            status, reply, ctype = reply_for(e, product, 0 if paging.style != "link" else 1, fmt)
        headers["Content-Type"] = ctype
        return web.Response(status=status, body=reply, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    base = str(server.make_url(""))

    sample = Samples(product)
    args: dict[str, Any] = {}
    for pp in e.path_params:
        args[pp.name] = sample(pp.type, pp)
    for q in e.query:
        args[q.name] = sample(q.type, q)
    body_params = list(e.body.params) if e.body is not None else []
    for b in body_params:
        args[b.name] = sample(b.type, b)
    if e.body is not None and e.body.kind in ("raw", "multipart"):
        args["data"] = b"\x89PNG-bytes"
        args["content_type"] = "image/png"
        if e.body.kind == "multipart":
            args["filename"] = "logo.png"

    backend = RecordingBackend()
    async with client_for(product, base, backend, fmt) as client:
        method = getattr(getattr(client, resource), e.name)
        result = method(**args)
        if isinstance(result, PageIterator):
            items = [x async for x in result]
        else:
            result = await result

    got = received[0]
    assert got["method"] == e.method
    assert got["accept"] == f"application/{fmt}"
    path = "/" + e.path.split("/", 3)[3] if e.absolute else e.path
    for pp in e.path_params:
        path = path.replace("{" + pp.name + "}", quote(str(args[pp.name]), safe=""))
    if e.url_token:  # Backpack: the client's token is the path's first segment
        path = path.replace("{token}", "tok")
    assert got["path"] == path
    first_query = expected_query(e, args)
    if paging is not None and paging.style == "page":
        # page numbers start at 1 (0 for Backpack's journal)
        first_query = [*first_query, (paging.param, str(paging.first_page))]
    assert got["query"] == first_query

    # Paging: what the second request asks for, or that there is none.
    if e.follow_location:
        # Issue 12: the create is followed by one GET of the Location it named.
        assert [(r["method"], r["path"]) for r in received[1:]] == [("GET", CREATED_PATH)]
        assert result is not None
    elif paging is None:
        assert len(received) == 1
    elif paging.style == "none":
        # Issue 6.15: a list the docs call unpaged still follows a Link next it is sent.
        assert [(r["path"], r["query"]) for r in received[1:]] == [(path, [("page", "2")])]
    elif paging.style == "link":
        assert len(items) == 2
        assert [(r["path"], r["query"]) for r in received[1:]] == [(path, [("page", "2")])]
    elif paging.style in ("offset", "page"):
        assert len(items) == paging.page_size
        assert len(received) == 2
        start = paging.page_size if paging.style == "offset" else paging.first_page + 1
        assert received[1]["query"] == [
            *(kv for kv in first_query if kv[0] != paging.param),
            (paging.param, str(start)),
        ]
    elif paging.style == "continued_at":
        assert len(items) == paging.page_size
        assert [(r["path"], r["query"]) for r in received[1:]] == [(CONTINUED_PATH, [])]
    else:
        raise AssertionError(f"no check for paging style {paging.style!r} yet: add one here")

    # Rate limits: every request drew from the endpoint's classes (or the defaults).
    def classes_of(method: str) -> tuple[str, ...]:
        by_method = p.limit_classes_by_method.get(method, p.default_limit_classes)
        return tuple(sorted(e.limit_classes or by_method))

    assert backend.drawn == [classes_of(r["method"]) for r in received]

    body_token = "body_token" in p.auth and not e.url_token
    if body_token:
        # <request><token>tok</token>...</request> on every call that does not carry the
        # token in its path.
        sent = CODECS["xml"].decode(got["body"])
        assert list(sent) == ["request"]
        assert (sent["request"] or {}).get("token") == "tok"
        if e.body is None:
            assert set(sent["request"]) == {"token"}
    if e.body is None:
        if body_token:
            pass
        elif e.method in ("POST", "PUT"):
            assert got["body"] == b""
        else:
            assert got["body"] in (b"", None)
    elif e.body.kind == "raw":
        assert got["body"] == b"\x89PNG-bytes"
        assert got["ctype"] == "image/png"
    elif e.body.kind == "multipart":
        assert got["ctype"].startswith("multipart/form-data; boundary=")
        assert f'name="{e.body.field_name}"; filename="logo.png"'.encode() in got["body"]
        assert b"\x89PNG-bytes" in got["body"]
    elif fmt != p.format:  # JSON mirroring XML (Harvest)
        assert got["ctype"].startswith("application/json")
        decoded = CODECS[fmt].decode(got["body"])
        root = e.body.xml_root or ""
        dashes = e.xml_dashes
        if e.body.json_root:
            assert list(decoded) == [root.replace("-", "_") if dashes else root]
            decoded = next(iter(decoded.values()))
        wires = {b.wire.replace("-", "_") if dashes else b.wire: b for b in body_params}
        assert set(decoded) == set(wires)
        for w, b in wires.items():
            if b.type.kind == "scalar" and b.type.name != "json":
                assert decoded[w] == wire_scalar(args[b.name], "json"), b.name
    else:
        decoded = without_request_token(product, e, CODECS[p.format].decode(got["body"]))
        if p.format == "xml" and e.body.xml_list:
            # The one list parameter is the root element itself (type="array").
            root = got["body"].split(b"?>", 1)[-1].lstrip()  # after the XML declaration
            assert root.startswith(f'<{e.body.xml_root} type="array"'.encode())
            assert list(decoded) == [e.body.xml_root]
            assert len(decoded[e.body.xml_root]) == len(args[body_params[0].name])
            return
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
                sent_value = record[b.wire]
                if b.wire.startswith("@"):  # XML attributes carry no type: read the text
                    sent_value = xml_canon(sent_value)
                assert sent_value == wire_scalar(value, p.format), b.name

    # The reply decodes into the declared result.
    r = e.result
    if r is not None and r.is_model and not r.is_list:
        assert type(result).__name__ == r.name


async def test_absolute_endpoint_host_is_a_credential_host() -> None:
    from aiocamp.basecamp4 import PRODUCT

    absolute = [e for _, e in endpoints("basecamp4") if e.absolute]
    assert absolute, "Launchpad authorization.json is an absolute URL"
    assert PRODUCT.credential_hosts == ("launchpad.37signals.com",)
