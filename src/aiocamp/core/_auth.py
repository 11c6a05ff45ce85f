"""Authentication strategies and the rule that keeps credentials on their own host.

Credentials go only over https, or over plain http to a loopback address (sandboxes and
tests), and only to the hosts the client was built for.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from yarl import URL

from ._errors import ConfigError, InsecureTransportError
from ._redaction import Secret

__all__ = [
    "AuthStrategy",
    "BasicPasswordAuth",
    "BasicTokenAuth",
    "BearerAuth",
    "BodyTokenAuth",
    "NoAuth",
    "TokenSource",
    "ensure_secure",
    "is_loopback",
    "select_auth",
]


class AuthStrategy:
    """How one credential is attached to a request."""

    name = "none"

    def headers(self) -> dict[str, str]:
        """Headers carrying the credential."""
        return {}

    def apply_body(self, body: Any) -> Any:
        """The wire body with the credential added (only body-token auth changes it)."""
        return body

    async def prepare(self) -> None:
        """Called before each attempt, before :meth:`headers`: a strategy whose credential
        expires (OAuth 2 with a token provider) renews it here."""

    @property
    def identity(self) -> str:
        """A stable, non-reversible id of the credential: cache keys use it, never the secret."""
        return "anonymous"

    def secrets(self) -> tuple[str, ...]:
        """Values to scrub from anything we print."""
        return ()

    def path_token(self) -> str | None:
        """The credential for a path that carries it (Backpack ``/{token}/...``), or None
        when this strategy authenticates otherwise (the segment is then left out)."""
        return None

    async def refresh(self, sent: Mapping[str, str]) -> bool:
        """Renew the credential after a 401 on a request that carried ``sent`` headers;
        True when a retry may succeed."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self.identity!r})"


class NoAuth(AuthStrategy):
    """No credential (sandbox checks, public endpoints)."""


def _credential(name: str, value: object) -> str:
    """A credential as given, or a ConfigError that never shows it."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{name} must not contain line breaks or control characters")
    return value


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


class _BasicAuth(AuthStrategy):
    def __init__(self, user: str, password: str, names: tuple[str, str] = ("token", "X")) -> None:
        user = _credential(names[0], user)
        password = _credential(names[1], password)
        self._user = Secret(user)
        self._password = Secret(password)
        raw = f"{user}:{password}".encode()
        self._header = Secret("Basic " + base64.b64encode(raw).decode("ascii"))
        self._identity = _digest(self.name, user, password)

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._header.reveal()}

    @property
    def identity(self) -> str:
        return self._identity

    def secrets(self) -> tuple[str, ...]:
        # The header, and its base64 part alone (a server may echo just that).
        values = [self._user.reveal(), self._header.reveal(), self._header.reveal()[6:]]
        if self._password.reveal() != "X":
            values.append(self._password.reveal())
        return tuple(values)


class BasicTokenAuth(_BasicAuth):
    """HTTP Basic with an API token as user name and the dummy password ``X``."""

    name = "basic_token"

    def __init__(self, token: str) -> None:
        super().__init__(token, "X")


class BasicPasswordAuth(_BasicAuth):
    """HTTP Basic with a user name and password (Highrise ``/me.xml``, Harvest)."""

    name = "basic_password"

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password, ("username", "password"))

    def secrets(self) -> tuple[str, ...]:
        # The user name is an identifier, not a secret; scrubbing it would mangle messages.
        return (self._password.reveal(), self._header.reveal(), self._header.reveal()[6:])


class BearerAuth(AuthStrategy):
    """OAuth 2 bearer token; an optional refresher renews it once after a 401."""

    name = "bearer"

    def __init__(
        self, access_token: str, *, refresher: Callable[[], Awaitable[str]] | None = None
    ) -> None:
        self._token = Secret(_credential("access_token", access_token))
        self._refresher = refresher
        self._lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._identity = _digest(self.name, access_token)
        self._old: list[str] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self._token.reveal()}

    @property
    def identity(self) -> str:
        # Stable across refreshes: the same grant sees the same cached data.
        return self._identity

    def secrets(self) -> tuple[str, ...]:
        return (self._token.reveal(), *self._old)

    async def refresh(self, sent: Mapping[str, str]) -> bool:
        if self._refresher is None:
            return False
        loop = asyncio.get_running_loop()
        if loop is not self._lock_loop:  # a lock binds to one event loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            if sent.get("Authorization") != self.headers()["Authorization"]:
                return True  # another task already refreshed since this request went out
            new = _credential("the refreshed access token", await self._refresher())
            self._old.append(self._token.reveal())
            self._token = Secret(new)
            return True


class BodyTokenAuth(AuthStrategy):
    """Backpack: the token travels inside the XML body as ``<request><token>``."""

    name = "body_token"

    def __init__(self, token: str) -> None:
        self._token = Secret(_credential("token", token))
        self._identity = _digest(self.name, token)

    def apply_body(self, body: Any) -> Any:
        # <request><token>..</token>..</request>: a body rooted elsewhere (<page>, <event>)
        # goes inside the <request> next to the token, as the docs' examples send it.
        inner: dict[str, Any] = {"token": self._token.reveal()}
        if (
            isinstance(body, dict)
            and set(body) == {"request"}
            and isinstance(body["request"], dict)
        ):
            inner.update(body["request"])
        elif isinstance(body, dict) and "token" not in body:
            inner.update(body)
        elif body is not None:
            raise ConfigError("body-token auth needs an XML element body (a mapping)")
        return {"request": inner}

    @property
    def identity(self) -> str:
        return self._identity

    def secrets(self) -> tuple[str, ...]:
        return (self._token.reveal(),)

    def path_token(self) -> str | None:
        return self._token.reveal()


class TokenSource(Protocol):
    """Something that keeps an OAuth 2 token fresh (e.g. :class:`aiocamp.oauth.TokenProvider`)
    and hands out the bearer strategy that uses it."""

    def auth_strategy(self) -> AuthStrategy: ...


def select_auth(
    allowed: Iterable[str],
    *,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    access_token: str | None = None,
    auth: AuthStrategy | None = None,
    token_provider: TokenSource | None = None,
) -> AuthStrategy:
    """Build the strategy the given credentials call for, among the product's strategies."""
    allowed = tuple(allowed)
    if auth is not None:
        return auth
    if token_provider is not None:
        others = (token, username, password, access_token)
        if "bearer" not in allowed or any(v is not None for v in others):
            raise ConfigError(
                f"a token provider is an OAuth 2 credential: it needs a product that accepts "
                f"bearer tokens (this one takes {allowed}) and no other credential"
            )
        return token_provider.auth_strategy()
    given = [
        n
        for n, v in (
            ("token", token),
            ("username", username),
            ("password", password),
            ("access_token", access_token),
        )
        if v is not None
    ]
    if access_token is not None and "bearer" in allowed and len(given) == 1:
        return BearerAuth(access_token)
    if token is not None and len(given) == 1:
        if "basic_token" in allowed:
            return BasicTokenAuth(token)
        if "body_token" in allowed:
            return BodyTokenAuth(token)
    if (
        username is not None
        and password is not None
        and len(given) == 2
        and "basic_password" in allowed
    ):
        return BasicPasswordAuth(username, password)
    raise ConfigError(
        f"credentials {given or 'none'} do not fit this product's auth strategies {allowed}"
    )


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def ensure_secure(url: URL, allowed_hosts: Iterable[str], *, with_credentials: bool) -> None:
    """Refuse, before any I/O, a URL that would expose credentials."""
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"not an http(s) URL: {url.with_query(None)}")
    if not with_credentials:
        return
    if url.scheme == "http" and not is_loopback(url.host):
        raise InsecureTransportError(
            f"refusing to send credentials over plain http to {url.host}; use https"
        )
    if url.host.lower() not in {h.lower() for h in allowed_hosts}:
        raise InsecureTransportError(
            f"refusing to send credentials to {url.host}: not the client's host"
        )
