"""The base of every generated product client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import aiohttp

from ._constants import DEFAULT_TIMEOUT
from ._resource import Resource
from .auth import AuthStrategy
from .cache import EtagCache
from .limiter import RateLimit
from .retry import RetryPolicy
from .session import DEFAULT, ProductConfig, Session

__all__ = ["BaseClient", "Resource"]


class BaseClient:
    """Owns one :class:`Session`; an async context manager (``await close()`` works too)."""

    product: ClassVar[ProductConfig]

    def __init__(
        self,
        *,
        base_url: str,
        account: str,
        auth: AuthStrategy,
        user_agent: str,
        session: aiohttp.ClientSession | None = None,
        rate_limit: RateLimit | None = DEFAULT,
        cache: EtagCache | None = DEFAULT,
        retry: RetryPolicy = DEFAULT,
        timeout: float = DEFAULT_TIMEOUT,
        host_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.session = Session(
            self.product,
            base_url=base_url,
            auth=auth,
            user_agent=user_agent,
            account=account,
            session=session,
            rate_limit=rate_limit,
            cache=cache,
            retry=retry,
            timeout=timeout,
            host_overrides=host_overrides,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session.base_url!r}, auth={self.session.auth!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.session.close()
