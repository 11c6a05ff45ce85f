"""The hand-written async session every generated client runs on.

One request goes: URL check (credentials only over https or loopback http, only to the
client's hosts) -> limiter (token buckets of its limit classes) -> ETag cache (validators
on GET) -> aiohttp -> status handling (304 from cache, errors, Retry-After pauses) -> codec.
Retries wrap the part from the limiter on, within a total time budget per call.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._constants import CACHE_KEPT_HEADERS, DEFAULT_TIMEOUT, MAX_REDIRECTS, THROTTLE_STATUSES
from .auth import AuthStrategy, NoAuth, ensure_secure
from .cache import CacheEntry, EtagCache, MemoryEtagCache, cache_key
from .codecs import CODECS, Codec
from .errors import (
    AccountInactive,
    AiocampError,
    ConfigError,
    ConnectError,
    DecodeError,
    HTTPError,
    RateLimited,
    RequestTimeout,
    TransportError,
    UnexpectedRedirect,
    error_for_status,
)
from .limiter import Limit, Limiter, RateLimit
from .redaction import RedactedHeaders, scrub
from .retry import IDEMPOTENT_METHODS, RetryPolicy

__all__ = ["DEFAULT", "ProductConfig", "Request", "Response", "Session", "SessionStats"]

log = logging.getLogger("aiocamp.session")
retry_log = logging.getLogger("aiocamp.retry")


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: "Use the product's default" for ``rate_limit=``, ``cache=`` and ``retry=``.
DEFAULT: Any = _Default()


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


@dataclass(frozen=True, slots=True)
class Request:
    """One API call, as generated code describes it."""

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

    def __init__(
        self,
        product: ProductConfig,
        *,
        base_url: str,
        auth: AuthStrategy,
        user_agent: str,
        account: str,
        session: aiohttp.ClientSession | None = None,
        rate_limit: RateLimit | None = DEFAULT,
        cache: EtagCache | None = DEFAULT,
        retry: RetryPolicy = DEFAULT,
        timeout: float = DEFAULT_TIMEOUT,
        host_overrides: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(user_agent, str) or not user_agent.strip():
            raise ConfigError(
                'user_agent is required: name your app and a contact, e.g. "MyApp (me@example.com)"'
            )
        if not timeout > 0:
            raise ConfigError("timeout must be > 0 seconds")
        self.product = product
        self.base_url = base_url.rstrip("/")
        base = URL(self.base_url)
        if not base.host or base.scheme not in ("http", "https"):
            raise ConfigError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self._auth = auth
        self._has_credentials = not isinstance(auth, NoAuth)
        # Absolute endpoints of another host (Launchpad) can be pointed at a sandbox too.
        self._overrides = {host: URL(target) for host, target in (host_overrides or {}).items()}
        self._hosts = (
            base.host,
            *product.credential_hosts,
            *(u.host for u in self._overrides.values() if u.host),
        )
        ensure_secure(base, self._hosts, with_credentials=self._has_credentials)
        self._codec: Codec = CODECS[product.format]
        self._user_agent = user_agent.strip()
        self._timeout = timeout
        self._default_client_timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry = RetryPolicy() if retry is DEFAULT else retry
        self._cache: EtagCache | None = MemoryEtagCache() if cache is DEFAULT else cache
        if rate_limit is DEFAULT:
            rate_limit = RateLimit()
        self._limiter: Limiter | None = None
        if rate_limit is not None:
            limits = dict(product.limits)
            limits.update(rate_limit.limits or {})
            self._limiter = Limiter(
                product.name,
                account,
                limits,
                rate_limit.backend,
                time_scale=rate_limit.time_scale,
            )
        self._secure_origins: set[tuple[str, str | None]] = set()
        self._http = session
        self._owns_http = session is None
        self.stats = SessionStats()

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
            await self._http.close()
        self._http = None if self._owns_http else self._http

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            if not self._owns_http:
                raise ConfigError("the caller's aiohttp session is gone")
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            )
        return self._http

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
            url = URL(self.base_url + path, encoded=True)
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
        body = self._auth.apply_body(request.body)
        if body is None:
            if request.method in ("POST", "PUT"):
                # Basecamp 4 answers 415 to a write without Content-Type, even an empty one.
                return b"", request.content_type or self._codec.content_type
            return None, None
        return self._codec.encode(body), request.content_type or self._codec.content_type

    def _headers(self, content_type: str | None, validators: Mapping[str, str]) -> RedactedHeaders:
        headers = RedactedHeaders({"User-Agent": self._user_agent, "Accept": self._codec.accept})
        if validators:
            headers.update(validators)
        if content_type:
            headers["Content-Type"] = content_type
        if self._has_credentials:
            headers.update(self._auth.headers())
        return headers

    # -- sending --------------------------------------------------------------------------

    async def request(self, request: Request) -> Response:
        """Send one call with limiting, caching and retries; return the decoded reply."""
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
        idempotent = request.is_idempotent()
        deadline = time.monotonic() + self._retry.total_budget
        key = None
        entry = None
        if self._cache is not None and request.method == "GET":
            key = cache_key(self._auth.identity, request.method, str(url))
            entry = await self._cache.get(key)
        attempts = 0
        refreshed = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeout(
                    "the call's time budget ran out", method=request.method, url=self._safe(url)
                )
            if self._limiter is not None and classes:
                try:
                    waited = await self._limiter.acquire(classes, deadline)
                except TimeoutError:
                    raise RequestTimeout(
                        "the call's time budget ran out waiting for the rate limiter",
                        method=request.method,
                        url=self._safe(url),
                    ) from None
                self.stats.limiter_wait += waited
                remaining = deadline - time.monotonic()
            if self._has_credentials:
                await self._auth.prepare()
            headers = self._headers(content_type, entry.validators() if entry else {})
            retry_after: float | None = None
            try:
                reply = await self._send(
                    request.method, url, headers, body, min(self._timeout, max(remaining, 0.001))
                )
            except ConnectError as exc:
                error: AiocampError = exc
                retryable = True  # nothing reached the server
            except TransportError as exc:
                error = exc
                retryable = idempotent
            else:
                if reply.status == 304 and entry is not None:
                    # The backend's get() already counted this entry as recently used.
                    self.stats.not_modified += 1
                    return self._from_cache(entry, reply.url)
                if 200 <= reply.status < 300:
                    return await self._success(reply, key)
                if (
                    reply.status == 401
                    and not refreshed
                    and self._has_credentials
                    and await self._auth.refresh(headers)
                ):
                    refreshed = True
                    retry_log.debug("401 from %s: credential refreshed, retrying", url.path)
                    continue
                error, retryable, retry_after = await self._http_error(
                    request.method, reply, classes, idempotent
                )
            if not retryable or attempts >= self._retry.max_retries:
                raise error
            delay = retry_after if retry_after is not None else self._retry.backoff(attempts)
            if time.monotonic() + delay > deadline:
                retry_log.debug(
                    "not retrying %s %s: wait %.2fs exceeds budget", request.method, url.path, delay
                )
                raise error
            attempts += 1
            self.stats.retries += 1
            retry_log.debug(
                "retry %d of %s %s in %.3fs: %s",
                attempts,
                request.method,
                url.path,
                delay,
                error,
            )
            if retry_after is None or self._limiter is None or not classes:
                await asyncio.sleep(delay)
            # else: the limiter holds the shared pause, acquire() waits it out

    async def _http_error(
        self, method: str, reply: _Reply, classes: Iterable[str], idempotent: bool
    ) -> tuple[HTTPError, bool, float | None]:
        from .retry import parse_retry_after

        status = reply.status
        retry_after = None
        if status in THROTTLE_STATUSES:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"))
            if status == 429 or retry_after is not None:
                self.stats.throttled += 1
                if retry_after is not None and self._limiter is not None:
                    await self._limiter.pause(classes, retry_after, f"HTTP {status} Retry-After")
        cls = error_for_status(status, reply.headers)
        if status == 503 and retry_after is not None:
            cls = RateLimited
        excerpt = scrub(reply.body[:512].decode("utf-8", "replace"), self._auth.secrets())
        kwargs: dict[str, Any] = {
            "method": method,
            "url": self._safe(reply.url),
            "body": excerpt.encode(),
            "headers": {k: v for k, v in reply.headers.items() if k.lower() != "set-cookie"},
        }
        if cls is RateLimited:
            err: HTTPError = RateLimited(status, retry_after=retry_after, **kwargs)
        else:
            err = cls(status, **kwargs)
        retryable = not isinstance(err, AccountInactive) and self._retry.retryable_status(
            status, idempotent=idempotent, retry_after=retry_after
        )
        return err, retryable, retry_after

    async def _success(self, reply: _Reply, key: str | None) -> Response:
        try:
            data = self._codec.decode(reply.body, status=reply.status)
        except DecodeError as exc:
            raise DecodeError(
                exc.reason,
                status=reply.status,
                url=self._safe(reply.url),
                body=reply.body,
            ) from None
        if self.product.errors == "backpack_envelope":
            self._check_envelope(data, reply)
        etag = reply.headers.get("ETag")
        modified = reply.headers.get("Last-Modified")
        if key is not None and self._cache is not None and (etag or modified):
            kept = {h: reply.headers[h] for h in CACHE_KEPT_HEADERS if h in reply.headers}
            await self._cache.set(
                key,
                CacheEntry(etag, modified, kept, reply.body, decoded=data, has_decoded=True),
            )
        return Response(reply.status, reply.headers, data, reply.url)

    def _from_cache(self, entry: CacheEntry, url: URL) -> Response:
        if entry.has_decoded:
            data = entry.decoded
        else:
            data = self._codec.decode(entry.body, status=200, url=self._safe(url))
        return Response(200, CIMultiDict(entry.headers), data, url, from_cache=True)

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
        message = scrub(message, self._auth.secrets())
        raise error_for_status(code)(
            code,
            method="POST",
            url=self._safe(reply.url),
            body=reply.body,
            headers=dict(reply.headers),
            message=message,
        )

    def _client_timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        if seconds >= self._timeout:
            return self._default_client_timeout
        return aiohttp.ClientTimeout(total=seconds)

    def _safe(self, url: URL) -> str:
        """A URL fit for messages: no userinfo, query scrubbed of credentials."""
        return scrub(str(url.with_user(None)), self._auth.secrets())

    async def _send(
        self,
        method: str,
        url: URL,
        headers: RedactedHeaders,
        body: bytes | None,
        attempt_timeout: float,
    ) -> _Reply:
        http = self._client()
        started = time.monotonic()
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
                    payload = await resp.read()
                    status, resp_headers, final = resp.status, resp.headers, resp.url
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
            except aiohttp.ClientError as exc:
                detail = scrub(str(exc), self._auth.secrets())
                raise TransportError(
                    f"transport failed: {type(exc).__name__}: {detail}",
                    method=method,
                    url=self._safe(url),
                ) from None
            if log.isEnabledFor(logging.DEBUG):
                elapsed = (time.monotonic() - started) * 1e3
                log.debug("%s %s -> %d (%.1f ms)", method, url.path, status, elapsed)
            if status in (301, 302, 303, 307, 308) and "Location" in resp_headers:
                target = final.join(URL(resp_headers["Location"]))
                same_host = target.host == final.host
                upgrade = target.scheme == final.scheme or (
                    final.scheme == "http" and target.scheme == "https"
                )
                if not (same_host and upgrade):
                    raise UnexpectedRedirect(
                        status,
                        method=method,
                        url=self._safe(final),
                        message=f"refusing to follow a redirect to {target.scheme}://{target.host}",
                    )
                log.debug("following %d redirect to %s", status, target.with_query(None))
                url = target
                if status == 303:
                    method, body = "GET", None
                continue
            return _Reply(status, resp_headers, payload, final)
        raise UnexpectedRedirect(
            310, method=method, url=self._safe(url), message="too many redirects"
        )
