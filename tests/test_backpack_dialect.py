"""Backpack's dialect over real HTTP on loopback: the ``<response success=...>`` envelope,
the body token inside ``<request>``, the token in ``/{token}/`` paths (never in logs or
errors), journal paging by page index, the calendar limit class and 204 deletes."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.backpack import Backpack
from aiocamp.core import RateLimit
from aiocamp.core._codecs import CODECS
from aiocamp.core._retry import RetryPolicy

from .helpers import FIXTURES

TOKEN = "40bd001563085fc35165329ea1ff5c5ecbdbbeef"
XML = "application/xml"


def fixture(name: str) -> bytes:
    return (FIXTURES / "backpack" / name).read_bytes()


async def start(serve: Any, routes: dict[tuple[str, str], Any]) -> tuple[str, list[dict[str, Any]]]:
    """A server answering ``routes[(method, path)]`` (bytes, or a callable of the request)
    and noting every request it gets."""
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(
            {
                "method": request.method,
                "path": request.raw_path.split("?", 1)[0],
                "query": list(request.query.items()),
                "body": body,
                "auth": request.headers.get("Authorization"),
            }
        )
        reply = routes.get((request.method, request.path))
        if reply is None:
            return web.Response(status=404, body=b"<error>nothing here</error>", content_type=XML)
        if callable(reply):
            return reply(request)
        return web.Response(body=reply, content_type=XML)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    return str(server.make_url("")).rstrip("/"), seen


def client(base: str, **kw: Any) -> Backpack:
    kw.setdefault("token", TOKEN)
    return Backpack(base_url=base, user_agent="aiocamp-tests (dev@example.com)", **kw)


def sent(body: bytes) -> Any:
    return CODECS["xml"].decode(body)


async def test_a_page_comes_out_of_the_envelope_with_its_widgets(serve) -> None:
    base, seen = await start(
        serve, {("POST", "/ws/page/1133"): fixture("envelope/readme_page.response.xml")}
    )
    async with client(base, rate_limit=None) as bp:
        page = await bp.pages.get(1133)
    assert (page.id, page.title, page.email_address) == (
        1133,
        "Ajax Summit",
        "ry87ib@backpackit.com",
    )
    assert [n.body for n in page.notes] == ["Staying at the Savoy"]
    (trip,) = page.lists
    assert [(i.id, i.completed, i.content) for i in trip.items] == [
        (3308, False, "See San Francisco"),
        (3303, True, "Meet interesting people"),
        (3307, True, "Present Backpack"),
    ]
    assert [t.name for t in page.tags] == ["Technology", "Travel"]
    assert page.extra == {}
    # The token went inside <request>, and nowhere else.
    assert sent(seen[0]["body"]) == {"request": {"token": TOKEN}}
    assert seen[0]["auth"] is None


async def test_a_record_body_goes_inside_the_request_next_to_the_token(serve) -> None:
    base, seen = await start(
        serve,
        {("POST", "/ws/page/1/lists/2/items/add"): fixture("envelope/readme_item.response.xml")},
    )
    async with client(base, rate_limit=None) as bp:
        item = await bp.list_items.create(1, 2, content="Hello World!", completed=True)
    assert (item.id, item.completed, item.content) == (5, False, "Hello World!")
    body = seen[0]["body"]
    assert body.endswith(
        f'<request><token>{TOKEN}</token><item completed="true"><content>Hello World!'
        "</content></item></request>".encode()
    )


async def test_an_empty_envelope_is_no_result(serve) -> None:
    base, _ = await start(serve, {("POST", "/ws/page/7/destroy"): b"<response success='true' />"})
    async with client(base, rate_limit=None) as bp:
        assert await bp.pages.destroy(7) is None


@pytest.mark.parametrize(
    ("name", "cls", "status", "text"),
    [
        ("envelope/error_404.xml", errors.NotFound, 404, "Record not found"),
        ("envelope/error_500.xml", errors.ServerError, 500, "Internal error"),
    ],
)
async def test_an_envelope_failure_with_http_200_raises_by_its_code(
    serve, name, cls, status, text
) -> None:
    base, seen = await start(serve, {("POST", "/ws/page/9"): fixture(name)})
    retry = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.001)
    async with client(base, rate_limit=None, retry=retry) as bp:
        with pytest.raises(cls) as caught:
            await bp.pages.get(9)
    exc = caught.value
    assert exc.status == status
    assert exc.server_message == text
    assert exc.url.endswith("/ws/page/9")
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc)
    assert TOKEN.encode() not in exc.body
    assert len(seen) >= 1


async def test_the_path_token_is_sent_but_never_logged_nor_shown_in_errors(serve, caplog) -> None:
    reminders = fixture("reminders/list.response.xml")
    base, seen = await start(serve, {("GET", f"/{TOKEN}/reminders.xml"): reminders})
    caplog.set_level(logging.DEBUG, logger="aiocamp")
    async with client(base, rate_limit=None, retry=RetryPolicy(max_retries=0)) as bp:
        found = [r async for r in bp.reminders.list()]
        with pytest.raises(errors.NotFound) as caught:
            await bp.users.me()  # the server knows no /TOKEN/me.xml: a 404
    assert [r.id for r in found] == [5, 6]
    assert [u.name for u in found[1].remindees] == ["John D.", "Foo B."]
    # The token went in the path, and the body was not wrapped in <request>.
    assert [s["path"] for s in seen] == [f"/{TOKEN}/reminders.xml", f"/{TOKEN}/me.xml"]
    assert all(s["body"] == b"" for s in seen)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caught.value.url
    assert "me.xml" in caught.value.url
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "reminders.xml" in logged  # the debug lines are there...
    assert TOKEN not in logged  # ...scrubbed


async def test_oauth_drops_the_token_segment(serve) -> None:
    me = fixture("users/me.response.xml")
    base, seen = await start(serve, {("GET", "/me.xml"): me})
    async with Backpack(
        base_url=base, user_agent="t (t@example.test)", access_token="oauth-abc", rate_limit=None
    ) as bp:
        user = await bp.users.me()
    assert (user.id, user.name, user.admin, user.identity_url) == (1234, "John Doe", True, None)
    assert seen[0]["path"] == "/me.xml"
    assert seen[0]["auth"] == "Bearer oauth-abc"


async def test_a_reminder_delete_answers_204(serve) -> None:
    base, seen = await start(
        serve, {("DELETE", f"/{TOKEN}/reminders/5.xml"): lambda r: web.Response(status=204)}
    )
    async with client(base, rate_limit=None) as bp:
        assert await bp.reminders.delete(5) is None
    assert seen[0]["method"] == "DELETE"


def journal_server(total: int):
    """Journal entries 1..total, served by page index ``n`` and size ``count`` (max 100)."""

    def reply(request: web.Request) -> web.Response:
        n = int(request.query.get("n", "0"))
        count = min(int(request.query.get("count", "100")), 100)
        ids = range(1 + n * count, min(total, (n + 1) * count) + 1)
        records = "".join(
            f"<journal-entry><id type='integer'>{i}</id><body>e{i}</body></journal-entry>"
            for i in ids
        )
        body = f"<journal-entries type='array'>{records}</journal-entries>"
        return web.Response(body=body.encode(), content_type=XML)

    return reply


@pytest.mark.parametrize(
    ("count", "total", "pages"),
    [(None, 250, ["0", "1", "2"]), (40, 100, ["0", "1", "2"]), (None, 200, ["0", "1", "2"])],
)
async def test_journal_pages_by_index_from_zero(serve, count, total, pages) -> None:
    base, seen = await start(serve, {("GET", "/journal_entries.xml"): journal_server(total)})
    async with client(base, rate_limit=None) as bp:
        entries = [e async for e in bp.journal_entries.list(count=count if count else None)]
    assert [e.id for e in entries] == list(range(1, total + 1))
    assert [dict(s["query"])["n"] for s in seen] == pages
    if count:
        assert all(dict(s["query"])["count"] == str(count) for s in seen)


async def test_calendar_calls_are_held_to_10_per_window_the_rest_to_100(serve) -> None:
    calendars = fixture("calendars/list.response.xml")
    statuses = fixture("statuses/list.response.xml")
    base, seen = await start(
        serve, {("GET", "/calendars.xml"): calendars, ("GET", "/statuses.xml"): statuses}
    )
    # The documented windows scaled 100 times down: calendar 10 per 0.05 s, others 100.
    async with client(base, rate_limit=RateLimit(time_scale=0.01)) as bp:
        started = time.monotonic()
        for _ in range(30):
            [_ async for _ in bp.statuses.list()]
        others = time.monotonic() - started
        started = time.monotonic()
        for _ in range(30):
            (cal,) = [c async for c in bp.calendars.list()]
        calendar = time.monotonic() - started
    assert (cal.id, cal.name, cal.color) == (5, "Personal", "000099")
    assert "520" not in repr(cal)  # the feed token is a secret
    assert len(seen) == 60
    # 30 calendar calls: 10 at once, then 20 more at 10 per 0.05 s, so at least ~0.1 s.
    assert calendar >= 0.09
    # The same 30 calls to a default endpoint fit in its bucket of 100: no waiting at all,
    # so they are faster than the throttled calendar run.
    assert others < calendar


async def test_a_throttled_503_is_retried_after_its_retry_after(serve) -> None:
    calls: list[int] = []

    def reply(request: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) == 1:
            return web.Response(status=503, headers={"Retry-After": "0"})
        return web.Response(body=fixture("statuses/get.response.xml"), content_type=XML)

    base, _ = await start(serve, {("GET", "/users/1234/status.xml"): reply})
    async with client(base, rate_limit=None) as bp:
        status = await bp.statuses.get(1234)
    assert (status.id, status.message, status.user_id) == (71, "Writing the API docs", 1234)
    assert len(calls) == 2


async def test_the_sandbox_serves_backpack_in_its_three_styles(caplog) -> None:
    from aiocamp.sandbox import serve

    caplog.set_level(logging.DEBUG, logger="aiocamp")
    async with serve("backpack", seed=3, scale=0.2, rate_limit="off") as sb:
        token = sb.credentials["token"]
        async with sb.client() as bp:
            pages = [p async for p in bp.pages.list()]  # /ws/: envelope, body token
            assert len(pages) == sb.state.counts()["Page"]
            page = await bp.pages.get(pages[0].id)
            assert page.id == pages[0].id
            created = await bp.notes.create(page.id, title="Hotel", body="Staying at the Savoy")
            assert (created.title, created.body) == ("Hotel", "Staying at the Savoy")
            with pytest.raises(errors.NotFound):  # success='false' with HTTP 200
                await bp.pages.get(99999999)
            reminders = [r async for r in bp.reminders.list()]  # /{token}/: token in the path
            assert len(reminders) == sb.state.counts()["Reminder"]
            assert (await bp.users.me()).name
            users = [u async for u in bp.users.list()]
            assert len(users) == sb.state.counts()["User"]
            export = await bp.users.export(users[0].id)
            assert export.id is not None
            statuses = [s async for s in bp.statuses.list()]  # dashed REST XML
            assert len(statuses) == sb.state.counts()["Status"]
            entries = [j async for j in bp.journal_entries.list(count=5)]
            assert len(entries) == sb.state.counts()["JournalEntry"]
        async with sb.client(token="wrong-token") as bad:
            with pytest.raises(errors.Unauthorized):
                await bad.users.me()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/reminders.xml" in logged
    assert token not in logged
