"""The wire codec of every generated model, built at run time, once per class.

A generated model is only a declaration: an attrs class with one line per field, metadata
only where the wire name breaks the product's case convention (:func:`wire`). The first
time a class is decoded or encoded, :func:`codec_of` reads its attrs fields and resolved
types, writes the source of a decode and an encode function for exactly that class,
compiles it and registers the source in :mod:`linecache`, so a traceback through a
decoder shows real lines (the way attrs and cattrs generate their methods). The same
functions are registered on :data:`converter`, the one cattrs converter of all products;
``Model.from_wire`` / ``to_wire`` are thin entry points onto them.

Speed. Decoding a list page is dominated by object construction, not parsing: a page of
50 Basecamp 4 to-dos holds some 400 nested objects (creators, their companies, buckets,
parents, assignees). Nested models, and lists of them, are therefore built on first
attribute access: the decoder checks their shape (an object, a list of objects) and leaves
a marker in the slot; a descriptor decodes the raw value the first time the attribute is
read and keeps the result; ``extra`` and the set of absent fields are worked out the same
way. Encoding a field nobody read writes the raw value back untouched. ``strict=True``
decodes the whole tree at once, so any error is raised inside the call. Measured on a page
of 100 to-dos (5 KB each), already parsed: 3.3 us a record, against 22 us for the unrolled
eager decoders this replaces. Class creation is deferred too (:class:`ModelMeta`): importing
the 104 Basecamp 4 models takes about 3 ms.

Drift. A value that does not match its declared type never costs the call or the record:
the field is left absent, the raw value is kept in ``extra`` under its wire name (so
``to_wire`` writes it back as it came), a warning is logged once per (model, field) on the
``aiocamp.models`` logger and the drift is counted (:func:`decode_stats`). With
``strict=True`` the same mismatch raises :class:`~aiocamp.core._errors.DecodeError` naming
the field. Values keep their wire form: a date-time keeps the offset and the exact text
the server sent (:class:`WireDatetime`), a bare date stays a :class:`~datetime.date`, a
number stays the int or float it was.
"""

from __future__ import annotations

import functools
import linecache
import logging
import threading
import types
import typing
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self

import attrs

if TYPE_CHECKING:
    import cattrs

from ._codecs import XmlArray, parse_datetime, rfc822_date
from ._errors import ConfigError, DecodeError

__all__ = [
    "WireDatetime",
    "WireModel",
    "codec_of",
    "converter",
    "decode_stats",
    "format_wire_datetime",
    "parse_wire_datetime",
    "reset_decode_stats",
    "secret",
    "wire",
]

log = logging.getLogger("aiocamp.models")


# -- declarations -------------------------------------------------------------------------


def wire(name: str | None = None, *, item: str | None = None, xml_array: bool = True) -> Any:
    """A field whose wire name (or XML list item element) the case convention cannot tell."""
    meta: dict[str, Any] = {}
    if name is not None:
        meta["wire"] = name
    if item is not None:
        meta["item"] = item
    if not xml_array:
        meta["xml_array"] = False
    return attrs.field(default=None, metadata=meta)


def _redacted(value: object) -> str:
    return "None" if value is None else "'***'"


def secret(name: str | None = None) -> Any:
    """A field holding a credential: never shown by ``repr`` nor logged on drift."""
    meta: dict[str, Any] = {"secret": True}
    if name is not None:
        meta["wire"] = name
    return attrs.field(default=None, repr=_redacted, metadata=meta)


class _WireNames:
    """``Model.WIRE_NAMES``: attribute name -> wire name, from the built codec."""

    def __get__(self, obj: object, owner: type[WireModel]) -> Mapping[str, str]:
        return codec_of(owner).wire_names


def _is_class_var(annotation: object) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return typing.get_origin(annotation) is ClassVar


@typing.dataclass_transform(field_specifiers=(attrs.field,))
class ModelMeta(type):
    """Metaclass of the models: a slotted class at once, an attrs class on first use.

    Running ``attrs.define`` costs about a millisecond a class (it compiles ``__init__``,
    ``__eq__`` and ``__repr__``); for the 173 classes of Basecamp 4 that was most of the
    import time of ``aiocamp.basecamp4``. The class statement here only turns the annotated
    fields into ``__slots__`` and sets their defaults aside; attrs runs on the class itself
    (``these=``, so the class object never changes) the first time it is instantiated,
    decoded, or asked for its attrs fields (``attrs.fields``, ``attrs.has``).
    """

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> ModelMeta:
        annotations = namespace.get("__annotations__", {})
        fields = [n for n, a in annotations.items() if not _is_class_var(a)]
        # Plain defaults become attrs fields when the class is declared (_declare).
        defaults = {field_name: namespace.pop(field_name, None) for field_name in fields}
        namespace.setdefault("__slots__", tuple(fields))
        namespace["_wire_fields_"] = defaults
        return super().__new__(mcls, name, bases, namespace, **kwargs)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if "_wire_attrs_" not in cls.__dict__:
            _declare(cls)
        return super().__call__(*args, **kwargs)

    @property
    def __attrs_attrs__(cls) -> Any:
        found = cls.__dict__.get("_wire_attrs_")
        if found is None:
            _declare(cls)
            found = cls.__dict__["_wire_attrs_"]
        return found

    @__attrs_attrs__.setter
    def __attrs_attrs__(cls, value: Any) -> None:
        type.__setattr__(cls, "_wire_attrs_", value)


def _declare(cls: type) -> None:
    """Make ``cls`` (and its model bases) attrs classes, in place."""
    with _build_lock:
        if "_wire_attrs_" in cls.__dict__:
            return
        for base in reversed(cls.__mro__[1:]):
            if isinstance(base, ModelMeta) and "_wire_attrs_" not in base.__dict__:
                _declare(base)
        these = {
            name: value if isinstance(value, _FIELD_SPEC) else attrs.field(default=value)
            for name, value in cls.__dict__["_wire_fields_"].items()
        }
        attrs.define(slots=False, eq=True, these=these)(cls)


_FIELD_SPEC = type(attrs.field())
"""What ``attrs.field()`` (and so :func:`wire` / :func:`secret`) returns."""


class WireModel(metaclass=ModelMeta):
    """Base of every generated model: ``extra`` keeps what the spec does not know.

    ``absent`` (keyword only) lists the wire names a decoded record did not carry, so that
    encoding leaves them out rather than sending ``null``; a model built in code has none
    recorded and sends only the fields that are not ``None``.
    """

    __slots__ = ("__weakref__", "_absent", "_raw", "extra")

    WIRE_FORMAT: ClassVar[str] = "json"
    WIRE_CASE: ClassVar[str] = "snake"
    WIRE_NAMES = _WireNames()

    extra: dict[str, Any] = attrs.field(factory=dict, kw_only=True)
    _absent: frozenset[str] | None = attrs.field(
        default=None, eq=False, repr=False, kw_only=True, alias="absent"
    )
    _raw: dict[str, Any] | None = attrs.field(default=None, init=False, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], *, strict: bool = False) -> Self:
        """Decode one record from plain wire data (a decoded JSON object or XML element)."""
        codec = cls.__dict__.get("_wire_codec_") or codec_of(cls)
        if data.__class__ is not dict and not isinstance(data, dict):
            raise DecodeError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
        result: Self = codec.decode(data, strict)
        return result

    def to_wire(self) -> dict[str, Any]:
        """Encode back to wire data: wire names, absent fields left out, ``extra`` added."""
        cls = type(self)
        codec = cls.__dict__.get("_wire_codec_") or codec_of(cls)
        out: dict[str, Any] = codec.encode(self)
        return out


# -- wire values --------------------------------------------------------------------------


class WireDatetime(datetime):
    """A date-time as decoded: its offset, and its exact text, which encoding writes back.

    Arithmetic and ``replace`` give values without the text; those are written in ISO 8601
    with their own offset (``Z`` for UTC).
    """

    __slots__ = ("wire",)
    wire: str

    def __reduce_ex__(self, protocol: typing.SupportsIndex) -> Any:
        # Copies and pickles keep the text (datetime's own reduce knows no subclass slots).
        text = getattr(self, "wire", None)
        if text is None:
            return super().__reduce_ex__(protocol)
        return parse_wire_datetime, (text,)


def parse_wire_datetime(text: str) -> WireDatetime:
    """ISO 8601 text (``Z``, an offset, or none for UTC) kept with its text."""
    try:
        value = WireDatetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %Z")
        except ValueError:
            parsed = parse_datetime(text)  # RFC 822 (Harvest), or ValueError
        value = WireDatetime.combine(parsed.date(), parsed.time(), parsed.tzinfo or UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value.wire = text
    return value


def format_wire_datetime(value: datetime) -> str:
    """The text a date-time came with, or ISO 8601 in its own offset."""
    text: str | None = getattr(value, "wire", None)
    if text is not None:
        return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _Mismatch:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISMATCH"


class _Pending:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


MISMATCH: Final = _Mismatch()
"""What a converter returns for a value that is not of its type."""
PENDING: Final = _Pending()
"""The slot of a nested model not decoded yet (its raw value waits in ``_raw``)."""


def _text_int(value: Any) -> Any:
    if value.__class__ is str:
        try:
            return int(value.strip())
        except ValueError:
            pass
    return MISMATCH


def _text_float(value: Any) -> Any:
    if value.__class__ is int:
        return value
    if value.__class__ is str:
        try:
            return float(value)
        except ValueError:
            pass
    return MISMATCH


def _number(value: Any) -> Any:
    cls = value.__class__
    if cls is int or cls is float:
        return value
    if cls is str:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                pass
    return MISMATCH


def _float(value: Any) -> Any:
    return value if value.__class__ is int else MISMATCH


def _decimal(value: Any) -> Any:
    cls = value.__class__
    if cls is str or cls is int or cls is float:
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            pass
    return MISMATCH


def _text_bool(value: Any) -> Any:
    if value.__class__ is str:
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true"
    return MISMATCH


def _datetime(value: Any) -> Any:
    if value.__class__ is str:
        try:
            return parse_wire_datetime(value)
        except ValueError:
            pass
    elif isinstance(value, datetime):
        return value
    return MISMATCH


def _plain_date(text: str) -> Any:
    """``YYYY-MM-DD`` only: other ISO forms (``20221115``, week dates) would not round-trip."""
    try:
        value = date.fromisoformat(text)
    except ValueError:
        found = rfc822_date(text)  # Harvest's daily payloads: "Wed, 18 Oct 2006"
        return MISMATCH if found is None else found
    return value if len(text) == 10 and value.isoformat() == text else MISMATCH


def _date(value: Any) -> Any:
    if value.__class__ is str:
        return _plain_date(value)
    elif isinstance(value, datetime):
        return value.date()
    elif isinstance(value, date):
        return value
    return MISMATCH


def _datetime_or_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if value.__class__ is str:
        if "T" not in value and " " not in value:
            return _plain_date(value)
        try:
            return parse_wire_datetime(value)
        except ValueError:
            pass
    return MISMATCH


def _int_or_str(value: Any) -> Any:
    return value if value.__class__ is int or value.__class__ is str else MISMATCH


def _mismatch(value: Any) -> Any:
    return MISMATCH


def _any(value: Any) -> Any:
    return value


# kind -> (classes accepted as they are, converter for anything else, what the docs call it)
_SCALARS: dict[str, tuple[tuple[type, ...], dict[str, Callable[[Any], Any]], str]] = {
    "int": ((int,), {"xml": _text_int}, "an integer"),
    "str": ((str,), {}, "a string"),
    "bool": ((bool,), {"xml": _text_bool}, "a boolean"),
    "float": ((float,), {"xml": _text_float, "json": _float}, "a number"),
    "number": ((int, float), {"xml": _number}, "a number"),
    "decimal": ((Decimal,), {"xml": _decimal, "json": _decimal}, "a decimal number"),
    "datetime": ((), {"xml": _datetime, "json": _datetime}, "an ISO 8601 date-time"),
    "date": ((date,), {"xml": _date, "json": _date}, "an ISO 8601 date"),
    "datetime_or_date": (
        (),
        {"xml": _datetime_or_date, "json": _datetime_or_date},
        "an ISO 8601 date-time or date",
    ),
    "int_or_str": ((int, str), {"xml": _int_or_str}, "an integer or a string"),
    "dict": ((dict,), {}, "an object"),
}


def _scalar_kind(tp: Any) -> str | None:
    if tp is Any:
        return "any"
    members = set(typing.get_args(tp)) if _is_union(tp) else {tp}
    for kind, combo in (
        ("number", {int, float}),
        ("int_or_str", {int, str}),
        ("datetime_or_date", {datetime, date}),
    ):
        if members == combo:
            return kind
    named = {
        int: "int",
        str: "str",
        bool: "bool",
        float: "float",
        Decimal: "decimal",
        datetime: "datetime",
        date: "date",
    }
    if len(members) == 1 and tp in named:
        return named[tp]
    if typing.get_origin(tp) is dict:
        return "dict"
    return None


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _strip_none(tp: Any) -> Any:
    if _is_union(tp):
        args = tuple(a for a in typing.get_args(tp) if a is not type(None))
        if len(args) == 1:
            return args[0]
        return typing.Union[args]  # noqa: UP007 - built from a tuple at run time
    return tp


# -- drift --------------------------------------------------------------------------------

_drift_counts: Counter[str] = Counter()
_warned: set[str] = set()
_stats_lock = threading.Lock()


def decode_stats() -> dict[str, int]:
    """Response values that did not match their declared type, per ``Model.field``.

    Each was kept in its record's ``extra`` under its wire name (see the module docs).
    """
    with _stats_lock:
        return dict(_drift_counts)


def reset_decode_stats() -> None:
    """Forget the counts (and which drifts were already logged)."""
    with _stats_lock:
        _drift_counts.clear()
        _warned.clear()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@attrs.frozen
class _FieldInfo:
    model: str
    name: str
    wire: str
    expected: str
    secret: bool

    @property
    def label(self) -> str:
        return f"{self.model}.{self.name}"

    def drift(self, value: object, strict: bool) -> None:
        """Count, log once, or raise in strict mode; the caller keeps the raw value."""
        shown = "<redacted>" if self.secret else _shown(value)
        if strict:
            raise DecodeError(f"field {self.label!r}: expected {self.expected}, got {shown}")
        label = self.label
        with _stats_lock:
            _drift_counts[label] += 1
            first = label not in _warned
            _warned.add(label)
        if first:
            log.warning(
                "field %s (wire name %r): expected %s, got %s; kept in extra, field left "
                "absent (later mismatches of this field are only counted)",
                label,
                self.wire,
                self.expected,
                shown,
            )


# -- lazily decoded nested models ---------------------------------------------------------


class _LazyField:
    """Data descriptor over a slot that may hold :data:`PENDING`: decodes on first read."""

    __slots__ = ("_get", "_load", "_set", "_wire", "member")

    def __init__(self, member: Any, wire: str, load: Callable[[Any], Any]) -> None:
        self.member = member
        self._get = member.__get__
        self._set = member.__set__
        self._wire = wire
        self._load = load

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = self._get(obj, owner)
        if value is PENDING:
            value = self._load(obj._raw[self._wire])
            self._set(obj, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self._set(obj, value)

    def __delete__(self, obj: Any) -> None:
        self.member.__delete__(obj)


def _xml_items(value: Any, item: str | None) -> Any:
    """The items of an XML list field: a typed array, or an untyped container element."""
    if isinstance(value, list):
        return value
    if value.__class__ is dict and item is not None:
        inner = value.get(item)
        if inner is None:
            return [] if len(value) == 0 or all(k[0] in "@#" for k in value) else MISMATCH
        return inner if inner.__class__ is list else [inner]
    return MISMATCH


def _object_items(value: Any, xml: bool, item: str | None) -> Any:
    items = _xml_items(value, item) if xml else value if value.__class__ is list else MISMATCH
    if items is MISMATCH:
        return MISMATCH
    for x in typing.cast(list[Any], items):
        if x.__class__ is not dict:
            return MISMATCH
    return items


def _scalar_items(
    value: Any, xml: bool, item: str | None, accept: tuple[type, ...], convert: Any
) -> Any:
    items = _xml_items(value, item) if xml else value if value.__class__ is list else MISMATCH
    if items is MISMATCH:
        return MISMATCH
    out = []
    for x in typing.cast(list[Any], items):
        if x.__class__ not in accept and x is not None:
            x = convert(x)
            if x is MISMATCH:
                return MISMATCH
        out.append(x)
    return out


# -- the built codec ----------------------------------------------------------------------


@attrs.frozen
class ModelCodec:
    """The compiled decode / encode pair of one model class."""

    decode: Callable[[dict[str, Any], bool], Any]
    encode: Callable[[Any], dict[str, Any]]
    wire_names: Mapping[str, str]
    known: frozenset[str]
    source: str


_build_lock = threading.RLock()
_counter = 0


def codec_of(cls: type[WireModel]) -> ModelCodec:
    """The codec of ``cls``, built on first use."""
    codec: ModelCodec | None = cls.__dict__.get("_wire_codec_")
    if codec is None:
        with _build_lock:
            codec = cls.__dict__.get("_wire_codec_")
            if codec is None:
                codec = _build(cls)
                cls._wire_codec_ = codec  # type: ignore[attr-defined]
    return codec


def _wire_name(f: attrs.Attribute[Any], case: str) -> str:
    name: str | None = f.metadata.get("wire")
    if name is not None:
        return name
    return f.name.replace("_", "-") if case == "kebab" else f.name


_BASE_FIELDS = frozenset({"extra", "_absent", "_raw"})


def _build(cls: type[WireModel]) -> ModelCodec:
    global _counter
    xml = cls.WIRE_FORMAT == "xml"
    fmt = cls.WIRE_FORMAT
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError) as exc:
        raise ConfigError(f"cannot resolve the field types of {cls.__name__}: {exc}") from None
    fields = [f for f in attrs.fields(typing.cast(Any, cls)) if f.name not in _BASE_FIELDS]
    ns: dict[str, Any] = {
        "new": object.__new__,
        "cls": cls,
        "MISMATCH": MISMATCH,
        "PENDING": PENDING,
        "finish": _finish,
        "fmt_dt": format_wire_datetime,
        "XmlArray": XmlArray,
    }
    dec = [
        "def decode(data, strict):",
        "    obj = new(cls)",
        "    get = data.get",
        "    bad = None",
    ]
    enc = [
        "def encode(self):",
        "    out = {}",
        "    absent = KNOWN if (a := self._absent) is None else a",
    ]
    wire_names: dict[str, str] = {}
    lazy: list[tuple[str, str, Callable[[Any], Any]]] = []
    for i, f in enumerate(fields):
        w = _wire_name(f, cls.WIRE_CASE)
        wire_names[f.name] = w
        tp = _strip_none(hints[f.name])
        item = f.metadata.get("item")
        ref = f"F{i}"
        scalar = _scalar_kind(tp)
        expected = _SCALARS[scalar][2] if scalar in _SCALARS else "a value"
        if typing.get_origin(tp) is list:
            expected = "a list"
        elif isinstance(tp, type) and issubclass(tp, WireModel):
            expected = "an object"
        ns[ref] = _FieldInfo(cls.__name__, f.name, w, expected, bool(f.metadata.get("secret")))
        on_bad = [f"        {ref}.drift(v, strict)", "        bad = [] if bad is None else bad"]
        on_bad += [f"        bad.append({w!r})", "        x = None"]
        getter = f"    v = get({w!r})"
        if scalar == "any":
            dec += [getter, f"    obj.{f.name} = v"]
            enc += [
                f"    v = self.{f.name}",
                f"    if v is not None or {w!r} not in absent:",
                f"        out[{w!r}] = v",
            ]
            continue
        if scalar is not None:
            accept, converters, _ = _SCALARS[scalar]
            convert = converters.get(fmt, _mismatch)
            ns[f"C{i}"] = convert
            if len(accept) == 1:
                ns[f"T{i}"] = accept[0]
                test = f"v.__class__ is not T{i}"
            elif accept:
                ns[f"T{i}"] = frozenset(accept)
                test = f"v.__class__ not in T{i}"
            else:
                test = "True"
            dec += [
                getter,
                f"    if v is not None and {test}:",
                f"        x = C{i}(v)",
                "        if x is MISMATCH:",
                *["    " + line for line in on_bad],
                "        v = x",
                f"    obj.{f.name} = v",
            ]
            if not xml and scalar in ("datetime", "date", "datetime_or_date"):
                value = "fmt_dt(v) if isinstance(v, datetime) else v.isoformat()"
                ns["datetime"] = datetime
                enc += [
                    f"    v = self.{f.name}",
                    "    if v is not None:",
                    f"        out[{w!r}] = {value}",
                    f"    elif {w!r} not in absent:",
                    f"        out[{w!r}] = None",
                ]
            else:
                enc += [
                    f"    v = self.{f.name}",
                    f"    if v is not None or {w!r} not in absent:",
                    f"        out[{w!r}] = v",
                ]
            continue
        if isinstance(tp, type) and issubclass(tp, WireModel):
            ns[f"M{i}"] = tp
            ns[f"G{i}"] = _member(cls, f.name).__get__  # the slot itself, never decoding
            ns[f"S{i}"] = _member(cls, f.name).__set__
            dec += [
                getter,
                "    if v is not None:",
                "        if v.__class__ is dict:",
                f"            v = M{i}.from_wire(v, strict=True) if strict else PENDING",
                "        else:",
                "            x = v",
                *["    " + line for line in on_bad],
                "            v = None",
                f"    S{i}(obj, v)",
            ]
            enc += [
                f"    v = G{i}(self)",
                "    if v is PENDING:",
                f"        out[{w!r}] = self._raw[{w!r}]",
                "    elif v is not None:",
                f"        out[{w!r}] = v.to_wire()",
                f"    elif {w!r} not in absent:",
                f"        out[{w!r}] = None",
            ]
            lazy.append((f.name, w, tp.from_wire))
            continue
        if typing.get_origin(tp) is list:
            (inner,) = typing.get_args(tp)
            inner = _strip_none(inner)
            if xml and item is None:
                raise ConfigError(f"{cls.__name__}.{f.name}: an XML list needs its item name")
            ns[f"I{i}"] = item
            if xml:
                wrap = (
                    f"XmlArray(items, I{i})"
                    if f.metadata.get("xml_array", True)
                    else f"(({{I{i}: items[0] if len(items) == 1 else items}}) if items else {{}})"
                )
            else:
                wrap = "items"
            if isinstance(inner, type) and issubclass(inner, WireModel):
                ns[f"M{i}"] = inner
                ns[f"G{i}"] = _member(cls, f.name).__get__
                ns[f"S{i}"] = _member(cls, f.name).__set__
                ns["object_items"] = _object_items
                if xml:
                    check = [f"        x = object_items(v, True, I{i})"]
                else:  # inline: the common JSON case, a list of objects
                    check = [
                        "        x = v if v.__class__ is list else MISMATCH",
                        "        if x is not MISMATCH:",
                        "            for r in x:",
                        "                if r.__class__ is not dict:",
                        "                    x = MISMATCH",
                        "                    break",
                    ]
                dec += [
                    getter,
                    "    if v is not None:",
                    *check,
                    "        if x is MISMATCH:",
                    "            x = v",
                    *["    " + line for line in on_bad],
                    "            v = None",
                    "        elif strict:",
                    f"            v = [M{i}.from_wire(r, strict=True) for r in x]",
                    "        else:",
                    "            v = PENDING",
                    f"    S{i}(obj, v)",
                ]
                enc += [
                    f"    v = G{i}(self)",
                    "    if v is PENDING:",
                    f"        out[{w!r}] = self._raw[{w!r}]",
                    "    elif v is not None:",
                    "        items = [r.to_wire() for r in v]",
                    f"        out[{w!r}] = {wrap}",
                    f"    elif {w!r} not in absent:",
                    f"        out[{w!r}] = None",
                ]
                lazy.append((f.name, w, _list_loader(inner, xml, item)))
                continue
            kind = _scalar_kind(inner)
            if kind is None or kind == "dict":
                raise ConfigError(f"{cls.__name__}.{f.name}: unsupported list item type {inner}")
            if kind == "any":
                accept, convert = (object,), _any
            else:
                accept, converters, _ = _SCALARS[kind]
                convert = converters.get(fmt, _mismatch)
            ns["scalar_items"] = _scalar_items
            ns[f"A{i}"] = frozenset(accept) if kind != "any" else frozenset()
            ns[f"C{i}"] = convert if kind != "any" else _any
            dec += [
                getter,
                "    if v is not None:",
                f"        x = scalar_items(v, {xml}, I{i}, A{i}, C{i})",
                "        if x is MISMATCH:",
                "            x = v",
                *["    " + line for line in on_bad],
                "        v = x",
                f"    obj.{f.name} = v",
            ]
            # A null item decodes as None (scalar_items): it is written back as null.
            item_out = (
                "fmt_dt(r) if isinstance(r, datetime) else None if r is None else r.isoformat()"
            )
            encode_items = (
                f"[{item_out} for r in v]"
                if not xml and kind in ("datetime", "date", "datetime_or_date")
                else "list(v)"
            )
            ns["datetime"] = datetime
            enc += [
                f"    v = self.{f.name}",
                "    if v is not None:",
                f"        items = {encode_items}",
                f"        out[{w!r}] = {wrap}",
                f"    elif {w!r} not in absent:",
                f"        out[{w!r}] = None",
            ]
            continue
        raise ConfigError(f"{cls.__name__}.{f.name}: unsupported field type {tp}")

    known = frozenset(wire_names.values())
    ns["KNOWN"] = known
    ns["set_extra"] = _EXTRA.set
    ns["set_absent"] = _ABSENT.set
    dec += [
        "    obj._raw = data",
        "    if bad is None:",  # extra and absent are worked out when first read
        "        set_extra(obj, PENDING)",
        "        set_absent(obj, PENDING)",
        "    else:",
        "        finish(obj, data, KNOWN, bad)",
        "    return obj",
    ]
    enc += [
        "    extra = self.extra",
        "    if extra:",
        "        out.update(extra)",
        "    return out",
    ]
    source = "\n".join(dec) + "\n\n\n" + "\n".join(enc) + "\n"
    with _build_lock:
        _counter += 1
        filename = f"<aiocamp wire codec {cls.__module__}.{cls.__qualname__} #{_counter}>"
    code = compile(source, filename, "exec")
    exec(code, ns)  # noqa: S102 - our own generated source, built from the class's fields
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    for name, w, load in lazy:
        setattr(cls, name, _LazyField(_member(cls, name), w, load))
    names = types.MappingProxyType(wire_names)
    return ModelCodec(ns["decode"], ns["encode"], names, known, source)


def _member(cls: type, name: str) -> Any:
    """The slot descriptor attrs made for ``name`` (under our lazy wrapper, if any)."""
    for klass in cls.__mro__:  # a subclass of a model inherits its slots
        member = klass.__dict__.get(name)
        if member is not None:
            return member.member if isinstance(member, _LazyField) else member
    raise ConfigError(f"{cls.__name__} has no slot {name!r}")


def _list_loader(model: type[WireModel], xml: bool, item: str | None) -> Callable[[Any], Any]:
    load = model.from_wire

    def decode_items(value: Any) -> list[Any]:
        items = _xml_items(value, item) if xml else value
        return [load(r) for r in items]

    return decode_items


def _finish(obj: WireModel, data: dict[str, Any], known: frozenset[str], bad: Any) -> None:
    """``extra`` and ``absent`` of a record whose keys differ from the declared ones."""
    keys = data.keys()
    unknown = keys - known
    extra = {k: data[k] for k in unknown} if unknown else {}
    absent = known - keys
    if bad:
        for w in bad:
            extra[w] = data[w]
        absent = absent | frozenset(bad)
    _EXTRA.set(obj, extra)
    _ABSENT.set(obj, absent)


class _Settled:
    """``extra`` / ``absent`` of a decoded record, worked out from its keys on first read.

    Most records of a page are never asked for either; a list page decodes faster without
    the two set operations per record.
    """

    __slots__ = ("get", "member", "set")

    def __init__(self, member: Any) -> None:
        self.member = member
        self.get = member.__get__
        self.set = member.__set__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = self.get(obj, owner)
        if value is PENDING:
            _finish(obj, obj._raw, codec_of(type(obj)).known, None)
            value = self.get(obj, owner)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self.set(obj, value)

    def __delete__(self, obj: Any) -> None:
        self.member.__delete__(obj)


_EXTRA = _Settled(WireModel.__dict__["extra"])
_ABSENT = _Settled(WireModel.__dict__["_absent"])
type.__setattr__(WireModel, "extra", _EXTRA)
type.__setattr__(WireModel, "_absent", _ABSENT)


# -- the cattrs converter -----------------------------------------------------------------


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, WireModel) and tp is not WireModel


@functools.cache
def _converter() -> cattrs.Converter:
    import cattrs  # about 10% of aiohttp's import time: paid on first use only

    made = cattrs.Converter()
    made.register_structure_hook_factory(_is_model, lambda tp: lambda data, _tp: tp.from_wire(data))
    made.register_unstructure_hook_factory(_is_model, lambda _tp: lambda value: value.to_wire())
    return made


if TYPE_CHECKING:
    converter: cattrs.Converter
    """One cattrs converter for every product's models: wire data <-> attrs models."""


def __getattr__(name: str) -> Any:
    if name == "converter":
        return _converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
