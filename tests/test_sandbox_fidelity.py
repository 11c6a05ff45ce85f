"""Sandbox lists that the docs say narrow by state, through the generated clients over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from aiocamp.sandbox import serve


async def _ids(iterator: Any) -> list[int]:
    return [record.id async for record in iterator]


async def test_highrise_open_and_closed_cases_split_by_closed_at() -> None:
    async with serve("highrise", rate_limit="off", scale=0.2) as sb:
        kases = {r["id"]: r for r in sb.state.all("Kase")}
        async with sb.client() as hr:
            open_ids = await _ids(hr.cases.list_open())
            closed_ids = await _ids(hr.cases.list_closed())
    # sections/cases.md: open cases have no closed_at, closed ones do; each case is in one.
    assert open_ids
    assert closed_ids
    assert sorted(open_ids + closed_ids) == sorted(kases)
    assert all(kases[i]["closed_at"] is None for i in open_ids)
    assert all(kases[i]["closed_at"] is not None for i in closed_ids)


async def test_basecamp4_completed_true_lists_only_completed_todos() -> None:
    async with serve("basecamp4", rate_limit="off", scale=0.1) as sb:
        store = sb.state
        todolist = max(
            store.ids("Todolist"),
            key=lambda tl: len(list(store.linked("Todo", {"todolist_id": tl}))),
        )
        todos = {r["id"]: r for r in store.linked("Todo", {"todolist_id": todolist})}
        async with sb.client() as bc:
            pending = await _ids(bc.todos.list(todolist))
            done = await _ids(bc.todos.list(todolist, completed=True))
    # sections/todos.md: no parameter -> pending only; completed=true -> completed only.
    assert pending
    assert done
    assert sorted(pending + done) == sorted(todos)
    assert not any(todos[i]["completed"] for i in pending)
    assert all(todos[i]["completed"] for i in done)


@pytest.mark.parametrize(
    ("product", "model", "parents"),
    [
        ("highrise", "Comment", {"note_id", "email_id"}),
        ("basecamp4", "CampfireLine", {"chat_id"}),
        ("basecamp4", "QuestionAnswer", {"question_id"}),
        ("basecamp_classic", "Post", {"project_id"}),
        ("basecamp_classic", "CalendarEntry", {"project_id"}),
    ],
)
async def test_records_belong_to_one_parent(product: str, model: str, parents: set[str]) -> None:
    async with serve(product, rate_limit="off", scale=0.2) as sb:
        store = sb.state
        ids = store.ids(model)
        assert ids
        for rid in ids:
            links = store.meta[rid].links
            held = [(k, v) for k in parents for v in links.get(k, ())]
            assert len(held) == 1, (model, rid, held)


async def test_classic_milestone_and_event_lists_hold_their_own_type() -> None:
    async with serve("basecamp_classic", rate_limit="off", scale=0.2) as sb:
        project = max(
            sb.state.ids("Project"),
            key=lambda p: len(list(sb.state.linked("CalendarEntry", {"project_id": p}))),
        )
        async with sb.client() as bc:
            every = [r async for r in bc.calendar_entries.list(project)]
            milestones = [r async for r in bc.calendar_entries.list_milestones(project)]
            events = [r async for r in bc.calendar_entries.list_events(project)]
    assert {r.type for r in milestones} == {"Milestone"}
    assert {r.type for r in events} == {"CalendarEvent"}
    assert sorted(r.id for r in milestones + events) == sorted(r.id for r in every)


async def test_basecamp4_card_table_lists_answer_with_their_cards() -> None:
    async with serve("basecamp4", rate_limit="off", scale=0.1) as sb:
        store = sb.state
        cards = {
            c: {r["id"] for r in store.linked("CardTableCard", {"column_id": c})}
            for c in store.ids("CardTableColumn")
        }
        seen: dict[int, set[int]] = {}
        async with sb.client() as bc:
            for table_id in store.ids("CardTable"):
                table = await bc.card_tables.get(table_id)
                for column in table.lists or ():
                    assert (await bc.card_table_columns.get(column.id)).id == column.id
                    seen[column.id] = set(await _ids(bc.card_table_cards.list(column.id)))
    # every column is some card table's list, and lists its own cards
    assert seen == cards
    assert any(seen.values())
