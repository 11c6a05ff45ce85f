"""Shared test helpers: loopback aiohttp servers and a core session for a test product."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from aiocamp.core import (
    BasicTokenAuth,
    Limit,
    MemoryLimiterBackend,
    RateLimit,
    RetryPolicy,
    Session,
)
from aiocamp.core._auth import AuthStrategy
from aiocamp.core._session import ProductConfig
from aiocamp.core._settings import DEFAULT, ClientSettings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT.parent / "shared" / "api-docs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def product(fmt: str = "json", limits: dict[str, Limit] | None = None, **kw: Any) -> ProductConfig:
    return ProductConfig(
        name="test",
        format=fmt,
        limits=limits or {"default": Limit(10_000, 1.0)},
        default_limit_classes=("default",),
        **kw,
    )


def fast_retry(**kw: Any) -> RetryPolicy:
    """Retries with tiny backoff so tests run in milliseconds."""
    params: dict[str, Any] = {
        "max_retries": 3,
        "total_budget": 10.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    params.update(kw)
    return RetryPolicy(**params)


def make_session(
    base_url: str,
    *,
    fmt: str = "json",
    auth: AuthStrategy | None = None,
    limits: dict[str, Limit] | None = None,
    rate_limit: RateLimit | None = DEFAULT,
    retry: RetryPolicy | None = None,
    user_agent: str = "aiocamp-tests (dev@example.com)",
    **kw: Any,
) -> Session:
    product_kw = {k: kw.pop(k) for k in ("errors", "credential_hosts") if k in kw}
    if rate_limit is DEFAULT:
        # A backend of its own: tests must not share buckets (or pauses) with each other.
        rate_limit = RateLimit(backend=MemoryLimiterBackend())
    if "session" in kw:
        kw["http_session"] = kw.pop("session")
    if kw.get("host_overrides") is None:
        kw.pop("host_overrides", None)
    settings = ClientSettings(
        base_url=base_url,
        auth=auth or BasicTokenAuth("secret-token-123"),
        user_agent=user_agent,
        account="acct",
        rate_limit=rate_limit,
        retry=retry or fast_retry(),
        **kw,
    )
    return Session(product(fmt, limits, **product_kw), settings)


async def start_server(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


class ThreadedServer:
    """An aiohttp app on 127.0.0.1 served by its own thread and event loop, for tests whose
    code calls ``asyncio.run()`` itself (README snippets, several loops)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        server = loop.run_until_complete(start_server(self._app))
        self.url = str(server.make_url("")).rstrip("/")
        self._started.set()
        loop.run_forever()
        loop.run_until_complete(server.close())
        loop.close()

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the threaded test server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A real redis-server on a free loopback port, for the Redis backend tests."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary is not None
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


#: Arrival jitter a server-side window count forgives in tests with windows under a second:
#: the limiter keeps ``N + 1`` requests the window plus at least 30 ms apart when it *sends*
#: them (less a 7.5 ms catch-up); a loaded test machine delays some arrivals more than
#: others. Mutants that matter (an extra token, a lost pause) are a whole interval off.
JITTER = 0.01


def max_in_window(times: list[float], window: float, *, jitter: float = 0.0) -> int:
    """The largest number of events inside any half-open sliding window of ``window`` s
    (``window - jitter`` with an allowance for arrival jitter)."""
    window -= jitter
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def app_of(handler: Any, path: str = "/{tail:.*}", method: str = "*") -> web.Application:
    """An app that answers ``method`` on ``path`` (every method and path by default)."""
    app = web.Application()
    app.router.add_route(method, path, handler)
    return app


def self_signed_tls(
    folder: Path, common_name: str, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = ()
) -> tuple[Path, Path]:
    """A throwaway self-signed certificate (valid for an hour) and its key, as PEM files
    in ``folder``: for the given DNS names and IP addresses."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
