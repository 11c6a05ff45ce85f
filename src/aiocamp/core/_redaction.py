"""Keeping credentials out of reprs, logs, exception messages and tracebacks."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["REDACTED", "RedactedHeaders", "Secret", "scrub"]

REDACTED = "***"
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class Secret:
    """A credential: its value is only reachable through :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a credential must be a non-empty string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("credentials are not picklable")


class RedactedHeaders(dict[str, str]):
    """Request headers whose repr hides credentials (frames and logs show this repr)."""

    def __repr__(self) -> str:
        shown = {k: (REDACTED if k.lower() in _SENSITIVE_HEADERS else v) for k, v in self.items()}
        return f"RedactedHeaders({shown!r})"

    __str__ = __repr__


#: Secrets shorter than this are not searched for: they would turn every message into
#: asterisks while hiding nothing (real tokens and passwords are far longer).
MIN_SCRUBBED_LENGTH = 4


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (and Basic/Bearer values) in text."""
    for value in secrets:
        if len(value) >= MIN_SCRUBBED_LENGTH:
            text = text.replace(value, REDACTED)
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


_AUTH_VALUE = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+")
