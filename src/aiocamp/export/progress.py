"""What a person sees while an export runs.

On a terminal: rich progress bars, one per resource plus an overall one, with records/s
and requests/s (``pip install aiocamp[cli]`` for rich; without it, or when the output is
not a terminal, plain log lines every few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import IO, Any

from .engine import Exporter

__all__ = ["ProgressDisplay", "choose_display"]


class ProgressDisplay:
    """Base: refresh every ``interval`` seconds from the exporter's counters."""

    interval = 5.0

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._task: asyncio.Task[None] | None = None
        self._exporter: Exporter | None = None

    def start(self, exporter: Exporter) -> None:
        self._exporter = exporter
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.refresh(final=False)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._exporter is not None and self._exporter.state is not None:
            self.refresh(final=True)

    def counters(self) -> tuple[dict[str, int], int, float]:
        exporter = self._exporter
        assert exporter is not None
        elapsed = max(time.monotonic() - exporter.progress.started, 1e-9)
        return exporter.records(), exporter.session.stats.requests, elapsed

    def refresh(self, *, final: bool) -> None:
        raise NotImplementedError


class NoDisplay(ProgressDisplay):
    def start(self, exporter: Exporter) -> None:
        self._exporter = exporter

    def refresh(self, *, final: bool) -> None:
        pass


class LineDisplay(ProgressDisplay):
    """One plain line every few seconds (logs, CI, pipes)."""

    def refresh(self, *, final: bool) -> None:
        records, requests, elapsed = self.counters()
        total = sum(records.values())
        busiest = sorted(records.items(), key=lambda kv: -kv[1])[:4]
        detail = ", ".join(f"{name} {count}" for name, count in busiest if count)
        print(
            f"export: {total} records ({detail or 'none yet'}), {requests} requests, "
            f"{total / elapsed:.1f} records/s, {requests / elapsed:.1f} requests/s",
            file=self.stream,
            flush=True,
        )


class RichDisplay(ProgressDisplay):
    """Bars per resource and overall, redrawn a few times a second."""

    interval = 0.25

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(bar_width=24),
            TextColumn("{task.completed:>9,.0f} records"),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            console=Console(file=self.stream),
            transient=False,
        )
        self._ids: dict[str, Any] = {}

    def start(self, exporter: Exporter) -> None:
        self._progress.start()
        self._ids["overall"] = self._progress.add_task("overall", total=None, rates="")
        super().start(exporter)

    def refresh(self, *, final: bool) -> None:
        records, requests, elapsed = self.counters()
        total = sum(records.values())
        for name, count in records.items():
            if name not in self._ids:
                self._ids[name] = self._progress.add_task(name, total=None, rates="")
            self._progress.update(
                self._ids[name],
                completed=count,
                rates=f"{count / elapsed:8.1f} records/s",
                total=count if final else None,
            )
        self._progress.update(
            self._ids["overall"],
            completed=total,
            rates=f"{total / elapsed:8.1f} records/s {requests / elapsed:7.1f} requests/s",
            total=total if final else None,
        )
        if final:
            self._progress.stop()


def choose_display(mode: str, stream: IO[str] | None = None) -> ProgressDisplay:
    """``auto``: bars on a terminal when rich is installed, lines otherwise."""
    stream = stream if stream is not None else sys.stderr
    if mode == "off":
        return NoDisplay(stream)
    if mode in ("auto", "bars"):
        try:
            import rich  # noqa: F401
        except ImportError:
            if mode == "bars":
                print(
                    "rich is not installed (pip install 'aiocamp[cli]'); plain lines instead",
                    file=stream,
                )
            return LineDisplay(stream)
        if mode == "bars" or stream.isatty():
            return RichDisplay(stream)
    return LineDisplay(stream)
