"""OAuth 2 for aiocamp: Launchpad (Basecamp 4, Classic, Highrise, Backpack) and Harvest.

From the command line (your app's credentials in ``AIOCAMP_CLIENT_ID`` and
``AIOCAMP_CLIENT_SECRET``; register ``http://127.0.0.1:PORT/callback`` as its redirect URI)::

    aiocamp login basecamp4 --port 8765   # prints the URL to open, stores the token (0600)
    aiocamp accounts                      # the accounts the stored token reaches

Against a sandbox: ``aiocamp sandbox basecamp4`` prints the sandbox's client id and secret
and the ``aiocamp login ... --server-url`` line to run.

In code, a client built with a token provider refreshes the token shortly before it
expires and once after a 401, with one refresh however many requests wait for it (and one
across processes sharing the store)::

    from aiocamp.basecamp4 import Basecamp4
    from aiocamp.oauth import FileTokenStore, TokenProvider, stored_credentials

    tokens = TokenProvider(FileTokenStore(), "launchpad")    # the grant `aiocamp login` stored
    async with Basecamp4(account_id=999999999, token_provider=tokens, user_agent=...) as bc:
        ...

    async with Basecamp4(**stored_credentials("basecamp4"), user_agent=...) as bc:
        ...                                                  # account and token from the login

Stores are pluggable (:class:`TokenStore`): :class:`FileTokenStore`, :class:`RedisTokenStore`,
:class:`MemoryTokenStore`. A refresh token the server rejects (``invalid_grant``) raises
:class:`aiocamp.errors.AuthError` and leaves the stored grant as it was.
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
