"""``aiocamp export``: the command line of the export engine."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..core._errors import AiocampError, ConfigError
from ..core._limiter import Limit, RateLimit
from ..core._retry import RetryPolicy
from .checkpoint import CheckpointError
from .engine import SUMMARY, ExitCode, ExportAborted, Exporter, ExportOptions
from .products import PLANS, plan_for
from .progress import choose_display

__all__ = ["register", "run_export"]

log = logging.getLogger("aiocamp.export")

USER_AGENT = "aiocamp-export (https://pypi.org/project/aiocamp/)"
#: ``--sandbox`` runs the product's documented limit this many times faster (same count,
#: shorter window), so the demo export takes seconds while still being rate limited.
SANDBOX_SPEEDUP = 10
#: ``--sandbox`` data size unless ``--scale`` says otherwise (still pages through lists).
SANDBOX_SCALE = 0.5


@dataclass(frozen=True, slots=True)
class Target:
    """How the command builds one product's client."""

    module: str
    client: str
    #: The account flag: (flag, client keyword, type)
    account: tuple[str, str, type]
    #: Client keyword of the secret, and the environment variable that carries it.
    secret: str
    env: str


TARGETS: dict[str, Target] = {
    "backpack": Target(
        "aiocamp.backpack",
        "Backpack",
        ("--subdomain", "subdomain", str),
        "token",
        "AIOCAMP_BACKPACK_TOKEN",
    ),
    "highrise": Target(
        "aiocamp.highrise",
        "Highrise",
        ("--subdomain", "subdomain", str),
        "token",
        "AIOCAMP_HIGHRISE_TOKEN",
    ),
    "basecamp_classic": Target(
        "aiocamp.basecamp_classic",
        "BasecampClassic",
        ("--subdomain", "subdomain", str),
        "token",
        "AIOCAMP_BASECAMP_CLASSIC_TOKEN",
    ),
    "harvest": Target(
        "aiocamp.harvest",
        "Harvest",
        ("--subdomain", "subdomain", str),
        "access_token",
        "AIOCAMP_HARVEST_TOKEN",
    ),
    "basecamp4": Target(
        "aiocamp.basecamp4",
        "Basecamp4",
        ("--account-id", "account_id", int),
        "access_token",
        "AIOCAMP_BASECAMP4_TOKEN",
    ),
}

EPILOG = """\
credentials:
  Tokens come from the environment, never from the command line (process lists and shell
  histories keep arguments):
{tokens}

resources (--resources):
{resources}

incremental (--since):
{since}

exit codes:
  0    everything exported
  1    unexpected error
  2    bad usage, or an output directory holding another export (see --restart)
  3    partial: some listings failed after retries (listed in summary.json "errors");
       run the same command again to retry them
  4    credentials refused (HTTP 401)
  5    account inactive (HTTP 404 with Reason: Account Inactive)
  6    host unreachable
  130  interrupted (Ctrl-C, SIGTERM): progress is saved, run the same command to resume

output:
  DIR/<resource>.jsonl    one record per line, as the model encodes it (unknown fields kept)
  DIR/summary.json        records per resource, requests, 304s, retries, throttled
                          replies, errors, elapsed, achieved request rate vs the limit
  DIR/files/<resource>/   attachments (--with-files)
  DIR/_rejected.jsonl     records that could not be decoded, kept raw (never dropped)
  DIR/.checkpoint.*       progress; an interrupted export resumes where it stopped

example:
  aiocamp export highrise --sandbox --out export/
  AIOCAMP_HIGHRISE_TOKEN=... aiocamp export highrise --subdomain acme --out acme/ \\
      --cache-dir ~/.cache/aiocamp
"""


def _epilog() -> str:
    tokens = "\n".join(
        f"  {name:<10} {t.env} (and {t.account[0]})" for name, t in sorted(TARGETS.items())
    )
    since, resources = [], []
    for name in sorted(PLANS):
        plan = plan_for(name)
        text = plan.since_help or f"{name}: not supported (its lists take no changed-since filter)"
        since.append(textwrap.fill(text, 86, initial_indent="  ", subsequent_indent="    "))
        resources.append(
            textwrap.fill(
                f"{name}: {', '.join(plan.resources)}",
                86,
                initial_indent="  ",
                subsequent_indent="    ",
            )
        )
    return EPILOG.format(tokens=tokens, since="\n".join(since), resources="\n".join(resources))


def _rate(text: str) -> Limit:
    try:
        count, _, window = text.partition("/")
        return Limit(int(count), float(window or 1))
    except (ValueError, ConfigError):
        raise argparse.ArgumentTypeError(f"expected N/SECONDS such as 20/1, got {text!r}") from None


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an ISO 8601 date or date-time, got {text!r}"
            ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``export`` to the ``aiocamp`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export a whole account to JSONL files (resumable)",
        description=(
            "Walk a whole account concurrently, through the rate limiter, and write one "
            "JSONL file per resource plus summary.json. Interrupted exports resume."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("product", choices=sorted(PLANS))
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    parser.add_argument(
        "--resources",
        metavar="A,B",
        help="only these resources (comma-separated; their parents are walked, not written)",
    )
    parser.add_argument(
        "--with-files", action="store_true", help="also download attachments, streamed to disk"
    )
    parser.add_argument("--since", type=_since, metavar="WHEN", help="only records changed since")
    parser.add_argument(
        "--concurrency",
        type=_positive,
        metavar="N",
        help="requests in flight (default: from the product's documented limit)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate,
        metavar="N/SECONDS",
        help="stay under this instead of the product's documented limit",
    )
    parser.add_argument(
        "--cache-dir", type=Path, metavar="DIR", help="persistent ETag cache (SQLite) here"
    )
    parser.add_argument(
        "--redis", metavar="URL", help="share the limiter (and cache) with other processes"
    )
    parser.add_argument(
        "--restart", action="store_true", help="discard an unfinished export in DIR"
    )
    parser.add_argument("--base-url", metavar="URL", help="another root URL (a proxy)")
    parser.add_argument("--user-agent", default=USER_AGENT, metavar="TEXT")
    parser.add_argument(
        "--progress",
        choices=("auto", "bars", "lines", "off"),
        default="auto",
        help="bars on a terminal (needs rich), plain lines otherwise",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=None,
        metavar="N",
        help="retries of one request after a 5xx, 429 or a connection error (default 5)",
    )
    parser.add_argument("--fsync", action="store_true", help="fsync every page (power-loss safe)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    for target in TARGETS.values():
        flag, dest, kind = target.account
        with contextlib.suppress(argparse.ArgumentError):
            parser.add_argument(flag, dest=dest, type=kind, help=f"account ({target.client})")
    box = parser.add_argument_group("sandbox (a seeded local server, no account needed)")
    box.add_argument("--sandbox", action="store_true", help="export a local seeded sandbox")
    box.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    box.add_argument(
        "--scale", type=float, default=SANDBOX_SCALE, help=f"data size (default {SANDBOX_SCALE})"
    )
    box.add_argument(
        "--sandbox-rate-limit",
        metavar="N/SECONDS",
        help=(
            "the sandbox's limit, e.g. 20/1 or off (default: the documented limit "
            f"{SANDBOX_SPEEDUP}x faster, which the export then follows)"
        ),
    )
    box.add_argument("--sandbox-faults", metavar="SPEC", help="e.g. 500:0.05,drop:0.01")
    parser.set_defaults(handler=_handle)
    return parser


def _handle(args: argparse.Namespace) -> int:
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(run_export(args))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


@contextlib.asynccontextmanager
async def _source(args: argparse.Namespace) -> AsyncIterator[tuple[dict[str, Any], str]]:
    """Client keyword arguments (credentials included) and a credential-free description."""
    target = TARGETS[args.product]
    if args.sandbox:
        try:
            from aiocamp.sandbox import serve  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise ConfigError("this install has no sandbox (aiocamp.sandbox)") from None
        async with serve(
            args.product,
            seed=args.seed,
            scale=args.scale,
            rate_limit=args.sandbox_rate_limit,
            faults=args.sandbox_faults,
        ) as sb:
            print(
                f"sandbox {args.product} on {sb.url} (seed {args.seed}, scale {args.scale}, "
                f"rate limit {args.sandbox_rate_limit})",
                file=sys.stderr,
            )
            yield dict(sb.credentials), f"sandbox seed={args.seed} scale={args.scale}"
        return
    secret = os.environ.get(target.env)
    flag, dest, _ = target.account
    account = getattr(args, dest, None)
    if not secret:
        stored = _stored_login(args.product, account if dest == "account_id" else None)
        if stored is None:
            raise ConfigError(
                f"set {target.env} to the {args.product} API token, or run "
                f"`aiocamp login {args.product}` (or use --sandbox)"
            )
        if args.base_url:
            stored["base_url"] = args.base_url
        yield stored, f"{args.product} stored OAuth login {stored.get('base_url', '')}".strip()
        return
    if account is None and not args.base_url:
        raise ConfigError(f"{args.product} needs {flag} (or --base-url)")
    kwargs: dict[str, Any] = {target.secret: secret}
    if account is not None:
        kwargs[dest] = account
    if args.base_url:
        kwargs["base_url"] = args.base_url
    yield kwargs, f"{args.product} {dest}={account} {args.base_url or ''}".strip()


def _stored_login(product: str, account_id: int | None) -> dict[str, Any] | None:
    """Client arguments from the token `aiocamp login` stored (aiocamp.oauth), if any."""
    from ..oauth import stored_credentials

    return stored_credentials(product, account_id=account_id)


def _client_class(product: str) -> Any:
    target = TARGETS[product]
    return getattr(importlib.import_module(target.module), target.client)


def default_concurrency(limit: Limit) -> int:
    """Enough requests in flight to keep the limiter busy without a long queue."""
    per_second = limit.requests / limit.per_seconds
    return max(4, min(32, round(per_second)))


async def run_export(args: argparse.Namespace) -> int:
    started = time.monotonic()
    _install_sigterm()
    plan = plan_for(args.product)
    cls = _client_class(args.product)
    product_limit: Limit = cls.product.limits[cls.product.default_limit_classes[0]]
    limit = args.rate_limit
    if args.sandbox and args.sandbox_rate_limit is None:
        fast = Limit(product_limit.requests, product_limit.per_seconds / SANDBOX_SPEEDUP)
        args.sandbox_rate_limit = f"{fast.requests}/{fast.per_seconds:g}"
    if limit is None and args.sandbox and args.sandbox_rate_limit.strip().lower() != "off":
        limit = _rate(args.sandbox_rate_limit)
    limit = limit or product_limit
    resources = (
        [r.strip() for r in args.resources.split(",") if r.strip()] if args.resources else None
    )
    display = choose_display(args.progress)
    exporter: Exporter | None = None
    code = ExitCode.ERROR
    error: str | None = None
    cache: Any = None
    redis: Any = None
    try:
        async with _source(args) as (credentials, source):
            limiter_backend: Any = None
            if args.redis:
                from redis.asyncio import from_url

                from ..core._redis_backends import RedisEtagCache, RedisLimiterBackend

                redis = from_url(args.redis)
                limiter_backend = RedisLimiterBackend(redis)
                if args.cache_dir is None:
                    cache = RedisEtagCache(redis)
            if args.cache_dir is not None:
                from ..core._sqlite_cache import SqliteEtagCache

                cache = SqliteEtagCache(Path(args.cache_dir) / "etags.sqlite3")
            rate_limit = RateLimit(
                **({"backend": limiter_backend} if limiter_backend is not None else {}),
                limits={name: limit for name in cls.product.default_limit_classes},
            )
            client_kwargs: dict[str, Any] = {
                **credentials,
                "user_agent": args.user_agent,
                "rate_limit": rate_limit,
                "retry": RetryPolicy()
                if args.retries is None
                else RetryPolicy(max_retries=max(0, args.retries)),
            }
            # Without --cache-dir or --redis no cache at all: an export asks for each page
            # once, so an in-memory cache would only grow with the account.
            client_kwargs["cache"] = cache
            async with cls(**client_kwargs) as client:
                options = ExportOptions(
                    out_dir=args.out,
                    resources=resources,
                    since=args.since,
                    concurrency=args.concurrency or default_concurrency(limit),
                    with_files=args.with_files,
                    restart=args.restart,
                    fsync=args.fsync,
                    source=source,
                )
                exporter = Exporter(client, plan, options, limit=limit)
                display.start(exporter)
                try:
                    state = await exporter.run()
                finally:
                    await display.stop()
                failed = any(p["kind"] == "failed" for p in state.problems.values())
                code = ExitCode.PARTIAL if failed else ExitCode.OK
    except ExportAborted as exc:
        code, error = exc.exit_code, str(exc)
    except (CheckpointError, ConfigError) as exc:
        code, error = ExitCode.USAGE, str(exc)
    except asyncio.CancelledError:
        code, error = ExitCode.INTERRUPTED, "interrupted"
    except (AiocampError, OSError) as exc:
        code, error = ExitCode.ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        if cache is not None and hasattr(cache, "close"):
            cache.close()
        if redis is not None:
            await redis.aclose()
    elapsed = time.monotonic() - started
    if exporter is not None and exporter.state is not None:
        summary = exporter.summary(elapsed=elapsed, exit_code=code, error=error)
        exporter.write_summary(summary)
        _report(summary, args.out)
    if error is not None:
        print(f"aiocamp export: {error}", file=sys.stderr)
    if code == ExitCode.INTERRUPTED:
        print("progress is saved: run the same command to resume", file=sys.stderr)
    elif code == ExitCode.PARTIAL:
        print(
            f"some listings failed (see {args.out / SUMMARY}); run the same command to retry them",
            file=sys.stderr,
        )
    return code


def _report(summary: dict[str, Any], out: Path) -> None:
    print(
        f"exported {summary['records_total']} records in {summary['elapsed_seconds']:.1f}s to "
        f"{out}/ ({summary['requests']} requests, {summary['not_modified']} not modified, "
        f"{summary['retries']} retries, {summary['throttled']} throttled, "
        f"{len(summary['errors'])} failed listings)",
        file=sys.stderr,
    )


def _install_sigterm() -> None:
    """SIGTERM cancels the export like Ctrl-C: the checkpoint is saved, exit code 130."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aiocamp.export.cli`` (the ``aiocamp`` command has it as ``export``)."""
    parser = argparse.ArgumentParser(prog="aiocamp")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result
