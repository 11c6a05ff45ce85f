"""The intermediate form: validated specs as attrs classes, ready for the templates."""

from __future__ import annotations

import re

import attrs

SCALARS = (
    "int",
    "str",
    "bool",
    "float",
    "number",
    "int_or_str",
    "decimal",
    "datetime",
    "date",
    "datetime_or_date",
    "json",
)

PY_SCALAR = {
    "int": "int",
    "str": "str",
    "bool": "bool",
    "float": "float",
    "number": "int | float",
    "int_or_str": "int | str",
    "decimal": "Decimal",
    "datetime": "datetime",
    "date": "date",
    "datetime_or_date": "datetime | date",
    "json": "Any",
}


@attrs.frozen
class TypeRef:
    """A spec type: a scalar, a model, ``list[T]`` or ``dict[str, str]``."""

    kind: str  # "scalar" | "model" | "list" | "dict"
    name: str = ""  # scalar or model name
    item: TypeRef | None = None

    @property
    def is_list(self) -> bool:
        return self.kind == "list"

    @property
    def is_model(self) -> bool:
        return self.kind == "model"

    def models(self) -> list[str]:
        if self.kind == "model":
            return [self.name]
        if self.item is not None:
            return self.item.models()
        return []

    def py(self) -> str:
        if self.kind == "scalar":
            return PY_SCALAR[self.name]
        if self.kind == "model":
            return self.name
        if self.kind == "dict":
            return "dict[str, str]"
        assert self.item is not None
        return f"list[{self.item.py()}]"


@attrs.frozen
class Field:
    name: str
    type: TypeRef
    wire: str
    nullable: bool = False
    read_only: bool = False
    secret: bool = False
    summary: str = ""
    item: str | None = None  # XML list item element
    xml_array: bool = True
    required: bool = False  # body parameters only
    enum: tuple[str | int, ...] = ()


@attrs.frozen
class Model:
    name: str
    summary: str
    fields: tuple[Field, ...]
    xml_tag: str | None
    source: str  # spec file, relative to the repo
    examples: tuple[str, ...] = ()
    private: bool = False  # synthesized body models are not exported


@attrs.frozen
class Param:
    name: str
    type: TypeRef
    wire: str
    required: bool = False
    summary: str = ""
    enum: tuple[str | int, ...] = ()
    format: str | None = None
    nullable: bool = False


@attrs.frozen
class PagingSpec:
    style: str
    param: str = ""
    page_size: int = 0


@attrs.frozen
class Body:
    kind: str  # "model" | "fields" | "raw" | "multipart"
    model: str = ""  # model name (synthesized for "fields")
    params: tuple[Param, ...] = ()
    xml_root: str | None = None
    xml_scalar: bool = False
    content_type: str | None = None
    field_name: str = ""  # multipart form field


@attrs.frozen
class Endpoint:
    name: str
    method: str
    path: str
    summary: str
    doc_url: str
    path_params: tuple[Param, ...]
    query: tuple[Param, ...]
    body: Body | None
    result: TypeRef | None
    result_optional: bool
    result_key: str | None
    paging: PagingSpec | None
    idempotent: bool | None
    limit_classes: tuple[str, ...] | None
    status: int | None
    examples: dict[str, str] = attrs.field(factory=dict)

    @property
    def is_list(self) -> bool:
        return self.result is not None and self.result.is_list

    @property
    def absolute(self) -> bool:
        return self.path.startswith("https://")

    def path_fstring(self) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: "{_p_" + m.group(1) + "}", self.path)


@attrs.frozen
class Resource:
    name: str
    summary: str
    doc_url: str
    source: str
    endpoints: tuple[Endpoint, ...]

    @property
    def class_name(self) -> str:
        return "".join(p.capitalize() for p in self.name.split("_")) + "Resource"


@attrs.frozen
class RateLimitSpec:
    name: str
    requests: int
    per_seconds: float


@attrs.frozen
class Product:
    name: str
    client: str
    title: str
    docs: str
    format: str
    wire_case: str
    base_url: str
    base_url_params: tuple[Param, ...]
    auth: tuple[str, ...]
    rate_limits: tuple[RateLimitSpec, ...]
    default_limit_classes: tuple[str, ...]
    paging: PagingSpec
    errors: str
    source: str
    resources: tuple[Resource, ...] = ()
    models: tuple[Model, ...] = ()

    @property
    def credential_hosts(self) -> tuple[str, ...]:
        hosts = set()
        for r in self.resources:
            for e in r.endpoints:
                if e.absolute:
                    hosts.add(e.path.split("/")[2])
        return tuple(sorted(hosts))

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def endpoint_count(self) -> int:
        return sum(len(r.endpoints) for r in self.resources)
