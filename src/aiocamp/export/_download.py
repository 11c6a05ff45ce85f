"""Attachment downloads (``--with-files``): streamed to disk, through the limiter.

The session decodes every body with the product's codec, so files take this separate,
small path. It still goes through the client's limiter, counts in its stats, and sends the
credential only where the session would: to the client's own hosts over https (or
loopback http). A redirect to another host (signed storage URLs) is followed without it.
The body is streamed to ``<name>.part`` and renamed when complete, so a kill never leaves
a truncated file under the final name.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from ..core._auth import ensure_secure
from ..core._errors import (
    ConnectError,
    RequestTimeout,
    TransportError,
    UnexpectedRedirect,
    error_for_status,
)
from ..core._redaction import scrub

__all__ = ["download"]

CHUNK = 64 * 1024
MAX_HOPS = 3


async def download(session: Any, url: str, target: Path) -> int:
    """Fetch ``url`` into ``target``; return the bytes written."""
    hosts = {h.lower() for h in session._hosts}
    here = URL(url)
    if not here.is_absolute():
        here = URL(session.base_url).join(here)
    secrets = session.auth.secrets()

    def safe(u: URL) -> str:
        return scrub(str(u.with_user(None).with_query(None)), secrets)

    classes = session.product.default_limit_classes
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    http: aiohttp.ClientSession = session._client()
    for _hop in range(MAX_HOPS + 1):
        with_credentials = (here.host or "").lower() in hosts
        ensure_secure(here, hosts, with_credentials=with_credentials)
        if session.limiter is not None and with_credentials:
            session.stats.limiter_wait += await session.limiter.acquire(classes)
        headers = {"User-Agent": session._user_agent}
        if with_credentials:
            headers.update(session.auth.headers())
        session.stats.requests += 1
        started = time.monotonic()
        try:
            async with http.get(
                here,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_read=session._timeout),
            ) as resp:
                if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                    here = resp.url.join(URL(resp.headers["Location"]))
                    continue
                if resp.status >= 400:
                    body = scrub((await resp.content.read(512)).decode("utf-8", "replace"), secrets)
                    raise error_for_status(resp.status, resp.headers)(
                        resp.status, method="GET", url=safe(here), body=body.encode()
                    )
                written = 0
                with part.open("wb") as f:
                    async for chunk in resp.content.iter_chunked(CHUNK):
                        f.write(chunk)
                        written += len(chunk)
                    f.flush()
                    os.fsync(f.fileno())
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(
                f"cannot connect: {type(exc).__name__}", method="GET", url=safe(here)
            ) from None
        except TimeoutError:
            raise RequestTimeout(
                f"download stalled after {time.monotonic() - started:.1f}s",
                method="GET",
                url=safe(here),
            ) from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"download failed: {type(exc).__name__}", method="GET", url=safe(here)
            ) from None
        os.replace(part, target)
        return written
    raise UnexpectedRedirect(310, method="GET", url=safe(here), message="too many redirects")
