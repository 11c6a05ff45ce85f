"""Lazy pagination: ``async for`` yields records page by page, one page in memory.

Styles, as the products use them:

* ``link``: follow ``Link: <url>; rel="next"`` (Basecamp 4). A next URL of another origin
  or scheme is not followed: iteration ends with a warning.
* ``offset``: ``?n=<offset>`` with a fixed page size (Highrise); a short page ends it.
* ``page``: ``?page=<number>`` from 1 (Harvest invoices, Basecamp Classic); a short or empty
  page, or ``X-Pages``, ends it.
* ``none``: one request.

Totals from ``X-Total-Count`` or ``X-Records`` / ``X-Pages`` are exposed on the iterator.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from yarl import URL

from .errors import ConfigError, DecodeError

if TYPE_CHECKING:
    from .session import Request, Response, Session

__all__ = ["PageIterator", "Paging", "next_link"]

log = logging.getLogger("aiocamp.pagination")

T = TypeVar("T")
PagingStyle = Literal["link", "offset", "page", "none"]


@dataclass(frozen=True, slots=True)
class Paging:
    """How one list endpoint pages."""

    style: PagingStyle = "none"
    param: str = ""
    page_size: int = 0
    #: First page number requested (``page`` style: a listing may start further in).
    start: int = 1

    def __post_init__(self) -> None:
        if self.style in ("offset", "page") and (not self.param or self.page_size < 1):
            raise ConfigError(f"{self.style} paging needs a parameter and a page size")
        if self.start < 1:
            raise ConfigError("paging starts at page 1 or later")


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def next_link(header: str | None) -> str | None:
    """The URL of ``rel="next"`` in a Link header, if any."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        params = match.group(2)
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return match.group(1).strip()
    return None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
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
    ) -> None:
        if max_pages is not None and max_pages < 1:
            raise ConfigError("max_pages must be >= 1")
        if max_items is not None and max_items < 0:
            raise ConfigError("max_items must be >= 0")
        self._session = session
        self._request = request
        self._paging = paging
        self._extract = extract
        self._convert = convert
        self._max_pages = max_pages
        self._max_items = max_items
        self._iter: AsyncIterator[T] | None = None
        #: ``X-Total-Count`` (or ``X-Records``) of the first page, when the server sends it.
        self.total_count: int | None = None
        #: ``X-Pages``, when the server sends it.
        self.total_pages: int | None = None
        self.pages_fetched = 0
        self.items_yielded = 0

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
        page_number = self._paging.start
        offset = 0
        style = self._paging.style
        if style == "page":
            request = self._with_param(self._request, page_number)
        while request is not None:
            if self._max_pages is not None and self.pages_fetched >= self._max_pages:
                return
            response = await self._session.request(request)
            self.pages_fetched += 1
            self._read_totals(response)
            try:
                raw = self._extract(response.data)
                page = [self._convert(item) for item in raw]
            except DecodeError as exc:
                raise DecodeError(str(exc), status=response.status, url=str(response.url)) from None
            if self._max_items is not None:
                room = self._max_items - self.items_yielded
                if len(page) >= room:
                    page = page[:room]
                    self.items_yielded += len(page)
                    if page:
                        yield page
                    return
            self.items_yielded += len(page)
            if page:
                yield page
            request = self._next(response, request, len(raw), page_number, offset)
            page_number += 1
            offset += len(raw)

    def _next(
        self, response: Response, request: Request, count: int, number: int, offset: int
    ) -> Request | None:
        style = self._paging.style
        if style == "none" or count == 0:
            return None
        if style == "link":
            target = next_link(response.headers.get("Link"))
            if target is None:
                return None
            next_url = response.url.join(URL(target))
            here = response.url
            if (next_url.scheme, next_url.host, next_url.port) != (
                here.scheme,
                here.host,
                here.port,
            ):
                log.warning(
                    "not following a next-page link to another origin (%s://%s); "
                    "iteration stops here",
                    next_url.scheme,
                    next_url.host,
                )
                return None
            return replace(request, path=str(next_url), query=())
        if count < self._paging.page_size:
            return None
        if style == "offset":
            return self._with_param(self._request, offset + count)
        if self.total_pages is not None and number >= self.total_pages:
            return None
        return self._with_param(self._request, number + 1)

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
        self.total_count = total if total is not None else _header_int(headers, "X-Records")
        self.total_pages = _header_int(headers, "X-Pages")
