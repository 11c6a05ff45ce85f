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


async def test_client_that_keeps_to_the_limits_is_never_throttled() -> None:
    async with serve("highrise", scale=0.05, rate_limit="10/1") as sb:
        async with sb.client() as hr:
            await asyncio.gather(*(hr.users.list().__anext__() for _ in range(16)))
        stats = sb.stats()
        assert stats["throttled"] == 0
        assert stats["by_endpoint"]["users.list"] == 16
        assert stats["worst_window"]["default"]["worst"] <= 10


async def test_client_over_the_limit_sees_503_and_retries_after() -> None:
    from aiocamp.core import Limit, MemoryLimiterBackend, RateLimit

    fast = RateLimit(backend=MemoryLimiterBackend(), limits={"default": Limit(1000, 1.0)})
    async with serve("highrise", scale=0.05, rate_limit="5/1") as sb:
        async with sb.client(rate_limit=fast) as hr:
            results = await asyncio.gather(*(hr.users.me() for _ in range(8)))
            assert len(results) == 8
            assert hr.session.stats.throttled >= 1
        stats = sb.stats()
        assert stats["throttled"] >= 1
        assert stats["by_status"]["503"] == stats["throttled"]
        assert stats["worst_window"]["default"]["worst"] == 5


async def test_highrise_since_narrows_a_list_to_recent_changes() -> None:
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        people = sb.state.all("Person")
        cutoff = sorted(p["updated_at"] for p in people)[len(people) // 2]
        since = cutoff.strftime("%Y%m%d%H%M%S")
        async with http.get(f"{sb.url}/people.xml?since={since}", headers=basic(sb.token)) as r:
            body = await r.text()
        expected = sum(1 for p in people if p["updated_at"] >= cutoff.replace(microsecond=0))
        assert body.count("<person>") == expected
        assert 0 < expected < len(people)
        async with http.get(f"{sb.url}/people.xml?since=yesterday", headers=basic(sb.token)) as r:
            assert r.status == 400


async def test_basecamp4_records_know_their_project_and_parent() -> None:
    async with serve("basecamp4", scale=0.05) as sb:
        async with sb.client() as bc:
            project = await anext(aiter(bc.projects.list()))
            todoset_id = next(t.id for t in project.dock or [] if t.name == "todoset")
            todolist = await anext(aiter(bc.todolists.list(todoset_id)))
            todo = await anext(aiter(bc.todos.list(todolist.id)))
            created = await bc.todos.create(todolist.id, content="Filed correctly")
        for record in (todolist, todo, created):
            assert record.bucket is not None
            assert record.bucket.id == project.id
        assert todolist.parent is not None
        assert todolist.parent.id == todoset_id
        assert todo.parent is not None
        assert todo.parent.id == todolist.id
        assert created.parent is not None
        assert created.parent.id == todolist.id


async def test_location_only_creates_when_the_product_says_so(monkeypatch) -> None:
    from aiocamp.sandbox._conventions import HighriseConventions

    monkeypatch.setattr(HighriseConventions, "create_returns_body", False)
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        headers = {**basic(sb.token), "Content-Type": "application/xml"}
        body = b"<kase><name>Only a Location</name></kase>"
        async with http.post(f"{sb.url}/kases.xml", data=body, headers=headers) as r:
            assert r.status == 201
            assert await r.read() == b""
            location = r.headers["Location"]
        async with http.get(location, headers=basic(sb.token)) as r:
            assert "<name>Only a Location</name>" in await r.text()


class RecordingOAuth:
    """A minimal OAuth extension: one extra route and one accepted token."""

    def __init__(self) -> None:
        self.installed_with: bool | None = None
        self.resets = 0

    def install(self, app, *, authorization_json: bool = True) -> None:  # type: ignore[no-untyped-def]
        from aiohttp import web

        async def token(request: web.Request) -> web.Response:
            return web.json_response({"access_token": "issued-by-oauth"})

        self.installed_with = authorization_json
        app.router.add_post("/authorization/token", token)

    def check_bearer(self, request) -> bool:  # type: ignore[no-untyped-def]
        return request.headers.get("Authorization") == "Bearer issued-by-oauth"

    def reset(self) -> None:
        self.resets += 1

    def stats(self) -> dict[str, int]:
        return {"resets": self.resets}


async def test_an_oauth_server_shares_the_host_and_its_tokens_are_accepted() -> None:
    oauth = RecordingOAuth()
    async with serve("basecamp4", scale=0.05, oauth=oauth) as sb, aiohttp.ClientSession() as http:
        assert oauth.installed_with is False  # Basecamp 4 serves authorization.json itself
        async with http.post(f"{sb.url}/authorization/token") as r:
            token = (await r.json())["access_token"]
        async with http.get(f"{sb.api_url}/projects.json", headers=bearer(token)) as r:
            assert r.status == 200
        async with http.get(f"{sb.api_url}/projects.json", headers=bearer("other")) as r:
            assert r.status == 401
        sb.reset()
        assert sb.stats()["oauth"] == {"resets": 2}


async def test_highrise_deleting_a_person_logs_a_deletion() -> None:
    async with serve("highrise", scale=0.05) as sb:
        async with sb.client() as hr:
            before = [d.id async for d in hr.deletions.list()]
            person = await hr.people.create(first_name="Short-lived")
            await hr.people.delete(person.id)
            after = [d async for d in hr.deletions.list()]
        assert len(after) == len(before) + 1
        assert (after[-1].id, after[-1].kind) == (person.id, "Person")
        assert after[-1].deleted_at is not None


async def test_highrise_parties_are_the_people_and_companies() -> None:
    async with serve("highrise", scale=0.05) as sb:
        async with sb.client() as hr:
            parties = [p async for p in hr.parties.search()]
        people = {p["id"] for p in sb.state.all("Person")}
        companies = {c["id"] for c in sb.state.all("Company")}
        assert {p.id for p in parties} == people | companies
        kinds = {p.id: p.kind for p in parties}
        assert all(kinds[i] == "Person" for i in people)
        assert all(kinds[i] == "Company" for i in companies)
        assert "Party" not in sb.state.counts()


async def test_basecamp4_scenario_crud_304_and_throttling_through_the_client() -> None:
    from aiocamp.core import Limit, MemoryLimiterBackend, RateLimit
    from aiocamp.errors import NotFound

    async with serve("basecamp4", scale=0.05, rate_limit="4/1") as sb:
        fast = RateLimit(backend=MemoryLimiterBackend(), limits={"default": Limit(1000, 1.0)})
        async with sb.client(rate_limit=fast) as bc:
            created = await bc.projects.create(name="Launch 🚀", description="<div>Plan</div>")
            assert created.status == "active"
            assert created.url == f"{sb.api_url}/projects/{created.id}.json"
            first = await bc.projects.get(created.id)
            again = await bc.projects.get(created.id)  # answered 304, body from the cache
            assert first == again
            assert bc.session.stats.not_modified == 1
            updated = await bc.projects.update(created.id, name="Launched")
            assert updated.name == "Launched"
            assert (await bc.projects.get(created.id)).name == "Launched"
            await bc.projects.trash(created.id)
            assert (await bc.projects.get(created.id)).status == "trashed"
            active = {p.id async for p in bc.projects.list()}
            trashed = {p.id async for p in bc.projects.list(status="trashed")}
            assert created.id not in active
            assert created.id in trashed
            with pytest.raises(NotFound):
                await bc.projects.get(created.id + 10_000_000)
            assert bc.session.stats.throttled >= 1  # 4 per second: 429 + Retry-After, retried
        stats = sb.stats()
        assert stats["throttled"] == stats["by_status"]["429"] >= 1
        assert stats["worst_window"]["default"]["worst"] == 4
        assert (stats["records_created"], stats["records_updated"], stats["records_deleted"]) == (
            1,
            1,
            1,
        )


async def test_basecamp4_rejects_bad_json_and_missing_fields_with_json_errors() -> None:
    async with serve("basecamp4", scale=0.05) as sb, aiohttp.ClientSession() as http:
        headers = {**bearer(sb.access_token), "Content-Type": "application/json"}
        url = f"{sb.api_url}/projects.json"
        async with http.post(url, data=b'{"name": "unterminated', headers=headers) as r:
            assert r.status == 400
            assert "error" in await r.json()
        async with http.post(url, data=b'{"description": "no name"}', headers=headers) as r:
            assert r.status == 422
            assert (await r.json())["error"] == "name can't be blank"
        async with http.post(url, data=b'{"name": ["not", "text"]}', headers=headers) as r:
            assert r.status == 422
        assert sb.state.counts()["Project"] == sum(1 for _ in sb.state.all("Project"))
        assert sb.stats()["records_created"] == 0


async def test_id_less_resources_do_not_depend_on_what_was_read_before() -> None:
    async def read(order: list[str]) -> dict[str, bytes]:
        out = {}
        async with serve("highrise", seed=2, scale=0.05) as sb, aiohttp.ClientSession() as http:
            for path in order:
                async with http.get(sb.url + path, headers=basic(sb.token)) as r:
                    out[path] = await r.read()
        return out

    paths = ["/account.xml", "/me.xml", "/deals/new.xml"]
    assert await read(paths) == await read(paths[::-1])


async def test_head_answers_like_get_without_a_body() -> None:
    async with serve("highrise", scale=0.05) as sb, aiohttp.ClientSession() as http:
        async with http.get(f"{sb.url}/users.xml", headers=basic(sb.token)) as r:
            etag, length = r.headers["ETag"], len(await r.read())
        async with http.head(f"{sb.url}/users.xml", headers=basic(sb.token)) as r:
            assert r.status == 200
            assert r.headers["ETag"] == etag
            assert int(r.headers["Content-Length"]) == length
            assert await r.read() == b""


async def test_limits_default_to_the_documented_numbers_and_can_be_overridden() -> None:
    async with serve("highrise", scale=0.05) as sb:
        # README "Rate limiting": 150 per 5 s; email search 2 per 10 s; recordings 10 per 10 s
        assert sb.limits == {
            "default": (150, 5.0),
            "email_search": (2, 10.0),
            "recordings": (10, 10.0),
        }
    async with serve("basecamp4", scale=0.05) as sb:
        assert sb.limits == {"default": (50, 10.0)}  # README: about 50 per 10 s
    async with serve("basecamp4", scale=0.05, rate_limit="20/1") as sb:
        assert sb.limits == {"default": (20, 1.0)}
    async with serve("highrise", scale=0.05, rate_limit="off") as sb:
        assert sb.limits == {}
        assert sb.stats()["worst_window"] == {}
