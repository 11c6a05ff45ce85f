"""``serve()``: a running sandbox on 127.0.0.1, as an async context manager."""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiohttp import web

from aiocamp.core._limiter import Limit, MemoryLimiterBackend, RateLimit

from ._app import OAuthExtension, SandboxApp
from ._data import Store
from ._faults import Faults
from ._table import ApiTable

USER_AGENT = "aiocamp-sandbox-client (sandbox@example.com)"
T = TypeVar("T")


class Sandbox:
    """A running sandbox: where it listens, how to log in, and what it has seen."""

    def __init__(self, app: SandboxApp, url: str) -> None:
        self._app = app
        self.url = url
        self.product = app.table.name
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the sandbox's event loop (the pytest fixture serves from a thread)."""
        if threading.get_ident() == self._thread:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=30)

    @property
    def credentials(self) -> dict[str, Any]:
        """Keyword arguments for the product's generated client (``base_url`` included)."""
        return self._app.conv.credentials(self.url, self._app.secrets)

    @property
    def api_url(self) -> str:
        """The root the API paths hang from (Basecamp 4: ``url`` plus the account id)."""
        return self._app.conv.api_url(self.url)

    @property
    def token(self) -> str:
        """The API token (Basic ``token:X``; Highrise and the other Basic products)."""
        return self._app.secrets.token

    @property
    def access_token(self) -> str:
        """The OAuth 2 access token the sandbox accepts as Bearer."""
        return self._app.secrets.access_token

    @property
    def login(self) -> tuple[str, str]:
        """Username and password (Highrise accepts them on /me.xml only)."""
        return self._app.secrets.username, self._app.secrets.password

    @property
    def app(self) -> SandboxApp:
        """The engine behind this sandbox (routes, table, store): for tests and tools."""
        return self._app

    @property
    def oauth(self) -> OAuthExtension | None:
        """The OAuth 2 server on this sandbox's host, if any (issue tokens, expire them)."""
        return self._app.oauth

    @property
    def state(self) -> Store:
        """The in-memory store: ``sb.state.counts()`` gives records per model."""
        return self._app.store

    @property
    def limits(self) -> dict[str, tuple[int, float]]:
        """The limits in force: class -> (requests, per seconds); empty when off."""
        return {k: (v.requests, v.per_seconds) for k, v in self._app.limits.items()}

    def stats(self) -> dict[str, Any]:
        """The same report as ``GET /__sandbox/stats``."""
        return self._on_loop(self._app.stats_report)

    def reset(self) -> None:
        """Back to the seeded data, with fresh stats and windows (``POST /__sandbox/reset``)."""
        self._on_loop(self._app.reset)

    def set_account_inactive(self, inactive: bool = True) -> None:
        """Make every API call answer 404 with ``Reason: Account Inactive``."""

        def switch() -> None:
            self._app.account_inactive = inactive
            self._app.store.account_inactive = inactive

        self._on_loop(switch)

    def client(self, **overrides: Any) -> Any:
        """The product's generated client pointed at this sandbox (an async context manager).

        Its limiter follows the sandbox's limits (a fresh in-memory backend), so a client
        that keeps to them is never throttled; pass ``rate_limit=`` to change that.
        """
        table = self._app.table
        module = importlib.import_module(f"aiocamp.{table.name}")
        cls = getattr(module, table.client)
        kwargs: dict[str, Any] = dict(self.credentials)
        kwargs["user_agent"] = USER_AGENT
        if self._app.limits:
            kwargs["rate_limit"] = RateLimit(
                backend=MemoryLimiterBackend(),
                limits={k: Limit(v.requests, v.per_seconds) for k, v in self._app.limits.items()},
            )
        else:
            kwargs["rate_limit"] = None
        kwargs.update(overrides)
        return cls(**kwargs)

    def __repr__(self) -> str:  # credentials stay out of reprs
        return f"<Sandbox {self.product} at {self.url}>"


@asynccontextmanager
async def serve(
    product: str,
    *,
    seed: int = 1,
    scale: float = 1.0,
    rate_limit: str | None = None,
    faults: Faults | str | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    counts: Mapping[str, int] | None = None,
    account_inactive: bool = False,
    oauth: OAuthExtension | bool = True,
    table: ApiTable | None = None,
) -> AsyncIterator[Sandbox]:
    """Run a seeded sandbox of ``product`` until the block ends.

    ``rate_limit``: None (the documented limits), ``"N/W"`` (N requests per W seconds in
    every class) or ``"off"``. ``faults``: a :class:`Faults` or its string form, e.g.
    ``"500:0.05,drop:0.01,latency:5ms,storm:2-3"``. ``counts`` sets the number of records of
    top-level models (e.g. ``{"Person": 1200}``), overriding ``scale``. ``oauth``: the
    OAuth 2 server on the same host (True: ``aiocamp.sandbox.oauth`` when installed; its
    live access tokens are accepted as Bearer too), an instance of your own, or False.
    ``table``: serve this API table instead of the product's shipped ``_api.json`` (an
    API of your own, or a product under construction; see ``parse_table``).
    """
    app = SandboxApp(
        product,
        seed=seed,
        scale=scale,
        counts=counts,
        rate_limit=rate_limit,
        faults=faults,
        account_inactive=account_inactive,
        oauth=oauth,
        table=table,
    )
    runner = web.AppRunner(app.application(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        url = f"http://{host}:{bound[1]}"
        app.start(url)
        yield Sandbox(app, url)
    finally:
        await runner.cleanup()
