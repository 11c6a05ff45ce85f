"""The sandbox's entry points: the pytest fixture and `aiocamp sandbox` on the command line."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from aiocamp.cli import main
from aiocamp.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.read()


def test_fixture_serves_a_plain_sync_test(aiocamp_sandbox: Callable[..., Sandbox]) -> None:
    sb = aiocamp_sandbox("highrise", scale=0.05)
    token = base64.b64encode(f"{sb.credentials['token']}:X".encode()).decode()
    status, body = _get(f"{sb.url}/users.xml", {"Authorization": f"Basic {token}"})
    assert status == 200
    assert body.count(b"<user>") == sb.state.counts()["User"]


async def test_fixture_serves_an_async_test_through_the_client(
    aiocamp_sandbox: Callable[..., Sandbox],
) -> None:
    sb = aiocamp_sandbox("basecamp4", scale=0.05)
    async with sb.client() as bc:
        projects = [p async for p in bc.projects.list()]
    assert len(projects) == sb.state.counts()["Project"]


def test_command_prints_url_and_credentials_and_serves() -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    cmd = [sys.executable, "-m", "aiocamp", "sandbox", "highrise", "--scale", "0.05", "--seed", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url = lines[0].rsplit(" at ", 1)[1].strip()
        credentials = json.loads(lines[2].removeprefix("credentials: "))
        assert credentials["base_url"] == url
        token = base64.b64encode(f"{credentials['token']}:X".encode()).decode()
        status, body = _get(f"{url}/account.xml", {"Authorization": f"Basic {token}"})
        assert status == 200
        assert b"<account>" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    "argv",
    [
        ["--faults", "bogus:1"],
        ["--rate-limit", "fast"],
        ["--count", "Nobody=3"],
        ["--count", "Person"],
        ["--scale", "0"],
    ],
)
def test_command_rejects_bad_options_with_a_message(argv: list[str], capsys) -> None:
    assert main(["sandbox", "highrise", *argv]) == 2
    assert "aiocamp sandbox: error:" in capsys.readouterr().err


def test_unknown_product_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "nothing"])


def test_fixture_sandbox_stats_and_reset_from_the_test_thread(
    aiocamp_sandbox: Callable[..., Sandbox],
) -> None:
    sb = aiocamp_sandbox("highrise", scale=0.05, rate_limit="2/1")
    token = base64.b64encode(f"{sb.credentials['token']}:X".encode()).decode()
    for _ in range(2):
        _get(f"{sb.url}/users.xml", {"Authorization": f"Basic {token}"})
    assert sb.stats()["requests"] == 2
    sb.set_account_inactive()
    with pytest.raises(urllib.error.HTTPError) as caught:
        _get(f"{sb.url}/users.xml", {"Authorization": f"Basic {token}"})
    assert caught.value.code == 404
    assert caught.value.headers["Reason"] == "Account Inactive"
    sb.reset()
    assert sb.stats()["requests"] == 0
