"""aiocamp's hand-written runtime: session, auth, limiter, cache, retry, codecs, paging.

Nothing here imports a product package.
"""

from __future__ import annotations

from ._resource import EnvelopePageIterator
from .auth import (
    AuthStrategy,
    BasicPasswordAuth,
    BasicTokenAuth,
    BearerAuth,
    BodyTokenAuth,
    NoAuth,
)
from .cache import CacheEntry, EtagCache, MemoryEtagCache
from .client import BaseClient, Resource
from .codecs import XmlArray
from .limiter import Limit, Limiter, MemoryLimiterBackend, RateLimit
from .pagination import PageIterator, Paging
from .retry import RetryPolicy, parse_retry_after
from .runtime import UNSET, UnsetType
from .session import ProductConfig, Request, Response, Session
from .settings import DEFAULT, ClientSettings

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
