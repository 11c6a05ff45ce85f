"""Mutation kills for ``aiocamp.core._download`` (issue 7), over loopback HTTP: how the
source URL is built (encoded signed URLs, relative paths), which hop gets the credential,
resuming from a ``.part`` file, the retry count, ``Content-Range`` parsing, and the errors
a download raises (type, method, URL, message)."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiocamp.core import BearerAuth, Limit, Session
from aiocamp.core._download import IncompleteDownload, _content_range, download
from aiocamp.core._limiter import LimiterWaitTooLong
from aiocamp.errors import (
    AccountInactive,
    BadRequest,
    ConfigError,
    ConnectError,
    RequestTimeout,
    TransportError,
    UnexpectedRedirect,
)

from .helpers import fast_retry, make_session, product
from .test_download import TOKEN

SMALL = bytes(range(256)) * 8  # 2 KiB


class Files:
    """A file server: records each request (raw path, headers), serves SMALL with
    Range support, and can fail the first ``fail`` requests with a dropped connection."""

    def __init__(self, *, fail: int = 0, body: bytes = SMALL, cut: int = 100) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail = fail
        self.body = body
        self.cut = cut

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
            if self.cut:
                await resp.write(body[start : start + self.cut])
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
        await download(session, "Xfiles/e.bin", tmp_path / "4")
    assert [s["raw_path"] for s in files.seen] == [
        "/999/signed/a%2Fb%41.bin?sig=x%2By",
        "/999/plain/a%20b.bin",
        "/999/files/c%2Fd%41.bin",
        "/999/Xfiles/e.bin",
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
    assert info.value.method == "GET"
    assert str(info.value).startswith("cannot connect: ClientConnector")
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


class Hops:
    """An API server: ``/r/<status>/<rest>`` answers ``status`` with ``Location: /<rest>``
    (``rest`` may itself be ``r/...``); ``/loc`` answers a file *and* a Location header;
    ``/err/<status>`` answers an error with a long, partly invalid UTF-8 body; ``/stall``
    sends its headers and then nothing. Everything else is the file."""

    def __init__(self) -> None:
        self.files = Files()
        self.seen: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append({"raw_path": request.raw_path, "headers": dict(request.headers)})
        parts = request.raw_path.lstrip("/").split("/", 2)
        if parts[0] == "r":
            return web.Response(status=int(parts[1]), headers={"Location": "/" + parts[2]})
        parts = request.path.lstrip("/").split("/", 2)
        if parts[0] == "err":
            body = b"\xff\xfe bad bytes " + TOKEN.encode() + b" " + b"e" * 2000
            headers = {"Set-Cookie": "s=1", "X-Request-Id": "rid-7"}
            if parts[1] == "inactive":
                return web.Response(
                    status=404, body=body, headers={**headers, "Reason": "Account Inactive"}
                )
            return web.Response(status=int(parts[1]), body=body, headers=headers)
        if parts[0] == "stall":
            resp = web.StreamResponse(headers={"Content-Length": "10"})
            await resp.prepare(request)
            await resp.write(b"12")
            await asyncio.sleep(5)
            return resp
        if parts[0] == "chunked":
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(SMALL)
            await resp.write_eof()
            return resp
        if parts[0] == "short206":
            # A whole-looking reply to a range request whose announced total is larger.
            start = int(request.headers["Range"].removeprefix("bytes=").rstrip("-"))
            rng = f"bytes {start}-{len(SMALL) - 1}/{2 * len(SMALL)}"
            return web.Response(status=206, body=SMALL[start:], headers={"Content-Range": rng})
        if parts[0] == "loc":
            return web.Response(body=SMALL, headers={"Location": "/elsewhere"})
        if parts[0] == "badrange":
            return web.Response(status=206, body=SMALL, headers={"Content-Range": "nonsense"})
        if parts[0] == "shifted":
            # Asked for a range, answers another one; asked for none, answers the file.
            if "Range" in request.headers:
                return web.Response(
                    status=206,
                    body=SMALL[5:],
                    headers={"Content-Range": f"bytes 5-{len(SMALL) - 1}/{len(SMALL)}"},
                )
            return web.Response(body=SMALL)
        self.seen.pop()
        return await self.files.handle(request)

    async def start(self, serve: Any) -> Any:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        return await serve(app)


async def test_every_redirect_status_is_followed_up_to_the_hop_limit(serve, tmp_path) -> None:
    """Kills the redirect status tuple (301, 303, 307, 308 each dropped or changed),
    ``and`` -> ``or`` with the Location check (a 200 with a Location followed), the
    Location read without ``encoded=True`` (a signed target's escapes changed), the hop
    limit (``MAX_REDIRECTS - 1`` / ``+ 2``), the request counter, the User-Agent and
    Accept headers (names and value padded), and the result's path and origin."""
    hops = Hops()
    server = await hops.start(serve)
    base = f"http://127.0.0.1:{server.port}"
    async with session_for(server, user_agent="kill-agent (k@example.com)") as session:
        one = await download(
            session, f"{base}/r/301/r/303/r/307/s%2Fa%41.bin?x=%2B", tmp_path / "a"
        )
        two = await download(session, f"{base}/r/308/r/302/loc", tmp_path / "b")
        assert session.stats.requests == 4 + 3
        with pytest.raises(UnexpectedRedirect) as info:
            await download(session, f"{base}/r/302/r/302/r/302/r/302/f.bin", tmp_path / "c")
    assert info.value.status == 310
    assert str(info.value).startswith("HTTP 310 for GET ")
    assert info.value.server_message == "too many redirects"
    assert info.value.url == f"{base}/f.bin"
    assert (one.path, one.bytes, one.origin) == (tmp_path / "a", len(SMALL), "http://127.0.0.1")
    assert two.bytes == len(SMALL)
    assert (tmp_path / "a").read_bytes() == SMALL
    assert (tmp_path / "b").read_bytes() == SMALL
    assert hops.files.seen[0]["raw_path"] == "/s%2Fa%41.bin?x=%2B"
    assert [s["raw_path"] for s in hops.seen[:3]] == [
        "/r/301/r/303/r/307/s%2Fa%41.bin?x=%2B",
        "/r/303/r/307/s%2Fa%41.bin?x=%2B",
        "/r/307/s%2Fa%41.bin?x=%2B",
    ]
    for seen in [*hops.seen, *hops.files.seen]:
        assert seen["headers"]["User-Agent"] == "kill-agent (k@example.com)"
        assert seen["headers"]["Accept"] == "*/*"
    assert len(hops.seen) == 4 + 2 + 4  # the fifth hop of the last chain is never asked


async def test_error_replies_are_typed_with_their_context(serve, tmp_path) -> None:
    """Kills ``status >= 400`` -> ``> 400`` / ``>= 401``, the body decoded strictly (a
    UnicodeDecodeError escaping), ``error_for_status`` without the headers (an inactive
    account read as a plain 404), and the error's status, method, URL (``safe`` None),
    body and headers (None, left out, the Set-Cookie filter inverted or mis-spelled)."""
    hops = Hops()
    server = await hops.start(serve)
    base = f"http://127.0.0.1:{server.port}"
    async with session_for(server) as session:
        with pytest.raises(BadRequest) as bad:
            await download(session, f"{base}/err/400?sig=secret", tmp_path / "e")
        with pytest.raises(AccountInactive) as inactive:
            await download(session, f"{base}/err/inactive", tmp_path / "e")
    err = bad.value
    assert (err.status, err.method, err.url) == (400, "GET", f"{base}/err/400")
    assert err.body.startswith("\ufffd\ufffd bad bytes ".encode())
    assert TOKEN.encode() not in err.body
    # 512 bytes read: two invalid bytes become two 3-byte U+FFFD, the token becomes "***".
    assert len(err.body) == 512 + 2 * 2 - (len(TOKEN) - 3)
    assert {k.lower(): v for k, v in err.headers.items()}["x-request-id"] == "rid-7"
    assert "set-cookie" not in {k.lower() for k in err.headers}
    assert err.request_id == "rid-7"
    assert inactive.value.status == 404
    assert not (tmp_path / "e").exists()


async def test_a_stalled_body_times_out_and_a_bad_range_is_an_error(serve, tmp_path) -> None:
    """Kills the download's timeout mutants (None, left out, ``sock_read`` None or left
    out: the stall would last the server's 5 s), the URL handed to ``_content_range``
    (None), and ``offset = 1`` after an unexpected range (the restart asks for a range)."""
    hops = Hops()
    server = await hops.start(serve)
    base = f"http://127.0.0.1:{server.port}"
    async with session_for(server, timeout=0.3, retry=fast_retry(max_retries=0)) as session:
        with pytest.raises(RequestTimeout) as stalled:
            await asyncio.wait_for(download(session, f"{base}/stall", tmp_path / "s"), 3)
        (tmp_path / "b.part").write_bytes(b"x" * 10)
        with pytest.raises(TransportError) as ranged:
            await download(session, f"{base}/badrange?sig=k", tmp_path / "b")
        (tmp_path / "c.part").write_bytes(b"x" * 10)
        shifted = await download(session, f"{base}/shifted", tmp_path / "c")
    assert str(stalled.value).startswith("download stalled")
    assert stalled.value.url == f"{base}/stall"
    assert stalled.value.method == "GET"
    assert ranged.value.url == f"{base}/badrange"
    assert (tmp_path / "c").read_bytes() == SMALL
    assert shifted.bytes == len(SMALL)
    shifted_seen = [s for s in hops.seen if s["raw_path"] == "/shifted"]
    assert [s["headers"].get("Range") for s in shifted_seen] == ["bytes=10-", None]


async def test_a_redirect_elsewhere_drops_the_credential_and_checks_the_scheme(
    serve, tmp_path
) -> None:
    """Kills ``send_credentials = None`` (still falsy: equivalent) and, for a plain-http
    first hop, the https -> http rule widened (``or`` for ``and``, ``!= "https"``): a
    redirect to a remote http host is followed (here it does not resolve), not refused;
    and a redirect to a non-http scheme is refused with its status, method, URL and
    message."""
    app = web.Application()

    async def away(request: web.Request) -> web.Response:
        target = request.query["to"]
        return web.Response(status=307, headers={"Location": target})

    app.router.add_get("/away", away)
    other = await serve(app)
    async with session_for(other) as session:
        with pytest.raises(ConnectError):
            await download(
                session,
                f"http://127.0.0.1:{other.port}/away?to=http://files.invalid/f",
                tmp_path / "x",
            )
        with pytest.raises(UnexpectedRedirect) as info:
            await download(
                session, f"http://127.0.0.1:{other.port}/away?to=ftp://h/f&sig=1", tmp_path / "x"
            )
    err = info.value
    assert (err.status, err.method) == (307, "GET")
    assert err.url == f"http://127.0.0.1:{other.port}/away"
    assert err.server_message == "redirect to a non-http(s) URL"


@pytest.fixture
async def tls(tmp_path: Path) -> Any:
    """Start aiohttp apps over TLS on 127.0.0.1 (a throwaway self-signed certificate)."""
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(  # noqa: ASYNC221 - a tenth of a second, once per test
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> int:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        runners.append(runner)
        server = site._server
        assert server is not None
        port: int = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return port

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_from_https_only_loopback_http_and_any_https_are_followed(
    serve, tls, tmp_path
) -> None:
    """Kills the https -> http rule: the scheme names changed (``"XXhttpsXX"``, ``"HTTPS"``,
    ``"XXhttpXX"``, ``"HTTP"``, ``!= "http"``), ``or`` for ``and``, ``is_loopback``
    inverted or given None, ``"https"`` dropped from the followed schemes, and every field
    of the refusal (status, method, URL, message: None, padded, left out, case-changed)."""
    seen: list[str] = []

    async def away(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(status=302, headers={"Location": request.query["to"]})

    app = web.Application()
    app.router.add_get("/999/away", away)
    port = await tls(app)
    plain = Files()
    plain_server = await plain.start(serve)
    base = f"https://127.0.0.1:{port}/999/away?to="
    insecure = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(connector=insecure) as http:
        session = make_session(
            f"https://127.0.0.1:{port}/999",
            auth=BearerAuth(TOKEN),
            http_session=http,
            retry=fast_retry(max_retries=0),
        )
        async with session:
            done = await download(
                session, f"{base}http://127.0.0.1:{plain_server.port}/f.bin", tmp_path / "a"
            )
            with pytest.raises(UnexpectedRedirect) as refused:
                await download(session, f"{base}http://files.invalid/f.bin", tmp_path / "b")
            with pytest.raises(ConnectError):
                await download(session, f"{base}https://files.invalid/f.bin", tmp_path / "c")
            with pytest.raises(ConnectError):
                await download(session, f"{base}https://127.0.0.1:9/f.bin", tmp_path / "d")
    assert done.bytes == len(SMALL)
    assert (tmp_path / "a").read_bytes() == SMALL
    assert "Authorization" not in plain.seen[0]["headers"]
    assert seen == [f"Bearer {TOKEN}"] * 4
    err = refused.value
    assert (err.status, err.method) == (302, "GET")
    assert err.url == f"https://127.0.0.1:{port}/999/away"
    assert err.server_message == "refusing a redirect from https to http"


async def test_only_the_credentialed_hop_draws_from_the_get_classes(serve, tmp_path) -> None:
    """Kills the limiter step of ``_attempt``: no limiter (``limiter = None``, ``is
    None``), every hop limited (``credentialed or ...``), the GET classes looked up under
    another name (None, ``"XXGETXX"``, ``"get"``: the product's default classes instead),
    and the deadline (None or left out: waits past the budget; ``now - budget``: fails at
    once)."""
    files = Files()
    server = await files.start(serve)
    limits = {"default": Limit(10_000, 1.0), "reads": Limit(1, 0.5)}
    config = product("json", limits, method_limit_classes={"GET": ("reads",)})

    def session(budget: float) -> Session:
        base = make_session(
            f"http://127.0.0.1:{server.port}/999",
            auth=BearerAuth(TOKEN),
            retry=fast_retry(max_retries=0, total_budget=budget),
        )
        return Session(config, base.settings)

    async with session(10.0) as patient:
        started = time.monotonic()
        await download(patient, "/a.bin", tmp_path / "a")
        await download(patient, "/b.bin", tmp_path / "b")
        limited = time.monotonic() - started
        started = time.monotonic()
        for name in "cde":  # another origin: no credential, no token
            await download(patient, f"http://localhost:{server.port}/{name}", tmp_path / name)
        free = time.monotonic() - started
    assert limited >= 0.4
    assert free < 0.4
    async with session(0.1) as hurried:
        await download(hurried, "/f.bin", tmp_path / "f")
        with pytest.raises(LimiterWaitTooLong):
            await download(hurried, "/g.bin", tmp_path / "g")
    assert not (tmp_path / "g").exists()


async def test_lengths_unknown_short_or_cut_and_async_progress(serve, tmp_path) -> None:
    """Kills ``_Target``'s byte count starting at None or 1 and its refusal message, the
    Content-Length reading (``or True``, ``or`` for ``and``: a chunked reply
    has none), ``total is None`` for ``is not None`` (a chunked reply refused), the short
    206's error (message, method, URL: None, padded, lower case, left out), the written
    count of a cut body (None), and an async progress callback never awaited."""
    hops = Hops()
    server = await hops.start(serve)
    base = f"http://127.0.0.1:{server.port}"
    calls: list[tuple[int, int | None]] = []

    async def progress(done: int, total: int | None) -> None:
        await asyncio.sleep(0)
        calls.append((done, total))

    async with session_for(server, retry=fast_retry(max_retries=0)) as session:
        chunked = await download(session, f"{base}/chunked", tmp_path / "c", progress=progress)
        (tmp_path / "s.part").write_bytes(SMALL[:10])
        with pytest.raises(IncompleteDownload) as short:
            await download(session, f"{base}/short206?sig=1", tmp_path / "s")
    assert (chunked.bytes, chunked.total) == (len(SMALL), None)
    assert calls[-1] == (len(SMALL), None)
    assert (tmp_path / "c").read_bytes() == SMALL
    err = short.value
    assert str(err).startswith(f"got {len(SMALL)} of {2 * len(SMALL)} bytes")
    assert (err.method, err.url) == ("GET", f"{base}/short206")
    cut = Files(fail=1)
    cut_server = await cut.start(serve)
    async with session_for(cut_server, retry=fast_retry(max_retries=0)) as session:
        with pytest.raises(IncompleteDownload) as ended:
            await download(session, "/f.bin", tmp_path / "f")
    assert str(ended.value).startswith(f"the body ended early: got 100 of {len(SMALL)} bytes")
    assert (ended.value.method, ended.value.url) == (
        "GET",
        f"http://127.0.0.1:{cut_server.port}/999/f.bin",
    )
    empty = Files(fail=1, cut=0)
    empty_server = await empty.start(serve)
    async with session_for(empty_server, retry=fast_retry(max_retries=0)) as session:
        with pytest.raises(IncompleteDownload) as nothing:
            await download(session, "/f.bin", tmp_path / "n")
        with pytest.raises(ConfigError) as refused:
            await download(session, "/f.bin", 42)  # type: ignore[arg-type]
    assert str(nothing.value).startswith(f"the body ended early: got 0 of {len(SMALL)} bytes")
    assert str(refused.value) == "dest must be a path or an object with async write(bytes)"


async def test_a_connection_closed_before_any_reply_is_a_transport_error(serve, tmp_path) -> None:
    """Kills the generic ``aiohttp.ClientError`` branch: its message (None, the type of
    None, ``str(None)``, the scrub left out), method (None, padded, lower case, left out)
    and URL (None, left out)."""

    async def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    app.router.add_get("/{tail:.*}", hang_up)
    server = await serve(app)
    async with session_for(server, retry=fast_retry(max_retries=0)) as session:
        with pytest.raises(TransportError) as info:
            await download(session, "/f.bin?sig=1", tmp_path / "f")
    err = info.value
    assert str(err).startswith("download failed: ServerDisconnectedError: Server disconnected")
    assert (err.method, err.url) == ("GET", f"http://127.0.0.1:{server.port}/999/f.bin")
