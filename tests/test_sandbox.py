"""The sandbox over real HTTP: the generated clients and raw requests against serve()."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest

from aiocamp.errors import NotFound, Unauthorized
from aiocamp.sandbox import serve

UA = {"User-Agent": "sandbox-tests (dev@example.com)"}


def basic(token: str, password: str = "X") -> dict[str, str]:
    value = base64.b64encode(f"{token}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}", **UA}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **UA}


# -- Highrise --------------------------------------------------------------------------------


async def test_highrise_people_page_by_500_to_the_end() -> None:
    async with serve("highrise", scale=0.05, counts={"Person": 1100}) as sb:
        async with sb.client() as hr:
            it = hr.people.list()
            ids = [p.id async for p in it]
        assert len(ids) == 1100 == len(set(ids))
        assert it.pages_fetched == 3  # 500 + 500 + 100, as people.md pages by 500
        assert sb.stats()["by_endpoint"]["people.list"] == 3


async def test_highrise_crud_persists_in_memory() -> None:
    async with serve("highrise", scale=0.05) as sb:
        before = sb.state.counts()["Person"]
        async with sb.client() as hr:
            created = await hr.people.create(first_name="Zoë", last_name="Ångström")
            assert created.id is not None
            assert created.first_name == "Zoë"
            assert sb.state.counts()["Person"] == before + 1
            fetched = await hr.people.get(created.id)
            assert (fetched.first_name, fetched.last_name) == ("Zoë", "Ångström")
            await hr.people.update(created.id, last_name="Berg")
            assert (await hr.people.get(created.id)).last_name == "Berg"
            await hr.people.delete(created.id)
            with pytest.raises(NotFound):
                await hr.people.get(created.id)
        stats = sb.stats()
        assert (stats["records_created"], stats["records_updated"]) == (1, 1)
        assert stats["records_deleted"] == 1


async def test_highrise_create_answers_201_with_location_and_xml() -> None:
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        headers = {**basic(sb.token), "Content-Type": "application/xml"}
        body = b"<kase><name>Important matters</name></kase>"
        async with http.post(f"{sb.url}/kases.xml", data=body, headers=headers) as r:
            assert r.status == 201
            text = await r.text()
            assert r.headers["Location"].startswith(f"{sb.url}/kases/")
        assert "<name>Important matters</name>" in text
        assert '<id type="integer">' in text


async def test_highrise_wrong_token_is_401() -> None:
    async with serve("highrise", scale=0.05) as sb, sb.client(token="not-the-token") as hr:
        with pytest.raises(Unauthorized):
            await hr.people.get(1001)


async def test_highrise_password_login_only_for_me() -> None:
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        user, password = sb.login
        async with http.get(f"{sb.url}/me.xml", headers=basic(user, password)) as r:
            assert r.status == 200
        async with http.get(f"{sb.url}/people.xml", headers=basic(user, password)) as r:
            assert r.status == 401


async def test_highrise_missing_required_field_is_422_with_errors_xml() -> None:
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        headers = {**basic(sb.token), "Content-Type": "application/xml"}
        body = b"<person><last-name>Only</last-name></person>"
        async with http.post(f"{sb.url}/people.xml", data=body, headers=headers) as r:
            assert r.status == 422
            assert "<error>first-name can't be blank</error>" in await r.text()


async def test_highrise_throttles_with_503_and_retry_after() -> None:
    async with serve("highrise", scale=0.05, rate_limit="5/1") as sb:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(8):
                async with http.get(f"{sb.url}/users.xml", headers=basic(sb.token)) as r:
                    statuses.append(r.status)
                    if r.status == 503:
                        assert r.headers["Retry-After"] == "1"
        assert statuses == [200] * 5 + [503] * 3
        stats = sb.stats()
        assert stats["throttled"] == 3
        assert stats["worst_window"]["default"]["worst"] == 5


async def test_highrise_etag_304_seen_by_the_client_and_changes_on_update() -> None:
    async with serve("highrise", scale=0.05) as sb:
        async with sb.client() as hr:
            pid = sb.state.all("Person")[0]["id"]
            first = await hr.people.get(pid)
            again = await hr.people.get(pid)
            assert first == again
            assert hr.session.stats.not_modified == 1
            await hr.people.update(pid, title="Chief tester")
            changed = await hr.people.get(pid)
            assert changed.title == "Chief tester"
            assert hr.session.stats.not_modified == 1
        assert sb.stats()["not_modified"] == 1


# -- Basecamp 4 ------------------------------------------------------------------------------


async def test_basecamp4_geared_link_paging_with_total_count() -> None:
    async with serve("basecamp4", scale=0.05, counts={"Project": 120}) as sb:
        async with aiohttp.ClientSession() as http:
            sizes = []
            url: str | None = f"{sb.api_url}/projects.json"
            while url:
                async with http.get(url, headers=bearer(sb.access_token)) as r:
                    assert r.status == 200
                    assert r.headers["X-Total-Count"] == "120"
                    sizes.append(len(await r.json()))
                    url = r.links.get("next", {}).get("url")  # type: ignore[assignment]
        assert sizes == [15, 30, 50, 25]
        async with sb.client() as bc:
            assert len([p async for p in bc.projects.list()]) == 120


async def test_basecamp4_dock_leads_to_todolists_and_todos() -> None:
    async with serve("basecamp4", scale=0.05) as sb, sb.client() as bc:
        project = await anext(aiter(bc.projects.list()))
        tools = {t.name: t for t in project.dock or []}
        todoset = await bc.todosets.get(tools["todoset"].id)
        lists = [tl async for tl in bc.todolists.list(todoset.id)]
        assert lists
        todos = [t async for t in bc.todos.list(lists[0].id)]
        created = await bc.todos.create(lists[0].id, content="Ship the sandbox")
        after = [t async for t in bc.todos.list(lists[0].id)]
        assert len(after) == len(todos) + 1
        assert created.id in {t.id for t in after}
        assert created.content == "Ship the sandbox"


async def test_basecamp4_needs_user_agent_and_content_type() -> None:
    async with serve("basecamp4", scale=0.05) as sb, aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bearer {sb.access_token}"}
        no_ua = ["User-Agent"]
        async with http.get(
            f"{sb.api_url}/projects.json", headers=auth, skip_auto_headers=no_ua
        ) as r:
            assert r.status == 400
        async with http.post(
            f"{sb.api_url}/projects.json",
            data=b'{"name": "x"}',
            headers={**bearer(sb.access_token), "Content-Type": ""},
            skip_auto_headers=["Content-Type"],
        ) as r:
            assert r.status == 415
        async with http.get(f"{sb.api_url}/projects.json", headers=bearer("wrong")) as r:
            assert r.status == 401
        async with http.get(f"{sb.url}/123/projects.json", headers=bearer(sb.access_token)) as r:
            assert r.status == 404


async def test_basecamp4_throttles_with_429() -> None:
    async with serve("basecamp4", scale=0.05, rate_limit="3/1") as sb:
        async with aiohttp.ClientSession() as http:
            url = f"{sb.api_url}/projects.json"
            replies = await asyncio.gather(
                *(http.get(url, headers=bearer(sb.access_token)) for _ in range(5))
            )
            statuses = sorted(r.status for r in replies)
            for r in replies:
                r.release()
        assert statuses == [200, 200, 200, 429, 429]
        assert sb.stats()["worst_window"]["default"]["worst"] == 3


async def test_basecamp4_inactive_account_is_404_with_reason() -> None:
    async with serve("basecamp4", scale=0.05) as sb:
        sb.set_account_inactive()
        async with aiohttp.ClientSession() as http:
            url = f"{sb.api_url}/projects.json"
            async with http.get(url, headers=bearer(sb.access_token)) as r:
                assert r.status == 404
                assert r.headers["Reason"] == "Account Inactive"


async def test_basecamp4_launchpad_authorization_lists_the_account() -> None:
    async with serve("basecamp4", scale=0.05) as sb:
        async with sb.client() as bc:
            auth = await bc.authorization.get()
        assert auth.accounts is not None
        assert [a.id for a in auth.accounts] == [999999999]


async def test_stats_and_reset_over_http() -> None:
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        async with sb.client() as hr:
            await hr.people.create(first_name="Temp")
        async with http.get(f"{sb.url}/__sandbox/stats") as r:
            stats = await r.json()
        assert stats["records_created"] == 1
        assert stats["requests"] == 1
        async with http.post(f"{sb.url}/__sandbox/reset") as r:
            assert r.status == 200
        assert sb.stats()["records_created"] == 0
        assert sb.stats()["requests"] == 0


async def test_same_seed_same_data() -> None:
    async with (
        serve("highrise", seed=7, scale=0.05) as a,
        serve("highrise", seed=7, scale=0.05) as b,
    ):
        assert a.state.counts() == b.state.counts()
        assert a.state.all("Person")[:5] == b.state.all("Person")[:5]
        assert a.token == b.token


async def test_list_etag_and_last_modified_change_when_a_record_changes() -> None:
    async with serve("basecamp4", scale=0.05) as sb, aiohttp.ClientSession() as http:
        url = f"{sb.api_url}/projects.json"
        headers = bearer(sb.access_token)
        async with http.get(url, headers=headers) as r:
            etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
        async with http.get(url, headers={**headers, "If-None-Match": etag}) as r:
            assert r.status == 304
            assert await r.read() == b""
        async with http.get(url, headers={**headers, "If-Modified-Since": modified}) as r:
            assert r.status == 304
        async with sb.client() as bc:
            await bc.projects.create(name="Brand new")
        async with http.get(url, headers={**headers, "If-None-Match": etag}) as r:
            assert r.status == 200
            assert r.headers["ETag"] != etag
        async with http.get(url, headers={**headers, "If-Modified-Since": modified}) as r:
            assert r.status == 200
            assert r.headers["Last-Modified"] != modified
        assert sb.stats()["not_modified"] == 2
