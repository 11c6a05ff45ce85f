"""The models' run-time wire codec: built once per class, lazy nested decoding, the drift
policy (issue 6.12), wire values kept as sent (6.13, 6.14, 6.17, 6.8)."""

from __future__ import annotations

import copy
import json
import linecache
import logging
import os
import pickle
import subprocess
import sys
import traceback
import weakref
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiocamp
from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.basecamp4.models import (
    Authorization,
    MyReadings,
    Person,
    ScheduleEntry,
    TimelineEventData,
    Todo,
    UpcomingScheduleEntry,
    Upload,
)
from aiocamp.core import _models
from aiocamp.core._codecs import CODECS
from aiocamp.core._models import WireDatetime, WireModel, codec_of, secret, wire
from aiocamp.highrise import Highrise
from aiocamp.highrise import models as hr_models

from .helpers import FIXTURES

UA = "aiocamp-tests (dev@example.com)"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
TODO = json.loads((FIXTURES / "basecamp4/todos/get.response.json").read_bytes())


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    aiocamp.reset_decode_stats()


def reply_with(body: bytes) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def client_for(serve, body: bytes) -> Basecamp4:
    server = await serve(reply_with(body))
    return Basecamp4(base_url=str(server.make_url("")), access_token="t", user_agent=UA)


# -- declarations and the built codec -------------------------------------------------------


class Gadget(WireModel):
    id: int | None = None
    label: str | None = wire("Label")
    parts: list[Gadget] | None = None
    key: str | None = secret()
    seen_at: datetime | None = None


def test_generated_models_are_declarations_without_codec_methods() -> None:
    for module in (hr_models, aiocamp.basecamp4.models):
        for name in module.__all__:
            cls = getattr(module, name)
            if isinstance(cls, type):
                assert "from_wire" not in cls.__dict__
                assert "to_wire" not in cls.__dict__


def test_a_codec_is_built_on_first_use_only_once() -> None:
    class Fresh(WireModel):
        id: int | None = None

    assert "_wire_codec_" not in Fresh.__dict__
    first = Fresh.from_wire({"id": 1})
    codec = Fresh.__dict__["_wire_codec_"]
    Fresh.from_wire({"id": 2})
    assert codec_of(Fresh) is codec
    assert first.id == 1


def test_wire_names_follow_the_case_convention_with_exceptions_declared() -> None:
    assert Gadget.WIRE_NAMES["label"] == "Label"
    assert Gadget.WIRE_NAMES["seen_at"] == "seen_at"
    assert hr_models.Person.WIRE_NAMES["first_name"] == "first-name"
    assert hr_models.Account.WIRE_NAMES["color_theme"] == "color_theme"


def test_tracebacks_through_a_built_decoder_show_its_source() -> None:
    with pytest.raises(errors.DecodeError) as info:
        Gadget.from_wire({"id": "seven"}, strict=True)
    text = "".join(traceback.format_exception(info.value))
    assert "<aiocamp wire codec" in text
    assert ".drift(v, strict)" in text
    filename = codec_of(Gadget).decode.__code__.co_filename
    assert linecache.getline(filename, 1).startswith("def decode(data, strict):")


def test_a_subclass_of_a_model_decodes_and_encodes_like_it() -> None:
    class MyTodo(Todo):
        def shout(self) -> str:
            return (self.title or "").upper()

    mine = MyTodo.from_wire(TODO)
    assert mine.shout() == TODO["title"].upper()
    assert isinstance(mine.creator, Person)
    assert mine.to_wire() == TODO
    assert MyTodo(title="x").to_wire() == {"title": "x"}


def test_anything_but_an_object_is_a_decode_error() -> None:
    for bad in ([1, 2], "text", None, 5):
        with pytest.raises(errors.DecodeError, match="expected an object for Todo"):
            Todo.from_wire(bad)  # type: ignore[arg-type]


def test_the_cattrs_converter_runs_the_same_codec() -> None:
    todo = _models.converter.structure(TODO, Todo)
    assert todo == Todo.from_wire(TODO)
    assert _models.converter.unstructure(todo) == todo.to_wire()


# -- lazy nested models ---------------------------------------------------------------------


def test_nested_models_are_decoded_on_first_read_and_kept() -> None:
    todo = Todo.from_wire(TODO)
    slot = codec_of(Todo)  # built
    assert slot is not None
    raw_slot = type(todo).__dict__["creator"].member.__get__(todo)
    assert raw_slot is _models.PENDING
    creator = todo.creator
    assert isinstance(creator, Person)
    assert creator.name == TODO["creator"]["name"]
    assert todo.creator is creator
    assert all(isinstance(p, Person) for p in todo.assignees or [])


def test_unread_nested_values_are_written_back_as_they_came() -> None:
    todo = Todo.from_wire(TODO)
    assert todo.to_wire() == TODO
    assert todo.to_wire()["creator"] is TODO["creator"]


def test_read_and_unread_records_compare_equal() -> None:
    read, unread = Todo.from_wire(TODO), Todo.from_wire(TODO)
    assert read.creator is not None
    assert read == unread
    assert read.to_wire() == unread.to_wire() == TODO


def test_a_nested_model_set_in_code_is_encoded() -> None:
    todo = Todo.from_wire(TODO)
    todo.creator = Person(id=5, name="Ann")
    assert todo.to_wire()["creator"] == {"id": 5, "name": "Ann"}


def test_strict_decodes_the_whole_tree_inside_the_call() -> None:
    record = json.loads(json.dumps(TODO))
    record["creator"]["created_at"] = "yesterday"
    with pytest.raises(errors.DecodeError, match=r"Person\.created_at"):
        Todo.from_wire(record, strict=True)
    lenient = Todo.from_wire(record)
    assert lenient.creator is not None
    assert lenient.creator.created_at is None
    assert lenient.creator.extra == {"created_at": "yesterday"}
    assert lenient.to_wire() == record


def test_extra_and_absent_are_worked_out_on_first_read() -> None:
    todo = Todo.from_wire({**TODO, "brand_new": 1})
    assert WireModel.__dict__["extra"].get(todo) is _models.PENDING
    assert todo.extra == {"brand_new": 1}
    assert todo.to_wire() == {**TODO, "brand_new": 1}
    assert "position" not in todo.to_wire()


def test_models_are_slotted_and_weakly_referable() -> None:
    todo = Todo.from_wire(TODO)
    with pytest.raises(AttributeError):
        todo.not_a_field = 1  # type: ignore[attr-defined]
    assert weakref.ref(todo)() is todo


def test_copies_pickles_and_evolve_see_decoded_values() -> None:
    todo = Todo.from_wire({**TODO, "brand_new": 1})
    for clone in (copy.copy(todo), copy.deepcopy(todo), pickle.loads(pickle.dumps(todo))):
        assert clone == todo
        assert clone.to_wire() == todo.to_wire()
    changed = attrs.evolve(todo, title="Other")
    assert changed.creator == todo.creator
    assert changed.extra == {"brand_new": 1}
    assert changed.to_wire() == {**TODO, "brand_new": 1, "title": "Other"}


# -- drift policy (issue 6.12) --------------------------------------------------------------


def test_a_mismatched_value_leaves_the_field_absent_and_keeps_the_raw_value() -> None:
    record = {**TODO, "comments_count": "many"}
    todo = Todo.from_wire(record)
    assert todo.comments_count is None
    assert todo.extra == {"comments_count": "many"}
    assert todo.title == TODO["title"]
    assert todo.to_wire() == record
    assert Todo.from_wire(todo.to_wire()) == todo


def test_strict_raises_a_decode_error_naming_the_field() -> None:
    with pytest.raises(errors.DecodeError, match=r"Todo.comments_count.: expected an integer"):
        Todo.from_wire({**TODO, "comments_count": "many"}, strict=True)


def test_drift_is_logged_once_per_field_and_counted(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="aiocamp.models")
    for value in ("many", "lots", [1]):
        Todo.from_wire({**TODO, "comments_count": value})
    Todo.from_wire({**TODO, "boosts_count": "few"})
    warnings = [r.getMessage() for r in caplog.records if r.name == "aiocamp.models"]
    assert len(warnings) == 2
    assert "Todo.comments_count" in warnings[0]
    assert "'many'" in warnings[0]
    assert aiocamp.decode_stats() == {"Todo.comments_count": 3, "Todo.boosts_count": 1}


def test_a_drifted_secret_is_never_logged_nor_in_the_strict_error(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="aiocamp.models")
    Authorization.from_wire({"access_token": 123456789})
    Gadget.from_wire({"key": ["s3cr3t-value"]})
    assert "123456789" not in caplog.text
    assert "s3cr3t-value" not in caplog.text
    assert "<redacted>" in caplog.text
    with pytest.raises(errors.DecodeError) as info:
        Gadget.from_wire({"key": ["s3cr3t-value"]}, strict=True)
    assert "s3cr3t-value" not in str(info.value)


def test_a_list_with_a_non_object_item_is_drift_of_the_whole_field() -> None:
    record = {**TODO, "assignees": [TODO["creator"], "someone"]}
    todo = Todo.from_wire(record)
    assert todo.assignees is None
    assert todo.extra["assignees"] == [TODO["creator"], "someone"]
    assert todo.to_wire() == record


async def test_an_odd_field_over_http_costs_neither_the_call_nor_the_record(serve) -> None:
    async with await client_for(serve, b'{"id": "not-a-number", "title": "Ship"}') as bc:
        todo = await bc.todos.get(2)
    assert todo.id is None
    assert todo.title == "Ship"
    assert todo.extra == {"id": "not-a-number"}
    assert aiocamp.decode_stats() == {"Todo.id": 1}


async def test_a_strict_client_fails_the_call_naming_the_field_and_url(serve) -> None:
    server = await serve(reply_with(b'{"id": "not-a-number", "title": "Ship"}'))
    url = str(server.make_url(""))
    async with Basecamp4(base_url=url, access_token="t", user_agent=UA, strict=True) as bc:
        with pytest.raises(errors.DecodeError) as info:
            await bc.todos.get(2)
    assert "Todo.id" in str(info.value)
    assert info.value.url.endswith("/todos/2.json")


async def test_a_strict_client_decodes_nested_records_inside_the_call(serve) -> None:
    todo = json.loads(json.dumps(TODO))
    todo["creator"]["created_at"] = "yesterday"
    server = await serve(reply_with(json.dumps([TODO, todo]).encode()))
    url = str(server.make_url(""))
    async with Basecamp4(base_url=url, access_token="t", user_agent=UA, strict=True) as bc:
        with pytest.raises(errors.DecodeError, match=r"Person\.created_at"):
            [t async for t in bc.todos.list(1, max_pages=1)]
    async with Basecamp4(base_url=url, access_token="t", user_agent=UA) as bc:
        todos = [t async for t in bc.todos.list(1, max_pages=1)]
    assert len(todos) == 2
    assert todos[1].creator is not None
    assert todos[1].creator.extra == {"created_at": "yesterday"}
    assert aiocamp.decode_stats() == {"Person.created_at": 1}


# -- person ids (6.12), all-day entries (6.13) ----------------------------------------------


async def test_notification_people_with_string_ids_decode(serve) -> None:
    body = json.loads((FIXTURES / "basecamp4/my_notifications/get.response.json").read_bytes())
    item = body["unreads"][0]
    item["creator"]["id"] = "basecamp"
    item["participants"] = [{**item["creator"], "id": "1049715914"}]
    async with await client_for(serve, json.dumps(body).encode()) as bc:
        readings = await bc.my_notifications.get()
    assert isinstance(readings, MyReadings)
    first = (readings.unreads or [])[0]
    assert first.creator is not None
    assert first.creator.id == "basecamp"
    assert (first.participants or [])[0].id == "1049715914"
    assert aiocamp.decode_stats() == {}
    assert readings.to_wire() == body


@pytest.mark.parametrize("model", [ScheduleEntry, UpcomingScheduleEntry, TimelineEventData])
def test_all_day_entries_keep_bare_dates(model: type[WireModel]) -> None:
    record = {"starts_at": "2022-11-15", "ends_at": "2022-11-16"}
    entry: Any = model.from_wire(record)
    assert type(entry.starts_at) is date
    assert entry.starts_at == date(2022, 11, 15)
    assert entry.to_wire() == record


async def test_an_all_day_schedule_entry_over_http_stays_a_date(serve) -> None:
    body = json.loads((FIXTURES / "basecamp4/schedule_entries/get.response.json").read_bytes())
    body.update(all_day=True, starts_at="2022-11-15", ends_at="2022-11-15")
    async with await client_for(serve, json.dumps(body).encode()) as bc:
        entry = await bc.schedule_entries.get(1)
    assert entry.starts_at == date(2022, 11, 15)
    assert not isinstance(entry.starts_at, datetime)
    assert entry.to_wire()["starts_at"] == "2022-11-15"


# -- values kept as sent (6.14, 6.17, 6.8) --------------------------------------------------


def test_only_plain_dates_decode_as_dates_so_the_text_round_trips() -> None:
    todo = Todo.from_wire({"due_on": "2022-11-15", "starts_on": "20221115"})
    assert todo.due_on == date(2022, 11, 15)
    assert todo.starts_on is None
    assert todo.extra == {"starts_on": "20221115"}
    assert todo.to_wire() == {"due_on": "2022-11-15", "starts_on": "20221115"}


@pytest.mark.parametrize(
    "text",
    ["2022-11-15T10:00:00.000-06:00", "2022-11-15T16:00:00.000Z", "2022-11-15T16:00:00Z"],
)
def test_date_times_keep_their_offset_and_text(text: str) -> None:
    todo = Todo.from_wire({"created_at": text})
    assert isinstance(todo.created_at, WireDatetime)
    assert todo.created_at == datetime.fromisoformat(text)
    assert todo.created_at.utcoffset() == datetime.fromisoformat(text).utcoffset()
    assert todo.to_wire() == {"created_at": text}
    assert json.loads(CODECS["json"].encode(todo.to_wire())) == {"created_at": text}


def test_a_date_time_set_in_code_is_written_in_its_own_offset() -> None:
    todo = Todo.from_wire({"created_at": "2022-11-15T10:00:00.000-06:00"})
    assert todo.created_at is not None
    todo.created_at = todo.created_at + timedelta(hours=1)
    assert todo.to_wire() == {"created_at": "2022-11-15T11:00:00-06:00"}
    utc = Todo(created_at=datetime(2022, 11, 15, 16, 30, tzinfo=UTC))
    assert utc.to_wire()["created_at"] == "2022-11-15T16:30:00Z"


def test_numbers_keep_int_or_float_as_sent() -> None:
    upload = Upload.from_wire({"width": 1024.0, "height": 768})
    assert type(upload.width) is float
    assert type(upload.height) is int
    assert upload.to_wire() == {"width": 1024.0, "height": 768}
    assert CODECS["json"].encode(upload.to_wire()) == b'{"width":1024.0,"height":768}'
    todo = Todo.from_wire({"comments_count": 3.0})
    assert todo.comments_count is None
    assert todo.to_wire() == {"comments_count": 3.0}


def test_ids_of_any_size_round_trip_exactly() -> None:
    big = 18446744073709551617
    todo = Todo.from_wire({"id": big, "creator": {"id": -big}})
    assert todo.id == big
    assert todo.creator is not None
    assert todo.creator.id == -big
    assert todo.to_wire() == {"id": big, "creator": {"id": -big}}


def test_xml_records_decode_lazily_and_round_trip() -> None:
    data = CODECS["xml"].decode((FIXTURES / "highrise/people/get.response.xml").read_bytes())
    record = data["person"]
    person = hr_models.Person.from_wire(record)
    assert person.to_wire() == record
    assert person.contact_data is not None
    emails = person.contact_data.email_addresses or []
    assert emails
    assert all(isinstance(e, hr_models.EmailAddress) for e in emails)
    assert hr_models.Person.from_wire(person.to_wire()) == person


async def test_xml_drift_over_http_keeps_the_record_and_writes_the_text_back(serve) -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<person><id type="integer">7</id><first-name>Ann</first-name><author-id>nobody</author-id>
<contact-data><email-addresses><email-address><id type="integer">1</id>
<address>ann@example.com</address></email-address></email-addresses></contact-data></person>"""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await serve(app)
    url = str(server.make_url(""))
    async with Highrise(base_url=url, token="t", user_agent=UA) as hr:
        person = await hr.people.get(7)
    assert person.id == 7
    assert person.author_id is None
    assert person.extra == {"author-id": "nobody"}
    assert person.contact_data is not None
    assert (person.contact_data.email_addresses or [])[0].address == "ann@example.com"
    again = CODECS["xml"].decode(CODECS["xml"].encode({"person": person.to_wire()}))
    assert again["person"]["author-id"] == "nobody"
    assert aiocamp.decode_stats() == {"Person.author_id": 1}
    async with Highrise(base_url=url, token="t", user_agent=UA, strict=True) as hr:
        with pytest.raises(errors.DecodeError, match=r"Person\.author_id"):
            await hr.people.get(7)


def test_xml_untyped_text_is_converted_and_bad_text_is_drift() -> None:
    person = hr_models.Person.from_wire({"id": "12", "first-name": "Ann", "author-id": "x"})
    assert person.id == 12
    assert person.author_id is None
    assert person.extra == {"author-id": "x"}


def test_importing_a_product_builds_no_model_and_loads_no_metadata_nor_cattrs() -> None:
    code = (
        "import sys, aiocamp.basecamp4 as p\n"
        "from aiocamp.core._models import ModelMeta\n"
        "built = [c for c in vars(p.models).values()\n"
        "         if isinstance(c, ModelMeta) and '_wire_attrs_' in c.__dict__]\n"
        "print(len(built), 'importlib.metadata' in sys.modules, 'cattrs' in sys.modules)\n"
        "t = p.models.Todo.from_wire({'id': 1})\n"
        "print(t.id)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    first, second = out.stdout.splitlines()
    assert first == "0 False False"
    assert second == "1"
    assert isinstance(aiocamp.__version__, str)


def read_everything(todo: Todo) -> None:
    for person in [todo.creator, *(todo.assignees or []), *(todo.completion_subscribers or [])]:
        if person is not None:
            _ = (person.company, person.out_of_office, person.extra)
    for nested in (todo.bucket, todo.parent, todo.completion):
        if nested is not None:
            _ = nested.extra
    _ = todo.extra


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [(key,) for key in sorted(TODO)] + [("creator", key) for key in sorted(TODO["creator"])]
    ),
    json_values,
)
def test_any_value_anywhere_decodes_and_round_trips_exactly(path, value) -> None:
    """Drift never raises outside strict mode, and encoding gives back the very record."""
    record = json.loads(json.dumps(TODO))
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    todo = Todo.from_wire(record)
    assert todo.to_wire() == record
    read_everything(todo)
    assert todo.to_wire() == record
    assert Todo.from_wire(todo.to_wire()) == todo
