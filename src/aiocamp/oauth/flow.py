"""The authorization code flow and token refresh, on authlib (request and reply shapes,
state, expiry) with aiohttp doing the HTTP.

Token requests are standard form-encoded POST bodies: the client secret, the code and the
refresh token never appear in a URL, so no access log or proxy log can catch them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import parameters
from authlib.oauth2.rfc6749.errors import OAuth2Error
from yarl import URL

from ..core._auth import ensure_secure
from ..core._constants import DEFAULT_TIMEOUT
from ..core._errors import AuthError, TransportError
from ..core._redaction import scrub
from .providers import OAuthProvider
from .tokens import Grant, Token

__all__ = ["DEFAULT_USER_AGENT", "AuthorizationCodeFlow", "fetch_accounts", "refresh_grant"]

log = logging.getLogger("aiocamp.oauth")

DEFAULT_USER_AGENT = "aiocamp (https://github.com/aiocamp/aiocamp)"
#: Bytes of an OAuth server's reply we read at most (replies are a few hundred bytes).
MAX_REPLY_BYTES = 64 * 1024


class AuthorizationCodeFlow:
    """One login: the URL to send the user to, then the code exchanged for a token."""

    def __init__(
        self,
        provider: OAuthProvider,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        session: aiohttp.ClientSession | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        if not client_id or not client_secret:
            raise AuthError("an OAuth 2 login needs a client id and a client secret")
        self.provider = provider
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._session = session
        self._user_agent = user_agent
        self.state = generate_token(32)

    def __repr__(self) -> str:
        return f"AuthorizationCodeFlow({self.provider.name}, client {self.client_id})"

    def authorization_url(self) -> str:
        """Where the user approves access; carries a fresh, unguessable ``state``."""
        extra = {"type": "web_server"} if self.provider.legacy_type else {}
        return str(
            parameters.prepare_grant_uri(
                self.provider.authorize_url,
                self.client_id,
                "code",
                redirect_uri=self.redirect_uri,
                state=self.state,
                **extra,
            )
        )

    def code_from_callback(self, url: str) -> str:
        """The code of a redirect back to us; AuthError on a denial or a foreign ``state``."""
        query = URL(url).query
        if "error" in query and query.get("state") == self.state:
            raise AuthError(
                f"{self.provider.name} refused the authorization: {query['error']}",
                error=query["error"],
                provider=self.provider.name,
            )
        try:
            params = parameters.parse_authorization_code_response(url, state=self.state)
        except OAuth2Error as exc:
            raise AuthError(
                f"rejected a callback to {self.redirect_uri}: {exc.error} "
                f"(its state does not match the login's, or it has no code)",
                error=exc.error,
                provider=self.provider.name,
            ) from None
        return str(params["code"])

    async def exchange(self, code: str) -> Grant:
        """Trade the code for tokens; the grant is ready for a token store."""
        extra = {"type": "web_server"} if self.provider.legacy_type else {}
        body = parameters.prepare_token_request(
            "authorization_code",
            redirect_uri=self.redirect_uri,
            code=code,
            client_id=self.client_id,
            client_secret=self._client_secret,
            **extra,
        )
        data = await _post_form(
            self.provider.name,
            self.provider.token_url,
            body,
            "code exchange",
            session=self._session,
            user_agent=self._user_agent,
            secrets=(self._client_secret, code),
        )
        token = Token.from_response(data, provider=self.provider.name)
        log.debug(
            "%s: code exchanged for a token (expires in %ss)", self.provider.name, token.expires_in
        )
        return Grant(
            provider=self.provider.name,
            token_url=self.provider.token_url,
            accounts_url=self.provider.accounts_url,
            client_id=self.client_id,
            client_secret=self._client_secret,
            legacy_type=self.provider.legacy_type,
            token=token,
        )


async def refresh_grant(
    grant: Grant,
    *,
    session: aiohttp.ClientSession | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
) -> Grant:
    """Spend the grant's refresh token once; the new grant carries the rotated token.

    An ``invalid_grant`` reply (refresh token spent, revoked or expired) raises AuthError
    and changes nothing: callers keep the stored grant as it was.
    """
    if not grant.token.refresh_token:
        raise AuthError(
            f"{grant.provider}: the stored token has no refresh token and has expired; "
            f"log in again (aiocamp login)",
            error="no_refresh_token",
            provider=grant.provider,
        )
    extra = {"type": "refresh"} if grant.legacy_type else {}
    body = parameters.prepare_token_request(
        "refresh_token",
        refresh_token=grant.token.refresh_token,
        client_id=grant.client_id,
        client_secret=grant.client_secret,
        **extra,
    )
    data = await _post_form(
        grant.provider,
        grant.token_url,
        body,
        "token refresh",
        session=session,
        user_agent=user_agent,
        secrets=grant.secrets(),
    )
    token = Token.from_response(data, provider=grant.provider)
    log.debug("%s: token refreshed (expires in %ss)", grant.provider, token.expires_in)
    return grant.with_token(token)


async def fetch_accounts(
    grant: Grant,
    *,
    session: aiohttp.ClientSession | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
) -> dict[str, Any]:
    """Launchpad's ``authorization.json`` for the grant's current access token."""
    if grant.accounts_url is None:
        raise AuthError(
            f"{grant.provider} has no account listing endpoint", provider=grant.provider
        )
    url = URL(grant.accounts_url)
    ensure_secure(url, [url.host or ""], with_credentials=True)
    headers = {
        "Authorization": f"Bearer {grant.token.access_token}",
        "User-Agent": user_agent,
        "Accept": "application/json",
    }
    status, raw = await _send("GET", url, headers, None, session)
    if status == 401:
        raise AuthError(
            f"{grant.provider} refused the access token when listing accounts (HTTP 401)",
            error="invalid_token",
            provider=grant.provider,
        )
    data: dict[str, Any] = _decode(grant.provider, "account listing", status, raw, grant.secrets())
    return data


async def _post_form(
    provider: str,
    token_url: str,
    body: str,
    what: str,
    *,
    session: aiohttp.ClientSession | None,
    user_agent: str,
    secrets: tuple[str, ...],
) -> Any:
    url = URL(token_url)
    # The client secret must never travel over plain http (loopback sandboxes aside).
    ensure_secure(url, [url.host or ""], with_credentials=True)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "User-Agent": user_agent,
    }
    status, raw = await _send("POST", url, headers, body.encode(), session)
    return _decode(provider, what, status, raw, secrets)


async def _send(
    method: str,
    url: URL,
    headers: dict[str, str],
    body: bytes | None,
    session: aiohttp.ClientSession | None,
) -> tuple[int, bytes]:
    own = session is None
    http = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DEFAULT_TIMEOUT))
    try:
        async with http.request(
            method, url, headers=headers, data=body, allow_redirects=False
        ) as reply:
            raw = await reply.content.read(MAX_REPLY_BYTES)
            return reply.status, raw
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransportError(
            f"OAuth server unreachable: {type(exc).__name__}", method=method, url=str(url)
        ) from None
    finally:
        if own:
            await http.close()


def _decode(provider: str, what: str, status: int, raw: bytes, secrets: tuple[str, ...]) -> Any:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        data = None
    if 200 <= status < 300 and isinstance(data, dict):
        return data
    error = data.get("error") if isinstance(data, dict) else None
    detail = data.get("error_description") if isinstance(data, dict) else None
    if not isinstance(error, str):
        excerpt = raw[:200].decode("utf-8", "replace")
        error, detail = ("invalid_reply" if status < 300 else f"http_{status}"), excerpt
    message = f"{provider} {what} failed (HTTP {status}): {error}"
    if detail:
        message += f": {detail}"
    if error == "invalid_grant":
        message += (
            "; the refresh token was spent, revoked or has expired. The stored token was "
            "left as it was; run `aiocamp login` again to get a new one"
        )
    raise AuthError(scrub(message, secrets), error=error, provider=provider)
