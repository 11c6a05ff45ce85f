"""Local servers of the products' APIs, driven by the same specs as the clients.

``async with serve("highrise") as sb:`` starts a seeded, in-memory Highrise on 127.0.0.1
that follows the documented conventions (auth, XML/JSON shapes, paging, ETags, rate
limits, error replies) and can inject faults. ``sb.client()`` is the generated client
pointed at it; ``sb.stats()`` reports what it served. The same server runs from the
command line (``aiocamp sandbox highrise --port 8080``) and as a pytest fixture
(``aiocamp_sandbox``, from the ``aiocamp.sandbox.pytest_plugin`` plugin).
"""

from __future__ import annotations

from ._faults import Faults
from ._serve import Sandbox, serve
from ._table import available_products

__all__ = ["Faults", "Sandbox", "available_products", "serve"]
