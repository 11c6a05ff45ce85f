"""``aiocamp login <product>`` and ``aiocamp accounts``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import webbrowser
from typing import Any

from ..core._errors import AiocampError
from .login import login, refresh_accounts
from .provider import TokenProvider
from .providers import PRODUCT_PROVIDERS, provider_for
from .stores import FileTokenStore

__all__ = ["register"]

_ENV_ID = "AIOCAMP_CLIENT_ID"
_ENV_SECRET = "AIOCAMP_CLIENT_SECRET"  # noqa: S105 - the variable's name, not a secret


def register(subparsers: Any) -> None:
    """Add the ``login`` and ``accounts`` commands to ``aiocamp``'s parser."""
    p = subparsers.add_parser(
        "login",
        help="authorize aiocamp with OAuth 2 and store the token",
        description=(
            "Runs the OAuth 2 authorization code flow: prints the URL to open, waits for the "
            "browser to come back to a callback server on 127.0.0.1, stores the token (0600). "
            f"The app's credentials come from ${_ENV_ID} and ${_ENV_SECRET} (or the options; "
            "an option is visible to other users in the process list)."
        ),
    )
    p.add_argument("product", choices=sorted(PRODUCT_PROVIDERS))
    p.add_argument("--client-id", default=os.environ.get(_ENV_ID))
    p.add_argument("--client-secret", default=None)
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="callback port on 127.0.0.1 (0: any); register "
        "http://127.0.0.1:PORT/callback as your app's redirect URI",
    )
    p.add_argument("--server-url", help="another authorization server origin (a sandbox)")
    p.add_argument("--store", help="token file (default: $AIOCAMP_TOKEN_FILE or ~/.config)")
    p.add_argument("--open", action="store_true", help="open the URL in a web browser")
    p.add_argument("--timeout", type=float, default=300.0)
    p.set_defaults(handler=_login)

    a = subparsers.add_parser("accounts", help="list the accounts of the stored OAuth token")
    a.add_argument("product", nargs="?", choices=sorted(PRODUCT_PROVIDERS), default="basecamp4")
    a.add_argument("--store", help="token file (default: $AIOCAMP_TOKEN_FILE or ~/.config)")
    a.add_argument("--offline", action="store_true", help="print what was stored, ask no one")
    a.set_defaults(handler=_accounts)


def _login(args: argparse.Namespace) -> int:
    secret = args.client_secret or os.environ.get(_ENV_SECRET)
    if not args.client_id or not secret:
        print(
            f"aiocamp login: set ${_ENV_ID} and ${_ENV_SECRET} (your app's OAuth 2 credentials)",
            file=sys.stderr,
        )
        return 2

    def show(url: str) -> None:
        print("Open this URL in a browser and approve access:", flush=True)
        print(url, flush=True)
        if args.open:
            webbrowser.open(url)

    try:
        grant = asyncio.run(
            login(
                args.product,
                client_id=args.client_id,
                client_secret=secret,
                store=FileTokenStore(args.store),
                server_url=args.server_url,
                port=args.port,
                on_url=show,
                wait=args.timeout,
            )
        )
    except AiocampError as exc:
        print(f"aiocamp login: {exc}", file=sys.stderr)
        return 1
    print(f"Logged in to {grant.provider}; token stored in {FileTokenStore(args.store).path}")
    _print_accounts(grant.accounts)
    return 0


def _accounts(args: argparse.Namespace) -> int:
    provider, _ = provider_for(args.product)
    store = FileTokenStore(args.store)

    async def run() -> list[dict[str, Any]]:
        tokens = TokenProvider(store, provider.name)
        await tokens.access_token()  # refreshes first when the token is about to expire
        grant = tokens.grant
        assert grant is not None
        if grant.accounts_url is not None and not args.offline:
            grant = await refresh_accounts(grant)
            async with store.lock(provider.name):
                await store.save(provider.name, grant)
        return grant.accounts

    try:
        if args.offline:
            grant = store.load_now(provider.name)
            if grant is None:
                print(
                    f"aiocamp accounts: no {provider.name} login stored; run aiocamp login",
                    file=sys.stderr,
                )
                return 1
            accounts = grant.accounts
        else:
            accounts = asyncio.run(run())
    except AiocampError as exc:
        print(f"aiocamp accounts: {exc}", file=sys.stderr)
        return 1
    _print_accounts(accounts)
    return 0


def _print_accounts(accounts: list[dict[str, Any]]) -> None:
    if not accounts:
        print("(no accounts)")
    for a in accounts:
        print(
            f"{a.get('product', '?'):<10} {a.get('id', ''):<12} {a.get('name', '')}  "
            f"{a.get('href', '')}"
        )
