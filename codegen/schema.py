"""The spec schema, declared once: one attrs class per YAML mapping of ``specs/README.md``.

YAML is structured into these classes by a strict cattrs converter: unknown keys are
rejected, scalars are never coerced (``"201"`` is not an integer, ``1`` is not a string),
names and paths are checked where they are read, and every problem of a file is reported
with its key path in one run. What needs more than one file (model references, limit
classes, fixtures) is the loader's job.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from typing import Any, Literal, NewType, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from aiocamp.core._errors import SpecError

__all__ = [
    "AUTH_STRATEGIES",
    "METHODS",
    "BodyFieldSpec",
    "BodySpec",
    "CommonSpec",
    "EndpointSpec",
    "ExamplesSpec",
    "FieldSpec",
    "ModelSpec",
    "PagingSpec",
    "PatchSpec",
    "ParamSpec",
    "ProductSpec",
    "RateLimitSpec",
    "ResourceSpec",
    "SpecProblems",
    "structure",
]

# -- value rules ---------------------------------------------------------------------------
# Marker types: the converter checks the rule when it reads a value of that type.

#: A snake_case Python identifier that is not a keyword (names of methods, parameters...).
Ident = NewType("Ident", str)
#: A CamelCase class name.
ClassName = NewType("ClassName", str)
#: A non-empty string.
Text = NewType("Text", str)
#: An ``https://`` URL (template).
HttpsUrl = NewType("HttpsUrl", str)
#: An endpoint path: ``/...`` or an ``https://`` URL, ``{name}`` placeholders, no query.
PathTemplate = NewType("PathTemplate", str)
#: An integer >= 1.
Positive = NewType("Positive", int)
#: A number > 0.
PositiveNumber = NewType("PositiveNumber", float)
#: An HTTP status code.
Status = NewType("Status", int)
#: An enum value: a string or an integer.
EnumValue = NewType("EnumValue", str)

METHODS = ("GET", "POST", "PUT", "DELETE")
Method = Literal["GET", "POST", "PUT", "DELETE"]
AUTH_STRATEGIES = ("basic_token", "basic_password", "bearer", "body_token")
AuthStrategy = Literal["basic_token", "basic_password", "bearer", "body_token"]
PagingStyle = Literal["link", "offset", "page", "continued_at", "none"]

IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
PLACEHOLDER = re.compile(r"\{([^}]*)\}")


class Invalid(ValueError):
    """A value breaks a schema rule; the message says what was expected."""


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected a non-empty string, got {value!r}")
    return value


def _ident(value: object) -> str:
    text = _text(value)
    if not IDENT.match(text) or keyword.iskeyword(text):
        raise Invalid(f"expected a snake_case Python identifier (not a keyword), got {text!r}")
    return text


def _class_name(value: object) -> str:
    text = _text(value)
    if not CLASS_NAME.match(text):
        raise Invalid(f"expected a CamelCase name, got {text!r}")
    return text


def _https(value: object) -> str:
    text = _text(value)
    if not text.startswith("https://"):
        raise Invalid(f"expected an https:// URL, got {text!r}")
    return text


def _path(value: object) -> str:
    text = _text(value)
    if not (text.startswith("/") or text.startswith("https://")):
        raise Invalid("expected a path starting with / (or an https:// URL)")
    if "?" in text:
        raise Invalid("expected no query string in the path; use query:")
    for name in PLACEHOLDER.findall(text):
        if not IDENT.match(name) or keyword.iskeyword(name):
            raise Invalid(f"expected {{placeholders}} to be snake_case identifiers, got {name!r}")
    return text


def _int(value: object, minimum: int, maximum: int | None = None) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    if not ok or (maximum is not None and value > maximum):  # type: ignore[operator]
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise Invalid(f"expected an integer >= {minimum}{upper}, got {value!r}")
    return value  # type: ignore[return-value]


def _positive_number(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise Invalid(f"expected a number > 0, got {value!r}")
    return float(value)


def _enum_value(value: object) -> str | int:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Invalid(f"expected a string or integer, got {value!r}")
    return value


def _strict(cls: type[Any], expected: str) -> Callable[[object, object], Any]:
    def check(value: object, _: object) -> Any:
        if type(value) is not cls:
            raise Invalid(f"expected {expected}, got {value!r}")
        return value

    return check


# -- the schema ----------------------------------------------------------------------------


@attrs.frozen
class RateLimitSpec:
    """One entry of ``rate_limits:``: N requests per W seconds."""

    requests: Positive
    per_seconds: PositiveNumber


@attrs.frozen
class PagingSpec:
    """``paging:`` of a product or of a list endpoint (``none`` is a shorthand)."""

    style: PagingStyle | None = None  # endpoints: the product's style when left out
    param: Text | None = None
    page_size: Positive | None = None
    first_page: int | None = None  # page paging: the number of the first page (default 1)
    size_param: Text | None = None  # query parameter a caller may set the page size with


@attrs.frozen
class ParamSpec:
    """A path, query or base-URL parameter (a type name alone is a shorthand)."""

    type: Text = Text("str")
    required: bool = False
    summary: str = ""
    enum: list[EnumValue] | None = None
    format: Text | None = None
    wire: Text | None = None
    nullable: bool = False


@attrs.frozen
class FieldSpec:
    """A model field (a type name alone is a shorthand)."""

    type: Text
    wire: Text | None = None
    nullable: bool = False
    read_only: bool = False
    secret: bool = False
    summary: str = ""
    item: Text | None = None
    xml_array: bool = True
    enum: list[EnumValue] | None = None


@attrs.frozen
class BodyFieldSpec(FieldSpec):
    """A body parameter under ``body.fields``: a field that may be required."""

    required: bool = False
    xml_repeat: bool = False


@attrs.frozen
class ModelSpec:
    """One entry under ``models:``."""

    fields: dict[Ident, FieldSpec]
    summary: Text | None = None
    xml_tag: Text | None = None
    examples: list[Text] = attrs.Factory(list)


@attrs.frozen
class BodySpec:
    """``body:``: exactly one of ``model``, ``fields``, ``raw`` and ``multipart``."""

    model: ClassName | None = None
    fields: dict[Ident, BodyFieldSpec] | None = None
    raw: Literal[True] | None = None
    multipart: Text | None = None
    content_type: Text | None = None
    xml_root: Text | None = None
    xml_scalar: bool = False
    xml_list: bool = False
    json_root: bool = True


@attrs.frozen
class ExamplesSpec:
    """``examples:`` of an endpoint: fixture files under ``tests/fixtures/<product>/``."""

    response: Text | None = None
    request: Text | None = None


@attrs.frozen
class PatchSpec:
    """``patch:`` of a replace-style PUT: also generate a read-change-write method."""

    #: Name of the generated method.
    name: Ident = Ident("patch")
    #: PUT parameter (wire name) -> where the record holds its current value, when the
    #: names differ; ``a[].b`` takes ``b`` of every item of list ``a``.
    sources: dict[Text, Text] = attrs.Factory(dict)


@attrs.frozen
class EndpointSpec:
    """One entry under ``endpoints:``."""

    method: Method
    path: PathTemplate
    summary: Text
    doc: Text
    path_params: dict[Ident, ParamSpec] = attrs.Factory(dict)
    query: dict[Ident, ParamSpec] = attrs.Factory(dict)
    body: BodySpec | None = None
    result: Text | None = None
    result_optional: bool = False
    result_key: Text | None = None
    envelope: ClassName | None = None
    paging: PagingSpec | None = None
    idempotent: bool | None = None
    limit_classes: list[Ident] | None = None
    status: Status | None = None
    examples: ExamplesSpec | None = None
    follow_location: bool = False
    url_token: bool = False
    cache: bool = True
    patch: PatchSpec | None = None


@attrs.frozen
class ResourceSpec:
    """A resource file: ``specs/<product>/<resource>.yaml``."""

    resource: Ident
    summary: Text
    doc: Text
    endpoints: dict[Ident, EndpointSpec]
    models: dict[ClassName, ModelSpec] = attrs.Factory(dict)
    wire_case: Literal["kebab", "snake"] | None = None


@attrs.frozen
class CommonSpec:
    """A file of shared models: ``specs/<product>/_*.yaml`` (no endpoints)."""

    models: dict[ClassName, ModelSpec]


#: ``default_limit_classes:`` is a list (every method) or a mapping by method (``"*"``:
#: every method not listed), e.g. ``{GET: [reads], "*": [writes]}``.
LimitDefaults = Union[list[Ident], dict[Literal["GET", "POST", "PUT", "DELETE", "*"], list[Ident]]]  # noqa: UP007


@attrs.frozen
class ProductSpec:
    """``specs/<product>/_product.yaml``."""

    product: Ident
    client: ClassName
    title: Text
    docs: HttpsUrl
    format: Literal["xml", "json"]
    base_url: HttpsUrl
    auth: list[AuthStrategy]
    rate_limits: dict[Ident, RateLimitSpec]
    paging: PagingSpec
    wire_case: Literal["kebab", "snake"] | None = None
    base_url_params: dict[Ident, ParamSpec] = attrs.Factory(dict)
    default_limit_classes: LimitDefaults = attrs.Factory(lambda: [Ident("default")])
    errors: Literal["http", "backpack_envelope"] = "http"
    formats: list[Literal["xml", "json"]] | None = None
    json_mirrors_xml: bool = False


#: Every schema class, for the documentation test.
SCHEMA: tuple[type[Any], ...] = (
    ProductSpec,
    RateLimitSpec,
    PagingSpec,
    ParamSpec,
    ResourceSpec,
    CommonSpec,
    ModelSpec,
    FieldSpec,
    BodyFieldSpec,
    EndpointSpec,
    BodySpec,
    ExamplesSpec,
)

# -- the converter -------------------------------------------------------------------------

converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)

for _marker, _rule in (
    (Ident, _ident),
    (ClassName, _class_name),
    (Text, _text),
    (HttpsUrl, _https),
    (PathTemplate, _path),
    (Positive, lambda v: _int(v, 1)),
    (PositiveNumber, _positive_number),
    (Status, lambda v: _int(v, 100, 599)),
    (EnumValue, _enum_value),
):
    converter.register_structure_hook(_marker, lambda v, _t, rule=_rule: rule(v))
converter.register_structure_hook(str, _strict(str, "a string"))
converter.register_structure_hook(bool, _strict(bool, "true or false"))
converter.register_structure_hook(int, lambda v, _t: _int(v, -(2**63)))


def _is_literal(t: Any) -> bool:
    return get_origin(t) is Literal


def _literal(t: Any) -> Callable[[object, object], Any]:
    allowed = get_args(t)

    def check(value: object, _: object) -> Any:
        for a in allowed:
            if value == a and type(value) is type(a):
                return value
        raise Invalid(f"expected one of {', '.join(str(a) for a in allowed)}; got {value!r}")

    return check


converter.register_structure_hook_factory(_is_literal, _literal)


def _is_mapping(t: Any) -> bool:
    return get_origin(t) is dict


def _mapping(t: Any) -> Callable[[object, object], Any]:
    """Mappings check their keys too and report each entry's problems under its key."""
    key_type, value_type = get_args(t)

    def structure(value: object, _: object) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping, got {type(value).__name__}")
        out: dict[Any, Any] = {}
        errors: list[Exception] = []
        for key, item in value.items():
            try:
                name = converter.structure(key, key_type)
                out[name] = converter.structure(item, value_type)
            except Exception as exc:
                exc.add_note(IterableValidationNote(f"key {key!r}", key, value_type))
                errors.append(exc)
        if errors:
            raise IterableValidationError("invalid mapping entries", errors, t)
        return out

    return structure


converter.register_structure_hook_factory(_is_mapping, _mapping)


def _limit_defaults(value: object, _: object) -> Any:
    if isinstance(value, list):
        return converter.structure(value, list[Ident])
    methods = dict[Literal["GET", "POST", "PUT", "DELETE", "*"], list[Ident]]
    return converter.structure(value, methods)


converter.register_structure_hook_func(lambda t: t == LimitDefaults, _limit_defaults)

#: Shorthands: a bare type name for a field or parameter, ``none`` for paging.
_SHORTHAND: dict[type[Any], Callable[[Any], Any]] = {
    FieldSpec: lambda v: {"type": v},
    BodyFieldSpec: lambda v: {"type": v},
    ParamSpec: lambda v: {"type": v},
    PagingSpec: lambda v: {"style": v} if v == "none" else v,
}


def _schema_class(cls: type[Any]) -> Callable[[object, object], Any]:
    generated = make_dict_structure_fn(cls, converter)
    shorthand = _SHORTHAND.get(cls)

    def structure(value: object, _: object) -> Any:
        if shorthand is not None and isinstance(value, str):
            value = shorthand(value)
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping, got {type(value).__name__}")
        return generated(value, cls)

    return structure


for _cls in SCHEMA:
    converter.register_structure_hook(_cls, _schema_class(_cls))


# -- problems ------------------------------------------------------------------------------


class SpecProblems(SpecError):
    """Every problem found in one run; behaves as the first, lists them all."""

    def __init__(self, problems: list[SpecError]) -> None:
        first = problems[0]
        super().__init__(first.file, first.key_path, first.expected)
        self.problems = problems
        if len(problems) > 1:
            lines = "\n".join(f"  {p}" for p in problems)
            self.args = (f"{len(problems)} problems:\n{lines}",)


def raise_problems(problems: list[SpecError]) -> None:
    if problems:
        raise SpecProblems(problems) if len(problems) > 1 else problems[0]


def _dotted(path: list[Any]) -> str:
    return ".".join(str(p) for p in path)


def _problems(exc: BaseException, file: str, path: list[Any]) -> list[SpecError]:
    if isinstance(exc, BaseExceptionGroup):
        found: list[SpecError] = []
        for sub in exc.exceptions:
            where = list(path)
            for note in getattr(sub, "__notes__", ()):
                if isinstance(note, AttributeValidationNote):
                    where.append(note.name)
                elif isinstance(note, IterableValidationNote):
                    where.append(note.index)
            found += _problems(sub, file, where)
        return found
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = ", ".join(a.name for a in attrs.fields(exc.cl))
        return [
            SpecError(file, _dotted([*path, key]), f"unknown key; expected one of {allowed}")
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, KeyError):
        return [SpecError(file, _dotted(path), "required key is missing")]
    if isinstance(exc, Invalid):
        return [SpecError(file, _dotted(path), str(exc))]
    return [SpecError(file, _dotted(path), f"a valid value ({type(exc).__name__}: {exc})")]


S = TypeVar("S")


def structure(raw: object, cls: type[S], file: str) -> tuple[S | None, list[SpecError]]:
    """``raw`` YAML data as ``cls``, or None and every problem found (file and key path)."""
    try:
        return converter.structure(raw, cls), []
    except Exception as exc:
        return None, _problems(exc, file, [])


def documented_keys() -> dict[str, tuple[str, ...]]:
    """Every schema class with its keys (the README must document each of them)."""
    return {cls.__name__: tuple(a.name for a in attrs.fields(cls)) for cls in SCHEMA}
