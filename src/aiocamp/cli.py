"""The ``aiocamp`` command.

``aiocamp demo`` starts a small Highrise-shaped server on 127.0.0.1 and walks it with the
real client: paging, typed models, an ETag 304 served from the cache, and a throttled
reply retried after its Retry-After. (``export``, ``sandbox`` and ``login`` come later.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import time
from collections.abc import Sequence

from aiohttp import web

from .core import Limit, RateLimit, RetryPolicy
from .errors import AiocampError
from .export.cli import register as register_export
from .highrise import Highrise
from .oauth.cli import register as register_oauth
from .sandbox.cli import register as register_sandbox

DEMO_TOKEN = "demo-token-not-secret"  # noqa: S105 - a throwaway for the local demo
PAGE = 500  # Highrise pages people by 500 (specs/highrise/people.yaml)


def _person_xml(i: int) -> str:
    return (
        f'<person><id type="integer">{i}</id><first-name>Person</first-name>'
        f"<last-name>No. {i}</last-name>"
        f'<created-at type="datetime">2024-01-01T00:00:00Z</created-at>'
        f'<company-id type="integer">{i % 7}</company-id>'
        f'<tags type="array"><tag><id type="integer">1</id><name>demo</name></tag></tags>'
        f"</person>"
    )


def demo_app(people: int) -> web.Application:
    """A loopback stand-in for Highrise: Basic auth, n= paging, ETags, one 503 throttle."""
    throttled: list[bool] = []

    def check_auth(request: web.Request) -> None:
        import base64

        expected = "Basic " + base64.b64encode(f"{DEMO_TOKEN}:X".encode()).decode()
        if request.headers.get("Authorization") != expected:
            raise web.HTTPUnauthorized()

    async def list_people(request: web.Request) -> web.Response:
        check_auth(request)
        if not throttled:
            throttled.append(True)
            return web.Response(status=503, headers={"Retry-After": "1"})
        n = int(request.query.get("n", "0"))
        body = "".join(_person_xml(i) for i in range(n + 1, min(n + PAGE, people) + 1))
        return web.Response(
            body=f'<people type="array">{body}</people>', content_type="application/xml"
        )

    async def get_person(request: web.Request) -> web.Response:
        check_auth(request)
        i = int(request.match_info["id"])
        if not 1 <= i <= people:
            raise web.HTTPNotFound()
        body = _person_xml(i).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/xml", headers={"ETag": etag})

    app = web.Application()
    app.router.add_get("/people.xml", list_people)
    app.router.add_get("/people/{id:\\d+}.xml", get_person)
    return app


async def run_demo(people: int) -> int:
    runner = web.AppRunner(demo_app(people))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base_url = f"http://127.0.0.1:{port}"
    print(f"demo Highrise server on {base_url} ({people} people)")
    started = time.monotonic()
    try:
        async with Highrise(
            base_url=base_url,
            token=DEMO_TOKEN,
            user_agent="aiocamp demo (https://github.com/aiocamp)",
            rate_limit=RateLimit(limits={"default": Limit(150, 5)}),
            retry=RetryPolicy(max_retries=3),
        ) as hr:
            count = 0
            companies: set[int | None] = set()
            it = hr.people.list()
            async for person in it:
                count += 1
                companies.add(person.company_id)
            print(f"listed {count} people in {it.pages_fetched} pages of up to {PAGE}")
            first = await hr.people.get(1)
            again = await hr.people.get(1)
            assert first == again
            print(f"person 1: {first.first_name} {first.last_name}, tags {first.tags}")
            stats = hr.session.stats
            print(
                f"requests {stats.requests}, 304s served from cache {stats.not_modified}, "
                f"retries {stats.retries}, throttled replies {stats.throttled}, "
                f"elapsed {time.monotonic() - started:.2f}s"
            )
            ok = count == people and stats.not_modified == 1 and stats.throttled == 1
    finally:
        await runner.cleanup()
    print("demo OK" if ok else "demo FAILED")
    return 0 if ok else 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="aiocamp", description="aiocamp command line")
    parser.add_argument("--version", action="version", version=f"aiocamp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="walk a local Highrise-shaped server with the client")
    demo.add_argument(
        "--people", type=_positive_int, default=1200, help="people on the server (>= 1)"
    )
    register_export(sub)
    register_oauth(sub)
    register_sandbox(sub)
    return parser


#: Exit codes: 0 done, 1 the command failed, 2 bad usage, 130 interrupted.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never a traceback for expected errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: message + exit 2, from argparse
    if args.command is None:
        parser.print_help(sys.stderr)
        print("\naiocamp: error: name a command, e.g. `aiocamp demo`", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "demo":
            return asyncio.run(run_demo(args.people))
        if hasattr(args, "handler"):  # subcommands added by register(subparsers)
            return int(args.handler(args))
    except KeyboardInterrupt:
        print("aiocamp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AiocampError as exc:
        print(f"aiocamp {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse checks


if __name__ == "__main__":
    sys.exit(main())
