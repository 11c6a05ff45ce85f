"""Harvest's dialect over real HTTP on loopback: one client class speaking JSON (default) or
XML, JSON that mirrors the XML of the docs, RFC 822 dates, a state-changing GET, and the
throttle (100 calls per 15 s, 503 + Retry-After, a call during the block extends it)."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from aiocamp.core import PageIterator, RateLimit
from aiocamp.core._codecs import CODECS
from aiocamp.core._runtime import xml_items
from aiocamp.errors import ConfigError, HTTPError, SpecError
from aiocamp.harvest import Harvest
from codegen.loader import load

from .generated_support import endpoints, mirror_json, spec, unknown_fields
from .helpers import FIXTURES, ROOT

UA = "aiocamp-tests (dev@example.com)"


def harvest(base_url: str, fmt: str | None = None, **kw: Any) -> Harvest:
    kw.setdefault("rate_limit", None)
    if fmt is not None:
        kw["format"] = fmt
    return Harvest(base_url=base_url, user_agent=UA, username="me@example.com", password="pw", **kw)


def _response_cases() -> list[Any]:
    return [
        pytest.param(resource, e, id=f"{resource}.{e.name}")
        for resource, e in endpoints("harvest")
        if e.examples.get("response")
    ]


def _as_json(e: Any, xml: Any) -> Any:
    """The documented XML reply as the JSON Harvest sends for it: the same structure,
    underscores for dashes, each list record wrapped in its element name."""
    if e.is_list:
        tag = spec("harvest").model(e.result.item.name).xml_tag
        return [mirror_json({tag: record}, e.xml_dashes) for record in xml_items(xml)]
    return mirror_json(xml, e.xml_dashes)


async def _call(client: Harvest, resource: str, e: Any) -> Any:
    args: dict[str, Any] = {p.name: 7 for p in e.path_params}
    named = [*e.query, *(e.body.params if e.body is not None else ())]
    for p in named:
        if p.required:
            args[p.name] = date(2024, 1, 2) if p.type.name == "date" else 7
    result = getattr(getattr(client, resource), e.name)(**args)
    if isinstance(result, PageIterator):
        return [x async for x in result]
    return await result


@pytest.mark.parametrize(("resource", "e"), _response_cases())
async def test_every_documented_reply_decodes_the_same_from_xml_and_from_json(
    serve, resource, e
) -> None:
    """Each example reply of the docs, served as XML and as its JSON mirror, decodes into
    equal models with no field the spec lacks: the two formats lose nothing."""
    raw = (FIXTURES / "harvest" / e.examples["response"]).read_bytes()
    as_json = json.dumps(_as_json(e, CODECS["xml"].decode(raw)), default=str).encode()
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Accept"])
        if request.headers["Accept"] == "application/xml":
            return web.Response(body=raw, content_type="application/xml")
        return web.Response(body=as_json, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    url = str((await serve(app)).make_url(""))
    async with harvest(url, "xml") as hx, harvest(url) as hj:
        from_xml = await _call(hx, resource, e)
        from_json = await _call(hj, resource, e)
    assert seen == ["application/xml", "application/json"]
    assert from_xml == from_json
    assert from_xml  # a record, or a non-empty list
    assert unknown_fields(from_xml) == []
    assert unknown_fields(from_json) == []


async def test_json_is_the_default_and_xml_is_chosen_per_client(serve) -> None:
    got: list[tuple[str, str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        got.append(
            (request.headers["Accept"], request.headers["Content-Type"], await request.read())
        )
        return web.Response(status=201, headers={"Location": "/clients/9"})

    app = web.Application()
    app.router.add_route("POST", "/daily/add", handler)
    app.router.add_route("POST", "/clients/{id}/toggle", handler)
    url = str((await serve(app)).make_url(""))
    day = date(2006, 10, 17)
    async with harvest(url) as hj, harvest(url, "xml") as hx:
        await hj.clients.toggle(9)
        await hx.clients.toggle(9)
        with pytest.raises(Exception):  # noqa: B017, PT011 - the empty reply is not a Timer
            await hj.daily.add(project_id=3, task_id=14, spent_at=day, hours=" ")
        with pytest.raises(Exception):  # noqa: B017, PT011
            await hx.daily.add(project_id=3, task_id=14, spent_at=day, hours=" ")
    assert [a for a, _, _ in got] == ["application/json", "application/xml"] * 2
    assert got[0][1].startswith("application/json")
    assert got[1][1].startswith("application/xml")
    # POST /daily/add: the <request> wrapper in XML only (Time Tracking.md, special note).
    assert json.loads(got[2][2]) == {
        "project_id": 3,
        "task_id": 14,
        "spent_at": "2006-10-17",
        "hours": " ",
    }
    xml = CODECS["xml"].decode(got[3][2])
    assert list(xml) == ["request"]
    assert xml["request"]["spent_at"] == day


def test_a_format_the_product_does_not_offer_is_refused() -> None:
    with pytest.raises(ConfigError, match="format must be one of json, xml"):
        harvest("https://acme.harvestapp.com", "yaml")


async def test_json_replies_with_dashed_xml_names_use_underscores(serve) -> None:
    body = {"client": {"name": "SuprCorp", "highrise_id": 568902, "cache_version": 0}}

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/clients/{id}", handler)
    async with harvest(str((await serve(app)).make_url(""))) as h:
        client = await h.clients.get(11072)
    assert (client.name, client.highrise_id, client.cache_version) == ("SuprCorp", 568902, 0)
    assert client.extra == {}


RFC822_ENTRY = {
    "id": 195168,
    "spent_at": "Wed, 18 Oct 2006",
    "created_at": "Thu, 17 Nov 2011 10:19:57 +0000",
    "timer_started_at": "Wed, 18 Oct 2006 09:53:06 -0000",
    "updated_at": "not a date",
}


async def test_rfc822_date_times_and_dates_decode_and_a_bad_one_is_kept(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"timer": {"day_entry": RFC822_ENTRY}})

    app = web.Application()
    app.router.add_get("/daily/show/{id}", handler)
    async with harvest(str((await serve(app)).make_url(""))) as h:
        timer = await h.daily.show(195168)
    entry = timer.day_entry
    assert entry.spent_at == date(2006, 10, 18)
    assert entry.created_at == datetime(2011, 11, 17, 10, 19, 57, tzinfo=UTC)
    assert entry.timer_started_at == datetime(2006, 10, 18, 9, 53, 6, tzinfo=UTC)
    # Drift: a value that does not parse is kept, not lost.
    assert entry.updated_at is None
    assert entry.extra == {"updated_at": "not a date"}
    assert entry.to_wire()["updated_at"] == "not a date"


async def test_rfc822_dates_of_the_docs_decode_in_xml(serve) -> None:
    raw = (FIXTURES / "harvest" / "daily" / "for_day.response.xml").read_bytes()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=raw, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/daily/{day}/{year}", handler)
    async with harvest(str((await serve(app)).make_url("")), "xml") as h:
        daily = await h.daily.for_day(291, 2006)
    assert daily.for_day == date(2006, 10, 18)
    (entry,) = daily.day_entries
    assert entry.created_at == datetime(2011, 11, 17, 10, 19, 57, tzinfo=UTC)
    assert entry.project_id == 1234567  # untyped in the docs' XML
    assert daily.projects[0].tasks[0].name == "Security support"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_the_timer_toggle_is_neither_cached_nor_retried(serve, fmt) -> None:
    """GET /daily/timer/{id} starts or stops a timer: a revalidation could answer it from
    the cache (the timer would not move) and a retry could toggle it twice. GET
    /daily/show/{id} is the control: cached with its ETag, and retried after a 502."""
    seen: list[tuple[str, str | None]] = []
    fail_next = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("If-None-Match")))
        if fail_next["n"]:
            fail_next["n"] -= 1
            return web.Response(status=502)
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        body = (
            b"<timer><day_entry><id type='integer'>1</id></day_entry></timer>"
            if fmt == "xml"
            else b'{"timer": {"day_entry": {"id": 1}}}'
        )
        return web.Response(body=body, content_type=f"application/{fmt}", headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/daily/{kind}/{id}", handler)
    async with harvest(str((await serve(app)).make_url("")), fmt) as h:
        await h.daily.show(1)
        await h.daily.show(1)
        await h.daily.toggle_timer(1)
        await h.daily.toggle_timer(1)
        fail_next["n"] = 1
        await h.daily.show(1)  # retried once
        fail_next["n"] = 1
        with pytest.raises(HTTPError) as caught:
            await h.daily.toggle_timer(1)  # not retried
    assert caught.value.status == 502
    assert seen == [
        ("/daily/show/1", None),
        ("/daily/show/1", '"v1"'),
        ("/daily/timer/1", None),
        ("/daily/timer/1", None),
        ("/daily/show/1", '"v1"'),
        ("/daily/show/1", '"v1"'),
        ("/daily/timer/1", None),
    ]


async def test_a_throttled_client_makes_no_call_until_the_block_lifts(serve) -> None:
    """Harvest answers 503 + Retry-After once an account goes over its limit, and every call
    made during the block restarts it (README, Throttle Limit). The server below does just
    that; concurrent calls must all wait the block out without probing, then succeed."""
    block = {"until": 0.0, "extended": 0}
    arrivals: list[float] = []
    served = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        now = time.monotonic()
        arrivals.append(now)
        if now < block["until"]:
            block["extended"] += 1
            block["until"] = now + 1.0
            return web.Response(status=503, headers={"Retry-After": "1"})
        served["n"] += 1
        if served["n"] == 3:  # the third call goes over the limit
            block["until"] = now + 1.0
            return web.Response(status=503, headers={"Retry-After": "1"})
        return web.json_response({"client": {"id": 1, "name": "SuprCorp"}})

    app = web.Application()
    app.router.add_get("/clients/{id}", handler)
    url = str((await serve(app)).make_url(""))
    async with harvest(url, rate_limit=RateLimit()) as h:
        await h.clients.get(1)
        await h.clients.get(1)
        started = time.monotonic()
        first = asyncio.create_task(h.clients.get(1))  # hits the block
        await asyncio.sleep(0.05)
        others = [asyncio.create_task(h.clients.get(1)) for _ in range(5)]
        results = await asyncio.gather(first, *others)
    assert [c.name for c in results] == ["SuprCorp"] * 6
    assert block["extended"] == 0, "a call probed the server during the block"
    assert len(arrivals) == 2 + 1 + 6  # the blocked call is sent again once, after the block
    assert min(arrivals[3:]) - started >= 0.95


def test_the_documented_limit_is_100_calls_per_15_seconds() -> None:
    from aiocamp.harvest import PRODUCT

    assert PRODUCT.limits["default"].requests == 100
    assert PRODUCT.limits["default"].per_seconds == 15


def test_secrets_stay_out_of_the_client_repr() -> None:
    h = harvest("https://acme.harvestapp.com")
    b = Harvest("acme", user_agent=UA, access_token="tok-SECRET")
    assert "pw" not in repr(h)
    assert "me@example.com:pw" not in repr(h.session)
    assert "tok-SECRET" not in repr(b)
    assert "tok-SECRET" not in repr(b.session)
    assert b.session.base_url == "https://acme.harvestapp.com"


# -- the spec keys Harvest added ------------------------------------------------------------


def _copy_specs(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    shutil.copytree(ROOT / "specs" / "harvest", root / "harvest")
    return root


def _edit(root: Path, file: str, change: Any) -> None:
    path = root / "harvest" / file
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("file", "change", "where"),
    [
        (
            "clients.yaml",
            lambda d: d["endpoints"]["create"].update(cache=False),
            "endpoints.create.cache",
        ),
        (
            "_product.yaml",
            lambda d: d.update(formats=["json"]),
            "formats",
        ),
        (
            "_product.yaml",
            lambda d: d.update(json_mirrors_xml=True, formats=["xml"]),
            "json_mirrors_xml",
        ),
        (
            "clients.yaml",
            lambda d: d["endpoints"]["create"]["body"].update(json_root=False),
            "endpoints.create.body.json_root",
        ),
    ],
)
def test_the_new_keys_are_checked(tmp_path: Path, file: str, change: Any, where: str) -> None:
    root = _copy_specs(tmp_path)
    _edit(root, file, change)
    with pytest.raises(SpecError) as caught:
        load(root, "harvest")
    assert where in str(caught.value)


def test_resource_wire_case_names_daily_fields_with_underscores(tmp_path: Path) -> None:
    product = load(ROOT / "specs", "harvest")
    daily = next(r for r in product.resources if r.name == "daily")
    clients = next(r for r in product.resources if r.name == "clients")
    assert daily.wire_case == "snake"
    assert clients.wire_case == "kebab"
    assert {f.wire for f in product.model("DayEntry").fields} >= {"spent_at", "timer_started_at"}
    assert "highrise-id" in {f.wire for f in product.model("Client").fields}
    assert not any(e.xml_dashes for e in daily.endpoints)
    assert all(e.xml_dashes for e in clients.endpoints)
    root = _copy_specs(tmp_path)
    _edit(root, "daily.yaml", lambda d: d.pop("wire_case"))
    changed = load(root, "harvest")
    assert "spent-at" in {f.wire for f in changed.model("DayEntry").fields}


async def test_json_daily_with_plain_arrays_decodes(serve) -> None:
    """Harvest's JSON gives the day's entries and projects as plain arrays (the XML has
    untyped containers): both shapes decode into the same lists."""
    body = {
        "for_day": "2006-10-18",
        "day_entries": [{"id": 195168, "hours": 2.06, "spent_at": "2006-10-18"}],
        "projects": [{"id": 3, "name": "Click and Type", "tasks": [{"id": 14, "name": "QA"}]}],
    }

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/daily", handler)
    async with harvest(str((await serve(app)).make_url(""))) as h:
        daily = await h.daily.today()
    assert daily.for_day == date(2006, 10, 18)
    assert [(e.id, e.hours) for e in daily.day_entries] == [(195168, 2.06)]
    assert [t.name for t in daily.projects[0].tasks] == ["QA"]
    assert daily.extra == {}


async def test_the_sandbox_serves_harvest_in_json_and_in_xml() -> None:
    """The sandbox serves the docs' XML and translates JSON both ways (JSON mirrors XML):
    the two clients see the same records, and a JSON create is readable in XML."""
    from aiocamp.sandbox import serve as sandbox

    async with sandbox("harvest", seed=3, scale=0.2, rate_limit="off") as sb:  # noqa: SIM117 - sb.client() needs sb
        async with sb.client() as hj, sb.client(format="xml") as hx:
            json_clients = [c async for c in hj.clients.list()]
            xml_clients = [c async for c in hx.clients.list()]
            assert json_clients
            assert [(c.id, c.name) for c in json_clients] == [(c.id, c.name) for c in xml_clients]
            made = await hj.clients.create(name="Company LLC", currency="Euro - EUR")
            again = await hx.clients.get(made.id)
            assert (again.name, again.currency) == ("Company LLC", "Euro - EUR")
            project = await hj.projects.create(name="SuprGlu", client_id=made.id)
            # The body goes without its <request> wrapper in JSON and is accepted (201).
            timer = await hj.daily.add(
                project_id=project.id, task_id=1, spent_at=date(2024, 1, 2), notes="api"
            )
            assert type(timer).__name__ == "Timer"
            assert sb.credentials["username"] == "sandbox"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_the_receipt_image_comes_back_as_its_bytes(serve, fmt) -> None:
    """GET /expenses/{id}/receipt answers the image itself: returned undecoded, and a
    revalidated (304) copy from the ETag cache is the same bytes."""
    image = b"\xff\xd8\xff\xe0JFIF-receipt-\x00\x01"
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"r1"':
            return web.Response(status=304, headers={"ETag": '"r1"'})
        return web.Response(body=image, content_type="image/jpeg", headers={"ETag": '"r1"'})

    app = web.Application()
    app.router.add_get("/expenses/{id}/receipt", handler)
    async with harvest(str((await serve(app)).make_url("")), fmt) as h:
        first = await h.expenses.get_receipt(234997)
        again = await h.expenses.get_receipt(234997)
    assert first == image
    assert again == image
    assert seen == [None, '"r1"']


def test_bytes_is_a_result_type_only(tmp_path: Path) -> None:
    root = _copy_specs(tmp_path)
    _edit(root, "clients.yaml", lambda d: d["models"]["Client"]["fields"].update(logo="bytes"))
    with pytest.raises(SpecError) as caught:
        load(root, "harvest")
    assert "models.Client.fields.logo.type" in str(caught.value)
