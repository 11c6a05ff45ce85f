"""The base of every generated product client."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

from ._download import AsyncWriter, DownloadResult, Progress, download
from ._errors import ConfigError
from ._resource import Resource
from ._session import ProductConfig, Session
from ._settings import ClientSettings

__all__ = ["BaseClient", "Resource"]


class BaseClient:
    """Owns one :class:`Session`; an async context manager (``await close()`` works too)."""

    product: ClassVar[ProductConfig]

    def __init__(self, settings: ClientSettings, product: ProductConfig | None = None) -> None:
        """``product``: this client's own facts when they differ from the class's (a client
        built with another wire format)."""
        self.settings = settings
        self.session = Session(product or self.product, settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session.base_url!r}, auth={self.session.auth!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.session.close()

    async def download(
        self,
        source: str | Any,
        dest: str | os.PathLike[str] | AsyncWriter,
        *,
        progress: Progress | None = None,
        resume: bool = True,
    ) -> DownloadResult:
        """Stream a file to a path or an async writer, in constant memory.

        ``source`` is a URL or a record with a ``download_url`` (an upload, an attachment,
        a file from the Everything feed). The credential goes only to the client's own
        origin; the redirect to the storage host is followed without it. A path is written
        through ``<name>.part``, resumed with ``Range`` after a failure, and renamed once
        the byte count matches what the server announced.
        """
        url = source if isinstance(source, str) else getattr(source, "download_url", None)
        if not isinstance(url, str) or not url:
            raise ConfigError(f"nothing to download: {type(source).__name__} has no download_url")
        return await download(self.session, url, dest, progress=progress, resume=resume)
