"""Streaming file downloads: an upload's or attachment's bytes to a path or an async writer.

Basecamp serves a file from an API URL that needs the credential and then redirects to a
storage host. The credentialed hop is checked like any API call (https or loopback, the
client's own origin); every later hop goes without credentials, and a hop to plain http
from https is refused. Memory stays constant (chunks are written as they arrive), a
partial file is kept beside the destination as ``<name>.part`` and resumed with ``Range``
when the server honours it, and the byte count is checked against what the server
announced before the file takes its final name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from yarl import URL

from ._auth import ensure_secure, is_loopback
from ._constants import DOWNLOAD_CHUNK_BYTES, MAX_REDIRECTS
from ._errors import (
    AiocampError,
    ConfigError,
    ConnectError,
    RequestTimeout,
    ServerError,
    TransportError,
    UnexpectedRedirect,
    error_for_status,
)
from ._redaction import RedactedHeaders, scrub

__all__ = ["AsyncWriter", "DownloadResult", "IncompleteDownload", "download"]

log = logging.getLogger("aiocamp.download")

#: Called after each chunk with (bytes so far, total bytes or None when unknown).
Progress = Callable[[int, int | None], Awaitable[None] | None]


class AsyncWriter(Protocol):
    """Anything with ``async write(bytes)``, e.g. an aiofiles file or a stream writer."""

    async def write(self, data: bytes, /) -> Any: ...


class IncompleteDownload(TransportError):
    """The body ended before the byte count the server announced."""


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """What a download wrote."""

    path: Path | None
    bytes: int
    total: int | None
    resumed_from: int
    #: Scheme and host the bytes finally came from (no path: signed URLs are secrets).
    origin: str


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme, (url.host or "").lower(), url.explicit_port or url.port)


class _Target:
    """A path written through ``<name>.part``, or a caller's async writer."""

    def __init__(self, dest: str | os.PathLike[str] | AsyncWriter) -> None:
        self.writer: AsyncWriter | None = None
        self.path: Path | None = None
        self.part: Path | None = None
        self._file: Any = None
        #: Bytes in place and the total announced, for messages about a short body.
        self.written = 0
        self.expected: int | None = None
        if isinstance(dest, (str, os.PathLike)):
            self.path = Path(dest)
            self.part = self.path.with_name(self.path.name + ".part")
        elif hasattr(dest, "write"):
            self.writer = dest
        else:
            raise ConfigError("dest must be a path or an object with async write(bytes)")

    def existing(self) -> int:
        if self.part is not None and self.part.is_file():
            return self.part.stat().st_size
        return 0

    def open(self, offset: int) -> None:
        if self.part is None:
            return
        self.close()
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.part, "r+b" if offset and self.part.exists() else "wb")  # noqa: SIM115
        self._file.truncate(offset)
        self._file.seek(offset)

    async def write(self, chunk: bytes) -> None:
        if self.writer is not None:
            await self.writer.write(chunk)
        else:
            self._file.write(chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def finish(self) -> None:
        self.close()
        if self.part is not None and self.path is not None:
            os.replace(self.part, self.path)


async def download(
    session: Any,
    source: str | URL,
    dest: str | os.PathLike[str] | AsyncWriter,
    *,
    progress: Progress | None = None,
    resume: bool = True,
    chunk_size: int = DOWNLOAD_CHUNK_BYTES,
) -> DownloadResult:
    """Stream ``source`` to ``dest`` through ``session`` (an :class:`aiocamp.core.Session`).

    ``source`` is an absolute URL (e.g. an upload's ``download_url``) or a path relative
    to the client's base URL. Only the first hop, on the client's own origin, carries the
    credential and draws from the rate limiter. Transport failures mid-body are retried
    (within the session's retry policy) from the byte reached when the server honours
    ``Range``; otherwise a file is rewritten from the start, and a writer (which cannot
    rewind) gets only the bytes it does not have yet.
    """
    url = URL(str(source), encoded=isinstance(source, str) and "%" in source)
    if not url.is_absolute():
        url = URL(session.base_url + "/" + str(source).lstrip("/"), encoded=True)
    credentialed = _origin(url) == _origin(URL(session.base_url))
    ensure_secure(url, session._hosts, with_credentials=credentialed and session._has_credentials)
    target = _Target(dest)
    offset = target.existing() if resume else 0
    started_at = offset
    retry = session._retry
    attempts = 0
    try:
        while True:
            try:
                written, total, final = await _attempt(
                    session, url, target, offset, credentialed, progress, chunk_size
                )
            except (TimeoutError, TransportError, ServerError) as exc:
                if attempts >= retry.max_retries:
                    raise
                attempts += 1
                session.stats.retries += 1
                # A file resumes from its .part; a writer cannot rewind, so it resumes
                # from the bytes it already has (skipped if the server sends them again).
                offset = target.existing() if target.part is not None else target.written
                log.debug("download attempt %d failed (%s); resuming at %d", attempts, exc, offset)
                await asyncio.sleep(retry.backoff(attempts - 1))
                continue
            target.finish()
            return DownloadResult(
                target.path, written, total, started_at, f"{final[0]}://{final[1]}"
            )
    finally:
        target.close()


async def _attempt(
    session: Any,
    url: URL,
    target: _Target,
    offset: int,
    credentialed: bool,
    progress: Progress | None,
    chunk_size: int,
) -> tuple[int, int | None, tuple[str, str, int | None]]:
    http: aiohttp.ClientSession = session._client()
    secrets = session._auth.secrets()
    limiter = session.limiter
    if credentialed and limiter is not None:
        product = session.product
        classes = product.method_limit_classes.get("GET", product.default_limit_classes)
        await limiter.acquire(classes, time.monotonic() + float(session._retry.total_budget))
    send_credentials = credentialed and session._has_credentials
    have = offset  # bytes the destination already holds
    use_range = bool(offset)
    for _hop in range(MAX_REDIRECTS + 1):
        headers = RedactedHeaders({"User-Agent": session._user_agent, "Accept": "*/*"})
        if send_credentials:
            headers.update(session._auth.headers())
        if use_range:
            headers["Range"] = f"bytes={have}-"
        safe = scrub(str(url.with_user(None).with_query(None)), secrets)
        session.stats.requests += 1
        try:
            async with http.get(
                url,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_read=session._timeout),
            ) as resp:
                if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                    nxt = resp.url.join(URL(resp.headers["Location"], encoded=True))
                    if nxt.scheme not in ("http", "https") or not nxt.host:
                        raise UnexpectedRedirect(
                            resp.status,
                            method="GET",
                            url=safe,
                            message="redirect to a non-http(s) URL",
                        )
                    if url.scheme == "https" and nxt.scheme == "http" and not is_loopback(nxt.host):
                        raise UnexpectedRedirect(
                            resp.status,
                            method="GET",
                            url=safe,
                            message="refusing a redirect from https to http",
                        )
                    if _origin(nxt) != _origin(url):
                        send_credentials = False  # the storage host never sees the credential
                    url = nxt
                    continue
                if resp.status >= 400:
                    body = scrub((await resp.content.read(512)).decode("utf-8", "replace"), secrets)
                    raise error_for_status(resp.status, resp.headers)(
                        resp.status,
                        method="GET",
                        url=safe,
                        body=body.encode(),
                        headers={
                            k: v for k, v in resp.headers.items() if k.lower() != "set-cookie"
                        },
                    )
                start = 0
                total: int | None = None
                if resp.status == 206 and use_range:
                    start, total = _content_range(resp.headers.get("Content-Range"), safe)
                    if start != have:
                        # An unexpected range: ask for the whole body rather than corrupt.
                        use_range = False
                        if target.writer is None:
                            have = 0
                        continue
                else:
                    length = resp.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                # A file is rewritten from ``start``; a writer already holds ``have`` bytes,
                # so the ones the server sends again are dropped, not written twice.
                skip = have - start if target.writer is not None else 0
                target.open(start)
                target.expected = total
                done = start
                async for chunk in resp.content.iter_chunked(chunk_size):
                    if skip:
                        cut = min(skip, len(chunk))
                        skip -= cut
                        done += cut
                        chunk = chunk[cut:]
                        if not chunk:
                            continue
                    await target.write(chunk)
                    done += len(chunk)
                    target.written = done
                    if progress is not None:
                        res = progress(done, total)
                        if asyncio.iscoroutine(res):
                            await res
                if total is not None and done != total:
                    raise IncompleteDownload(f"got {done} of {total} bytes", method="GET", url=safe)
                return done, total, _origin(url)
        except AiocampError:
            raise
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(
                f"cannot connect: {type(exc).__name__}", method="GET", url=safe
            ) from None
        except TimeoutError:
            raise RequestTimeout("download stalled", method="GET", url=safe) from None
        except aiohttp.ClientPayloadError:
            raise IncompleteDownload(
                f"the body ended early: got {target.written} of {target.expected} bytes",
                method="GET",
                url=safe,
            ) from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"download failed: {type(exc).__name__}: {scrub(str(exc), secrets)}",
                method="GET",
                url=safe,
            ) from None
    raise UnexpectedRedirect(
        310, method="GET", url=str(url.with_query(None)), message="too many redirects"
    )


def _content_range(value: str | None, url: str) -> tuple[int, int | None]:
    """``bytes START-END/TOTAL`` -> (START, TOTAL); TOTAL is None when ``*``."""
    try:
        unit, _, spec = (value or "").partition(" ")
        span, _, size = spec.partition("/")
        first = int(span.split("-", 1)[0])
        if unit != "bytes" or first < 0:
            raise ValueError(value)
        return first, (int(size) if size.isdigit() else None)
    except ValueError:
        raise TransportError(f"unusable Content-Range {value!r}", method="GET", url=url) from None
