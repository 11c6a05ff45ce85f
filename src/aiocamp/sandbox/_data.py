"""The in-memory account: records, their relations, and deterministic seeding.

Relations come from the URL shapes in the table: a list endpoint such as
``/todolists/{todolist_id}/todos.json`` says that to-dos live under a to-do list, and
``{todolist_id}`` names a record of the model that ``GET /todolists/{id}.json`` returns.
Every record carries *links* (path parameter -> set of values) recording where it lives, so
the same list URL finds it whether it was seeded or created through the API.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from ._table import ApiTable, EndpointInfo, FieldInfo, ModelInfo, TypeInfo

if TYPE_CHECKING:
    from ._conventions import Conventions

ANY = "*"  # a parameter that may name a record of any model (e.g. Basecamp's recording_id)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Geared page sizes (Basecamp's geared pagination): page 1, 2, 3, then every later page.
SEED_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


# -- relations ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What a path parameter refers to: records of ``models``, or by an enum sibling."""

    models: tuple[str, ...] = ()
    enum_param: str | None = None  # e.g. subject_id is chosen by subject_type
    by_enum: tuple[tuple[str, str], ...] = ()  # (enum value, model)

    @property
    def is_any(self) -> bool:
        return self.models == (ANY,)

    def model_for(self, params: dict[str, Any]) -> tuple[str, ...]:
        if self.enum_param is not None:
            value = params.get(self.enum_param)
            return tuple(m for v, m in self.by_enum if v == value)
        return self.models


@dataclass(frozen=True, slots=True)
class Route:
    """How the sandbox serves one endpoint."""

    endpoint: EndpointInfo
    action: str  # list | get | singleton | create | update | delete | action
    model: str | None  # the collection the endpoint reads or writes
    targets: tuple[tuple[str, Target], ...]  # path parameter -> what it names

    def target(self, name: str) -> Target | None:
        for n, t in self.targets:
            if n == name:
                return t
        return None


def _ext(path: str) -> str:
    last = path.rsplit("/", 1)[-1]
    return "." + last.rsplit(".", 1)[-1] if "." in last else ""


def _strip_ext(path: str) -> str:
    ext = _ext(path)
    return path[: -len(ext)] if ext else path


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class Schema:
    """Relations and routes derived once from a table (plus product conventions)."""

    def __init__(self, table: ApiTable, conventions: Conventions) -> None:
        self.table = table
        self.conventions = conventions
        self.routes = tuple(self._route(e) for e in table.endpoints)
        #: model -> list routes returning it
        self.lists: dict[str, list[Route]] = {}
        for r in self.routes:
            if r.action == "list" and r.model:
                self.lists.setdefault(r.model, []).append(r)
        #: List URLs that also take creates: where a model's records really live.
        self.home_paths = {r.endpoint.path for r in self.routes if r.action == "create"}
        self.record_models = sorted(
            {r.model for r in self.routes if r.model and r.action in ("list", "get", "create")}
        )
        #: model -> GET-by-id path template (for url fields and Location headers)
        self.get_paths: dict[str, str] = {}
        for r in self.routes:
            if (
                r.action == "get"
                and r.model
                and r.endpoint.path.endswith("{id}" + _ext(r.endpoint.path))
            ):
                self.get_paths.setdefault(r.model, r.endpoint.path)

    def _model_at(self, collection_path: str, ext: str) -> str | None:
        """The model ``GET <collection_path>/{id}<ext>`` returns, trying shorter prefixes."""
        parts = collection_path.strip("/").split("/")
        for start in range(len(parts)):
            candidate = "/" + "/".join(parts[start:]) + "/{id}" + ext
            e = self.table.get_endpoint(candidate)
            if e is not None and e.result is not None and e.result.kind == "model":
                return e.result.name
            if parts[start].startswith("{"):
                continue
        return None

    def _by_name(self, param: str) -> str | None:
        base = param[:-3] if param.endswith("_id") else param
        camel = _camel(base)
        if camel in self.table.models:
            return camel
        ends = [
            m for m, info in self.table.models.items() if m.endswith(camel) and not info.private
        ]
        return ends[0] if len(ends) == 1 else None

    def _target(self, e: EndpointInfo, name: str) -> Target | None:
        models = self.conventions.param_models(e, name)
        if models is not None:
            return Target(models)
        alias = self.conventions.param_aliases.get(name)
        if alias is not None:
            return Target((alias,))
        ext = _ext(e.path)
        before = e.path.split("{" + name + "}", 1)[0].rstrip("/")
        if name == "id":
            model = self._model_at(before, ext)
            if model is None and e.result is not None and e.result.kind == "model":
                model = e.result.name
            return Target((model,)) if model else None
        param = e.param(name)
        if param is not None and param.enum:
            return None  # the enum itself; its sibling id parameter carries the target
        # {subject_type}/{subject_id}: the id's model follows the enum sibling
        segments = before.split("/")
        if segments and segments[-1].startswith("{"):
            sibling = segments[-1][1:-1]
            sp = e.param(sibling)
            if sp is not None and sp.enum:
                pairs = []
                for value in sp.enum:
                    model = self._model_at("/" + str(value), ext)
                    if model:
                        pairs.append((str(value), model))
                return Target(tuple(sorted({m for _, m in pairs})), sibling, tuple(pairs))
        model = self._model_at(before, ext) if before else None
        if model is None:
            model = self._by_name(name)
        return Target((model,)) if model else None

    def _route(self, e: EndpointInfo) -> Route:
        names = _PLACEHOLDER.findall(e.path)
        targets = []
        for n in names:
            t = self._target(e, n)
            if t is not None:
                targets.append((n, t))
        result_model = e.result.model if e.result is not None else None
        ends_with_id = e.path.endswith("{id}" + _ext(e.path))
        id_target = dict(targets).get("id")
        id_model = id_target.models[0] if id_target and id_target.models else None
        chosen = self.conventions.action_for(e)
        if chosen is not None:  # a product whose verbs are not REST (Backpack POSTs)
            action, model = chosen, id_model if chosen in ("update", "delete") else result_model
        elif e.is_list:  # a list answer is a list, whatever the verb
            action, model = "list", result_model
        elif e.method == "GET":
            if ends_with_id and result_model is not None and result_model == id_model:
                action, model = "get", result_model
            else:
                action, model = "singleton", result_model
        elif e.method == "POST":
            if "id" in names:
                action, model = "action", id_model
            elif result_model is not None:
                action, model = "create", result_model
            else:
                same = self.table.get_endpoint(e.path)
                lm = same.result.model if same is not None and same.result is not None else None
                action, model = ("create", lm) if lm else ("action", None)
        elif e.method == "PUT":
            if ends_with_id and id_model is not None:
                action, model = "update", id_model
            elif "id" in names:
                action, model = "action", id_model
            else:
                same = self.table.get_endpoint(e.path)
                sm = same.result.model if same is not None and same.result is not None else None
                action, model = "singleton", sm or result_model
        else:  # DELETE
            action = "delete" if ends_with_id and id_model is not None else "action"
            model = id_model
        return Route(e, action, model, tuple(targets))


@cache
def schema_for(table: ApiTable) -> Schema:
    from ._conventions import conventions_for

    return Schema(table, conventions_for(table.name))


# -- store ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Meta:
    model: str
    links: dict[str, set[Any]] = field(default_factory=dict)
    modified: float = 0.0


class Store:
    """Every record of the account, by model and by id, with links and modification times."""

    def __init__(self) -> None:
        self.records: dict[str, dict[int, dict[str, Any]]] = {}
        self.meta: dict[int, Meta] = {}
        self.singletons: dict[str, dict[str, Any]] = {}
        self.singleton_modified: dict[str, float] = {}
        self.next_id = 1001
        self.clock = SEED_EPOCH.timestamp()
        #: Bumped by every write: cached list pages are valid while it is unchanged.
        self.version = 0
        self.created = 0
        self.updated = 0
        self.deleted = 0
        self.account_inactive = False
        #: Seeded records whose fields are generated on first read (seeding stays cheap).
        self.lazy: set[int] = set()
        self.filler: Callable[[str, dict[str, Any]], None] | None = None

    def _ready(self, rid: int, model: str, record: dict[str, Any]) -> dict[str, Any]:
        if rid in self.lazy:
            self.lazy.discard(rid)
            if self.filler is not None:
                self.filler(model, record)
        return record

    # reads
    def counts(self) -> dict[str, int]:
        """Records per model (what tests compare exports against)."""
        return {m: len(rs) for m, rs in sorted(self.records.items()) if rs}

    def get(self, rid: int, models: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        meta = self.meta.get(rid)
        if meta is None or (models and ANY not in models and meta.model not in models):
            return None
        record = self.records[meta.model].get(rid)
        return None if record is None else self._ready(rid, meta.model, record)

    def all(self, model: str) -> list[dict[str, Any]]:
        return [self._ready(rid, model, r) for rid, r in self.records.get(model, {}).items()]

    def ids(self, model: str) -> list[int]:
        return list(self.records.get(model, {}))

    def linked(self, model: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for rid, record in self.records.get(model, {}).items():
            links = self.meta[rid].links
            if all(v in links.get(k, ()) for k, v in params.items()):
                yield self._ready(rid, model, record)

    # writes
    def tick(self) -> float:
        """A modification time strictly later than any before (Last-Modified has 1 s steps)."""
        self.version += 1
        self.clock = max(time.time(), math.floor(self.clock) + 1.0)
        return self.clock

    def new_id(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    def add(
        self,
        model: str,
        record: dict[str, Any],
        links: dict[str, set[Any]] | None = None,
        modified: float | None = None,
    ) -> dict[str, Any]:
        rid = record.get("id")
        if not isinstance(rid, int) or rid in self.meta:
            rid = self.new_id()
            record["id"] = rid
        self.version += 1
        self.records.setdefault(model, {})[rid] = record
        self.meta[rid] = Meta(model, links or {}, modified if modified is not None else self.tick())
        return record

    def link(self, rid: int, params: dict[str, Any]) -> None:
        self.version += 1
        links = self.meta[rid].links
        for k, v in params.items():
            links.setdefault(k, set()).add(v)

    def touch(self, rid: int) -> None:
        self.meta[rid].modified = self.tick()

    def remove(self, rid: int) -> bool:
        meta = self.meta.pop(rid, None)
        if meta is None:
            return False
        self.lazy.discard(rid)
        self.version += 1
        self.records[meta.model].pop(rid, None)
        return True


# -- fake values ----------------------------------------------------------------------------

FIRST = [
    "Ann",
    "Bo",
    "Chloé",
    "Dmitri",
    "Eun-ji",
    "Farah",
    "Gustav",
    "Hana",
    "Ίρις",
    "Jürgen",
    "Kwame",
    "Lucía",
    "Mateus",
    "Nadia",
    "Oisín",
    "Priya",
    "Quentin",
    "Rúna",
    "Søren",
    "Tao",
]
LAST = [
    "Andersson",
    "Brennan",
    "Çelik",
    "Dubois",
    "Eriksen",
    "Fujita",
    "García",
    "Hoang",
    "Ivanova",
    "Jovanović",
    "Kowalski",
    "Łukasz",
    "Müller",
    "Nakamura",
    "O'Neill",
    "Pérez",
]
WORDS = [
    "launch",
    "budget",
    "review",
    "roadmap",
    "design",
    "research",
    "hiring",
    "offsite",
    "invoice",
    "renewal",
    "migration",
    "kick-off",
    "café",
    "naïve plan",
    "über task",
    "日本",
]
COMPANIES = [
    "Acme & Sons",
    "Globex",
    "Initech",
    "Umbrella Ltd",
    "Soylent Corp",
    "Hooli",
    "Vandelay Industries",
    "Åkerlund AB",
    "Zürich Partners",
    "Café Olé",
]


class Faker:
    """Deterministic realistic values from one ``random.Random``."""

    def __init__(self, rng: random.Random, rich_text: bool) -> None:
        self.rng = rng
        self.rich_text = rich_text

    def moment(self, days: int = 700) -> datetime:
        offset = self.rng.randrange(days * 86400)
        return SEED_EPOCH + timedelta(seconds=offset, milliseconds=self.rng.randrange(1000))

    def sentence(self, words: int = 5) -> str:
        picked = [self.rng.choice(WORDS) for _ in range(words)]
        return (" ".join(picked)).capitalize()

    def text(self) -> str:
        body = self.sentence(self.rng.randint(6, 14)) + "."
        if self.rich_text:
            return f"<div>{body} <strong>{self.rng.choice(WORDS)}</strong> \u2013 \u2713</div>"
        return body + " \u2013 \u2713"

    def string(self, f: FieldInfo, model: str, rid: int) -> str:
        name = f.name
        r = self.rng
        if name in ("first_name",):
            return r.choice(FIRST)
        if name in ("last_name",):
            return r.choice(LAST)
        if "email" in name or (name == "address" and "Email" in model):
            local = "".join(c for c in r.choice(FIRST).lower() if c.isascii()) or "user"
            return f"{local}.{rid}@example.com"
        if name == "location":
            return r.choice(["Work", "Home", "Other"])
        if name == "city":
            return r.choice(["Chicago", "København", "São Paulo", "Zürich", "Kyoto"])
        if name == "country":
            return r.choice(["United States", "Denmark", "Brazil", "Switzerland", "Japan"])
        if name == "street":
            return f"{r.randint(1, 999)} {r.choice(LAST)} Street"
        if name == "zip":
            return f"{r.randint(10000, 99999)}"
        if name == "protocol":
            return r.choice(["AIM", "Jabber", "Skype", "ICQ"])
        if name.endswith("url") or name.endswith("_href") or name == "href":
            return f"https://example.com/{model.lower()}/{rid}"
        if name in ("content", "description", "body", "background", "text", "summary"):
            return self.text()
        if name in ("company_name",) or (name == "name" and "Company" in model):
            return r.choice(COMPANIES)
        if name in ("name", "title", "subject", "subject_name"):
            return f"{self.sentence(3)} {rid}"
        if name in ("status",):
            return "active"
        if name in ("type",):
            return model
        if name in ("color",):
            return r.choice(["red", "blue", "green", "yellow", "purple"])
        if "phone" in name or name == "number":
            return f"+1 555 {r.randrange(1000, 9999)}"
        if name in ("currency",):
            return "USD"
        if name in ("visible_to",):
            return "Everyone"
        return self.sentence(2)


# -- seeding --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeedPlan:
    seed: int = 1
    scale: float = 1.0
    counts: dict[str, int] = field(default_factory=dict)  # model name -> root record count


class Seeder:
    """Fills a store from the schema, deterministically from the seed."""

    MAX_DEPTH = 2

    def __init__(self, schema: Schema, plan: SeedPlan, base_url: str) -> None:
        self.schema = schema
        self.table = schema.table
        self.plan = plan
        self.base_url = base_url
        self.rng = random.Random(plan.seed)
        self.faker = Faker(self.rng, rich_text=self.table.format == "json")
        self.store = Store()
        self.store.filler = self.fill
        self.done: set[str] = set()

    # sizes
    def _paged_count(self, route: Route, big: bool) -> int:
        paging = route.endpoint.paging
        scale = self.plan.scale
        if paging is None or paging.style == "none":
            return max(2, round(8 * scale)) if big else 2
        if not big:
            return 3
        if paging.style == "link":
            return max(2, round(120 * scale))  # geared pages 15, 30, 50, then the rest
        return max(2, round(paging.page_size * 2.5 * scale))

    def _root_count(self, model: str, route: Route) -> int:
        if model in self.plan.counts:
            return self.plan.counts[model]
        return self._paged_count(route, big=True)

    # values
    def value(self, t: TypeInfo, f: FieldInfo, model: str, rid: int, depth: int) -> Any:
        r = self.rng
        if f.nullable and r.random() < 0.1:
            return None
        if f.enum:
            return r.choice(f.enum)
        if t.kind == "scalar":
            return self.scalar(t.name, f, model, rid)
        if t.kind == "model":
            if depth >= self.MAX_DEPTH or t.name not in self.table.models:
                return None
            return self.nested(self.table.models[t.name], depth + 1)
        if t.kind == "list":
            assert t.item is not None
            if t.item.kind == "model" and depth >= self.MAX_DEPTH:
                return []
            return [self.value(t.item, f, model, rid, depth) for _ in range(r.randint(0, 2))]
        if t.kind == "dict":
            return {"key": "value"}
        return None

    def scalar(self, kind: str, f: FieldInfo, model: str, rid: int) -> Any:
        r = self.rng
        if kind == "int":
            if f.name == "id":
                return rid
            if f.name.endswith("_id") and self.store.next_id > 1001:
                return r.randrange(1001, min(self.store.next_id, 1201))
            return (
                r.randint(0, 50) if f.name.endswith(("count", "position")) else r.randint(1, 10_000)
            )
        if kind == "str":
            if f.name == "download_url" or (model == "Attachment" and f.name == "url"):
                # files are served by the sandbox itself (GET /__sandbox/files/...)
                return f"{self.base_url}/__sandbox/files/{model.lower()}/{rid}"
            return self.faker.string(f, model, rid)
        if kind == "bool":
            return r.random() < 0.5
        if kind == "datetime":
            return self.faker.moment()
        if kind in ("date", "datetime_or_date"):
            return self.faker.moment().date()
        if kind == "decimal":
            return Decimal(r.randint(100, 1_000_000)) / 100
        if kind == "float":
            return round(r.uniform(0, 100), 2)
        if kind == "json":
            return {"label": self.faker.sentence(2)}
        if kind == "number":
            return r.randint(0, 1000) if r.random() < 0.5 else round(r.uniform(0, 100), 2)
        if kind == "int_or_str":
            # Ids typed int | str (BC4 people) are numbers; a string is the rare system actor.
            return self.scalar("int", f, model, rid)
        return self.faker.sentence(1)

    def nested(self, model: ModelInfo, depth: int) -> dict[str, Any]:
        rid = self.rng.randint(1, 10_000_000)
        return {f.name: self.value(f.type, f, model.name, rid, depth) for f in model.fields}

    def record(self, model: str, links: dict[str, set[Any]] | None = None) -> dict[str, Any]:
        """A seeded record: id and relations now, the other fields on first read."""
        rid = self.store.new_id()
        rec: dict[str, Any] = {"id": rid}
        self.apply_links(rec, {k: next(iter(v)) for k, v in (links or {}).items()})
        self.store.add(model, rec, links, modified=self.moments(rid)[1].timestamp())
        self.store.lazy.add(rid)
        return rec

    def moments(self, rid: int) -> tuple[datetime, datetime]:
        """Created and updated times of a seeded record (arithmetic: no draw needed)."""
        spread = 700 * 86400
        created = SEED_EPOCH + timedelta(seconds=(rid * 7919 + self.plan.seed * 104729) % spread)
        return created, created + timedelta(seconds=(rid * 613) % (30 * 86400))

    def generate(self, model: ModelInfo, key: str) -> dict[str, Any]:
        """A record that lives outside the collections (an id-less resource at ``key``),
        the same for the same seed and key whatever was read before it."""
        saved = self.rng
        self.rng = self.faker.rng = random.Random(f"{self.plan.seed}:{model.name}:{key}")
        try:
            return self.nested(model, 0)
        finally:
            self.rng = self.faker.rng = saved

    def fill(self, model: str, rec: dict[str, Any]) -> None:
        """Generate the fields of a seeded record from (seed, model, id) alone."""
        info = self.table.models[model]
        rid = rec["id"]
        saved = self.rng
        self.rng = self.faker.rng = random.Random(f"{self.plan.seed}:{model}:{rid}")
        try:
            for f in info.fields:
                if f.name not in rec:
                    rec[f.name] = self.value(f.type, f, model, rid, 0)
        finally:
            self.rng = self.faker.rng = saved
        created, updated = self.moments(rid)
        if "created_at" in rec:
            rec["created_at"] = created
        if "updated_at" in rec:
            rec["updated_at"] = updated
        self.set_url(model, rec)
        self.conventions.on_fill(self, model, rec)

    def set_url(self, model: str, rec: dict[str, Any]) -> None:
        path = self.schema.get_paths.get(model)
        if path and "url" in rec and "{" not in path.replace("{id}", ""):
            rec["url"] = self.base_url + path.replace("{id}", str(rec["id"]))

    # structure
    def parent_combos(self, route: Route) -> list[dict[str, Any]]:
        """Parameter values naming existing parents, for a list endpoint with parameters."""
        combos: list[dict[str, Any]] = [{}]
        for name, target in route.targets:
            if target.enum_param is not None:
                nxt: list[dict[str, Any]] = []
                for value, m in target.by_enum:
                    for rid in self.store.ids(m)[:20]:
                        nxt.extend({**c, target.enum_param: value, name: rid} for c in combos)
                combos = nxt
                continue
            pool: list[int] = []
            for m in target.models:
                if m == ANY:  # a few records of every model
                    pool = [rid for rs in self.store.records.values() for rid in list(rs)[:3]]
                    break
                pool.extend(self.store.ids(m))
            if not pool:
                return []
            combos = [{**c, name: rid} for c in combos for rid in pool[:40]]
        return combos[:40]

    def seed_model(self, model: str) -> None:
        if model in self.done or model not in self.table.models:
            return
        self.done.add(model)
        if model in self.conventions.virtual_models:
            for source in self.conventions.virtual_models[model][0]:
                self.seed_model(source)
            return

        def is_self(route: Route) -> bool:
            return any(model in t.models for _, t in route.targets)

        # Records are created under their home list (the URL that also takes creates) and
        # then filed under the other lists too; a model nested in itself comes last.
        homes = self.schema.home_paths
        routes = sorted(
            self.schema.lists.get(model, []),
            key=lambda r: (is_self(r), r.endpoint.path not in homes, r.endpoint.key),
        )
        for route in routes:
            for _, target in route.targets:
                for m in target.models:
                    if m not in (ANY, model):
                        self.seed_model(m)
        roots = [r for r in routes if not r.targets]
        # A home list under a parent (where creates go) makes the records; lists without
        # parameters (e.g. "overdue to-dos") then show them all without making their own.
        filed_home = any(r.targets and not is_self(r) and r.endpoint.path in homes for r in routes)
        if roots and not filed_home:
            for _ in range(max(self._root_count(model, r) for r in roots)):
                self.record(model)
        elif not roots and all(is_self(r) for r in routes):
            for _ in range(self.conventions.pool_size(self, model)):
                self.record(model)
        cap = max(3, round(10 * self.plan.scale))
        for route in routes:
            if not route.targets:
                continue
            planned = self.conventions.seed_parents(self, route)
            if planned is not None:  # the product says which parents hold how many
                for parents, many in planned:
                    for _ in range(many):
                        self.record(model, {k: {v} for k, v in parents.items()})
                continue
            combos = self.parent_combos(route)
            if not combos:
                continue
            existing = self.store.records.get(model, {})
            keys = {name for name, _ in route.targets}
            own_parents = model in self.conventions.single_parent and not any(
                keys & self.store.meta[rid].links.keys() for rid in existing
            )
            if existing and not is_self(route) and not own_parents:
                for rid, rec in existing.items():  # already seeded: file each under a parent
                    # ... that agrees with the parents it has (a post stays in its project)
                    links = self.store.meta[rid].links
                    fits = [c for c in combos if all(v in links.get(k, (v,)) for k, v in c.items())]
                    if not fits:
                        continue
                    combo = self.rng.choice(fits)
                    self.store.link(rid, combo)
                    self.apply_links(rec, combo)
                continue
            for i, combo in enumerate(combos[:cap]):
                n = self.plan.counts.get(model) if i == 0 else None
                for _ in range(n or self._paged_count(route, big=i == 0)):
                    self.record(model, {k: {v} for k, v in combo.items()})

    @staticmethod
    def apply_links(rec: dict[str, Any], combo: dict[str, Any]) -> None:
        """Fields named like the parameters that file a record carry the same ids."""
        for k, v in combo.items():
            if k in rec and k.endswith("_id") and isinstance(v, int):
                rec[k] = v

    @property
    def conventions(self) -> Conventions:
        return self.schema.conventions

    def run(self) -> Store:
        for model in self.schema.record_models:
            self.seed_model(model)
        self.conventions.after_seed(self)
        self.store.created = 0
        return self.store


def seed_store(schema: Schema, plan: SeedPlan, base_url: str) -> Store:
    return Seeder(schema, plan, base_url).run()


def today() -> date:
    return datetime.now(UTC).date()
