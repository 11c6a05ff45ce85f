"""Session setup, request bodies, reading and decoding replies, Backpack envelopes: the
behaviour the session module's mutation run showed unguarded (issue 7). Over real HTTP on
127.0.0.1; each docstring names the kinds of mutation the test kills."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
import threading
from collections.abc import Sequence
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import (
    BasicTokenAuth,
    BodyTokenAuth,
    CacheEntry,
    Limit,
    MemoryEtagCache,
    MemoryLimiterBackend,
    PageIterator,
    Paging,
    RateLimit,
    Request,
    RetryPolicy,
    Session,
)
from aiocamp.core._cache import cache_key
from aiocamp.core._codecs import CODECS
from aiocamp.core._constants import OFFLOOP_DECODE_BYTES
from aiocamp.core._limiter import BucketParams
from aiocamp.core._runtime import json_items
from aiocamp.core._session import ProductConfig, offload, unwrap_envelope
from aiocamp.core._settings import ClientSettings

from .helpers import app_of, fast_retry, make_session, product

TOKEN = "secret-token-123"
UA = "aiocamp-tests (dev@example.com)"


def settings(base_url: str = "https://api.example.test", **kw: Any) -> ClientSettings:
    params: dict[str, Any] = {
        "base_url": base_url,
        "auth": BasicTokenAuth(TOKEN),
        "user_agent": UA,
        "account": "acct",
        "retry": fast_retry(),
    }
    params.update(kw)
    return ClientSettings(**params)


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"user_agent": "   "},
            'user_agent is required: name your app and a contact, e.g. "MyApp (me@example.com)"',
        ),
        (
            {"user_agent": "MyApp\x7f (me@example.com)"},
            "user_agent must not contain line breaks or control characters",
        ),
        ({"timeout": 0}, "timeout must be > 0 seconds"),
        ({"timeout": -1.0}, "timeout must be > 0 seconds"),
        ({"max_body_bytes": 0}, "max_body_bytes must be a positive integer"),
        ({"max_body_bytes": -5}, "max_body_bytes must be a positive integer"),
        ({"max_body_bytes": True}, "max_body_bytes must be a positive integer"),
        ({"max_body_bytes": "1024"}, "max_body_bytes must be a positive integer"),
        ({"max_body_bytes": 10.5}, "max_body_bytes must be a positive integer"),
        (
            {"base_url": "ftp://files.example.test"},
            "base_url must be an absolute http(s) URL, got 'ftp://files.example.test'",
        ),
        ({"base_url": "https://"}, "base_url must be an absolute http(s) URL, got 'https://'"),
        (
            {"host_overrides": {"launchpad.example.test": "localhost:8080"}},
            "host_overrides['launchpad.example.test'] must be an absolute http(s) URL, "
            "got 'localhost:8080'",
        ),
        (
            {"host_overrides": {"launchpad.example.test": "ftp://sandbox.example.test"}},
            "host_overrides['launchpad.example.test'] must be an absolute http(s) URL, "
            "got 'ftp://sandbox.example.test'",
        ),
        (
            {"host_overrides": {"launchpad.example.test": "https:///path"}},
            "host_overrides['launchpad.example.test'] must be an absolute http(s) URL, "
            "got 'https:///path'",
        ),
    ],
    ids=[
        "blank-ua",
        "del-in-ua",
        "zero-timeout",
        "negative-timeout",
        "zero-body",
        "negative-body",
        "bool-body",
        "str-body",
        "float-body",
        "ftp",
        "no-host",
        "override-without-scheme",
        "override-ftp",
        "override-without-host",
    ],
)
def test_bad_settings_are_config_errors_that_say_what_to_fix(overrides, message) -> None:
    """Kills: the boundary mutants of the checks (``timeout >= 0``, ``max_body < 2`` or
    ``<= 1``, ``and`` for ``or`` between the type and range checks, ``not host and`` for
    the base URL and for a host override),
    DEL (0x7f) no longer a control character, and every message set to None, padded or
    upper-cased (the exact text is what a user reads)."""
    with pytest.raises(errors.ConfigError) as info:
        Session(product(), settings(**overrides))
    assert str(info.value) == message


async def test_the_smallest_valid_settings_work_at_their_boundaries(serve) -> None:
    """``max_body_bytes=1`` accepts a 1-byte body and a tiny timeout is valid; a trailing
    slash (or several) of the base URL is dropped, not ``lstrip``-ed or stripped of
    other characters. Kills ``max_body < 2`` / ``<= 1``, ``rstrip(None)``, ``lstrip``,
    ``rstrip("XX/XX")``."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.Response(body=b"7", content_type="application/json")

    server = await serve(app_of(handler))
    base = str(server.make_url("/accountX")) + "//"
    session = Session(product(), settings(base, max_body_bytes=1, timeout=0.5, cache=None))
    async with session as s:
        r = await s.request(Request("GET", "/one.json"))
    assert s.base_url == str(server.make_url("/accountX"))
    assert seen == ["/accountX/one.json"]
    assert (r.data, r.size) == (7, 1)
    # Host overrides of either scheme are accepted (kills "https" misspelt in the check).
    for target in ("https://sandbox.example.test", "http://127.0.0.1:9"):
        Session(product(), settings(host_overrides={"launchpad.example.test": target}))


# -- headers and bodies -------------------------------------------------------------------


async def test_writes_without_data_send_an_empty_typed_body_and_raw_bodies_their_type(
    serve,
) -> None:
    """A POST or PUT without data sends zero bytes with the codec's Content-Type (BC4
    answers 415 otherwise); a GET sends no Content-Type; raw bytes default to
    application/octet-stream; Accept and User-Agent are exact. Kills ``"XXPUTXX"`` /
    ``"put"`` in the write methods, ``b"XXXX"`` for the empty body, the padded or
    upper-cased octet-stream default and the misspelt ``"XXAcceptXX"`` header."""
    seen: list[tuple[str, str | None, str | None, str | None, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        h = request.headers
        seen.append(
            (
                request.method,
                h.get("Content-Type"),
                h.get("Accept"),
                h.get("User-Agent"),
                await request.read(),
            )
        )
        assert "XXAcceptXX" not in h
        return web.json_response({})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("POST", "/a.json"))
        await s.request(Request("PUT", "/b.json"))
        await s.request(Request("GET", "/c.json", cache=False))
        await s.request(Request("PUT", "/d", raw_body=b"\x00\x01raw"))
        await s.request(Request("PUT", "/e", raw_body=b"<x/>", content_type="text/xml"))
    json_type = "application/json; charset=utf-8"
    assert seen == [
        ("POST", json_type, "application/json", UA, b""),
        ("PUT", json_type, "application/json", UA, b""),
        ("GET", None, "application/json", UA, b""),
        ("PUT", "application/octet-stream", "application/json", UA, b"\x00\x01raw"),
        ("PUT", "text/xml", "application/json", UA, b"<x/>"),
    ]


async def test_a_raw_body_and_wire_data_together_are_refused() -> None:
    """Refused before any I/O (the host does not exist). Kills the None, padded and
    upper-cased messages of that ConfigError."""
    async with Session(product(), settings()) as s:
        with pytest.raises(errors.ConfigError) as info:
            await s.request(Request("PUT", "/x", body={"a": 1}, raw_body=b"x"))
    assert str(info.value) == "a request has either a raw body or wire data, not both"


async def test_a_303_after_a_post_fetches_with_get_and_no_content_type(serve) -> None:
    """The GET that follows a 303 carries no body and no Content-Type. Kills the
    ``"content-type"`` / ``"CONTENT-TYPE"`` spellings in ``_headers`` (request headers
    are a plain dict there, so the 303 hop's ``pop("Content-Type")`` would miss them)."""
    seen: list[tuple[str, str, str | None, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            (
                request.method,
                request.path,
                request.headers.get("Content-Type"),
                await request.read(),
            )
        )
        if request.method == "POST":
            return web.Response(status=303, headers={"Location": "/result.json"})
        return web.json_response({"done": True})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("POST", "/jobs.json", body={"n": 1}))
    assert r.data == {"done": True}
    assert seen == [
        ("POST", "/jobs.json", "application/json; charset=utf-8", b'{"n":1}'),
        ("GET", "/result.json", None, b""),
    ]


async def test_body_token_auth_wraps_the_body_unless_the_token_travels_in_the_path(
    serve,
) -> None:
    """``token_in_body=False`` sends the body as it is. Kills ``token_in_body or True``."""
    seen: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.read())
        return web.Response(body=b"<response success='true'/>", content_type="application/xml")

    server = await serve(app_of(handler))
    async with make_session(
        str(server.make_url("")),
        fmt="xml",
        auth=BodyTokenAuth(TOKEN),
        errors="backpack_envelope",
    ) as s:
        await s.request(Request("POST", "/ws/page/1/update", body={"page": {"title": "T"}}))
        await s.request(
            Request("POST", f"/{TOKEN}/x.xml", body={"page": {"title": "U"}}, token_in_body=False)
        )
    assert (
        b"<request><token>secret-token-123</token><page><title>T</title></page></request>"
        in (seen[0])
    )
    assert TOKEN.encode() not in seen[1]
    assert seen[1].endswith(b"<page><title>U</title></page>")


async def test_encoded_path_characters_are_sent_as_the_caller_encoded_them(serve) -> None:
    """Relative and absolute (overridden host) paths are taken as already encoded: ``%3A``
    stays ``%3A`` (not ``:``), ``%7E`` stays, a lowercase ``%2f`` keeps its case. Kills
    ``URL(..., encoded=False / None / absent)`` in both branches of ``url_for``."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.json_response({})

    server = await serve(app_of(handler))
    here = str(server.make_url(""))
    async with make_session(
        here,
        credential_hosts=("launchpad.example.test",),
        host_overrides={"launchpad.example.test": here},
    ) as s:
        await s.request(Request("GET", "/tags/a%3Ab%7Ec%2fd.json"))
        await s.request(Request("GET", "https://launchpad.example.test/x%3Ay%7Ez%2fw.json"))
    assert seen == ["/tags/a%3Ab%7Ec%2fd.json", "/x%3Ay%7Ez%2fw.json"]


# -- limiter wiring -----------------------------------------------------------------------


def _limited(base: str, backend: MemoryLimiterBackend, **kw: Any) -> ClientSettings:
    return settings(
        base,
        rate_limit=RateLimit(backend=backend, time_scale=kw.pop("time_scale", 1.0)),
        retry=fast_retry(total_budget=kw.pop("budget", 0.4)),
        cache=None,
        **kw,
    )


async def test_buckets_are_per_product_and_account_and_per_request_classes(serve) -> None:
    """Two accounts (or two products) sharing one backend never share a bucket, and a
    request's own ``limit_classes`` replace the product's default. Kills the limiter built
    with ``product=None`` or ``account=None`` and ``limit_classes is not None and False``."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    backend = MemoryLimiterBackend()
    one_per_minute = {"default": Limit(1, 60.0), "uploads": Limit(100, 1.0)}

    def session(name: str, account: str) -> Session:
        config = ProductConfig(
            name=name, format="json", limits=one_per_minute, default_limit_classes=("default",)
        )
        return Session(config, _limited(base, backend, account=account))

    sessions = [session("p1", "a1"), session("p1", "a2"), session("p2", "a1")]
    try:
        for s in sessions:  # each takes the only token of its own bucket
            await s.request(Request("GET", "/x.json"))
        first = sessions[0]
        await first.request(Request("GET", "/upload.json", limit_classes=("uploads",)))
        await first.request(Request("GET", "/free.json", limit_classes=()))
        with pytest.raises(errors.RequestTimeout) as info:
            await first.request(Request("GET", "/x.json"))
        assert "rate limiter" in str(info.value)
        assert [s.stats.requests for s in sessions] == [3, 1, 1]
        assert all(s.stats.limiter_wait == 0 for s in sessions)
    finally:
        for s in sessions:
            await s.close()


async def test_the_time_scale_and_the_pause_cap_reach_the_limiter(serve) -> None:
    """``time_scale=0.01`` runs "1 per 20 s" as 1 per 0.2 s; a Retry-After of 400 s with
    ``max_retry_after=1000`` holds the buckets 400 s (not the 300 s default cap). Kills the
    limiter built without ``time_scale`` or without ``max_pause``."""
    paused: list[tuple[list[str], float]] = []

    class Recording(MemoryLimiterBackend):
        async def pause(
            self, keys: Sequence[str], seconds: float, params: Sequence[BucketParams] = ()
        ) -> None:
            paused.append((list(keys), seconds))
            await super().pause(keys, seconds, params)

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/throttled.json":
            return web.Response(status=429, headers={"Retry-After": "400"})
        return web.json_response({})

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    config = ProductConfig(
        name="scaled",
        format="json",
        limits={"default": Limit(1, 20.0)},
        default_limit_classes=("default",),
    )
    async with Session(
        config, _limited(base, MemoryLimiterBackend(), time_scale=0.01, budget=5)
    ) as s:
        await s.request(Request("GET", "/a.json"))
        await s.request(Request("GET", "/b.json"))
    assert 0.1 < s.stats.limiter_wait < 1.0

    backend = Recording()
    retry = RetryPolicy(max_retries=2, total_budget=1.0, max_retry_after=1000)
    config = ProductConfig(
        name="capped",
        format="json",
        limits={"default": Limit(100, 1.0)},
        default_limit_classes=("default",),
    )
    s = Session(config, settings(base, rate_limit=RateLimit(backend=backend), retry=retry))
    async with s:
        with pytest.raises(errors.RateLimited) as info:
            await s.request(Request("GET", "/throttled.json"))
    assert info.value.retry_after == 400
    assert paused == [(["capped:acct:default"], 400.0)]


# -- the aiohttp session: loops, reuse, connections ----------------------------------------


async def test_a_closed_session_opens_a_fresh_connection_pool_on_next_use(serve) -> None:
    """Kills ``self._http = None if owns and False``: a closed pool kept would make the next
    call fail with aiohttp's "Session is closed"."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"path": request.path})

    server = await serve(app_of(handler))
    s = make_session(str(server.make_url("")))
    async with s:
        first = await s.request(Request("GET", "/a.json"))
    async with s:
        second = await s.request(Request("GET", "/b.json"))
    assert (first.data, second.data) == ({"path": "/a.json"}, {"path": "/b.json"})


async def test_more_than_a_hundred_requests_are_in_flight_at_once(serve) -> None:
    """Our connection pool is unbounded (the limiter bounds the rate): 120 concurrent calls
    all reach the server together. Kills the connector dropped (aiohttp's default pool of
    100), ``limit`` left out and ``limit=1``."""
    wanted = 120
    arrived = {"n": 0, "peak": 0}
    everyone = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        arrived["n"] += 1
        arrived["peak"] = max(arrived["peak"], arrived["n"])
        if arrived["n"] == wanted:
            everyone.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everyone.wait(), 3)
        arrived["n"] -= 1
        return web.json_response({})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url("")), cache=None, rate_limit=None) as s:
        await asyncio.gather(*(s.request(Request("GET", f"/{i}.json")) for i in range(wanted)))
    assert arrived["peak"] == wanted


def _in_new_loop(coro_fn) -> BaseException | None:
    """Run ``coro_fn()`` with ``asyncio.run`` in a thread (another event loop); return what
    it raised."""
    box: list[BaseException | None] = [None]

    def run() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:  # handed to the test
            box[0] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(20)
    return box[0]


async def test_a_client_busy_in_a_running_loop_refuses_another_loop(serve) -> None:
    """While the loop that opened the pool still runs, a call from another loop is a
    ConfigError (its connections belong to the first loop). Kills ``self._http_loop is
    None and ...`` and the None, padded and upper-cased halves of the message."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("GET", "/here.json"))

        async def elsewhere() -> None:
            await s.request(Request("GET", "/there.json"))

        exc = await asyncio.to_thread(_in_new_loop, elsewhere)
        assert isinstance(exc, errors.ConfigError)
        assert str(exc) == (
            "this client is in use by another running event loop; "
            "a client belongs to one event loop at a time"
        )
        again = await s.request(Request("GET", "/here-again.json"))  # still ours
        assert again.status == 200


async def test_a_callers_aiohttp_session_of_another_loop_is_named_in_the_error(serve) -> None:
    """Kills the padded message of that ConfigError."""

    async def make_http() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    box: list[aiohttp.ClientSession] = []

    def make_elsewhere() -> None:
        box.append(asyncio.run(make_http()))

    await asyncio.to_thread(make_elsewhere)
    http = box[0]
    try:
        s = make_session("https://api.example.test", http_session=http)
        with pytest.raises(errors.ConfigError) as info:
            await s.request(Request("GET", "/x.json"))
        assert str(info.value) == (
            "the aiohttp session given as session= belongs to another event loop"
        )
        await s.close()
        assert not http.closed  # never ours to close
    finally:
        http.detach()


async def test_closing_after_the_loop_that_opened_the_pool_has_ended(serve) -> None:
    """A client used under one ``asyncio.run`` and closed from another loop lets go of the
    dead loop's pool instead of awaiting it. Kills ``self._http_loop is not None or ...``
    in ``close``."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = await serve(app_of(handler))
    s = make_session(str(server.make_url("")))
    got: list[Any] = []

    async def use() -> None:
        got.append((await s.request(Request("GET", "/a.json"))).data)

    assert await asyncio.to_thread(_in_new_loop, use) is None
    assert got == [{"ok": True}]
    await asyncio.wait_for(s.close(), 5)
    async with s:  # and starts afresh in this loop
        assert (await s.request(Request("GET", "/b.json"))).data == {"ok": True}


# -- reading a body under max_body_bytes --------------------------------------------------


async def test_max_body_bytes_is_the_largest_body_read_with_or_without_a_length(serve) -> None:
    """A body of exactly ``max_body_bytes`` is read, with a Content-Length or chunked in
    several pieces (joined in order); one byte more is a ResponseTooLarge naming the limit,
    method and URL. Kills ``length >= limit``, ``total >= limit``, ``total = 1``,
    ``chunks.append(None)``, ``b"XXXX".join`` and every None / dropped argument of both
    ResponseTooLarge raises."""
    limit = 64
    exact = json.dumps(["x" * 26, "y" * 26]).encode()
    exact += b" " * (limit - len(exact))
    assert len(exact) == limit

    async def handler(request: web.Request) -> web.StreamResponse:
        body = exact + (b" " if "over" in request.path else b"")
        if "chunked" not in request.path:
            return web.Response(body=body, content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(body), 20):
            await resp.write(body[start : start + 20])
            await asyncio.sleep(0.005)
        await resp.write_eof()
        return resp

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    async with make_session(base, max_body_bytes=limit, retry=fast_retry(max_retries=0)) as s:
        for path in ("/length.json", "/chunked.json"):
            r = await s.request(Request("GET", path))
            assert (r.data, r.size) == (["x" * 26, "y" * 26], limit)
        for path in ("/over-length.json", "/over-chunked.json"):
            with pytest.raises(errors.ResponseTooLarge) as info:
                await s.request(Request("POST", path, query=(("token", TOKEN),)))
            err = info.value
            assert err.limit == limit
            assert err.method == "POST"
            assert err.url == f"{base}{path}?token=***"
            assert str(err).startswith(f"the reply's body is larger than max_body_bytes={limit}")


# -- decoding big bodies off the loop -----------------------------------------------------


def _padded(body: bytes, at_least: int = OFFLOOP_DECODE_BYTES) -> bytes:
    """``body`` with trailing whitespace up to the size decoded in a worker thread."""
    return body + b"\n" * max(0, at_least - len(body))


async def test_big_bodies_decode_to_the_same_values_as_small_ones(serve) -> None:
    """Bodies past the off-loop threshold: a JSON object (not an array), an XML document,
    an array of numbers with no space after ``[`` or its commas, an array of objects with
    whitespace before it, an empty one. Kills ``decode(None)`` in the general path (an
    object or XML would come back None) and the stepwise array decoder skipping a
    character after ``[`` or after a ``,`` (``pos + 2``)."""
    # No digit 0: a decoder that skipped a number's first digit would read another valid
    # number (never one with a leading zero, which would fail over to the codec).
    numbers = [n for n in range(11, 50_000, 7) if "0" not in str(n)]
    bodies: dict[str, bytes] = {
        "/object.json": _padded(json.dumps({"ids": numbers, "name": "\u00e9t\u00e9"}).encode()),
        "/numbers.json": _padded(b"[" + b" ,".join(str(n).encode() for n in numbers) + b"]"),
        "/spaced.json": b"  \n" + _padded(json.dumps([{"id": n} for n in numbers[:50]]).encode()),
        "/empty.json": _padded(b"[\n") + b"]",
        "/people.xml": _padded(
            b'<people type="array">'
            + b"".join(
                b'<person><id type="integer">%d</id><name>P%d</name></person>' % (n, n)
                for n in numbers
            )
            + b"</people>"
        ),
    }
    assert all(len(b) >= OFFLOOP_DECODE_BYTES for b in bodies.values())

    async def handler(request: web.Request) -> web.Response:
        kind = "application/xml" if request.path.endswith(".xml") else "application/json"
        return web.Response(body=bodies[request.path], content_type=kind)

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    async with make_session(base, cache=None) as s:
        for path in ("/object.json", "/numbers.json", "/spaced.json", "/empty.json"):
            r = await s.request(Request("GET", path))
            assert r.data == json.loads(bodies[path]), path
            assert r.size == len(bodies[path])
    async with make_session(base, fmt="xml", cache=None) as s:
        r = await s.request(Request("GET", "/people.xml"))
    people = r.data["people"]
    assert len(people) == len(numbers)
    assert people[0] == {"id": 11, "name": "P11"}
    assert people[-1] == {"id": numbers[-1], "name": f"P{numbers[-1]}"}
    assert r.data == CODECS["xml"].decode(bodies["/people.xml"])


async def test_big_bodies_that_are_not_what_the_product_speaks_are_decode_errors(serve) -> None:
    """A big JSON array with data after its end or a NaN in it (not JSON), and a JSON
    array sent to an XML product, are DecodeErrors with status and URL, never a silently
    accepted value. Kills the trailing-data check inverted (``pos == len(text)``) and
    ``name == "json" or`` (the JSON array decoder used for an XML product)."""
    array = b"[" + b",".join(b"%d" % n for n in range(60_000)) + b"]"
    bodies = {
        "/junk.json": _padded(array + b" trailing"),
        "/nan.json": _padded(array[:-1] + b",NaN]"),
        "/array.xml": _padded(array),
    }

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.path], content_type="application/json")

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    for fmt, path in (("json", "/junk.json"), ("json", "/nan.json"), ("xml", "/array.xml")):
        async with make_session(base, fmt=fmt, cache=None) as s:
            with pytest.raises(errors.DecodeError) as info:
                await s.request(Request("GET", path))
        assert info.value.status == 200
        assert info.value.url == base + path
        assert info.value.body == bodies[path][: len(info.value.body)]
        assert info.value.body.startswith(b"[0,1,2,")


# -- offload: the GC pause around a worker-thread decode ----------------------------------


async def test_offload_pauses_the_cyclic_gc_only_while_its_calls_run() -> None:
    """The GC is off inside an offloaded call and back on when the last overlapping call
    ends; a GC the caller had switched off stays off; keyword arguments reach the function.
    Kills every counter and flag mutant of ``_paused_gc`` (``!= 0``, ``== 1``, ``= 1``,
    ``-= 1`` for ``+= 1``, ``+= 2``, ``-= 2``, ``or`` for ``and``, the flag set to None),
    ``offload`` calling ``fn`` without the pause, and kwargs dropped."""
    assert gc.isenabled()

    def report(a: int, *, b: int) -> tuple[bool, int, int]:
        return gc.isenabled(), a, b

    assert await offload(report, 1, b=2) == (False, 1, 2)
    assert gc.isenabled()

    # Two overlapping calls: the first to end must not switch the GC back on under the
    # second.
    first_in, first_go, second_in, first_done = (threading.Event() for _ in range(4))

    def first() -> bool:
        first_in.set()
        first_go.wait(5)
        return gc.isenabled()

    def second() -> tuple[bool, bool]:
        second_in.set()
        before = gc.isenabled()
        first_done.wait(5)
        return before, gc.isenabled()

    task_a = asyncio.ensure_future(offload(first))
    await asyncio.to_thread(first_in.wait, 5)
    task_b = asyncio.ensure_future(offload(second))
    await asyncio.to_thread(second_in.wait, 5)
    first_go.set()
    assert await task_a is False
    first_done.set()
    assert await task_b == (False, False)
    assert gc.isenabled()

    gc.disable()
    try:
        assert await offload(report, 3, b=4) == (False, 3, 4)
        assert not gc.isenabled()  # the caller's choice is kept
    finally:
        gc.enable()


# -- Backpack: the <response> envelope ----------------------------------------------------

_LATIN1 = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'

#: path -> (reply body, error class, status, server message)
ENVELOPE_ERRORS: dict[str, tuple[bytes, type[errors.HTTPError], int, str]] = {
    "/missing": (
        b"<response success='false'><error code='404'>Record not found</error></response>",
        errors.NotFound,
        404,
        "Record not found",
    ),
    "/code-100": (
        b"<response success='false'><error code='100'>Lowest code</error></response>",
        errors.HTTPError,
        100,
        "Lowest code",
    ),
    "/code-99": (
        b"<response success='false'><error code='99'>Too low</error></response>",
        errors.ServerError,
        500,
        "Too low",
    ),
    "/code-599": (
        b"<response success='false'><error code='599'>Highest code</error></response>",
        errors.ServerError,
        599,
        "Highest code",
    ),
    "/code-600": (
        b"<response success='false'><error code='600'>Too high</error></response>",
        errors.ServerError,
        500,
        "Too high",
    ),
    "/code-word": (
        b"<response success='false'><error code='oops'>Not a number</error></response>",
        errors.ServerError,
        500,
        "Not a number",
    ),
    "/no-code": (
        b"<response success='false'><error kind='db'>No code given</error></response>",
        errors.ServerError,
        500,
        "No code given",
    ),
    "/no-text": (
        b"<response success='false'><error code='422'/></response>",
        errors.UnprocessableEntity,
        422,
        "",
    ),
    "/plain": (
        b"<response success='false'><error>Internal error</error></response>",
        errors.ServerError,
        500,
        "Internal error",
    ),
    "/no-error": (b"<response success='false'/>", errors.ServerError, 500, ""),
    "/echo": (
        b"<response success='false'><error code='403'>bad token secret-token-123</error>"
        b"</response>",
        errors.Forbidden,
        403,
        "bad token ***",
    ),
    "/latin1": (
        (_LATIN1 + "<response success='false'><error code='422'>Caf\xe9</error></response>").encode(
            "latin-1"
        ),
        errors.UnprocessableEntity,
        422,
        "Caf\xe9",
    ),
}


def _backpack(base: str, **kw: Any) -> Session:
    return make_session(
        base, fmt="xml", auth=BodyTokenAuth(TOKEN), errors="backpack_envelope", **kw
    )


async def test_an_error_envelope_in_a_200_raises_the_class_of_its_code(serve) -> None:
    """Every field of the error: class and status from ``code`` (100..599, else 500; 500
    when absent or not a number), the server's text ("" when none, the whole text when
    ``<error>`` has no attributes), method, URL, scrubbed body excerpt (non-UTF-8 bytes
    replaced), headers and request id. Kills the 500 defaults set to None / 501, the range
    bounds moved by one, ``"#text" or "XXXX"``, the message defaults None / "XXXX", the
    error's status, method, url, body and headers set to None or dropped, ``"XXPOSTXX"``
    / ``"post"``, and the strict or misspelt ``decode(..., "replace")``."""
    seen: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.read())
        body = ENVELOPE_ERRORS[request.path][0]
        return web.Response(
            body=body,
            content_type="application/xml",
            headers={"X-Request-Id": "req" + request.path.replace("/", "-")},
        )

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    async with _backpack(base) as s:
        for path, (body, cls, status, message) in ENVELOPE_ERRORS.items():
            with pytest.raises(errors.HTTPError) as info:
                await s.request(Request("POST", path, body={"page": {"title": "T"}}))
            err = info.value
            assert type(err) is cls, path
            assert (err.status, err.server_message) == (status, message), path
            assert (err.method, err.url) == ("POST", base + path), path
            assert err.request_id == "req" + path.replace("/", "-"), path
            assert err.headers["Content-Type"].startswith("application/xml"), path
            shown = body.decode("utf-8", "replace").replace(TOKEN, "***").encode()
            assert err.body == shown, path
            assert TOKEN not in str(err), path
            assert str(err) == (
                f"HTTP {status} for POST {base}{path}" + (f": {message}" if message else "")
            )
            assert err.retryable is False
    assert len(seen) == len(ENVELOPE_ERRORS)  # one request each, never retried
    assert all(b"<request><token>secret-token-123</token>" in b for b in seen)
    # A REST GET (journal entries) answered with an envelope names the GET it sent.
    async with _backpack(base) as s:
        path = next(iter(ENVELOPE_ERRORS))
        with pytest.raises(errors.HTTPError) as info:
            await s.request(Request("GET", path))
        assert info.value.method == "GET"
        assert str(info.value).startswith(f"HTTP {ENVELOPE_ERRORS[path][2]} for GET {base}{path}")


async def test_envelopes_are_unwrapped_and_other_documents_pass_through(serve) -> None:
    """``<response success='true'>`` gives its content without the ``@success``
    attribute, an empty one None, an empty body None; a REST document rooted elsewhere
    passes as it is. Kills every mutant of ``unwrap_envelope``'s guard (``and`` for
    ``or``, ``isinstance`` inverted, ``len == 1`` / ``!= 2``, the ``"response"`` key
    misspelt or negated), the inner value or children set to None, the ``@`` filter
    negated or misspelt, ``children and None``, and ``_check_envelope`` calling ``.get``
    on a body that decoded to None."""
    bodies = {
        "/page": b"<response success='true'><page id='7'><title>Home</title></page></response>",
        "/done": b"<response success='true' />",
        "/nothing": b"",
        "/journal_entries.xml": (
            b'<journal-entries type="array"><journal-entry><id type="integer">3</id>'
            b"</journal-entry></journal-entries>"
        ),
    }

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.path], content_type="application/xml")

    server = await serve(app_of(handler))
    async with _backpack(str(server.make_url(""))) as s:
        page = await s.request(Request("POST", "/page", body={"page": {}}))
        done = await s.request(Request("POST", "/done", body={"page": {}}))
        nothing = await s.request(Request("POST", "/nothing", body={"page": {}}))
        journal = await s.request(Request("GET", "/journal_entries.xml"))
    assert page.data == {"page": {"@id": "7", "title": "Home"}}
    assert done.data is None
    assert nothing.data is None
    assert journal.data == {"journal-entries": [{"id": 3}]}
    # Only a document of the one root <response> is an envelope.
    two_roots = {"response": {"@success": "true", "a": "1"}, "b": "2"}
    assert unwrap_envelope(two_roots) is two_roots
    assert unwrap_envelope({"response": "text"}) is None
    assert unwrap_envelope(["response"]) == ["response"]


# -- answers from the ETag cache ----------------------------------------------------------


async def test_a_304_serves_the_cached_reply_the_way_the_first_one_was_served(serve) -> None:
    """Revalidated replies: raw bytes stay raw, a Backpack envelope is unwrapped again, a
    JSON product's ``{"response": ...}`` document is not unwrapped. Kills ``raw and
    False`` (bytes decoded), ``not raw or`` / ``raw and`` / ``!=`` and the misspelt
    product check, and the unwrapped data set to None."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    bodies = {
        "/receipt": (png, "image/png"),
        "/doc.json": (b'{"response": {"a": 1}}', "application/json"),
        "/page": (
            b"<response success='true'><page><title>T</title></page></response>",
            "application/xml",
        ),
    }
    statuses: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            statuses.append(304)
            return web.Response(status=304, headers={"ETag": '"v1"'})
        statuses.append(200)
        body, kind = bodies[request.path]
        return web.Response(body=body, headers={"ETag": '"v1"', "Content-Type": kind})

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    async with make_session(base) as s:
        raw = [await s.request(Request("GET", "/receipt", raw_reply=True)) for _ in range(2)]
        doc = [await s.request(Request("GET", "/doc.json")) for _ in range(2)]
    async with _backpack(base) as s:
        page = [await s.request(Request("GET", "/page")) for _ in range(2)]
    assert statuses == [200, 304] * 3
    assert [r.data for r in raw] == [png, png]
    assert [r.data for r in doc] == [{"response": {"a": 1}}] * 2
    assert [r.data for r in page] == [{"page": {"title": "T"}}] * 2
    assert [r.from_cache for r in (*raw, *doc, *page)] == [False, True] * 3


async def test_a_cached_body_that_no_longer_decodes_is_a_decode_error_of_status_200(
    serve,
) -> None:
    """A persistent cache may hold bytes this version cannot read: the DecodeError names
    status 200 (what the 304 stands for) and the URL. Kills the status None / 201 and the
    URL None given to the decoder on the cache path."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=304, headers={"ETag": '"v1"'})

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    cache = MemoryEtagCache()
    async with make_session(base, cache=cache) as s:
        key = cache_key(s.auth.identity, "GET", base + "/doc.json")
        await cache.set(key, CacheEntry('"v1"', None, {}, b'{"broken": '))
        with pytest.raises(errors.DecodeError) as info:
            await s.request(Request("GET", "/doc.json"))
    assert (info.value.status, info.value.url) == (200, base + "/doc.json")
    assert info.value.body == b'{"broken": '
    assert s.stats.not_modified == 1


# -- errors raised while converting a decoded page ----------------------------------------


async def test_a_conversion_error_shows_the_url_without_the_credential(serve) -> None:
    """Kills ``scrubber is None`` in ``Response.decode_error`` (the URL left unscrubbed)."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response([{"id": 1}])

    def convert(item: Any) -> Any:
        raise errors.DecodeError("expected a name")

    server = await serve(app_of(handler))
    base = str(server.make_url(""))
    async with make_session(base) as s:
        it = PageIterator(
            s,
            Request("GET", "/items.json", query=(("key", TOKEN),)),
            paging=Paging(),
            extract=json_items,
            convert=convert,
        )
        with pytest.raises(errors.DecodeError) as info:
            [x async for x in it]
    assert info.value.url == base + "/items.json?key=***"
    assert (info.value.status, info.value.reason) == (200, "expected a name")
    assert TOKEN not in str(info.value)


async def test_a_multipart_boundary_is_random_and_within_rfc_2046s_70_characters(serve) -> None:
    """Kills ``token_hex(None)`` (64 hex digits: a 72-character boundary)."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Content-Type"])
        return web.json_response({})

    server = await serve(app_of(handler))
    async with make_session(str(server.make_url(""))) as s:
        for _ in range(2):
            await s.request(Request("PUT", "/logo", multipart=("logo", "a.png", b"x", "image/png")))
    boundaries = [re.fullmatch(r"multipart/form-data; boundary=(\S+)", c)[1] for c in seen]
    assert all(1 <= len(b) <= 70 for b in boundaries)
    assert all(re.fullmatch(r"aiocamp-[0-9a-f]{32,}", b) for b in boundaries)
    assert boundaries[0] != boundaries[1]
