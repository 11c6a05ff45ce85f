"""Lazy pagination: ``async for`` yields records page by page, one page in memory.

Styles, as the products use them:

* ``link``: follow ``Link: <url>; rel="next"`` (Basecamp 4). A next URL of another origin
  or scheme is not followed: iteration ends with a warning. Empty targets (``<>``) are
  skipped; ``rel`` matches case-insensitively (RFC 8288).
* ``offset``: ``?n=<offset>`` with a fixed page size (Highrise); a short page ends it.
* ``page``: ``?page=<number>`` from 1 (Harvest invoices, Basecamp Classic); a short or empty
  page, or ``X-Pages``, ends it.
* ``continued_at``: the XML root's ``continued-at`` attribute names the next (older) page
  and ``count`` the total (Basecamp Classic comments).
* ``none``: one request.

Totals from ``X-Total-Count`` or ``X-Records`` / ``X-Pages`` are exposed on the iterator
(impossible values, negative or beyond 2**53, count as unknown).

A listing never loops: a next page whose URL was already fetched, or a page whose record
ids repeat the previous page's (a server ignoring the offset), raises
:class:`~aiocamp.errors.PaginationError`, as does a malformed Link target.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from yarl import URL

from ._constants import MAX_HEADER_COUNT, OFFLOOP_DECODE_BYTES
from ._errors import ConfigError, DecodeError, PaginationError
from ._session import offload

if TYPE_CHECKING:
    from ._session import Request, Response, Session

__all__ = ["PageIterator", "Paging", "next_link"]

log = logging.getLogger("aiocamp.pagination")

T = TypeVar("T")
PagingStyle = Literal["link", "offset", "page", "continued_at", "none"]


@dataclass(frozen=True, slots=True)
class Paging:
    """How one list endpoint pages."""

    style: PagingStyle = "none"
    param: str = ""
    page_size: int = 0
    #: ``page`` paging: the number the server gives its first page (Backpack journal: 0).
    first_page: int = 1
    #: A query parameter setting the page size (Backpack ``count``): when the caller
    #: passes it, a page shorter than its value is the last one.
    size_param: str = ""

    def __post_init__(self) -> None:
        if self.style in ("offset", "page") and (not self.param or self.page_size < 1):
            raise ConfigError(f"{self.style} paging needs a parameter and a page size")


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def next_link(header: str | None) -> str | None:
    """The first non-empty URL of ``rel="next"`` in a Link header, if any."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        target = match.group(1).strip()
        if not target:
            continue  # "<>" would resolve to the current page
        for param in match.group(2).split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return target
    return None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 20:
        return None
    number = int(value)
    return number if number <= MAX_HEADER_COUNT else None


def _record_id(item: Any) -> Any:
    if isinstance(item, dict):
        value = item.get("id")
        return repr(value) if value is not None else None
    return None


def _root_attribute(data: Any, name: str) -> str | None:
    """An attribute of an XML document's root element (``@name``), if any."""
    if isinstance(data, dict) and len(data) == 1:
        root = next(iter(data.values()))
        if isinstance(root, dict):
            value = root.get(name)
            return value if isinstance(value, str) and value.strip() else None
    return None


class PageIterator(Generic[T]):
    """An async iterator over the records of a list endpoint, fetched lazily."""

    def __init__(
        self,
        session: Session,
        request: Request,
        *,
        paging: Paging,
        extract: Callable[[Any], list[Any]],
        convert: Callable[[Any], T],
        max_pages: int | None = None,
        max_items: int | None = None,
        start_page: int = 1,
    ) -> None:
        if max_pages is not None and max_pages < 1:
            raise ConfigError("max_pages must be >= 1")
        if max_items is not None and max_items < 0:
            raise ConfigError("max_items must be >= 0")
        if not isinstance(start_page, int) or start_page < 1:
            raise ConfigError("start_page must be an integer >= 1")
        if start_page != 1 and paging.style not in ("page", "offset"):
            raise ConfigError(f"{paging.style!r} paging cannot start at page {start_page}")
        self._session = session
        self._request = request
        self._paging = paging
        self._extract = extract
        self._convert = convert
        self._max_pages = max_pages
        self._max_items = max_items
        self._start_page = start_page
        self._page_size = paging.page_size
        self._iter: AsyncIterator[T] | None = None
        #: ``X-Total-Count`` (or ``X-Records``) of the first page, when the server sends it.
        self.total_count: int | None = None
        #: ``X-Pages``, when the server sends it.
        self.total_pages: int | None = None
        self.pages_fetched = 0
        self.items_yielded = 0
        #: True when ``max_pages`` or ``max_items`` stopped the listing before its end.
        self.truncated = False

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        if self._iter is None:
            self._iter = self._items()
        return await anext(self._iter)

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page:
                yield item

    async def pages(self) -> AsyncIterator[list[T]]:
        """Yield whole pages of converted records."""
        request: Request | None = self._request
        page_number = self._start_page
        offset = 0
        style = self._paging.style
        if self._paging.size_param:
            self._page_size = self._size_from(self._request)
        if style == "page":
            request = self._with_param(self._request, page_number - 1 + self._paging.first_page)
        elif style == "offset" and page_number > 1:
            offset = (page_number - 1) * self._paging.page_size
            request = self._with_param(self._request, offset)
        visited: set[str] = set()
        previous_ids: list[Any] | None = None
        while request is not None:
            if self._max_pages is not None and self.pages_fetched >= self._max_pages:
                self.truncated = True
                return
            self._check_visited(visited, request)
            response = await self._session.request(request)
            self.pages_fetched += 1
            self._read_totals(response)
            try:
                if response.size >= OFFLOOP_DECODE_BYTES:
                    raw, page = await offload(self._convert_page, response.data)
                else:
                    raw, page = self._convert_page(response.data)
            except DecodeError as exc:
                raise response.decode_error(exc) from None
            # Numbered pages have no link to compare: a server that ignores the parameter
            # shows up as a page of the same records again.
            ids = [_record_id(item) for item in raw] if style in ("offset", "page") else []
            if ids and ids == previous_ids and any(i is not None for i in ids):
                raise PaginationError(
                    f"page {page_number} repeats the records of the page before it "
                    "(the server ignores the paging parameter)",
                    url=self._safe_url(response),
                )
            previous_ids = ids
            following = self._next(response, request, len(raw), page_number, offset)
            if self._max_items is not None:
                room = self._max_items - self.items_yielded
                if len(page) >= room:
                    self.truncated = len(page) > room or following is not None
                    page = page[:room]
                    self.items_yielded += len(page)
                    if page:
                        yield page
                    return
            self.items_yielded += len(page)
            if page:
                yield page
            request = following
            page_number += 1
            offset += len(raw)

    def _convert_page(self, data: Any) -> tuple[list[Any], list[T]]:
        raw = self._extract(data)
        return raw, [self._convert(item) for item in raw]

    def _safe_url(self, response: Response) -> str:
        # Scrubbed too: a Backpack path can carry the token.
        return self._session._safe(response.url.with_query(None))

    def _check_visited(self, visited: set[str], request: Request) -> None:
        url = self._session.url_for(request)
        here = str(url)
        if here in visited:
            raise PaginationError(
                "the next-page link leads back to a page already fetched",
                url=self._session._safe(url.with_query(None)),
            )
        visited.add(here)

    def _next(
        self, response: Response, request: Request, count: int, number: int, offset: int
    ) -> Request | None:
        style = self._paging.style
        if style == "none" or count == 0:
            return None
        if style in ("link", "continued_at"):
            target = (
                next_link(response.headers.get("Link"))
                if style == "link"
                else _root_attribute(response.data, "@continued-at")
            )
            if target is None:
                return None
            here = response.url
            try:
                next_url = here.join(URL(target))
                origin = (next_url.scheme, next_url.host, next_url.port)
            except (ValueError, TypeError):
                raise PaginationError(
                    "the next-page Link target is not a valid URL", url=self._safe_url(response)
                ) from None
            if origin != (here.scheme, here.host, here.port):
                log.warning(
                    "not following a next-page link to another origin (%s://%s); "
                    "iteration stops here",
                    next_url.scheme,
                    next_url.host,
                )
                return None
            return replace(request, path=str(next_url), query=())
        if count < self._page_size:
            return None
        if style == "offset":
            return self._with_param(self._request, offset + count)
        if self.total_pages is not None and number >= self.total_pages:
            return None
        return self._with_param(self._request, number + self._paging.first_page)

    def _size_from(self, request: Request) -> int:
        """The page size the caller asked for with ``size_param`` (else the documented one)."""
        for name, value in request.query:
            if name == self._paging.size_param and value.isdigit() and int(value) > 0:
                return min(int(value), self._paging.page_size)
        return self._paging.page_size

    def _with_param(self, request: Request, value: int) -> Request:
        name = self._paging.param
        query = [(k, v) for k, v in request.query if k != name]
        query.append((name, str(value)))
        return replace(request, query=tuple(query))

    def _read_totals(self, response: Response) -> None:
        if self.pages_fetched != 1:
            return
        headers = response.headers
        total = _header_int(headers, "X-Total-Count")
        if total is None and self._paging.style == "continued_at":
            count = _root_attribute(response.data, "@count")
            total = int(count) if count is not None and count.strip().isdigit() else None
        self.total_count = total if total is not None else _header_int(headers, "X-Records")
        self.total_pages = _header_int(headers, "X-Pages")
