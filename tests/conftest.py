from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from importlib.metadata import entry_points

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from .helpers import RedisServer, start_server


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move everything collection built (modules, fixtures, thousands of test items) out of
    the cyclic GC's reach: a full collection then stays short, instead of a 10-30 ms pause
    landing inside whichever timing test allocates at that moment."""
    gc.collect()
    gc.freeze()


# The sandbox's pytest plugin is an entry point (pytest11) of the installed package; from a
# bare source tree (PYTHONPATH=src, nothing installed) it is loaded here instead. Loading it
# both ways would register it twice.
if not any(ep.value == "aiocamp.sandbox.pytest_plugin" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["aiocamp.sandbox.pytest_plugin"]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[TestServer]]]:
    """Start aiohttp apps on 127.0.0.1; all are closed after the test."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        server = await start_server(app)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    if server.binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[object]:
    """A client of the test Redis server, its databases emptied."""
    from redis import asyncio as redis_asyncio

    client = redis_asyncio.Redis(host="127.0.0.1", port=redis_server.port)
    await client.flushall()
    yield client
    await client.aclose()
