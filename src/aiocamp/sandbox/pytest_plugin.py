"""pytest plugin: the ``aiocamp_sandbox`` fixture starts sandboxes for a test.

Installed with aiocamp (entry point ``pytest11``), so any test suite can write::

    def test_my_sync(aiocamp_sandbox):
        sb = aiocamp_sandbox("highrise", seed=3, scale=0.1)
        run_my_code(base_url=sb.url, token=sb.credentials["token"])

Each sandbox runs its own event loop in a background thread, so the fixture works in
plain and in async tests alike; every sandbox the test started is stopped at teardown.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ._serve import Sandbox, serve


class ThreadedSandbox:
    """``serve()`` running on an event loop of its own, in a daemon thread."""

    def __init__(self, product: str, **kwargs: Any) -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.sandbox: Sandbox | None = None
        self._thread = threading.Thread(
            target=self._run, args=(product, kwargs), name=f"aiocamp-sandbox-{product}", daemon=True
        )

    def _run(self, product: str, kwargs: dict[str, Any]) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with serve(product, **kwargs) as sb:
                self.sandbox = sb
                self._ready.set()
                await self._stop.wait()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test thread by start()
            self._error = exc
            self._ready.set()

    def start(self, timeout: float = 30.0) -> Sandbox:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the sandbox did not start in time")
        if self._error is not None:
            raise self._error
        assert self.sandbox is not None
        return self.sandbox

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


@pytest.fixture
def aiocamp_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """A factory: ``aiocamp_sandbox(product, **serve_kwargs)`` -> a running Sandbox."""
    running: list[ThreadedSandbox] = []

    def start(product: str, **kwargs: Any) -> Sandbox:
        threaded = ThreadedSandbox(product, **kwargs)
        running.append(threaded)
        return threaded.start()

    yield start
    for threaded in running:
        threaded.stop()
