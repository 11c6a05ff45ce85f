"""Helpers of the OAuth tests: a sandbox with its Launchpad / Harvest OAuth server, grants
issued by it, and subprocesses that run aiocamp from this source tree."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiocamp.oauth import FileTokenStore, Grant, Token
from aiocamp.sandbox import Sandbox
from aiocamp.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, OAuthServer

ACCOUNT = 999999999
UA = "aiocamp-tests (dev@example.com)"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class OAuthSite:
    sb: Sandbox
    project_id: int = 0

    @property
    def url(self) -> str:
        return self.sb.url

    @property
    def oauth(self) -> OAuthServer:
        assert isinstance(self.sb.oauth, OAuthServer)
        return self.sb.oauth

    @property
    def api_calls(self) -> int:
        """API requests the sandbox served (its OAuth endpoints are not counted there)."""
        return int(self.sb.stats()["requests"])

    def grant(
        self, provider: str = "launchpad", *, lifetime: int = 3600, expired: bool = False
    ) -> Grant:
        """A grant issued by the sandbox, as `aiocamp login` would have stored it."""
        token = Token.from_response(self.oauth.issue(provider, lifetime=lifetime))
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
                {"product": "bc3", "id": ACCOUNT, "name": "Sandbox", "href": self.sb.api_url}
            ],
        )


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
