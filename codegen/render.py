"""Render the intermediate form through the Jinja templates into Python packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jinja2

from .ir import Endpoint, Field, Model, Param, Product, TypeRef

TEMPLATES = Path(__file__).parent / "templates"
PRODUCT_PACKAGES = ("basecamp4", "basecamp_classic", "highrise", "backpack", "harvest")

_SCALAR_CLASS = {
    "int": ("int", "to_int"),
    "str": ("str", "to_str"),
    "bool": ("bool", "to_bool"),
    "float": ("float", "to_float"),
    "decimal": ("Decimal", "to_decimal"),
    "datetime": ("datetime", "to_datetime"),
    "date": ("date", "to_date"),
}


def docline(text: str) -> str:
    """One docstring-safe line."""
    return " ".join(str(text).replace("\\", "\\\\").replace('"""', "'''").split())


def _py_type(t: TypeRef, model_prefix: str = "", builtins: bool = False) -> str:
    container = "builtins." if builtins else ""
    if t.kind == "scalar":
        from .ir import PY_SCALAR

        return PY_SCALAR[t.name]
    if t.kind == "model":
        return model_prefix + t.name
    if t.kind == "dict":
        return f"{container}dict[str, str]"
    assert t.item is not None
    return f"{container}list[{_py_type(t.item, model_prefix, builtins)}]"


def _item_expr(t: TypeRef, var: str, label: str, model_prefix: str = "") -> str:
    """Expression converting one already-fetched value ``var`` of type ``t``."""
    if t.kind == "scalar":
        if t.name == "json":
            return var
        if t.name == "datetime_or_date":
            return f"_rt.to_datetime_or_date({var}, {label!r})"
        cls, conv = _SCALAR_CLASS[t.name]
        return f"{var} if {var}.__class__ is {cls} else _rt.{conv}({var}, {label!r})"
    if t.kind == "model":
        m = model_prefix + t.name
        fallback = f"_rt.to_model({m}.from_wire, {var}, {label!r})"
        return f"{m}.from_wire({var}) if {var}.__class__ is dict else {fallback}"
    raise ValueError(f"unsupported nested type {t}")


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
        )
        self.env.filters["docline"] = docline
        self.env.filters["pyrepr"] = repr
        self.env.filters["pytuple"] = lambda v: repr(tuple(v))
        self.env.globals.update(
            decode_field=self.decode_field,
            encode_field=self.encode_field,
            endpoint_method=self.endpoint_method,
        )

    # -- models ---------------------------------------------------------------------------

    def decode_field(self, model: Model, f: Field) -> str:
        """Statements decoding one field into ``obj`` (class test first: the common case)."""
        label = f"{model.name}.{f.name}"
        lines = [f"        v = g({f.wire!r})"]
        t = f.type
        if t.kind == "scalar" and t.name == "datetime_or_date":
            lines.append("        if v is not None:")
            lines.append(f"            v = _rt.to_datetime_or_date(v, {label!r})")
        elif t.kind == "scalar":
            if t.name != "json":
                cls, conv = _SCALAR_CLASS[t.name]
                lines.append(f"        if v.__class__ is not {cls} and v is not None:")
                lines.append(f"            v = _rt.{conv}(v, {label!r})")
        elif t.kind == "model":
            lines.append("        if v is not None:")
            lines.append(f"            v = {_item_expr(t, 'v', label)}")
        elif t.kind == "list":
            assert t.item is not None
            lines.append("        if v is not None:")
            if self.product.format == "xml":
                lines.append("            if v.__class__ is dict:")
                lines.append(
                    f"                v = _rt.xml_container_list(v, {f.item!r}, {label!r})"
                )
            each = _item_expr(t.item, "x", label)
            lines.append(f"            v = [{each} for x in _rt.expect_list(v, {label!r})]")
        lines.append(f"        obj.{f.name} = v")
        return "\n".join(lines)

    def encode_field(self, model: Model, f: Field) -> str:
        t = f.type
        v = f"w_{f.name}"
        if t.kind == "model":
            expr = f"{v}.to_wire()"
        elif t.kind == "list":
            assert t.item is not None
            items = f"[x.to_wire() for x in {v}]" if t.item.kind == "model" else f"list({v})"
            if self.product.format == "xml":
                if f.xml_array:
                    expr = f"XmlArray({items}, {f.item!r})"
                else:
                    expr = f"_rt.xml_container({items}, {f.item!r})"
            else:
                expr = items
        else:
            expr = v
        lines = [
            f"        {v} = self.{f.name}",
        ]
        if expr == v:
            lines += [
                f"        if {v} is not None or {f.wire!r} not in absent:",
                f"            out[{f.wire!r}] = {v}",
            ]
        else:
            lines += [
                f"        if {v} is not None:",
                f"            out[{f.wire!r}] = {expr}",
                f"        elif {f.wire!r} not in absent:",
                f"            out[{f.wire!r}] = None",
            ]
        return "\n".join(lines)

    # -- endpoints ------------------------------------------------------------------------

    def _annotation(self, p: Param, optional: bool) -> str:
        if p.enum:
            base = "Literal[" + ", ".join(repr(v) for v in p.enum) + "]"
        else:
            base = _py_type(p.type, "_m.", builtins=True)
        if optional:
            return f"{base} | None | _rt.UnsetType"
        return base

    def _result_type(self, e: Endpoint) -> str:
        if e.result is None:
            return "None"
        if e.result.is_list:
            assert e.result.item is not None
            return f"PageIterator[{_py_type(e.result.item, '_m.', builtins=True)}]"
        base = _py_type(e.result, "_m.", builtins=True)
        if e.result.kind == "scalar" and e.result.name == "json":
            return "Any"
        return f"{base} | None" if e.result_optional else base

    def endpoint_method(self, e: Endpoint) -> str:
        p = self.product
        sig = ["        self,"]
        for pp in e.path_params:
            sig.append(f"        {pp.name}: {self._annotation(pp, False)},")
        kw: list[str] = []
        body_params: list[Param] = list(e.body.params) if e.body is not None else []
        required = [q for q in e.query if q.required] + [b for b in body_params if b.required]
        optional = [q for q in e.query if not q.required] + [
            b for b in body_params if not b.required
        ]
        if e.body is not None and e.body.kind in ("raw", "multipart"):
            kw.append("        data: bytes,")
            if e.body.kind == "multipart":
                kw.append("        filename: str,")
            media = e.body.content_type or "application/octet-stream"
            kw.append(f"        content_type: str = {media!r},")
        for q in required:
            kw.append(f"        {q.name}: {self._annotation(q, False)},")
        for q in optional:
            kw.append(f"        {q.name}: {self._annotation(q, True)} = _rt.UNSET,")
        if e.is_list:
            kw.append("        max_pages: int | None = None,")
            kw.append("        max_items: int | None = None,")
        if kw:
            sig.append("        *,")
            sig.extend(kw)
        is_async = not e.is_list
        head = (
            f"    {'async ' if is_async else ''}def {e.name}(\n"
            + "\n".join(sig)
            + f"\n    ) -> {self._result_type(e)}:"
        )

        doc = [f'        """{e.method} {e.path}', "", f"        {docline(e.summary)}"]
        args = [(pp.name, pp.summary or f"Path parameter {pp.wire}.") for pp in e.path_params]
        args += [(q.name, q.summary or f"Query parameter {q.wire}.") for q in e.query]
        args += [(b.name, b.summary or f"Body field {b.wire}.") for b in body_params]
        if e.body is not None and e.body.kind in ("raw", "multipart"):
            args.append(("data", "The file's bytes, sent as the body."))
            args.append(("content_type", "Media type of data."))
        if e.is_list:
            args.append(("max_pages", "Stop after this many pages."))
            args.append(("max_items", "Stop after this many records."))
        if args:
            doc += ["", "        Args:"]
            doc += [f"            {n}: {docline(s)}" for n, s in args]
        doc += ["", f"        Docs: {e.doc_url}", '        """']

        code: list[str] = []
        for pp in e.path_params:
            code.append(f"        _p_{pp.name} = _rt.path_param({pp.name}, {pp.name!r})")
        path_expr = f"f{e.path_fstring()!r}" if e.path_params else repr(e.path)
        code.append(f"        _path = {path_expr}")
        query_arg = "()"
        if e.query:
            code.append("        _query: builtins.list[tuple[str, str]] = []")
            for q in e.query:
                fmt = f", {q.format!r}" if q.format else ""
                code.append(f"        _rt.add_query(_query, {q.wire!r}, {q.name}{fmt})")
            query_arg = "tuple(_query)"
        extra_args: list[str] = []
        if e.body is not None:
            b = e.body
            if b.kind == "raw":
                code.append("        _rt.expect_bytes(data, 'data')")
                extra_args += ["raw_body=data", "content_type=content_type"]
            elif b.kind == "multipart":
                code.append("        _rt.expect_bytes(data, 'data')")
                extra_args.append(f"multipart=({b.field_name!r}, filename, data, content_type)")
            else:
                params = ", ".join(f"{x.name!r}: {x.name}" for x in b.params)
                code.append(f"        _record = _rt.build(_m.{b.model}, {{{params}}})")
                if p.format == "xml":
                    if b.xml_scalar:
                        only = b.params[0]
                        value = f"_record.to_wire().get({only.wire!r})"
                        code.append(f"        _body = {{{b.xml_root!r}: {value}}}")
                    else:
                        code.append(f"        _body = {{{b.xml_root!r}: _record.to_wire()}}")
                else:
                    code.append("        _body = _record.to_wire()")
                extra_args.append("body=_body")
                if b.content_type:
                    extra_args.append(f"content_type={b.content_type!r}")
        if e.limit_classes is not None:
            extra_args.append(f"limit_classes={tuple(e.limit_classes)!r}")
        if e.idempotent is not None:
            extra_args.append(f"idempotent={e.idempotent!r}")
        args_text = "".join(f", {a}" for a in extra_args)
        code.append(f"        _request = Request({e.method!r}, _path, {query_arg}{args_text})")

        r = e.result
        if r is None:
            code.append("        await self._session.request(_request)")
        elif r.is_list:
            assert r.item is not None
            pg = e.paging
            assert pg is not None
            if pg.style in ("offset", "page"):
                paging = f"Paging({pg.style!r}, {pg.param!r}, {pg.page_size})"
            else:
                paging = f"Paging({pg.style!r})"
            if p.format == "xml":
                extract = "_rt.xml_items"
            elif e.result_key:
                extract = f"lambda data: _rt.json_items(data, {e.result_key!r})"
            else:
                extract = "_rt.json_items"
            if r.item.kind == "model":
                convert = f"_rt.model_converter(_m.{r.item.name}.from_wire, {r.item.name!r})"
            elif r.item.kind == "scalar" and r.item.name != "json":
                cls, conv = _SCALAR_CLASS[r.item.name]
                convert = f"_rt.scalar_converter({cls}, _rt.{conv}, {e.name!r})"
            else:
                convert = "_rt.identity"
            code.append("        return PageIterator(")
            code.append("            self._session,")
            code.append("            _request,")
            code.append(f"            paging={paging},")
            code.append(f"            extract={extract},")
            code.append(f"            convert={convert},")
            code.append("            max_pages=max_pages,")
            code.append("            max_items=max_items,")
            code.append("        )")
        else:
            code.append("        _response = await self._session.request(_request)")
            if e.result_optional:
                code.append("        if _response.data is None:")
                code.append("            return None")
            if r.kind == "model":
                model = p.model(r.name)
                if p.format == "xml":
                    unwrap = f"lambda data: _rt.xml_root(data, {model.xml_tag!r})"
                else:
                    unwrap = "_rt.expect_object"
                code.append(
                    f"        return _rt.decode_result(_response, {unwrap}, _m.{r.name}.from_wire)"
                )
            elif r.kind == "scalar" and r.name == "json":
                code.append("        return _response.data")
            else:
                cls, conv = _SCALAR_CLASS[r.name] if r.kind == "scalar" else ("", "")
                if not cls:
                    raise ValueError(f"unsupported result type {r} of {e.name}")
                convert = f"_rt.scalar_converter({cls}, _rt.{conv}, {e.name!r})"
                unwrap = "_rt.xml_value" if p.format == "xml" else "_rt.identity"
                code.append(f"        return _rt.decode_result(_response, {unwrap}, {convert})")
        return head + "\n" + "\n".join(doc) + "\n" + "\n".join(code)

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
