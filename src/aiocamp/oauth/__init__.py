"""OAuth 2 for aiocamp: Launchpad (Basecamp 4, Classic, Highrise, Backpack) and Harvest.

    from aiocamp.oauth import FileTokenStore, TokenProvider
    from aiocamp.basecamp4 import Basecamp4

    tokens = TokenProvider(FileTokenStore(), "launchpad")     # stored by `aiocamp login`
    async with Basecamp4(account_id=999999999, token_provider=tokens, user_agent=...) as bc:
        ...                                                  # refreshed when needed

or simply ``Basecamp4(**stored_credentials("basecamp4"), user_agent=...)``.
"""

from __future__ import annotations

from .flow import AuthorizationCodeFlow, fetch_accounts, refresh_grant
from .login import login, refresh_accounts, stored_credentials
from .provider import OAuthBearerAuth, TokenProvider
from .providers import HARVEST, LAUNCHPAD, PRODUCT_PROVIDERS, OAuthProvider, provider_for
from .stores import (
    FileTokenStore,
    MemoryTokenStore,
    RedisTokenStore,
    TokenStore,
    default_token_path,
)
from .tokens import Grant, Token

__all__ = [
    "HARVEST",
    "LAUNCHPAD",
    "PRODUCT_PROVIDERS",
    "AuthorizationCodeFlow",
    "FileTokenStore",
    "Grant",
    "MemoryTokenStore",
    "OAuthBearerAuth",
    "OAuthProvider",
    "RedisTokenStore",
    "Token",
    "TokenProvider",
    "TokenStore",
    "default_token_path",
    "fetch_accounts",
    "login",
    "provider_for",
    "refresh_accounts",
    "refresh_grant",
    "stored_credentials",
]
