"""Downloads over loopback HTTP: an API host that needs the credential and redirects to a
storage host (another origin) that must never see it; Range resume; byte-count checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiohttp import web

from aiocamp.basecamp4 import Basecamp4
from aiocamp.basecamp4.models import Upload
from aiocamp.core import BearerAuth
from aiocamp.core._download import IncompleteDownload, download
from aiocamp.errors import ConfigError, NotFound, UnexpectedRedirect

from .helpers import fast_retry, make_session

TOKEN = "dl-secret-token-42"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, every byte value


class Storage:
    """The storage host: serves PAYLOAD, honours Range, can cut the first reply short."""

    def __init__(self, *, cut_first_at: int | None = None, ranges: bool = True) -> None:
        self.seen: list[dict[str, str]] = []
        self.cut_first_at = cut_first_at
        self.ranges = ranges

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(dict(request.headers))
        start = 0
        status = 200
        headers = {"Content-Type": "application/octet-stream"}
        rng = request.headers.get("Range")
        if rng and self.ranges:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
        body = PAYLOAD[start:]
        headers["Content-Length"] = str(len(body))
        resp = web.StreamResponse(status=status, headers=headers)
        await resp.prepare(request)
        if self.cut_first_at is not None and len(self.seen) == 1:
            await resp.write(body[: self.cut_first_at])
            assert request.transport is not None
            request.transport.close()  # the connection drops mid-body
            return resp
        await resp.write(body)
        await resp.write_eof()
        return resp


class Sink:
    """An async writer that keeps what it is given, chunk by chunk."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.parts.append(data)


async def start_pair(serve, storage: Storage, *, location_scheme: str = "http"):
    store_app = web.Application()
    store_app.router.add_get("/signed/{name}", storage.handle)
    store = await serve(store_app)
    api_seen: list[dict[str, str]] = []

    async def api(request: web.Request) -> web.Response:
        api_seen.append(dict(request.headers))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        target = f"{location_scheme}://127.0.0.1:{store.port}/signed/logo.png?sig=abc"
        return web.Response(status=302, headers={"Location": target})

    api_app = web.Application()
    api_app.router.add_get("/999/buckets/1/uploads/2/download/logo.png", api)
    api_server = await serve(api_app)
    return api_server, store, api_seen


def client(api_server) -> Basecamp4:
    return Basecamp4(
        access_token=TOKEN,
        user_agent="aiocamp-tests (dev@example.com)",
        base_url=f"http://127.0.0.1:{api_server.port}/999",
    )


async def test_download_follows_the_redirect_without_the_credential(serve, tmp_path) -> None:
    storage = Storage()
    api_server, _, api_seen = await start_pair(serve, storage)
    upload = Upload(
        download_url=f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"
    )
    seen_progress: list[tuple[int, int | None]] = []
    async with client(api_server) as bc:
        result = await bc.download(
            upload, tmp_path / "logo.png", progress=lambda d, t: seen_progress.append((d, t))
        )
    data = (tmp_path / "logo.png").read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(PAYLOAD).digest()
    assert result.bytes == len(PAYLOAD)
    assert result.total == len(PAYLOAD)
    assert api_seen[0]["Authorization"] == f"Bearer {TOKEN}"
    assert all("Authorization" not in h for h in storage.seen)
    assert all(TOKEN not in str(h) for h in storage.seen)
    assert seen_progress[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen_progress] == sorted(d for d, _ in seen_progress)
    assert not (tmp_path / "logo.png.part").exists()


async def test_a_dropped_connection_resumes_with_range(serve, tmp_path) -> None:
    storage = Storage(cut_first_at=300_000)
    api_server, _, _ = await start_pair(serve, storage)
    url = f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"
    async with client(api_server) as bc:
        result = await bc.download(url, tmp_path / "f.bin")
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert len(storage.seen) == 2
    resumed_at = int(storage.seen[1]["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 300_000
    assert result.bytes == len(PAYLOAD)


async def test_without_range_support_the_download_starts_over(serve, tmp_path) -> None:
    storage = Storage(cut_first_at=200_000, ranges=False)
    api_server, _, _ = await start_pair(serve, storage)
    url = f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"
    async with client(api_server) as bc:
        await bc.download(url, tmp_path / "f.bin")
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


async def test_a_short_body_is_an_error_and_keeps_the_part_file(serve, tmp_path) -> None:
    storage = Storage(cut_first_at=100_000, ranges=False)
    api_server, _, _ = await start_pair(serve, storage)
    url = f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"
    session = make_session(
        f"http://127.0.0.1:{api_server.port}/999",
        auth=BearerAuth(TOKEN),
        retry=fast_retry(max_retries=0),
    )
    async with session:
        with pytest.raises(IncompleteDownload) as info:
            await download(session, url, tmp_path / "f.bin")
    assert "of 1048576 bytes" in str(info.value)
    assert TOKEN not in str(info.value)
    assert not (tmp_path / "f.bin").exists()
    assert 0 < (tmp_path / "f.bin.part").stat().st_size <= 100_000


async def test_an_async_writer_receives_every_byte(serve) -> None:
    storage = Storage()
    api_server, _, _ = await start_pair(serve, storage)
    url = f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"

    sink = Sink()
    async with client(api_server) as bc:
        result = await bc.download(url, sink)
    assert b"".join(sink.parts) == PAYLOAD
    assert result.path is None
    assert max(len(p) for p in sink.parts) <= 256 * 1024  # streamed, not read whole


@pytest.mark.parametrize("ranges", [True, False], ids=["range", "no-range"])
async def test_an_async_writer_cut_mid_body_gets_each_byte_once(serve, ranges) -> None:
    """A writer cannot rewind: after a drop mid-body the retry asks for the bytes it does
    not have (``Range``), and a server that ignores Range sends them all again, of which
    only the missing ones are written. Either way the writer holds PAYLOAD exactly once."""
    storage = Storage(cut_first_at=300_000, ranges=ranges)
    api_server, _, _ = await start_pair(serve, storage)
    url = f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"

    sink = Sink()
    async with client(api_server) as bc:
        result = await bc.download(url, sink)
    got = b"".join(sink.parts)
    assert len(got) == len(PAYLOAD)
    assert got == PAYLOAD
    assert result.bytes == len(PAYLOAD)
    retried = storage.seen[-1].get("Range")
    assert len(storage.seen) >= 2
    assert retried is not None
    assert retried.startswith("bytes=")
    assert retried != "bytes=0-"


async def test_credentials_never_go_to_a_foreign_first_hop(serve, tmp_path) -> None:
    storage = Storage()
    api_server, store, _ = await start_pair(serve, storage)
    async with client(api_server) as bc:
        # A URL on another origin (the storage host) is fetched without the credential.
        await bc.download(f"http://127.0.0.1:{store.port}/signed/x", tmp_path / "x")
    assert "Authorization" not in storage.seen[0]
    assert (tmp_path / "x").read_bytes() == PAYLOAD


async def test_a_redirect_to_another_scheme_is_refused(serve, tmp_path) -> None:
    # Only http(s) hops are followed; the API host is asked once.
    api_seen: list[str] = []

    async def api(request: web.Request) -> web.Response:
        api_seen.append(request.path)
        return web.Response(status=302, headers={"Location": "ftp://files.example.com/x"})

    app = web.Application()
    app.router.add_get("/999/f", api)
    api_server = await serve(app)
    async with client(api_server) as bc:
        with pytest.raises(UnexpectedRedirect):
            await bc.download(f"http://127.0.0.1:{api_server.port}/999/f", tmp_path / "y")
    assert api_seen == ["/999/f"]


async def test_errors_are_typed_and_scrubbed(serve, tmp_path) -> None:
    async def api(request: web.Request) -> web.Response:
        return web.Response(status=404, text=f"no such file for {TOKEN}")

    app = web.Application()
    app.router.add_get("/999/missing", api)
    api_server = await serve(app)
    async with client(api_server) as bc:
        with pytest.raises(NotFound) as info:
            await bc.download(f"http://127.0.0.1:{api_server.port}/999/missing", tmp_path / "m")
        with pytest.raises(ConfigError):
            await bc.download(Upload(), tmp_path / "m")
    assert TOKEN not in str(info.value)
    assert TOKEN.encode() not in (info.value.body or b"")


def test_part_files_live_beside_the_destination(tmp_path: Path) -> None:
    from aiocamp.core._download import _Target

    target = _Target(tmp_path / "a" / "b.bin")
    assert target.part == tmp_path / "a" / "b.bin.part"
    with pytest.raises(ConfigError):
        _Target(42)  # type: ignore[arg-type]
