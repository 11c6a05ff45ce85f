"""Mutation kills for ``aiocamp.core._download`` (issue 7), over loopback HTTP: how the
source URL is built (encoded signed URLs, relative paths), which hop gets the credential,
resuming from a ``.part`` file, the retry count, ``Content-Range`` parsing, and the errors
a download raises (type, method, URL, message)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from aiocamp.core import BearerAuth
from aiocamp.core._download import IncompleteDownload, _content_range, download
from aiocamp.errors import ConnectError, TransportError

from .helpers import fast_retry, make_session
from .test_download import PAYLOAD, TOKEN

SMALL = bytes(range(256)) * 8  # 2 KiB


class Files:
    """A file server: records each request (raw path, headers), serves SMALL with
    Range support, and can fail the first ``fail`` requests with a dropped connection."""

    def __init__(self, *, fail: int = 0, body: bytes = SMALL) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail = fail
        self.body = body

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append({"raw_path": request.raw_path, "headers": dict(request.headers)})
        body = self.body
        headers = {"Content-Type": "application/octet-stream"}
        status = 200
        rng = request.headers.get("Range")
        start = 0
        if rng:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        headers["Content-Length"] = str(len(body) - start)
        resp = web.StreamResponse(status=status, headers=headers)
        await resp.prepare(request)
        if len(self.seen) <= self.fail:
            await resp.write(body[start : start + 100])
            assert request.transport is not None
            request.transport.close()
            return resp
        await resp.write(body[start:])
        await resp.write_eof()
        return resp

    async def start(self, serve: Any) -> Any:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        return await serve(app)


def session_for(server: Any, **kw: Any) -> Any:
    return make_session(f"http://127.0.0.1:{server.port}/999", auth=BearerAuth(TOKEN), **kw)


async def test_source_urls_keep_their_encoding_and_relative_paths_join_the_base(
    serve, tmp_path
) -> None:
    """Kills ``encoded=`` mutants of an absolute source (None, absent, ``or``, ``"XX%XX"``,
    ``not in``): a signed URL's escapes go out byte for byte and a plain one is quoted;
    and every mutant of the relative-path join (None URL, no ``/``, ``rstrip``,
    ``encoded`` False / None / absent)."""
    files = Files()
    server = await files.start(serve)
    base = f"http://127.0.0.1:{server.port}"
    async with session_for(server) as session:
        await download(session, f"{base}/999/signed/a%2Fb%41.bin?sig=x%2By", tmp_path / "1")
        await download(session, f"{base}/999/plain/a b.bin", tmp_path / "2")
        await download(session, "/files/c%2Fd%41.bin", tmp_path / "3")
        await download(session, "files/e.bin", tmp_path / "4")
    assert [s["raw_path"] for s in files.seen] == [
        "/999/signed/a%2Fb%41.bin?sig=x%2By",
        "/999/plain/a%20b.bin",
        "/999/files/c%2Fd%41.bin",
        "/999/files/e.bin",
    ]
    assert all(s["headers"]["Authorization"] == f"Bearer {TOKEN}" for s in files.seen)
    for name in "1234":
        assert (tmp_path / name).read_bytes() == SMALL


async def test_only_the_clients_own_host_gets_the_credential(serve, tmp_path) -> None:
    """Kills ``_origin`` reading the host as ``url.host and ""`` (every host the same):
    ``localhost`` on the client's port is another origin than ``127.0.0.1``."""
    files = Files()
    server = await files.start(serve)
    async with session_for(server) as session:
        await download(session, f"http://localhost:{server.port}/x.bin", tmp_path / "x")
    assert "Authorization" not in files.seen[0]["headers"]
    assert (tmp_path / "x").read_bytes() == SMALL


async def test_a_foreign_first_hop_is_tried_without_the_credential(tmp_path) -> None:
    """Kills ``credentialed or has_credentials`` in the ``ensure_secure`` call: a foreign
    http host is fetched without the credential (here: it does not resolve), not refused
    as if the credential were going there."""
    async with make_session("http://127.0.0.1:9/999", auth=BearerAuth(TOKEN)) as session:
        with pytest.raises(ConnectError) as info:
            await download(session, "http://files.invalid/f.bin", tmp_path / "g")
    assert info.value.url == "http://files.invalid/f.bin"
    assert not (tmp_path / "g").exists()


async def test_a_part_file_is_resumed_unless_resume_is_false(serve, tmp_path) -> None:
    """Kills ``resume`` defaulting to False, ``offset`` None / 1 / always or never read
    from the part file, and ``started_at`` None; a download into a new folder kills the
    ``mkdir(parents=...)`` mutants of ``_Target.open``."""
    files = Files()
    server = await files.start(serve)
    dest = tmp_path / "new" / "deeper" / "f.bin"
    async with session_for(server) as session:
        fresh = await download(session, "/f.bin", dest)
        assert fresh.resumed_from == 0
        (tmp_path / "r.bin.part").write_bytes(SMALL[:300])
        resumed = await download(session, "/f.bin", tmp_path / "r.bin")
        (tmp_path / "s.bin.part").write_bytes(b"junk" * 75)
        again = await download(session, "/f.bin", tmp_path / "s.bin", resume=False)
    assert "Range" not in files.seen[0]["headers"]
    assert files.seen[1]["headers"]["Range"] == "bytes=300-"
    assert "Range" not in files.seen[2]["headers"]
    assert (resumed.resumed_from, resumed.bytes, resumed.total) == (300, len(SMALL), len(SMALL))
    assert (again.resumed_from, again.bytes) == (0, len(SMALL))
    assert dest.read_bytes() == SMALL
    assert (tmp_path / "r.bin").read_bytes() == SMALL
    assert (tmp_path / "s.bin").read_bytes() == SMALL
    assert resumed.origin == "http://127.0.0.1"


async def test_failures_are_retried_exactly_max_retries_times(serve, tmp_path) -> None:
    """Kills ``attempts = 1`` at the start, ``attempts = 1`` / ``-= 1`` / ``+= 2`` per
    failure, and the ``stats.retries`` mutants (``= 1``, ``-= 1``, ``+= 2``)."""
    flaky = Files(fail=2)
    server = await flaky.start(serve)
    async with session_for(server, retry=fast_retry(max_retries=2)) as session:
        result = await download(session, "/f.bin", tmp_path / "ok.bin")
        assert session.stats.retries == 2
    assert result.bytes == len(SMALL)
    assert len(flaky.seen) == 3
    broken = Files(fail=10)
    server = await broken.start(serve)
    async with session_for(server, retry=fast_retry(max_retries=2)) as session:
        with pytest.raises(IncompleteDownload):
            await download(session, "/f.bin", tmp_path / "no.bin")
        assert session.stats.retries == 2
    assert len(broken.seen) == 3


def test_content_range_parsing() -> None:
    """Kills ``_content_range``: the ``/`` separator (``"XX/XX"``: the total lost), the
    unit check (``and``), a first byte of 0 refused (``<= 0``, ``< 1``), the ``*`` total
    (``isdigit`` forced either way), and the refusal's message, method and URL."""
    assert _content_range("bytes 100-199/1000", "u") == (100, 1000)
    assert _content_range("bytes 0-99/*", "u") == (0, None)
    for bad in ("items 1-2/3", "bytes x-2/3", None):
        with pytest.raises(TransportError) as info:
            _content_range(bad, "https://h/f")
        assert str(info.value).startswith(f"unusable Content-Range {bad!r}")
        assert info.value.method == "GET"
        assert info.value.url == "https://h/f"
