"""aiocamp's hand-written runtime: session, auth, limiter, cache, retry, codecs, paging.

Nothing here imports a product package.
"""

from __future__ import annotations

from ._auth import (
    AuthStrategy,
    BasicPasswordAuth,
    BasicTokenAuth,
    BearerAuth,
    BodyTokenAuth,
    NoAuth,
)
from ._cache import CacheEntry, EtagCache, MemoryEtagCache
from ._client import BaseClient, Resource
from ._codecs import XmlArray
from ._limiter import Limit, Limiter, MemoryLimiterBackend, RateLimit
from ._pagination import PageIterator, Paging
from ._resource import EnvelopePageIterator
from ._retry import RetryPolicy, parse_retry_after
from ._runtime import UNSET, UnsetType
from ._session import ProductConfig, Request, Response, Session
from ._settings import DEFAULT, ClientSettings

__all__ = [
    "DEFAULT",
    "UNSET",
    "AuthStrategy",
    "BaseClient",
    "BasicPasswordAuth",
    "BasicTokenAuth",
    "BearerAuth",
    "BodyTokenAuth",
    "CacheEntry",
    "ClientSettings",
    "EtagCache",
    "Limit",
    "Limiter",
    "MemoryEtagCache",
    "MemoryLimiterBackend",
    "NoAuth",
    "EnvelopePageIterator",
    "PageIterator",
    "Paging",
    "ProductConfig",
    "RateLimit",
    "Request",
    "Resource",
    "Response",
    "RetryPolicy",
    "Session",
    "UnsetType",
    "XmlArray",
    "parse_retry_after",
]
