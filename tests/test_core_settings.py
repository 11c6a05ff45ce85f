"""Issue 9.5: one frozen settings object, the request loop's policy pieces, renamed arguments."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest
from aiohttp import web

from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.core import Request, RetryPolicy
from aiocamp.core._retry import Budget
from aiocamp.highrise import Highrise

UA = "aiocamp-tests (dev@example.com)"


def echo_auth_app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"auth": request.headers.get("Authorization")})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def test_http_session_is_the_callers_aiohttp_session(serve) -> None:
    server = await serve(echo_auth_app())
    async with aiohttp.ClientSession() as http:
        async with Basecamp4(
            base_url=str(server.make_url("")),
            access_token="tok-1234",
            user_agent=UA,
            http_session=http,
        ) as bc:
            r = await bc.session.request(Request("GET", "/x.json"))
            assert bc.session._client() is http
        assert r.data["auth"] == "Bearer tok-1234"
        assert not http.closed


async def test_session_argument_is_a_deprecated_alias(serve) -> None:
    server = await serve(echo_auth_app())
    async with aiohttp.ClientSession() as http:
        with pytest.warns(DeprecationWarning, match="http_session="):
            bc = Basecamp4(
                base_url=str(server.make_url("")),
                access_token="tok-1234",
                user_agent=UA,
                session=http,
            )
        assert bc.settings.http_session is http
        await bc.session.request(Request("GET", "/x.json"))
        await bc.close()
        assert not http.closed
        with pytest.raises(errors.ConfigError, match="once"):
            Basecamp4(
                account_id=1, access_token="t", user_agent=UA, session=http, http_session=http
            )


def test_settings_are_one_frozen_object_with_strict() -> None:
    hr = Highrise(subdomain="acme", token="tok-1234", user_agent=UA, strict=True, timeout=5)
    assert hr.settings.strict is True
    assert hr.session.strict is True
    assert hr.settings.timeout == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        hr.settings.strict = False  # type: ignore[misc]
    assert Highrise(subdomain="acme", token="tok-1234", user_agent=UA).session.strict is False
    assert "tok-1234" not in repr(hr.settings)


def test_retry_policy_returns_the_next_delay_or_none() -> None:
    policy = RetryPolicy(max_retries=2, backoff_initial=0.1, backoff_max=0.1, max_retry_after=7)
    throttled = errors.RateLimited(429, method="GET", url="u")
    assert policy.delay(0, throttled, idempotent=False, retry_after=3) == 3
    assert policy.delay(0, throttled, idempotent=False, retry_after=1e9) == 7  # capped
    assert policy.delay(2, throttled, idempotent=False, retry_after=3) is None  # spent
    server = errors.ServerError(500, method="POST", url="u")
    assert policy.delay(0, server, idempotent=False) is None  # a POST may have happened
    delay = policy.delay(0, server, idempotent=True)
    assert delay is not None
    assert 0 <= delay <= 0.1
    assert policy.delay(0, errors.ConnectError("x"), idempotent=False) is not None
    assert policy.delay(0, errors.ResponseTooLarge(1), idempotent=True) is None
    inactive = errors.AccountInactive(404, method="GET", url="u")
    assert policy.delay(0, inactive, idempotent=True) is None


def test_budget_allows_only_waits_that_end_in_time() -> None:
    budget = Budget(1.0)
    assert budget.allows(0.5)
    assert not budget.allows(5)
    assert 0 < budget.remaining() <= 1.0


def test_throttled_503_is_both_rate_limited_and_a_server_error() -> None:
    assert issubclass(errors.ServiceThrottled, errors.RateLimited)
    assert issubclass(errors.ServiceThrottled, errors.ServerError)
    assert issubclass(errors.TooManyRedirects, errors.UnexpectedRedirect)
