"""A client's configuration, as one frozen object.

The generated client turns its keyword arguments into a :class:`ClientSettings` once;
:class:`~aiocamp.core._client.BaseClient` and :class:`~aiocamp.core._session.Session` read
it from there, so the list of options is written in one place.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ._auth import AuthStrategy
from ._cache import EtagCache, MemoryEtagCache
from ._constants import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT
from ._errors import ConfigError
from ._limiter import RateLimit
from ._retry import RetryPolicy

__all__ = ["DEFAULT", "ClientSettings", "http_session_argument"]


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: "Use the product's default" for ``rate_limit=``, ``cache=`` and ``retry=``.
DEFAULT: Any = _Default()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSettings:
    """Everything one client is configured with (see the product client's docstring)."""

    base_url: str
    user_agent: str
    auth: AuthStrategy
    #: Names the account's rate-limit buckets (clients of one account share them).
    account: str
    #: The caller's aiohttp session (never closed by aiocamp), or None for our own.
    http_session: aiohttp.ClientSession | None = None
    #: None switches limiting off; DEFAULT: the product's limits, shared in this process.
    rate_limit: RateLimit | None = DEFAULT
    #: None switches the ETag cache off; DEFAULT: a bounded in-memory cache per client.
    cache: EtagCache | None = DEFAULT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = DEFAULT_TIMEOUT
    host_overrides: Mapping[str, str] = field(default_factory=dict)
    #: Largest decoded body accepted from one reply.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Decode replies strictly: a value of the wrong type fails the call (DecodeError)
    #: instead of being kept aside in the record's ``extra``.
    strict: bool = False

    def __post_init__(self) -> None:
        if self.retry is DEFAULT or self.retry is None:
            object.__setattr__(self, "retry", RetryPolicy())
        if not isinstance(self.retry, RetryPolicy):
            raise ConfigError(f"retry must be a RetryPolicy, got {type(self.retry).__name__}")
        if self.host_overrides is None:
            object.__setattr__(self, "host_overrides", {})
        if not isinstance(self.strict, bool):
            raise ConfigError("strict must be True or False")

    def __repr__(self) -> str:
        return f"ClientSettings({self.base_url!r}, auth={self.auth!r}, strict={self.strict})"

    def resolved_rate_limit(self) -> RateLimit | None:
        return RateLimit() if self.rate_limit is DEFAULT else self.rate_limit

    def resolved_cache(self) -> EtagCache | None:
        return MemoryEtagCache() if self.cache is DEFAULT else self.cache


def http_session_argument(
    http_session: aiohttp.ClientSession | None, session: aiohttp.ClientSession | None
) -> aiohttp.ClientSession | None:
    """The caller's aiohttp session, given as ``http_session=`` or the deprecated
    ``session=`` (a name easily confused with aiocamp's own session)."""
    if session is None:
        return http_session
    if http_session is not None:
        raise ConfigError("pass the aiohttp session once, as http_session=")
    warnings.warn(
        "session= is deprecated: pass your aiohttp.ClientSession as http_session=",
        DeprecationWarning,
        stacklevel=3,
    )
    return session
