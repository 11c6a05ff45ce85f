"""Per-product conventions: auth, error replies, throttled replies, and seeding touches.

The engine is generic; everything a product does differently from the others lives in one
small subclass here. Adding a product means its table (emitted by codegen) plus a subclass
registered in ``CONVENTIONS`` (or none at all, if the defaults fit).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from datetime import date as date_type
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from xml.sax.saxutils import escape

from aiohttp import web

from ._wire import XML_DECL, BodyError, json_body, parse_xml

if TYPE_CHECKING:
    from ._app import SandboxApp
    from ._data import Route, Seeder, Store
    from ._table import EndpointInfo


class Secrets:
    """The sandbox account's credentials, derived from the seed (stable across restarts)."""

    def __init__(self, product: str, seed: int) -> None:
        digest = hashlib.sha256(f"aiocamp-sandbox:{product}:{seed}".encode()).hexdigest()
        self.token = f"sbx-{digest[:24]}"
        self.access_token = f"sbx-oauth-{digest[24:48]}"
        self.username = "sandbox"
        self.password = f"pw-{digest[48:60]}"


class Conventions:
    """Defaults shared by the products; subclasses override what differs."""

    name: ClassVar[str] = ""
    throttle_status: ClassVar[int] = 503
    #: Path parameter -> model, where the URL shape alone does not say it ("*": any model).
    param_aliases: ClassVar[Mapping[str, str]] = {}
    #: Fields a create must carry (the docs' validation rules), by model.
    required_fields: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: Routes live under ``/{account_id}`` (Basecamp 4).
    account_prefix: ClassVar[bool] = False
    account_id: ClassVar[int | None] = None
    subdomain: ClassVar[str | None] = None
    #: A create answers with the record (False: 201 with only a Location header).
    create_returns_body: ClassVar[bool] = True
    #: Throttling blocks a class for a whole window, and a call during the block extends it.
    block_extends: ClassVar[bool] = False
    #: Models that are views over others (no records of their own): model -> (sources,
    #: the field naming each record's source model).
    virtual_models: ClassVar[Mapping[str, tuple[tuple[str, ...], str]]] = {}
    #: Models whose records belong to one parent of either kind their lists name (a
    #: Highrise comment is on a note or on an email): other parents get records of their own.
    single_parent: ClassVar[frozenset[str]] = frozenset()
    #: DELETE endpoints (by name) that only set ``status`` (the record stays readable).
    soft_delete: ClassVar[Mapping[str, str]] = {}
    #: List endpoint key -> parameters whose presence among a record's links keeps it out
    #: of that list (a boost on an event is not one of its recording's own boosts).
    list_excludes: ClassVar[Mapping[str, frozenset[str]]] = {}

    # -- credentials -----------------------------------------------------------------------

    def api_url(self, url: str) -> str:
        if self.account_prefix:
            return f"{url}/{self.account_id}"
        return url

    def credentials(self, url: str, secrets: Secrets) -> dict[str, Any]:
        return {"token": secrets.token, "base_url": self.api_url(url)}

    # -- checks ----------------------------------------------------------------------------

    def authorize(self, request: web.Request, route: Route, secrets: Secrets) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() == secrets.access_token
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return False
            if user == secrets.token:
                return True
            return self.password_allowed(route) and (user, password) == (
                secrets.username,
                secrets.password,
            )
        return False

    def password_allowed(self, route: Route) -> bool:
        return True

    def param_models(self, endpoint: EndpointInfo, name: str) -> tuple[str, ...] | None:
        """The models a path parameter of this endpoint can name, where neither the URL
        nor :attr:`param_aliases` says it (None: decide from them)."""
        return None

    def seed_parents(self, seeder: Seeder, route: Route) -> list[tuple[dict[str, Any], int]] | None:
        """(parent parameters, how many records) to seed under a list endpoint, for lists
        whose parents the generic rule would pick badly (None: the generic rule)."""
        return None

    def action_for(self, endpoint: EndpointInfo) -> str | None:
        """How to serve an endpoint (list, get, singleton, create, update, delete, action)
        when its verb and URL do not say it; None: decide from them."""
        return None

    def authorize_body(self, body: bytes, secrets: Secrets) -> bool:
        """Products that authenticate in the body (``body_token``): ``<request><token>``."""
        try:
            root, content = parse_xml(body)
        except BodyError:
            return False
        token = content.get("token") if isinstance(content, dict) else None
        return root == "request" and token == secrets.token

    def wrap_reply(self, body: bytes, status: int) -> bytes:
        """The reply body as sent: products with an envelope wrap it here (default: as is)."""
        return body

    def precheck(self, request: web.Request, route: Route) -> web.StreamResponse | None:
        """Replies due before authentication (headers the product insists on)."""
        return None

    def unauthorized(self) -> web.Response:
        return web.Response(
            status=401,
            text="HTTP Basic: Access denied.\n",
            headers={"WWW-Authenticate": 'Basic realm="Application"'},
        )

    # -- replies ---------------------------------------------------------------------------

    def error(self, status: int, messages: list[str]) -> web.Response:
        body = "".join(f"<error>{escape(m)}</error>" for m in messages)
        return web.Response(
            status=status,
            body=f"{XML_DECL}<errors>{body}</errors>".encode(),
            content_type="application/xml",
            charset="utf-8",
        )

    def not_found(self) -> web.Response:
        return self.error(404, ["The record could not be found"])

    def throttled(self, retry_after: int) -> web.Response:
        reply = self.error(self.throttle_status, ["Rate limit exceeded: retry later"])
        reply.headers["Retry-After"] = str(retry_after)
        return reply

    def inactive(self) -> web.Response:
        reply = self.error(404, ["This account is no longer active"])
        reply.headers["Reason"] = "Account Inactive"
        return reply

    # -- data ------------------------------------------------------------------------------

    def pool_size(self, seeder: Seeder, model: str) -> int:
        """Records of a model no list endpoint reaches (still readable by id)."""
        return max(2, round(3 * seeder.plan.scale))

    def after_seed(self, seeder: Seeder) -> None:
        """Product touches once the generic seeding is done."""

    def on_fill(self, seeder: Seeder, model: str, record: dict[str, Any]) -> None:
        """Product touches on a seeded record when its fields are generated (first read)."""

    def on_create(
        self, store: Store, route: Route, record: dict[str, Any], params: dict[str, Any]
    ) -> None:
        """Fill server-set fields of a record created through the API."""

    def on_action(
        self, store: Store, route: Route, record: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        """Add the effect of a verb endpoint (complete, archive...) to ``changes``."""
        name = route.endpoint.name
        if name in ("complete", "uncomplete") and "completed" in record:
            changes["completed"] = name == "complete"
        if name in ("trash", "archive", "unarchive") and "status" in record:
            changes["status"] = {"trash": "trashed", "archive": "archived"}.get(name, "active")

    def singleton(self, app: SandboxApp, model: str) -> dict[str, Any] | None:
        """A product-specific record for an id-less resource (None: generate one)."""
        return None

    def on_delete(self, store: Store, model: str, record: dict[str, Any]) -> None:
        """After a record is deleted through the API."""

    def list_filter(
        self, route: Route, query: Mapping[str, str], items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Narrow a list the way the product documents for this endpoint (states...)."""
        return items

    def middlewares(self) -> list[Any]:
        """aiohttp middlewares in front of the engine (Harvest: JSON <-> XML)."""
        return []


class HighriseConventions(Conventions):
    name = "highrise"
    throttle_status = 503
    subdomain = "sandbox"
    #: A party is a person or a company (sections/parties.md): <party type="Person">.
    virtual_models: ClassVar[Mapping[str, tuple[tuple[str, ...], str]]] = {
        "Party": (("Person", "Company"), "kind")
    }
    single_parent = frozenset({"Comment"})
    required_fields: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Person": ("first_name",),
        "Company": ("name",),
        "Kase": ("name",),
        "Deal": ("name",),
        "Note": ("body",),
        "Email": ("body",),
        "Comment": ("body",),
        "Task": ("body",),
        "Group": ("name",),
        "TaskCategory": ("name",),
        "DealCategory": ("name",),
        "SubjectField": ("label",),
    }
    SUBJECT_TYPES: ClassVar[Mapping[str, str]] = {
        "people": "Party",
        "companies": "Party",
        "kases": "Kase",
        "deals": "Deal",
    }

    def credentials(self, url: str, secrets: Secrets) -> dict[str, Any]:
        return {"subdomain": self.subdomain, "token": secrets.token, "base_url": url}

    def password_allowed(self, route: Route) -> bool:
        # README "Authentication": a login and password work for /me.xml only.
        return route.endpoint.path == "/me.xml"

    def _subject(self, record: dict[str, Any], params: Mapping[str, Any]) -> None:
        kind = str(params.get("subject_type"))
        if kind in self.SUBJECT_TYPES and "subject_type" in record:
            record["subject_type"] = self.SUBJECT_TYPES[kind]
        if "subject_id" in params and "subject_id" in record:
            record["subject_id"] = params["subject_id"]

    def after_seed(self, seeder: Seeder) -> None:
        store = seeder.store
        for rid, meta in list(store.meta.items()):
            links = meta.links
            if "subject_type" in links and "subject_id" in links:
                record = store.get(rid)
                assert record is not None
                self._subject(
                    record,
                    {
                        "subject_type": next(iter(links["subject_type"])),
                        "subject_id": next(iter(links["subject_id"])),
                    },
                )

    #: Deletions of these are listed by /deletions.xml (sections/deletions.md).
    LOGGED_DELETIONS: ClassVar[tuple[str, ...]] = (
        "Company",
        "Person",
        "Deal",
        "Task",
        "Note",
        "Email",
        "Comment",
    )

    def on_delete(self, store: Store, model: str, record: dict[str, Any]) -> None:
        if model in self.LOGGED_DELETIONS and "Deletion" in store.records:
            entry = {"kind": model, "id": record["id"], "deleted_at": datetime.now(UTC)}
            store.add("Deletion", entry)

    def on_fill(self, seeder: Seeder, model: str, record: dict[str, Any]) -> None:
        # Some seeded cases are open (no closed_at), deterministically by id.
        if model == "Kase" and "closed_at" in record:
            closed = record["id"] % 2 == 0
            record["closed_at"] = (
                (record.get("updated_at") or seeder.faker.moment()) if closed else None
            )

    def list_filter(
        self, route: Route, query: Mapping[str, str], items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        # sections/cases.md: /kases/open.xml lists cases without closed_at, closed.xml the rest.
        if route.model == "Kase" and route.endpoint.name in ("list_open", "list_closed"):
            closed = route.endpoint.name == "list_closed"
            return [r for r in items if (r.get("closed_at") is not None) == closed]
        return items

    def on_create(
        self, store: Store, route: Route, record: dict[str, Any], params: dict[str, Any]
    ) -> None:
        self._subject(record, params)
        if "author_id" in record and record["author_id"] is None:
            users = store.all("User")
            record["author_id"] = users[0]["id"] if users else None


class Basecamp4Conventions(Conventions):
    name = "basecamp4"
    throttle_status = 429
    #: projects.md "Trash a project": DELETE marks it trashed (deleted after 30 days).
    soft_delete: ClassVar[Mapping[str, str]] = {"trash": "trashed"}
    account_prefix = True
    account_id = 999999999
    param_aliases: ClassVar[Mapping[str, str]] = {
        "bucket_id": "Project",
        "project_id": "Project",
        "recording_id": "*",
        "person_id": "Person",
    }
    #: Dock tool name -> the model its id names (sections/projects.md, "dock").
    DOCK: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("message_board", "Message Board", "MessageBoard"),
        ("todoset", "To-dos", "Todoset"),
        ("vault", "Docs & Files", "Vault"),
        ("chat", "Chat", "Campfire"),
        ("schedule", "Schedule", "Schedule"),
        ("questionnaire", "Automatic Check-ins", "Questionnaire"),
        ("inbox", "Email Forwards", "Inbox"),
        ("kanban_board", "Card Table", "CardTable"),
    )

    #: recordings.md "Get recordings": the types of recording (Kanban::Card is a card,
    #: Question::Answer a check-in answer...); events.md: every change of one is an event.
    RECORDINGS: ClassVar[tuple[str, ...]] = (
        "CardTableCard",
        "CardTableStep",
        "Comment",
        "Document",
        "Message",
        "QuestionAnswer",
        "ScheduleEntry",
        "Todo",
        "Todolist",
        "Upload",
        "Vault",
    )
    #: Records with ``comments_count`` that lists reach (comments.md).
    COMMENTABLE: ClassVar[tuple[str, ...]] = (
        "CardTableCard",
        "Document",
        "GaugeNeedle",
        "Message",
        "QuestionAnswer",
        "ScheduleEntry",
        "Todo",
        "Todolist",
        "Upload",
    )
    #: boosts.md: a record with ``boosts_count`` and ``boosts_url`` can be boosted.
    BOOSTABLE: ClassVar[tuple[str, ...]] = (
        "CampfireLine",
        "CardTableCard",
        "Comment",
        "Document",
        "GaugeNeedle",
        "InboxReply",
        "Message",
        "QuestionAnswer",
        "ScheduleEntry",
        "Todo",
        "Todolist",
        "Upload",
    )
    #: client_replies.md: replies hang under a client correspondence or approval.
    CLIENT_THREADS: ClassVar[tuple[str, ...]] = ("ClientApproval", "ClientCorrespondence")
    #: boosts.md: only these events take boosts (and carry boosts_count/boosts_url).
    BOOSTABLE_ACTIONS: ClassVar[tuple[str, ...]] = ("completed", "adopted", "column_changed")
    list_excludes: ClassVar[Mapping[str, frozenset[str]]] = {"boosts.list": frozenset({"event_id"})}
    #: Which records a ``recording_id`` names, by endpoint (the others take any record).
    RECORDING_OF: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "comments.list": COMMENTABLE,
        "comments.create": COMMENTABLE,
        "events.list": RECORDINGS,
        "boosts.list": BOOSTABLE,
        "boosts.create": BOOSTABLE,
        "boosts.list_for_event": RECORDINGS,
        "boosts.create_for_event": RECORDINGS,
        "client_replies.list": CLIENT_THREADS,
        "client_replies.get": CLIENT_THREADS,
    }

    def param_models(self, endpoint: EndpointInfo, name: str) -> tuple[str, ...] | None:
        if name == "recording_id":
            return self.RECORDING_OF.get(endpoint.key)
        return None

    @staticmethod
    def _reached(seeder: Seeder, models: tuple[str, ...]) -> list[tuple[int, int]]:
        """(position among its model's, id) of the records of ``models`` filed under a
        list (so an export reaches them), model by model."""
        store = seeder.store
        found: list[tuple[int, int]] = []
        for model in models:
            seeder.seed_model(model)
            filed = [rid for rid in store.ids(model) if store.meta[rid].links]
            found.extend(enumerate(filed))
        return found

    def _event_actions(self, store: Store) -> dict[int, str]:
        """Each recording's first event is its creation, the later ones boostable changes."""
        by_recording: dict[Any, list[int]] = {}
        for eid in store.ids("Event"):
            for rid in store.meta[eid].links.get("recording_id", ()):
                by_recording.setdefault(rid, []).append(eid)
        actions = {}
        for eids in by_recording.values():
            for i, eid in enumerate(sorted(eids)):
                actions[eid] = (
                    "created"
                    if i == 0
                    else self.BOOSTABLE_ACTIONS[(i - 1) % len(self.BOOSTABLE_ACTIONS)]
                )
        return actions

    def seed_parents(self, seeder: Seeder, route: Route) -> list[tuple[dict[str, Any], int]] | None:
        # Comments, events, boosts and client replies sit on records an export reaches,
        # spread over every kind of parent; the first parent gets a list long enough to
        # page, the others a few records. Every recording has events (its creation at
        # least); comments and boosts are on some parents only, as in a real account.
        key = route.endpoint.key
        big = seeder._paged_count(route, big=True)
        planned: list[tuple[dict[str, Any], int]] = []
        if key in ("comments.list", "events.list", "boosts.list"):
            models = {
                "comments.list": self.COMMENTABLE,
                "events.list": self.RECORDINGS,
                "boosts.list": self.BOOSTABLE,
            }[key]
            every = {"comments.list": 3, "events.list": 1, "boosts.list": 5}[key]
            for j, rid in self._reached(seeder, models):
                if j % every == 0:
                    planned.append(({"recording_id": rid}, big if not planned else 1 + j % 2))
            return planned
        if key == "boosts.list_for_event":
            seeder.seed_model("Event")
            store = seeder.store
            actions = self._event_actions(store)
            boostable = [e for e in store.ids("Event") if actions.get(e, "created") != "created"]
            for j, eid in enumerate(boostable):
                if j % 4 == 0:
                    recording = next(iter(store.meta[eid].links["recording_id"]))
                    planned.append(({"recording_id": recording, "event_id": eid}, 1 + j % 2))
            return planned
        if key == "client_replies.list":
            store = seeder.store
            for j, rid in self._reached(seeder, self.CLIENT_THREADS):
                bucket = store.meta[rid].links.get("bucket_id")
                if j % 2 == 0 and bucket:
                    combo = {"bucket_id": next(iter(bucket)), "recording_id": rid}
                    planned.append((combo, 1 + j % 3))
            return planned
        return None

    def _counts(self, seeder: Seeder) -> None:
        """``comments_count``, ``boosts_count`` and ``replies_count`` say what the lists
        hold; each event gets its action (boostable or not, boosts.md)."""
        store = seeder.store
        tally: dict[str, dict[Any, int]] = {}

        def count(name: str, model: str, link: str, unless: str | None = None) -> None:
            found = tally.setdefault(name, {})
            for rid in store.ids(model):
                links = store.meta[rid].links
                if unless is not None and unless in links:
                    continue
                for parent in links.get(link, ()):
                    found[parent] = found.get(parent, 0) + 1

        count("comments_count", "Comment", "recording_id")
        count("boosts_count", "Boost", "recording_id", unless="event_id")
        count("event_boosts", "Boost", "event_id")
        count("replies_count", "ClientReply", "recording_id")
        count("replies_count", "InboxReply", "inbox_forward_id")
        for model, records in store.records.items():
            info = seeder.table.models.get(model)
            if info is None or model == "Event":
                continue
            for name in ("comments_count", "boosts_count", "replies_count"):
                if info.field(name) is not None:
                    for rid, record in records.items():
                        record[name] = tally[name].get(rid, 0)
        actions = self._event_actions(store)
        for eid, event in store.records.get("Event", {}).items():
            recording = next(iter(store.meta[eid].links.get("recording_id", ())), None)
            action = actions.get(eid, "created")
            event["action"] = action
            event["recording_id"] = recording
            if action in self.BOOSTABLE_ACTIONS:
                event["boosts_count"] = tally["event_boosts"].get(eid, 0)
                event["boosts_url"] = (
                    f"{seeder.base_url}/recordings/{recording}/events/{eid}/boosts.json"
                )
            else:  # boosts.md: only boostable events carry the two fields
                event["boosts_count"] = event["boosts_url"] = None

    def credentials(self, url: str, secrets: Secrets) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "access_token": secrets.access_token,
            "base_url": self.api_url(url),
            "host_overrides": {"launchpad.37signals.com": url},
        }

    def authorize(self, request: web.Request, route: Route, secrets: Secrets) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and value.strip() == secrets.access_token

    def precheck(self, request: web.Request, route: Route) -> web.StreamResponse | None:
        # README "Identifying your application" and "JSON only".
        if not request.headers.get("User-Agent", "").strip():
            return self.error(400, ["A User-Agent header naming your app is required"])
        if (
            request.method in ("POST", "PUT")
            and route.endpoint.body is not None
            and not request.headers.get("Content-Type")
        ):
            return self.error(415, ["Send Content-Type: application/json"])
        return None

    def unauthorized(self) -> web.Response:
        reply = self.error(401, ["The access token is missing, invalid or expired"])
        reply.headers["WWW-Authenticate"] = 'Bearer realm="Basecamp"'
        return reply

    def error(self, status: int, messages: list[str]) -> web.Response:
        return web.Response(
            status=status,
            body=json_body({"status": status, "error": "; ".join(messages)}),
            content_type="application/json",
            charset="utf-8",
        )

    def not_found(self) -> web.Response:
        return self.error(404, ["Not Found"])

    def list_filter(
        self, route: Route, query: Mapping[str, str], items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        # sections/todos.md: without parameters only pending to-dos; completed=true: only
        # completed ones; status= (archived/trashed) shows those, completed or not.
        if route.model == "Todo" and any(q.name == "completed" for q in route.endpoint.query):
            if query.get("status") is None:
                done = query.get("completed", "").lower() == "true"
                return [r for r in items if bool(r.get("completed")) == done]
            if query.get("completed", "").lower() == "true":
                return [r for r in items if r.get("completed")]
        return items

    def pool_size(self, seeder: Seeder, model: str) -> int:
        if model in {m for _, _, m in self.DOCK}:
            seeder.seed_model("Project")
            return max(1, len(seeder.store.all("Project")))
        return super().pool_size(seeder, model)

    @staticmethod
    def _ref(model: str, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": record["id"],
            "title": record.get("title") or record.get("name"),
            "type": record.get("type") or model,
            "url": record.get("url"),
            "app_url": record.get("app_url"),
        }

    def _file_under(self, store: Store, record: dict[str, Any], links: Mapping[str, Any]) -> None:
        """``parent`` and ``bucket`` of a recording follow where it is filed."""
        project_id = links.get("bucket_id") or links.get("project_id")
        parent = None
        for key, value in links.items():
            if key not in ("bucket_id", "project_id") and isinstance(value, int):
                parent = store.get(value)
                if parent is not None:
                    break
        if parent is not None and "parent" in record:
            meta = store.meta.get(parent["id"])
            record["parent"] = self._ref(meta.model if meta else "Recording", parent)
        bucket = None
        if project_id is not None:
            project = store.get(project_id, ("Project",))
            if project is not None:
                bucket = {"id": project["id"], "name": project.get("name"), "type": "Project"}
        elif parent is not None:
            bucket = parent.get("bucket")
        if bucket is not None and "bucket" in record:
            record["bucket"] = bucket

    def on_fill(self, seeder: Seeder, model: str, record: dict[str, Any]) -> None:
        meta = seeder.store.meta.get(record["id"])
        if meta is not None and meta.links:
            self._file_under(
                seeder.store, record, {k: next(iter(v)) for k, v in meta.links.items()}
            )
            if model == "Boost":
                self._boosted(seeder.store, record, next(iter(meta.links["recording_id"])))
        if model == "QuestionReminder" and "reminder_id" in record:
            # a reminder has no id of its own: reminder_id names it (one per reminder)
            record["reminder_id"] = record["id"]

    def _boosted(self, store: Store, boost: dict[str, Any], recording_id: Any) -> None:
        """A boost's ``recording`` names the recording it (or its event) is on."""
        meta = store.meta.get(recording_id) if isinstance(recording_id, int) else None
        recording = store.get(recording_id) if meta is not None else None
        if recording is not None and meta is not None and "recording" in boost:
            boost["recording"] = self._ref(meta.model, recording)

    def after_seed(self, seeder: Seeder) -> None:
        store = seeder.store
        tools = {m: store.all(m) for _, _, m in self.DOCK}
        for i, project in enumerate(store.all("Project")):
            dock = []
            for position, (name, title, model) in enumerate(self.DOCK, start=1):
                pool = tools.get(model) or []
                if i >= len(pool):
                    continue
                tool = pool[i]
                tool["bucket"] = {
                    "id": project["id"],
                    "name": project.get("name"),
                    "type": "Project",
                }
                if "title" in tool:
                    tool["title"] = title
                store.link(tool["id"], {"bucket_id": project["id"]})
                path = seeder.schema.get_paths.get(model, "")
                dock.append(
                    {
                        "id": tool["id"],
                        "title": title,
                        "name": name,
                        "enabled": True,
                        "position": position,
                        "url": seeder.base_url + path.replace("{id}", str(tool["id"])),
                        "app_url": f"https://3.basecamp.com/{self.account_id}/buckets/"
                        f"{project['id']}/{name}s/{tool['id']}",
                    }
                )
            project["dock"] = dock
            project["status"] = "active"
        # card_tables.md: a card table's ``lists`` are its columns, each readable and
        # listing its cards; share the seeded columns out among the card tables.
        tables = store.all("CardTable")
        if tables:
            columns: dict[int, list[dict[str, Any]]] = {t["id"]: [] for t in tables}
            for j, column in enumerate(store.all("CardTableColumn")):
                table = tables[j % len(tables)]
                store.link(column["id"], {"card_table_id": table["id"]})
                if "parent" in column:
                    column["parent"] = self._ref("CardTable", table)
                columns[table["id"]].append(column)
            for table in tables:
                if "lists" in table:
                    table["lists"] = [dict(c) for c in columns[table["id"]]]
        self._counts(seeder)

    def singleton(self, app: SandboxApp, model: str) -> dict[str, Any] | None:
        if model != "Authorization":
            return None
        # Launchpad's authorization.json lists the one sandbox account (authentication.md).
        expires = datetime.now(UTC) + timedelta(days=14)
        return {
            "expires_at": expires,
            "identity": {
                "id": 1,
                "first_name": "Sandbox",
                "last_name": "User",
                "email_address": "sandbox@example.com",
            },
            "accounts": [
                {
                    "product": "bc3",
                    "id": self.account_id,
                    "name": "Sandbox Account",
                    "href": self.api_url(app.base_url),
                    "app_href": f"https://3.basecamp.com/{self.account_id}",
                }
            ],
        }

    def on_create(
        self, store: Store, route: Route, record: dict[str, Any], params: dict[str, Any]
    ) -> None:
        if "status" in record and record["status"] is None:
            record["status"] = "active"
        if "type" in record and record["type"] is None and route.model:
            record["type"] = route.model
        self._file_under(store, record, params)
        # A new comment or boost shows in its parent's count (a walk that skips parents
        # whose count is 0 must not miss it): a boost on an event counts on the event.
        if route.model == "Comment":
            self._count_one(store, params.get("recording_id"), "comments_count")
        if route.model == "Boost":
            parent = params.get("event_id", params.get("recording_id"))
            self._count_one(store, parent, "boosts_count")
            self._boosted(store, record, params.get("recording_id"))

    @staticmethod
    def _count_one(store: Store, parent_id: Any, name: str) -> None:
        parent = store.get(parent_id) if isinstance(parent_id, int) else None
        if parent is not None and isinstance(parent.get(name), int):
            parent[name] += 1
            store.touch(parent_id)


#: Whether the request being served is a Backpack /ws/ call (its reply has the envelope).
_WS_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("backpack_ws", default=False)


class BackpackConventions(Conventions):
    """Backpack (README.md): /ws/ calls carry ``<request><token>`` and answer inside
    ``<response success='true'>``, failures included (``success='false'`` with
    ``<error code=...>``, HTTP 200); the REST paths answer plain XML and HTTP statuses;
    ``/{token}/...`` paths carry the token themselves (the router checks it)."""

    name = "backpack"
    subdomain = "sandbox"
    throttle_status = 503

    def credentials(self, url: str, secrets: Secrets) -> dict[str, Any]:
        return {"subdomain": self.subdomain, "token": secrets.token, "base_url": url}

    def precheck(self, request: web.Request, route: Route) -> web.StreamResponse | None:
        # Each request is served in its own task, so the flag is per request.
        _WS_CALL.set(route.endpoint.path.startswith("/ws/"))
        return None

    def wrap_reply(self, body: bytes, status: int) -> bytes:
        if not _WS_CALL.get() or status >= 300:
            return body
        inner = body.decode("utf-8").removeprefix(XML_DECL)
        return f"{XML_DECL}<response success='true'>{inner}</response>".encode()

    def singleton(self, app: SandboxApp, model: str) -> dict[str, Any] | None:
        if model != "User":
            return None
        # users.md "Current user": the token's user is one of the account's users.
        users = app.store.all("User")
        return dict(users[0]) if users else None

    def on_fill(self, seeder: Seeder, model: str, record: dict[str, Any]) -> None:
        if model != "Page":
            return
        # A full page (pages.md "Show") holds the notes and lists filed on it, each list
        # with its items: the stored records, so a page and its listings agree.
        store = seeder.store
        pid = record["id"]
        if "notes" in record:
            record["notes"] = [dict(n) for n in store.linked("Note", {"page_id": pid})]
        if "lists" in record:
            lists = []
            for found in store.linked("ItemList", {"page_id": pid}):
                items = store.linked("ListItem", {"page_id": pid, "list_id": found["id"]})
                lists.append({**found, "items": [dict(i) for i in items]})
            record["lists"] = lists

    def error(self, status: int, messages: list[str]) -> web.Response:
        if not _WS_CALL.get() or status in (401, 503):
            return super().error(status, messages)
        text = escape("; ".join(messages))
        body = (
            f"{XML_DECL}<response success='false'><error code='{status}'>{text}</error></response>"
        )
        return web.Response(
            status=200, body=body.encode(), content_type="application/xml", charset="utf-8"
        )


class BasecampClassicConventions(Conventions):
    name = "basecamp_classic"
    #: messages.md: the archive lists a short form of every message (the posts themselves).
    virtual_models: ClassVar[Mapping[str, tuple[tuple[str, ...], str]]] = {
        "PostSummary": (("Post",), "kind")
    }

    def list_filter(
        self, route: Route, query: Mapping[str, str], items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        # calendar_entries.md: the milestones and calendar_events lists hold one type each.
        kind = {"list_milestones": "Milestone", "list_events": "CalendarEvent"}.get(
            route.endpoint.name
        )
        if route.model == "CalendarEntry" and kind is not None:
            return [r for r in items if r.get("type") == kind]
        if route.model == "Post" and route.endpoint.name in ("list", "list_for_category"):
            # messages.md: posts.xml holds the 25 most recent; the archive holds them all.
            newest = sorted(items, key=lambda r: str(r.get("posted_on") or ""), reverse=True)
            return newest[:25]
        return items


class HarvestConventions(Conventions):
    """Harvest API v1 (README.md): HTTP Basic with e-mail and password or an OAuth 2 token;
    100 calls per 15 s, then 503 + Retry-After, and a call during the block restarts it;
    creates of records with a GET path answer 201 with only their Location. The same API
    speaks XML and JSON,
    picked by Accept / Content-Type: the engine serves the docs' XML, and :meth:`middlewares`
    translates JSON requests and replies (the JSON mirrors the XML structure)."""

    name = "harvest"
    throttle_status = 503
    block_extends = True
    subdomain = "sandbox"
    #: /daily/{day_of_year}/{year} names a day, not a record: any number is a day.
    param_aliases: ClassVar[Mapping[str, str]] = {"day_of_year": "*", "year": "*"}

    def credentials(self, url: str, secrets: Secrets) -> dict[str, Any]:
        return {"username": secrets.username, "password": secrets.password, "base_url": url}

    def middlewares(self) -> list[Any]:
        return [_harvest_json]


def _dashed(path: str) -> bool:
    """Time Tracking.md payloads (/daily) use underscores in XML; the others dashes."""
    return not path.startswith("/daily")


def _rename(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k.replace(old, new): _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    return value


def _to_json(data: Any, dashed: bool) -> Any:
    """Decoded XML as Harvest's JSON: one root's content, lists as arrays of wrapped records."""
    from aiocamp.core._codecs import XmlArray

    def walk(value: Any) -> Any:
        if isinstance(value, XmlArray):
            return [{value.item_tag: walk(v)} if value.item_tag else walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(value, date_type):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    if isinstance(data, dict) and len(data) == 1:
        ((root, value),) = data.items()
        out = walk(value) if isinstance(value, XmlArray) else {root: walk(value)}
    else:
        out = walk(data)
    return _rename(out, "-", "_") if dashed else out


@web.middleware
async def _harvest_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    from aiocamp.core._codecs import CODECS

    wants_json = "json" in request.headers.get("Accept", "") or "json" in request.headers.get(
        "Content-Type", ""
    )
    if not wants_json or request.path.startswith("/__sandbox/"):
        return await handler(request)
    dashed = _dashed(request.path)
    raw = await request.read()
    if raw.strip():
        try:
            data = CODECS["json"].decode(raw)
        except Exception:
            data = None
        if isinstance(data, dict):
            if len(data) == 1 and isinstance(next(iter(data.values())), dict):
                root, inner = next(iter(data.items()))
            else:
                root, inner = "request", data  # POST /daily/add: no wrapper in JSON
            if dashed:
                root, inner = root.replace("_", "-"), _rename(inner, "_", "-")
            try:
                xml = CODECS["xml"].encode({root: inner})
            except Exception:
                xml = b"<invalid/>"
        else:
            xml = b"<invalid/>"
        request._read_bytes = xml  # the engine reads the XML form
    response = await handler(request)
    body = getattr(response, "body", None)
    if isinstance(response, web.Response) and isinstance(body, bytes) and body.strip():
        try:
            converted = json_body(_to_json(CODECS["xml"].decode(body), dashed))
        except Exception:
            return response  # a deliberately broken body (faults) stays broken
        response.body = converted
        response.content_type = "application/json"
    return response


CONVENTIONS: dict[str, type[Conventions]] = {
    "highrise": HighriseConventions,
    "basecamp4": Basecamp4Conventions,
    "backpack": BackpackConventions,
    "basecamp_classic": BasecampClassicConventions,
    "harvest": HarvestConventions,
}


def conventions_for(product: str) -> Conventions:
    return CONVENTIONS.get(product, Conventions)()


def http_date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
