"""Retry policy: Retry-After, idempotency rules, attempts and time budget."""

from __future__ import annotations

import email.utils
import time

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import Request, RetryPolicy, parse_retry_after

from .helpers import fast_retry, free_port, make_session


def flaky_app(statuses: list[int], headers: dict[str, str] | None = None) -> web.Application:
    """Answers the given statuses in turn, then 200."""
    calls: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(time.monotonic())
        if len(calls) <= len(statuses):
            return web.Response(status=statuses[len(calls) - 1], headers=headers or {})
        return web.json_response({"ok": True, "attempts": len(calls)})

    app = web.Application()
    app["calls"] = calls
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


# -- parse_retry_after ------------------------------------------------------------------


def test_retry_after_seconds() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = parse_retry_after(when)
    assert seconds is not None
    assert 28 <= seconds <= 31


@pytest.mark.parametrize(
    "value",
    [None, "", "0", "-5", "soon", "nan", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 99 Foo"],
)
def test_missing_zero_negative_past_or_malformed_retry_after_falls_back(value) -> None:
    assert parse_retry_after(value) is None


def test_backoff_is_full_jitter_below_a_growing_cap() -> None:
    policy = RetryPolicy(backoff_initial=1.0, backoff_factor=2.0, backoff_max=5.0)
    samples = [policy.backoff(3) for _ in range(200)]
    assert all(0 <= s <= 5.0 for s in samples)
    assert max(samples) > 2.5  # capped at 5, not at 1
    assert all(0 <= policy.backoff(0) <= 1.0 for _ in range(50))


def test_policy_rejects_negative_retries() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# -- over HTTP ---------------------------------------------------------------------------


async def test_429_retry_after_in_seconds_is_honoured(serve) -> None:
    app = flaky_app([429], {"Retry-After": "0.3"})
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("GET", "/x.json"))
    calls = app["calls"]
    assert r.data["attempts"] == 2
    assert calls[1] - calls[0] >= 0.28
    assert s.stats.throttled == 1


async def test_503_retry_after_http_date_is_honoured(serve) -> None:
    # HTTP dates have 1 s resolution: ask for ~2 s and expect at least 1 s of waiting.
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    app = flaky_app([503], {"Retry-After": when})
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("GET", "/x.json"))
    calls = app["calls"]
    assert r.data["attempts"] == 2
    assert calls[1] - calls[0] >= 0.9


@pytest.mark.parametrize("value", ["0", "-1", "later", "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_malformed_retry_after_uses_backoff(serve, value) -> None:
    app = flaky_app([429, 429], {"Retry-After": value})
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        started = time.monotonic()
        r = await s.request(Request("GET", "/x.json"))
    assert r.data["attempts"] == 3
    assert time.monotonic() - started < 1.0  # backoff of fast_retry, not a bogus wait


@pytest.mark.parametrize(
    ("status", "error"), [(500, errors.ServerError), (503, errors.ServiceUnavailable)]
)
async def test_post_is_not_retried_on_server_errors(serve, status, error) -> None:
    """A 500, or a 503 without Retry-After, may come after the server processed the POST."""
    app = flaky_app([status])
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(error):
            await s.request(Request("POST", "/things.json", body={"a": 1}))
    assert len(app["calls"]) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_post_is_retried_when_throttled_with_retry_after(serve, status) -> None:
    """A throttled reply means the server refused before doing anything."""
    app = flaky_app([status], {"Retry-After": "0.05"})
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("POST", "/things.json", body={"a": 1}))
    assert r.data["attempts"] == 2


async def test_post_marked_idempotent_is_retried_on_500(serve) -> None:
    app = flaky_app([500])
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("POST", "/search.json", body={}, idempotent=True))
    assert r.data["attempts"] == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_idempotent_put_is_retried_on_server_errors(serve, status) -> None:
    app = flaky_app([status, status])
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("PUT", "/things/1.json", body={"a": 1}))
    assert r.data["attempts"] == 3


async def test_zero_retries_means_exactly_one_request(serve) -> None:
    app = flaky_app([503, 503], {"Retry-After": "0.01"})
    server = await serve(app)
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=0)) as s:
        with pytest.raises(errors.RateLimited) as info:
            await s.request(Request("GET", "/x.json"))
    assert len(app["calls"]) == 1
    assert info.value.retry_after == pytest.approx(0.01)


async def test_attempts_are_bounded(serve) -> None:
    app = flaky_app([500] * 10)
    server = await serve(app)
    async with make_session(str(server.make_url("")), retry=fast_retry(max_retries=2)) as s:
        with pytest.raises(errors.ServerError):
            await s.request(Request("GET", "/x.json"))
    assert len(app["calls"]) == 3


async def test_retry_after_beyond_the_budget_fails_fast(serve) -> None:
    app = flaky_app([429], {"Retry-After": "60"})
    server = await serve(app)
    async with make_session(str(server.make_url("")), retry=fast_retry(total_budget=1.0)) as s:
        started = time.monotonic()
        with pytest.raises(errors.RateLimited):
            await s.request(Request("GET", "/x.json"))
    assert time.monotonic() - started < 0.5
    assert len(app["calls"]) == 1


async def test_connection_refused_post_is_retried_since_nothing_was_sent() -> None:
    s = make_session(f"http://127.0.0.1:{free_port()}", retry=fast_retry(max_retries=2))
    with pytest.raises(errors.ConnectError):
        await s.request(Request("POST", "/things.json", body={"a": 1}))
    assert s.stats.requests == 3
    await s.close()


async def test_dropped_connection_after_send_is_not_retried_for_post(serve) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await request.read()
        assert request.transport is not None
        request.transport.close()  # the server got it, then the connection died
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/x.json", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        with pytest.raises(errors.TransportError) as info:
            await s.request(Request("POST", "/x.json", body={"a": 1}))
        assert not isinstance(info.value, errors.ConnectError)
        assert calls == 1
        with pytest.raises(errors.TransportError):
            await s.request(Request("GET", "/x.json"))
        # GET: first attempt + 3 retries (aiohttp may add its own retry per attempt)
        assert calls >= 1 + 4
