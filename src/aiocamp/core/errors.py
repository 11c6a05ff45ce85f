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
    ├── TransportError                         no usable HTTP response
    │   ├── ConnectError                       the request never reached the server
    │   └── RequestTimeout (also TimeoutError) the attempt or the call's budget ran out
    └── HTTPError                              the server answered with an error status
        ├── UnexpectedRedirect                 3xx we refuse to follow (other host / scheme)
        ├── ClientError                        4xx
        │   ├── BadRequest                     400
        │   ├── Unauthorized                   401
        │   ├── Forbidden                      403
        │   ├── NotFound                       404
        │   │   └── AccountInactive            404 + ``Reason: Account Inactive`` (never retried)
        │   ├── UnsupportedMediaType           415
        │   ├── UnprocessableEntity            422
        │   └── RateLimited                    429 (also 503 + Retry-After once retries are spent)
        └── ServerError                        5xx
            ├── ServiceUnavailable             503
            └── InsufficientStorage            507 (account plan limit)

``HTTPError`` carries ``status``, ``method``, ``url`` (never a credential), ``body`` (the first
bytes of the reply, scrubbed of credentials) and ``headers``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
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
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "ServiceUnavailable",
    "SpecError",
    "TransportError",
    "Unauthorized",
    "UnexpectedRedirect",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "error_for_status",
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
    """A response body could not be decoded."""

    def __init__(
        self, message: str, *, status: int | None = None, url: str = "", body: bytes = b""
    ) -> None:
        self.reason = message
        self.status = status
        self.url = url
        self.body = body[:BODY_EXCERPT_BYTES]
        where = f" (HTTP {status} from {url})" if url else ""
        super().__init__(f"{message}{where}; body starts {self.body[:120]!r}")


class TransportError(AiocampError):
    """The request got no usable HTTP response (connection, protocol or timeout)."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        super().__init__(f"{message} ({method} {url})" if url else message)


class ConnectError(TransportError):
    """The connection failed before the request was sent: safe to retry any method."""


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
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body[:BODY_EXCERPT_BYTES]
        self.headers = dict(headers or {})
        detail = f": {message}" if message else ""
        super().__init__(f"HTTP {status} for {method} {url}{detail}")


class UnexpectedRedirect(HTTPError):
    """A redirect aiocamp will not follow (another host, or https to http)."""


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
    """Throttled (429, or 503 + Retry-After) and the retry budget is spent."""

    def __init__(self, status: int, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(status, **kwargs)  # type: ignore[arg-type]


class ServerError(HTTPError):
    """A 5xx reply."""


class ServiceUnavailable(ServerError):
    """503 without Retry-After: the service is down or overloaded."""


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


def _is_inactive(headers: Mapping[str, str]) -> bool:
    reason = headers.get("Reason") or headers.get("reason") or ""
    return reason.strip().lower() == "account inactive"
