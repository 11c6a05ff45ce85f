"""The intermediate form: validated specs as attrs classes, ready for the templates."""

from __future__ import annotations

import attrs


@attrs.frozen
class Scalar:
    """One scalar spec type: how it is spelt in specs and in generated Python."""

    name: str
    #: The annotation in generated code.
    py: str
    #: ``(module, name)`` imports the annotation needs.
    imports: tuple[tuple[str, str], ...] = ()
    #: The runtime class a result of this type is decoded into (None: not a result type).
    result_class: str | None = None


#: The scalar type registry: the loader parses spec types against it, the renderer writes
#: annotations and imports from it, tests check every entry is documented and exercised.
SCALAR_TYPES: dict[str, Scalar] = {
    s.name: s
    for s in (
        Scalar("int", "int", result_class="int"),
        Scalar("str", "str", result_class="str"),
        Scalar("bool", "bool", result_class="bool"),
        Scalar("float", "float", result_class="float"),
        Scalar("number", "int | float"),
        Scalar("int_or_str", "int | str"),
        Scalar("decimal", "Decimal", (("decimal", "Decimal"),), "Decimal"),
        Scalar("datetime", "datetime", (("datetime", "datetime"),), "datetime"),
        Scalar("date", "date", (("datetime", "date"),), "date"),
        Scalar(
            "datetime_or_date", "datetime | date", (("datetime", "datetime"), ("datetime", "date"))
        ),
        Scalar("json", "Any", (("typing", "Any"),)),
        Scalar("bytes", "bytes", result_class="bytes"),
    )
}

SCALARS = tuple(SCALAR_TYPES)
PY_SCALAR = {name: s.py for name, s in SCALAR_TYPES.items()}


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
    item: str | None = None  # XML list body parameters: element name of each item
    xml_array: bool = True


@attrs.frozen
class PagingSpec:
    style: str
    param: str = ""
    page_size: int = 0
    first_page: int = 1
    size_param: str = ""


@attrs.frozen
class Body:
    kind: str  # "model" | "fields" | "raw" | "multipart"
    model: str = ""  # the model whose writable fields are the parameters ("model" bodies)
    params: tuple[Param, ...] = ()
    xml_root: str | None = None
    xml_scalar: bool = False  # the root element's text is the one field's value
    content_type: str | None = None
    field_name: str = ""  # multipart form field
    xml_list: bool = False  # the one list field is the root element (type="array")
    json_root: bool = True  # JSON mirroring XML: wrap the fields in xml_root too


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
    #: Rate-limit classes, when they differ from the product's default for every method.
    limit_classes: tuple[str, ...] | None
    status: int | None
    examples: dict[str, str] = attrs.field(factory=dict)
    #: JSON list results under ``result_key``: the model of the reply's other fields.
    envelope: str | None = None
    #: The reply names the new record in ``Location``: the method fetches it (two requests).
    follow_location: bool = False
    #: The path starts with ``/{token}``: the client's body token goes there (dropped under
    #: other auth), and the body is sent without the ``<request><token>`` wrapper.
    url_token: bool = False
    #: False for a GET that changes state (Harvest's timer toggle): never served from cache.
    cache: bool = True
    #: Products whose JSON mirrors XML: the XML element names of this endpoint use dashes
    #: (JSON always uses underscores), so the runtime renames keys between the two.
    xml_dashes: bool = False
    #: A replace-style PUT: also a read-change-write method (see :class:`Patch`).
    patch: Patch | None = None

    @property
    def is_list(self) -> bool:
        return self.result is not None and self.result.is_list

    @property
    def absolute(self) -> bool:
        return self.path.startswith("https://")

    @property
    def pages_by_number(self) -> bool:
        """List methods take a starting ``page=`` (APIs numbering their pages)."""
        return self.paging is not None and self.paging.style in ("page", "link")


@attrs.frozen
class Patch:
    """A read-change-write method generated beside a replace-style PUT."""

    name: str
    #: (PUT parameter wire name, where the record holds its value) where they differ.
    sources: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Resource:
    name: str
    summary: str
    doc_url: str
    source: str
    endpoints: tuple[Endpoint, ...]
    wire_case: str = ""

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
    #: Classes of endpoints without their own, by method (``"*"``: every other method).
    default_limit_classes: tuple[str, ...]
    paging: PagingSpec
    errors: str
    source: str
    #: Methods whose endpoints draw from other classes by default, e.g. ``{"GET": ("reads",)}``.
    limit_classes_by_method: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: Formats the client offers (``format=`` argument), the first being its default.
    formats: tuple[str, ...] = ()
    #: JSON replies and bodies follow the XML structure (records wrapped in their element
    #: name, lists as arrays of wrapped records, underscores where XML has dashes).
    json_mirrors_xml: bool = False
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
