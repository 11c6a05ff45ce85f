"""Property tests: whatever bytes arrive, the codecs and model decoders either succeed or
raise DecodeError: never a bare KeyError, TypeError or a hang."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.basecamp4.models import Todo
from aiocamp.core._codecs import CODECS
from aiocamp.core._runtime import xml_items
from aiocamp.highrise.models import Person

from .helpers import FIXTURES

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PERSON_XML = (FIXTURES / "highrise/people/get.response.xml").read_bytes()
TODO_JSON = (FIXTURES / "basecamp4/todos/get.response.json").read_bytes()


@FAST
@given(st.binary(max_size=400))
def test_xml_codec_only_raises_decode_error(body: bytes) -> None:
    with contextlib.suppress(errors.DecodeError):
        CODECS["xml"].decode(body)


@FAST
@given(st.binary(max_size=400))
def test_json_codec_only_raises_decode_error(body: bytes) -> None:
    with contextlib.suppress(errors.DecodeError):
        CODECS["json"].decode(body)


@FAST
@given(st.integers(min_value=0, max_value=len(PERSON_XML)))
def test_truncated_xml_pages_only_raise_decode_error(cut: int) -> None:
    page = b'<people type="array">' + PERSON_XML.split(b"?>", 1)[-1] + b"</people>"
    try:
        for record in xml_items(CODECS["xml"].decode(page[:cut])):
            Person.from_wire(record) if isinstance(record, dict) else None
    except errors.DecodeError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@FAST
@given(st.sampled_from(sorted(json.loads(TODO_JSON))), json_values)
def test_a_todo_with_any_field_replaced_decodes_or_raises_decode_error(key, value) -> None:
    record = json.loads(TODO_JSON)
    record[key] = value
    try:
        todo = Todo.from_wire(record)
    except errors.DecodeError as exc:
        message = str(exc)
        assert "field" in message or "expected" in message
    else:
        assert Todo.from_wire(todo.to_wire()) == todo
