"""The code generator's renderer (``codegen/render.py``) under mutation testing.

The check that catches almost every broken renderer is the one ``codegen --verify`` makes:
render every product afresh and compare it with the packages committed in ``src/aiocamp``.
``--verify`` runs in a subprocess, which mutmut cannot attribute to the renderer's functions;
here the same comparison runs in-process (about 1.5 s for all five products), so that it is
selected for every mutant of the renderer. The other tests cover what the committed
products do not exercise (see each docstring).
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import functools
import locale
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from codegen.__main__ import FIXTURES, SPECS, _products
from codegen.ir import Product, TypeRef
from codegen.loader import load
from codegen.render import (
    CodegenError,
    Renderer,
    check_ruff,
    format_tree,
    pinned_ruff,
    write_product,
)

from .helpers import ROOT

COMMITTED = ROOT / "src" / "aiocamp"


@functools.cache
def products() -> tuple[Product, ...]:
    """Every product's intermediate form (the loader is not under test: loaded once)."""
    return tuple(load(SPECS, name, FIXTURES) for name in _products([]))


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def first_difference(name: str, fresh: bytes, committed: bytes) -> str:
    lines = difflib.unified_diff(
        committed.decode(errors="replace").splitlines(),
        fresh.decode(errors="replace").splitlines(),
        f"committed/{name}",
        f"fresh/{name}",
        lineterm="",
        n=1,
    )
    return "\n".join(list(lines)[:30])


def test_every_product_rendered_in_process_matches_the_committed_packages(tmp_path: Path) -> None:
    """Render, write and format all five products; every file (sources and the sandbox
    table) equals the committed one, and no file is missing or extra."""
    targets = [write_product(product, tmp_path / "src") for product in products()]
    format_tree(targets, ROOT / "pyproject.toml")
    assert [t.name for t in targets] == [p.name for p in products()]
    assert len(targets) == 5
    for target in targets:
        fresh, committed = tree(target), tree(COMMITTED / target.name)
        assert sorted(fresh) == sorted(committed), target.name
        stale = [name for name in fresh if fresh[name] != committed[name]]
        assert not stale, first_difference(
            f"{target.name}/{stale[0]}", fresh[stale[0]], committed[stale[0]]
        )


@pytest.mark.parametrize("name", ["resources", "models.py", "client.py", "__init__.py"])
def test_write_product_replaces_the_previous_package_whole(tmp_path: Path, name: str) -> None:
    """A file left over from an earlier generation (a removed resource) disappears."""
    product = min(products(), key=lambda p: p.endpoint_count())
    target = tmp_path / "src" / "aiocamp" / product.name
    (target / "resources").mkdir(parents=True)
    (target / "resources" / "gone.py").write_text("stale", encoding="utf-8")
    (target / "stale.py").write_text("stale", encoding="utf-8")
    assert write_product(product, tmp_path / "src") == target
    assert not (target / "stale.py").exists()
    assert not (target / "resources" / "gone.py").exists()
    assert (target / name).exists()


# -- a small product rendered from a spec written here ----------------------------------------


def demo_product(tmp_path: Path, resource: dict[str, Any], **product: Any) -> Product:
    """``resource`` (one spec file) in a product configured like Highrise, loaded."""
    root = tmp_path / "specs"
    (root / "demo").mkdir(parents=True)
    config = yaml.safe_load((SPECS / "highrise" / "_product.yaml").read_text(encoding="utf-8"))
    config.update(product="demo", client="Demo", **product)
    (root / "demo" / "_product.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "demo" / "things.yaml").write_text(yaml.safe_dump(resource), encoding="utf-8")
    return load(root, "demo", tmp_path / "fixtures")


def thing_spec(summary: str) -> dict[str, Any]:
    """One resource whose every summary (resource, model, field, endpoint, argument) is
    ``summary``."""
    return {
        "resource": "things",
        "summary": summary,
        "doc": "sections/things.md",
        "models": {
            "Thing": {
                "summary": summary,
                "xml_tag": "thing",
                "fields": {"id": {"type": "int", "summary": summary}},
            }
        },
        "endpoints": {
            "get": {
                "method": "GET",
                "path": "/things/{id}.xml",
                "summary": summary,
                "doc": "#get-thing",
                "path_params": {"id": {"type": "int", "summary": summary}},
                "result": "Thing",
            }
        },
    }


def docstrings(source: str) -> list[str]:
    """Every docstring of a module: its own, its classes', their functions' and attributes'."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for statement in body:
            value = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append(value.value)
    return found


@pytest.mark.parametrize(
    "summary",
    [
        r"Match C:\temp\n and \d+ literally",
        'Said """hello""" twice',
        'The group named "Everyone"',
        "Ends with a backslash \\",
        "Spread\n  over   lines",
    ],
)
def test_summaries_reach_every_docstring_as_written(tmp_path: Path, summary: str) -> None:
    """docline: a backslash stays one backslash (not an escape), triple double quotes become
    triple single quotes, a double quote at the end does not close the docstring early, runs
    of whitespace become one space; in every generated file that shows a summary."""
    files = Renderer(demo_product(tmp_path, thing_spec(summary))).files()
    expected = " ".join(summary.replace('"""', "'''").split())
    for name in ("client.py", "models.py", "resources/things.py"):
        found = [d for d in docstrings(files[name]) if expected in d]
        assert found, (name, expected, docstrings(files[name]))
    per_place = {
        "client.py": 1,  # the resource attribute
        "models.py": 2,  # the model and its field
        "resources/things.py": 3,  # module, class, method (its argument in the same one)
    }
    for name, count in per_place.items():
        assert sum(expected in d for d in docstrings(files[name])) >= count, name


def test_the_renderer_refuses_a_template_variable_it_was_not_given(tmp_path: Path) -> None:
    """StrictUndefined: a misspelt name in a template fails generation instead of leaving
    an empty string in the generated code."""
    renderer = Renderer(demo_product(tmp_path, thing_spec("Things.")))
    template = renderer.env.from_string("{{ product.name }} = {{ prodcut }}")
    with pytest.raises(jinja2.UndefinedError, match="prodcut"):
        template.render(product=renderer.product)


# -- annotations and imports --------------------------------------------------------------------


def test_containers_are_builtins_qualified_at_every_depth_inside_a_qualified_class() -> None:
    """Inside a class that defines ``list`` or ``dict``, a bare ``list[...]`` would name the
    method (for type checkers): every container is spelt ``builtins.``, nested ones too."""
    ints = TypeRef("list", item=TypeRef("scalar", "int"))
    nested = TypeRef("list", item=ints)
    dicts = TypeRef("list", item=TypeRef("dict", "dict"))
    models = TypeRef("list", item=TypeRef("model", "Thing"))
    assert Renderer.annotation(nested, qualify=True) == "builtins.list[builtins.list[int]]"
    assert Renderer.annotation(dicts, qualify=True) == "builtins.list[builtins.dict[str, str]]"
    assert Renderer.annotation(models, qualify=True) == "builtins.list[_m.Thing]"
    assert Renderer.annotation(nested, qualify=False) == "list[list[int]]"
    assert Renderer.annotation(dicts, qualify=False) == "list[dict[str, str]]"
    assert Renderer.annotation(ints, ("a", 2), qualify=True) == "Literal['a', 2]"


QUERIES: dict[str, Any] = {
    "resource": "things",
    "summary": "Things.",
    "doc": "sections/things.md",
    "endpoints": {
        "dict": {
            "method": "GET",
            "path": "/things/lookup.xml",
            "summary": "Look things up.",
            "doc": "#lookup",
            "query": {
                "ids": {"type": "list[int]"},
                "filters": {"type": "dict[str, str]"},
                "nested": {"type": "list[list[int]]"},
            },
            "result": "json",
            "result_optional": True,
        },
        "count": {
            "method": "GET",
            "path": "/things/count.xml",
            "summary": "Count things.",
            "doc": "#count",
            "result": "int",
            "result_optional": True,
        },
    },
}


def test_a_method_named_dict_qualifies_the_containers_of_its_class(tmp_path: Path) -> None:
    """``qualify`` looks for ``dict`` as well as ``list``; ``builtins`` is then imported."""
    product = demo_product(tmp_path, QUERIES)
    resource = product.resources[0]
    assert Renderer.qualify(resource)
    source = Renderer(product).files()["resources/things.py"]
    compile(source, "things.py", "exec")
    assert "\nimport builtins\n" in source
    assert "ids: builtins.list[int] | None | UnsetType = UNSET" in source
    assert "filters: builtins.dict[str, str] | None | UnsetType = UNSET" in source
    assert "nested: builtins.list[builtins.list[int]] | None | UnsetType = UNSET" in source


def test_an_optional_result_of_any_type_is_not_spelt_any_or_none(tmp_path: Path) -> None:
    """``result_optional`` adds ``| None`` to a result annotation, except to ``Any`` (which
    already admits None); other optional results do get it."""
    product = demo_product(tmp_path, QUERIES)
    renderer = Renderer(product)
    by_name = {e.name: e for e in product.resources[0].endpoints}
    lookup, count = by_name["dict"], by_name["count"]
    assert renderer.result_type(lookup, qualify=True) == "Any"
    assert renderer.result_type(count, qualify=True) == "int | None"
    source = renderer.files()["resources/things.py"]
    assert ") -> Any:" in source
    assert ") -> int | None:" in source


def test_the_items_of_a_paged_result_are_qualified_too(tmp_path: Path) -> None:
    """A list endpoint named ``list`` whose items are lists (a JSON product): the item
    annotation inside ``PageIterator[...]`` is ``builtins.list``."""
    spec = {
        "resource": "things",
        "summary": "Things.",
        "doc": "sections/things.md",
        "endpoints": {
            "list": {
                "method": "GET",
                "path": "/things.json",
                "summary": "Rows of numbers.",
                "doc": "#list",
                "result": "list[list[int]]",
            }
        },
    }
    product = demo_product(tmp_path, spec, format="json", formats=["json"])
    renderer = Renderer(product)
    (rows,) = product.resources[0].endpoints
    assert renderer.result_type(rows, qualify=True) == "PageIterator[builtins.list[int]]"
    assert renderer.result_type(rows, qualify=False) == "PageIterator[list[int]]"
    source = renderer.files()["resources/things.py"]
    assert ") -> PageIterator[builtins.list[int]]:" in source


def test_a_resource_imports_only_what_its_methods_use(tmp_path: Path) -> None:
    """``imports`` names no models module and no ``builtins`` for a resource that needs
    neither (ruff would drop them from the committed files, so only this sees it)."""
    spec = {
        "resource": "things",
        "summary": "Things.",
        "doc": "sections/things.md",
        "endpoints": {
            "count": {
                "method": "GET",
                "path": "/things/{id}/count.xml",
                "summary": "Count things.",
                "doc": "#count",
                "query": {"since": {"type": "date"}},
                "result": "int",
            }
        },
    }
    product = demo_product(tmp_path, spec)
    assert Renderer(product).imports(product.resources[0]) == [
        "from aiocamp.core._resource import Resource",
        "from aiocamp.core._runtime import UNSET, UnsetType",
        "from datetime import date",
    ]
    models = demo_product(tmp_path / "models", thing_spec("Things."))
    assert Renderer(models).imports(models.resources[0]) == [
        "from aiocamp.core._resource import Resource",
        "from .. import models as _m",
    ]


# -- files and the formatter ---------------------------------------------------------------------


@contextlib.contextmanager
def ascii_locale() -> Iterator[None]:
    """The C locale for the duration: files opened without an encoding are then ASCII, as on
    a machine whose locale is not UTF-8 (in Python's UTF-8 mode they stay UTF-8: then a
    missing ``encoding=`` is harmless and cannot be seen)."""
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)


def test_generated_files_are_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """write_product writes UTF-8 under an ASCII locale too (a summary with accents)."""
    summary = "Café notes, naïve \u2265 2"
    product = demo_product(tmp_path, thing_spec(summary))
    with ascii_locale():
        target = write_product(product, tmp_path / "src")
    assert summary in (target / "models.py").read_bytes().decode("utf-8")
    assert summary in (target / "resources" / "things.py").read_bytes().decode("utf-8")


def pyproject(tmp_path: Path, codegen: list[str], comment: str = "") -> Path:
    path = tmp_path / "pyproject.toml"
    lines = [f"# {comment}", "[dependency-groups]", f"codegen = {codegen!r}"]
    path.write_text("\n".join(lines).replace("'", '"') + "\n", encoding="utf-8")
    return path


def test_the_pinned_ruff_is_read_from_the_ruff_requirement_only(tmp_path: Path) -> None:
    """Another exactly pinned package listed first is not taken for ruff; the file is read as
    UTF-8 (TOML) whatever the locale."""
    config = pyproject(tmp_path, ["jinja2==3.1.4", "ruff==0.17.6"], comment="réglages")
    with ascii_locale():
        assert pinned_ruff(config) == "0.17.6"
    config = pyproject(tmp_path, ["jinja2==3.1.4", "ruff>=0.6"])
    with pytest.raises(CodegenError, match="must pin ruff exactly"):
        pinned_ruff(config)


@pytest.mark.parametrize("module", [None, ""], ids=["no ruff", "a ruff that prints nothing"])
def test_an_interpreter_without_a_working_ruff_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str | None
) -> None:
    """check_ruff runs ``python -m ruff --version`` with the running interpreter. One without
    ruff (a bare virtual environment), or whose ``ruff`` module runs but prints no version
    (a stray ``ruff.py``), gives a CodegenError saying "found none" (not an IndexError)."""
    venv.create(tmp_path / "bare", with_pip=False, symlinks=True)
    bare = tmp_path / "bare" / "bin" / "python"
    if module is not None:
        site = subprocess.run(
            [bare, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(site) / "ruff.py").write_text(module, encoding="utf-8")
    probe = subprocess.run([bare, "-m", "ruff", "--version"], capture_output=True, check=False)
    assert (probe.returncode, probe.stdout) == ((1, b"") if module is None else (0, b""))
    monkeypatch.setattr(sys, "executable", str(bare))
    with pytest.raises(CodegenError, match=r"codegen formats with ruff 0\.17\.6 .*, found none:"):
        check_ruff(pyproject(tmp_path, ["ruff==0.17.6"]))


@pytest.mark.parametrize(
    ("source", "stage"),
    [
        ("def broken(:\n", "format"),  # not Python: the first ruff format fails
        ("value = undefined_name\n", "check"),  # formats, but a lint error no fix can mend
    ],
)
def test_format_tree_fails_when_ruff_fails(tmp_path: Path, source: str, stage: str) -> None:
    """A generated file ruff cannot format or fix stops generation (no silently unformatted
    or broken output)."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(source, encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError) as info:
        format_tree([package], ROOT / "pyproject.toml")
    assert info.value.cmd[3] == stage
