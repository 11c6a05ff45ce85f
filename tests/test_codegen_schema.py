"""The spec schema: declared once, documented, strict, and reporting every problem at once."""

from __future__ import annotations

import asyncio
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

import aiocamp
from aiocamp.errors import SpecError
from codegen.ir import SCALAR_TYPES, TypeRef
from codegen.loader import load
from codegen.render import Renderer, write_product
from codegen.schema import SCHEMA, SpecProblems, documented_keys

from .helpers import ROOT
from .test_codegen import GOOD_RESOURCE, broken, specs, write

README = (ROOT / "specs" / "README.md").read_text(encoding="utf-8")

__all__ = ["specs"]  # the fixture, shared with test_codegen


@pytest.mark.parametrize(
    ("cls", "key"),
    [(cls, key) for cls, keys in documented_keys().items() for key in keys],
)
def test_every_schema_key_is_documented_in_the_spec_readme(cls: str, key: str) -> None:
    assert re.search(rf"`{key}`|^\s*(#.*)?{key}:|[`{{ ,]{key}:", README, re.MULTILINE), (
        f"{cls}.{key} is not documented in specs/README.md"
    )


def test_the_schema_lists_every_spec_class() -> None:
    assert {c.__name__ for c in SCHEMA} >= {
        "ProductSpec",
        "ResourceSpec",
        "EndpointSpec",
        "FieldSpec",
        "ParamSpec",
        "BodySpec",
        "PagingSpec",
    }


@pytest.mark.parametrize("name", list(SCALAR_TYPES))
def test_every_scalar_type_is_documented_and_renders_an_importable_annotation(
    name: str,
) -> None:
    assert f"`{name}`" in README
    scalar = SCALAR_TYPES[name]
    namespace: dict[str, Any] = {}
    for module, imported in scalar.imports:
        namespace[imported] = getattr(importlib.import_module(module), imported)
    annotation = Renderer.annotation(TypeRef("scalar", name))
    assert annotation == scalar.py
    eval(annotation, namespace)
    if scalar.result_class is not None:
        assert eval(scalar.result_class, namespace) is not None


def test_every_problem_of_a_run_is_reported_with_file_and_key_path(specs: Path) -> None:
    write(
        specs,
        broken(
            endpoints__get__status="201",
            endpoints__get__summary=5,
            endpoints__count__colour="red",
        ),
    )
    write(
        specs,
        {"models": {"Gadget": {"fields": {"id": {"type": "int", "read_only": "yes"}}}}},
        "_common.yaml",
    )
    with pytest.raises(SpecProblems) as info:
        load(specs, "demo")
    found = {(p.file, p.key_path) for p in info.value.problems}
    assert found == {
        ("specs/demo/widgets.yaml", "endpoints.get.status"),
        ("specs/demo/widgets.yaml", "endpoints.get.summary"),
        ("specs/demo/widgets.yaml", "endpoints.count.colour"),
        ("specs/demo/_common.yaml", "models.Gadget.fields.id.read_only"),
    }
    assert "4 problems" in str(info.value)
    assert isinstance(info.value, SpecError)


@pytest.mark.parametrize(
    ("change", "key_path", "expected"),
    [
        ({"endpoints__get__status": "201"}, "endpoints.get.status", "expected an integer"),
        ({"endpoints__get__status": 201.0}, "endpoints.get.status", "expected an integer"),
        ({"endpoints__get__summary": 5}, "endpoints.get.summary", "non-empty string"),
        (
            {"endpoints__get__result_optional": "yes"},
            "endpoints.get.result_optional",
            "true or false",
        ),
        (
            {"endpoints__get__query": {"n": {"required": 1}}},
            "endpoints.get.query.n.required",
            "true or false",
        ),
        (
            {"endpoints__get__query": {"n": {"enum": [True]}}},
            "endpoints.get.query.n.enum.0",
            "string or integer",
        ),
        ({"endpoints__get__query": {"Bad": "int"}}, "endpoints.get.query.Bad", "identifier"),
        (
            {"models__Widget__fields__name": {"type": "str", "colour": 1}},
            "models.Widget.fields.name.colour",
            "unknown key",
        ),
        ({"endpoints__get__envelope": "Part"}, "endpoints.get.envelope", "needs result_key"),
    ],
)
def test_values_are_never_coerced_and_rules_name_their_key(
    specs: Path, change: dict[str, Any], key_path: str, expected: str
) -> None:
    write(specs, broken(**change))
    with pytest.raises(SpecError) as info:
        load(specs, "demo")
    assert info.value.key_path == key_path
    assert expected in info.value.expected


def _product_with_read_and_write_limits(specs: Path) -> None:
    product = yaml.safe_load((specs / "demo/_product.yaml").read_text())
    product["rate_limits"] = {
        "reads": {"requests": 1, "per_seconds": 60},
        "writes": {"requests": 1, "per_seconds": 60},
    }
    product["default_limit_classes"] = {"GET": ["reads"], "*": ["writes"]}
    (specs / "demo/_product.yaml").write_text(yaml.safe_dump(product))


def test_default_limit_classes_by_method_reach_each_endpoint(specs: Path) -> None:
    _product_with_read_and_write_limits(specs)
    write(specs, GOOD_RESOURCE)
    product = load(specs, "demo")
    assert product.default_limit_classes == ("writes",)
    assert product.limit_classes_by_method == {"GET": ("reads",)}
    client = Renderer(product).files()["client.py"]
    assert "method_limit_classes={\n        'GET': ('reads',)," in client.replace('"', "'")


def test_default_limit_classes_by_method_need_a_default_and_known_classes(specs: Path) -> None:
    product = yaml.safe_load((specs / "demo/_product.yaml").read_text())
    product["default_limit_classes"] = {"GET": ["nope"]}
    (specs / "demo/_product.yaml").write_text(yaml.safe_dump(product))
    write(specs, GOOD_RESOURCE)
    with pytest.raises(SpecProblems) as info:
        load(specs, "demo")
    assert {p.key_path for p in info.value.problems} == {
        "default_limit_classes.GET.0",
        "default_limit_classes.*",
    }


async def test_reads_and_writes_draw_from_their_own_buckets_over_http(
    specs: Path, tmp_path: Path, serve
) -> None:
    """One read and one write per minute: a GET and a POST both go at once."""
    _product_with_read_and_write_limits(specs)
    write(specs, GOOD_RESOURCE)
    write_product(load(specs, "demo"), tmp_path / "src")
    aiocamp.__path__.append(str(tmp_path / "src" / "aiocamp"))
    try:
        demo = importlib.import_module("aiocamp.demo")
        widget = b'<widget><id type="integer">5</id></widget>'

        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=widget, content_type="application/xml")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = await serve(app)
        async with demo.Demo(
            base_url=str(server.make_url("")), token="t", user_agent="t (t@t)"
        ) as c:
            await asyncio.wait_for(c.widgets.get(5), 2)
            await asyncio.wait_for(c.widgets.create(name="W"), 2)
            with pytest.raises(TimeoutError):  # a second read waits for the reads bucket
                await asyncio.wait_for(c.widgets.get(5), 0.5)
    finally:
        aiocamp.__path__.remove(str(tmp_path / "src" / "aiocamp"))
        for name in [m for m in list(importlib.sys.modules) if m.startswith("aiocamp.demo")]:
            del importlib.sys.modules[name]


def test_the_generator_formats_with_the_exact_pinned_ruff(tmp_path: Path) -> None:
    import subprocess
    import sys

    from codegen.render import CodegenError, check_ruff, pinned_ruff

    installed = subprocess.run(
        [sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert pinned_ruff(ROOT / "pyproject.toml") == installed
    check_ruff(ROOT / "pyproject.toml")  # the pinned one is installed: no error

    other = tmp_path / "pyproject.toml"
    other.write_text('[dependency-groups]\ncodegen = ["jinja2>=3.1", "ruff==0.0.1"]\n')
    with pytest.raises(CodegenError, match=r"ruff 0\.0\.1 .* found " + re.escape(installed)):
        check_ruff(other)
    other.write_text('[dependency-groups]\ncodegen = ["ruff>=0.6"]\n')
    with pytest.raises(CodegenError, match="pin ruff exactly"):
        check_ruff(other)
