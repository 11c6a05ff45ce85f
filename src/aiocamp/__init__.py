"""aiocamp: an asyncio client SDK for Basecamp 4, Basecamp Classic, Highrise, Backpack and
Harvest. Product clients live in ``aiocamp.<product>``; errors in ``aiocamp.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .core import (
    UNSET,
    AuthStrategy,
    BasicPasswordAuth,
    BasicTokenAuth,
    BearerAuth,
    BodyTokenAuth,
    ClientSettings,
    EnvelopePageIterator,
    EtagCache,
    Limit,
    MemoryEtagCache,
    MemoryLimiterBackend,
    NoAuth,
    PageIterator,
    RateLimit,
    RetryPolicy,
    UnsetType,
)
from .core._models import decode_stats, reset_decode_stats

if TYPE_CHECKING:
    from .core._redis_backends import RedisEtagCache, RedisLimiterBackend

    __version__: str


_REDIS = ("RedisEtagCache", "RedisLimiterBackend")


def __getattr__(name: str) -> Any:
    # The metadata lookup costs ~40 ms of import time (importlib.metadata and its email
    # parser), so ``__version__`` is looked up the first time someone asks for it.
    if name in _REDIS:
        # Redis backends need the optional redis package (pip install "aiocamp[redis]").
        from .core import _redis_backends as redis_backends

        return getattr(redis_backends, name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("aiocamp")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "UNSET",
    "AuthStrategy",
    "BasicPasswordAuth",
    "BasicTokenAuth",
    "BearerAuth",
    "BodyTokenAuth",
    "ClientSettings",
    "EnvelopePageIterator",
    "EtagCache",
    "Limit",
    "MemoryEtagCache",
    "MemoryLimiterBackend",
    "NoAuth",
    "PageIterator",
    "RateLimit",
    "RedisEtagCache",
    "RedisLimiterBackend",
    "RetryPolicy",
    "UnsetType",
    "__version__",
    "decode_stats",
    "errors",
    "reset_decode_stats",
]
