"""A stored OAuth 2 grant: the token pair, its expiry, and what is needed to refresh it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Token

from ..core._errors import AuthError
from ..core._redaction import REDACTED

__all__ = ["Grant", "Token"]

#: A token is renewed this many seconds before it expires ...
DEFAULT_LEEWAY = 60.0
#: ... but never earlier than this share of its lifetime (short sandbox tokens).
LEEWAY_SHARE = 0.1


def _header_safe(value: object) -> bool:
    """A non-empty printable ASCII string: it goes into an HTTP header as it is."""
    return isinstance(value, str) and bool(value) and value.isascii() and value.isprintable()


@dataclass(frozen=True)
class Token:
    """An access token, its refresh token and expiry (seconds since the epoch)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a token
    expires_at: int | None = None
    expires_in: int | None = None

    @classmethod
    def from_response(cls, data: Any, *, provider: str = "") -> Token:
        """Read a token endpoint's JSON reply (authlib computes the expiry)."""
        who = provider or "the OAuth server"
        if not isinstance(data, dict) or not _header_safe(data.get("access_token")):
            raise AuthError(f"{who} answered without a usable access_token", provider=provider)
        refresh = data.get("refresh_token")
        if refresh is not None and not _header_safe(refresh):
            raise AuthError(f"{who} sent an unusable refresh_token", provider=provider)
        try:
            token = OAuth2Token(dict(data))
            expires_in = int(data["expires_in"]) if data.get("expires_in") is not None else None
        except (TypeError, ValueError, OverflowError):
            raise AuthError(f"{who} sent an unreadable expires_in", provider=provider) from None
        refresh = token.get("refresh_token")
        return cls(
            access_token=token["access_token"],
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            token_type=str(token.get("token_type") or "Bearer"),
            expires_at=token.get("expires_at"),
            expires_in=expires_in,
        )

    def expires_soon(self, leeway: float = DEFAULT_LEEWAY) -> bool:
        """True when the token is expired or within ``leeway`` seconds of it."""
        if self.expires_at is None:
            return False
        if self.expires_in:
            leeway = min(leeway, self.expires_in * LEEWAY_SHARE)
        return bool(OAuth2Token({"expires_at": self.expires_at}).is_expired(leeway=leeway))

    def expires_after(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - time.time()

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "expires_in": self.expires_in,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Token:
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            token_type=data.get("token_type") or "Bearer",
            expires_at=data.get("expires_at"),
            expires_in=data.get("expires_in"),
        )


@dataclass(frozen=True)
class Grant:
    """Everything a token store keeps under one key."""

    provider: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    token: Token
    accounts_url: str | None = None
    accounts: list[dict[str, Any]] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)
    legacy_type: bool = False

    def with_token(self, token: Token) -> Grant:
        # Some servers do not rotate: keep the refresh token we had when none comes back.
        if token.refresh_token is None and self.token.refresh_token is not None:
            token = replace(token, refresh_token=self.token.refresh_token)
        return replace(self, token=token)

    def secrets(self) -> tuple[str, ...]:
        values = [self.client_secret, self.token.access_token]
        if self.token.refresh_token:
            values.append(self.token.refresh_token)
        return tuple(v for v in values if v)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "token_url": self.token_url,
            "accounts_url": self.accounts_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "legacy_type": self.legacy_type,
            "token": self.token.to_json(),
            "accounts": self.accounts,
            "identity": self.identity,
        }

    @classmethod
    def from_json(cls, data: Any, *, where: str = "token store") -> Grant:
        try:
            return cls(
                provider=data["provider"],
                token_url=data["token_url"],
                accounts_url=data.get("accounts_url"),
                client_id=data["client_id"],
                client_secret=data["client_secret"],
                legacy_type=bool(data.get("legacy_type")),
                token=Token.from_json(data["token"]),
                accounts=list(data.get("accounts") or []),
                identity=dict(data.get("identity") or {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise AuthError(
                f"{where}: a stored grant is malformed ({type(exc).__name__}: {exc}); log in again"
            ) from None

    def __str__(self) -> str:
        return f"Grant({self.provider}, client {self.client_id}, token {REDACTED})"
