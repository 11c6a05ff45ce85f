"""Mutation kills for ``aiocamp.core._settings`` (issue 7): the defaults a client gets, the
checks of ``__post_init__``, the resolved rate limit and cache, and the deprecated
``session=`` alias (its warning points at the caller's line)."""

from __future__ import annotations

import aiohttp
import pytest

from aiocamp.basecamp4 import Basecamp4
from aiocamp.core import BasicTokenAuth, MemoryEtagCache, RateLimit, RetryPolicy
from aiocamp.core._constants import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT
from aiocamp.core._settings import DEFAULT, ClientSettings, http_session_argument
from aiocamp.errors import ConfigError

UA = "aiocamp-tests (dev@example.com)"


def settings(**kw: object) -> ClientSettings:
    return ClientSettings(
        base_url="http://127.0.0.1:1/9",
        user_agent=UA,
        auth=BasicTokenAuth("secret-settings-token"),
        account="9",
        **kw,  # type: ignore[arg-type]
    )


def test_defaults_and_their_resolution() -> None:
    """Kills every default mutated (``http_session``, ``rate_limit``, ``cache``, ``retry``,
    ``timeout``, ``host_overrides``, ``max_body_bytes``, ``strict``), the DEFAULT repr, and
    ``resolved_rate_limit`` / ``resolved_cache`` inverted or returning None."""
    s = settings()
    assert repr(DEFAULT) == "DEFAULT"
    assert s.http_session is None
    assert s.rate_limit is DEFAULT
    assert s.cache is DEFAULT
    assert isinstance(s.retry, RetryPolicy)
    assert s.retry == RetryPolicy()
    assert s.timeout == DEFAULT_TIMEOUT
    assert dict(s.host_overrides) == {}
    assert s.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert s.strict is False
    limit = s.resolved_rate_limit()
    assert isinstance(limit, RateLimit)
    assert s.resolved_rate_limit() is not limit  # a fresh one per call
    cache = s.resolved_cache()
    assert isinstance(cache, MemoryEtagCache)
    assert s.resolved_cache() is not cache
    mine_limit, mine_cache = RateLimit(), MemoryEtagCache()
    given = settings(rate_limit=mine_limit, cache=mine_cache)
    assert given.resolved_rate_limit() is mine_limit
    assert given.resolved_cache() is mine_cache
    off = settings(rate_limit=None, cache=None)
    assert off.resolved_rate_limit() is None
    assert off.resolved_cache() is None


def test_post_init_fills_and_checks() -> None:
    """Kills ``retry`` DEFAULT / None not replaced (``or`` -> ``and``), the RetryPolicy type
    check and its message, ``host_overrides=None`` kept, and the ``strict`` check."""
    for absent in (DEFAULT, None):
        s = settings(retry=absent)
        assert isinstance(s.retry, RetryPolicy)
        assert s.retry == RetryPolicy()
    policy = RetryPolicy(max_retries=1)
    assert settings(retry=policy).retry is policy
    with pytest.raises(ConfigError) as info:
        settings(retry="twice")
    assert str(info.value) == "retry must be a RetryPolicy, got str"
    assert settings(host_overrides=None).host_overrides == {}
    hosts = {"a.example": "http://127.0.0.1:2"}
    assert settings(host_overrides=hosts).host_overrides == hosts
    assert settings(strict=True).strict is True
    for bad in (1, "yes", None):
        with pytest.raises(ConfigError) as info:
            settings(strict=bad)
        assert str(info.value) == "strict must be True or False"


def test_repr_names_the_url_and_strictness_not_the_secret() -> None:
    """Kills the ``__repr__`` mutants (text, the url's repr, strict)."""
    s = settings(strict=True)
    assert repr(s) == f"ClientSettings('http://127.0.0.1:1/9', auth={s.auth!r}, strict=True)"
    assert "secret-settings-token" not in repr(s)


async def test_http_session_argument_alias() -> None:
    """Kills the ``session is None`` check inverted, the both-given refusal and its message,
    the warning's class, text and ``stacklevel`` (3: the line that built the client)."""
    async with aiohttp.ClientSession() as http:
        assert http_session_argument(None, None) is None
        assert http_session_argument(http, None) is http
        with pytest.raises(ConfigError) as info:
            http_session_argument(http, http)
        assert str(info.value) == "pass the aiohttp session once, as http_session="
        with pytest.warns(DeprecationWarning, match="deprecated") as caught:
            bc = Basecamp4(account_id=1, access_token="t", user_agent=UA, session=http)
        assert bc.settings.http_session is http
        assert len(caught) == 1
        warning = caught[0]
        assert str(warning.message) == (
            "session= is deprecated: pass your aiohttp.ClientSession as http_session="
        )
        # The caller's line; under mutation testing mutmut's trampoline sits in between.
        assert warning.filename == __file__ or warning.filename.endswith(
            "mutmut/mutation/trampoline.py"
        )
        await bc.close()
        assert not http.closed
