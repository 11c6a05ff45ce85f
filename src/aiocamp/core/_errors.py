"""The aiocamp exception tree.

Every error aiocamp raises on purpose derives from :class:`AiocampError`. Lower-level
exceptions (aiohttp, expat, json) are translated at one boundary, the session's transport
layer, so callers only ever catch these::

    AiocampError
    ├── AuthError                              an OAuth 2 grant, code exchange or refresh failed
    ├── ConfigError (also ValueError)          bad arguments, detected before any I/O
    │   └── InsecureTransportError             credentials would leave https or their host
    ├── SpecError                              a resource spec is invalid (codegen)
    ├── EncodeError (also ValueError)          a value cannot be written in the wire format
    ├── DecodeError                            a body cannot be decoded (status, url, first bytes)
    ├── PaginationError                        a listing cannot go on (loop, bad Link target)
    ├── ConcurrentModification                 a read-modify-write saw the record change
    ├── TransportError                         no usable HTTP response
    │   ├── ConnectError                       the request never reached the server
    │   ├── ResponseTooLarge                   the decoded body passed the size limit
    │   └── RequestTimeout (also TimeoutError) the attempt or the call's budget ran out
    └── HTTPError                              the server answered with an error status
        ├── UnexpectedRedirect                 3xx we refuse to follow (other origin, a write)
        │   └── TooManyRedirects               more hops than MAX_REDIRECTS
        ├── ClientError                        4xx
        │   ├── BadRequest                     400
        │   ├── Unauthorized                   401
        │   ├── Forbidden                      403
        │   ├── NotFound                       404
        │   │   └── AccountInactive            404 + ``Reason: Account Inactive`` (never retried)
        │   ├── UnsupportedMediaType           415
        │   ├── UnprocessableEntity            422
        │   └── RateLimited                    429 once retries are spent (or the pause is too long)
        └── ServerError                        5xx
            ├── ServiceUnavailable             503
            │   └── ServiceThrottled           503 + Retry-After: also a RateLimited
            └── InsufficientStorage            507 (account plan limit)

``HTTPError`` carries ``status``, ``method``, ``url`` (never a credential), ``body`` (the first
bytes of the reply, scrubbed of credentials), ``headers``, ``request_id`` (``X-Request-Id``),
``retryable`` (what aiocamp's retry policy decided) and ``server_message`` (the error text of
a ``{"error": ...}`` or ``<errors><error>`` body, scrubbed), which ``str(e)`` shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = [
    "ConcurrentModification",
    "AccountInactive",
    "AiocampError",
    "AuthError",
    "BadRequest",
    "ClientError",
    "ConfigError",
    "ConnectError",
    "DecodeError",
    "EncodeError",
    "Forbidden",
    "HTTPError",
    "InsecureTransportError",
    "InsufficientStorage",
    "NotFound",
    "PaginationError",
    "RateLimited",
    "RequestTimeout",
    "ResponseTooLarge",
    "ServerError",
    "ServiceThrottled",
    "ServiceUnavailable",
    "SpecError",
    "TooManyRedirects",
    "TransportError",
    "Unauthorized",
    "UnexpectedRedirect",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "error_for_status",
    "server_message",
    "with_decode_context",
]

#: How many bytes of a body an error keeps.
BODY_EXCERPT_BYTES = 512


class AiocampError(Exception):
    """Base of every error raised by aiocamp."""


class AuthError(AiocampError):
    """An OAuth 2 flow failed: ``error`` is the server's code (e.g. ``invalid_grant``)."""

    def __init__(self, message: str, *, error: str | None = None, provider: str = "") -> None:
        self.error = error
        self.provider = provider
        super().__init__(message)


class ConfigError(AiocampError, ValueError):
    """An argument is invalid; raised before any request is sent."""


class InsecureTransportError(ConfigError):
    """Credentials would be sent over plain http (off loopback) or to a foreign host."""


class SpecError(AiocampError):
    """A resource spec is invalid: names the file, the key path and what was expected."""

    def __init__(self, file: str, key_path: str, expected: str) -> None:
        self.file = file
        self.key_path = key_path
        self.expected = expected
        super().__init__(f"{file}: {key_path or '<root>'}: {expected}")


class EncodeError(AiocampError, ValueError):
    """A value cannot be encoded in the wire format."""


class DecodeError(AiocampError):
    """A response body could not be decoded.

    ``reason`` says what was wrong; ``status``, ``url`` and ``body`` (the first bytes,
    scrubbed of credentials) are filled in at the session boundary (see
    :func:`with_decode_context`).
    """

    def __init__(
        self, message: str, *, status: int | None = None, url: str = "", body: bytes = b""
    ) -> None:
        self.reason = message
        self.status = status
        self.url = url
        self.body = body[:BODY_EXCERPT_BYTES]
        where = f" (HTTP {status} from {url})" if url else ""
        starts = f"; body starts {self.body[:120]!r}" if self.body else ""
        super().__init__(f"{message}{where}{starts}")


def with_decode_context(
    exc: DecodeError,
    *,
    status: int,
    url: str,
    body: bytes,
    scrub: Callable[[str], str] | None = None,
) -> DecodeError:
    """The same decode error with the reply's status, URL and first bytes.

    ``url`` must already be safe to show; ``scrub`` removes credentials from the reason and
    the body excerpt (a server may echo a token into a 2xx body). The error's class is kept.
    """
    reason = exc.reason
    excerpt = body[:BODY_EXCERPT_BYTES]
    if scrub is not None:
        reason = scrub(reason)
        excerpt = scrub(excerpt.decode("utf-8", "replace")).encode()
    new = type(exc).__new__(type(exc))
    DecodeError.__init__(new, reason, status=status, url=url, body=excerpt)
    return new


class ConcurrentModification(AiocampError):
    """A ``patch`` (read, change, write back) found the record changed by someone else
    between its read and its write, so it did not write: read again and retry."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        super().__init__(f"{message} ({url})" if url else message)


class PaginationError(AiocampError):
    """A listing cannot continue: the next-page link is malformed or leads back to a page
    already fetched, or a page repeats the previous one (a server ignoring the offset)."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        super().__init__(f"{message} (listing {url})" if url else message)


class TransportError(AiocampError):
    """The request got no usable HTTP response (connection, protocol or timeout)."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        super().__init__(f"{message} ({method} {url})" if url else message)


class ConnectError(TransportError):
    """The connection failed before the request was sent: safe to retry any method."""


class ResponseTooLarge(TransportError):
    """The reply's decoded body passed the client's ``max_body_bytes``; reading stopped
    there and the connection was released."""

    def __init__(self, limit: int, *, method: str = "", url: str = "") -> None:
        self.limit = limit
        super().__init__(
            f"the reply's body is larger than max_body_bytes={limit}", method=method, url=url
        )


class RequestTimeout(TransportError, TimeoutError):
    """An attempt or the whole call's time budget ran out."""


class HTTPError(AiocampError):
    """The server answered with a status aiocamp treats as an error."""

    def __init__(
        self,
        status: int,
        *,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        message: str = "",
        retryable: bool = False,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body[:BODY_EXCERPT_BYTES]
        self.headers = dict(headers or {})
        self.request_id: str | None = _header(self.headers, "X-Request-Id")
        #: What aiocamp's retry policy decided for this reply (set by the session).
        self.retryable = retryable
        #: The server's own error text, when the body carries one (already scrubbed).
        self.server_message = message
        detail = f": {message}" if message else ""
        super().__init__(f"HTTP {status} for {method} {url}{detail}")


class UnexpectedRedirect(HTTPError):
    """A redirect aiocamp will not follow: another origin (scheme, host or port; http from
    https), or a 301/302/307/308 answer to a request that is not idempotent, which would
    otherwise send the body again. ``location`` is the target (without credentials)."""

    def __init__(self, status: int, *, location: str = "", **kwargs: object) -> None:
        self.location = location
        super().__init__(status, **kwargs)  # type: ignore[arg-type]


class TooManyRedirects(UnexpectedRedirect):
    """More redirect hops than aiocamp follows; ``status`` is the last 3xx received."""


class ClientError(HTTPError):
    """A 4xx reply."""


class BadRequest(ClientError):
    """400: malformed request (Basecamp 4 also answers 400 without a User-Agent)."""


class Unauthorized(ClientError):
    """401: missing, wrong or expired credentials."""


class Forbidden(ClientError):
    """403: the credentials may not do this."""


class NotFound(ClientError):
    """404: no such record, or no access to it."""


class AccountInactive(NotFound):
    """404 with ``Reason: Account Inactive``: the account is suspended or expired."""


class UnsupportedMediaType(ClientError):
    """415: a write without (or with the wrong) Content-Type."""


class UnprocessableEntity(ClientError):
    """422: the server rejected the submitted fields."""


class RateLimited(ClientError):
    """Throttled (429, or a 503 with Retry-After, see :class:`ServiceThrottled`) and the
    retries are spent, or the server asks for a pause longer than the call may wait.

    ``retry_after`` is the server's value in seconds, as sent (not capped).
    """

    def __init__(self, status: int, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(status, **kwargs)  # type: ignore[arg-type]


class ServerError(HTTPError):
    """A 5xx reply."""


class ServiceUnavailable(ServerError):
    """503 without Retry-After: the service is down or overloaded."""


class ServiceThrottled(RateLimited, ServiceUnavailable):
    """503 with Retry-After: throttling, so both ``except RateLimited`` and
    ``except ServerError`` catch it."""


class InsufficientStorage(ServerError):
    """507: the account's plan does not allow more records of this kind."""


_BY_STATUS: dict[int, type[HTTPError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    415: UnsupportedMediaType,
    422: UnprocessableEntity,
    429: RateLimited,
    503: ServiceUnavailable,
    507: InsufficientStorage,
}


def error_for_status(status: int, headers: Mapping[str, str] | None = None) -> type[HTTPError]:
    """The exception class for an error status (and its headers)."""
    if status == 404 and headers is not None and _is_inactive(headers):
        return AccountInactive
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 300 <= status < 400:
        return UnexpectedRedirect
    if 400 <= status < 500:
        return ClientError
    if status >= 500:
        return ServerError
    return HTTPError


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _is_inactive(headers: Mapping[str, str]) -> bool:
    reason = _header(headers, "Reason") or ""
    return reason.strip().lower() == "account inactive"


#: How many characters of the server's error text an error message shows.
SERVER_MESSAGE_CHARS = 300


def server_message(body: bytes) -> str:
    """The error text of an error reply body, or "".

    Understands ``{"error": "..."}``, ``{"errors": [...]}`` / ``{"errors": {field: [...]}}``
    (JSON) and ``<errors><error>...</error></errors>`` (XML). Never raises.
    """
    text = body[: 64 * 1024].decode("utf-8", "replace").strip()
    if not text:
        return ""
    parts: list[str] = []
    if text[0] in "{[":
        import json

        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return ""
        if isinstance(data, dict):
            for key in ("error", "errors", "message"):
                _collect(data.get(key), parts, key)
    elif text[0] == "<":
        import re

        parts = [
            m.strip() for m in re.findall(r"<error(?:\s[^>]*)?>([^<]*)</error>", text) if m.strip()
        ]
    message = "; ".join(parts)
    if len(message) > SERVER_MESSAGE_CHARS:
        message = message[: SERVER_MESSAGE_CHARS - 3] + "..."
    return message


def _collect(value: object, parts: list[str], label: str, depth: int = 0) -> None:
    if depth > 3 or value is None:
        return
    if isinstance(value, str | int | float):
        parts.append(str(value) if label in ("error", "errors", "message") else f"{label} {value}")
    elif isinstance(value, list):
        for item in value[:20]:
            _collect(item, parts, label, depth + 1)
    elif isinstance(value, dict):
        for key, item in list(value.items())[:20]:
            _collect(item, parts, str(key), depth + 1)
