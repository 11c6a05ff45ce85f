"""patch(): read-change-write for Basecamp 4's replace-style PUTs, over loopback HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from aiocamp.basecamp4 import Basecamp4
from aiocamp.errors import ConcurrentModification

TODO = {
    "id": 9,
    "content": "Old text",
    "description": "<div>keep me</div>",
    "assignees": [{"id": 11, "name": "Ann"}, {"id": 12, "name": "Bo"}],
    "completion_subscribers": [{"id": 13, "name": "Cy"}],
    "due_on": "2026-05-01",
    "starts_on": None,
    "updated_at": "2026-01-01T10:00:00.000Z",
}


class TodoServer:
    """A to-do whose PUT replaces it whole, as the docs describe (todos.md#update-a-to-do)."""

    def __init__(self, *, change_between_reads: bool = False) -> None:
        self.record: dict[str, Any] = json.loads(json.dumps(TODO))
        self.log: list[tuple[str, str | None]] = []
        self.puts: list[dict[str, Any]] = []
        self.change_between_reads = change_between_reads

    def etag(self) -> str:
        return '"' + self.record["updated_at"] + '"'

    async def get(self, request: web.Request) -> web.Response:
        self.log.append(("GET", request.headers.get("If-None-Match")))
        gets = sum(1 for m, _ in self.log if m == "GET")
        if self.change_between_reads and gets == 2:
            self.record["updated_at"] = "2026-01-01T10:05:00.000Z"  # someone else edited it
        if request.headers.get("If-None-Match") == self.etag():
            return web.Response(status=304, headers={"ETag": self.etag()})
        return web.json_response(self.record, headers={"ETag": self.etag()})

    async def put(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.log.append(("PUT", None))
        self.puts.append(body)
        # Replace semantics: what is not sent is cleared.
        self.record = {
            "id": 9,
            "content": body.get("content"),
            "description": body.get("description"),
            "assignees": [{"id": i} for i in body.get("assignee_ids") or []],
            "completion_subscribers": [
                {"id": i} for i in body.get("completion_subscriber_ids") or []
            ],
            "due_on": body.get("due_on"),
            "starts_on": body.get("starts_on"),
            "updated_at": "2026-01-02T00:00:00.000Z",
        }
        return web.json_response(self.record)


async def start(serve, todo: TodoServer) -> Basecamp4:
    app = web.Application()
    app.router.add_get("/999/todos/9.json", todo.get)
    app.router.add_put("/999/todos/9.json", todo.put)
    server = await serve(app)
    return Basecamp4(
        access_token="patch-token",
        user_agent="aiocamp-tests (dev@example.com)",
        base_url=f"http://127.0.0.1:{server.port}/999",
    )


async def test_patch_changes_one_field_and_keeps_the_rest(serve) -> None:
    todo = TodoServer()
    async with await start(serve, todo) as bc:
        result = await bc.todos.patch(9, content="New text")
    assert todo.puts == [
        {
            "content": "New text",
            "description": "<div>keep me</div>",
            "assignee_ids": [11, 12],
            "completion_subscriber_ids": [13],
            "due_on": "2026-05-01",
            "starts_on": None,
        }
    ]
    assert result.content == "New text"
    assert [a.id for a in result.assignees or []] == [11, 12]


async def test_the_second_read_is_a_conditional_get(serve) -> None:
    todo = TodoServer()
    async with await start(serve, todo) as bc:
        await bc.todos.patch(9, due_on=None)
    # GET (fresh), GET with the ETag it got (304), then the PUT.
    assert todo.log == [("GET", None), ("GET", '"2026-01-01T10:00:00.000Z"'), ("PUT", None)]
    assert todo.puts[0]["due_on"] is None  # None clears explicitly


async def test_a_change_in_between_is_not_overwritten(serve) -> None:
    todo = TodoServer(change_between_reads=True)
    async with await start(serve, todo) as bc:
        with pytest.raises(ConcurrentModification) as info:
            await bc.todos.patch(9, content="Mine")
    assert todo.puts == []
    assert "/todos/9.json" in str(info.value)


async def test_patch_exists_exactly_for_the_replace_style_puts() -> None:
    from tests.generated_support import endpoints

    patched = sorted(f"{r}.{e.patch.name}" for r, e in endpoints("basecamp4") if e.patch)
    assert patched == [
        "documents.patch",
        "schedule_entries.patch",
        "todolists.patch",
        "todos.patch",
    ]


@pytest.mark.parametrize(
    ("resource", "path", "field"),
    [
        ("documents", "/documents/5.json", "title"),
        ("schedule_entries", "/schedule_entries/5.json", "summary"),
        ("todolists", "/todolists/5.json", "name"),
        ("todos", "/todos/5.json", "content"),
    ],
)
async def test_every_patch_method_reads_then_writes(serve, resource, path, field) -> None:
    seen: list[tuple[str, Any]] = []
    record = {"id": 5, field: "before", "description": "kept", "updated_at": "2026-01-01"}

    async def get(request: web.Request) -> web.Response:
        seen.append(("GET", None))
        return web.json_response(record)

    async def put(request: web.Request) -> web.Response:
        seen.append(("PUT", await request.json()))
        return web.json_response({**record, **(await request.json())})

    app = web.Application()
    app.router.add_get("/999" + path, get)
    app.router.add_put("/999" + path, put)
    server = await serve(app)
    async with Basecamp4(
        access_token="patch-token",
        user_agent="aiocamp-tests (dev@example.com)",
        base_url=f"http://127.0.0.1:{server.port}/999",
    ) as bc:
        result = await getattr(bc, resource).patch(5, **{field: "after"})
    assert [m for m, _ in seen] == ["GET", "GET", "PUT"]
    sent = seen[2][1]
    assert sent[field] == "after"
    if resource != "documents":  # documents take title and content only
        assert sent["description"] == "kept"  # copied from the record, not cleared
    assert getattr(result, field) == "after"
