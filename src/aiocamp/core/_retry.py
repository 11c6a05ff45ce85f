"""When and how long to wait before trying a request again.

Three small decisions, kept apart so each is testable: parse ``Retry-After``, decide whether
an outcome may be retried, and compute capped exponential backoff with full jitter.
:meth:`RetryPolicy.delay` combines them into "the next delay, or None"; a :class:`Budget`
bounds the whole call.
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
    MAX_RETRY_AFTER,
    RETRY_SERVER_STATUSES,
    THROTTLE_STATUSES,
)
from ._errors import (
    AccountInactive,
    AiocampError,
    ConfigError,
    ConnectError,
    HTTPError,
    ResponseTooLarge,
    TransportError,
)

__all__ = ["IDEMPOTENT_METHODS", "Budget", "RetryPolicy", "parse_retry_after"]

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


class Budget:
    """The time one call may still spend, retries and waits included."""

    __slots__ = ("deadline",)

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def allows(self, delay: float) -> bool:
        """Whether waiting ``delay`` seconds still ends within the budget."""
        return time.monotonic() + delay <= self.deadline


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds and pacing of retries. ``max_retries=0`` sends exactly one request."""

    max_retries: int = DEFAULT_MAX_RETRIES
    total_budget: float = DEFAULT_TOTAL_BUDGET
    backoff_initial: float = BACKOFF_INITIAL
    backoff_factor: float = BACKOFF_FACTOR
    backoff_max: float = BACKOFF_MAX
    #: A server's Retry-After is honoured up to this many seconds: a larger value pauses
    #: the account's buckets only this long (and a call that cannot wait fails at once).
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigError("max_retries must be >= 0")
        if not self.total_budget > 0:
            raise ConfigError("total_budget must be > 0")
        if self.backoff_initial < 0 or self.backoff_max < 0 or self.backoff_factor < 1:
            raise ConfigError("backoff values must be >= 0 and factor >= 1")
        if not self.max_retry_after > 0:
            raise ConfigError("max_retry_after must be > 0")

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

    def retryable(
        self, error: AiocampError, *, idempotent: bool, retry_after: float | None = None
    ) -> bool:
        """Whether this outcome may be tried again at all (attempts left aside)."""
        if isinstance(error, ConnectError):
            return True  # nothing reached the server
        if isinstance(error, ResponseTooLarge):
            return False  # the same reply would come again
        if isinstance(error, TransportError):
            return idempotent
        if isinstance(error, HTTPError) and not isinstance(error, AccountInactive):
            return self.retryable_status(
                error.status, idempotent=idempotent, retry_after=retry_after
            )
        return False

    def pause(self, retry_after: float) -> float:
        """The server's requested pause, capped at ``max_retry_after``."""
        return min(retry_after, self.max_retry_after)

    def delay(
        self,
        attempt: int,
        error: AiocampError,
        *,
        idempotent: bool,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None: do not retry."""
        if attempt >= self.max_retries:
            return None
        if not self.retryable(error, idempotent=idempotent, retry_after=retry_after):
            return None
        if retry_after is not None:
            return self.pause(retry_after)
        return self.backoff(attempt)

    def budget(self) -> Budget:
        return Budget(self.total_budget)


NO_RETRY = RetryPolicy(max_retries=0)
