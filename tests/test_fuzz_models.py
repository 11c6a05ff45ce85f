"""Structure-aware fuzzing of the typed-value conversion: documents of each model's shape.

Valid documents decode and round-trip (model -> wire -> bytes -> model gives the same
model, and no wire key of the document is lost). Perturbed documents either decode, with
the record kept and none of its fields dropped, or raise DecodeError; nothing else escapes.
(A full round trip of perturbed records is not asserted yet: a drifted XML container, e.g.
``<email-addresses><oops>x</oops></email-addresses>``, still decodes to an empty list.)
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.core._codecs import CODECS

from .fuzz_strategies import (
    PRODUCTS,
    fuzz_settings,
    json_records,
    models_of,
    perturbed_json_records,
    perturbed_xml_records,
    render_xml,
    xml_records,
)
from .generated_support import spec

JSON_PRODUCTS = [p for p in PRODUCTS if spec(p).format == "json"]
XML_PRODUCTS = [p for p in PRODUCTS if spec(p).format == "xml"]


def model_class(product: str, name: str) -> Any:
    return getattr(importlib.import_module(f"aiocamp.{product}.models"), name)


def test_every_product_is_fuzzed_in_its_format() -> None:
    assert sorted(JSON_PRODUCTS + XML_PRODUCTS) == sorted(PRODUCTS)
    assert JSON_PRODUCTS
    assert XML_PRODUCTS


def assert_kept(cls: Any, record: dict[str, Any], model: Any) -> dict[str, Any]:
    """No field the server sent is missing from the model's wire form."""
    wire: dict[str, Any] = model.to_wire()
    assert set(record) <= set(wire), f"{cls.__name__} lost {set(record) - set(wire)}"
    return wire


def assert_kept_and_round_trips(product: str, cls: Any, record: dict[str, Any], model: Any) -> None:
    """Nothing the server sent is lost, and the model survives its own wire form."""
    fmt = spec(product).format
    codec = CODECS[fmt]
    wire = assert_kept(cls, record, model)
    if fmt == "xml":
        tag = spec(product).model(cls.__name__).xml_tag or "record"
        again = codec.decode(codec.encode({tag: wire}))[tag]
    else:
        again = codec.decode(codec.encode(wire))
    assert cls.from_wire(again) == model


@pytest.mark.parametrize("product", JSON_PRODUCTS)
@fuzz_settings(100)
@given(data=st.data())
def test_valid_json_records_decode_and_round_trip(product: str, data: st.DataObject) -> None:
    m = data.draw(st.sampled_from(models_of(product)), label="model")
    record = data.draw(json_records(product, m.name), label="record")
    decoded = CODECS["json"].decode(json.dumps(record).encode())
    assert decoded == record
    cls = model_class(product, m.name)
    assert_kept_and_round_trips(product, cls, record, cls.from_wire(decoded))


@pytest.mark.parametrize("product", XML_PRODUCTS)
@fuzz_settings(100)
@given(data=st.data())
def test_valid_xml_records_decode_and_round_trip(product: str, data: st.DataObject) -> None:
    m = data.draw(st.sampled_from(models_of(product)), label="model")
    node = data.draw(xml_records(product, m.name), label="record")
    decoded = CODECS["xml"].decode(render_xml(node).encode())
    record = decoded[node[0]]
    if record is None:  # an element with no fields at all
        return
    cls = model_class(product, m.name)
    assert_kept_and_round_trips(product, cls, record, cls.from_wire(record))


@pytest.mark.parametrize("product", JSON_PRODUCTS)
@fuzz_settings(100)
@given(data=st.data())
def test_perturbed_json_records_decode_or_raise_decode_error(product: str, data) -> None:
    m = data.draw(st.sampled_from(models_of(product)), label="model")
    record = data.draw(perturbed_json_records(product, m.name), label="record")
    cls = model_class(product, m.name)
    try:
        model = cls.from_wire(CODECS["json"].decode(json.dumps(record).encode()))
    except errors.DecodeError:
        return
    assert isinstance(model, cls)
    assert_kept(cls, record, model)


@pytest.mark.parametrize("product", XML_PRODUCTS)
@fuzz_settings(100)
@given(data=st.data())
def test_perturbed_xml_records_decode_or_raise_decode_error(product: str, data) -> None:
    m = data.draw(st.sampled_from(models_of(product)), label="model")
    node = data.draw(perturbed_xml_records(product, m.name), label="record")
    cls = model_class(product, m.name)
    try:
        record = CODECS["xml"].decode(render_xml(node).encode())[node[0]]
        model = cls.from_wire(record)
    except errors.DecodeError:
        return
    assert isinstance(model, cls)
    assert_kept(cls, record, model)
