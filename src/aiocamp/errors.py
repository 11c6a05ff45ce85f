"""The public exception tree (see :mod:`aiocamp.core.errors` for the drawing)."""

from __future__ import annotations

from .core.errors import *  # noqa: F403
from .core.errors import __all__ as __all__
