"""Load ``specs/<product>/*.yaml`` into the intermediate form (:mod:`codegen.ir`).

Each file is structured into the schema (:mod:`codegen.schema`), which checks keys, types
and value rules. What is left here are the checks that look across keys or files: model
references, placeholders against path parameters, limit classes, fixtures, one namespace
for a method's parameters. Every problem found becomes a :class:`SpecError` naming the
file, the key path and what was expected; all of them are reported in one run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import attrs
import yaml

from aiocamp.core._errors import SpecError

from . import schema as s
from .ir import (
    SCALAR_TYPES,
    Body,
    Endpoint,
    Field,
    Model,
    PagingSpec,
    Param,
    Patch,
    Product,
    RateLimitSpec,
    Resource,
    TypeRef,
)

__all__ = ["load", "load_all", "parse_type"]

#: Names a generated method or class already uses for itself.
RESERVED_PARAMS = frozenset({"self", "max_pages", "max_items", "cls", "data", "content_type"})
RESERVED_FIELDS = frozenset({"extra", "absent", "from_wire", "to_wire", "from_params"})
RESERVED_RESOURCES = frozenset({"session", "close", "product"})

S = TypeVar("S")
#: The product's models by name, with their XML element name (``xml_tag``).
Models = Mapping[str, str | None]


class _At:
    """A file and a key path inside it, where problems are recorded."""

    def __init__(self, file: str, problems: list[SpecError], path: str = "") -> None:
        self.file = file
        self.problems = problems
        self.path = path

    def at(self, *keys: str | int) -> _At:
        path = self.path
        for key in keys:
            path = f"{path}.{key}" if path else str(key)
        return _At(self.file, self.problems, path)

    def fail(self, expected: str) -> None:
        self.problems.append(SpecError(self.file, self.path, expected))


def parse_type(text: str, at: _At, models: Models | None) -> TypeRef | None:
    """``int`` | ``Model`` | ``list[T]`` | ``dict[str, str]``; models checked when known."""
    text = text.strip()
    if text in SCALAR_TYPES:
        return TypeRef("scalar", text)
    if text.replace(" ", "") == "dict[str,str]":
        return TypeRef("dict", "dict")
    if text.startswith("list[") and text.endswith("]"):
        item = parse_type(text[5:-1], at, models)
        return TypeRef("list", item=item) if item is not None else None
    if s.CLASS_NAME.match(text):
        if models is not None and text not in models:
            at.fail(f"unknown model {text!r}; define it in some file of this product")
            return None
        return TypeRef("model", text)
    at.fail(
        f"expected one of {', '.join(SCALAR_TYPES)}, a model name, list[T] or dict[str, str]; "
        f"got {text!r}"
    )
    return None


def _read(file: Path, root: Path, cls: type[S], problems: list[SpecError]) -> S | None:
    rel = str(file.relative_to(root))
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(SpecError(rel, "", f"valid YAML ({exc})"))
        return None
    spec, found = s.structure(raw, cls, rel)
    problems += found
    return spec


def _wire_default(name: str, wire_case: str) -> str:
    return name.replace("_", "-") if wire_case == "kebab" else name


# -- product -------------------------------------------------------------------------------


def _product(spec: s.ProductSpec, folder: Path, at: _At) -> Product:
    if spec.product != folder.name:
        at.at("product").fail(f"expected the folder name {folder.name!r}")
    placeholders = s.PLACEHOLDER.findall(spec.base_url)
    for name in placeholders:
        if name not in spec.base_url_params:
            at.at("base_url_params", name).fail("required key is missing")
    for name in spec.base_url_params:
        if name not in placeholders:
            at.at("base_url_params", name).fail("not a placeholder of base_url")
    if not spec.auth:
        at.at("auth").fail("expected a non-empty list of strategies")
    if not spec.rate_limits:
        at.at("rate_limits").fail("expected a mapping of limit classes")
    defaults = spec.default_limit_classes
    by_method = defaults if isinstance(defaults, dict) else {"*": defaults}
    for method, classes in by_method.items():
        where = at.at("default_limit_classes", method) if isinstance(defaults, dict) else None
        for i, c in enumerate(classes):
            if c not in spec.rate_limits:
                (where or at.at("default_limit_classes")).at(i).fail(
                    "expected a class of rate_limits"
                )
    if "*" not in by_method:
        at.at("default_limit_classes", "*").fail("required key is missing (every other method)")
    if spec.paging.style is None:
        at.at("paging", "style").fail("required key is missing")
    fmt = spec.format
    wire_case = spec.wire_case or ("kebab" if fmt == "xml" else "snake")
    params = tuple(
        _param(name, p, at.at("base_url_params", name), {}, "snake")
        for name, p in spec.base_url_params.items()
    )
    return Product(
        name=spec.product,
        client=spec.client,
        title=spec.title,
        docs=spec.docs.rstrip("/"),
        format=fmt,
        wire_case=wire_case,
        base_url=spec.base_url,
        base_url_params=params,
        auth=tuple(spec.auth),
        rate_limits=tuple(
            RateLimitSpec(name, lim.requests, lim.per_seconds)
            for name, lim in spec.rate_limits.items()
        ),
        default_limit_classes=tuple(by_method.get("*", ())),
        limit_classes_by_method={m: tuple(c) for m, c in by_method.items() if m != "*"},
        paging=_paging(spec.paging, at.at("paging"), None),
        errors=spec.errors,
        source=at.file,
        formats=_formats(spec, at),
        json_mirrors_xml=spec.json_mirrors_xml,
    )


def _formats(spec: s.ProductSpec, at: _At) -> tuple[str, ...]:
    """The client's formats, its default first; the spec's own format must be one of them."""
    formats = tuple(spec.formats or (spec.format,))
    if spec.format not in formats:
        at.at("formats").fail(f"expected a list holding the product format {spec.format!r}")
    if len(set(formats)) != len(formats):
        at.at("formats").fail("expected each format once")
    if spec.json_mirrors_xml and (spec.format != "xml" or "json" not in formats):
        at.at("json_mirrors_xml").fail("applies to XML products whose formats include json")
    return formats


def _paging(spec: s.PagingSpec, at: _At, default: PagingSpec | None) -> PagingSpec:
    base = default or PagingSpec("none")
    style = spec.style or base.style
    same = style == base.style
    param = spec.param or (base.param if same else "")
    page_size = spec.page_size or (base.page_size if same else 0)
    if style in ("offset", "page"):
        if not param:
            at.at("param").fail(f"{style} paging needs the parameter carrying the position")
        if not page_size:
            at.at("page_size").fail(f"{style} paging needs the page size")
    first_page = spec.first_page if spec.first_page is not None else base.first_page
    size_param = spec.size_param or (base.size_param if same else "")
    if first_page not in (0, 1):
        at.at("first_page").fail("first_page: is 0 or 1")
    if first_page != 1 and style != "page":
        at.at("first_page").fail("first_page: applies to page paging only")
    if size_param and style not in ("offset", "page"):
        at.at("size_param").fail("size_param: applies to offset and page paging only")
    return PagingSpec(style, param, page_size, first_page, size_param)


# -- models and parameters -----------------------------------------------------------------


def _field(name: str, spec: s.FieldSpec, at: _At, product: Product, models: Models) -> Field:
    if name in RESERVED_FIELDS:
        at.fail(f"field name {name!r} is reserved; rename it and set wire:")
    type_ = parse_type(spec.type, at.at("type"), models) or TypeRef("scalar", "json")
    repeat = isinstance(spec, s.BodyFieldSpec) and spec.xml_repeat
    item: str | None = spec.item
    if item is None and type_.is_list and type_.item is not None and type_.item.is_model:
        item = models.get(type_.item.name)  # the item model's own element name
    if repeat:
        item = None  # each item is an element named by the field's wire name
        if product.format != "xml" or not type_.is_list:
            at.at("xml_repeat").fail("xml_repeat: applies to list fields of XML bodies")
    elif product.format == "xml" and type_.is_list and item is None:
        at.at("item").fail("an XML list field needs item: (the element name of each item)")
    if type_.kind == "dict":
        at.at("type").fail("dict[str, str] is for query parameters only")
    if type_.kind == "scalar" and type_.name == "bytes":
        at.at("type").fail("bytes is a result type only (a file the reply carries)")
    return Field(
        name=name,
        type=type_,
        wire=spec.wire or _wire_default(name, product.wire_case),
        nullable=spec.nullable,
        read_only=spec.read_only,
        secret=spec.secret,
        summary=spec.summary,
        item=item,
        xml_array=spec.xml_array,
        enum=tuple(spec.enum or ()),
    )


def _param(
    name: str, spec: s.ParamSpec, at: _At, models: Models, wire_case: str, required: bool = False
) -> Param:
    if name in RESERVED_PARAMS:
        at.fail(f"parameter name {name!r} is reserved; rename it and set wire:")
    type_ = parse_type(spec.type, at.at("type"), models) or TypeRef("scalar", "str")
    if type_.kind == "scalar" and type_.name == "bytes":
        at.at("type").fail("bytes is a result type only (a file the reply carries)")
    if spec.format is not None and type_.name not in ("datetime", "date", "datetime_or_date"):
        at.at("format").fail("format: applies to datetime and date parameters only")
    return Param(
        name=name,
        type=type_,
        wire=spec.wire or _wire_default(name, wire_case),
        required=required or spec.required,
        summary=spec.summary,
        enum=tuple(spec.enum or ()),
        format=spec.format,
        nullable=spec.nullable,
    )


def _from_field(f: Field, required: bool = False) -> Param:
    """A body parameter from a model field."""
    return Param(
        f.name,
        f.type,
        f.wire,
        required,
        f.summary,
        f.enum,
        None,
        f.nullable,
        f.item,
        f.xml_array,
    )


def _check_fixtures(files: Sequence[str], at: _At, root: Path | None, product: str) -> None:
    if root is None:
        return
    for i, f in enumerate(files):
        if not (root / product / f).is_file():
            (at.at(i) if len(files) > 1 or at.path.endswith("examples") else at).fail(
                f"fixture tests/fixtures/{product}/{f} does not exist"
            )


def _models(
    specs: list[tuple[str, s.ResourceSpec | s.CommonSpec]],
    product: Product,
    problems: list[SpecError],
    fixtures: Path | None,
) -> tuple[Model, ...]:
    owners: dict[str, str] = {}
    for rel, spec in specs:
        for name in spec.models:
            if name in owners:
                _At(rel, problems, f"models.{name}").fail(
                    f"model defined twice (also in {owners[name]})"
                )
            owners.setdefault(name, rel)
    names: dict[str, str | None] = {
        name: m.xml_tag for _, spec in specs for name, m in spec.models.items()
    }
    models: list[Model] = []
    for rel, spec in specs:
        case = getattr(spec, "wire_case", None)
        owner = attrs.evolve(product, wire_case=case) if case else product
        for name, m in spec.models.items():
            at = _At(rel, problems, f"models.{name}")
            if not m.fields:
                at.at("fields").fail("expected a non-empty mapping of fields")
            fields = tuple(
                _field(fname, f, at.at("fields", fname), owner, names)
                for fname, f in m.fields.items()
            )
            _unique([f.wire for f in fields], at.at("fields"), "wire name")
            _check_fixtures(m.examples, at.at("examples"), fixtures, product.name)
            models.append(
                Model(
                    name=name,
                    summary=m.summary or name,
                    fields=fields,
                    xml_tag=m.xml_tag,
                    source=rel,
                    examples=tuple(m.examples),
                )
            )
    return tuple(models)


def _unique(values: list[str], at: _At, what: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            at.fail(f"duplicate {what} {v!r}")
        seen.add(v)


# -- endpoints -----------------------------------------------------------------------------


def _body(spec: s.BodySpec, at: _At, product: Product, models: Models) -> Body | None:
    kinds = [k for k in ("model", "fields", "raw", "multipart") if getattr(spec, k) is not None]
    if len(kinds) != 1:
        at.fail("expected exactly one of model:, fields:, raw: true, multipart:")
        return None
    kind = kinds[0]
    if not spec.json_root and (not product.json_mirrors_xml or kind != "fields"):
        at.at("json_root").fail(
            "json_root: false applies to fields: bodies of json_mirrors_xml products"
        )
    if kind == "raw":
        return Body("raw", content_type=spec.content_type)
    if kind == "multipart":
        assert spec.multipart is not None
        return Body("multipart", field_name=spec.multipart, content_type=spec.content_type)
    if spec.model is not None:
        if spec.model not in models:
            at.at("model").fail(f"unknown model {spec.model!r}")
            return None
        model = product.model(spec.model)
        if product.format == "xml" and model.xml_tag is None and spec.xml_root is None:
            at.at("model").fail(f"model {spec.model} needs xml_tag: (or the body xml_root:)")
        params = tuple(_from_field(f) for f in model.fields if not f.read_only)
        if not params:
            at.at("model").fail(f"model {spec.model} has no writable fields")
        return Body("model", spec.model, params, spec.xml_root or model.xml_tag)
    assert spec.fields is not None
    if not spec.fields:
        at.at("fields").fail("expected a non-empty mapping of body parameters")
    params = tuple(
        _from_field(_field(name, f, at.at("fields", name), product, models), f.required)
        for name, f in spec.fields.items()
    )
    if product.format == "xml":
        if spec.xml_root is None:
            at.at("xml_root").fail("an XML body from fields: needs xml_root:")
        if spec.xml_scalar and len(params) != 1:
            at.at("xml_scalar").fail("xml_scalar: true needs exactly one field")
        if spec.xml_list and (len(params) != 1 or not params[0].type.is_list):
            at.at("xml_list").fail("xml_list: true needs exactly one field, a list")
    elif spec.xml_scalar or spec.xml_list:
        at.at("xml_list" if spec.xml_list else "xml_scalar").fail("applies to XML bodies only")
    return Body(
        "fields",
        "",
        params,
        spec.xml_root,
        spec.xml_scalar,
        spec.content_type,
        xml_list=spec.xml_list,
        json_root=spec.json_root,
    )


def _endpoint(
    name: str,
    spec: s.EndpointSpec,
    at: _At,
    product: Product,
    models: Models,
    doc: str,
    fixtures: Path | None,
) -> Endpoint:
    placeholders = s.PLACEHOLDER.findall(spec.path)
    _unique(placeholders, at.at("path"), "placeholder")
    if spec.url_token:
        if not spec.path.startswith("/{token}/"):
            at.at("url_token").fail("url_token: needs a path starting with /{token}/")
        elif "body_token" not in product.auth:
            at.at("url_token").fail("url_token: needs the body_token auth strategy")
        placeholders = [p for p in placeholders if p != "token"]
    for key in spec.path_params:
        if key not in placeholders:
            at.at("path_params", key).fail(f"not a placeholder of the path {spec.path}")
    path_params = tuple(
        _param(
            p,
            spec.path_params.get(p, s.ParamSpec(type=s.Text("int"))),
            at.at("path_params", p),
            models,
            "snake",
            required=True,
        )
        for p in placeholders
    )
    query = tuple(_param(q, p, at.at("query", q), models, "snake") for q, p in spec.query.items())
    body = _body(spec.body, at.at("body"), product, models) if spec.body else None
    if body is not None and body.kind == "model":
        # A model field the path or query already carries (subject_id...) is set there.
        taken = {p.name for p in path_params} | {q.name for q in query}
        body = attrs.evolve(body, params=tuple(p for p in body.params if p.name not in taken))
    names = [p.name for p in (*path_params, *query, *(body.params if body else ()))]
    _unique(names, at, "parameter name (path, query and body share one namespace)")

    result = None
    if spec.result is not None:
        result = parse_type(spec.result, at.at("result"), models)
        if result is not None and result.kind == "dict":
            at.at("result").fail("a result cannot be dict[str, str]")
        if (
            result is not None
            and result.kind == "scalar"
            and result.name != "json"
            and SCALAR_TYPES[result.name].result_class is None
        ):
            at.at("result").fail(f"{result.name} is not a result type")
        if (
            result is not None
            and product.format == "xml"
            and result.is_model
            and product.model(result.name).xml_tag is None
        ):
            at.at("result").fail(f"model {result.name} needs xml_tag: to be a result")
    is_list = result is not None and result.is_list
    paging = None
    if is_list:
        paging = _paging(spec.paging or s.PagingSpec(), at.at("paging"), product.paging)
    elif spec.paging is not None:
        at.at("paging").fail("paging applies to list results only")
    if spec.result_key is not None and not is_list:
        at.at("result_key").fail("result_key applies to list results only")
    if spec.envelope is not None:
        if spec.result_key is None:
            at.at("envelope").fail("envelope: needs result_key: (the key of the records)")
        if spec.envelope not in models:
            at.at("envelope").fail(f"unknown model {spec.envelope!r}")
    if spec.follow_location and (
        spec.method not in ("POST", "PUT") or result is None or not result.is_model
    ):
        at.at("follow_location").fail("follow_location: needs a POST or PUT with a model result")
    if not spec.cache and spec.method != "GET":
        at.at("cache").fail("cache: false applies to GET endpoints (only GETs are cached)")
    patch = None
    if spec.patch is not None:
        if (
            spec.method != "PUT"
            or body is None
            or body.kind != "fields"
            or not (result is not None and result.is_model)
        ):
            at.at("patch").fail("patch: needs a PUT with a fields: body and a model result")
        wires = {p.wire for p in body.params} if body is not None else set()
        for wire in spec.patch.sources:
            if wire not in wires:
                at.at("patch", "sources", wire).fail("expected a body parameter's wire name")
        patch = Patch(spec.patch.name, tuple(spec.patch.sources.items()))
    limits = {r.name for r in product.rate_limits}
    for i, c in enumerate(spec.limit_classes or ()):
        if c not in limits:
            at.at("limit_classes", i).fail(f"expected one of {sorted(limits)}")
    examples: dict[str, str] = {}
    if spec.examples is not None:
        for kind in ("response", "request"):
            value = getattr(spec.examples, kind)
            if value is not None:
                examples[kind] = value
                _check_fixtures([value], at.at("examples", kind), fixtures, product.name)
        if "response" in examples and result is None:
            at.at("examples", "response").fail("a response example needs a result:")
    if spec.doc.startswith("#"):
        doc_url = f"{product.docs}/{doc}{spec.doc}"
    elif spec.doc.startswith("https://"):
        doc_url = spec.doc
    else:
        doc_url = f"{product.docs}/{doc.rsplit('/', 1)[0]}/{spec.doc}"
    return Endpoint(
        name=name,
        method=spec.method,
        path=spec.path,
        summary=spec.summary,
        doc_url=doc_url,
        path_params=path_params,
        query=query,
        body=body,
        result=result,
        result_optional=spec.result_optional,
        result_key=spec.result_key,
        paging=paging,
        idempotent=spec.idempotent,
        limit_classes=tuple(spec.limit_classes) if spec.limit_classes is not None else None,
        status=spec.status,
        examples=examples,
        envelope=spec.envelope,
        follow_location=spec.follow_location,
        url_token=spec.url_token,
        cache=spec.cache,
        xml_dashes=product.json_mirrors_xml and product.wire_case == "kebab",
        patch=patch,
    )


# -- loading -------------------------------------------------------------------------------


def load(specs_root: Path, product_name: str, fixtures_root: Path | None = None) -> Product:
    """Load and validate one product folder; raises SpecError (all problems) when invalid."""
    root = specs_root.parent
    folder = specs_root / product_name
    file = folder / "_product.yaml"
    rel = str(file.relative_to(root))
    if not file.exists():
        raise SpecError(rel, "", "missing _product.yaml")
    problems: list[SpecError] = []
    product_spec = _read(file, root, s.ProductSpec, problems)
    specs: list[tuple[str, s.ResourceSpec | s.CommonSpec]] = []
    for path in sorted(p for p in folder.glob("*.yaml") if p.name != "_product.yaml"):
        cls: type[s.ResourceSpec | s.CommonSpec] = (
            s.CommonSpec if path.name.startswith("_") else s.ResourceSpec
        )
        spec = _read(path, root, cls, problems)
        if spec is not None:
            specs.append((str(path.relative_to(root)), spec))
    # The cross-file checks need every file structured.
    s.raise_problems(problems)
    assert product_spec is not None
    product = _product(product_spec, folder, _At(rel, problems))
    product = attrs.evolve(product, models=_models(specs, product, problems, fixtures_root))
    models = {m.name: m.xml_tag for m in product.models}

    resources = []
    owners: dict[str, str] = {}
    for rel, spec in specs:
        if not isinstance(spec, s.ResourceSpec):
            continue
        at = _At(rel, problems)
        if spec.resource in RESERVED_RESOURCES:
            at.at("resource").fail(f"resource name {spec.resource!r} is reserved")
        if spec.resource in owners:
            at.at("resource").fail(f"resource defined twice (also in {owners[spec.resource]})")
        owners.setdefault(spec.resource, rel)
        if not spec.endpoints:
            at.at("endpoints").fail("expected a non-empty mapping of endpoints")
        owner = attrs.evolve(product, wire_case=spec.wire_case) if spec.wire_case else product
        endpoints = tuple(
            _endpoint(name, e, at.at("endpoints", name), owner, models, spec.doc, fixtures_root)
            for name, e in spec.endpoints.items()
        )
        resources.append(
            Resource(
                name=spec.resource,
                summary=spec.summary,
                doc_url=f"{product.docs}/{spec.doc}",
                source=rel,
                endpoints=endpoints,
                wire_case=owner.wire_case,
            )
        )
    s.raise_problems(problems)
    return attrs.evolve(product, resources=tuple(resources))


def load_all(specs_root: Path, fixtures_root: Path | None = None) -> list[Product]:
    folders = sorted(p for p in specs_root.iterdir() if (p / "_product.yaml").exists())
    return [load(specs_root, folder.name, fixtures_root) for folder in folders]
