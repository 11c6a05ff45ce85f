"""The public surface (issue 9.6): every name in ``aiocamp.__all__`` resolves, and the
names users need are the same objects the core uses."""

from __future__ import annotations

import importlib

import aiocamp
from aiocamp import core


def test_every_public_name_resolves() -> None:
    for name in aiocamp.__all__:
        assert getattr(aiocamp, name) is not None, name


def test_top_level_names_are_the_core_objects() -> None:
    for name in ("RateLimit", "Limit", "RetryPolicy", "UNSET", "PageIterator", "MemoryEtagCache"):
        assert getattr(aiocamp, name) is getattr(core, name)
    redis_backends = importlib.import_module("aiocamp.core._redis_backends")
    assert aiocamp.RedisEtagCache is redis_backends.RedisEtagCache


def test_errors_is_the_exception_tree() -> None:
    assert issubclass(aiocamp.errors.NotFound, aiocamp.errors.AiocampError)
