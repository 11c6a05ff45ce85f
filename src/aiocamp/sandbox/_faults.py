"""Fault injection and rate limits: what can go wrong between a client and the server."""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiocamp.errors import ConfigError

from ._table import RateLimitInfo

STATUSES = (429, 500, 502, 503, 504)
#: Fault kinds beside error statuses: closed before any byte, closed mid-body, a body cut
#: short (with a matching Content-Length), a body replaced by garbage.
KINDS = ("drop", "cut", "truncate", "malformed")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")


def _duration(text: str, where: str) -> float:
    m = _DURATION.match(text.strip())
    if not m:
        raise ConfigError(f"faults: {where}: expected a duration like 5ms or 0.2s, got {text!r}")
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ms" else value


def _rate(text: str, where: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise ConfigError(
            f"faults: {where}: expected a rate between 0 and 1, got {text!r}"
        ) from None
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"faults: {where}: expected a rate between 0 and 1, got {text!r}")
    return rate


@dataclass(frozen=True)
class Faults:
    """What the sandbox does wrong on purpose, deterministically from its seed.

    ``status`` maps an HTTP status (429, 500, 502, 503, 504) to the share of requests that
    get it; ``drop``/``cut``/``truncate``/``malformed`` are shares of requests whose
    connection closes before the reply, closes mid-body, whose body is cut short, or whose
    body is garbage; ``latency`` seconds are added to every reply; during ``storm``
    (seconds since start, from-to) every request is throttled.
    """

    status: Mapping[int, float] = field(default_factory=dict)
    drop: float = 0.0
    cut: float = 0.0
    truncate: float = 0.0
    malformed: float = 0.0
    latency: float = 0.0
    storm: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        for code, rate in self.status.items():
            if code not in STATUSES:
                raise ConfigError(f"faults: status {code} is not one of {STATUSES}")
            _rate(str(rate), str(code))
        total = sum(self.status.values()) + self.drop + self.cut + self.truncate + self.malformed
        if total > 1.0:
            raise ConfigError(f"faults: the rates add up to {total:.3f}, more than 1")
        if self.storm is not None and not 0 <= self.storm[0] < self.storm[1]:
            raise ConfigError(f"faults: storm needs start < end, got {self.storm}")

    @classmethod
    def parse(cls, text: str) -> Faults:
        """``"500:0.05,503:0.02,drop:0.01,cut:0.01,truncate:0.01,malformed:0.01,
        latency:5ms,storm:2-3"``."""
        status: dict[int, float] = {}
        kinds: dict[str, float] = {}
        latency = 0.0
        storm = None
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition(":")
            if not sep:
                raise ConfigError(f"faults: expected name:value, got {part!r}")
            key = key.strip().lower()
            if key.isdigit():
                status[int(key)] = _rate(value, key)
            elif key in KINDS:
                kinds[key] = _rate(value, key)
            elif key == "latency":
                latency = _duration(value, key)
            elif key == "storm":
                start, dash, end = value.partition("-")
                if not dash:
                    raise ConfigError(f"faults: storm: expected FROM-TO seconds, got {value!r}")
                storm = (_duration(start, key), _duration(end, key))
            else:
                raise ConfigError(f"faults: unknown fault {key!r}")
        return cls(status=status, latency=latency, storm=storm, **kinds)

    def draw(self, x: float) -> str | None:
        """The fault for a request whose draw is ``x`` in [0, 1): a status as text, a
        kind, or None."""
        for code, rate in sorted(self.status.items()):
            if x < rate:
                return str(code)
            x -= rate
        for kind in KINDS:
            rate = getattr(self, kind)
            if x < rate:
                return kind
            x -= rate
        return None


class FaultDice:
    """Draws in [0, 1) that depend only on (seed, request, how many times it was sent).

    So the same requests meet the same faults however concurrent clients interleave them:
    an export under faults is reproducible, and its retry of a failed page is a new draw.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.sent: dict[str, int] = {}

    def roll(self, key: str) -> float:
        n = self.sent.get(key, 0)
        self.sent[key] = n + 1
        digest = hashlib.blake2b(f"{self.seed}|{key}|{n}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64


def parse_rate_limit(
    value: str | None, documented: Mapping[str, RateLimitInfo]
) -> dict[str, RateLimitInfo]:
    """``None`` -> documented limits; ``"off"`` -> none; ``"N/W"`` -> N per W s, every class."""
    if value is None:
        return dict(documented)
    text = value.strip().lower()
    if text == "off":
        return {}
    n, sep, w = text.partition("/")
    try:
        limit = RateLimitInfo(int(n), float(w) if sep else 1.0)
    except ValueError:
        raise ConfigError(f"rate_limit: expected N/W (e.g. 20/1) or 'off', got {value!r}") from None
    if limit.requests < 1 or not limit.per_seconds > 0:
        raise ConfigError(f"rate_limit: needs N >= 1 and W > 0, got {value!r}")
    return {name: limit for name in documented}


class SlidingWindows:
    """Counts accepted requests per limit class over the class's sliding window."""

    def __init__(self, limits: Mapping[str, RateLimitInfo], *, block_extends: bool = False) -> None:
        self.limits = dict(limits)
        self.times: dict[str, deque[float]] = {name: deque() for name in limits}
        self.worst: dict[str, int] = dict.fromkeys(limits, 0)
        #: Harvest-style: once over the limit a class is blocked for a whole window, and a
        #: call during the block starts the window again.
        self.block_extends = block_extends
        self.blocked_until: dict[str, float] = dict.fromkeys(limits, 0.0)

    def admit(self, classes: tuple[str, ...], now: float | None = None) -> int:
        """0 when admitted (counted in every class), else the Retry-After in seconds."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        for name in classes:
            limit = self.limits.get(name)
            if limit is None:
                continue
            if self.block_extends and self.blocked_until[name] > now:
                self.blocked_until[name] = now + limit.per_seconds
                wait = max(wait, limit.per_seconds)
                continue
            q = self.times[name]
            horizon = now - limit.per_seconds
            while q and q[0] <= horizon:
                q.popleft()
            if len(q) >= limit.requests:
                if self.block_extends:
                    self.blocked_until[name] = now + limit.per_seconds
                    wait = max(wait, limit.per_seconds)
                else:
                    wait = max(wait, q[0] + limit.per_seconds - now)
        if wait > 0:
            return max(1, math.ceil(wait))
        for name in classes:
            if name in self.limits:
                q = self.times[name]
                q.append(now)
                if len(q) > self.worst[name]:
                    self.worst[name] = len(q)
        return 0

    def report(self) -> dict[str, dict[str, float]]:
        return {
            name: {
                "worst": self.worst[name],
                "limit": lim.requests,
                "per_seconds": lim.per_seconds,
            }
            for name, lim in self.limits.items()
        }
