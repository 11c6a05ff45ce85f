"""Local servers of the products' APIs, driven by the same specs as the clients.

``async with serve("highrise") as sb:`` starts a seeded, in-memory Highrise on 127.0.0.1
that follows the documented conventions (auth, XML/JSON shapes, paging, ETags, rate
limits, error replies) and can inject faults. ``sb.client()`` is the generated client
pointed at it; ``sb.stats()`` reports what it served. The same server runs from the
command line (``aiocamp sandbox highrise --port 8080``) and as a pytest fixture
(``aiocamp_sandbox``, from the ``aiocamp.sandbox.pytest_plugin`` plugin).

How it is built: codegen writes each product's API as data (``<product>/_api.json``, from
``codegen/tables.py``); ``_table`` reads it, ``_data`` derives relations from the URL
shapes (``/todolists/{todolist_id}/todos.json`` files to-dos under a to-do list) and seeds
records lazily from (seed, model, id), ``_app`` serves every endpoint, and
``_conventions`` holds what each product does differently. A new product needs its table
and, where the defaults do not fit, a ``Conventions`` subclass.

Documented behaviour it does not reproduce:

* Basecamp 4's other, dynamically adjusted limits (per method, hour, day): only the
  documented 50 requests per 10 s class is counted. Limits are per sandbox (one account),
  not per account and IP.
* Permissions and visibility (``visible_to``, groups, clients, admins): every record is
  visible to the one sandbox user.
* Search semantics: ``term`` matches any text field by substring and plain filters match
  by equality; Highrise ``criteria[...]`` and Basecamp 4 search options are accepted and
  ignored.
* Basecamp 4 trashing and archiving only set ``status`` (lists with a ``status`` filter
  show active records unless asked); nothing is purged after 30 days;
  ``/projects/recordings.json`` holds its own records rather than a view over to-dos,
  messages and the rest.
* File content: uploads and attachments are accepted and recorded, their bytes are not
  kept or served; webhooks are never delivered; chatbot lines authenticate with OAuth,
  not with the chatbot key in the URL.
* Server-side business rules beyond the documented required fields (e.g. a deal's
  status values, to-do assignees from ``assignee_ids``) are not enforced or derived.
"""

from __future__ import annotations

from ._faults import Faults
from ._serve import Sandbox, serve
from ._table import available_products

__all__ = ["Faults", "Sandbox", "available_products", "serve"]
