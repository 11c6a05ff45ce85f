"""What an export walks: a product's listings and how records lead to more listings.

A :class:`Plan` names every listing of a product (a list endpoint of the generated client
with fixed arguments), which listings start the walk, and for each listing the listings
its records reveal (a Highrise person's notes, a Basecamp to-do list's to-dos). Adding a
product to ``aiocamp export`` is writing its plan in :mod:`aiocamp.export.products`.

The engine drives the pages itself (it must resume a listing at a recorded page), so it
reads the request, paging style and converters the generated list method prepared in its
:class:`~aiocamp.core._pagination.PageIterator`; :func:`endpoint_of` is the one place that
knows those attributes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ..core._errors import ConfigError, DecodeError
from ..core._pagination import PageIterator, Paging
from ..core._session import Request, Response

__all__ = [
    "Child",
    "Endpoint",
    "Listing",
    "Plan",
    "endpoint_of",
    "next_cursor",
    "page_request",
    "task_key",
]

#: Opens a listing on a client: (client, arguments, since) -> the generated PageIterator.
Opener = Callable[[Any, Mapping[str, Any], datetime | None], PageIterator[Any]]
#: The arguments of a child listing for one parent record (None: this record has none),
#: or with ``many=True`` a list of them.
ArgsOf = Callable[[Any], Any]
#: Fetches the one record of a single-record listing: (client, arguments) -> model.
Fetcher = Callable[[Any, Mapping[str, Any]], Awaitable[Any]]
#: Attachments of a record: (download URL, file name) pairs.
FilesOf = Callable[[Any], Iterable[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Child:
    """A listing revealed by each record of its parent listing."""

    listing: str
    args: ArgsOf
    many: bool = False

    def args_for(self, record: Any) -> list[Mapping[str, Any]]:
        found = self.args(record)
        if found is None:
            return []
        return list(found) if self.many else [found]


@dataclass(frozen=True, slots=True)
class Listing:
    """One list endpoint as the export walks it."""

    name: str
    #: Output file stem (records of several listings may share one file, e.g. open and
    #: closed cases both go to ``cases``).
    resource: str
    #: A list endpoint (paged) ...
    open: Opener | None = None
    #: ... or one record (a card table with its columns, the account).
    fetch: Fetcher | None = None
    root: bool = False
    children: tuple[Child, ...] = ()
    #: The listing accepts ``--since`` (the product's incremental parameter).
    since: bool = False
    files: FilesOf | None = None

    def __post_init__(self) -> None:
        if (self.open is None) == (self.fetch is None):
            raise ConfigError(f"listing {self.name} needs exactly one of open= and fetch=")


@dataclass(frozen=True, slots=True)
class Plan:
    """Every listing of one product's export."""

    product: str
    listings: Mapping[str, Listing]
    #: What ``--since`` does for this product (``None``: the product cannot filter).
    since_help: str | None = None

    def __post_init__(self) -> None:
        for listing in self.listings.values():
            for child in listing.children:
                if child.listing not in self.listings:
                    raise ConfigError(f"{listing.name} names an unknown child {child.listing}")

    @property
    def resources(self) -> list[str]:
        return sorted({listing.resource for listing in self.listings.values()})

    def selected(self, resources: Iterable[str] | None) -> tuple[set[str], set[str]]:
        """(listings to walk, resources to write) for a ``--resources`` selection.

        A listing is walked when it is selected or leads to a selected one (its records
        are then read for their children but not written)."""
        wanted = set(self.resources if resources is None else resources)
        unknown = wanted - set(self.resources)
        if unknown:
            raise ConfigError(
                f"unknown resource(s) for {self.product}: {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(self.resources)}"
            )
        walk: set[str] = set()

        def leads(name: str, trail: frozenset[str]) -> bool:
            listing = self.listings[name]
            hit = listing.resource in wanted
            for child in listing.children:
                if child.listing not in trail and leads(child.listing, trail | {child.listing}):
                    hit = True
            if hit:
                walk.add(name)
            return hit

        for name, listing in self.listings.items():
            if listing.root:
                leads(name, frozenset({name}))
        return walk, wanted


def task_key(listing: str, args: Mapping[str, Any]) -> str:
    """A stable name for a listing with its arguments (the checkpoint's key)."""
    if not args:
        return listing
    return listing + "?" + urlencode(sorted((k, str(v)) for k, v in args.items()))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a generated list method prepared: its first request, paging and converters.

    ``follow(response, request, count, number, offset)`` is the iterator's own rule for
    the next page's request (Link header, ``n=`` offsets, ``page=`` numbers...), so every
    paging style the core knows is resumable here without being written twice.
    """

    request: Request
    paging: Paging
    extract: Callable[[Any], list[Any]]
    convert: Callable[[Any], Any]
    follow: Callable[[Response, Request, int, int, int], Request | None]
    #: Number of the first page (``page`` paging).
    start: int = 1


def endpoint_of(iterator: PageIterator[Any]) -> Endpoint:
    try:
        return Endpoint(
            iterator._request,
            iterator._paging,
            iterator._extract,
            iterator._convert,
            iterator._next,
            int(getattr(iterator, "_start_page", getattr(iterator._paging, "start", 1))),
        )
    except AttributeError as exc:  # pragma: no cover - guards a change of the core
        raise ConfigError(f"the core PageIterator changed shape: {exc}") from None


def page_request(endpoint: Endpoint, cursor: Mapping[str, Any] | None) -> Request:
    """The request of the page a cursor points at (None: the first page)."""
    paging = endpoint.paging
    request = endpoint.request
    if cursor is None:
        if paging.style != "page":
            return request
        query = [(k, v) for k, v in request.query if k != paging.param]
        # Pages numbered from 0 (Backpack's journal ?n=) send start - 1.
        query.append((paging.param, str(endpoint.start - 1 + getattr(paging, "first_page", 1))))
        return replace(request, query=tuple(query))
    return replace(
        request,
        path=str(cursor["path"]),
        query=tuple((str(k), str(v)) for k, v in cursor["query"]),
    )


def next_cursor(
    endpoint: Endpoint,
    cursor: Mapping[str, Any] | None,
    request: Request,
    response: Response,
    count: int,
) -> dict[str, Any] | None:
    """Where the listing continues after a page of ``count`` raw records (None: done).

    A cursor is the next page's request (path and query) plus the page number and record
    offset the paging rule needs: plain JSON, so the checkpoint can hold it."""
    number = endpoint.start if cursor is None else int(cursor["number"])
    offset = 0 if cursor is None else int(cursor["offset"])
    following = endpoint.follow(response, request, count, number, offset)
    if following is None:
        return None
    if (following.path, following.query) == (request.path, request.query):
        raise DecodeError(
            "the next page is the page itself", url=str(response.url.with_query(None))
        )
    return {
        "path": following.path,
        "query": [list(pair) for pair in following.query],
        "number": number + 1,
        "offset": offset + count,
    }
