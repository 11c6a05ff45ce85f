"""`aiocamp export` over real HTTP against a small Highrise-shaped server.

Every walk narrows the Highrise plan to people -> notes -> comments (--resources), which
the server in tests/export_support.py serves with exact, countable data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aiocamp.basecamp4 import Basecamp4
from aiocamp.core import Limit, MemoryLimiterBackend, RateLimit
from aiocamp.core._sqlite_cache import SqliteEtagCache
from aiocamp.export import ExitCode, Exporter, ExportOptions, Listing, Plan, plan_for
from aiocamp.export.checkpoint import JOURNAL, SNAPSHOT
from aiocamp.export.cli import register, run_export
from aiocamp.highrise import Highrise

from .export_support import TOKEN, MiniHighrise, dropped, ids_of, read_jsonl, truncated
from .helpers import ROOT, fast_retry

WALK = ("people", "notes", "comments")
FAST = Limit(100_000, 1.0)


def client(url: str, **kw: Any) -> Highrise:
    kw.setdefault("rate_limit", RateLimit(backend=MemoryLimiterBackend(), limits={"default": FAST}))
    kw.setdefault("retry", fast_retry())
    return Highrise(base_url=url, token=TOKEN, user_agent="aiocamp-tests (dev@example.com)", **kw)


async def export(url: str, out: Path, **options: Any) -> Exporter:
    options.setdefault("resources", WALK)
    options.setdefault("page_retry_delay", 0.01)
    cache = options.pop("cache", None)
    async with client(url, **({"cache": cache} if cache is not None else {})) as hr:
        exporter = Exporter(hr, plan_for("highrise"), ExportOptions(out, **options), limit=FAST)
        await exporter.run()
        return exporter


def assert_exactly_once(server: MiniHighrise, out: Path) -> None:
    assert ids_of(out / "people.jsonl") == list(range(1, server.people + 1))
    assert ids_of(out / "notes.jsonl") == server.note_ids
    assert ids_of(out / "comments.jsonl") == server.comment_ids


async def test_export_writes_every_record_once_as_the_model_encodes_it(serve, tmp_path) -> None:
    server = MiniHighrise()
    srv = await serve(server.app())
    exporter = await export(str(srv.make_url("")), tmp_path)
    assert_exactly_once(server, tmp_path)
    person = read_jsonl(tmp_path / "people.jsonl")[0]
    # Wire names, typed values in ISO text, unicode as is, unknown fields kept.
    assert person["first-name"] == "Ann 1"
    assert person["last-name"] == "Ünïcode & Co"
    created = datetime.fromisoformat(person["created-at"].replace("Z", "+00:00"))
    assert created == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert person["favourite-colour"] == "teal"
    # Paging: 2 pages of people, 3 pages of person 1's 60 notes.
    assert server.hits["/people.xml?n=500"] == 1
    assert server.hits["/people/1/notes.xml?n=50"] == 1
    assert exporter.state is not None
    assert exporter.state.finished
    summary = exporter.summary(elapsed=1.0, exit_code=0)
    assert summary["records"] == {
        "comments": len(server.comment_ids),
        "notes": len(server.note_ids),
        "people": server.people,
    }
    assert summary["requests"] == sum(server.hits.values())
    assert summary["errors"] == []
    assert summary["complete"]


async def test_resources_narrow_what_is_written(serve, tmp_path) -> None:
    server = MiniHighrise(people=30)
    srv = await serve(server.app())
    await export(str(srv.make_url("")), tmp_path, resources=["comments"])
    # people and notes are walked to reach the comments, but not written.
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["comments.jsonl"]
    assert ids_of(tmp_path / "comments.jsonl") == server.comment_ids


async def test_torn_journal_line_and_stray_bytes_are_dropped_on_resume(serve, tmp_path) -> None:
    server = MiniHighrise(people=40)
    srv = await serve(server.app())
    url = str(srv.make_url(""))
    # Run, but stop after 12 committed pages by failing everything after them.
    committed = 0

    async def stop_after(request: web.Request) -> web.StreamResponse | None:
        nonlocal committed
        committed += 1
        return web.Response(status=401) if committed > 12 else None

    server.fault = stop_after
    with pytest.raises(Exception, match="credentials were refused"):
        await export(url, tmp_path, concurrency=1)
    people_file = tmp_path / "people.jsonl"
    size = people_file.stat().st_size
    # A crash after writing but before the journal: stray lines, and a torn journal line.
    with people_file.open("ab") as f:
        f.write(b'{"id": 999999, "torn": tru')
    with (tmp_path / JOURNAL).open("ab") as f:
        f.write(b'0badc0de {"s": 999, "k": "people", "c": nu')
    server.fault = None
    server.hits.clear()
    await export(url, tmp_path, concurrency=1)
    assert_exactly_once(server, tmp_path)
    assert b"999999" not in people_file.read_bytes()
    assert people_file.stat().st_size == size
    # Pages committed before the stop were not fetched again.
    assert server.hits["/people.xml"] == 0


async def test_injected_faults_still_export_every_record_exactly_once(serve, tmp_path) -> None:
    server = MiniHighrise(people=150)
    srv = await serve(server.app())
    rng = random.Random(7)

    async def faults(request: web.Request) -> web.StreamResponse | None:
        kind = rng.randrange(25)  # each fault about 4% of requests, 24% in all
        if kind == 1:
            return web.Response(status=500, text="boom")
        if kind == 3:
            return web.Response(status=503, headers={"Retry-After": "0"})
        if kind == 5:
            return await truncated(request)
        if kind == 7:
            return await dropped(request)
        if kind == 9:
            return web.Response(status=429, headers={"Retry-After": "0"})
        if kind == 10:  # complete but malformed body: a DecodeError, retried by the engine
            return web.Response(body=b"<people><person>", content_type="application/xml")
        return None

    server.fault = faults
    exporter = await export(str(srv.make_url("")), tmp_path, page_attempts=8)
    assert_exactly_once(server, tmp_path)
    summary = exporter.summary(elapsed=1.0, exit_code=0)
    assert summary["retries"] > 30
    assert summary["throttled"] > 15
    assert summary["errors"] == []


async def test_a_listing_that_keeps_failing_is_reported_then_retried(serve, tmp_path) -> None:
    server = MiniHighrise(people=20)
    srv = await serve(server.app())

    async def broken(request: web.Request) -> web.StreamResponse | None:
        if request.path == "/people/5/notes.xml":
            return web.Response(status=500, text="always broken")
        return None

    server.fault = broken
    exporter = await export(str(srv.make_url("")), tmp_path)
    summary = exporter.summary(elapsed=1.0, exit_code=ExitCode.PARTIAL)
    assert [e["listing"] for e in summary["errors"]] == ["notes?subject_id=5&subject_type=people"]
    assert "HTTP 500" in summary["errors"][0]["error"]
    assert server.notes[5][0] not in ids_of(tmp_path / "notes.jsonl")
    # Fixed server, same command: only the failed listing (and what it reveals) is fetched.
    server.fault = None
    server.hits.clear()
    exporter = await export(str(srv.make_url("")), tmp_path)
    assert_exactly_once(server, tmp_path)
    assert exporter.resumed
    assert set(server.hits) <= {
        "/people/5/notes.xml",
        *(f"/notes/{n}/comments.xml" for n in server.notes[5]),
    }


async def test_second_export_with_a_cache_file_is_answered_by_304s(serve, tmp_path) -> None:
    server = MiniHighrise(people=60)
    srv = await serve(server.app())
    url = str(srv.make_url(""))
    cache_path = tmp_path / "cache" / "etags.sqlite3"
    first = await export(url, tmp_path / "one", cache=SqliteEtagCache(cache_path))
    assert first.session.stats.not_modified == 0
    # A new process would reopen the file: so does this.
    second = await export(url, tmp_path / "two", cache=SqliteEtagCache(cache_path))
    stats = second.session.stats
    assert stats.not_modified == stats.requests
    assert (tmp_path / "two" / "notes.jsonl").read_bytes() == (
        tmp_path / "one" / "notes.jsonl"
    ).read_bytes()


async def test_since_reaches_the_listings_that_take_it(serve, tmp_path) -> None:
    server = MiniHighrise(people=3)
    srv = await serve(server.app())
    await export(str(srv.make_url("")), tmp_path, since=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    assert server.since == ["20240506070809"]
    assert any("since=20240506070809" in hit for hit in server.hits if "/notes.xml" in hit)
    assert not any("since" in hit for hit in server.hits if "comments" in hit)


async def test_with_files_streams_attachments_to_disk(serve, tmp_path) -> None:
    server = MiniHighrise(people=12)
    srv = await serve(server.app())
    exporter = await export(str(srv.make_url("")), tmp_path, with_files=True)
    with_files = [n for n in server.note_ids if n % 5 == 0]
    found = sorted((tmp_path / "files" / "notes").iterdir())
    assert [p.name for p in found] == sorted(f"{n}-report {n}.txt" for n in with_files)
    for n in with_files:
        assert (tmp_path / "files" / "notes" / f"{n}-report {n}.txt").read_text() == (
            f"file {n:07d}\n"
        )
    assert not list((tmp_path / "files").rglob("*.part"))
    assert exporter.progress.files == len(with_files)


# -- the command ---------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aiocamp")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["export", *argv])


def command(url: str, out: Path, *extra: str) -> argparse.Namespace:
    return parse(
        "highrise",
        "--base-url",
        url,
        "--out",
        str(out),
        "--resources",
        ",".join(WALK),
        "--rate-limit",
        "100000/1",
        "--progress",
        "lines",
        *extra,
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIOCAMP_HIGHRISE_TOKEN", TOKEN)
    return TOKEN


async def test_command_writes_summary_and_never_the_token(
    serve, tmp_path, token, capsys, caplog
) -> None:
    caplog.set_level("DEBUG")
    server = MiniHighrise(people=30)
    srv = await serve(server.app())
    code = await run_export(command(str(srv.make_url("")), tmp_path, "-vv"))
    assert code == ExitCode.OK
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["records"]["people"] == 30
    assert summary["complete"]
    assert summary["exit_code"] == 0
    assert summary["rate_limit"] == {"requests": 100000, "per_seconds": 1.0, "rate": 100000.0}
    assert 0 < summary["rate_ratio"] < 1
    out = capsys.readouterr()
    assert "exported" in out.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert token not in out.out + out.err + caplog.text


async def test_bad_credentials_exit_4_with_a_clear_message(serve, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIOCAMP_HIGHRISE_TOKEN", "wrong-token")
    server = MiniHighrise(people=3)
    srv = await serve(server.app())
    assert await run_export(command(str(srv.make_url("")), tmp_path)) == ExitCode.UNAUTHORIZED
    assert "credentials were refused" in capsys.readouterr().err
    assert json.loads((tmp_path / "summary.json").read_text())["exit_code"] == 4


async def test_inactive_account_exits_5(serve, tmp_path, token, capsys) -> None:
    server = MiniHighrise(people=3)
    server.inactive = True
    srv = await serve(server.app())
    assert await run_export(command(str(srv.make_url("")), tmp_path)) == ExitCode.INACTIVE
    assert "account is inactive" in capsys.readouterr().err


async def test_unreachable_host_exits_6(tmp_path, token, capsys) -> None:
    from .helpers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert await run_export(command(url, tmp_path, "--retries", "0")) == ExitCode.UNREACHABLE
    assert "cannot reach" in capsys.readouterr().err


async def test_missing_token_is_a_usage_error(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("AIOCAMP_HIGHRISE_TOKEN", raising=False)
    assert await run_export(command("http://127.0.0.1:9", tmp_path)) == ExitCode.USAGE
    assert "AIOCAMP_HIGHRISE_TOKEN" in capsys.readouterr().err


async def test_other_options_on_an_unfinished_export_need_restart(serve, tmp_path, token):
    server = MiniHighrise(people=10)
    srv = await serve(server.app())
    url = str(srv.make_url(""))
    server.fault = lambda r: _answer(web.Response(status=400))
    assert await run_export(command(url, tmp_path)) == ExitCode.PARTIAL
    server.fault = None
    other = command(url, tmp_path, "--since", "2024-01-01")
    assert await run_export(other) == ExitCode.USAGE
    assert await run_export(command(url, tmp_path, "--since", "2024-01-01", "--restart")) == 0
    assert ids_of(tmp_path / "people.jsonl") == list(range(1, 11))


async def _answer(response: web.StreamResponse) -> web.StreamResponse:
    return response


def test_help_documents_exit_codes_since_and_tokens(capsys) -> None:
    with pytest.raises(SystemExit):
        parse("--help")
    text = capsys.readouterr().out
    for needle in ("exit codes:", "130", "AIOCAMP_HIGHRISE_TOKEN", "since=", "basecamp4: not"):
        assert needle in text


# -- killed and resumed --------------------------------------------------------------------


async def test_sigkill_mid_run_then_resume_gives_every_record_exactly_once(serve, tmp_path) -> None:
    """A real subprocess, SIGKILLed while pages are in flight, then run again."""
    server = MiniHighrise(people=520, big_notes=80)
    srv = await serve(server.app())
    url = str(srv.make_url(""))
    env = {**os.environ, "AIOCAMP_HIGHRISE_TOKEN": TOKEN, "PYTHONPATH": str(ROOT / "src")}
    argv = [
        sys.executable, "-m", "aiocamp", "export", "highrise", "--base-url", url,
        "--out", str(tmp_path), "--resources", ",".join(WALK),
        "--rate-limit", "100000/1", "--progress", "off", "--concurrency", "8",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    while sum(server.hits.values()) < 300:
        assert proc.returncode is None, await proc.communicate()
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    first = sum(server.hits.values())
    assert (tmp_path / SNAPSHOT).exists()
    before = dict(server.hits)
    server.hits.clear()
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert_exactly_once(server, tmp_path)
    # Only pages that were in flight (or written but not yet journaled) at the kill come
    # again: at most a few, never the whole first run.
    again = [hit for hit in server.hits if hit in before]
    assert len(again) <= 16, again
    note_pages = sum(max(1, -(-len(ns) // 25)) for ns in server.notes.values())
    # people pages, 4 empty roots, note pages, one emails and one comments page each
    total_pages = 3 + 4 + note_pages + server.people + len(server.note_owner)
    assert first + sum(server.hits.values()) <= total_pages + 16
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["resumed"]
    assert summary["runs"] == 2


# -- Link paging (Basecamp 4's style) ------------------------------------------------------


def people_pages(pages: int, *, loop_back: bool = False) -> tuple[web.Application, Counter[str]]:
    """``/people.json`` in ``pages`` pages of 3 linked by ``Link: rel=next``."""
    hits: Counter[str] = Counter()

    async def people(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        hits[request.path_qs] += 1
        records = [{"id": page * 100 + i, "name": f"P{page}.{i}"} for i in range(3)]
        headers = {}
        if loop_back and page == pages:  # back to the very first URL
            headers["Link"] = f'<{request.url.with_query(None)}>; rel="next"'
        elif page < pages:
            headers["Link"] = f'<{request.url.with_query(page=page + 1)}>; rel="next"'
        return web.json_response(records, headers=headers)

    app = web.Application()
    app.router.add_get("/people.json", people)
    return app, hits


def people_plan() -> Plan:
    listing = Listing("people", "people", lambda c, a, s: c.people.list(), root=True)
    return Plan("basecamp4", {"people": listing})


async def export_people(url: str, out: Path, **options: Any) -> Exporter:
    async with Basecamp4(
        account_id=1,
        base_url=url,
        access_token=TOKEN,
        user_agent="aiocamp-tests (dev@example.com)",
        rate_limit=RateLimit(backend=MemoryLimiterBackend(), limits={"default": FAST}),
        retry=fast_retry(),
    ) as bc:
        exporter = Exporter(bc, people_plan(), ExportOptions(out, page_retry_delay=0.01, **options))
        await exporter.run()
        return exporter


async def test_link_paging_follows_next_links_to_the_end(serve, tmp_path) -> None:
    app, hits = people_pages(4)
    srv = await serve(app)
    exporter = await export_people(str(srv.make_url("")), tmp_path)
    assert ids_of(tmp_path / "people.jsonl") == [
        p * 100 + i for p in (1, 2, 3, 4) for i in range(3)
    ]
    assert sum(hits.values()) == 4
    assert exporter.state is not None
    assert exporter.state.finished


async def test_a_failed_link_page_is_fetched_again_alone_on_resume(serve, tmp_path) -> None:
    failing = {"on": True}

    @web.middleware
    async def fail_page_3(request: web.Request, handler: Any) -> web.StreamResponse:
        if failing["on"] and request.query.get("page") == "3":
            return web.Response(status=400)
        return await handler(request)

    app, hits = people_pages(4)
    app.middlewares.append(fail_page_3)
    srv = await serve(app)
    url = str(srv.make_url(""))
    first = await export_people(url, tmp_path)
    assert first.summary(elapsed=1, exit_code=3)["errors"][0]["listing"] == "people"
    assert ids_of(tmp_path / "people.jsonl") == [100, 101, 102, 200, 201, 202]
    failing["on"] = False
    hits.clear()
    second = await export_people(url, tmp_path)
    assert second.resumed
    # Resumed at the recorded next link: pages 1 and 2 are not fetched again.
    assert sorted(hits) == ["/people.json?page=3", "/people.json?page=4"]
    assert ids_of(tmp_path / "people.jsonl") == [
        p * 100 + i for p in (1, 2, 3, 4) for i in range(3)
    ]


async def test_a_next_link_back_to_a_read_page_fails_the_listing(serve, tmp_path) -> None:
    app, hits = people_pages(3, loop_back=True)
    srv = await serve(app)
    exporter = await export_people(str(srv.make_url("")), tmp_path)
    errors = exporter.summary(elapsed=1, exit_code=3)["errors"]
    assert "already fetched" in errors[0]["error"]
    assert ids_of(tmp_path / "people.jsonl") == [p * 100 + i for p in (1, 2, 3) for i in range(3)]
    assert hits["/people.json"] == 1  # never a second time


async def test_progress_bars_show_each_resource_and_the_overall_rates(
    serve, tmp_path, token, capsys
) -> None:
    server = MiniHighrise(people=12)
    srv = await serve(server.app())
    assert await run_export(command(str(srv.make_url("")), tmp_path, "--progress", "bars")) == 0
    err = capsys.readouterr().err
    for needle in ("overall", "people", "notes", "records/s", "requests/s"):
        assert needle in err, needle


async def test_progress_lines_when_not_on_a_terminal(serve, tmp_path, token, capsys) -> None:
    server = MiniHighrise(people=12)
    srv = await serve(server.app())
    assert await run_export(command(str(srv.make_url("")), tmp_path)) == 0
    err = capsys.readouterr().err
    assert "export: " in err
    assert f"{server.people + len(server.note_ids) + len(server.comment_ids)} records" in err


async def test_ctrl_c_saves_progress_exits_130_and_the_same_command_resumes(
    serve, tmp_path
) -> None:
    server = MiniHighrise(people=200)
    srv = await serve(server.app())
    env = {**os.environ, "AIOCAMP_HIGHRISE_TOKEN": TOKEN, "PYTHONPATH": str(ROOT / "src")}
    argv = [
        sys.executable, "-m", "aiocamp", "export", "highrise", "--base-url",
        str(srv.make_url("")), "--out", str(tmp_path), "--resources", ",".join(WALK),
        "--rate-limit", "100000/1", "--progress", "off", "--concurrency", "4",
    ]  # fmt: skip
    # Past 100 requests the server holds every reply until the signal has been sent, so a
    # fast machine cannot finish the export before Ctrl-C arrives.
    gate = asyncio.Event()

    async def hold(request: web.Request) -> web.StreamResponse | None:
        if sum(server.hits.values()) > 100:
            await gate.wait()
        return None

    server.fault = hold
    # A shell that starts pytest in the background ignores SIGINT, and children inherit
    # that: the export gets Ctrl-C's default disposition back, as in a terminal.
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    while sum(server.hits.values()) < 100:
        assert proc.returncode is None
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    await asyncio.sleep(0.3)
    gate.set()
    _, err = await proc.communicate()
    server.fault = None
    assert proc.returncode == ExitCode.INTERRUPTED, err.decode()
    assert b"run the same command to resume" in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert not summary["complete"]
    assert summary["exit_code"] == 130
    before = set(server.hits)
    server.hits.clear()
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert_exactly_once(server, tmp_path)
    # Only the pages in flight at the interrupt (at most --concurrency) are asked again.
    assert len(before & set(server.hits)) <= 4


@pytest.mark.redis
async def test_redis_shares_the_cache_and_limiter_between_export_processes(
    serve, tmp_path, token, redis_server
) -> None:
    from redis import asyncio as redis_asyncio

    server = MiniHighrise(people=20)
    srv = await serve(server.app())
    url = str(srv.make_url(""))
    redis_url = f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis_asyncio.from_url(redis_url)
    await client.flushdb()
    first = command(url, tmp_path / "one", "--redis", redis_url)
    assert await run_export(first) == 0
    keys = [k.decode() for k in await client.keys("*")]
    assert any(k.startswith("aiocamp:limit:") for k in keys)  # the shared bucket
    assert any(k.startswith("aiocamp:cache:") for k in keys)
    assert not any(token in k for k in keys)
    # Another process (here: another run) with the same Redis gets 304s for everything.
    assert await run_export(command(url, tmp_path / "two", "--redis", redis_url)) == 0
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["not_modified"] == summary["requests"]
    await client.aclose()


async def test_since_on_a_product_without_a_filter_is_a_usage_error(
    tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("AIOCAMP_BASECAMP4_TOKEN", TOKEN)
    args = parse(
        "basecamp4", "--account-id", "1", "--base-url", "http://127.0.0.1:9/1",
        "--out", str(tmp_path), "--since", "2026-01-01", "--progress", "off",
    )  # fmt: skip
    assert await run_export(args) == ExitCode.USAGE
    assert "basecamp4 has no incremental listing" in capsys.readouterr().err


def test_unknown_resources_are_named_with_the_choices() -> None:
    from aiocamp.core._errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown resource.*todos.*choose from.*people"):
        plan_for("highrise").selected(["todos"])


async def test_a_full_disk_stops_the_export_with_exit_1_and_a_resumable_checkpoint(
    serve, tmp_path, token, monkeypatch, capsys
) -> None:
    from aiocamp.export import _jsonl

    server = MiniHighrise(people=30)
    srv = await serve(server.app())
    url = str(srv.make_url(""))
    real = _jsonl.JsonlWriter.append
    calls = 0

    def full_after_5(self: Any, lines: list[bytes]) -> None:
        nonlocal calls
        calls += 1
        if calls > 5:
            raise OSError(28, "No space left on device")
        real(self, lines)

    monkeypatch.setattr(_jsonl.JsonlWriter, "append", full_after_5)
    assert await run_export(command(url, tmp_path)) == ExitCode.ERROR
    assert "No space left on device" in capsys.readouterr().err
    monkeypatch.setattr(_jsonl.JsonlWriter, "append", real)
    assert await run_export(command(url, tmp_path)) == ExitCode.OK
    assert_exactly_once(server, tmp_path)
