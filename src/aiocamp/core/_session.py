"""The hand-written async session every generated client runs on.

One request goes: URL check (credentials only over https or loopback http, only to the
client's hosts) -> limiter (token buckets of its limit classes) -> ETag cache (validators
on GET) -> aiohttp (body read with a size limit, redirects only within the origin) ->
status handling (304 from cache, errors, Retry-After pauses) -> codec (off the event loop
for big bodies). Retries wrap the part from the limiter on, within a total time budget.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._auth import AuthStrategy, NoAuth, ensure_secure
from ._cache import CacheEntry, cache_key, sync_get
from ._codecs import CODECS, STDLIB_JSON, Codec
from ._constants import (
    CACHE_KEPT_HEADERS,
    MAX_REDIRECTS,
    OFFLOOP_DECODE_BYTES,
    THROTTLE_STATUSES,
)
from ._errors import (
    BODY_EXCERPT_BYTES,
    AiocampError,
    ConfigError,
    ConnectError,
    DecodeError,
    HTTPError,
    RateLimited,
    RequestTimeout,
    ResponseTooLarge,
    ServiceThrottled,
    TooManyRedirects,
    TransportError,
    UnexpectedRedirect,
    error_for_status,
    server_message,
    with_decode_context,
)
from ._limiter import Limit, Limiter, LimiterWaitTooLong
from ._redaction import RedactedHeaders, scrub
from ._retry import IDEMPOTENT_METHODS, Budget, parse_retry_after
from ._settings import DEFAULT, ClientSettings

__all__ = [
    "DEFAULT",
    "ProductConfig",
    "Request",
    "Response",
    "Session",
    "SessionStats",
    "offload",
]

T = TypeVar("T")

#: Parsed base-URL + path pairs a session keeps (cleared whole when full).
URL_CACHE_SIZE = 512

log = logging.getLogger("aiocamp.session")
retry_log = logging.getLogger("aiocamp.retry")


@dataclass(frozen=True, slots=True)
class ProductConfig:
    """What the runtime needs to know of one product (generated from ``_product.yaml``)."""

    name: str
    format: str
    limits: Mapping[str, Limit]
    default_limit_classes: tuple[str, ...]
    errors: str = "http"
    #: Hosts besides the base URL's that may receive the credential (e.g. Launchpad).
    credential_hosts: tuple[str, ...] = ()
    #: Methods whose requests draw from other classes by default (``{"GET": ("reads",)}``);
    #: generated resources apply it (core/_resource.py).
    method_limit_classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: JSON replies and bodies follow the XML structure (Harvest); generated resources
    #: translate between the two (core/_resource.py).
    json_mirrors_xml: bool = False


@dataclass(slots=True)
class Request:
    """One API call, as generated code describes it (treat it as immutable: pagination
    derives the next page's request with ``dataclasses.replace``). Not frozen: a frozen
    dataclass costs ~3 us more per call to build, on every request."""

    method: str
    path: str
    query: Sequence[tuple[str, str]] = ()
    #: Wire data for the codec (dict / list), or None.
    body: Any = None
    #: Raw bytes sent as they are (uploads), with their content type.
    raw_body: bytes | None = None
    content_type: str | None = None
    #: A file sent as multipart/form-data: (form field, file name, bytes, media type).
    multipart: tuple[str, str, bytes, str] | None = None
    limit_classes: tuple[str, ...] | None = None
    idempotent: bool | None = None
    #: Body-token auth: False when the credential travels elsewhere (in the path), so the
    #: body is sent as it is instead of inside ``<request><token>``.
    token_in_body: bool = True
    #: False for a GET that changes state: never answered from (or stored in) the cache.
    cache: bool = True
    #: The reply is a file (Harvest's receipt image): its bytes are the data, undecoded.
    raw_reply: bool = False

    def is_idempotent(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method in IDEMPOTENT_METHODS


@dataclass(slots=True)
class Response:
    """A decoded reply."""

    status: int
    headers: CIMultiDictProxy[str] | CIMultiDict[str]
    data: Any
    url: URL
    from_cache: bool = False
    #: Length of the (decompressed) body in bytes.
    size: int = 0
    #: The body's first bytes, scrubbed when an error shows them.
    excerpt: bytes = field(default=b"", repr=False)
    _scrub: Callable[[str], str] | None = field(default=None, repr=False, compare=False)

    def decode_error(self, exc: DecodeError) -> DecodeError:
        """``exc`` with this reply's status, URL (credentials removed) and first bytes."""
        scrubber = self._scrub
        url = str(self.url.with_user(None))
        if scrubber is not None:
            url = scrubber(url)
        return with_decode_context(
            exc, status=self.status, url=url, body=self.excerpt, scrub=scrubber
        )


@dataclass(slots=True)
class SessionStats:
    """Counters an export summary reports."""

    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    throttled: int = 0
    limiter_wait: float = 0.0


@dataclass(slots=True)
class _Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: URL
    method: str  # of the request this replies to (after a 303: the GET)


@dataclass(slots=True)
class _Call:
    """What one ``request()`` call sends, computed once before the first attempt."""

    request: Request
    method: str
    url: URL
    body: bytes | None
    content_type: str | None
    classes: tuple[str, ...]
    idempotent: bool
    cache_key: str | None = None
    cached: CacheEntry | None = None


@dataclass(slots=True)
class _Outcome:
    """One attempt's result: a response, or an error with what the retry loop needs."""

    response: Response | None = None
    error: AiocampError | None = None
    #: The server's Retry-After on a throttled reply (seconds, as sent).
    retry_after: float | None = None
    #: Headers sent, when the reply was a 401 a credential refresh may cure.
    unauthorized: RedactedHeaders | None = None


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


def _paused_gc(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` with the cyclic GC paused: building a big page's objects would otherwise
    trigger full collections that hold the GIL, and with it the event loop, for 100+ ms."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        return fn(*args, **kwargs)
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


async def offload(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args)`` in a worker thread, GC paused: for decoding big bodies off the loop."""
    return await asyncio.to_thread(_paused_gc, fn, *args, **kwargs)


_SPACE = re.compile(r"[ \t\n\r]*")


def _json_array_in_steps(body: bytes) -> list[Any]:
    """A JSON array decoded one element at a time (the stdlib scanner, same values as
    ``json.loads``). A C parser holds the GIL for a whole 5 MB page (40-90 ms of stalled
    event loop); between elements the loop's thread gets the GIL back."""
    text = body.decode("utf-8")
    scan = STDLIB_JSON.raw_decode  # the decoder of a small page's fallback: same values

    def skip(text: str, pos: int) -> re.Match[str]:
        found = _SPACE.match(text, pos)
        assert found is not None  # the pattern matches the empty string
        return found

    pos = skip(text, 0).end()
    if text[pos : pos + 1] != "[":
        raise ValueError("not a JSON array")
    pos = skip(text, pos + 1).end()
    items: list[Any] = []
    if text[pos : pos + 1] == "]":
        pos += 1
    else:
        while True:
            item, pos = scan(text, pos)
            items.append(item)
            pos = skip(text, pos).end()
            sep = text[pos : pos + 1]
            pos = skip(text, pos + 1).end()
            if sep == "]":
                break
            if sep != ",":
                raise ValueError(f"expected ',' or ']' at {pos}")
    if pos != len(text):
        raise ValueError(f"extra data at {pos}")
    return items


def unwrap_envelope(data: Any) -> Any:
    """Backpack: the result inside ``<response success='true'>`` (None when it is empty);
    documents without that envelope (the REST paths) pass through."""
    if not isinstance(data, dict) or len(data) != 1 or "response" not in data:
        return data
    inner = data["response"]
    if not isinstance(inner, dict):
        return None
    children = {k: v for k, v in inner.items() if k[:1] != "@"}
    return children or None


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _multipart(field: str, filename: str, data: bytes, media_type: str) -> tuple[bytes, str]:
    """One file as a multipart/form-data body (built once, so retries resend it as is)."""
    boundary = "aiocamp-" + secrets.token_hex(16)
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n"
    ).encode()
    body = head + bytes(data) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Session:
    """Sends requests for one client: auth, limiter, cache, retry, codecs."""

    def __init__(self, product: ProductConfig, settings: ClientSettings) -> None:
        user_agent = settings.user_agent
        if not isinstance(user_agent, str) or not user_agent.strip():
            raise ConfigError(
                'user_agent is required: name your app and a contact, e.g. "MyApp (me@example.com)"'
            )
        if _has_control(user_agent):
            raise ConfigError("user_agent must not contain line breaks or control characters")
        if not settings.timeout > 0:
            raise ConfigError("timeout must be > 0 seconds")
        max_body = settings.max_body_bytes
        if not isinstance(max_body, int) or isinstance(max_body, bool) or max_body < 1:
            raise ConfigError("max_body_bytes must be a positive integer")
        self.product = product
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        base = URL(self.base_url)
        if not base.host or base.scheme not in ("http", "https"):
            raise ConfigError(
                f"base_url must be an absolute http(s) URL, got {settings.base_url!r}"
            )
        auth = settings.auth
        self._auth = auth
        self._has_credentials = not isinstance(auth, NoAuth)
        # Absolute endpoints of another host (Launchpad) can be pointed at a sandbox too.
        self._overrides = {host: URL(target) for host, target in settings.host_overrides.items()}
        for host, target in self._overrides.items():
            if not target.host or target.scheme not in ("http", "https"):
                raise ConfigError(
                    f"host_overrides[{host!r}] must be an absolute http(s) URL, got {str(target)!r}"
                )
        self._hosts = (
            base.host,
            *product.credential_hosts,
            *(u.host for u in self._overrides.values() if u.host),
        )
        ensure_secure(base, self._hosts, with_credentials=self._has_credentials)
        self._codec: Codec = CODECS[product.format]
        self._user_agent = user_agent.strip()
        self._static_headers = {"User-Agent": self._user_agent, "Accept": self._codec.accept}
        # Parsed URLs of recent paths: list pages and repeated GETs reuse them.
        self._urls: dict[str, URL] = {}
        self._timeout = settings.timeout
        self._max_body = max_body
        self._default_client_timeout = aiohttp.ClientTimeout(total=settings.timeout)
        self._retry = settings.retry
        self._cache = settings.resolved_cache()
        self._cache_get_now = sync_get(self._cache) if self._cache is not None else None
        rate_limit = settings.resolved_rate_limit()
        self._limiter: Limiter | None = None
        if rate_limit is not None:
            limits = dict(product.limits)
            limits.update(rate_limit.limits or {})
            self._limiter = Limiter(
                product.name,
                settings.account,
                limits,
                rate_limit.backend,
                time_scale=rate_limit.time_scale,
                max_pause=self._retry.max_retry_after,
            )
        self._secure_origins: set[tuple[str, str | None]] = set()
        self._http = settings.http_session
        self._owns_http = settings.http_session is None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self.stats = SessionStats()

    @property
    def strict(self) -> bool:
        """Whether replies decode strictly (``strict=True`` on the client)."""
        return self.settings.strict

    def __repr__(self) -> str:
        return f"Session({self.product.name}, {self.base_url!r}, auth={self._auth!r})"

    @property
    def limiter(self) -> Limiter | None:
        return self._limiter

    @property
    def auth(self) -> AuthStrategy:
        return self._auth

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the aiohttp session if we created it (never a caller's)."""
        if self._owns_http and self._http is not None and not self._http.closed:
            if self._http_loop is None or self._http_loop is asyncio.get_running_loop():
                await self._http.close()
            else:
                self._http.detach()  # made by a loop that is gone: nothing left to await
        self._http = None if self._owns_http else self._http

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        http = self._http
        if http is not None and self._owns_http and self._http_loop is not loop:
            if self._http_loop is not None and not self._http_loop.is_closed():
                raise ConfigError(
                    "this client is in use by another running event loop; "
                    "a client belongs to one event loop at a time"
                )
            # The loop that made our connections has ended (asyncio.run called again):
            # start afresh in this one.
            http.detach()
            http = None
        if http is None:
            if not self._owns_http:
                raise ConfigError("the caller's aiohttp session is gone")
            http = self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            )
            self._http_loop = loop
        elif not self._owns_http and getattr(http, "_loop", loop) is not loop:
            raise ConfigError("the aiohttp session given as session= belongs to another event loop")
        return http

    # -- building -------------------------------------------------------------------------

    def url_for(self, request: Request) -> URL:
        path = request.path
        if path.startswith(("https://", "http://")):
            url = URL(path, encoded=True)
            target = self._overrides.get(url.host or "")
            if target is not None:
                url = url.with_scheme(target.scheme).with_host(target.host or "")
                url = url.with_port(target.port)
        else:
            known = self._urls.get(path)
            if known is None:
                known = URL(self.base_url + path, encoded=True)
                if len(self._urls) >= URL_CACHE_SIZE:
                    self._urls.clear()
                self._urls[path] = known
            url = known
        if request.query:
            url = url.extend_query(list(request.query))
        return url

    def _body(self, request: Request) -> tuple[bytes | None, str | None]:
        if request.multipart is not None:
            return _multipart(*request.multipart)
        if request.raw_body is not None:
            if request.body is not None:
                raise ConfigError("a request has either a raw body or wire data, not both")
            return request.raw_body, request.content_type or "application/octet-stream"
        body = self._auth.apply_body(request.body) if request.token_in_body else request.body
        if body is None:
            if request.method in ("POST", "PUT"):
                # Basecamp 4 answers 415 to a write without Content-Type, even an empty one.
                return b"", request.content_type or self._codec.content_type
            return None, None
        return self._codec.encode(body), request.content_type or self._codec.content_type

    def _headers(self, content_type: str | None, validators: Mapping[str, str]) -> RedactedHeaders:
        headers = RedactedHeaders(self._static_headers)
        if validators:
            headers.update(validators)
        if content_type:
            headers["Content-Type"] = content_type
        if self._has_credentials:
            headers.update(self._auth.headers())
        return headers

    def _prepare(self, request: Request) -> _Call:
        url = self.url_for(request)
        origin = (url.scheme, url.host)
        if origin not in self._secure_origins:
            ensure_secure(url, self._hosts, with_credentials=self._has_credentials)
            self._secure_origins.add(origin)
        body, content_type = self._body(request)
        classes = (
            request.limit_classes
            if request.limit_classes is not None
            else self.product.default_limit_classes
        )
        return _Call(
            request, request.method, url, body, content_type, classes, request.is_idempotent()
        )

    # -- the request loop -----------------------------------------------------------------

    async def request(self, request: Request) -> Response:
        """Send one call with limiting, caching and retries; return the decoded reply."""
        call = self._prepare(request)
        budget = self._retry.budget()
        if self._cache is not None and call.method == "GET" and request.cache:
            # A relative path without query names its URL as well as str(url) would, for
            # a third of the cost.
            plain = not request.query and request.path.startswith("/")
            text = self.base_url + request.path if plain else str(call.url)
            key = call.cache_key = cache_key(self._auth.identity, call.method, text)
            get_now = self._cache_get_now
            call.cached = get_now(key) if get_now is not None else await self._cache.get(key)
        refreshed = False
        attempt = 0
        while True:
            if not self._token_now(call, budget):
                await self._wait_for_token(call, budget)
            outcome = await self._attempt(call, budget)
            if outcome.response is not None:
                return outcome.response
            error = outcome.error
            assert error is not None
            if outcome.unauthorized is not None and not refreshed:
                refreshed = True
                if await self._auth.refresh(outcome.unauthorized):
                    retry_log.debug(
                        "401 from %s: credential refreshed, retrying", self._log_path(call.url)
                    )
                    continue
            if outcome.retry_after is not None:
                await self._pause(call, outcome.retry_after)
            delay = self._retry.delay(
                attempt, error, idempotent=call.idempotent, retry_after=outcome.retry_after
            )
            if delay is None:
                raise error
            if not budget.allows(delay):
                retry_log.debug(
                    "not retrying %s %s: wait %.2fs exceeds budget",
                    call.method,
                    self._log_path(call.url),
                    delay,
                )
                raise error
            attempt += 1
            self.stats.retries += 1
            retry_log.debug(
                "retry %d of %s %s in %.3fs: %s",
                attempt,
                call.method,
                self._log_path(call.url),
                delay,
                error,
            )
            if outcome.retry_after is None or self._limiter is None or not call.classes:
                await asyncio.sleep(delay)
            # else: the limiter holds the shared pause and _wait_for_token waits it out

    def _token_now(self, call: _Call, budget: Budget) -> bool:
        """Whether this attempt may go at once, a token taken without a coroutine (the
        common case); False leaves the budget check and any wait to _wait_for_token."""
        if budget.remaining() <= 0:
            return False
        limiter = self._limiter
        return limiter is None or not call.classes or limiter.acquire_now(call.classes)

    async def _wait_for_token(self, call: _Call, budget: Budget) -> None:
        remaining = budget.remaining()
        if remaining <= 0:
            raise RequestTimeout(
                "the call's time budget ran out", method=call.method, url=self._safe(call.url)
            )
        if self._limiter is None or not call.classes:
            return
        try:
            self.stats.limiter_wait += await self._limiter.acquire(call.classes, budget.deadline)
        except LimiterWaitTooLong as exc:
            raise RequestTimeout(
                f"the rate limiter asks for a {exc.wait:.1f}s wait (a server-requested pause "
                f"or a spent budget of requests), more than the {max(remaining, 0):.1f}s left "
                "of this call's time budget",
                method=call.method,
                url=self._safe(call.url),
            ) from None

    async def _pause(self, call: _Call, retry_after: float) -> None:
        """Hold the account's buckets as the server asked (capped by the retry policy)."""
        if self._limiter is not None and call.classes:
            await self._limiter.pause(
                call.classes, self._retry.pause(retry_after), "server Retry-After"
            )

    async def _attempt(self, call: _Call, budget: Budget) -> _Outcome:
        """One HTTP exchange (redirects included) and what it means."""
        entry = call.cached
        if self._has_credentials:
            await self._auth.prepare()  # an expiring credential (OAuth 2) renews itself here
        headers = self._headers(call.content_type, entry.validators() if entry else {})
        timeout = min(self._timeout, max(budget.remaining(), 0.001))
        try:
            reply = await self._send(call, headers, timeout)
        except TransportError as exc:
            return _Outcome(error=exc)
        if reply.status == 304 and entry is not None:
            # The backend's get() already counted this entry as recently used.
            self.stats.not_modified += 1
            raw = call.request.raw_reply
            return _Outcome(response=await self._from_cache(entry, reply.url, raw))
        if 200 <= reply.status < 300:
            return _Outcome(
                response=await self._success(reply, call.cache_key, call.request.raw_reply)
            )
        error, retry_after = self._http_error(call, reply)
        unauthorized = headers if reply.status == 401 and self._has_credentials else None
        return _Outcome(error=error, retry_after=retry_after, unauthorized=unauthorized)

    def _http_error(self, call: _Call, reply: _Reply) -> tuple[HTTPError, float | None]:
        status = reply.status
        retry_after = None
        if status in THROTTLE_STATUSES:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"))
            if status == 429 or retry_after is not None:
                self.stats.throttled += 1
        cls = error_for_status(status, reply.headers)
        if status == 503 and retry_after is not None:
            cls = ServiceThrottled
        secrets_ = self._auth.secrets()
        message = scrub(server_message(reply.body), secrets_)
        if issubclass(cls, RateLimited) and retry_after is not None:
            pause = self._pause_message(retry_after)
            message = f"{pause}; {message}" if message else pause
        excerpt = scrub(reply.body[:BODY_EXCERPT_BYTES].decode("utf-8", "replace"), secrets_)
        kwargs: dict[str, Any] = {
            "method": call.method,
            "url": self._safe(reply.url),
            "body": excerpt.encode(),
            "headers": {k: v for k, v in reply.headers.items() if k.lower() != "set-cookie"},
            "message": message,
        }
        if issubclass(cls, RateLimited):
            err: HTTPError = cls(status, retry_after=retry_after, **kwargs)
        else:
            err = cls(status, **kwargs)
        err.retryable = self._retry.retryable(
            err, idempotent=call.idempotent, retry_after=retry_after
        )
        return err, retry_after

    def _pause_message(self, retry_after: float) -> str:
        held = self._retry.pause(retry_after)
        until = datetime.fromtimestamp(datetime.now(UTC).timestamp() + held, UTC)
        shown = until.strftime("%Y-%m-%d %H:%M:%SZ")
        if held >= retry_after:
            return f"paused by the server until {shown} (Retry-After {retry_after:.6g}s)"
        return (
            f"paused by the server for {retry_after:.6g}s (Retry-After); this account's "
            f"requests are held until {shown} (max_retry_after={held:g}s)"
        )

    # -- decoding -------------------------------------------------------------------------

    async def _decode(self, body: bytes, status: int, url: URL) -> Any:
        try:
            if len(body) >= OFFLOOP_DECODE_BYTES:
                return await offload(self._decode_big, body, status)
            return self._codec.decode(body, status=status)
        except DecodeError as exc:
            raise with_decode_context(
                exc, status=status, url=self._safe(url), body=body, scrub=self._scrubber
            ) from None

    def _decode_big(self, body: bytes, status: int) -> Any:
        if self._codec.name == "json" and body.lstrip()[:1] == b"[":
            try:
                return _json_array_in_steps(body)
            except (ValueError, RecursionError):
                pass  # let the codec say what is wrong
        return self._codec.decode(body, status=status)

    def _scrubber(self, text: str) -> str:
        return scrub(text, self._auth.secrets())

    def _response(
        self,
        status: int,
        headers: CIMultiDictProxy[str] | CIMultiDict[str],
        data: Any,
        url: URL,
        body: bytes,
        *,
        from_cache: bool = False,
    ) -> Response:
        return Response(
            status,
            headers,
            data,
            url,
            from_cache,
            len(body),
            body[:BODY_EXCERPT_BYTES],
            self._scrubber,
        )

    async def _success(self, reply: _Reply, key: str | None, raw: bool = False) -> Response:
        data = reply.body if raw else await self._decode(reply.body, reply.status, reply.url)
        if self.product.errors == "backpack_envelope":
            self._check_envelope(data, reply)
            data = unwrap_envelope(data)
        if key is not None and self._cache is not None:
            etag = reply.headers.get("ETag")
            modified = reply.headers.get("Last-Modified")
            if etag or modified:
                kept = {h: reply.headers[h] for h in CACHE_KEPT_HEADERS if h in reply.headers}
                await self._cache.set(key, CacheEntry(etag, modified, kept, reply.body))
        return self._response(reply.status, reply.headers, data, reply.url, reply.body)

    async def _from_cache(self, entry: CacheEntry, url: URL, raw: bool = False) -> Response:
        # Decoded afresh from the stored bytes: what a 304 serves is exactly what the
        # server sent, whatever the caller did to an earlier result.
        data = entry.body if raw else await self._decode(entry.body, 200, url)
        if not raw and self.product.errors == "backpack_envelope":
            data = unwrap_envelope(data)
        headers = CIMultiDict(entry.headers)
        return self._response(200, headers, data, url, entry.body, from_cache=True)

    def _check_envelope(self, data: Any, reply: _Reply) -> None:
        envelope = data.get("response") if isinstance(data, dict) else None
        if not isinstance(envelope, dict) or envelope.get("@success") != "false":
            return
        raw = envelope.get("error")
        code = 500
        message = ""
        if isinstance(raw, dict):
            try:
                code = int(raw.get("@code", 500))
            except (TypeError, ValueError):
                code = 500
            message = str(raw.get("#text") or "")
        elif isinstance(raw, str):
            message = raw
        secrets_ = self._auth.secrets()
        message = scrub(message, secrets_)
        excerpt = scrub(reply.body[:BODY_EXCERPT_BYTES].decode("utf-8", "replace"), secrets_)
        if not 100 <= code <= 599:
            code = 500
        raise error_for_status(code)(
            code,
            method=reply.method,
            url=self._safe(reply.url),
            body=excerpt.encode(),
            headers=dict(reply.headers),
            message=message,
        )

    # -- transport ------------------------------------------------------------------------

    def _client_timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        if seconds >= self._timeout:
            return self._default_client_timeout
        return aiohttp.ClientTimeout(total=seconds)

    def path_token(self) -> str | None:
        """The credential a ``/{token}/`` path carries (body-token auth), else None."""
        return self._auth.path_token()

    def _log_path(self, url: URL) -> str:
        """A URL path fit for log lines (Backpack paths can carry the token)."""
        return scrub(url.path, self._auth.secrets())

    def _safe(self, url: URL) -> str:
        """A URL fit for messages: no userinfo, query scrubbed of credentials."""
        return scrub(str(url.with_user(None)), self._auth.secrets())

    async def _read(self, resp: aiohttp.ClientResponse, method: str, url: URL) -> bytes:
        """The whole (decompressed) body, refusing more than ``max_body_bytes``."""
        limit = self._max_body
        length = resp.content_length
        encoded = resp.headers.get("Content-Encoding", "identity").lower() != "identity"
        if length is not None and not encoded:
            if length > limit:
                resp.close()
                raise ResponseTooLarge(limit, method=method, url=self._safe(url))
            return await resp.read()
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_any():
            total += len(chunk)
            if total > limit:
                resp.close()  # the rest is never read; the connection is not reused
                raise ResponseTooLarge(limit, method=method, url=self._safe(url))
            chunks.append(chunk)
        return b"".join(chunks)

    def _redirect_target(
        self, status: int, call: _Call, method: str, final: URL, location: str
    ) -> URL:
        """Where a redirect may be followed, or an UnexpectedRedirect.

        Rules: the target must keep the origin (scheme, host, port), or move from http to
        https on the same host and default ports; it may not carry userinfo; and a request
        that is not idempotent follows only 303 (as a GET without body), never re-sending
        its body on 301/302/307/308 (RFC 9110 section 15.4).
        """

        def refuse(why: str, shown: str = "") -> UnexpectedRedirect:
            return UnexpectedRedirect(
                status,
                method=method,
                url=self._safe(final),
                message=why,
                location=shown,
            )

        try:
            target = final.join(URL(location))
            port = target.port
        except (ValueError, TypeError):
            raise refuse("the redirect's Location is not a valid URL") from None
        shown = self._safe(target)
        if target.user is not None or target.password is not None:
            raise refuse("refusing a redirect whose Location carries credentials", shown)
        same_origin = (target.scheme, target.host, port) == (final.scheme, final.host, final.port)
        upgrade = (
            final.scheme == "http"
            and target.scheme == "https"
            and target.host == final.host
            and final.is_default_port()
            and target.is_default_port()
        )
        if not (same_origin or upgrade):
            raise refuse(
                f"refusing to follow a redirect to another origin "
                f"({target.scheme}://{target.host}:{port})",
                shown,
            )
        if status != 303 and not call.idempotent and method == call.method:
            raise refuse(
                f"not following a {status} redirect of a {method}: that would send its body "
                "again; check the Location",
                shown,
            )
        return target

    async def _send(self, call: _Call, headers: RedactedHeaders, attempt_timeout: float) -> _Reply:
        http = self._client()
        debug = log.isEnabledFor(logging.DEBUG)
        started = time.monotonic() if debug else 0.0
        method, url, body = call.method, call.url, call.body
        status = 0
        for _hop in range(MAX_REDIRECTS + 1):
            self.stats.requests += 1
            try:
                async with http.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=self._client_timeout(attempt_timeout),
                ) as resp:
                    status, resp_headers, final = resp.status, resp.headers, resp.url
                    payload = await self._read(resp, method, url)
            except aiohttp.ClientConnectorError as exc:
                raise ConnectError(
                    f"cannot connect: {type(exc).__name__}", method=method, url=self._safe(url)
                ) from None
            except TimeoutError:
                raise RequestTimeout(
                    f"no complete reply within {attempt_timeout:.3g}s",
                    method=method,
                    url=self._safe(url),
                ) from None
            except (aiohttp.ClientError, ValueError) as exc:
                detail = scrub(str(exc), self._auth.secrets())
                raise TransportError(
                    f"transport failed: {type(exc).__name__}: {detail}",
                    method=method,
                    url=self._safe(url),
                ) from None
            if debug:
                elapsed = (time.monotonic() - started) * 1e3
                log.debug("%s %s -> %d (%.1f ms)", method, self._log_path(url), status, elapsed)
            if status in (301, 302, 303, 307, 308) and "Location" in resp_headers:
                url = self._redirect_target(status, call, method, final, resp_headers["Location"])
                log.debug("following %d redirect to %s", status, self._safe(url.with_query(None)))
                if status == 303:
                    method, body = "GET", None
                    headers = RedactedHeaders(headers)
                    headers.pop("Content-Type", None)
                continue
            return _Reply(status, resp_headers, payload, final, method)
        raise TooManyRedirects(
            status,
            method=call.method,
            url=self._safe(url),
            message=f"more than {MAX_REDIRECTS} redirects",
        )
