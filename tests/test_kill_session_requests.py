"""The session's request loop as a caller sees it: redirects, transport failures, throttling,
budgets, credential refresh, raw replies and the cache key (issue 7, the request-loop share of
the session's mutation survivors).

Every test talks real HTTP on 127.0.0.1 and asserts the whole of what comes back: every field
of a raised error, what the server received, the session's counters. Each docstring names the
kinds of mutation it kills.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import random
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from yarl import URL

from aiocamp import errors
from aiocamp.core import BearerAuth, Limit, Request
from aiocamp.core._auth import NoAuth

from .helpers import app_of, fast_retry, free_port, make_session, self_signed_tls

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def base_of(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


# -- redirects ---------------------------------------------------------------------------


async def test_three_redirects_are_followed_and_a_fourth_is_an_error_with_its_context(
    serve,
) -> None:
    """Kills: the hop loop one short (``MAX_REDIRECTS - 1``) or one long (``+ 2``), and the
    TooManyRedirects fields dropped (``method``, ``url``, ``message`` None or left out)."""
    seen: list[str] = []
    hops = {"n": 3}

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        n = int(request.path.removeprefix("/r/").removesuffix(".json"))
        if n < hops["n"]:
            return web.Response(status=302, headers={"Location": f"/r/{n + 1}.json"})
        return web.json_response({"n": n})

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(base) as s:
        r = await s.request(Request("GET", "/r/0.json"))
        assert (r.status, r.data, r.url) == (200, {"n": 3}, URL(f"{base}/r/3.json"))
        assert seen == ["/r/0.json", "/r/1.json", "/r/2.json", "/r/3.json"]
        assert s.stats.requests == 4

        seen.clear()
        hops["n"] = 4
        with pytest.raises(errors.TooManyRedirects) as info:
            await s.request(Request("GET", "/r/0.json"))
        assert s.stats.requests == 8
    e = info.value
    assert seen == ["/r/0.json", "/r/1.json", "/r/2.json", "/r/3.json"]
    assert (e.status, e.method, e.url) == (302, "GET", f"{base}/r/4.json")
    assert (e.server_message, e.location, e.retryable) == ("more than 3 redirects", "", False)
    assert str(e) == f"HTTP 302 for GET {base}/r/4.json: more than 3 redirects"


async def test_a_303_fetches_with_a_bare_get_and_later_hops_name_the_get(serve) -> None:
    """Kills: the method after a 303 written ``"get"`` (errors of later hops then name it
    so), and the request's Content-Type kept on the GET (``pop(None)``, ``pop`` of a
    misspelled or differently cased name: the headers are a plain dict)."""
    seen: list[tuple[str, str, str | None, bytes, str | None]] = []
    elsewhere = free_port()

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            (
                request.method,
                request.path,
                request.headers.get("Content-Type"),
                await request.read(),
                request.headers.get("Authorization"),
            )
        )
        if request.path == "/create.json":
            return web.Response(status=303, headers={"Location": "/result.json"})
        return web.Response(
            status=302, headers={"Location": f"http://127.0.0.1:{elsewhere}/away.json"}
        )

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(base) as s:
        with pytest.raises(errors.UnexpectedRedirect) as info:
            await s.request(Request("POST", "/create.json", body={"name": "x"}))
    (post, get) = seen
    assert post[:3] == ("POST", "/create.json", "application/json; charset=utf-8")
    assert json.loads(post[3]) == {"name": "x"}
    assert get[:4] == ("GET", "/result.json", None, b"")
    assert post[4] == get[4] is not None
    assert get[4].startswith("Basic ")
    e = info.value
    assert type(e) is errors.UnexpectedRedirect
    assert (e.status, e.method, e.url) == (302, "GET", f"{base}/result.json")
    assert e.location == f"http://127.0.0.1:{elsewhere}/away.json"
    assert e.server_message == (
        f"refusing to follow a redirect to another origin (http://127.0.0.1:{elsewhere})"
    )
    assert e.retryable is False


async def test_a_get_answered_303_follows_it_with_no_content_type_to_remove(serve) -> None:
    """Kills: ``headers.pop("Content-Type")`` without a default (a GET has none: KeyError)."""
    seen: list[tuple[str, str, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, request.headers.get("Content-Type")))
        if request.path == "/a.json":
            return web.Response(status=303, headers={"Location": "/b.json"})
        return web.json_response({"at": "b"})

    server = await serve(app_of(handler))
    async with make_session(base_of(server)) as s:
        r = await s.request(Request("GET", "/a.json"))
    assert r.data == {"at": "b"}
    assert seen == [("GET", "/a.json", None), ("GET", "/b.json", None)]


async def test_a_201_with_a_location_is_the_reply_not_a_redirect(serve) -> None:
    """Kills: ``status in (3xx...) or "Location" in headers`` (Basecamp answers a create
    with 201 and the new record's Location: that must not be followed or refused)."""
    seen: list[tuple[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path))
        return web.json_response({"id": 9}, status=201, headers={"Location": "/items/9.json"})

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(base) as s:
        r = await s.request(Request("POST", "/items.json", body={"name": "x"}))
        assert s.stats.requests == 1
    assert (r.status, r.data, r.url) == (201, {"id": 9}, URL(f"{base}/items.json"))
    assert r.headers["Location"] == "/items/9.json"
    assert seen == [("POST", "/items.json")]


async def test_refused_redirects_carry_method_url_location_and_reason(serve) -> None:
    """Kills, in ``_redirect_target``: ``refuse``'s context dropped (``method``/``url`` None,
    the ``shown`` default ``"XXXX"``, the Location left out or None), a Location with a user
    name but no password accepted (``user and password``), the reasons' text changed, and an
    https target of another host on the default port taken for an upgrade
    (``... and final.is_default_port() or target.is_default_port()``)."""
    seen: list[str] = []
    elsewhere = free_port()
    locations = {
        "/user.json": "http://someone@127.0.0.1:{port}/y.json",
        "/bad.json": "http://127.0.0.1:99999/y.json",
        "/other.json": f"http://127.0.0.1:{elsewhere}/y.json?token=abc",
        "/upgrade-elsewhere.json": "https://127.0.0.2/y.json",
        "/write.json": "/moved.json",
    }

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        where = locations[request.path].format(port=request.url.port)
        return web.Response(status=307, headers={"Location": where})

    server = await serve(app_of(handler))
    base = base_of(server)
    port = server.port
    cases = [
        (
            "GET",
            "/user.json",
            f"http://127.0.0.1:{port}/y.json",
            "refusing a redirect whose Location carries credentials",
        ),
        ("GET", "/bad.json", "", "the redirect's Location is not a valid URL"),
        (
            "GET",
            "/other.json",
            f"http://127.0.0.1:{elsewhere}/y.json?token=abc",
            f"refusing to follow a redirect to another origin (http://127.0.0.1:{elsewhere})",
        ),
        (
            "GET",
            "/upgrade-elsewhere.json",
            "https://127.0.0.2/y.json",
            "refusing to follow a redirect to another origin (https://127.0.0.2:443)",
        ),
        (
            "POST",
            "/write.json",
            f"{base}/moved.json",
            "not following a 307 redirect of a POST: that would send its body again; "
            "check the Location",
        ),
    ]
    async with make_session(base) as s:
        for method, path, location, reason in cases:
            seen.clear()
            body = {"name": "x"} if method == "POST" else None
            with pytest.raises(errors.UnexpectedRedirect) as info:
                await s.request(Request(method, path, body=body))
            e = info.value
            assert type(e) is errors.UnexpectedRedirect, path
            assert (e.status, e.method, e.url) == (307, method, base + path), path
            assert (e.location, e.server_message) == (location, reason), path
            assert str(e) == f"HTTP 307 for {method} {base}{path}: {reason}"
            assert e.retryable is False
            assert seen == [path]


class _PortMap(AbstractResolver):
    """Every host name resolves to 127.0.0.1; the default ports go to the test servers, so
    redirects between ``http://up.test`` and ``https://up.test`` keep their default ports."""

    def __init__(self, ports: dict[int, int]) -> None:
        self.ports = ports

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": self.ports[port],
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def named_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the names ``up.test`` and ``other.test``."""
    return self_signed_tls(
        tmp_path_factory.mktemp("named-tls"), "up.test", dns=("up.test", "other.test")
    )


async def test_http_to_https_on_the_same_host_and_default_ports_is_followed_others_refused(
    serve, named_tls
) -> None:
    """The upgrade rule, on real default ports (80 and 443, mapped to the test servers by a
    resolver): ``http://up.test`` -> ``https://up.test`` is followed over TLS; another host
    (http or https) and another scheme on the same host (``ws``) are refused.

    Kills: ``upgrade = None``; each of ``final.scheme == "http"``, ``target.scheme ==
    "https"``, ``target.host == final.host`` negated or its constant changed; and the
    ``and``/``or`` swaps that let a default port or a same host alone pass."""
    plain_seen: list[tuple[str, str]] = []
    tls_seen: list[tuple[str, str]] = []

    async def plain(request: web.Request) -> web.Response:
        plain_seen.append((request.host, request.path))
        if request.path == "/start.json":
            return web.Response(status=302, headers={"Location": state["location"]})
        return web.json_response({"over": "http"})

    async def tls(request: web.Request) -> web.Response:
        tls_seen.append((request.host, request.path))
        return web.json_response({"over": "tls"})

    state = {"location": ""}
    plain_server = await serve(app_of(plain))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*named_tls)
    tls_server = TestServer(app_of(tls), host="127.0.0.1", scheme="https")
    await tls_server.start_server(ssl=context)
    trust = ssl.create_default_context(cafile=str(named_tls[0]))
    resolver = _PortMap({80: plain_server.port or 0, 443: tls_server.port or 0})
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=resolver, ssl=trust)
        ) as http:
            s = make_session("http://up.test", auth=NoAuth(), session=http)
            state["location"] = "https://up.test/landing.json"
            r = await s.request(Request("GET", "/start.json"))
            assert (r.status, r.data) == (200, {"over": "tls"})
            assert r.url == URL("https://up.test/landing.json")
            assert plain_seen == [("up.test", "/start.json")]
            assert tls_seen == [("up.test", "/landing.json")]
            refused = {
                "http://other.test/landing.json": "http://other.test:80",
                "https://other.test/landing.json": "https://other.test:443",
                "ws://up.test/landing.json": "ws://up.test:80",
            }
            for location, origin in refused.items():
                plain_seen.clear()
                tls_seen.clear()
                state["location"] = location
                with pytest.raises(errors.UnexpectedRedirect) as info:
                    await s.request(Request("GET", "/start.json"))
                e = info.value
                assert (e.status, e.method, e.url) == (302, "GET", "http://up.test/start.json")
                assert e.location == location
                assert e.server_message == (
                    f"refusing to follow a redirect to another origin ({origin})"
                )
                assert plain_seen == [("up.test", "/start.json")], location
                assert tls_seen == [], location
            await s.close()
    finally:
        await tls_server.close()


# -- transport failures ------------------------------------------------------------------


async def test_transport_failures_say_what_happened_to_which_request(serve) -> None:
    """Kills, in ``_send``: the messages of ConnectError, RequestTimeout and TransportError
    set to None, ``type(None).__name__`` for the exception's name, the scrubbed detail
    replaced by None or ``str(None)``, the ``method``/``url`` of a TransportError None or
    left out; and ``_read`` told a None method (ResponseTooLarge then names none)."""
    closed = free_port()
    dropped: list[bytes] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dropped.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    raw = await asyncio.start_server(drop, "127.0.0.1", 0)
    raw_port = raw.sockets[0].getsockname()[1]

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/slow.json":
            await asyncio.sleep(0.6)
        return web.json_response({"pad": "x" * 200})

    server = await serve(app_of(handler))
    base = base_of(server)
    once = fast_retry(max_retries=0)
    try:
        async with make_session(f"http://127.0.0.1:{closed}", retry=once) as s:
            with pytest.raises(errors.ConnectError) as connect:
                await s.request(Request("GET", "/x.json"))
        async with make_session(f"http://127.0.0.1:{raw_port}", retry=once) as s:
            with pytest.raises(errors.TransportError) as transport:
                await s.request(Request("POST", "/x.json", body={"a": 1}))
        async with make_session(base, retry=once, timeout=0.15, max_body_bytes=64) as s:
            with pytest.raises(errors.RequestTimeout) as timeout:
                await s.request(Request("GET", "/slow.json"))
            with pytest.raises(errors.ResponseTooLarge) as large:
                await s.request(Request("GET", "/big.json"))
    finally:
        raw.close()
        await raw.wait_closed()
    c = connect.value
    assert (c.method, c.url) == ("GET", f"http://127.0.0.1:{closed}/x.json")
    assert str(c) == f"cannot connect: ClientConnectorError (GET http://127.0.0.1:{closed}/x.json)"
    t = transport.value
    assert type(t) is errors.TransportError
    assert (t.method, t.url) == ("POST", f"http://127.0.0.1:{raw_port}/x.json")
    assert str(t) == (
        "transport failed: ServerDisconnectedError: Server disconnected "
        f"(POST http://127.0.0.1:{raw_port}/x.json)"
    )
    assert len(dropped) == 1
    assert dropped[0].startswith(b"POST /x.json HTTP/1.1\r\n")
    o = timeout.value
    assert (o.method, o.url) == ("GET", f"{base}/slow.json")
    assert str(o) == f"no complete reply within 0.15s (GET {base}/slow.json)"
    g = large.value
    assert (g.method, g.url, g.limit) == ("GET", f"{base}/big.json", 64)
    assert str(g) == f"the reply's body is larger than max_body_bytes=64 (GET {base}/big.json)"


# -- error replies -----------------------------------------------------------------------

_SHOWN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z")


def _until(text: str) -> float:
    """The epoch seconds of the one ``YYYY-MM-DD HH:MM:SSZ`` time a message shows."""
    found = _SHOWN.findall(text)
    assert len(found) == 1, text
    when = dt.datetime.strptime(found[0], "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=dt.UTC)
    return when.timestamp()


@pytest.fixture
def away_from_utc() -> Iterator[None]:
    """The machine's local zone 5 hours west of UTC, so a time shown in local time with a
    ``Z`` is 5 hours off."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EST+5"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


async def test_a_long_retry_after_fails_at_once_saying_until_when_in_utc(
    serve, away_from_utc
) -> None:
    """A 429 asking for 30 s (more than the call's budget) and a 429 asking for more than
    ``max_retry_after``: each message shows the moment the account is free again, in UTC.

    Kills, in ``_http_error``: a 429 with Retry-After made a ServiceThrottled (``503 or``),
    the server's text dropped after the pause (``if message and False``) or a dangling
    ``"; "`` when there is none (``or True``); in ``_pause_message``: the time computed in
    local time (``fromtimestamp(..., None)`` or without a zone), in the past (``- held``),
    None, or in another format."""
    replies = [
        web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": "30"}),
        web.Response(status=429, headers={"Retry-After": "30"}),
    ]
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.method)
        return replies[len(seen) - 1]

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(base, retry=fast_retry(total_budget=2.0)) as s:
        now = time.time()
        with pytest.raises(errors.RateLimited) as first:
            await s.request(Request("GET", "/a.json"))
        assert (s.stats.requests, s.stats.throttled, s.stats.retries) == (1, 1, 0)
    async with make_session(base, retry=fast_retry(total_budget=2.0, max_retry_after=5)) as s:
        with pytest.raises(errors.RateLimited) as second:
            await s.request(Request("POST", "/b.json", body={}))
    assert seen == ["GET", "POST"]
    a, b = first.value, second.value
    assert type(a) is type(b) is errors.RateLimited
    assert (a.status, a.method, a.url, a.retry_after) == (429, "GET", f"{base}/a.json", 30.0)
    assert (b.status, b.method, b.url, b.retry_after) == (429, "POST", f"{base}/b.json", 30.0)
    assert a.retryable is b.retryable is True
    assert abs(_until(a.server_message) - (now + 30)) < 3
    assert abs(_until(b.server_message) - (now + 5)) < 3
    shown_a = _SHOWN.findall(a.server_message)[0]
    shown_b = _SHOWN.findall(b.server_message)[0]
    assert a.server_message == (
        f"paused by the server until {shown_a} (Retry-After 30s); slow down"
    )
    assert b.server_message == (
        f"paused by the server for 30s (Retry-After); this account's requests are held "
        f"until {shown_b} (max_retry_after=5s)"
    )


async def test_throttled_replies_are_counted_classified_and_marked_retryable(serve) -> None:
    """Kills: the throttle counter only for a 429 *with* Retry-After (``and``) or for 430,
    set to 1 instead of counted up; and ``retryable`` decided without the Retry-After (a
    POST answered 503 with Retry-After is throttled, so it may be retried)."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        if request.path == "/busy.json":
            return web.json_response({"error": "busy"}, status=429)
        return web.Response(status=503, headers={"Retry-After": "30"})

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(base, retry=fast_retry(max_retries=2)) as s:
        with pytest.raises(errors.RateLimited) as busy:
            await s.request(Request("GET", "/busy.json"))
        assert (s.stats.requests, s.stats.throttled, s.stats.retries) == (3, 3, 2)
        with pytest.raises(errors.ServiceThrottled) as down:
            await s.request(Request("POST", "/down.json", body={"a": 1}))
        assert (s.stats.requests, s.stats.throttled, s.stats.retries) == (4, 4, 2)
    assert seen == ["/busy.json"] * 3 + ["/down.json"]
    e = busy.value
    assert type(e) is errors.RateLimited
    assert (e.status, e.method, e.url, e.retry_after) == (429, "GET", f"{base}/busy.json", None)
    assert (e.server_message, e.retryable) == ("busy", True)
    d = down.value
    assert isinstance(d, errors.RateLimited)
    assert isinstance(d, errors.ServerError)
    assert (d.status, d.method, d.url, d.retry_after) == (503, "POST", f"{base}/down.json", 30.0)
    assert d.retryable is True


async def test_an_error_body_that_is_not_utf8_and_its_cookies_stay_out_of_the_error(
    serve,
) -> None:
    """Kills: the excerpt decoded strictly (``decode("utf-8")``: UnicodeDecodeError) or with
    an unknown error handler (``"XXreplaceXX"``, ``"REPLACE"``: LookupError on a bad byte),
    and the Set-Cookie filter that never matches (``k.upper()``, ``"SET-COOKIE"``)."""

    async def handler(request: web.Request) -> web.Response:
        response = web.Response(
            status=404, body=b"\xff\xfe no such \xc3 thing", headers={"X-Request-Id": "r-7"}
        )
        response.headers["Set-Cookie"] = "session=abc123; HttpOnly"
        return response

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(base) as s:
        with pytest.raises(errors.NotFound) as info:
            await s.request(Request("GET", "/gone.json"))
    e = info.value
    assert type(e) is errors.NotFound
    assert (e.status, e.method, e.url, e.request_id) == (404, "GET", f"{base}/gone.json", "r-7")
    assert e.body == "\ufffd\ufffd no such \ufffd thing".encode()
    assert {k.lower(): v for k, v in e.headers.items()}["x-request-id"] == "r-7"
    assert not any(k.lower() == "set-cookie" for k in e.headers)
    assert "abc123" not in repr(e.headers)
    assert e.retryable is False


# -- budgets and the limiter ---------------------------------------------------------------


async def test_a_slow_credential_refresh_that_spends_the_budget_sends_nothing_more(
    serve,
) -> None:
    """A 401 whose refresh outlives the call's budget: the loop must stop before sending.

    Kills: ``_token_now`` answering True on a spent budget (the request would go out once
    more), and the RequestTimeout of ``_wait_for_token`` with its message, ``method`` or
    ``url`` None, changed or left out (``_safe(None)`` fails)."""
    sent: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        sent.append(request.headers.get("Authorization", ""))
        return web.json_response({"error": "expired"}, status=401)

    async def slow_refresh() -> str:
        await asyncio.sleep(0.6)
        return "fresh-token-456"

    server = await serve(app_of(handler))
    base = base_of(server)
    auth = BearerAuth("stale-token-123", refresher=slow_refresh)
    async with make_session(base, auth=auth, retry=fast_retry(total_budget=0.5)) as s:
        with pytest.raises(errors.RequestTimeout) as info:
            await s.request(Request("GET", "/me.json"))
        assert s.stats.requests == 1
    assert sent == ["Bearer stale-token-123"]
    e = info.value
    assert (e.method, e.url) == ("GET", f"{base}/me.json")
    assert str(e) == f"the call's time budget ran out (GET {base}/me.json)"


async def test_a_limiter_wait_past_the_budget_fails_at_once_saying_both_times(serve) -> None:
    """One request per 2 s and a 0.3 s budget: the second call fails at once.

    Kills: ``acquire`` without the deadline (it would wait 2 s and succeed), and the
    RequestTimeout's message, ``method`` or ``url`` None or left out, ``max(remaining, 1)``
    and the other broken ``max`` calls of its message."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"ok": True})

    server = await serve(app_of(handler))
    base = base_of(server)
    async with make_session(
        base, limits={"default": Limit(1, 2.0)}, retry=fast_retry(total_budget=0.3)
    ) as s:
        await s.request(Request("GET", "/one.json"))
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeout) as info:
            await s.request(Request("GET", "/two.json"))
        elapsed = time.monotonic() - started
    assert seen == ["/one.json"]
    assert elapsed < 0.25
    e = info.value
    assert (e.method, e.url) == ("GET", f"{base}/two.json")
    found = re.fullmatch(
        r"the rate limiter asks for a (\d+\.\d)s wait \(a server-requested pause or a spent "
        r"budget of requests\), more than the (\d+\.\d)s left of this call's time budget "
        rf"\(GET {re.escape(base)}/two\.json\)",
        str(e),
    )
    assert found is not None, str(e)
    assert 1.9 <= float(found[1]) <= 2.1
    assert 0.1 <= float(found[2]) <= 0.3


async def test_a_short_retry_after_is_waited_out_within_a_sub_second_budget(serve) -> None:
    """Kills: ``_wait_for_token`` calling a budget under 1 s spent (``remaining <= 1``): the
    limiter's hold of a 0.2 s Retry-After fits the 0.9 s budget and must be waited out."""
    times: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        if len(times) == 1:
            return web.Response(status=429, headers={"Retry-After": "0.2"})
        return web.json_response({"ok": True})

    server = await serve(app_of(handler))
    async with make_session(base_of(server), retry=fast_retry(total_budget=0.9)) as s:
        r = await s.request(Request("GET", "/a.json"))
        assert (s.stats.requests, s.stats.retries, s.stats.throttled) == (2, 1, 1)
        assert s.stats.limiter_wait >= 0.15
    assert r.data == {"ok": True}
    assert len(times) == 2
    assert 0.19 <= times[1] - times[0] < 0.6


async def test_backoff_is_slept_with_a_limiter_when_there_is_no_retry_after(
    serve, monkeypatch
) -> None:
    """Kills: ``if outcome.retry_after is not None or ...`` before the backoff sleep (with a
    limiter, a 503 without Retry-After would then be retried at once, no backoff at all).
    The jitter is pinned to its cap so the wait is known."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    times: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        if len(times) < 3:
            return web.Response(status=503)
        return web.json_response({"ok": True})

    server = await serve(app_of(handler))
    retry = fast_retry(backoff_initial=0.15, backoff_max=0.15)
    async with make_session(base_of(server), retry=retry) as s:
        assert s.limiter is not None
        r = await s.request(Request("GET", "/a.json"))
        assert (s.stats.requests, s.stats.retries) == (3, 2)
    assert r.data == {"ok": True}
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.14 <= gap < 1.0 for gap in gaps), gaps


# -- credential refresh ------------------------------------------------------------------


async def test_only_a_401_asks_the_credential_to_refresh(serve) -> None:
    """Kills: ``unauthorized`` set for every error (``or True``) or for any error of a
    session with credentials (``401 or has_credentials``): a 503 would renew the token and
    skip the backoff. A 401 afterwards does refresh, once."""
    sent: list[tuple[str, str]] = []
    refreshed: list[str] = []

    async def refresher() -> str:
        refreshed.append("x")
        return "fresh-token-456"

    async def handler(request: web.Request) -> web.Response:
        sent.append((request.path, request.headers.get("Authorization", "")))
        if request.path == "/flaky.json" and len(sent) == 1:
            return web.Response(status=503)
        if request.path == "/me.json" and len(sent) == 3:
            return web.Response(status=401)
        return web.json_response({"ok": True})

    server = await serve(app_of(handler))
    auth = BearerAuth("stale-token-123", refresher=refresher)
    async with make_session(base_of(server), auth=auth) as s:
        await s.request(Request("GET", "/flaky.json"))
        assert refreshed == []
        assert s.stats.retries == 1
        await s.request(Request("GET", "/me.json"))
        assert s.stats.retries == 1
    assert refreshed == ["x"]
    assert sent == [
        ("/flaky.json", "Bearer stale-token-123"),
        ("/flaky.json", "Bearer stale-token-123"),
        ("/me.json", "Bearer stale-token-123"),
        ("/me.json", "Bearer fresh-token-456"),
    ]


# -- raw replies, envelopes, cache keys ---------------------------------------------------


async def test_a_raw_reply_is_bytes_both_fresh_and_revalidated(serve) -> None:
    """Kills: ``raw_reply`` lost on the way to ``_success`` (None, left out, ``raw and
    False``) or to ``_from_cache`` after a 304 (``raw = None``, None, left out): the image
    bytes would go through the JSON codec."""
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(200))
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"r1"':
            return web.Response(status=304, headers={"ETag": '"r1"'})
        return web.Response(body=image, content_type="image/png", headers={"ETag": '"r1"'})

    server = await serve(app_of(handler))
    async with make_session(base_of(server)) as s:
        first = await s.request(Request("GET", "/receipt.png", raw_reply=True))
        second = await s.request(Request("GET", "/receipt.png", raw_reply=True))
        assert s.stats.not_modified == 1
    assert seen == [None, '"r1"']
    assert (first.data, first.from_cache, first.size) == (image, False, len(image))
    assert (second.data, second.from_cache, second.status) == (image, True, 200)


async def test_a_backpack_envelope_is_unwrapped(serve) -> None:
    """Kills: the unwrapped data replaced by None (``data = None``,
    ``unwrap_envelope(None)``)."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=b'<response success="true"><page><id type="integer">7</id>'
            b"<title>Plans</title></page></response>",
            content_type="application/xml",
        )

    server = await serve(app_of(handler))
    async with make_session(base_of(server), fmt="xml", errors="backpack_envelope") as s:
        r = await s.request(Request("GET", "/ws/pages/7"))
    assert r.data == {"page": {"id": 7, "title": "Plans"}}


async def test_cached_pages_of_one_path_are_told_apart_by_their_query(serve) -> None:
    """Kills: the cache key's fast path taken for a path with a query (``or`` for ``and``,
    ``not`` dropped, ``if plain or True``): page 2 would be revalidated with page 1's ETag
    and answered page 1's body."""
    seen: list[tuple[str, str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        page = request.query.get("page", "1")
        etag = f'"p{page}"'
        seen.append((page, request.headers.get("If-None-Match")))
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response([{"page": int(page)}], headers={"ETag": etag})

    server = await serve(app_of(handler))
    async with make_session(base_of(server)) as s:
        pages = [
            await s.request(Request("GET", "/items.json", (("page", n),)))
            for n in ("1", "2", "1", "2")
        ]
        assert s.stats.not_modified == 2
    assert seen == [("1", None), ("2", None), ("1", '"p1"'), ("2", '"p2"')]
    assert [p.data for p in pages] == [[{"page": 1}], [{"page": 2}]] * 2
    assert [p.from_cache for p in pages] == [False, False, True, True]
