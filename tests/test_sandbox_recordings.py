"""Basecamp 4 sandbox: comments, events, boosts and client replies hang under recordings.

``recording_id`` names a recording of the kinds each endpoint takes (a to-do, a message,
a comment...), and the seeded data agrees with itself: a record's ``comments_count``,
``boosts_count`` and ``replies_count`` are what its lists hold, a recording's events name
it, and only boostable events (boosts.md: completed, adopted, column_changed) carry boosts.
"""

from __future__ import annotations

from typing import Any

import pytest

from aiocamp.errors import NotFound
from aiocamp.sandbox import serve
from aiocamp.sandbox._conventions import Basecamp4Conventions as BC4


async def _all(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


def _linked(store: Any, model: str, **links: int) -> list[int]:
    return sorted(
        rid
        for rid in store.ids(model)
        if all(v in store.meta[rid].links.get(k, ()) for k, v in links.items())
    )


async def test_a_recordings_events_name_it_and_other_records_have_none() -> None:
    async with serve("basecamp4", scale=0.05, rate_limit="off") as sb:
        store = sb.state
        async with sb.client() as client:
            for model in ("Todo", "Message", "Comment", "Vault"):
                rid = next(r for r in store.ids(model) if _linked(store, "Event", recording_id=r))
                events = await _all(client.events.list(rid))
                assert [e.id for e in sorted(events, key=lambda e: e.id)] == _linked(
                    store, "Event", recording_id=rid
                ), model
                assert {e.recording_id for e in events} == {rid}
                # the first event is the creation; later ones are boostable changes
                actions = [e.action for e in sorted(events, key=lambda e: e.id)]
                assert actions[0] == "created"
                assert set(actions[1:]) <= set(BC4.BOOSTABLE_ACTIONS)
            # a person is not a recording; a to-do takes no client replies
            with pytest.raises(NotFound):
                await _all(client.events.list(store.ids("Person")[0]))
            project = store.ids("Project")[0]
            with pytest.raises(NotFound):
                await _all(client.client_replies.list(project, store.ids("Todo")[0]))


async def test_counts_say_what_the_lists_hold() -> None:
    async with serve("basecamp4", scale=0.05, rate_limit="off") as sb:
        store = sb.state
        async with sb.client() as client:
            commented = [t for t in store.ids("Todo") if _linked(store, "Comment", recording_id=t)]
            quiet = [t for t in store.ids("Todo") if not _linked(store, "Comment", recording_id=t)]
            assert commented
            assert quiet
            for tid in (commented[0], quiet[0]):
                todo = await client.todos.get(tid)
                comments = await _all(client.comments.list(tid))
                assert (
                    todo.comments_count
                    == len(comments)
                    == len(_linked(store, "Comment", recording_id=tid))
                )
                boosts = await _all(client.boosts.list(tid))
                assert todo.boosts_count == len(boosts)
            correspondence = next(
                c
                for c in store.ids("ClientCorrespondence")
                if _linked(store, "ClientReply", recording_id=c)
            )
            record = await client.client_correspondences.get(correspondence)
            assert record.bucket is not None
            replies = await _all(client.client_replies.list(record.bucket.id, correspondence))
            assert record.replies_count == len(replies) > 0
            assert {r.parent.id for r in replies if r.parent is not None} == {correspondence}


async def test_event_boosts_are_apart_from_the_recordings_own() -> None:
    async with serve("basecamp4", scale=0.05, rate_limit="off") as sb:
        store = sb.state
        eid = next(e for e in store.ids("Event") if _linked(store, "Boost", event_id=e))
        rid = next(iter(store.meta[eid].links["recording_id"]))
        async with sb.client() as client:
            event = next(e for e in await _all(client.events.list(rid)) if e.id == eid)
            on_event = await _all(client.boosts.list_for_event(rid, eid))
            assert event.boosts_count == len(on_event) > 0
            assert [b.id for b in on_event] == _linked(store, "Boost", event_id=eid)
            own = await _all(client.boosts.list(rid))
            assert not {b.id for b in own} & {b.id for b in on_event}
            assert {b.recording.id for b in on_event if b.recording is not None} == {rid}
            # a creation event is not boostable: it carries no boosts_count
            created = [e for e in await _all(client.events.list(rid)) if e.action == "created"]
            assert created
            assert all(e.boosts_count is None for e in created)

            # boosts made through the API count on what they boost, and nowhere else
            await client.boosts.create_for_event(rid, eid, content="Nice")
            event = next(e for e in await _all(client.events.list(rid)) if e.id == eid)
            assert event.boosts_count == len(on_event) + 1
            assert len(await _all(client.boosts.list(rid))) == len(own)
            todo = next(t for t in store.ids("Todo") if not _linked(store, "Boost", recording_id=t))
            assert (await client.todos.get(todo)).boosts_count == 0
            await client.boosts.create(todo, content="Yay")
            assert (await client.todos.get(todo)).boosts_count == 1
            assert len(await _all(client.boosts.list(todo))) == 1
