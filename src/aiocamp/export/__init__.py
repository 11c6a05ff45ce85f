"""Bulk concurrent export of whole accounts (``aiocamp export``).

>>> from aiocamp.export import Exporter, ExportOptions, plan_for
>>> async with Highrise(...) as hr:                                    # doctest: +SKIP
...     exporter = Exporter(hr, plan_for("highrise"), ExportOptions(Path("out")))
...     state = await exporter.run()

One JSONL file per resource, a checkpoint that makes an interrupted export resume with
every record exactly once, and ``summary.json``. See :mod:`.engine` and :mod:`.plan`.
"""

from __future__ import annotations

from .checkpoint import CheckpointError
from .engine import ExitCode, ExportAborted, Exporter, ExportOptions
from .plan import Child, Listing, Plan
from .products import PLANS, plan_for

__all__ = [
    "PLANS",
    "CheckpointError",
    "Child",
    "ExitCode",
    "ExportAborted",
    "ExportOptions",
    "Exporter",
    "Listing",
    "Plan",
    "plan_for",
]
