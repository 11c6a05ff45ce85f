"""Type-checked by mypy (`nox -s typing`), never run: the public API's static shape."""

from __future__ import annotations

from datetime import date, datetime

from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.basecamp4.models import Project, Todo
from aiocamp.core import UNSET, PageIterator
from aiocamp.highrise import Highrise
from aiocamp.highrise.models import Person


async def highrise(hr: Highrise) -> None:
    person: Person = await hr.people.get(4)
    name: str | None = person.first_name
    created: datetime | None = person.created_at
    people: PageIterator[Person] = hr.people.list(since=datetime(2024, 1, 1))
    async for p in people:
        pid: int | None = p.id
    updated: Person | None = await hr.people.update(4, title="CEO", reload=True)
    await hr.people.create(first_name="Ann", last_name=UNSET, title=None)
    del name, created, pid, updated


async def basecamp(bc: Basecamp4) -> None:
    todo: Todo = await bc.todos.create(todolist_id=3, content="x", due_on=date(2024, 1, 2))
    projects: PageIterator[Project] = bc.projects.list()
    total: int | None = projects.total_count
    try:
        await bc.projects.get(1)
    except errors.AccountInactive as exc:
        status: int = exc.status
        del status
    del todo, total


def construct() -> tuple[Highrise, Basecamp4]:
    return (
        Highrise(subdomain="acme", token="t", user_agent="App (me@example.com)"),
        Basecamp4(account_id=1, access_token="t", user_agent="App (me@example.com)"),
    )


def top_level_names() -> None:
    # Issue 9.6: what users need comes from ``aiocamp`` itself, not from core modules.
    from aiocamp import (
        UNSET,
        BasicTokenAuth,
        BearerAuth,
        ClientSettings,
        Limit,
        MemoryEtagCache,
        PageIterator,
        RateLimit,
        RedisEtagCache,
        RedisLimiterBackend,
        RetryPolicy,
        UnsetType,
        errors,
    )

    limits: RateLimit = RateLimit(limits={"default": Limit(50, 10.0)})
    policy: RetryPolicy = RetryPolicy(max_retries=2)
    cache: MemoryEtagCache = MemoryEtagCache()
    unset: UnsetType = UNSET
    auth: BearerAuth = BearerAuth("t")
    error: type[errors.AiocampError] = errors.NotFound
    del limits, policy, cache, unset, auth, error
    del BasicTokenAuth, ClientSettings, PageIterator, RedisEtagCache, RedisLimiterBackend
