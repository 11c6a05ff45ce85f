"""JSON Lines output: one record per line, appended, with byte offsets for the checkpoint.

A record is what the model's ``to_wire()`` gives (wire names, unknown fields kept). Values
JSON has no type for are written as text that loses nothing: date-times and dates in ISO
8601 with the offset the server sent, decimals as their exact digits, bytes as base64.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ..core._errors import EncodeError

__all__ = ["JsonlWriter", "encode_record"]


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise EncodeError(f"cannot write a {type(value).__name__} value to JSON")


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_default, check_circular=False
)


_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_default, check_circular=False)


def encode_record(data: Any) -> bytes:
    """One JSONL line (newline included)."""
    line = _ENCODER.encode(data) + "\n"
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate escape the server sent (half an emoji): written escaped, as it
        # came, so the line is valid UTF-8 JSON and the value is exact.
        return (_ASCII_ENCODER.encode(data) + "\n").encode("ascii")


class JsonlWriter:
    """Appends lines to one file and knows the byte offset and line count it has written.

    ``open()`` truncates the file back to the offset the checkpoint recorded, so lines a
    killed run wrote after its last checkpoint disappear before they are written again.
    """

    def __init__(self, path: Path, offset: int = 0, records: int = 0) -> None:
        self.path = path
        self.offset = offset
        self.records = records
        self._file: IO[bytes] | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        size = os.fstat(fd).st_size
        if size < self.offset:
            os.close(fd)
            raise OSError(
                f"{self.path} holds {size} bytes but the checkpoint recorded {self.offset}: "
                "the file was changed outside the export"
            )
        os.ftruncate(fd, self.offset)
        self._file = os.fdopen(fd, "ab")

    def append(self, lines: list[bytes]) -> None:
        if self._file is None:
            self.open()
        assert self._file is not None
        data = b"".join(lines)
        self._file.write(data)
        self.offset += len(data)
        self.records += len(lines)

    def flush(self, *, durable: bool = False) -> None:
        if self._file is not None:
            self._file.flush()
            if durable:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
