"""Injected faults: parsed strictly, deterministic with the seed, each visible to clients."""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest

from aiocamp.core import RetryPolicy
from aiocamp.errors import ConfigError
from aiocamp.sandbox import Faults, serve
from aiocamp.sandbox._faults import SlidingWindows
from aiocamp.sandbox._table import RateLimitInfo


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:X".encode()).decode()}


def test_fault_string_is_parsed_into_rates_latency_and_storm() -> None:
    f = Faults.parse("500:0.05, 503:0.02,drop:0.01,cut:0.02,truncate:0.01,latency:5ms,storm:2-3")
    assert f.status == {500: 0.05, 503: 0.02}
    assert (f.drop, f.cut, f.truncate, f.malformed) == (0.01, 0.02, 0.01, 0.0)
    assert f.latency == pytest.approx(0.005)
    assert f.storm == (2.0, 3.0)


@pytest.mark.parametrize(
    "text",
    [
        "501:0.1",
        "500:2",
        "drop:x",
        "latency:fast",
        "storm:3",
        "storm:3-2",
        "bogus:1",
        "500",
        "500:0.6,503:0.6",
    ],
)
def test_bad_fault_strings_raise_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        Faults.parse(text)


async def _statuses(seed: int, n: int = 60) -> list[tuple[int, int]]:
    faults = "500:0.15,502:0.05,503:0.1,429:0.05,truncate:0.1,malformed:0.1"
    async with serve("highrise", seed=seed, scale=0.05, faults=faults) as sb:
        out = []
        async with aiohttp.ClientSession() as http:
            for _ in range(n):
                async with http.get(f"{sb.url}/users.xml", headers=basic(sb.token)) as r:
                    out.append((r.status, len(await r.read())))
        normal = max(set(out), key=out.count)  # the unfaulted reply is the most common one
        assert sb.stats()["faults_injected"] == sum(1 for reply in out if reply != normal)
        return out


async def test_faults_are_deterministic_with_the_seed() -> None:
    a, b, c = await _statuses(5), await _statuses(5), await _statuses(6)
    assert a == b
    assert a != c
    statuses = {s for s, _ in a}
    assert {200, 500, 503} <= statuses


async def test_each_fault_kind_is_what_a_client_sees() -> None:
    async with aiohttp.ClientSession() as http:
        for kind, check in [
            ("drop", "disconnected"),
            ("cut", "payload"),
            ("truncate", "short"),
            ("malformed", "garbage"),
            ("504", "status"),
        ]:
            async with serve("highrise", scale=0.05, faults=f"{kind}:1") as sb:
                url = f"{sb.url}/users.xml"
                if check == "disconnected":
                    with pytest.raises(aiohttp.ServerDisconnectedError):
                        async with http.get(url, headers=basic(sb.token)) as r:
                            await r.read()
                elif check == "payload":
                    with pytest.raises(aiohttp.ClientPayloadError):
                        async with http.get(url, headers=basic(sb.token)) as r:
                            await r.read()
                else:
                    async with http.get(url, headers=basic(sb.token)) as r:
                        body = await r.read()
                    if check == "short":
                        assert r.status == 200
                        assert not body.rstrip().endswith(b"</users>")
                        assert int(r.headers["Content-Length"]) == len(body)
                    elif check == "garbage":
                        assert r.status == 200
                        assert b"<user>" not in body
                    else:
                        assert r.status == 504
                assert sb.stats()["faults"][kind] >= 1


async def test_latency_is_added_to_every_reply() -> None:
    async with (
        serve("highrise", scale=0.05, faults="latency:80ms") as sb,
        aiohttp.ClientSession() as http,
    ):
        started = time.monotonic()
        async with http.get(f"{sb.url}/users.xml", headers=basic(sb.token)) as r:
            assert r.status == 200
        assert time.monotonic() - started >= 0.08


async def test_storm_throttles_every_request_inside_its_window() -> None:
    async with (
        serve("basecamp4", scale=0.05, faults="storm:0-0.4") as sb,
        aiohttp.ClientSession() as http,
    ):
        headers = {"Authorization": f"Bearer {sb.access_token}", "User-Agent": "t (t@example.com)"}
        url = f"{sb.api_url}/projects.json"
        async with http.get(url, headers=headers) as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1
        await asyncio.sleep(0.45)
        async with http.get(url, headers=headers) as r:
            assert r.status == 200
        assert sb.stats()["faults"]["storm"] == 1


async def test_client_lists_everything_exactly_once_through_5xx_and_drops() -> None:
    # 25-record pages (companies.search): many requests, so every fault kind shows up
    faults = "500:0.15,502:0.1,504:0.1,drop:0.1"
    retry = RetryPolicy(max_retries=8, total_budget=30, backoff_initial=0.01, backoff_max=0.05)
    async with serve(
        "highrise", scale=0.05, counts={"Company": 400}, faults=faults, seed=3, rate_limit="off"
    ) as sb:
        async with sb.client(retry=retry) as hr:
            ids = [c.id async for c in hr.companies.search(term="")]
        expected = [r["id"] for r in sb.state.all("Company")]
        assert ids == expected  # every record once, in order, despite the faults
        stats = sb.stats()
        assert stats["faults_injected"] >= 5
        assert stats["by_status"].get("closed", 0) >= 1


def test_sliding_window_counts_and_answers_retry_after() -> None:
    w = SlidingWindows({"default": RateLimitInfo(3, 2.0)})
    assert [w.admit(("default",), now=t) for t in (0.0, 0.5, 1.0)] == [0, 0, 0]
    assert w.admit(("default",), now=1.5) == 1  # the oldest leaves at 2.0
    assert w.admit(("default",), now=2.0) == 0  # 0.0 left the window
    assert w.worst["default"] == 3


def test_harvest_style_block_is_extended_by_a_call_during_it() -> None:
    w = SlidingWindows({"default": RateLimitInfo(2, 10.0)}, block_extends=True)
    assert [w.admit(("default",), now=t) for t in (0.0, 1.0)] == [0, 0]
    assert w.admit(("default",), now=2.0) == 10  # blocked until 12
    assert w.admit(("default",), now=11.0) == 10  # a call during the block: now until 21
    assert w.admit(("default",), now=20.0) == 10  # still blocked (extended to 30)
    assert w.admit(("default",), now=30.5) == 0


async def test_faults_do_not_depend_on_how_requests_interleave() -> None:
    faults = "500:0.3,503:0.2"

    async def outcomes(order: list[str]) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {path: [] for path in order}
        sandbox = serve("highrise", seed=9, scale=0.05, faults=faults)
        async with sandbox as sb, aiohttp.ClientSession() as http:
            for path in order:
                async with http.get(sb.url + path, headers=basic(sb.token)) as r:
                    seen[path].append(r.status)
        return seen

    paths = ["/users.xml", "/groups.xml", "/tags.xml"] * 6
    forward = await outcomes(paths)
    backward = await outcomes(paths[::-1])
    assert forward == backward
    assert any(500 in s or 503 in s for s in forward.values())
