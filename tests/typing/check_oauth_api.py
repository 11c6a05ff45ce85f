"""Type-checked by mypy, never run: the OAuth API's static shape."""

from __future__ import annotations

from typing import Any

from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.highrise import Highrise
from aiocamp.oauth import (
    FileTokenStore,
    Grant,
    MemoryTokenStore,
    RedisTokenStore,
    TokenProvider,
    TokenStore,
    stored_credentials,
)


async def use_provider(store: TokenStore) -> None:
    tokens = TokenProvider(store, "launchpad", leeway=30.0)
    async with Basecamp4(account_id=1, token_provider=tokens, user_agent="x (a@b.c)") as bc:
        await bc.projects.get(1)
    async with Highrise(subdomain="acme", token_provider=tokens, user_agent="x (a@b.c)") as hr:
        await hr.people.get(1)
    try:
        token: str = await tokens.access_token()
        del token
    except errors.AuthError as exc:
        code: str | None = exc.error
        del code
    grant: Grant | None = await FileTokenStore().load("launchpad")
    del grant


def from_login() -> Basecamp4 | None:
    kwargs: dict[str, Any] | None = stored_credentials("basecamp4")
    return None if kwargs is None else Basecamp4(**kwargs, user_agent="x (a@b.c)")


def stores(file: FileTokenStore, redis: RedisTokenStore) -> list[TokenStore]:
    return [file, redis, MemoryTokenStore()]
