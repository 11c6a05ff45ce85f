"""aiocamp: an asyncio client SDK for Basecamp 4, Basecamp Classic, Highrise, Backpack and
Harvest. Product clients live in ``aiocamp.<product>``; errors in ``aiocamp.errors``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .core import UNSET, Limit, RateLimit, RetryPolicy
from .core._models import decode_stats, reset_decode_stats

try:
    __version__ = version("aiocamp")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "UNSET",
    "Limit",
    "RateLimit",
    "RetryPolicy",
    "__version__",
    "decode_stats",
    "reset_decode_stats",
]
