"""Every example payload of the Highrise and Basecamp 4 docs decodes into its model, uses
no field the spec lacks, and encodes back to an equal payload."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from aiohttp import web

from aiocamp.core import PageIterator
from aiocamp.core._codecs import CODECS
from aiocamp.core._runtime import json_items, xml_items
from aiocamp.errors import DecodeError
from codegen.ir import TypeRef

from .generated_support import (
    PRODUCTS,
    canon,
    endpoints,
    envelope_free,
    format_arg,
    formats,
    mirror_json,
    models_module,
    spec,
    unknown_fields,
    without_request_token,
    xml_canon,
)
from .helpers import FIXTURES
from .test_resource_verbs import client_for


def cases() -> list[Any]:
    out = []
    for product in PRODUCTS:
        p = spec(product)
        for model in p.models:
            for example in model.examples:
                out.append(pytest.param(product, model.name, None, example, id=example))
        for resource, e in endpoints(product):
            fixture = e.examples.get("response")
            if fixture and e.result is not None and (e.result.models()):
                out.append(
                    pytest.param(
                        product,
                        e.result.models()[0],
                        e.result_key or e.result.is_list,
                        fixture,
                        id=f"{product}:{resource}.{e.name}",
                    )
                )
    return out


CASES = cases()


def test_there_are_examples_for_both_products() -> None:
    assert sum(1 for c in CASES if c.values[0] == "highrise") >= 40
    assert sum(1 for c in CASES if c.values[0] == "basecamp4") >= 100


@pytest.mark.parametrize(("product", "model_name", "shape", "fixture"), CASES)
def test_example_round_trips(product, model_name, shape, fixture) -> None:
    """shape: True for a list body, a key name for a list under that key, False for one
    record, None to tell by the payload (model-level examples)."""
    fmt = spec(product).format
    codec = CODECS[fmt]
    raw = (FIXTURES / product / fixture).read_bytes()
    data = envelope_free(product, codec.decode(raw))
    model = getattr(models_module(product), model_name)
    root = None
    if fmt == "xml":
        body = next(iter(data.values()))
        if shape is None:
            shape = isinstance(body, list)
        if shape:
            records = xml_items(data)
        else:
            records, root = [body or {}], next(iter(data))
    else:
        if shape is None:
            shape = isinstance(data, list)
        key = shape if isinstance(shape, str) else None
        records = json_items(data, key) if shape else [data]
    if not shape:
        assert records, f"{fixture} holds no record"
    for record in records:
        decoded = model.from_wire(record)
        assert unknown_fields(decoded) == [], "fields the spec does not list"
        wire = decoded.to_wire()
        if fmt == "xml":
            assert xml_canon(wire) == xml_canon(record)
            if root is not None:
                again = codec.decode(codec.encode({root: wire}))
                assert xml_canon(again) == xml_canon({root: record})
        else:
            assert canon(codec.decode(codec.encode(wire))) == canon(record)
        assert model.from_wire(wire) == decoded


def request_cases() -> list[Any]:
    out = []
    for product in PRODUCTS:
        for fmt in formats(product):
            tag = f"{product}:" if len(formats(product)) == 1 else f"{product}[{fmt}]:"
            for resource, e in endpoints(product):
                fixture = e.examples.get("request")
                if fixture:
                    out.append(
                        pytest.param(product, fmt, e, fixture, id=f"{tag}{resource}.{e.name}")
                    )
    return out


REQUEST_CASES = request_cases()


def test_there_are_request_examples_for_both_products() -> None:
    assert sum(1 for c in REQUEST_CASES if c.values[0] == "highrise") >= 15
    assert sum(1 for c in REQUEST_CASES if c.values[0] == "basecamp4") >= 50


def _argument(value: Any, t: TypeRef, product: str) -> Any:
    """A documented body value as the method parameter a caller would pass."""
    if value is None:
        return None
    if t.kind == "model":
        return getattr(models_module(product), t.name).from_wire(value)
    if t.kind == "list" and t.item is not None and t.item.kind == "model":
        return [_argument(v, t.item, product) for v in value]
    return value


@pytest.mark.parametrize(("product", "fmt", "e", "fixture"), REQUEST_CASES)
async def test_request_example_is_expressible_with_the_method_parameters(
    serve, product, fmt, e, fixture
) -> None:
    """Every field a documented request sends is a parameter of the generated method, and
    the body the method sends from those parameters equals the example (in each format the
    client offers: Harvest's JSON mirrors the XML of the docs)."""
    p = spec(product)
    codec = CODECS[p.format]
    data = codec.decode((FIXTURES / product / fixture).read_bytes())
    assert e.body is not None, "a request example needs a body"
    data = without_request_token(product, e, data)
    if p.format == "xml":
        assert list(data) == [e.body.xml_root]
        record = data[e.body.xml_root]
        if e.body.xml_scalar:
            return
        record = record or {}
    else:
        record = data
    # Fields the path already carries (an update's id) are sent through the path.
    path_names = {pp.name for pp in e.path_params}
    by_wire = {prm.wire: prm for prm in e.body.params}
    cannot_send = [k for k in record if k not in by_wire and k.replace("-", "_") not in path_names]
    assert cannot_send == [], "request fields the method cannot send"

    args: dict[str, Any] = {pp.name: 7 for pp in e.path_params}
    for wire, value in record.items():
        if wire in by_wire:
            args[by_wire[wire].name] = _argument(value, by_wire[wire].type, product)
    missing = [prm.name for prm in e.body.params if prm.required and prm.name not in args]
    assert missing == [], "the example leaves out a required parameter"

    sent: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        sent.append(await request.read())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    async with client_for(product, str(server.make_url("")), format_arg(product, fmt)) as client:
        method = getattr(getattr(client, e_resource(product, e)), e.name)
        # The empty reply does not matter here: the request was sent.
        with contextlib.suppress(DecodeError):
            result = method(**args)
            if isinstance(result, PageIterator):  # a listing that sends a body (Backpack)
                _ = [x async for x in result]
            else:
                await result
    (body,) = sent
    expected = {k: v for k, v in record.items() if k in by_wire}
    if fmt != p.format:  # JSON mirroring the XML of the docs
        assert p.json_mirrors_xml
        wire = CODECS[fmt].decode(body)
        want = mirror_json(
            {e.body.xml_root: expected} if e.body.json_root else expected, e.xml_dashes
        )
        assert canon(wire) == canon(want)
        return
    wire = without_request_token(product, e, codec.decode(body))
    if p.format == "xml":
        assert list(wire) == [e.body.xml_root]
        assert xml_canon(wire[e.body.xml_root] or {}) == xml_canon(expected)
    else:
        assert canon(wire) == canon(expected)


def e_resource(product: str, e: Any) -> str:
    return next(r for r, other in endpoints(product) if other is e)
