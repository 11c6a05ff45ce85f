"""The public exception tree (see :mod:`aiocamp.core._errors` for the drawing)."""

from __future__ import annotations

from .core._errors import *  # noqa: F403
from .core._errors import __all__ as __all__
