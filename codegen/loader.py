"""Load and validate ``specs/<product>/*.yaml`` into the intermediate form.

Every rule violation raises :class:`SpecError` naming the file, the key path and what
was expected, so a bad spec is fixed where it is, never in generated output.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any

import attrs
import yaml

from aiocamp.core.errors import SpecError

from .ir import (
    SCALARS,
    Body,
    Endpoint,
    Field,
    Model,
    PagingSpec,
    Param,
    Product,
    RateLimitSpec,
    Resource,
    TypeRef,
)

AUTH_STRATEGIES = ("basic_token", "basic_password", "bearer", "body_token")
METHODS = ("GET", "POST", "PUT", "DELETE")
PAGING_STYLES = ("link", "offset", "page", "none")
IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
MODEL_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
PLACEHOLDER = re.compile(r"\{([^}]*)\}")
#: Names a generated method or class already uses for itself.
RESERVED_PARAMS = frozenset({"self", "max_pages", "max_items", "cls"})
RESERVED_FIELDS = frozenset({"extra", "absent", "from_wire", "to_wire", "from_params"})
RESERVED_RESOURCES = frozenset({"session", "close", "product"})


class _Ctx:
    """Where we are: file and key path, for error messages."""

    def __init__(self, file: str, path: str = "") -> None:
        self.file = file
        self.path = path

    def at(self, key: str | int) -> _Ctx:
        return _Ctx(self.file, f"{self.path}.{key}" if self.path else str(key))

    def fail(self, expected: str) -> SpecError:
        return SpecError(self.file, self.path, expected)


def _mapping(
    value: Any, ctx: _Ctx, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ctx.fail(f"expected a mapping, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            raise ctx.at(str(key)).fail(f"unknown key; expected one of {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise ctx.at(key).fail("required key is missing")
    return value


def _str(value: Any, ctx: _Ctx, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ctx.fail(f"expected a non-empty string, got {value!r}")
    return value


def _bool(value: Any, ctx: _Ctx) -> bool:
    if not isinstance(value, bool):
        raise ctx.fail(f"expected true or false, got {value!r}")
    return value


def _int(value: Any, ctx: _Ctx, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ctx.fail(f"expected an integer >= {minimum}, got {value!r}")
    return value


def _ident(value: Any, ctx: _Ctx) -> str:
    text = _str(value, ctx)
    if not IDENT.match(text) or keyword.iskeyword(text):
        raise ctx.fail(f"expected a snake_case Python identifier (not a keyword), got {text!r}")
    return text


def _enum(value: Any, ctx: _Ctx) -> tuple[str | int, ...]:
    if not isinstance(value, list) or not value:
        raise ctx.fail("expected a non-empty list of strings or integers")
    for i, v in enumerate(value):
        if not isinstance(v, str | int) or isinstance(v, bool):
            raise ctx.at(i).fail(f"expected a string or integer, got {v!r}")
    return tuple(value)


def _str_list(value: Any, ctx: _Ctx) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ctx.fail("expected a non-empty list of strings")
    return tuple(_str(v, ctx.at(i)) for i, v in enumerate(value))


def parse_type(text: Any, ctx: _Ctx, models: set[str] | None) -> TypeRef:
    """``int`` | ``Model`` | ``list[T]`` | ``dict[str, str]``; models checked when known."""
    if not isinstance(text, str) or not text.strip():
        raise ctx.fail(f"expected a type, got {text!r}")
    text = text.strip()
    if text in SCALARS:
        return TypeRef("scalar", text)
    if text.replace(" ", "") == "dict[str,str]":
        return TypeRef("dict", "dict")
    if text.startswith("list[") and text.endswith("]"):
        return TypeRef("list", item=parse_type(text[5:-1], ctx, models))
    if MODEL_NAME.match(text):
        if models is not None and text not in models:
            raise ctx.fail(f"unknown model {text!r}; define it in some file of this product")
        return TypeRef("model", text)
    raise ctx.fail(
        f"expected one of {', '.join(SCALARS)}, a model name, list[T] or dict[str, str]; "
        f"got {text!r}"
    )


def _wire_default(name: str, wire_case: str) -> str:
    return name.replace("_", "-") if wire_case == "kebab" else name


FIELD_KEYS = (
    "type",
    "wire",
    "nullable",
    "read_only",
    "secret",
    "summary",
    "item",
    "xml_array",
    "enum",
)


def _field(name: str, raw: Any, ctx: _Ctx, product: Product, models: set[str]) -> Field:
    _ident(name, ctx)
    if name in RESERVED_FIELDS:
        raise ctx.fail(f"field name {name!r} is reserved; rename it and set wire:")
    if isinstance(raw, str):
        raw = {"type": raw}
    spec = _mapping(raw, ctx, FIELD_KEYS, ("type",))
    type_ = parse_type(spec["type"], ctx.at("type"), models)
    item = spec.get("item")
    if item is not None:
        item = _str(item, ctx.at("item"))
    if product.format == "xml" and type_.is_list and item is None:
        raise ctx.at("item").fail("an XML list field needs item: (the element name of each item)")
    if type_.kind == "dict":
        raise ctx.at("type").fail("dict[str, str] is for query parameters only")
    return Field(
        name=name,
        type=type_,
        wire=_str(spec.get("wire", _wire_default(name, product.wire_case)), ctx.at("wire")),
        nullable=_bool(spec.get("nullable", False), ctx.at("nullable")),
        read_only=_bool(spec.get("read_only", False), ctx.at("read_only")),
        secret=_bool(spec.get("secret", False), ctx.at("secret")),
        summary=_str(spec.get("summary", ""), ctx.at("summary"), empty=True),
        item=item,
        xml_array=_bool(spec.get("xml_array", True), ctx.at("xml_array")),
        enum=_enum(spec["enum"], ctx.at("enum")) if "enum" in spec else (),
    )


def _param(
    name: str, raw: Any, ctx: _Ctx, product: Product, models: set[str], *, wire_case: str = "snake"
) -> Param:
    _ident(name, ctx)
    if name in RESERVED_PARAMS:
        raise ctx.fail(f"parameter name {name!r} is reserved; rename it and set wire:")
    if isinstance(raw, str):
        raw = {"type": raw}
    spec = _mapping(
        raw, ctx, ("type", "required", "summary", "enum", "format", "wire", "nullable", "item")
    )
    type_ = parse_type(spec.get("type", "str"), ctx.at("type"), models)
    enum = _enum(spec["enum"], ctx.at("enum")) if "enum" in spec else ()
    fmt = spec.get("format")
    if fmt is not None and type_.name not in ("datetime", "date", "datetime_or_date"):
        raise ctx.at("format").fail("format: applies to datetime and date parameters only")
    return Param(
        name=name,
        type=type_,
        wire=_str(spec.get("wire", _wire_default(name, wire_case)), ctx.at("wire")),
        required=_bool(spec.get("required", False), ctx.at("required")),
        summary=_str(spec.get("summary", ""), ctx.at("summary"), empty=True),
        enum=enum,
        format=_str(fmt, ctx.at("format")) if fmt is not None else None,
        nullable=_bool(spec.get("nullable", False), ctx.at("nullable")),
    )


def _paging(raw: Any, ctx: _Ctx, default: PagingSpec | None) -> PagingSpec:
    if raw == "none":
        return PagingSpec("none")
    spec = _mapping(raw, ctx, ("style", "param", "page_size"))
    base = default or PagingSpec("none")
    style = spec.get("style", base.style)
    if style not in PAGING_STYLES:
        raise ctx.at("style").fail(f"expected one of {', '.join(PAGING_STYLES)}")
    param = spec.get("param", base.param if style == base.style else "")
    page_size = spec.get("page_size", base.page_size if style == base.style else 0)
    if style in ("offset", "page"):
        _str(param, ctx.at("param"))
        _int(page_size, ctx.at("page_size"), 1)
    return PagingSpec(style, param or "", page_size or 0)


def load_product(folder: Path, root: Path) -> Product:
    file = folder / "_product.yaml"
    rel = str(file.relative_to(root))
    ctx = _Ctx(rel)
    if not file.exists():
        raise ctx.fail("missing _product.yaml")
    raw = _load_yaml(file, rel)
    spec = _mapping(
        raw,
        ctx,
        (
            "product",
            "client",
            "title",
            "docs",
            "format",
            "wire_case",
            "base_url",
            "base_url_params",
            "auth",
            "rate_limits",
            "default_limit_classes",
            "paging",
            "errors",
        ),
        (
            "product",
            "client",
            "title",
            "docs",
            "format",
            "base_url",
            "auth",
            "rate_limits",
            "paging",
        ),
    )
    name = _ident(spec["product"], ctx.at("product"))
    if name != folder.name:
        raise ctx.at("product").fail(f"expected the folder name {folder.name!r}")
    client = _str(spec["client"], ctx.at("client"))
    if not MODEL_NAME.match(client):
        raise ctx.at("client").fail("expected a CamelCase class name")
    fmt = spec["format"]
    if fmt not in ("xml", "json"):
        raise ctx.at("format").fail("expected xml or json")
    wire_case = spec.get("wire_case", "kebab" if fmt == "xml" else "snake")
    if wire_case not in ("kebab", "snake"):
        raise ctx.at("wire_case").fail("expected kebab or snake")
    base_url = _str(spec["base_url"], ctx.at("base_url"))
    if not base_url.startswith("https://"):
        raise ctx.at("base_url").fail("expected an https:// URL template")
    placeholders = PLACEHOLDER.findall(base_url)
    raw_params = spec.get("base_url_params") or {}
    _mapping(raw_params, ctx.at("base_url_params"), tuple(placeholders), tuple(placeholders))
    dummy = Product(
        name,
        client,
        "",
        "",
        fmt,
        wire_case,
        base_url,
        (),
        (),
        (),
        (),
        PagingSpec("none"),
        "http",
        rel,
    )
    params = tuple(
        _param(p, raw_params[p], ctx.at("base_url_params").at(p), dummy, set())
        for p in placeholders
    )
    auth = _str_list(spec["auth"], ctx.at("auth"))
    for i, a in enumerate(auth):
        if a not in AUTH_STRATEGIES:
            raise ctx.at("auth").at(i).fail(f"expected one of {', '.join(AUTH_STRATEGIES)}")
    limits_raw = spec["rate_limits"]
    if not isinstance(limits_raw, dict) or not limits_raw:
        raise ctx.at("rate_limits").fail("expected a mapping of limit classes")
    limits = []
    for cls_name, lim in limits_raw.items():
        c = ctx.at("rate_limits").at(cls_name)
        _ident(cls_name, c)
        lim = _mapping(lim, c, ("requests", "per_seconds"), ("requests", "per_seconds"))
        per = lim["per_seconds"]
        if not isinstance(per, int | float) or isinstance(per, bool) or per <= 0:
            raise c.at("per_seconds").fail("expected a number > 0")
        limits.append(
            RateLimitSpec(cls_name, _int(lim["requests"], c.at("requests"), 1), float(per))
        )
    defaults = _str_list(
        spec.get("default_limit_classes", ["default"]), ctx.at("default_limit_classes")
    )
    for i, d in enumerate(defaults):
        if d not in limits_raw:
            raise ctx.at("default_limit_classes").at(i).fail("expected a class of rate_limits")
    errors = spec.get("errors", "http")
    if errors not in ("http", "backpack_envelope"):
        raise ctx.at("errors").fail("expected http or backpack_envelope")
    return Product(
        name=name,
        client=client,
        title=_str(spec["title"], ctx.at("title")),
        docs=_str(spec["docs"], ctx.at("docs")).rstrip("/"),
        format=fmt,
        wire_case=wire_case,
        base_url=base_url,
        base_url_params=params,
        auth=auth,
        rate_limits=tuple(limits),
        default_limit_classes=defaults,
        paging=_paging(spec["paging"], ctx.at("paging"), None),
        errors=errors,
        source=rel,
    )


def _load_yaml(file: Path, rel: str) -> Any:
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(rel, "", f"valid YAML ({exc})") from None


RESOURCE_KEYS = ("resource", "summary", "doc", "models", "endpoints")
MODEL_KEYS = ("summary", "xml_tag", "fields", "examples")
ENDPOINT_KEYS = (
    "method",
    "path",
    "summary",
    "doc",
    "path_params",
    "query",
    "body",
    "result",
    "result_optional",
    "result_key",
    "paging",
    "idempotent",
    "limit_classes",
    "status",
    "examples",
)


def load(specs_root: Path, product_name: str, fixtures_root: Path | None = None) -> Product:
    """Load and validate one product folder."""
    root = specs_root.parent
    folder = specs_root / product_name
    product = load_product(folder, root)
    files = sorted(p for p in folder.glob("*.yaml") if p.name != "_product.yaml")
    raws: list[tuple[str, dict[str, Any]]] = []
    for file in files:
        rel = str(file.relative_to(root))
        raw = _load_yaml(file, rel)
        common = file.name.startswith("_")
        ctx = _Ctx(rel)
        if common:
            raw = _mapping(raw, ctx, ("models",), ("models",))
        else:
            raw = _mapping(raw, ctx, RESOURCE_KEYS, ("resource", "summary", "doc", "endpoints"))
        raws.append((rel, raw))

    # Pass 1: model names, so types can reference models of any file.
    owners: dict[str, str] = {}
    for rel, raw in raws:
        models_raw = raw.get("models") or {}
        ctx = _Ctx(rel).at("models")
        if not isinstance(models_raw, dict):
            raise ctx.fail("expected a mapping of model names")
        for name in models_raw:
            if not isinstance(name, str) or not MODEL_NAME.match(name):
                raise ctx.at(str(name)).fail("expected a CamelCase model name")
            if name in owners:
                raise ctx.at(name).fail(f"model defined twice (also in {owners[name]})")
            owners[name] = rel
    names = set(owners)

    models: list[Model] = []
    for rel, raw in raws:
        for name, mraw in (raw.get("models") or {}).items():
            ctx = _Ctx(rel).at("models").at(name)
            mspec = _mapping(mraw, ctx, MODEL_KEYS, ("fields",))
            fields_raw = mspec["fields"]
            if not isinstance(fields_raw, dict) or not fields_raw:
                raise ctx.at("fields").fail("expected a non-empty mapping of fields")
            fields = tuple(
                _field(fname, fraw, ctx.at("fields").at(fname), product, names)
                for fname, fraw in fields_raw.items()
            )
            _unique([f.wire for f in fields], ctx.at("fields"), "wire name")
            examples: tuple[str, ...] = ()
            if "examples" in mspec:
                examples = _str_list(mspec["examples"], ctx.at("examples"))
                _check_fixtures(examples, ctx.at("examples"), fixtures_root, product.name)
            xml_tag = mspec.get("xml_tag")
            models.append(
                Model(
                    name=name,
                    summary=_str(mspec.get("summary", name), ctx.at("summary")),
                    fields=fields,
                    xml_tag=_str(xml_tag, ctx.at("xml_tag")) if xml_tag is not None else None,
                    source=rel,
                    examples=examples,
                )
            )
    product = _evolve(product, models=tuple(models))

    resources = []
    seen_resources: dict[str, str] = {}
    for rel, raw in raws:
        if "resource" not in raw:
            continue
        ctx = _Ctx(rel)
        rname = _ident(raw["resource"], ctx.at("resource"))
        if rname in RESERVED_RESOURCES:
            raise ctx.at("resource").fail(f"resource name {rname!r} is reserved")
        if rname in seen_resources:
            raise ctx.at("resource").fail(
                f"resource defined twice (also in {seen_resources[rname]})"
            )
        seen_resources[rname] = rel
        doc = _str(raw["doc"], ctx.at("doc"))
        eps_raw = raw["endpoints"]
        if not isinstance(eps_raw, dict) or not eps_raw:
            raise ctx.at("endpoints").fail("expected a non-empty mapping of endpoints")
        endpoints = []
        for ename, eraw in eps_raw.items():
            ectx = ctx.at("endpoints").at(ename)
            endpoint, extra_models = _endpoint(
                ename, eraw, ectx, product, names, rname, doc, fixtures_root
            )
            endpoints.append(endpoint)
            models.extend(extra_models)
        resources.append(
            Resource(
                name=rname,
                summary=_str(raw["summary"], ctx.at("summary")),
                doc_url=f"{product.docs}/{doc}",
                source=rel,
                endpoints=tuple(endpoints),
            )
        )
    return _evolve(product, models=tuple(models), resources=tuple(resources))


def _evolve(product: Product, **changes: Any) -> Product:
    import attrs

    return attrs.evolve(product, **changes)


def _unique(values: list[str], ctx: _Ctx, what: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ctx.fail(f"duplicate {what} {v!r}")
        seen.add(v)


def _check_fixtures(files: tuple[str, ...], ctx: _Ctx, root: Path | None, product: str) -> None:
    if root is None:
        return
    for i, f in enumerate(files):
        if not (root / product / f).is_file():
            where = ctx if len(files) == 1 and not ctx.path.endswith("examples") else ctx.at(i)
            raise where.fail(f"fixture tests/fixtures/{product}/{f} does not exist")


def _camel(*parts: str) -> str:
    return "".join(p.capitalize() for part in parts for p in part.split("_"))


def _endpoint(
    name: str,
    raw: Any,
    ctx: _Ctx,
    product: Product,
    models: set[str],
    resource: str,
    doc: str,
    fixtures_root: Path | None,
) -> tuple[Endpoint, list[Model]]:
    _ident(name, ctx)
    spec = _mapping(raw, ctx, ENDPOINT_KEYS, ("method", "path", "summary", "doc"))
    method = spec["method"]
    if method not in METHODS:
        raise ctx.at("method").fail(f"expected one of {', '.join(METHODS)}")
    path = _str(spec["path"], ctx.at("path"))
    if not (path.startswith("/") or path.startswith("https://")):
        raise ctx.at("path").fail("expected a path starting with / (or an https:// URL)")
    if "?" in path:
        raise ctx.at("path").fail("expected no query string in the path; use query:")
    placeholders = PLACEHOLDER.findall(path)
    for p in placeholders:
        _ident(p, ctx.at("path"))
    _unique(placeholders, ctx.at("path"), "placeholder")
    pp_raw = spec.get("path_params") or {}
    if not isinstance(pp_raw, dict):
        raise ctx.at("path_params").fail("expected a mapping")
    for key in pp_raw:
        if key not in placeholders:
            raise ctx.at("path_params").at(key).fail(f"not a placeholder of the path {path}")
    path_params = tuple(
        _param(p, pp_raw.get(p, {"type": "int"}), ctx.at("path_params").at(p), product, models)
        for p in placeholders
    )
    path_params = tuple(Param(p.name, p.type, p.wire, True, p.summary, p.enum) for p in path_params)
    q_raw = spec.get("query") or {}
    if not isinstance(q_raw, dict):
        raise ctx.at("query").fail("expected a mapping of query parameters")
    query = tuple(_param(q, v, ctx.at("query").at(q), product, models) for q, v in q_raw.items())

    extra_models: list[Model] = []
    body = None
    if "body" in spec:
        body, extra_models = _body(spec["body"], ctx.at("body"), product, models, resource, name)
        if body.kind == "model":
            # A model field that the path already carries (subject_id...) is set by the path.
            taken = {p.name for p in path_params} | {q.name for q in query}
            body = attrs.evolve(body, params=tuple(p for p in body.params if p.name not in taken))
    all_params = [p.name for p in path_params] + [p.name for p in query]
    if body is not None:
        all_params += [p.name for p in body.params]
    _unique(all_params, ctx, "parameter name (path, query and body share one namespace)")

    result = None
    if "result" in spec:
        result = parse_type(spec["result"], ctx.at("result"), models)
        if result.kind == "dict":
            raise ctx.at("result").fail("a result cannot be dict[str, str]")
        if (
            product.format == "xml"
            and result.is_model
            and product.model(result.name).xml_tag is None
        ):
            raise ctx.at("result").fail(f"model {result.name} needs xml_tag: to be a result")
    paging = None
    if result is not None and result.is_list:
        paging = _paging(spec.get("paging", {}), ctx.at("paging"), product.paging)
    elif "paging" in spec:
        raise ctx.at("paging").fail("paging applies to list results only")
    result_key = spec.get("result_key")
    if result_key is not None:
        _str(result_key, ctx.at("result_key"))
        if result is None or not result.is_list:
            raise ctx.at("result_key").fail("result_key applies to list results only")
    limit_classes = None
    if "limit_classes" in spec:
        limit_classes = _str_list(spec["limit_classes"], ctx.at("limit_classes"))
        known = {r.name for r in product.rate_limits}
        for i, c in enumerate(limit_classes):
            if c not in known:
                raise ctx.at("limit_classes").at(i).fail(f"expected one of {sorted(known)}")
    examples: dict[str, str] = {}
    if "examples" in spec:
        ex = _mapping(spec["examples"], ctx.at("examples"), ("response", "request"))
        for k, v in ex.items():
            examples[k] = _str(v, ctx.at("examples").at(k))
            _check_fixtures((examples[k],), ctx.at("examples").at(k), fixtures_root, product.name)
        if "response" in examples and result is None:
            raise ctx.at("examples").at("response").fail("a response example needs a result:")
    status = spec.get("status")
    doc_ref = _str(spec["doc"], ctx.at("doc"))
    if doc_ref.startswith("#"):
        doc_url = f"{product.docs}/{doc}{doc_ref}"
    elif doc_ref.startswith("https://"):
        doc_url = doc_ref
    else:
        doc_url = f"{product.docs}/{doc.rsplit('/', 1)[0]}/{doc_ref}"
    return (
        Endpoint(
            name=name,
            method=method,
            path=path,
            summary=_str(spec["summary"], ctx.at("summary")),
            doc_url=doc_url,
            path_params=path_params,
            query=query,
            body=body,
            result=result,
            result_optional=_bool(spec.get("result_optional", False), ctx.at("result_optional")),
            result_key=result_key,
            paging=paging,
            idempotent=_bool(spec["idempotent"], ctx.at("idempotent"))
            if "idempotent" in spec
            else None,
            limit_classes=limit_classes,
            status=_int(status, ctx.at("status"), 100) if status is not None else None,
            examples=examples,
        ),
        extra_models,
    )


def _body(
    raw: Any, ctx: _Ctx, product: Product, models: set[str], resource: str, endpoint: str
) -> tuple[Body, list[Model]]:
    spec = _mapping(
        raw, ctx, ("model", "fields", "raw", "multipart", "content_type", "xml_root", "xml_scalar")
    )
    kinds = [k for k in ("model", "fields", "raw", "multipart") if k in spec]
    if len(kinds) != 1:
        raise ctx.fail("expected exactly one of model:, fields:, raw: true, multipart:")
    kind = kinds[0]
    content_type = spec.get("content_type")
    if content_type is not None:
        _str(content_type, ctx.at("content_type"))
    if kind == "raw":
        if spec["raw"] is not True:
            raise ctx.at("raw").fail("expected true")
        return Body("raw", content_type=content_type), []
    if kind == "multipart":
        return Body("multipart", field_name=_str(spec["multipart"], ctx.at("multipart"))), []
    xml_root = spec.get("xml_root")
    xml_scalar = _bool(spec.get("xml_scalar", False), ctx.at("xml_scalar"))
    if kind == "model":
        mname = _str(spec["model"], ctx.at("model"))
        if mname not in models:
            raise ctx.at("model").fail(f"unknown model {mname!r}")
        model = product.model(mname)
        if product.format == "xml" and model.xml_tag is None and xml_root is None:
            raise ctx.at("model").fail(f"model {mname} needs xml_tag: (or the body xml_root:)")
        params = tuple(
            Param(
                f.name,
                f.type,
                f.wire,
                False,
                f.summary,
                f.enum,
                None,
                f.nullable,
                f.item,
                f.xml_array,
            )
            for f in model.fields
            if not f.read_only
        )
        if not params:
            raise ctx.at("model").fail(f"model {mname} has no writable fields")
        return Body("model", mname, params, xml_root or model.xml_tag), []
    fraw = spec["fields"]
    if not isinstance(fraw, dict) or not fraw:
        raise ctx.at("fields").fail("expected a non-empty mapping of body parameters")
    fields: list[Field] = []
    body_params: list[Param] = []
    for fname, fspec in fraw.items():
        fctx = ctx.at("fields").at(fname)
        if isinstance(fspec, str):
            fspec = {"type": fspec}
        fspec = dict(_mapping(fspec, fctx, (*FIELD_KEYS, "required")))
        required = _bool(fspec.pop("required", False), fctx.at("required"))
        f = _field(fname, fspec, fctx, product, models)
        fields.append(f)
        body_params.append(
            Param(
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
        )
    if product.format == "xml":
        if xml_root is None:
            raise ctx.at("xml_root").fail("an XML body from fields: needs xml_root:")
        _str(xml_root, ctx.at("xml_root"))
        if xml_scalar and len(fields) != 1:
            raise ctx.at("xml_scalar").fail("xml_scalar: true needs exactly one field")
    return Body("fields", "", tuple(body_params), xml_root, xml_scalar, content_type), []


def load_all(specs_root: Path, fixtures_root: Path | None = None) -> list[Product]:
    products = []
    for folder in sorted(p for p in specs_root.iterdir() if (p / "_product.yaml").exists()):
        products.append(load(specs_root, folder.name, fixtures_root))
    return products


__all__ = ["load", "load_all", "parse_type"]
