"""Retries and redirects resend exactly what was asked; refresh and backoff stay bounded.

Each test names the mutation it kills (see tests/mutation/README.md). Every server here
records the method, path, query and body of *every* request it gets, so a retry or a
redirect that changes any of them fails.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.core import BearerAuth, Request, RetryPolicy, parse_retry_after

from .helpers import fast_retry, make_session


def recording_app(replies: list[tuple[int, dict[str, str]]]) -> web.Application:
    """Answers ``replies`` in turn (status, headers), then 200 with a JSON body."""
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
                "body": await request.read(),
                "ctype": request.headers.get("Content-Type"),
            }
        )
        if len(seen) <= len(replies):
            status, headers = replies[len(seen) - 1]
            return web.Response(status=status, headers=headers, text="try again")
        return web.json_response({"attempt": len(seen)})

    app = web.Application()
    app["seen"] = seen
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


BODY = {"content": "Buy milk", "due_on": "2024-01-02", "notify": True}


@pytest.mark.parametrize(
    ("method", "replies"),
    [
        ("PUT", [(503, {}), (502, {})]),
        ("POST", [(429, {"Retry-After": "0.01"}), (503, {"Retry-After": "0.01"})]),
        ("DELETE", [(500, {})]),
    ],
)
async def test_every_retry_resends_the_same_method_path_query_and_body(
    serve, method, replies
) -> None:
    """Kills: a retry that re-sends an empty body (or drops the query)."""
    app = recording_app(replies)
    server = await serve(app)
    request = Request(method, "/buckets/9/todos/3.json", (("a", "1"),), body=BODY)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(request)
    seen = app["seen"]
    assert r.data == {"attempt": len(replies) + 1}
    assert len(seen) == len(replies) + 1
    for got in seen:
        assert got["method"] == method
        assert got["path"] == "/buckets/9/todos/3.json"
        assert got["query"] == "a=1"
        assert json.loads(got["body"]) == BODY
        assert got["ctype"].startswith("application/json")


async def test_a_retried_upload_resends_every_byte(serve) -> None:
    """Kills: a retry of a raw body that sends nothing the second time."""
    app = recording_app([(503, {})])
    server = await serve(app)
    data = bytes(range(256)) * 40
    request = Request("PUT", "/attachments.json", raw_body=data, content_type="image/png")
    async with make_session(str(server.make_url(""))) as s:
        await s.request(request)
    assert [got["body"] for got in app["seen"]] == [data, data]
    assert [got["ctype"] for got in app["seen"]] == ["image/png", "image/png"]


@pytest.mark.parametrize("status", [307, 308])
async def test_a_307_or_308_redirect_keeps_method_and_body(serve, status) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        if request.path == "/old.json":
            return web.Response(status=status, headers={"Location": "/new.json"})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        await s.request(Request("PUT", "/old.json", body=BODY))
    assert [(m, p) for m, p, _ in seen] == [("PUT", "/old.json"), ("PUT", "/new.json")]
    assert all(json.loads(b) == BODY for _, _, b in seen)


async def test_a_303_redirect_becomes_a_get_without_body(serve) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        if request.path == "/create.json":
            return web.Response(status=303, headers={"Location": "/created/5.json"})
        return web.json_response({"id": 5})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    async with make_session(str(server.make_url(""))) as s:
        r = await s.request(Request("POST", "/create.json", body=BODY))
    assert r.data == {"id": 5}
    assert seen[0][0] == "POST"
    assert json.loads(seen[0][2]) == BODY
    assert seen[1] == ("GET", "/created/5.json", b"")


async def test_a_401_refresh_happens_once_then_the_401_is_raised(serve) -> None:
    """Kills: a 401 refresh that may repeat forever (until the time budget)."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Authorization"])
        return web.Response(status=401, text="token revoked")

    app = web.Application()
    app.router.add_get("/me.json", handler)
    server = await serve(app)
    tokens = iter(["second", "third", "fourth"])

    async def refresher() -> str:
        return next(tokens)

    auth = BearerAuth("first", refresher=refresher)
    session = make_session(str(server.make_url("")), auth=auth, retry=fast_retry(total_budget=3))
    async with session as s:
        with pytest.raises(errors.Unauthorized) as info:
            await s.request(Request("GET", "/me.json"))
    assert info.value.status == 401
    assert seen == ["Bearer first", "Bearer second"]


def test_backoff_is_jittered_not_a_constant() -> None:
    """Kills: backoff without jitter (always the cap), or jitter drawn from a narrow range."""
    policy = RetryPolicy(backoff_initial=1.0, backoff_factor=2.0, backoff_max=100.0)
    cap = 4.0  # 1.0 * 2 ** 2
    samples = [policy.backoff(2) for _ in range(400)]
    assert all(0 <= s <= cap for s in samples)
    assert len(set(samples)) > 350
    # Full jitter is uniform on [0, cap]: mean cap / 2, both ends reached.
    assert statistics.fmean(samples) == pytest.approx(cap / 2, abs=0.35)
    assert min(samples) < 0.25 * cap
    assert max(samples) > 0.75 * cap


def test_backoff_cap_grows_by_the_factor_and_stops_at_the_maximum() -> None:
    policy = RetryPolicy(backoff_initial=0.5, backoff_factor=3.0, backoff_max=10.0)
    for n, cap in [(0, 0.5), (1, 1.5), (2, 4.5), (3, 10.0), (8, 10.0)]:
        samples = [policy.backoff(n) for _ in range(300)]
        assert max(samples) <= cap
        assert max(samples) > 0.8 * cap, n


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"total_budget": 0}, "total_budget"),
        ({"total_budget": -1}, "total_budget"),
        ({"backoff_initial": -0.1}, "backoff"),
        ({"backoff_max": -0.1}, "backoff"),
        ({"backoff_factor": 0.9}, "factor"),
    ],
)
def test_a_retry_policy_rejects_each_bad_bound(kwargs, field) -> None:
    with pytest.raises(errors.ConfigError, match=field):
        RetryPolicy(**kwargs)


def test_a_retry_policy_accepts_the_edge_values() -> None:
    """Zero backoff (retry at once), zero retries and a factor of 1 (constant) are valid."""
    policy = RetryPolicy(max_retries=0, backoff_initial=0, backoff_max=0, backoff_factor=1)
    assert policy.backoff(3) == 0
    assert RetryPolicy(backoff_initial=0.5, backoff_factor=1).backoff(9) <= 0.5


def test_retry_after_http_date_is_read_against_the_given_clock() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30
    # A date without a zone ("-0000": unknown) is read as UTC, not as local time.
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 -0000", now=now) == 60
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", now=now) is None
