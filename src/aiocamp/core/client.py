"""The base of every generated product client."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from ._resource import Resource
from .session import ProductConfig, Session
from .settings import ClientSettings

__all__ = ["BaseClient", "Resource"]


class BaseClient:
    """Owns one :class:`Session`; an async context manager (``await close()`` works too)."""

    product: ClassVar[ProductConfig]

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self.session = Session(self.product, settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session.base_url!r}, auth={self.session.auth!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.session.close()
