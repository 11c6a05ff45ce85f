"""`aiocamp export` with the token `aiocamp login` stored (issue 14), against the sandbox."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp

from aiocamp.oauth import FileTokenStore, login
from aiocamp.sandbox import serve
from aiocamp.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

from .oauth_support import read_store, subprocess_env


async def test_export_uses_the_stored_login_when_no_token_is_given(tmp_path):
    store = FileTokenStore(tmp_path / "tokens.json")
    out = tmp_path / "out"
    async with serve("basecamp4", rate_limit="off", scale=0.05) as sb:
        urls: asyncio.Queue[str] = asyncio.Queue()
        task = asyncio.create_task(
            login(
                "basecamp4",
                client_id=SANDBOX_CLIENT_ID,
                client_secret=SANDBOX_CLIENT_SECRET,
                store=store,
                server_url=sb.url,
                on_url=urls.put_nowait,
                wait=10,
            )
        )
        url = await asyncio.wait_for(urls.get(), 5)
        async with aiohttp.ClientSession() as http, http.get(url) as reply:
            assert reply.status == 200
        await task
        # Expire the stored token: the export must refresh it (once) before its first call.
        data = read_store(store.path)
        data["grants"]["launchpad"]["token"]["expires_at"] = 0
        store.path.write_text(json.dumps(data))
        env = {
            k: v
            for k, v in subprocess_env(AIOCAMP_TOKEN_FILE=str(store.path)).items()
            if k != "AIOCAMP_BASECAMP4_TOKEN"
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aiocamp",
            "export",
            "basecamp4",
            "--out",
            str(out),
            "--resources",
            "projects",
            "--progress",
            "off",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, stderr.decode()[-2000:]
        project_ids = set(sb.state.ids("Project"))
        oauth = sb.stats()["oauth"]
    exported = {
        json.loads(line)["id"] for line in (out / "projects.jsonl").read_text().splitlines()
    }
    assert exported == project_ids
    assert oauth["refreshes"] == 1
    grant = read_store(store.path)["grants"]["launchpad"]
    secrets = [
        grant["token"]["access_token"],
        grant["token"]["refresh_token"],
        SANDBOX_CLIENT_SECRET,
    ]
    texts = [stdout.decode(), stderr.decode()] + [
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text


async def test_export_without_token_or_login_says_how_to_log_in(tmp_path):
    env = {
        k: v
        for k, v in subprocess_env(AIOCAMP_TOKEN_FILE=str(tmp_path / "none.json")).items()
        if k != "AIOCAMP_BASECAMP4_TOKEN"
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiocamp",
        "export",
        "basecamp4",
        "--out",
        str(tmp_path / "o"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode != 0
    assert "aiocamp login basecamp4" in stderr.decode()
    assert not (tmp_path / "none.json").exists()
