"""When and how long to wait before trying a request again.

Three small decisions, kept apart so each is testable: parse ``Retry-After``, decide whether
an outcome may be retried, and compute capped exponential backoff with full jitter.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ._constants import (
    BACKOFF_FACTOR,
    BACKOFF_INITIAL,
    BACKOFF_MAX,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TOTAL_BUDGET,
    RETRY_SERVER_STATUSES,
    THROTTLE_STATUSES,
)
from .errors import ConfigError

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date).

    ``None`` when the header is missing, malformed, zero, negative or in the past: the
    caller then falls back to backoff.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = datetime.now(UTC).timestamp() if now is None else now
        seconds = when.timestamp() - current
    if seconds != seconds or seconds <= 0 or seconds == float("inf"):
        return None
    return seconds


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds and pacing of retries. ``max_retries=0`` sends exactly one request."""

    max_retries: int = DEFAULT_MAX_RETRIES
    total_budget: float = DEFAULT_TOTAL_BUDGET
    backoff_initial: float = BACKOFF_INITIAL
    backoff_factor: float = BACKOFF_FACTOR
    backoff_max: float = BACKOFF_MAX

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigError("max_retries must be >= 0")
        if not self.total_budget > 0:
            raise ConfigError("total_budget must be > 0")
        if self.backoff_initial < 0 or self.backoff_max < 0 or self.backoff_factor < 1:
            raise ConfigError("backoff values must be >= 0 and factor >= 1")

    def backoff(self, retry_number: int) -> float:
        """Full jitter: uniform in [0, min(max, initial * factor ** n)]."""
        cap = min(self.backoff_max, self.backoff_initial * self.backoff_factor**retry_number)
        return random.uniform(0, cap)

    @staticmethod
    def retryable_status(status: int, *, idempotent: bool, retry_after: float | None) -> bool:
        """Whether an HTTP status may be retried for this request."""
        if status in THROTTLE_STATUSES and (status == 429 or retry_after is not None):
            # Throttled: the server refused before doing anything, so even a POST is safe.
            return True
        return idempotent and status in RETRY_SERVER_STATUSES

    def deadline(self) -> float:
        return time.monotonic() + self.total_budget


NO_RETRY = RetryPolicy(max_retries=0)
