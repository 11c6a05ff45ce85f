"""Read a product's ``_api.json`` (emitted by ``codegen/tables.py``) into small typed records.

The table ships inside the wheel next to the generated client, so the sandbox never needs
the specs. Nothing here knows a product: per-product behaviour lives in ``_conventions``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from aiocamp.errors import ConfigError

PRODUCTS = ("basecamp4", "basecamp_classic", "highrise", "backpack", "harvest")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """A spec type: ``kind`` is scalar, model, list or dict."""

    kind: str
    name: str = ""
    item: TypeInfo | None = None

    @classmethod
    def parse(cls, text: str) -> TypeInfo:
        if text.startswith("list[") and text.endswith("]"):
            return cls("list", item=cls.parse(text[5:-1]))
        if text.startswith("dict["):
            return cls("dict")
        if text[:1].isupper():
            return cls("model", text)
        return cls("scalar", text)

    @property
    def model(self) -> str | None:
        """The model this type carries (directly or as list items), if any."""
        if self.kind == "model":
            return self.name
        if self.item is not None:
            return self.item.model
        return None


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    type: TypeInfo
    wire: str
    nullable: bool = False
    read_only: bool = False
    secret: bool = False
    required: bool = False
    item: str | None = None
    xml_array: bool = True
    enum: tuple[Any, ...] = ()
    format: str | None = None
    xml_repeat: bool = False

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> FieldInfo:
        return cls(
            name=raw["name"],
            type=TypeInfo.parse(raw["type"]),
            wire=raw["wire"],
            nullable=raw.get("nullable", False),
            read_only=raw.get("read_only", False),
            secret=raw.get("secret", False),
            required=raw.get("required", False),
            item=raw.get("item"),
            xml_array=raw.get("xml_array", True),
            enum=tuple(raw.get("enum", ())),
            format=raw.get("format"),
            xml_repeat=raw.get("xml_repeat", False),
        )


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    xml_tag: str | None
    fields: tuple[FieldInfo, ...]
    private: bool = False

    def field(self, name: str) -> FieldInfo | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class Paging:
    style: str
    param: str = ""
    page_size: int = 0
    first_page: int = 1  # Backpack journal: ?n= numbers pages from 0
    size_param: str = ""  # a query parameter setting a smaller page size (?count=)


@dataclass(frozen=True, slots=True)
class BodyInfo:
    kind: str
    model: str
    params: tuple[FieldInfo, ...]
    xml_root: str | None
    xml_scalar: bool
    content_type: str | None
    xml_list: bool = False


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    resource: str
    name: str
    method: str
    path: str
    path_params: tuple[FieldInfo, ...]
    query: tuple[FieldInfo, ...]
    body: BodyInfo | None
    result: TypeInfo | None
    result_optional: bool
    result_key: str | None
    paging: Paging | None
    limit_classes: tuple[str, ...]
    status: int | None
    envelope: str | None = None
    follow_location: bool = False
    #: The path starts with ``/{token}`` (Backpack): the credential, not a parameter.
    url_token: bool = False

    @property
    def key(self) -> str:
        return f"{self.resource}.{self.name}"

    @property
    def placeholders(self) -> list[str]:
        names = _PLACEHOLDER.findall(self.path)
        return [n for n in names if n != "token"] if self.url_token else names

    @property
    def is_list(self) -> bool:
        return self.result is not None and self.result.kind == "list"

    def param(self, name: str) -> FieldInfo | None:
        for p in self.path_params:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    requests: int
    per_seconds: float


@dataclass(frozen=True, eq=False)
class ApiTable:
    """Everything the sandbox knows about one product."""

    name: str
    client: str
    title: str
    format: str
    wire_case: str
    base_url: str
    base_url_params: tuple[FieldInfo, ...]
    auth: tuple[str, ...]
    rate_limits: dict[str, RateLimitInfo]
    default_limit_classes: Any  # a list, or by method: {"GET": [...], "*": [...]}
    paging: Paging
    errors: str
    models: dict[str, ModelInfo]
    endpoints: tuple[EndpointInfo, ...]
    _get_by_path: dict[str, EndpointInfo] = field(default_factory=dict, repr=False)

    def model(self, name: str) -> ModelInfo:
        return self.models[name]

    def get_endpoint(self, path: str) -> EndpointInfo | None:
        """The GET endpoint with exactly this path template, if any."""
        if not self._get_by_path:
            for e in self.endpoints:
                if e.method == "GET":
                    self._get_by_path.setdefault(e.path, e)
        return self._get_by_path.get(path)


def _paging(raw: dict[str, Any] | None) -> Paging | None:
    if raw is None:
        return None
    return Paging(
        raw["style"],
        raw.get("param", ""),
        raw.get("page_size", 0),
        raw.get("first_page", 1),
        raw.get("size_param", ""),
    )


def _body(raw: dict[str, Any] | None) -> BodyInfo | None:
    if raw is None:
        return None
    return BodyInfo(
        kind=raw["kind"],
        model=raw.get("model", ""),
        params=tuple(FieldInfo.parse(p) for p in raw.get("params", ())),
        xml_root=raw.get("xml_root"),
        xml_scalar=raw.get("xml_scalar", False),
        content_type=raw.get("content_type"),
        xml_list=raw.get("xml_list", False),
    )


def parse_table(raw: dict[str, Any]) -> ApiTable:
    p = raw["product"]
    paging = _paging(p["paging"])
    assert paging is not None
    return ApiTable(
        name=p["name"],
        client=p["client"],
        title=p["title"],
        format=p["format"],
        wire_case=p["wire_case"],
        base_url=p["base_url"],
        base_url_params=tuple(FieldInfo.parse(x) for x in p.get("base_url_params", ())),
        auth=tuple(p["auth"]),
        rate_limits={
            k: RateLimitInfo(int(v["requests"]), float(v["per_seconds"]))
            for k, v in p["rate_limits"].items()
        },
        default_limit_classes=p["default_limit_classes"],
        paging=paging,
        errors=p["errors"],
        models={
            name: ModelInfo(
                name=name,
                xml_tag=m.get("xml_tag"),
                fields=tuple(FieldInfo.parse(f) for f in m["fields"]),
                private=m.get("private", False),
            )
            for name, m in raw["models"].items()
        },
        endpoints=tuple(
            EndpointInfo(
                resource=e["resource"],
                name=e["name"],
                method=e["method"],
                path=e["path"],
                path_params=tuple(FieldInfo.parse(x) for x in e["path_params"]),
                query=tuple(FieldInfo.parse(x) for x in e["query"]),
                body=_body(e.get("body")),
                result=TypeInfo.parse(e["result"]) if e.get("result") else None,
                result_optional=e.get("result_optional", False),
                result_key=e.get("result_key"),
                paging=_paging(e.get("paging")),
                limit_classes=tuple(e["limit_classes"]),
                status=e.get("status"),
                envelope=e.get("envelope"),
                follow_location=e.get("follow_location", False),
                url_token=e.get("url_token", False),
            )
            for e in raw["endpoints"]
        ),
    )


def available_products() -> list[str]:
    """Products whose generated package ships an ``_api.json``."""
    found = []
    for name in PRODUCTS:
        try:
            if resources.files(f"aiocamp.{name}").joinpath("_api.json").is_file():
                found.append(name)
        except ModuleNotFoundError:
            continue
    return found


@cache
def load_table(product: str) -> ApiTable:
    """The table of ``product`` (cached: tables are immutable)."""
    if product not in PRODUCTS:
        raise ConfigError(f"unknown product {product!r} (known: {', '.join(PRODUCTS)})")
    try:
        text = resources.files(f"aiocamp.{product}").joinpath("_api.json").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        have = ", ".join(available_products()) or "none"
        raise ConfigError(f"no sandbox table for {product!r} (have: {have})") from exc
    return parse_table(json.loads(text))
