"""A loopback Launchpad + Basecamp 4 stand-in for the OAuth tests: the sandbox's OAuth
server (aiocamp.sandbox.oauth) plus a few bearer-protected Basecamp 4 routes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from aiocamp.oauth import FileTokenStore, Grant, Token
from aiocamp.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, OAuthServer

ACCOUNT = 999999999
UA = "aiocamp-tests (dev@example.com)"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class OAuthSite:
    url: str
    oauth: OAuthServer
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, query
    api_calls: int = 0

    def grant(
        self, provider: str = "launchpad", *, lifetime: int = 3600, expired: bool = False
    ) -> Grant:
        """A grant issued by the server, as `aiocamp login` would store it."""
        reply = self.oauth.issue(provider, lifetime=lifetime)
        token = Token.from_response(reply)
        if expired:
            token = Token(
                token.access_token,
                token.refresh_token,
                token.token_type,
                int(time.time()) - 10,
                token.expires_in,
            )
        path = "/authorization/token" if provider == "launchpad" else "/oauth2/token"
        return Grant(
            provider=provider,
            token_url=self.url + path,
            accounts_url=self.url + "/authorization.json" if provider == "launchpad" else None,
            client_id=SANDBOX_CLIENT_ID,
            client_secret=SANDBOX_CLIENT_SECRET,
            legacy_type=provider == "launchpad",
            token=token,
            accounts=[
                {
                    "product": "bc3",
                    "id": ACCOUNT,
                    "name": "Sandbox",
                    "href": f"{self.url}/{ACCOUNT}",
                }
            ],
        )


def oauth_app(
    oauth: OAuthServer, site: list[OAuthSite], token_delay: float = 0.0
) -> web.Application:
    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        site[0].requests.append((request.method, request.path, request.query_string))
        if token_delay and request.path.endswith("/token"):
            await asyncio.sleep(token_delay)  # widen the race between refreshers
        return await handler(request)

    async def project(request: web.Request) -> web.Response:
        if not oauth.check_bearer(request):
            return web.json_response({"error": "OAuth token expired"}, status=401)
        site[0].api_calls += 1
        pid = int(request.match_info["id"])
        return web.json_response({"id": pid, "name": f"Project {pid}", "status": "active"})

    app = web.Application(middlewares=[record])
    oauth.install(app)
    app.router.add_get(f"/{ACCOUNT}/projects/{{id:\\d+}}.json", project)
    return app


async def start_site(
    serve: Callable[[web.Application], Awaitable[TestServer]],
    token_delay: float = 0.0,
    **settings: Any,
) -> OAuthSite:
    from aiocamp.sandbox.oauth import OAuthSettings

    oauth = OAuthServer(OAuthSettings(**settings))
    holder: list[OAuthSite] = []
    server = await serve(oauth_app(oauth, holder, token_delay))
    site = OAuthSite(str(server.make_url("")).rstrip("/"), oauth)
    holder.append(site)
    return site


async def save(store: FileTokenStore, grant: Grant, key: str = "launchpad") -> None:
    async with store.lock(key):
        await store.save(key, grant)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env.update(extra)
    return env


async def run_python(code: str, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(**env),
    )


def read_store(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
