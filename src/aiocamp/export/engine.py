"""The export engine: walk a plan's listings concurrently, commit each page exactly once.

Workers (``concurrency`` of them) take listings from a LIFO queue and fetch one page at a
time through the client's session, so every request goes through the core limiter, ETag
cache and retry policy. A fetched page is committed in one synchronous step (no ``await``
inside): its records are appended to their JSONL file, the listings its records reveal are
queued, and a checkpoint journal line records all of it (see :mod:`.checkpoint`). A kill at
any moment therefore loses at most pages that were never committed, and a resume fetches
exactly those again.

Errors: a page that still fails after the session's retries is tried again
``page_attempts`` times with a pause; then its listing is reported as failed (summary and
exit code) and the walk goes on. 403 and 404 skip a listing (reported too). Bad
credentials, an inactive account or a host that never answered stop the export.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core._errors import (
    AccountInactive,
    AiocampError,
    ConnectError,
    DecodeError,
    EncodeError,
    Forbidden,
    HTTPError,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)
from ..core._limiter import Limit
from ._jsonl import JsonlWriter, encode_record
from .checkpoint import Checkpoint, CheckpointError, ExportState, TaskState
from .plan import Endpoint, Listing, Plan, endpoint_of, next_cursor, page_request, task_key

__all__ = ["ExitCode", "ExportAborted", "ExportOptions", "Exporter"]

log = logging.getLogger("aiocamp.export")

#: Pages of this many records or more (Highrise's 500-record lists) are big: at most
#: MAX_BIG_PAGES of them is fetched and decoded at a time, so peak memory depends on the
#: page size, never on how many such listings or pages the account has.
BIG_PAGE_RECORDS = 200
MAX_BIG_PAGES = 1
REJECTED = "_rejected"
FILE_LISTING = "_file"
SUMMARY = "summary.json"


class ExitCode:
    """Exit codes of ``aiocamp export`` (documented in its ``--help``)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    UNAUTHORIZED = 4
    INACTIVE = 5
    UNREACHABLE = 6
    INTERRUPTED = 130


class ExportAborted(AiocampError):
    """The export cannot go on (bad credentials, inactive account, unreachable host)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(slots=True)
class ExportOptions:
    """What to export and how (the ``aiocamp export`` flags)."""

    out_dir: Path
    resources: Sequence[str] | None = None
    since: datetime | None = None
    concurrency: int = 8
    with_files: bool = False
    #: Tries of one page by the engine, each after the session's own retries.
    page_attempts: int = 5
    #: Pause before the engine tries a failed page again (doubles each time).
    page_retry_delay: float = 0.5
    #: Discard an unfinished export in ``out_dir`` instead of resuming it.
    restart: bool = False
    #: fsync the JSONL files and the journal at every commit (power-loss safety; slower).
    fsync: bool = False
    #: Description of the source for the checkpoint (never a credential).
    source: str = ""


@dataclass(slots=True)
class Page:
    """A fetched page reduced to what its commit writes and queues."""

    lines: list[bytes]
    rejected: list[dict[str, Any]]
    #: (listing, arguments) revealed by the page's records
    children: list[tuple[str, dict[str, Any]]]
    cursor: dict[str, Any] | None


@dataclass(slots=True)
class Progress:
    """Live counters, read by progress displays."""

    started: float = field(default_factory=time.monotonic)
    pages: int = 0
    files: int = 0


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    return cleaned[:150] or "file"


class Exporter:
    """Exports one account with a generated client, following a :class:`Plan`."""

    def __init__(
        self,
        client: Any,
        plan: Plan,
        options: ExportOptions,
        *,
        limit: Limit | None = None,
    ) -> None:
        if options.concurrency < 1:
            raise CheckpointError("concurrency must be >= 1")
        if options.since is not None and plan.since_help is None:
            raise CheckpointError(f"{plan.product} has no incremental listing: drop --since")
        self.client = client
        self.session = client.session
        self.plan = plan
        self.options = options
        self.limit = limit
        self.out = Path(options.out_dir)
        self.walk, self.write = plan.selected(options.resources)
        self.checkpoint = Checkpoint(self.out)
        self.progress = Progress()
        self.writers: dict[str, JsonlWriter] = {}
        self.state: ExportState | None = None
        self.resumed = False
        self._queue: asyncio.LifoQueue[TaskState] = asyncio.LifoQueue()
        self._fatal: ExportAborted | None = None
        self._fatal_event = asyncio.Event()
        self._answered = False
        self._attempts: dict[str, int] = {}
        #: Pages read per listing in this run (dropped when the listing is done).
        self._visited: dict[str, set[str]] = {}
        self._big_pages = asyncio.Semaphore(MAX_BIG_PAGES)

    # -- setup ----------------------------------------------------------------------------

    def fingerprint(self) -> dict[str, Any]:
        return {
            "product": self.plan.product,
            "source": self.options.source,
            "resources": sorted(self.write),
            "since": self.options.since.isoformat() if self.options.since else None,
            "with_files": self.options.with_files,
        }

    def _prepare(self) -> ExportState:
        """Load the checkpoint to resume, or start afresh; open (truncate) every file."""
        self.out.mkdir(parents=True, exist_ok=True)
        fingerprint = self.fingerprint()
        state: ExportState | None = None
        if self.checkpoint.exists():
            old = self.checkpoint.load()
            complete = old.finished and not any(
                p["kind"] == "failed" for p in old.problems.values()
            )
            if self.options.restart or complete:
                self._discard(old)
            elif old.fingerprint != fingerprint:
                raise CheckpointError(
                    f"{self.out} holds an unfinished export with other options "
                    f"({_diff(old.fingerprint, fingerprint)}); run it with the same options "
                    "to resume, or pass --restart to start over"
                )
            else:
                state = old
                self.resumed = True
                # Listings that failed last time are tried again.
                for key, problem in list(state.problems.items()):
                    if problem["kind"] == "failed":
                        del state.problems[key]
                        state.pending[key] = TaskState(
                            key, problem["listing"], dict(problem["args"]), problem["cursor"]
                        )
        if state is None:
            state = ExportState(fingerprint=fingerprint)
            for name, listing in self.plan.listings.items():
                if listing.root and name in self.walk:
                    state.pending[name] = TaskState(name, name, {})
            for resource in self.write:
                state.files[resource] = [0, 0]
        state.started = True
        state.finished = False
        state.runs += 1
        for name, (offset, records) in state.files.items():
            writer = JsonlWriter(self._path_of(name), offset, records)
            writer.open()
            self.writers[name] = writer
        self._clean_partial_downloads(state)
        self.checkpoint.save(state)
        return state

    def _discard(self, old: ExportState) -> None:
        for name in old.files:
            with contextlib.suppress(FileNotFoundError):
                self._path_of(name).unlink()
        shutil.rmtree(self.out / "files", ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.out / SUMMARY).unlink()

    def _clean_partial_downloads(self, state: ExportState) -> None:
        for task in state.pending.values():
            if task.listing == FILE_LISTING:
                with contextlib.suppress(FileNotFoundError):
                    (self.out / (task.args["path"] + ".part")).unlink()

    def _path_of(self, resource: str) -> Path:
        return self.out / f"{resource}.jsonl"

    def _writer(self, resource: str) -> JsonlWriter:
        writer = self.writers.get(resource)
        if writer is None:
            writer = self.writers[resource] = JsonlWriter(self._path_of(resource))
            writer.open()
        return writer

    # -- run ------------------------------------------------------------------------------

    async def run(self) -> ExportState:
        """Walk everything still pending; return the final state (see :meth:`summary`)."""
        self.progress = Progress()
        state = self.state = self._prepare()
        for pending in list(state.pending.values()):
            self._queue.put_nowait(pending)
        workers = [
            asyncio.create_task(self._worker(), name=f"export-worker-{i}")
            for i in range(self.options.concurrency)
        ]
        joined = asyncio.create_task(self._queue.join())
        fatal = asyncio.create_task(self._fatal_event.wait())
        try:
            await asyncio.wait({joined, fatal}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for running in (*workers, joined, fatal):
                running.cancel()
            await asyncio.gather(*workers, joined, fatal, return_exceptions=True)
            self._close(finished=self._fatal is None and not state.pending)
        if self._fatal is not None:
            raise self._fatal
        return state

    def _close(self, *, finished: bool) -> None:
        state = self.state
        assert state is not None
        for writer in self.writers.values():
            writer.flush(durable=True)
            writer.close()
        state.finished = finished
        self.checkpoint.save(state)
        self.checkpoint.close()

    async def _worker(self) -> None:
        while True:
            task = await self._queue.get()
            try:
                await self._step(task)
            except ExportAborted as exc:
                self._abort(exc)
            except Exception as exc:  # a bug or the disk (full, read-only): stop cleanly
                log.exception("export stopped by an unexpected error")
                self._abort(ExportAborted(f"{type(exc).__name__}: {exc}", ExitCode.ERROR))
            finally:
                self._queue.task_done()

    def _abort(self, exc: ExportAborted) -> None:
        if self._fatal is None:
            self._fatal = exc
        self._fatal_event.set()

    async def _step(self, task: TaskState) -> None:
        while True:
            try:
                if task.listing == FILE_LISTING:
                    await self._download(task)
                    return
                page = await self._fetch(task)
            except Unauthorized as exc:
                raise ExportAborted(
                    f"the credentials were refused (HTTP {exc.status}): check the token "
                    "and the account",
                    ExitCode.UNAUTHORIZED,
                ) from None
            except AccountInactive:
                raise ExportAborted(
                    "the account is inactive (HTTP 404, Reason: Account Inactive)",
                    ExitCode.INACTIVE,
                ) from None
            except (Forbidden, NotFound) as exc:
                self._problem(task, "skipped", exc)
                return
            except ConnectError as exc:
                if not self._answered:
                    raise ExportAborted(
                        f"cannot reach {exc.url or self.session.base_url}: {exc}",
                        ExitCode.UNREACHABLE,
                    ) from None
                if not await self._again(task, exc):
                    return
            except (RateLimited, ServerError) as exc:
                if not await self._again(task, exc):
                    return
            except HTTPError as exc:  # 400, 405, 409, 422...: the same request fails again
                self._problem(task, "failed", exc)
                return
            except AiocampError as exc:  # transport, timeouts, bodies that do not decode
                if not await self._again(task, exc):
                    return
            else:
                self._answered = True
                self._attempts.pop(task.key, None)
                self._commit(task, page)
                return

    async def _again(self, task: TaskState, exc: AiocampError) -> bool:
        """Pause before another try of the page, or report the listing as failed."""
        tries = self._attempts.get(task.key, 0) + 1
        self._attempts[task.key] = tries
        if tries >= self.options.page_attempts:
            self._attempts.pop(task.key, None)
            self._problem(task, "failed", exc)
            return False
        delay = self.options.page_retry_delay * 2 ** (tries - 1)
        log.info("%s: %s; trying the page again in %.2fs", task.key, exc, delay)
        await asyncio.sleep(delay)
        return True

    async def _fetch(self, task: TaskState) -> Page:
        """One page, already reduced to what the commit needs (lines, child listings)."""
        listing = self.plan.listings[task.listing]
        if listing.fetch is not None:
            record = await listing.fetch(self.client, task.args)
            return self._reduce(task, listing, [record], [], None)
        assert listing.open is not None
        since = self.options.since if listing.since else None
        endpoint = endpoint_of(listing.open(self.client, task.args, since))
        if endpoint.paging.page_size >= BIG_PAGE_RECORDS:
            async with self._big_pages:
                return await self._fetch_page(task, listing, endpoint)
        return await self._fetch_page(task, listing, endpoint)

    async def _fetch_page(self, task: TaskState, listing: Listing, endpoint: Endpoint) -> Page:
        request = page_request(endpoint, task.cursor)
        # A next link back to a page this run already read would loop for ever.
        here = str(self.session.url_for(request))
        visited = self._visited.setdefault(task.key, set())
        if here in visited:
            raise DecodeError("the next-page link leads back to a page already fetched")
        response = await self.session.request(request)
        raw = endpoint.extract(response.data)
        cursor = next_cursor(endpoint, task.cursor, request, response, len(raw))
        visited.add(here)
        del response  # the decoded body: only the records are needed from here
        models: list[Any] = []
        rejected: list[dict[str, Any]] = []
        for item in raw:
            try:
                models.append(endpoint.convert(item))
            except DecodeError as exc:
                rejected.append(self._reject(task, item, exc))
        del raw
        return self._reduce(task, listing, models, rejected, cursor)

    def _reduce(
        self,
        task: TaskState,
        listing: Listing,
        models: list[Any],
        rejected: list[dict[str, Any]],
        cursor: dict[str, Any] | None,
    ) -> Page:
        """Encode a page's records and work out the listings they reveal."""
        lines: list[bytes] = []
        write = listing.resource in self.write
        children: list[tuple[str, dict[str, Any]]] = []
        files = self.options.with_files and listing.files is not None
        for model in models:
            if write:
                try:
                    lines.append(encode_record(model.to_wire()))
                except EncodeError as exc:
                    rejected.append(self._reject(task, repr(model), exc))
            for child in listing.children:
                if child.listing in self.walk:
                    children.extend((child.listing, dict(a)) for a in child.args_for(model))
            if files:
                assert listing.files is not None
                for url, name in listing.files(model):
                    path = f"files/{listing.resource}/{_safe_name(name)}"
                    children.append((FILE_LISTING, {"url": url, "path": path}))
        return Page(lines, rejected, children, cursor)

    def _reject(self, task: TaskState, item: Any, exc: Exception) -> dict[str, Any]:
        log.warning(
            "%s: a record could not be decoded (%s); kept in %s.jsonl", task.key, exc, REJECTED
        )
        return {"listing": task.listing, "task": task.key, "error": str(exc), "record": item}

    # -- commit ---------------------------------------------------------------------------

    def _commit(self, task: TaskState, page: Page) -> None:
        """Append a page and record it in the journal, all in one synchronous step."""
        state = self.state
        assert state is not None
        listing = self.plan.listings[task.listing]
        touched: dict[str, JsonlWriter] = {}
        if listing.resource in self.write:
            writer = self._writer(listing.resource)
            writer.append(page.lines)
            touched[listing.resource] = writer
        if page.rejected:
            writer = self._writer(REJECTED)
            writer.append([encode_record(r) for r in page.rejected])
            touched[REJECTED] = writer
        new: list[list[Any]] = []
        seen: set[str] = set()
        for name, args in page.children:
            # Attachments are named by where they go (one file, one download).
            key = task_key(name, {"path": args["path"]} if name == FILE_LISTING else args)
            if key not in state.pending and key not in seen:
                seen.add(key)
                new.append([key, name, args])
        for writer in touched.values():
            writer.flush(durable=self.options.fsync)
        entry: dict[str, Any] = {
            "s": state.seq + 1,
            "k": task.key,
            "c": page.cursor,
            "f": {name: [w.offset, w.records] for name, w in touched.items()},
        }
        if new:
            entry["new"] = new
        self.checkpoint.append(entry)
        if self.options.fsync:
            self.checkpoint.sync()
        state.apply(entry)
        self.progress.pages += 1
        if page.cursor is not None:
            self._queue.put_nowait(task)
        else:
            self._visited.pop(task.key, None)
        # Children go on top of the LIFO queue: depth first keeps the frontier small.
        for key, _, _ in new:
            self._queue.put_nowait(state.pending[key])

    def _problem(self, task: TaskState, kind: str, exc: AiocampError) -> None:
        state = self.state
        assert state is not None
        message = str(exc)
        if kind == "failed":
            log.error("%s failed: %s", task.key, message)
        else:
            log.warning("%s skipped: %s", task.key, message)
        problem = {
            "kind": kind,
            "listing": task.listing,
            "args": task.args,
            "cursor": task.cursor,
            "error": f"{type(exc).__name__}: {message}",
        }
        self._visited.pop(task.key, None)
        entry = {"s": state.seq + 1, "k": task.key, "p": problem}
        self.checkpoint.append(entry)
        state.apply(entry)

    # -- attachments ----------------------------------------------------------------------

    async def _download(self, task: TaskState) -> None:
        from ._download import download

        state = self.state
        assert state is not None
        target = self.out / task.args["path"]
        await download(self.session, task.args["url"], target)
        self._answered = True
        entry = {"s": state.seq + 1, "k": task.key, "c": None}
        self.checkpoint.append(entry)
        state.apply(entry)
        self.progress.files += 1

    # -- reporting ------------------------------------------------------------------------

    def records(self) -> dict[str, int]:
        return {
            name: writer.records
            for name, writer in sorted(self.writers.items())
            if name != REJECTED
        }

    def summary(
        self, *, elapsed: float, exit_code: int, error: str | None = None
    ) -> dict[str, Any]:
        state = self.state
        stats = self.session.stats
        problems = state.problems if state is not None else {}
        rate = stats.requests / elapsed if elapsed > 0 else 0.0
        out: dict[str, Any] = {
            "product": self.plan.product,
            "complete": exit_code == ExitCode.OK,
            "exit_code": exit_code,
            "resumed": self.resumed,
            "runs": state.runs if state is not None else 0,
            "records": self.records(),
            "records_total": sum(self.records().values()),
            "rejected_records": self.writers[REJECTED].records if REJECTED in self.writers else 0,
            "files_downloaded": self.progress.files,
            "listings_done": state.done if state is not None else 0,
            "listings_pending": len(state.pending) if state is not None else 0,
            "pages": self.progress.pages,
            "requests": stats.requests,
            "not_modified": stats.not_modified,
            "retries": stats.retries,
            "throttled": stats.throttled,
            "limiter_wait_seconds": round(stats.limiter_wait, 3),
            "errors": [
                {"listing": key, "error": p["error"]}
                for key, p in problems.items()
                if p["kind"] == "failed"
            ],
            "skipped": [
                {"listing": key, "error": p["error"]}
                for key, p in problems.items()
                if p["kind"] == "skipped"
            ],
            "elapsed_seconds": round(elapsed, 3),
            "request_rate": round(rate, 3),
            "peak_rss_bytes": _peak_rss(),
        }
        if self.limit is not None:
            allowed = self.limit.requests / self.limit.per_seconds
            out["rate_limit"] = {
                "requests": self.limit.requests,
                "per_seconds": self.limit.per_seconds,
                "rate": round(allowed, 3),
            }
            out["rate_ratio"] = round(rate / allowed, 4)
        if error is not None:
            out["error"] = error
        return out

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        import json

        path = self.out / SUMMARY
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        return path


def _peak_rss() -> int | None:
    """This process's peak resident set size, in bytes (None where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k}: {old.get(k)!r} then, {new.get(k)!r} now" for k in keys)
