"""The token provider behind a client's bearer credential.

It renews the access token shortly before it expires, and once after a 401, with one
refresh however many requests are waiting (single flight): in a process an asyncio lock,
across processes the token store's lock, then a re-read of the store, so a refresh done by
anyone else is picked up instead of spending the same refresh token twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Mapping

import aiohttp

from ..core._auth import AuthStrategy
from ..core._errors import AuthError, ConfigError
from .flow import DEFAULT_USER_AGENT, refresh_grant
from .stores import TokenStore
from .tokens import DEFAULT_LEEWAY, Grant

__all__ = ["OAuthBearerAuth", "TokenProvider"]

log = logging.getLogger("aiocamp.oauth")

#: Tokens a strategy remembers after a refresh, so that late error messages stay scrubbed.
_OLD_TOKENS_KEPT = 8


class TokenProvider:
    """Hands out a fresh access token for one stored grant.

    Args:
        store: Where the grant lives (:class:`FileTokenStore`, :class:`RedisTokenStore`, ...).
        key: The grant's key in the store (``launchpad`` or ``harvest`` after ``aiocamp login``).
        leeway: Renew this many seconds before expiry (at most a tenth of the lifetime).
        session: An ``aiohttp.ClientSession`` for the token requests (not closed by us).
    """

    def __init__(
        self,
        store: TokenStore,
        key: str,
        *,
        leeway: float = DEFAULT_LEEWAY,
        session: aiohttp.ClientSession | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.store = store
        self.key = key
        self.leeway = leeway
        self.refreshes = 0
        self._session = session
        self._user_agent = user_agent
        self._grant: Grant | None = None
        self._lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        # Cache keys derive from this: one per grant (store location + key), never a secret,
        # stable across refreshes and across processes sharing the store.
        where = getattr(store, "location", None) or repr(store)
        self._identity = hashlib.sha256(f"oauth\0{where}\0{key}".encode()).hexdigest()[:24]

    def __repr__(self) -> str:
        return f"TokenProvider({self.store!r}, key={self.key!r})"

    @property
    def identity(self) -> str:
        """Stable across refreshes: the same grant sees the same cached data."""
        return self._identity

    @property
    def grant(self) -> Grant | None:
        return self._grant

    def secrets(self) -> tuple[str, ...]:
        return () if self._grant is None else self._grant.secrets()

    def auth_strategy(self) -> AuthStrategy:
        return OAuthBearerAuth(self)

    async def access_token(self) -> str:
        """A token that is not about to expire; refreshes (once for all callers) if needed."""
        grant = self._grant
        if grant is not None and not grant.token.expires_soon(self.leeway):
            return grant.token.access_token
        async with self._loop_lock():
            grant = self._grant
            if grant is None:
                grant = self._grant = await self._load()
            if grant.token.expires_soon(self.leeway):
                grant = await self._refresh(rejected=None)
            return grant.token.access_token

    async def renew(self, rejected: str) -> bool:
        """After a 401 to ``rejected``: make sure the next attempt carries another token."""
        async with self._loop_lock():
            if self._grant is not None and self._grant.token.access_token != rejected:
                return True  # another task renewed it while this request was out
            await self._refresh(rejected=rejected)
            return True

    def _loop_lock(self) -> asyncio.Lock:
        # An asyncio lock belongs to one event loop; a provider may outlive its first loop.
        loop = asyncio.get_running_loop()
        if loop is not self._lock_loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _load(self) -> Grant:
        grant = await self.store.load(self.key)
        if grant is None:
            raise AuthError(
                f"no stored OAuth grant {self.key!r} in {self.store!r}; run `aiocamp login` first",
                error="no_grant",
                provider=self.key,
            )
        return grant

    async def _refresh(self, *, rejected: str | None) -> Grant:
        # Shielded: a caller cancelled mid-refresh must not lose the rotated token (the
        # server has already spent the old refresh token), so the refresh and the save
        # finish in their own task whatever happens to the caller.
        task = asyncio.ensure_future(self._refresh_and_save(rejected))
        return await asyncio.shield(task)

    async def _refresh_and_save(self, rejected: str | None) -> Grant:
        async with self.store.lock(self.key):
            # Someone else (another process, another provider) may have refreshed already.
            stored = await self._load()
            if rejected is None:
                current = not stored.token.expires_soon(self.leeway)
            else:
                current = stored.token.access_token != rejected
            if current:
                log.debug("%s: using the token another holder refreshed", self.key)
                self._grant = stored
                return stored
            fresh = await refresh_grant(stored, session=self._session, user_agent=self._user_agent)
            await self.store.save(self.key, fresh)
            self._grant = fresh
            self.refreshes += 1
            return fresh


class OAuthBearerAuth(AuthStrategy):
    """The bearer strategy of a client built with ``token_provider=``."""

    name = "bearer"

    def __init__(self, provider: TokenProvider) -> None:
        self._provider = provider
        self._token: str | None = None
        self._old: deque[str] = deque(maxlen=_OLD_TOKENS_KEPT)

    async def prepare(self) -> None:
        token = await self._provider.access_token()
        if token != self._token:
            if self._token is not None:
                self._old.append(self._token)
            self._token = token

    def headers(self) -> dict[str, str]:
        if self._token is None:
            raise ConfigError("the OAuth token was not fetched: prepare() runs before a request")
        return {"Authorization": "Bearer " + self._token}

    @property
    def identity(self) -> str:
        return self._provider.identity

    def secrets(self) -> tuple[str, ...]:
        own = (self._token,) if self._token else ()
        return (*own, *self._old, *self._provider.secrets())

    async def refresh(self, sent: Mapping[str, str]) -> bool:
        value = sent.get("Authorization", "")
        rejected = value[7:] if value.startswith("Bearer ") else value
        ok = await self._provider.renew(rejected)
        await self.prepare()
        return ok
