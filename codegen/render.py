"""Render the intermediate form through the Jinja templates into Python packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jinja2

from .ir import SCALAR_TYPES, Endpoint, Product, Resource, TypeRef

TEMPLATES = Path(__file__).parent / "templates"


def docline(text: str) -> str:
    """One docstring-safe line."""
    return " ".join(str(text).replace("\\", "\\\\").replace('"""', "'''").split())


def _py_type(t: TypeRef, model_prefix: str = "", builtins: bool = False) -> str:
    container = "builtins." if builtins else ""
    if t.kind == "scalar":
        return SCALAR_TYPES[t.name].py
    if t.kind == "model":
        return model_prefix + t.name
    if t.kind == "dict":
        return f"{container}dict[str, str]"
    assert t.item is not None
    return f"{container}list[{_py_type(t.item, model_prefix, builtins)}]"


class Renderer:
    def __init__(self, product: Product) -> None:
        self.product = product
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,  # noqa: S701 - we render Python source, not HTML
            extensions=["jinja2.ext.do"],
        )
        self.env.filters["docline"] = docline
        self.env.filters["pyrepr"] = repr
        self.env.filters["pytuple"] = lambda v: repr(tuple(v))
        self.env.globals.update(
            annotation=self.annotation,
            result_type=self.result_type,
            into=self.into,
            imports=self.imports,
            qualify=self.qualify,
        )

    # -- endpoints ------------------------------------------------------------------------
    # The endpoint body is the `endpoint` macro of resource.py.jinja; these helpers only
    # spell types and collect the imports a resource module uses.

    @staticmethod
    def annotation(t: TypeRef, enum: tuple[str | int, ...] = (), qualify: bool = False) -> str:
        """A parameter or result annotation (``qualify``: ``builtins.list`` inside classes
        that define a method named ``list``)."""
        if enum:
            return "Literal[" + ", ".join(repr(v) for v in enum) + "]"
        return _py_type(t, "_m.", builtins=qualify)

    def result_type(self, e: Endpoint, qualify: bool = False) -> str:
        r = e.result
        if r is None:
            return "None"
        if r.is_list:
            assert r.item is not None
            item = self.annotation(r.item, qualify=qualify)
            if e.envelope:
                return f"EnvelopePageIterator[{item}, _m.{e.envelope}]"
            return f"PageIterator[{item}]"
        text = self.annotation(r, qualify=qualify)
        return f"{text} | None" if e.result_optional and text != "Any" else text

    def into(self, t: TypeRef) -> str | None:
        """The ``into=`` argument of a verb call: the class a result is decoded into."""
        if t.kind == "model":
            return f"_m.{t.name}"
        if t.kind == "scalar":
            return SCALAR_TYPES[t.name].result_class
        return None

    @staticmethod
    def qualify(resource: Resource) -> bool:
        return any(e.name in ("list", "dict") for e in resource.endpoints)

    def imports(self, resource: Resource) -> list[str]:
        """The import lines a resource module needs, and only those."""
        names: set[tuple[str, str]] = set()
        uses_models = False
        uses_builtins = False

        def need(t: TypeRef | None) -> None:
            nonlocal uses_models, uses_builtins
            if t is None:
                return
            if t.kind == "scalar":
                names.update(SCALAR_TYPES[t.name].imports)
            elif t.kind == "model":
                uses_models = True
            else:
                uses_builtins = uses_builtins or self.qualify(resource)
                if t.item is not None:
                    need(t.item)

        for e in resource.endpoints:
            params = [*e.path_params, *e.query, *(e.body.params if e.body else ())]
            for p in params:
                if p.enum:
                    names.add(("typing", "Literal"))
                else:
                    need(p.type)
                if p.format:
                    names.add(("aiocamp.core._resource", "strftime"))
                if p.item:
                    names.add(("aiocamp.core._resource", "xml_list"))
            if any(not p.required for p in params if p not in e.path_params):
                names.update(
                    {("aiocamp.core._runtime", "UNSET"), ("aiocamp.core._runtime", "UnsetType")}
                )
            need(e.result)
            if e.is_list:
                names.add(("aiocamp.core._pagination", "Paging"))
                if e.envelope:
                    uses_models = True
                    names.add(("aiocamp.core._resource", "EnvelopePageIterator"))
                else:
                    names.add(("aiocamp.core._pagination", "PageIterator"))
        names.add(("aiocamp.core._resource", "Resource"))
        lines = ["import builtins"] if uses_builtins else []
        modules: dict[str, list[str]] = {}
        for module, name in sorted(names):
            modules.setdefault(module, []).append(name)
        lines += [f"from {m} import {', '.join(n)}" for m, n in modules.items()]
        if uses_models:
            lines.append("from .. import models as _m")
        return lines

    # -- files ----------------------------------------------------------------------------

    def render(self, template: str, **context: object) -> str:
        return self.env.get_template(template).render(product=self.product, **context)

    def files(self) -> dict[str, str]:
        p = self.product
        out = {
            "__init__.py": self.render("package_init.py.jinja"),
            "client.py": self.render("client.py.jinja"),
            "models.py": self.render("models.py.jinja", models=p.models),
            "resources/__init__.py": self.render("resources_init.py.jinja"),
        }
        for r in p.resources:
            out[f"resources/{r.name}.py"] = self.render("resource.py.jinja", resource=r)
        return out


def write_product(product: Product, src_root: Path) -> Path:
    """Delete ``src/aiocamp/<product>/`` and write it anew."""
    target = src_root / "aiocamp" / product.name
    if target.exists():
        shutil.rmtree(target)
    for rel, text in Renderer(product).files().items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    from .tables import write_tables  # the sandbox's per-product table (codegen/tables.py)

    write_tables(product, target)
    return target


def pinned_ruff(pyproject: Path) -> str:
    """The exact ruff version of the ``codegen`` dependency group (``ruff==X``)."""
    groups = tomllib.loads(pyproject.read_text(encoding="utf-8"))["dependency-groups"]
    for requirement in groups["codegen"]:
        name, sep, version = str(requirement).partition("==")
        if name.strip() == "ruff" and sep:
            return version.strip()
    raise CodegenError(f"{pyproject}: the codegen group must pin ruff exactly (ruff==X)")


def check_ruff(pyproject: Path) -> None:
    """Refuse to generate with another ruff than the pinned one: its formatting would
    differ from the committed output and make ``codegen --verify`` fail for no reason."""
    wanted = pinned_ruff(pyproject)
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True, check=False
    )
    found = out.stdout.split()[-1] if out.returncode == 0 and out.stdout.split() else "none"
    if found != wanted:
        raise CodegenError(
            f"codegen formats with ruff {wanted} (pinned in {pyproject.name}, group codegen), "
            f"found {found}: install ruff=={wanted}"
        )


class CodegenError(Exception):
    """The generator cannot run as configured (not a spec problem)."""


def format_tree(paths: list[Path], config: Path) -> None:
    """ruff fix + format, so templates can aim at correctness rather than beauty."""
    ruff = [sys.executable, "-m", "ruff"]
    targets = [str(p) for p in paths]
    fmt = [*ruff, "format", "--quiet", "--config", str(config), *targets]
    subprocess.run(fmt, check=True)  # noqa: S603 - fixed command line
    subprocess.run(  # noqa: S603
        [
            *ruff,
            "check",
            "--quiet",
            "--fix",
            "--extend-ignore",
            "E501",
            "--config",
            str(config),
            *targets,
        ],
        check=True,
    )
    subprocess.run(fmt, check=True)  # noqa: S603
