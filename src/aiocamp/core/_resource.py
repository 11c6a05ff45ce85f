"""The verbs generated resources call: ``_get``, ``_post``, ``_put``, ``_delete``, ``_list``.

A generated endpoint method is a signature, a docstring and one verb call. Everything a
call needs besides the endpoint's facts lives here, once for every product:

* the path template is filled with quoted path parameters (empty ones fail before I/O);
* query parameters are written as the products expect (``UNSET`` / ``None`` left out,
  booleans as ``true``/``false``, date-times in UTC, lists as ``name[]``, dicts as
  ``name[key]``);
* a body is a plain mapping with wire-name keys: ``UNSET`` entries are dropped, models are
  encoded with ``to_wire()``, and XML bodies get their root element;
* the reply is decoded into the declared result: a model (``Model.from_wire``), a scalar,
  or the decoded data as is; XML documents are unwrapped from their root first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, Protocol, TypedDict, TypeVar, Unpack, overload

from yarl import URL

from ._codecs import XmlArray
from ._errors import ConcurrentModification, ConfigError, DecodeError
from ._pagination import PageIterator, Paging
from ._runtime import (
    UNSET,
    add_query,
    expect_bytes,
    json_items,
    path_param,
    to_bool,
    to_date,
    to_datetime,
    to_decimal,
    to_float,
    to_int,
    to_str,
    xml_container,
    xml_items,
    xml_root,
    xml_value,
)
from ._session import Request, Response, Session

__all__ = ["EnvelopePageIterator", "Resource", "strftime", "xml_list"]

T = TypeVar("T")
E = TypeVar("E")

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

#: How a scalar result is checked: its class, and the coercion used when the wire value
#: has another class (XML text, a number sent as a string).
_SCALARS: dict[type[Any], Callable[[Any, str], Any]] = {
    int: to_int,
    str: to_str,
    bool: to_bool,
    float: to_float,
    Decimal: to_decimal,
    datetime: to_datetime,
    date: to_date,
}


class _Options(TypedDict, total=False):
    """Keyword arguments every verb accepts besides ``into`` and ``optional``."""

    path: Mapping[str, object]
    query: Mapping[str, object]
    body: Mapping[str, object]
    xml_root: str
    xml_scalar: bool
    xml_list: bool
    data: bytes
    content_type: str
    multipart: tuple[str, str]
    limit_classes: tuple[str, ...]
    idempotent: bool
    follow_location: bool
    url_token: bool
    method: str
    cache: bool
    xml_dashes: bool
    json_root: bool


class _WireModel(Protocol):
    def to_wire(self) -> Any: ...


class Strftime:
    """A date or date-time query value written with a ``strftime`` pattern."""

    __slots__ = ("pattern", "value")

    def __init__(self, value: object, pattern: str) -> None:
        self.value = value
        self.pattern = pattern


def strftime(value: object, pattern: str) -> object:
    """``value`` formatted with ``pattern`` in the query (``UNSET`` and ``None`` pass through)."""
    if value is UNSET or value is None:
        return value
    return Strftime(value, pattern)


class _XmlList:
    """A list body value that XML writes as ``<name type="array"><item>...``."""

    __slots__ = ("array", "item", "items")

    def __init__(self, items: object, item: str, array: bool) -> None:
        self.items = items
        self.item = item
        self.array = array


def xml_list(value: object, item: str, *, array: bool = True) -> object:
    """Mark a list body value with the element name of its items (XML bodies)."""
    if value is UNSET or value is None:
        return value
    return _XmlList(value, item, array)


def _wire(value: Any) -> Any:
    """One body value in wire form: models encoded, lists and mappings walked."""
    if value is None or isinstance(value, str | int | float | Decimal | date):
        return value
    if isinstance(value, _XmlList):
        items = [_wire(v) for v in _expect_list(value.items, value.item)]
        return XmlArray(items, value.item) if value.array else xml_container(items, value.item)
    to_wire = getattr(value, "to_wire", None)
    if to_wire is not None:
        return to_wire()
    if isinstance(value, Mapping):
        return {k: _wire(v) for k, v in value.items() if v is not UNSET}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def _expect_list(value: object, name: str) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, list | tuple):
        return value
    raise ConfigError(f"{name!r} must be a list, got {type(value).__name__}")


def encode_body(
    body: Mapping[str, object], *, xml_root: str | None = None, single: bool = False
) -> Any:
    """The wire data of a body mapping: ``UNSET`` dropped, models encoded, XML root added
    (``single``: the root holds the body's one value itself, text or a list)."""
    record = {k: _wire(v) for k, v in body.items() if v is not UNSET}
    if xml_root is None:
        return record
    if single:
        return {xml_root: next(iter(record.values()), None)}
    return {xml_root: record}


def fill_path(template: str, params: Mapping[str, object]) -> str:
    """The path with each ``{name}`` replaced by its quoted parameter."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise ConfigError(f"path parameter {name!r} of {template} is missing")
        return path_param(params[name], name)

    return _PLACEHOLDER.sub(value, template)


def build_query(query: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name, value in query.items():
        if isinstance(value, Strftime):
            add_query(out, name, value.value, value.pattern)
        else:
            add_query(out, name, value)
    return tuple(out)


def _decoder(into: type[T] | None, label: str, strict: bool) -> Callable[[Any], T]:
    """A function turning one plain decoded value into ``into``."""
    if into is None:
        return _identity
    coerce = _SCALARS.get(into)
    if coerce is not None:
        scalar = into

        def convert_scalar(value: Any) -> T:
            if value.__class__ is scalar:
                return value
            return coerce(value, label)  # type: ignore[no-any-return]

        return convert_scalar
    from_wire: Callable[..., T] = into.from_wire  # type: ignore[attr-defined]
    name = into.__name__

    def convert_model(value: Any) -> T:
        if value.__class__ is not dict:
            raise DecodeError(f"field {name!r}: expected an object, got {type(value).__name__}")
        return from_wire(value, strict=strict)

    return convert_model


def _identity(value: Any) -> Any:
    return value


def _xml_tag(into: type[Any]) -> str | None:
    tag = getattr(into, "XML_TAG", None)
    return tag if isinstance(tag, str) else None


class _Verb(Protocol):
    """The typed signature of a verb (``Resource._get`` and the others), as called on a
    resource: ``into`` gives the result type, ``optional=True`` allows an empty reply."""

    @overload
    async def __call__(
        self,
        template: str,
        /,
        *,
        into: type[T],
        optional: Literal[False] = ...,
        **o: Unpack[_Options],
    ) -> T: ...
    @overload
    async def __call__(
        self, template: str, /, *, into: type[T], optional: Literal[True], **o: Unpack[_Options]
    ) -> T | None: ...
    @overload
    async def __call__(
        self, template: str, /, *, into: None = ..., **o: Unpack[_Options]
    ) -> Any: ...


def _verb(method: str) -> Any:
    """The verb ``method`` as a method of :class:`Resource` (typed by :class:`_Verb`)."""

    async def verb(
        self: Resource,
        template: str,
        /,
        *,
        into: Any = None,
        optional: bool = False,
        **o: Unpack[_Options],
    ) -> Any:
        return await self._call(method, template, into, optional, o)

    verb.__name__ = verb.__qualname__ = f"_{method.lower()}"
    return verb


class Resource:
    """Base of generated resource classes: they see only the session and these verbs."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    # -- typed verbs ------------------------------------------------------------------------
    # Each verb returns the decoded ``into`` (``None`` when ``optional`` and the reply is
    # empty), or the plain decoded data when ``into`` is None. One function serves all four;
    # their typed signature is written once, in :class:`_Verb`.

    _get: _Verb = _verb("GET")
    _post: _Verb = _verb("POST")
    _put: _Verb = _verb("PUT")
    _delete: _Verb = _verb("DELETE")

    @overload
    def _list(
        self,
        template: str,
        /,
        *,
        into: type[T],
        paging: Paging,
        key: str | None = ...,
        page: int | None = ...,
        max_pages: int | None = ...,
        max_items: int | None = ...,
        **o: Unpack[_Options],
    ) -> PageIterator[T]: ...
    @overload
    def _list(
        self,
        template: str,
        /,
        *,
        into: None = ...,
        paging: Paging,
        key: str | None = ...,
        page: int | None = ...,
        max_pages: int | None = ...,
        max_items: int | None = ...,
        **o: Unpack[_Options],
    ) -> PageIterator[Any]: ...
    def _list(
        self,
        template: str,
        /,
        *,
        into: Any = None,
        paging: Paging,
        key: str | None = None,
        page: int | None = None,
        max_pages: int | None = None,
        max_items: int | None = None,
        **o: Unpack[_Options],
    ) -> PageIterator[Any]:
        """A lazy iterator over a list endpoint (``key``: JSON list under that key)."""
        request = self._request(o.get("method", "GET"), template, o)
        request, paging, start = _start_page(request, paging, page)
        return PageIterator(
            self._session,
            request,
            paging=paging,
            extract=self._extractor(key, _xml_tag(into) if into else None, o),
            convert=_decoder(into, into.__name__ if into else "item", self._strict()),
            max_pages=max_pages,
            max_items=max_items,
            start_page=start,
        )

    def _list_envelope(
        self,
        template: str,
        /,
        *,
        into: type[T],
        envelope: type[E],
        key: str,
        paging: Paging,
        page: int | None = None,
        max_pages: int | None = None,
        max_items: int | None = None,
        **o: Unpack[_Options],
    ) -> EnvelopePageIterator[T, E]:
        """Like ``_list`` for a JSON object holding the list under ``key`` next to other
        documented fields: those are decoded into ``envelope`` from the first page."""
        request = self._request(o.get("method", "GET"), template, o)
        request, paging, start = _start_page(request, paging, page)
        strict = self._strict()
        return EnvelopePageIterator(
            self._session,
            request,
            paging=paging,
            key=key,
            envelope=_decoder(envelope, envelope.__name__, strict),
            convert=_decoder(into, into.__name__, strict),
            max_pages=max_pages,
            max_items=max_items,
            start_page=start,
        )

    async def _patch(
        self,
        template: str,
        /,
        *,
        read: str,
        path: Mapping[str, Any],
        changes: Mapping[str, Any],
        sources: Mapping[str, str],
        into: type[T],
    ) -> T:
        """Change some fields of a record whose PUT replaces it whole (two requests).

        The record is read (``read``), each PUT parameter not in ``changes`` is copied from
        it (``sources`` names where a parameter lives in the record when its wire name
        differs, e.g. ``assignees[].id`` for ``assignee_ids``), and the result is PUT back.
        Just before the PUT the record is read again (a 304 when the ETag cache holds it):
        if its ``updated_at`` moved, someone else changed it and :class:`ConcurrentModification`
        is raised instead of overwriting their change.
        """
        before = await self._session.request(self._request("GET", read, {"path": path}))
        record = before.data
        if not isinstance(record, dict):
            raise before.decode_error(DecodeError("expected the record as a JSON object"))
        body: dict[str, Any] = {}
        for wire, value in changes.items():
            if value is not UNSET:
                body[wire] = value
                continue
            found, current = _pick(record, sources.get(wire, wire))
            if found:
                body[wire] = current
        again = await self._session.request(self._request("GET", read, {"path": path}))
        if not isinstance(again.data, dict) or again.data.get("updated_at") != record.get(
            "updated_at"
        ):
            raise ConcurrentModification(
                "the record changed between its read and the write; read it again and retry",
                url=str(again.url.with_query(None)),
            )
        written: T = await self._call("PUT", template, into, False, {"path": path, "body": body})
        return written

    # -- one call ---------------------------------------------------------------------------

    def _strict(self) -> bool:
        """The client's strict-decoding setting (off for sessions without one)."""
        settings = getattr(self._session, "settings", None)
        return bool(getattr(settings, "strict", False))

    def _limit_classes(self, method: str) -> tuple[str, ...] | None:
        """The product's default classes for ``method`` (None: its default for all)."""
        return self._session.product.method_limit_classes.get(method)

    def _xml(self) -> bool:
        return self._session.product.format == "xml"

    def _mirror(self) -> bool:
        """JSON whose structure follows the product's XML (Harvest): records wrapped in
        their element name, underscores where the XML element names have dashes."""
        product = self._session.product
        return product.json_mirrors_xml and product.format == "json"

    def _request(self, method: str, template: str, o: _Options) -> Request:
        params = o.get("path", {})
        url_token = o.get("url_token", False)
        if url_token:
            # Backpack /{token}/...: the body token in the path, or no segment at all when
            # the client authenticates otherwise (OAuth).
            token = self._session.path_token()
            if token is None:
                template = template.removeprefix("/{token}")
            else:
                params = {**params, "token": token}
        path = fill_path(template, params)
        query = build_query(o.get("query", {}))
        body: Any = None
        raw: bytes | None = None
        multipart: tuple[str, str, bytes, str] | None = None
        content_type = o.get("content_type")
        if "data" in o:
            data = o["data"]
            expect_bytes(data, "data")
            if "multipart" in o:
                field, filename = o["multipart"]
                multipart = (field, filename, data, content_type or "application/octet-stream")
                content_type = None
            else:
                raw = data
        elif "body" in o:
            mirror = self._mirror()
            root = o.get("xml_root") if self._xml() or mirror else None
            if mirror and not o.get("json_root", True):
                root = None  # the XML wrapper this body has in XML only
            # xml_scalar: the root's text is the one value; xml_list: the root is the one list.
            single = o.get("xml_scalar", False) or o.get("xml_list", False)
            body = encode_body(o["body"], xml_root=root, single=single)
            if mirror and o.get("xml_dashes", False):
                body = rename_keys(body, "-", "_")
        return Request(
            method,
            path,
            query,
            body=body,
            raw_body=raw,
            content_type=content_type,
            multipart=multipart,
            limit_classes=o.get("limit_classes", self._limit_classes(method)),
            idempotent=o.get("idempotent"),
            token_in_body=not url_token,
            cache=o.get("cache", True),
        )

    async def _call(
        self, method: str, template: str, into: type[Any] | None, optional: bool, o: _Options
    ) -> Any:
        request = self._request(method, template, o)
        if into is bytes:
            request.raw_reply = True  # a file: its bytes, undecoded
        response = await self._session.request(request)
        if o.get("follow_location"):
            response = await self._follow_location(response, o.get("limit_classes"))
        if self._mirror() and o.get("xml_dashes", False):
            response = replace(response, data=rename_keys(response.data, "_", "-"))
        if into is None:
            return response.data
        if optional and response.data is None:
            return None
        return self._decode(response, into)

    async def _follow_location(
        self, response: Response, classes: tuple[str, ...] | None = None
    ) -> Response:
        """The record a create reply names in ``Location`` (same origin only), fetched."""
        location = response.headers.get("Location")
        if not location:
            if response.data is not None:
                return response  # the server sent the record itself
            raise response.decode_error(
                DecodeError("expected a Location header naming the new record")
            )
        try:
            target = response.url.join(URL(location))
            origin = (target.scheme, target.host, target.port)
        except ValueError:
            origin = None
        if origin != (response.url.scheme, response.url.host, response.url.port):
            raise response.decode_error(
                DecodeError("the new record's Location is not on the API's origin; not following")
            )
        return await self._session.request(
            # The endpoint's own classes when it has some (Backpack calendar: 10 per 5 s).
            Request(
                "GET",
                str(target),
                limit_classes=classes if classes is not None else self._limit_classes("GET"),
            )
        )

    def _decode(self, response: Response, into: type[T]) -> T:
        """The reply as ``into``; decode errors gain the status and URL."""
        if into is bytes:
            if not isinstance(response.data, bytes):
                raise response.decode_error(DecodeError("expected a file's bytes"))
            return response.data  # type: ignore[return-value]
        try:
            data = response.data
            if self._xml():
                tag = _xml_tag(into)
                data = xml_root(data, tag) if tag is not None else xml_value(data)
            elif self._mirror():
                data = unwrap(data, _xml_tag(into))
                if into not in _SCALARS and not isinstance(data, dict):
                    raise DecodeError(f"expected a JSON object, got {type(data).__name__}")
            elif into not in _SCALARS and not isinstance(data, dict):
                raise DecodeError(f"expected a JSON object, got {type(data).__name__}")
            return _decoder(into, into.__name__, self._strict())(data)
        except DecodeError as exc:
            raise response.decode_error(exc) from None

    def _extractor(
        self, key: str | None, tag: str | None = None, o: _Options | None = None
    ) -> Callable[[Any], list[Any]]:
        if self._xml():
            return xml_items
        if self._mirror():
            dashes = bool(o and o.get("xml_dashes", False))
            return lambda data: mirror_items(data, tag, dashes=dashes)
        if key is None:
            return json_items
        return lambda data: json_items(data, key)


def rename_keys(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every mapping key, at every depth (JSON
    that mirrors XML spells ``first_name`` what the XML spells ``first-name``)."""
    if isinstance(value, dict):
        return {k.replace(old, new): rename_keys(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        items = [rename_keys(v, old, new) for v in value]
        return XmlArray(items, value.item_tag) if isinstance(value, XmlArray) else items
    return value


def unwrap(data: Any, tag: str | None) -> Any:
    """A record out of its XML-like wrapper (``{"client": {...}}``); anything else as is."""
    if tag is not None and isinstance(data, dict) and len(data) == 1:
        inner = data.get(tag.replace("-", "_"), data.get(tag))
        if isinstance(inner, dict):
            return inner
    return data


def mirror_items(data: Any, tag: str | None, *, dashes: bool) -> list[Any]:
    """The records of a JSON list that mirrors XML: an array of wrapped records (or of bare
    ones), keys renamed to the XML spelling when its element names have dashes."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise DecodeError(f"expected a JSON array of records, got {type(data).__name__}")
    if dashes:
        data = rename_keys(data, "_", "-")
    return [unwrap(item, tag) for item in data]


def _start_page(request: Request, paging: Paging, page: int | None) -> tuple[Request, Paging, int]:
    """How a listing pages: the request, the paging and the first page number.

    A list the docs call unpaged still follows a ``Link: rel="next"`` when the server
    sends one (issue 6.15: lists documented as whole have turned out to page, and stopping
    after the first page would lose records silently). ``page`` starts a listing further in.
    """
    if paging.style == "none":
        paging = Paging("link")
    if page is None:
        return request, paging, 1
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ConfigError(f"page must be an integer >= 1, got {page!r}")
    if paging.style == "page":
        return request, paging, page
    if paging.style == "link":
        # Link-paged APIs number their pages in ?page=; the Link header takes over from there.
        query = (*[(k, v) for k, v in request.query if k != "page"], ("page", str(page)))
        return replace(request, query=query), paging, 1
    raise ConfigError(f"this endpoint pages by {paging.style}, not by page number")


class EnvelopePageIterator(PageIterator[T], Generic[T, E]):
    """A :class:`PageIterator` whose reply is an object: the records sit under one key and
    the other documented fields (e.g. the ``person`` a report is about) are decoded into
    :attr:`envelope` when the first page arrives."""

    def __init__(
        self,
        session: Session,
        request: Request,
        *,
        paging: Paging,
        key: str,
        envelope: Callable[[Any], E],
        convert: Callable[[Any], T],
        max_pages: int | None = None,
        max_items: int | None = None,
        start_page: int = 1,
    ) -> None:
        super().__init__(
            session,
            request,
            paging=paging,
            extract=self._extract_and_keep,
            convert=convert,
            max_pages=max_pages,
            max_items=max_items,
            start_page=start_page,
        )
        self._key = key
        self._decode_envelope = envelope
        #: The reply's fields besides the records (from the first page), once fetched.
        self.envelope: E | None = None

    def _extract_and_keep(self, data: Any) -> list[Any]:
        items = json_items(data, self._key)
        if self.envelope is None and isinstance(data, dict):
            self.envelope = self._decode_envelope({k: v for k, v in data.items() if k != self._key})
        return items


def _pick(record: Mapping[str, Any], source: str) -> tuple[bool, Any]:
    """``record[source]``; ``a[].b`` reads ``b`` of every item of list ``a``."""
    if "[]." in source:
        key, _, sub = source.partition("[].")
        if key not in record:
            return False, None
        items = record[key] or []
        return True, [item.get(sub) for item in items if isinstance(item, Mapping)]
    if source not in record:
        return False, None
    return True, record[source]
