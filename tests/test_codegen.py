"""Codegen validation: a bad spec fails with SpecError naming file, key path, expectation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aiocamp.errors import SpecError
from codegen.loader import load
from codegen.render import Renderer

from .helpers import ROOT

GOOD_RESOURCE = {
    "resource": "widgets",
    "summary": "Widgets.",
    "doc": "sections/widgets.md",
    "models": {
        "Widget": {
            "summary": "A widget.",
            "xml_tag": "widget",
            "fields": {
                "id": {"type": "int", "read_only": True},
                "name": "str",
                "parts": {"type": "list[Part]", "item": "part"},
            },
        },
        "Part": {"fields": {"id": "int"}},
    },
    "endpoints": {
        "get": {
            "method": "GET",
            "path": "/widgets/{id}.xml",
            "summary": "Fetch one widget.",
            "doc": "#get-widget",
            "result": "Widget",
        },
        "create": {
            "method": "POST",
            "path": "/widgets.xml",
            "summary": "Add a widget.",
            "doc": "#create-widget",
            "body": {"model": "Widget"},
            "result": "Widget",
        },
        "count": {
            "method": "GET",
            "path": "/widgets/count.xml",
            "summary": "Count widgets.",
            "doc": "#count-widgets",
            "result": "int",
        },
    },
}


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    (root / "demo").mkdir(parents=True)
    product = yaml.safe_load((ROOT / "specs/highrise/_product.yaml").read_text())
    product.update(product="demo", client="Demo")
    (root / "demo/_product.yaml").write_text(yaml.safe_dump(product))
    return root


def write(specs: Path, data: object, name: str = "widgets.yaml") -> None:
    (specs / "demo" / name).write_text(yaml.safe_dump(data, sort_keys=False))


def broken(**changes: object) -> dict:
    import copy

    data = copy.deepcopy(GOOD_RESOURCE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


DELETE = object()


def test_a_good_spec_loads_and_renders(specs: Path) -> None:
    write(specs, GOOD_RESOURCE)
    product = load(specs, "demo")
    assert [e.name for e in product.resources[0].endpoints] == ["get", "create", "count"]
    files = Renderer(product).files()
    assert "DO NOT EDIT" in files["resources/widgets.py"].splitlines()[0]
    assert "GET /widgets/{id}.xml" in files["resources/widgets.py"]
    compile(files["models.py"], "models.py", "exec")
    compile(files["resources/widgets.py"], "widgets.py", "exec")


@pytest.mark.parametrize(
    ("data", "key_path", "expected"),
    [
        (broken(endpoints__get__method=DELETE), "endpoints.get.method", "required key is missing"),
        (broken(endpoints__get__method="FETCH"), "endpoints.get.method", "expected one of GET"),
        (broken(endpoints__get__colour="red"), "endpoints.get.colour", "unknown key"),
        (broken(endpoints__get__path="widgets/{id}.xml"), "endpoints.get.path", "starting with /"),
        (broken(endpoints__get__path="/w/{1d}.xml"), "endpoints.get.path", "identifier"),
        (broken(endpoints__get__path="/w.xml?x=1"), "endpoints.get.path", "no query string"),
        (broken(endpoints__get__result="Gadget"), "endpoints.get.result", "unknown model"),
        (broken(endpoints__get__result="list[int"), "endpoints.get.result", "expected one of"),
        (
            broken(endpoints__get__limit_classes=["turbo"]),
            "endpoints.get.limit_classes.0",
            "expected one of",
        ),
        (
            broken(models__Widget__fields__parts={"type": "list[Part]"}),
            "models.Widget.fields.parts.item",
            "needs item",
        ),
        (
            broken(models__Widget__fields__extra="str"),
            "models.Widget.fields.extra",
            "reserved",
        ),
        (
            broken(endpoints__get__path_params={"nope": {"type": "str"}}),
            "endpoints.get.path_params.nope",
            "not a placeholder",
        ),
        (
            broken(endpoints__get__examples={"response": "widgets/none.xml"}),
            "endpoints.get.examples.response",
            "does not exist",
        ),
        (broken(resource="Widgets"), "resource", "snake_case"),
        (
            broken(endpoints__create__body={"model": "Widget", "raw": True}),
            "endpoints.create.body",
            "exactly one of",
        ),
        (
            broken(endpoints__create__paging={"style": "offset"}),
            "endpoints.create.paging",
            "list results only",
        ),
    ],
)
def test_broken_specs_fail_with_file_key_path_and_expectation(
    specs: Path, data: dict, key_path: str, expected: str
) -> None:
    write(specs, data)
    with pytest.raises(SpecError) as info:
        load(specs, "demo", fixtures_root=specs.parent / "fixtures")
    err = info.value
    assert err.file == "specs/demo/widgets.yaml"
    assert err.key_path == key_path
    assert expected in err.expected
    assert str(err).startswith("specs/demo/widgets.yaml: " + key_path)


def test_a_model_defined_twice_is_an_error(specs: Path) -> None:
    write(specs, GOOD_RESOURCE)
    write(specs, {"models": {"Widget": {"fields": {"id": "int"}}}}, "_common.yaml")
    with pytest.raises(SpecError, match="defined twice"):
        load(specs, "demo")


def test_invalid_yaml_is_an_error(specs: Path) -> None:
    (specs / "demo/widgets.yaml").write_text("resource: [unclosed\n")
    with pytest.raises(SpecError, match="valid YAML") as info:
        load(specs, "demo")
    assert info.value.file == "specs/demo/widgets.yaml"


def test_bad_product_file_is_an_error(specs: Path) -> None:
    product = yaml.safe_load((specs / "demo/_product.yaml").read_text())
    product["rate_limits"]["default"]["requests"] = 0
    (specs / "demo/_product.yaml").write_text(yaml.safe_dump(product))
    write(specs, GOOD_RESOURCE)
    with pytest.raises(SpecError) as info:
        load(specs, "demo")
    assert info.value.key_path == "rate_limits.default.requests"


def test_committed_generated_code_matches_a_fresh_generation(tmp_path: Path) -> None:
    """What `nox -s codegen_verify` runs: generation is deterministic and committed."""
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "--verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "highrise: 18 resources" in result.stdout


async def test_a_generated_package_runs_over_http(specs: Path, tmp_path: Path, serve) -> None:
    """Render a small product, import it and call it: model, body and scalar results."""
    import importlib

    from aiohttp import web

    import aiocamp
    from codegen.render import write_product

    write(specs, GOOD_RESOURCE)
    product = load(specs, "demo")
    write_product(product, tmp_path / "src")
    aiocamp.__path__.append(str(tmp_path / "src" / "aiocamp"))
    try:
        demo = importlib.import_module("aiocamp.demo")
        seen: list[tuple[str, str, bytes]] = []

        async def handler(request: web.Request) -> web.Response:
            seen.append((request.method, request.path, await request.read()))
            if request.path == "/widgets/count.xml":
                return web.Response(body=b'<count type="integer">3</count>')
            body = b'<widget><id type="integer">5</id><name>W</name>'
            body += b'<parts type="array"><part><id type="integer">1</id></part></parts></widget>'
            return web.Response(body=body, content_type="application/xml")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = await serve(app)
        async with demo.Demo(
            base_url=str(server.make_url("")), token="t", user_agent="t (t@t)"
        ) as c:
            widget = await c.widgets.get(5)
            assert widget.parts[0].id == 1
            created = await c.widgets.create(name="W", parts=[demo.models.Part(id=1)])
            assert created == widget
            assert await c.widgets.count() == 3
        assert seen[1][2].endswith(
            b'<widget><name>W</name><parts type="array"><part><id type="integer">1</id>'
            b"</part></parts></widget>"
        )
    finally:
        aiocamp.__path__.remove(str(tmp_path / "src" / "aiocamp"))
        for name in [m for m in list(importlib.sys.modules) if m.startswith("aiocamp.demo")]:
            del importlib.sys.modules[name]
