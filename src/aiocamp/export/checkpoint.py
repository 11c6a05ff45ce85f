"""The export checkpoint: a snapshot plus a journal of committed pages.

Every fetched page is *committed* in one synchronous step: its lines are appended to the
JSONL files and flushed, then one journal line records the new byte offsets, the listing's
next cursor and the listings the page revealed. A journal line is a CRC-32 and a JSON
object, written with one ``write()``; a torn last line (the process died mid-write) fails
its CRC and is ignored, exactly as if the page had never been fetched.

On resume the snapshot is loaded, the journal replayed on top of it, every JSONL file is
truncated back to its recorded offset (dropping lines written after the last commit) and a
fresh snapshot is written atomically (temporary file, fsync, rename) before the journal is
emptied. Journal lines carry a sequence number and the snapshot the last one it includes,
so a crash between the rename and the truncation replays nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..core._errors import AiocampError

__all__ = ["Checkpoint", "CheckpointError", "ExportState", "TaskState"]

log = logging.getLogger("aiocamp.export")

SNAPSHOT = ".checkpoint.json"
JOURNAL = ".checkpoint.journal"
VERSION = 1


class CheckpointError(AiocampError):
    """The output directory holds a checkpoint this export cannot continue."""


@dataclass(slots=True)
class TaskState:
    """One listing to walk (a list endpoint with its arguments) and where it stands."""

    key: str
    listing: str
    args: dict[str, Any]
    #: Where the next page starts: None before the first page, else the next page's
    #: request with the page number and offset reached (see :func:`.plan.next_cursor`).
    cursor: dict[str, Any] | None = None
    pages: int = 0

    def to_json(self) -> list[Any]:
        return [self.key, self.listing, self.args, self.cursor, self.pages]

    @classmethod
    def from_json(cls, raw: Any) -> TaskState:
        key, listing, args, cursor, pages = raw
        return cls(str(key), str(listing), dict(args), cursor, int(pages))


@dataclass(slots=True)
class ExportState:
    """Everything a resume needs: files with their committed sizes, listings left to walk."""

    fingerprint: dict[str, Any]
    seq: int = 0
    #: file name -> [byte offset, records]
    files: dict[str, list[int]] = field(default_factory=dict)
    pending: dict[str, TaskState] = field(default_factory=dict)
    #: key -> {"listing", "error", "kind": "failed" | "skipped"}
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: int = 0
    started: bool = False
    finished: bool = False
    runs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "fingerprint": self.fingerprint,
            "seq": self.seq,
            "files": self.files,
            "pending": [t.to_json() for t in self.pending.values()],
            "problems": self.problems,
            "done": self.done,
            "started": self.started,
            "finished": self.finished,
            "runs": self.runs,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ExportState:
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            raise ValueError("unknown checkpoint version")
        tasks = [TaskState.from_json(t) for t in raw["pending"]]
        return cls(
            fingerprint=dict(raw["fingerprint"]),
            seq=int(raw["seq"]),
            files={str(k): [int(v[0]), int(v[1])] for k, v in raw["files"].items()},
            pending={t.key: t for t in tasks},
            problems={str(k): dict(v) for k, v in raw["problems"].items()},
            done=int(raw["done"]),
            started=bool(raw["started"]),
            finished=bool(raw["finished"]),
            runs=int(raw.get("runs", 0)),
        )

    def apply(self, entry: dict[str, Any]) -> None:
        """Apply one journal entry (the same code path as a live commit)."""
        self.seq = int(entry["s"])
        for name, (offset, records) in entry.get("f", {}).items():
            self.files[name] = [int(offset), int(records)]
        key = entry["k"]
        task = self.pending.get(key)
        if "p" in entry:  # a problem: the listing stops here
            self.pending.pop(key, None)
            self.problems[key] = entry["p"]
        elif entry.get("c") is None:
            self.pending.pop(key, None)
            self.done += 1
        elif task is not None:
            task.cursor = entry["c"]
            task.pages += 1
        for raw in entry.get("new", ()):
            child = TaskState(str(raw[0]), str(raw[1]), dict(raw[2]))
            self.pending.setdefault(child.key, child)


def _encode_line(entry: dict[str, Any]) -> bytes:
    body = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _decode_line(line: bytes) -> dict[str, Any] | None:
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        entry = json.loads(body)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


class Checkpoint:
    """The checkpoint files of one output directory."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir
        self.snapshot_path = out_dir / SNAPSHOT
        self.journal_path = out_dir / JOURNAL
        self._journal: IO[bytes] | None = None

    def exists(self) -> bool:
        return self.snapshot_path.exists()

    def load(self) -> ExportState:
        """The snapshot with every intact journal entry after it applied."""
        try:
            state = ExportState.from_json(json.loads(self.snapshot_path.read_bytes()))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise CheckpointError(
                f"cannot read the checkpoint {self.snapshot_path}: {exc}; "
                "remove the output directory (or pass --restart) to start over"
            ) from None
        applied = 0
        if self.journal_path.exists():
            with self.journal_path.open("rb") as journal:
                for line in journal:
                    entry = _decode_line(line)
                    if entry is None:
                        log.warning("ignoring a torn checkpoint journal line (an unfinished page)")
                        break
                    if int(entry.get("s", 0)) <= state.seq:
                        continue
                    state.apply(entry)
                    applied += 1
        log.debug("checkpoint loaded: %d journal entries applied", applied)
        return state

    def save(self, state: ExportState) -> None:
        """Write a snapshot atomically, then start an empty journal after it."""
        self.close()
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.snapshot_path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(json.dumps(state.to_json(), ensure_ascii=False).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.snapshot_path)
        _fsync_dir(self.dir)
        # Entries up to state.seq are in the snapshot; replay skips them even if this
        # truncation never happens.
        with self.journal_path.open("wb"):
            pass

    def append(self, entry: dict[str, Any]) -> None:
        if self._journal is None:
            self._journal = self.journal_path.open("ab", buffering=0)
        self._journal.write(_encode_line(entry))

    def sync(self) -> None:
        if self._journal is not None:
            os.fsync(self._journal.fileno())

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
