"""`aiocamp export` against the sandbox (aiocamp.sandbox) over real HTTP: every product.

Record counts come from the sandbox's own store: every record is exported exactly once
(the sandbox files each record under one parent, and state lists such as open/closed
cases or pending/completed to-dos do not overlap).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from aiocamp.core import Limit, MemoryLimiterBackend, RateLimit
from aiocamp.export import ExitCode, Exporter, ExportOptions, plan_for
from aiocamp.export.checkpoint import SNAPSHOT
from aiocamp.export.cli import run_export

from .export_support import read_jsonl
from .helpers import ROOT, fast_retry
from .test_export import parse

sandbox = pytest.importorskip("aiocamp.sandbox")

FAST = Limit(100_000, 1.0)

#: resource file -> the sandbox model it holds
HIGHRISE_MODELS = {
    "account": None,
    "users": "User",
    "groups": "Group",
    "memberships": "Membership",
    "tags": "Tag",
    "task_categories": "TaskCategory",
    "deal_categories": "DealCategory",
    "custom_fields": "SubjectField",
    "tasks": "Task",
    "people": "Person",
    "companies": "Company",
    "deals": "Deal",
    "cases": "Kase",
    "deletions": "Deletion",
    "notes": "Note",
    "emails": "Email",
    "comments": "Comment",
}
HIGHRISE_COUNTS = {"Person": 510, "Company": 40, "Deal": 40, "Deletion": 30}

BASECAMP4_MODELS = {
    "people": "Person",
    "projects": "Project",
    "project_people": None,
    "todolists": None,
    "todolist_groups": None,
    "todos": "Todo",
    "messages": "Message",
    "documents": "Document",
    "uploads": "Upload",
    "schedule_entries": "ScheduleEntry",
    "inbox_forwards": "InboxForward",
    "inbox_replies": "InboxReply",
    "questions": "Question",
    "question_answers": "QuestionAnswer",
    "campfire_lines": "CampfireLine",
    "card_tables": "CardTable",
    "cards": "CardTableCard",
    "templates": "Template",
    "lineup_markers": "LineupMarker",
    "message_types": "MessageType",
    "webhooks": "Webhook",
    "client_approvals": "ClientApproval",
    "client_correspondences": "ClientCorrespondence",
    "gauge_needles": "GaugeNeedle",
    "timesheet_entries": "TimesheetEntry",
    "upload_versions": "UploadVersion",
    "bookmarks": "Bookmark",
    "drafts": "Draft",
    "bubble_ups": "MyNotification",
    "folders": "Folder",
    "question_reminders": None,
    "comments": "Comment",
    "events": "Event",
    "boosts": "Boost",
    "client_replies": "ClientReply",
}


async def run(sb: Any, out: Path, **options: Any) -> Exporter:
    options.setdefault("page_retry_delay", 0.01)
    fast = RateLimit(backend=MemoryLimiterBackend(), limits={"default": FAST})
    async with sb.client(rate_limit=fast, retry=fast_retry(max_retries=5)) as client:
        exporter = Exporter(client, plan_for(sb.product), ExportOptions(out, **options), limit=FAST)
        await exporter.run()
        return exporter


def ids_per_file(out: Path) -> dict[str, collections.Counter[Any]]:
    """How many times each id appears in each file (record content may differ between
    sandbox runs where the sandbox fills nested values lazily, in request order)."""
    return {
        p.stem: collections.Counter(r.get("id") for r in read_jsonl(p))
        for p in sorted(out.glob("*.jsonl"))
    }


async def test_highrise_export_holds_every_sandbox_record(tmp_path) -> None:
    async with sandbox.serve("highrise", rate_limit="off", counts=HIGHRISE_COUNTS) as sb:
        exporter = await run(sb, tmp_path, concurrency=8)
        store = sb.state
        requests = sb.stats()
    assert exporter.state is not None
    assert exporter.state.problems == {}
    for resource, model in HIGHRISE_MODELS.items():
        records = read_jsonl(tmp_path / f"{resource}.jsonl")
        if model is None:
            assert len(records) == 1
            continue
        ids = [r["id"] for r in records]
        assert sorted(ids) == sorted(store.ids(model)), resource
    # People page by 500: 510 people took two pages.
    assert len(read_jsonl(tmp_path / "people.jsonl")) == 510
    # Every request the client sent reached the sandbox, and nothing else did.
    assert exporter.session.stats.requests == requests["requests"]


async def test_basecamp4_export_holds_every_sandbox_record(tmp_path) -> None:
    async with sandbox.serve("basecamp4", rate_limit="off", scale=0.1) as sb:
        exporter = await run(sb, tmp_path, concurrency=8)
        store = sb.state
    assert exporter.state is not None
    failed = [p for p in exporter.state.problems.values() if p["kind"] == "failed"]
    assert failed == []
    for resource, model in BASECAMP4_MODELS.items():
        records = read_jsonl(tmp_path / f"{resource}.jsonl")
        assert records, resource
        if model is not None:
            ids = [r["id"] for r in records]
            assert sorted(ids) == sorted(store.ids(model)), resource
    # To-do lists and their groups are both Todolist records: together, all of them.
    lists = read_jsonl(tmp_path / "todolists.jsonl") + read_jsonl(
        tmp_path / "todolist_groups.jsonl"
    )
    assert sorted(r["id"] for r in lists) == sorted(store.ids("Todolist"))
    # A question reminder is keyed by reminder_id (it has no id): each one once.
    reminders = [r["reminder_id"] for r in read_jsonl(tmp_path / "question_reminders.jsonl")]
    assert len(reminders) == len(set(reminders)) == len(store.ids("QuestionReminder"))


#: Kinds of recording (recordings.md) the Basecamp 4 walk reaches as records, and the
#: reached records whose boosts_count says they can be boosted (boosts.md).
BC4_EVENTFUL = {
    "CardTableCard",
    "Comment",
    "Document",
    "Message",
    "QuestionAnswer",
    "ScheduleEntry",
    "Todo",
    "Todolist",
    "Upload",
    "Vault",
}
BC4_BOOSTABLE = BC4_EVENTFUL - {"Vault"} | {"CampfireLine", "GaugeNeedle", "InboxReply"}


async def test_basecamp4_export_walks_events_and_boosts_of_every_kind_of_recording(
    tmp_path,
) -> None:
    """Per kind of parent: the events, boosts and client replies exported are the
    sandbox's, so a walk that skipped one kind of recording (or events' boosts) fails."""
    async with sandbox.serve("basecamp4", rate_limit="off", scale=0.05) as sb:
        await run(sb, tmp_path, concurrency=8)
        store = sb.state

    def kind(rid: int) -> str:
        return store.meta[rid].model

    def per_kind(ids: list[int], parent: str) -> dict[str, list[int]]:
        found: dict[str, list[int]] = collections.defaultdict(list)
        for rid in ids:
            for p in store.meta[rid].links[parent]:
                found[kind(p)].append(rid)
        return {k: sorted(v) for k, v in found.items()}

    events = read_jsonl(tmp_path / "events.jsonl")
    exported = per_kind([e["id"] for e in events], "recording_id")
    assert set(exported) == BC4_EVENTFUL
    assert exported == per_kind(store.ids("Event"), "recording_id")
    assert {kind(e["recording_id"]) for e in events} == BC4_EVENTFUL

    boosts = [b["id"] for b in read_jsonl(tmp_path / "boosts.jsonl")]
    assert len(boosts) == len(set(boosts))
    on_events = [b for b in boosts if "event_id" in store.meta[b].links]
    on_recordings = [b for b in boosts if "event_id" not in store.meta[b].links]
    assert on_events
    assert sorted(on_events) == sorted(
        b for b in store.ids("Boost") if "event_id" in store.meta[b].links
    )
    by_kind = per_kind(on_recordings, "recording_id")
    assert set(by_kind) == BC4_BOOSTABLE
    assert by_kind == per_kind(
        [b for b in store.ids("Boost") if "event_id" not in store.meta[b].links], "recording_id"
    )

    replies = [r["id"] for r in read_jsonl(tmp_path / "client_replies.jsonl")]
    assert set(per_kind(replies, "recording_id")) == {"ClientApproval", "ClientCorrespondence"}


async def test_basecamp4_export_stopped_among_events_resumes_exactly_once(tmp_path) -> None:
    """Stopped while recordings' events and boosts are being walked, then run again:
    every comment, event, boost and client reply once, as in an export never stopped."""
    async with sandbox.serve("basecamp4", rate_limit="off", scale=0.05) as sb:
        await run(sb, tmp_path / "clean", concurrency=8)
        out = tmp_path / "stopped"
        task = asyncio.create_task(run(sb, out, concurrency=8))
        boosts = out / "boosts.jsonl"
        while not (boosts.exists() and boosts.stat().st_size > 2000):
            assert not task.done()
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stopped = ids_per_file(out)
        exporter = await run(sb, out, concurrency=8)
    assert exporter.resumed
    clean = ids_per_file(tmp_path / "clean")
    # stopped part way: some events and boosts were still to come
    assert sum(stopped["events"].values()) < sum(clean["events"].values())
    assert ids_per_file(out) == clean
    for resource in ("comments", "events", "boosts", "client_replies"):
        assert clean[resource]
        assert set(clean[resource].values()) == {1}, resource


@pytest.mark.parametrize("product", ["highrise", "basecamp4"])
async def test_export_under_faults_equals_a_clean_export(product, tmp_path) -> None:
    """5xx, dropped connections, truncated and malformed bodies, a 429 storm: same lines."""
    # Each 429/503 makes the whole export wait its Retry-After (1 s): few of them.
    faults = (
        "500:0.04,502:0.02,504:0.02,drop:0.03,truncate:0.03,malformed:0.02,"
        "429:0.004,503:0.003,storm:0.2-0.3"
    )
    size = {"scale": 0.03} if product == "basecamp4" else {"counts": {"Person": 40}, "scale": 0.03}
    async with sandbox.serve(product, rate_limit="off", **size) as sb:
        await run(sb, tmp_path / "clean", concurrency=8)
    async with sandbox.serve(product, rate_limit="off", faults=faults, **size) as sb:
        exporter = await run(sb, tmp_path / "faulty", concurrency=8, page_attempts=10)
        injected = sb.stats()
    assert ids_per_file(tmp_path / "faulty") == ids_per_file(tmp_path / "clean")
    stats = exporter.session.stats
    assert injected["faults_injected"] > 10
    assert stats.retries > 10
    assert stats.throttled >= 1
    assert exporter.state is not None
    assert [p for p in exporter.state.problems.values() if p["kind"] == "failed"] == []


async def test_sandbox_command_sigkilled_and_resumed_equals_a_clean_export(tmp_path) -> None:
    """The README command in a real process, SIGKILLed mid-run, then run again."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [
        sys.executable, "-m", "aiocamp", "export", "highrise", "--sandbox",
        "--scale", "0.05", "--sandbox-rate-limit", "off", "--rate-limit", "100000/1",
        "--out", str(tmp_path / "killed"), "--progress", "lines",
    ]  # fmt: skip
    async with sandbox.serve("highrise", rate_limit="off", scale=0.05) as sb:
        await run(sb, tmp_path / "clean", concurrency=8)
    out = tmp_path / "killed"
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.PIPE)
    notes = out / "notes.jsonl"
    while not (notes.exists() and notes.stat().st_size > 1000):
        assert proc.returncode is None
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert (out / SNAPSHOT).exists()
    assert not (out / "summary.json").exists()
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == ExitCode.OK, err.decode()
    assert ids_per_file(out) == ids_per_file(tmp_path / "clean")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed"]


@pytest.mark.parametrize("product", ["highrise", "basecamp4", "backpack"])
async def test_sandbox_credentials_appear_in_no_output_or_log(
    product, tmp_path, capsys, caplog
) -> None:
    caplog.set_level("DEBUG")
    out = tmp_path / "out"
    args = parse(
        product, "--sandbox", "--scale", "0.03", "--sandbox-rate-limit", "off",
        "--rate-limit", "100000/1", "--out", str(out / product), "--progress", "lines",
        "--cache-dir", str(out / "cache"),
    )  # fmt: skip
    assert await run_export(args) == ExitCode.OK
    async with sandbox.serve(product, rate_limit="off", scale=0.03) as sb:
        secrets = [sb.token, sb.access_token, sb.login[1]]
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "GET" in caplog.text  # every request is logged at DEBUG
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 10
    for secret in secrets:
        assert secret not in logs
        for path in files:
            assert secret.encode() not in path.read_bytes(), path


#: resource file -> sandbox model (Basecamp Classic)
CLASSIC_MODELS = {
    "people": "Person",
    "companies": "Company",
    "projects": "Project",
    "todo_lists": "TodoList",
    "todo_items": "TodoItem",
    "categories": "Category",
    "files": "Attachment",
    "time_entries": "TimeEntry",
    "calendar_entries": "CalendarEntry",
    "messages": "Post",
}


async def test_basecamp_classic_export_holds_every_sandbox_record(tmp_path) -> None:
    # 60 messages: posts.xml shows a project's newest 25, the archive every one.
    counts = {"Post": 60}
    async with sandbox.serve("basecamp_classic", rate_limit="off", scale=0.2, counts=counts) as sb:
        exporter = await run(sb, tmp_path, concurrency=8)
        store = sb.state
    assert exporter.state is not None
    assert exporter.state.problems == {}
    assert len(read_jsonl(tmp_path / "account.jsonl")) == 1
    per_project = [len(list(store.linked("Post", {"project_id": p}))) for p in store.ids("Project")]
    assert max(per_project) > 25
    archive = [r["id"] for r in read_jsonl(tmp_path / "message_archive.jsonl")]
    assert sorted(archive) == sorted(store.ids("Post"))
    # Who is on each project: one listing per project, each as the sandbox files them.
    for resource, model in (("project_people", "Person"), ("project_companies", "Company")):
        expected = sum(
            len(list(store.linked(model, {"project_id": p}))) for p in store.ids("Project")
        )
        assert len(read_jsonl(tmp_path / f"{resource}.jsonl")) == expected, resource
        assert expected, resource
    for resource, model in CLASSIC_MODELS.items():
        ids = [r["id"] for r in read_jsonl(tmp_path / f"{resource}.jsonl")]
        assert sorted(ids) == sorted(store.ids(model)), resource
    # Comments of to-do items, messages, milestones and events (the sandbox also files
    # some under records no list leads to).
    comments = {r["id"] for r in read_jsonl(tmp_path / "comments.jsonl")}
    assert comments
    assert comments <= set(store.ids("Comment"))


#: resource file -> sandbox model (Backpack)
BACKPACK_MODELS = {
    "users": "User",
    "pages": "Page",
    "page_details": "Page",
    "notes": "Note",
    "lists": "ItemList",
    "list_items": "ListItem",
    "emails": "Email",
    "reminders": "Reminder",
    "statuses": "Status",
    "journal_entries": "JournalEntry",
    "calendars": "Calendar",
    "calendar_events": "CalendarEvent",
}


async def test_backpack_export_holds_every_sandbox_record(tmp_path) -> None:
    async with sandbox.serve("backpack", rate_limit="off", scale=0.3) as sb:
        exporter = await run(sb, tmp_path, concurrency=8)
        store = sb.state
        token = sb.token
    assert exporter.state is not None
    assert exporter.state.problems == {}
    assert len(read_jsonl(tmp_path / "me.jsonl")) == 1
    # Items are listed per list of a page: those the sandbox filed under a list of
    # another page (its links are drawn independently) are reachable by no request.
    reachable = {
        item["id"]
        for page in store.ids("Page")
        for found in store.linked("ItemList", {"page_id": page})
        for item in store.linked("ListItem", {"page_id": page, "list_id": found["id"]})
    }
    items = [r["@id"] for r in read_jsonl(tmp_path / "list_items.jsonl")]
    assert sorted(int(i) for i in items) == sorted(reachable)
    assert reachable
    for resource, model in BACKPACK_MODELS.items():
        if resource == "list_items":
            continue
        # /ws/ records keep their attribute wire names (<page id='..'>: "@id")
        ids = [
            r["id"] if "id" in r else int(r["@id"])
            for r in read_jsonl(tmp_path / f"{resource}.jsonl")
        ]
        assert sorted(ids) == sorted(store.ids(model)), resource
    # The body token and the /{token}/ paths leave no trace in what the export wrote.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("product", ["highrise", "basecamp4", "basecamp_classic"])
async def test_with_files_downloads_the_sandbox_bytes_and_nothing_else(product, tmp_path) -> None:
    from aiocamp.sandbox._app import file_bytes

    async with sandbox.serve(product, rate_limit="off", scale=0.1) as sb:
        exporter = await run(sb, tmp_path, concurrency=8, with_files=True)
        stats = sb.stats()
        base = sb.url
    assert exporter.state is not None
    assert [p for p in exporter.state.problems.values() if p["kind"] == "failed"] == []
    downloaded = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert downloaded
    # every attachment URL in the export names the sandbox, and its file holds its bytes
    urls: dict[str, str] = {}
    for jsonl in tmp_path.glob("*.jsonl"):
        for url in re.findall(r'"(http[^"]*/__sandbox/files/[^"]*)"', jsonl.read_text()):
            urls[url.rsplit("/", 1)[1]] = url
    assert urls
    assert all(u.startswith(base + "/") for u in urls.values())
    for jsonl in tmp_path.glob("*.jsonl"):
        assert not re.search(r'"download_url": ?"(?!http://127\.0\.0\.1)', jsonl.read_text())
    for path in downloaded:
        rid = path.name.split("-", 1)[0]
        url = next(u for k, u in urls.items() if k == rid or u.endswith("/" + rid))
        assert path.read_bytes() == file_bytes(url.split("/__sandbox/", 1)[1]), path
    assert stats["sandbox_errors"] == 0


#: resource file -> the sandbox model it holds (Harvest)
HARVEST_MODELS = {
    "people": "User",
    "clients": "Client",
    "contacts": "Contact",
    "tasks": "Task",
    "expense_categories": "ExpenseCategory",
    "invoice_item_categories": "InvoiceItemCategory",
    "projects": "Project",
    "invoices": "Invoice",
}
#: Child listings: what each project or invoice leads to.
HARVEST_CHILDREN = {
    "task_assignments": "TaskAssignment",
    "user_assignments": "UserAssignment",
    "time_entries": "TimeEntry",
    "expenses": "Expense",
    "invoice_messages": "InvoiceMessage",
    "invoice_payments": "Payment",
}


async def test_harvest_export_holds_every_sandbox_record(tmp_path) -> None:
    """Over the default (JSON) client: invoices page by ?page=, reports need their frame."""
    counts = {"Invoice": 120}
    async with sandbox.serve("harvest", rate_limit="off", scale=0.2, counts=counts) as sb:
        exporter = await run(sb, tmp_path, concurrency=8)
        store = sb.state
    assert exporter.state is not None
    assert exporter.state.problems == {}
    assert len(read_jsonl(tmp_path / "account.jsonl")) == 1
    for resource, model in HARVEST_MODELS.items():
        ids = [r["id"] for r in read_jsonl(tmp_path / f"{resource}.jsonl")]
        assert sorted(ids) == sorted(store.ids(model)), resource
    assert len(read_jsonl(tmp_path / "invoices.jsonl")) == 120
    for resource, model in HARVEST_CHILDREN.items():
        ids = {r["id"] for r in read_jsonl(tmp_path / f"{resource}.jsonl")}
        assert ids, resource
        assert ids <= set(store.ids(model)), resource
