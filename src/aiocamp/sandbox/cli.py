"""``aiocamp sandbox <product>``: run a seeded sandbox until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from aiocamp.errors import ConfigError

from ._serve import serve
from ._table import PRODUCTS
from .oauth import OAuthServer


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` subcommand to the ``aiocamp`` parser."""
    p = subparsers.add_parser(
        "sandbox",
        help="serve a seeded local copy of a product's API",
        description=(
            "Serve a product's API on 127.0.0.1 with seeded data, the documented "
            "conventions and optional faults; prints the base URL and credentials."
        ),
    )
    p.add_argument("product", choices=PRODUCTS)
    p.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1, help="seed of the data and the faults")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the record counts")
    p.add_argument(
        "--count",
        action="append",
        default=[],
        metavar="MODEL=N",
        help="records of one top-level model, e.g. --count Person=1200 (repeatable)",
    )
    p.add_argument(
        "--rate-limit",
        default=None,
        help="N/W (N requests per W seconds, every class) or 'off' (default: documented)",
    )
    p.add_argument(
        "--faults",
        default=None,
        help="e.g. 500:0.05,503:0.02,drop:0.01,cut:0.01,truncate:0.01,latency:5ms,storm:2-3",
    )
    p.add_argument("--inactive", action="store_true", help="answer as an inactive account")
    p.add_argument(
        "--token-lifetime", type=int, default=None, help="OAuth 2 token lifetime, seconds"
    )
    p.set_defaults(handler=run)


def _counts(items: list[str]) -> dict[str, int]:
    counts = {}
    for item in items:
        model, sep, n = item.partition("=")
        if not sep or not n.strip().isdigit():
            raise ConfigError(f"--count: expected MODEL=N, got {item!r}")
        counts[model.strip()] = int(n)
    return counts


async def _serve_forever(args: argparse.Namespace, ready: asyncio.Event | None = None) -> None:
    async with serve(
        args.product,
        seed=args.seed,
        scale=args.scale,
        rate_limit=args.rate_limit,
        faults=args.faults,
        port=args.port,
        host=args.host,
        account_inactive=args.inactive,
        counts=_counts(args.count),
    ) as sb:
        counts = sb.state.counts()
        print(f"aiocamp sandbox: {sb.product} at {sb.url}", flush=True)
        print(f"api root: {sb.api_url}", flush=True)
        print("credentials: " + json.dumps(sb.credentials), flush=True)
        print(f"records: {sum(counts.values())} in {len(counts)} models", flush=True)
        if isinstance(sb.oauth, OAuthServer):
            oauth = sb.oauth.settings
            if getattr(args, "token_lifetime", None) is not None:
                oauth.launchpad_token_lifetime = oauth.harvest_token_lifetime = args.token_lifetime
            print(
                f"oauth: AIOCAMP_CLIENT_ID={oauth.client_id} AIOCAMP_CLIENT_SECRET="
                f"{oauth.client_secret} aiocamp login {sb.product} --server-url {sb.url}",
                flush=True,
            )
        print(f"stats: GET {sb.url}/__sandbox/stats   reset: POST {sb.url}/__sandbox/reset")
        print("Ctrl-C stops it.", flush=True)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(_serve_forever(args))
    except ConfigError as exc:  # a bad option value: a usage error
        print(f"aiocamp sandbox: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0
