"""The sandbox's OAuth 2 servers: Launchpad (Basecamp 4, Classic, Highrise, Backpack) and
Harvest, on the same loopback host as the product API.

Launchpad (``api-docs/launchpad/authentication.md``, ``basecamp4/sections/authentication.md``):
``GET /authorization/new``, ``POST /authorization/token`` (``grant_type=authorization_code`` /
``refresh_token``, or the legacy ``type=web_server`` / ``type=refresh``, parameters in the
form body or, legacy, in the query) and ``GET /authorization.json``.
Harvest (``api-docs/harvest/Authentication/OAuth 2.0.md``): ``GET /oauth2/authorize`` and
``POST /oauth2/token`` (form-encoded body only).

Differences from the real services, on purpose: consent is automatic (the authorization
page redirects straight back with a code), token lifetimes are configurable down to a
second, and every refresh rotates the refresh token: a spent or revoked one is answered
``400 invalid_grant``, so clients that spend a refresh token twice are caught.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from yarl import URL

__all__ = [
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "OAuthServer",
    "OAuthSettings",
]

SANDBOX_CLIENT_ID = "aiocamp-sandbox-client"
SANDBOX_CLIENT_SECRET = "aiocamp-sandbox-secret"  # noqa: S105 - a public sandbox value

#: Documented lifetimes: Launchpad tokens last two weeks, Harvest tokens 18 hours.
LAUNCHPAD_TOKEN_LIFETIME = 14 * 24 * 3600
HARVEST_TOKEN_LIFETIME = 18 * 3600
CODE_LIFETIME = 600


@dataclass
class OAuthSettings:
    """What the sandbox's OAuth servers accept and issue."""

    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    launchpad_token_lifetime: int = LAUNCHPAD_TOKEN_LIFETIME
    harvest_token_lifetime: int = HARVEST_TOKEN_LIFETIME
    code_lifetime: int = CODE_LIFETIME
    #: Authorization pages redirect back at once with a code (False: with access_denied).
    auto_consent: bool = True
    #: Seconds the token endpoints take to answer (widens races between refreshers).
    token_latency: float = 0.0
    #: Launchpad's accounts; ``{origin}`` in an href becomes the sandbox's own origin.
    accounts: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "product": "bc3",
                "id": 999999999,
                "name": "Sandbox Design",
                "href": "{origin}/999999999",
                "app_href": "{origin}/999999999",
            }
        ]
    )
    identity: dict[str, Any] = field(
        default_factory=lambda: {
            "id": 9999999,
            "first_name": "Sandra",
            "last_name": "Box",
            "email_address": "sandra@example.com",
        }
    )


@dataclass
class _Grant:
    provider: str
    refresh_token: str
    revoked: bool = False


@dataclass
class _Access:
    grant: _Grant
    expires_at: float


class _OAuthReject(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        self.status = status
        self.error = error
        self.description = description


class OAuthServer:
    """In-memory authorization server state plus its aiohttp routes."""

    def __init__(self, settings: OAuthSettings | None = None) -> None:
        self.settings = settings or OAuthSettings()
        self.reset()

    def reset(self) -> None:
        """Forget every code, token and count (``POST /__sandbox/reset``)."""
        self._codes: dict[str, tuple[str, str, float]] = {}  # code -> provider, redirect, exp
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Grant] = {}  # live refresh token -> grant
        self._spent: set[str] = set()
        #: (path, query string, content type) of every token request, to check clients by.
        self.token_requests: list[tuple[str, str, str]] = []
        self.counts: dict[str, int] = {
            "authorizations": 0,
            "code_exchanges": 0,
            "refreshes": 0,
            "invalid_grant": 0,
            "invalid_client": 0,
            "rejected_bearer": 0,
        }
        self.refreshes_by_provider: dict[str, int] = {"launchpad": 0, "harvest": 0}

    # -- for the sandbox and tests ------------------------------------------------------

    @classmethod
    def for_product(cls, product: str, *, account_id: int | None = None) -> OAuthServer:
        """The OAuth server of a product's sandbox: Launchpad lists one account of it."""
        from aiocamp.oauth.providers import PRODUCT_PROVIDERS

        listed = PRODUCT_PROVIDERS[product][1] if product in PRODUCT_PROVIDERS else product
        account_id = account_id or 999999999
        href = "{origin}/" + str(account_id) if product == "basecamp4" else "{origin}"
        account = {
            "product": listed,
            "id": account_id,
            "name": "Sandbox Account",
            "href": href,
            "app_href": href,
        }
        return cls(OAuthSettings(accounts=[account]))

    def install(self, app: web.Application, *, authorization_json: bool = True) -> None:
        """Add the Launchpad and Harvest OAuth routes to a sandbox application (before its
        catch-all route). ``authorization_json=False`` leaves Launchpad's account listing to
        a product that serves it from its own spec (Basecamp 4)."""
        app.router.add_get("/authorization/new", self._launchpad_authorize)
        app.router.add_post("/authorization/token", self._launchpad_token)
        if authorization_json:
            app.router.add_get("/authorization.json", self._launchpad_authorization)
        app.router.add_get("/oauth2/authorize", self._harvest_authorize)
        app.router.add_post("/oauth2/token", self._harvest_token)

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "refreshes_by_provider": dict(self.refreshes_by_provider)}

    def issue(self, provider: str = "launchpad", *, lifetime: int | None = None) -> dict[str, Any]:
        """A grant issued without the browser dance (the token reply, as JSON data)."""
        return self._issue(_Grant(provider, ""), lifetime)

    def check_bearer(self, request: web.Request) -> bool:
        """True when the request carries a live access token (header or Harvest's query)."""
        return self._live(request) is not None

    def _live(self, request: web.Request) -> _Access | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        if token is None:
            token = request.query.get("access_token")
        if not token:
            return None
        access = self._access.get(token)
        if access is None or access.grant.revoked or access.expires_at <= time.time():
            self.counts["rejected_bearer"] += 1
            return None
        return access

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired (a client then sees 401)."""
        for access in self._access.values():
            access.expires_at = 0.0

    def revoke(self, refresh_token: str) -> None:
        """Revoke a grant by one of its refresh tokens: its access tokens stop working too."""
        grant = self._refresh.pop(refresh_token, None)
        if grant is not None:
            grant.revoked = True
            self._spent.add(refresh_token)

    # -- shared logic -------------------------------------------------------------------

    def _issue(self, grant: _Grant, lifetime: int | None = None) -> dict[str, Any]:
        if lifetime is None:
            lifetime = (
                self.settings.launchpad_token_lifetime
                if grant.provider == "launchpad"
                else self.settings.harvest_token_lifetime
            )
        access = secrets.token_urlsafe(32)
        grant.refresh_token = secrets.token_urlsafe(32)
        self._refresh[grant.refresh_token] = grant
        self._access[access] = _Access(grant, time.time() + lifetime)
        return {
            "access_token": access,
            "token_type": "Bearer" if grant.provider == "launchpad" else "bearer",
            "expires_in": lifetime,
            "refresh_token": grant.refresh_token,
        }

    def _authorize(self, provider: str, params: Mapping[str, str]) -> web.Response:
        if params.get("client_id") != self.settings.client_id:
            return web.Response(status=400, text="Unknown client_id\n")
        redirect = params.get("redirect_uri", "")
        target = URL(redirect)
        if target.scheme not in ("http", "https") or not target.host:
            return web.Response(status=400, text="redirect_uri must be an http(s) URL\n")
        reply: dict[str, str] = {}
        if self.settings.auto_consent:
            code = secrets.token_urlsafe(24)
            self._codes[code] = (provider, redirect, time.time() + self.settings.code_lifetime)
            self.counts["authorizations"] += 1
            reply["code"] = code
        else:
            reply["error"] = "access_denied"
        if "state" in params:
            reply["state"] = params["state"]
        raise web.HTTPFound(target.update_query(reply))

    async def _token(
        self, request: web.Request, provider: str, params: Mapping[str, str]
    ) -> web.Response:
        self.token_requests.append((request.path, request.query_string, request.content_type))
        if self.settings.token_latency:
            await asyncio.sleep(self.settings.token_latency)
        try:
            if (
                params.get("client_id") != self.settings.client_id
                or params.get("client_secret") != self.settings.client_secret
            ):
                self.counts["invalid_client"] += 1
                raise _OAuthReject(401, "invalid_client", "Unknown client or wrong client secret")
            kind = params.get("grant_type") or {"web_server": "authorization_code"}.get(
                params.get("type", ""), "refresh_token" if params.get("type") == "refresh" else ""
            )
            if kind == "authorization_code":
                body = self._exchange(provider, params)
                self.counts["code_exchanges"] += 1
            elif kind == "refresh_token":
                body = self._rotate(provider, params.get("refresh_token", ""))
                self.counts["refreshes"] += 1
                self.refreshes_by_provider[provider] += 1
            else:
                raise _OAuthReject(400, "unsupported_grant_type", f"Unsupported grant {kind!r}")
        except _OAuthReject as exc:
            if exc.error == "invalid_grant":
                self.counts["invalid_grant"] += 1
            return web.json_response(
                {"error": exc.error, "error_description": exc.description}, status=exc.status
            )
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    def _exchange(self, provider: str, params: Mapping[str, str]) -> dict[str, Any]:
        found = self._codes.pop(params.get("code", ""), None)
        if found is None:
            raise _OAuthReject(400, "invalid_grant", "Unknown or already used code")
        code_provider, redirect, expires_at = found
        if code_provider != provider or expires_at < time.time():
            raise _OAuthReject(400, "invalid_grant", "Code expired or for another server")
        if params.get("redirect_uri", redirect) != redirect:
            raise _OAuthReject(400, "invalid_grant", "redirect_uri differs from the authorization")
        return self._issue(_Grant(provider, ""))

    def _rotate(self, provider: str, refresh_token: str) -> dict[str, Any]:
        if refresh_token in self._spent:
            raise _OAuthReject(400, "invalid_grant", "Refresh token already used or revoked")
        grant = self._refresh.pop(refresh_token, None)
        if grant is None or grant.provider != provider:
            raise _OAuthReject(400, "invalid_grant", "Unknown refresh token")
        self._spent.add(refresh_token)
        return self._issue(grant)

    # -- Launchpad ----------------------------------------------------------------------

    async def _launchpad_authorize(self, request: web.Request) -> web.Response:
        params = request.query
        if params.get("type") != "web_server" and params.get("response_type") != "code":
            return web.Response(status=400, text="Pass response_type=code (or type=web_server)\n")
        return self._authorize("launchpad", params)

    async def _launchpad_token(self, request: web.Request) -> web.Response:
        params: dict[str, str] = dict(request.query)  # legacy: parameters in the query
        if request.can_read_body:
            params.update(await self._form(request))
        return await self._token(request, "launchpad", params)

    async def _launchpad_authorization(self, request: web.Request) -> web.Response:
        access = self._live(request)
        if access is None:
            return web.json_response(
                {"error": "OAuth token is invalid, expired or revoked"}, status=401
            )
        expires = access.expires_at
        origin = f"{request.scheme}://{request.host}"
        accounts = [
            {k: (v.replace("{origin}", origin) if isinstance(v, str) else v) for k, v in a.items()}
            for a in self.settings.accounts
        ]
        return web.json_response(
            {
                "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds"),
                "identity": self.settings.identity,
                "accounts": accounts,
            }
        )

    # -- Harvest ------------------------------------------------------------------------

    async def _harvest_authorize(self, request: web.Request) -> web.Response:
        if request.query.get("response_type") != "code":
            return web.Response(status=400, text="response_type=code is required\n")
        return self._authorize("harvest", request.query)

    async def _harvest_token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": "Content-Type must be application/x-www-form-urlencoded",
                },
                status=400,
            )
        return await self._token(request, "harvest", await self._form(request))

    @staticmethod
    async def _form(request: web.Request) -> dict[str, str]:
        try:
            form = await request.post()
        except ValueError:
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}
