"""The aiohttp application that serves one product from its table.

One catch-all route hands every request to :meth:`SandboxApp.handle`, which applies, in
order: control endpoints (``/__sandbox/...``), injected faults, routing, the product's
header checks, authentication, the inactive-account reply, rate limits, the endpoint
itself, conditional GET (ETag / Last-Modified -> 304), and faults on the body. Any
unexpected exception becomes the product's 500 reply and is counted, never a crash.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from aiohttp import web

from aiocamp.errors import ConfigError

from ._conventions import Secrets, http_date
from ._data import ANY, Route, Schema, Seeder, SeedPlan, Store, schema_for
from ._faults import FaultDice, Faults, SlidingWindows, parse_rate_limit
from ._table import ApiTable, BodyInfo, FieldInfo, ModelInfo, load_table
from ._wire import (
    XML_DECL,
    BodyError,
    json_body,
    json_record,
    parse_json,
    parse_scalar,
    parse_xml,
    plain_to_record,
    plural,
    xml_document,
    xml_record,
)

log = logging.getLogger("aiocamp.sandbox")

MAX_BODY = 10 * 1024 * 1024
PAGE_CACHE_SIZE = 512
BODY_CACHE_SIZE = 20_000
GEARS = (15, 30, 50, 100)  # Basecamp's geared page sizes: page 1, 2, 3, then every later page
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}


def file_bytes(name: str) -> bytes:
    """The content of a sandbox attachment: deterministic from its path, 1-8 KiB."""
    digest = hashlib.sha256(name.encode()).digest()
    size = 1024 + int.from_bytes(digest[:2], "big") % 7168
    return (digest * (size // len(digest) + 1))[:size]


def gear(page: int) -> tuple[int, int]:
    """Offset and size of a geared page (1-based)."""
    start = sum(GEARS[i] if i < len(GEARS) else GEARS[-1] for i in range(page - 1))
    return start, GEARS[min(page, len(GEARS)) - 1]


def _int(text: str | None, default: int) -> int:
    if text is None:
        return default
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 12 else default


# -- routing ----------------------------------------------------------------------------------

_PIECE = re.compile(r"\{(\w+)\}")


def _served_path(route: Route) -> str:
    """The endpoint's path on the sandbox (an absolute URL's path for other hosts)."""
    path = route.endpoint.path
    return "/" + path.split("/", 3)[3] if path.startswith("https://") else path


def _pattern(route: Route, drop_token: bool = False) -> tuple[str, bool]:
    path = route.endpoint.path
    if drop_token:  # Backpack under OAuth: /{token}/me.xml is /me.xml
        path = path.removeprefix("/{token}")
    absolute = path.startswith("https://")
    if absolute:
        path = "/" + path.split("/", 3)[3]
    out = []
    pos = 0
    for m in _PIECE.finditer(path):
        out.append(re.escape(path[pos : m.start()]))
        p = route.endpoint.param(m.group(1))
        name = m.group(1)
        if p is not None and p.enum:
            out.append(f"(?P<{name}>" + "|".join(re.escape(str(v)) for v in p.enum) + ")")
        elif name == "token" and route.endpoint.url_token:
            out.append("(?P<token>[^/]+)")
        elif p is None or p.type.name == "int":
            out.append(f"(?P<{name}>\\d{{1,19}})")
        else:
            out.append(f"(?P<{name}>[^/]+)")
        pos = m.end()
    out.append(re.escape(path[pos:]))
    return "".join(out), absolute


class Router:
    """Matches request paths to routes, bucketed by method and depth for speed."""

    def __init__(self, schema: Schema, account_prefix: bool) -> None:
        self.buckets: dict[tuple[str, int], list[tuple[re.Pattern[str], Route]]] = {}
        ordered = sorted(schema.routes, key=lambda r: len(r.endpoint.placeholders))
        for route in ordered:
            for drop in (False, True) if route.endpoint.url_token else (False,):
                body, absolute = _pattern(route, drop)
                prefix = r"/(?P<_account>\d+)" if account_prefix and not absolute else ""
                regex = re.compile(f"^{prefix}{body}$")
                depth = _served_path(route).count("/") + (1 if prefix else 0) - drop
                self.buckets.setdefault((route.endpoint.method, depth), []).append((regex, route))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for regex, route in self.buckets.get((method, path.count("/")), ()):
            m = regex.match(path)
            if m is not None:
                return route, m.groupdict()
        return None


# -- stats ------------------------------------------------------------------------------------


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_limit_class: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    not_modified: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    sandbox_errors: int = 0


class OAuthExtension(Protocol):
    """An OAuth 2 authorization server sharing the sandbox's host (``aiocamp.sandbox.oauth``)."""

    def install(self, app: web.Application, *, authorization_json: bool = True) -> None: ...

    def check_bearer(self, request: web.Request) -> bool: ...

    def reset(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...


def default_oauth(product: str, account_id: int | None) -> OAuthExtension | None:
    """The sandbox OAuth server when the ``aiocamp.sandbox.oauth`` module is present."""
    import importlib

    try:
        module = importlib.import_module("aiocamp.sandbox.oauth")
    except ImportError:
        return None
    server: OAuthExtension = module.OAuthServer.for_product(product, account_id=account_id)
    return server


class Reply(Exception):
    """Raised inside handlers to answer at once with ``response``."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class Result:
    """A handler's answer before conditional GET and body faults."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: float | None = None
    origin: Result | None = None  # the cached page this reply copies (its ETag is reused)
    etag: str | None = None


# -- the application --------------------------------------------------------------------------


class SandboxApp:
    """State and request handling of one product's sandbox."""

    def __init__(
        self,
        product: str,
        *,
        seed: int = 1,
        scale: float = 1.0,
        counts: Mapping[str, int] | None = None,
        rate_limit: str | None = None,
        faults: Faults | str | None = None,
        account_inactive: bool = False,
        oauth: OAuthExtension | bool = True,
        table: ApiTable | None = None,
    ) -> None:
        self.table: ApiTable = table if table is not None else load_table(product)
        product = self.table.name
        self.schema: Schema = schema_for(self.table)
        self.conv = self.schema.conventions
        self.secrets = Secrets(product, seed)
        unknown = sorted(set(counts or {}) - set(self.table.models))
        if unknown:
            raise ConfigError(f"counts: no model {', '.join(unknown)} in {product}")
        if not scale > 0:
            raise ConfigError(f"scale must be > 0, got {scale!r}")
        self.plan = SeedPlan(seed, float(scale), dict(counts or {}))
        self.limits = parse_rate_limit(rate_limit, self.table.rate_limits)
        self.faults = Faults.parse(faults) if isinstance(faults, str) else faults
        self.router = Router(self.schema, self.conv.account_prefix)
        self.oauth: OAuthExtension | None
        if isinstance(oauth, bool):
            self.oauth = default_oauth(product, self.conv.account_id) if oauth else None
        else:
            self.oauth = oauth
        self.content_type = CONTENT_TYPES[self.table.format]
        self.account_inactive = account_inactive
        self.base_url = ""
        self.store = Store()
        self.seeder: Seeder | None = None
        self.windows = SlidingWindows(self.limits, block_extends=self.conv.block_extends)
        self.stats = Stats()
        self.fault_dice = FaultDice(seed)
        self._rendered: dict[tuple[int, str], tuple[float, Any]] = {}
        #: Whole GET-by-id replies, valid while the record's modification time is unchanged.
        self._bodies: dict[tuple[int, str], Result] = {}
        #: Whole list pages by request, valid while the store's version is unchanged.
        self._pages: dict[tuple[Any, ...], tuple[int, Result]] = {}

    # lifecycle
    def start(self, base_url: str) -> None:
        """Seed the store once the base URL (and so every ``url`` field) is known."""
        self.base_url = base_url.rstrip("/")
        self.reset()

    def reset(self) -> None:
        self.seeder = Seeder(self.schema, self.plan, self.conv.api_url(self.base_url))
        self.store = self.seeder.run()
        self.store.account_inactive = self.account_inactive
        self.windows = SlidingWindows(self.limits, block_extends=self.conv.block_extends)
        self.stats = Stats()
        self.fault_dice = FaultDice(self.plan.seed)
        self._rendered.clear()
        if self.oauth is not None:
            self.oauth.reset()
        self._pages.clear()
        self._bodies.clear()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=self.conv.middlewares())
        if self.oauth is not None:  # its routes come before the catch-all
            serves_launchpad = any(
                e.path.endswith("/authorization.json") for e in self.table.endpoints
            )
            self.oauth.install(app, authorization_json=not serves_launchpad)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    # stats
    def stats_report(self) -> dict[str, Any]:
        s = self.stats
        return {
            "product": self.table.name,
            "uptime": round(time.monotonic() - s.started, 3),
            "requests": s.requests,
            "by_method": dict(s.by_method),
            "by_status": dict(s.by_status),
            "by_limit_class": dict(s.by_limit_class),
            "by_endpoint": dict(s.by_endpoint),
            "throttled": s.throttled,
            "worst_window": self.windows.report(),
            "not_modified": s.not_modified,
            "faults": dict(s.faults),
            "faults_injected": sum(s.faults.values()),
            "records_created": self.store.created,
            "records_updated": self.store.updated,
            "records_deleted": self.store.deleted,
            "records": self.store.counts(),
            "sandbox_errors": s.sandbox_errors,
            "oauth": self.oauth.stats() if self.oauth is not None else None,
        }

    async def control(self, request: web.Request) -> web.StreamResponse:
        op = request.path.removeprefix("/__sandbox/")
        if op == "stats" and request.method == "GET":
            return web.json_response(self.stats_report())
        if op == "reset" and request.method == "POST":
            self.reset()
            return web.json_response({"reset": True, "records": self.store.counts()})
        if op.startswith("files/") and request.method in ("GET", "HEAD"):
            return web.Response(body=file_bytes(op), content_type="application/octet-stream")
        return web.json_response(
            {"error": f"no control endpoint {request.method} {op}"}, status=404
        )

    # entry point
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/__sandbox/"):
            return await self.control(request)
        if "/__sandbox/files/" in request.path:  # Basecamp 4: under the account's URL
            op = "files/" + request.path.split("/__sandbox/files/", 1)[1]
            if request.method in ("GET", "HEAD"):
                return web.Response(body=file_bytes(op), content_type="application/octet-stream")
        s = self.stats
        s.requests += 1
        s.by_method[request.method] += 1
        fault = None
        try:
            if self.faults is not None:
                fault = self.faults.draw(
                    self.fault_dice.roll(f"{request.method} {request.path_qs}")
                )
                early = await self._early_fault(request, fault)
                if early is not None:
                    s.by_status[self._status_key(request, early)] += 1
                    return early
            response = await self._serve(request, fault)
        except Reply as reply:
            response = reply.response
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("sandbox error on %s %s", request.method, request.path)
            s.sandbox_errors += 1
            response = self.conv.error(500, ["The sandbox failed on this request"])
        s.by_status[self._status_key(request, response)] += 1
        return response

    @staticmethod
    def _status_key(request: web.Request, response: web.StreamResponse) -> str:
        transport = request.transport
        if transport is None or transport.is_closing():
            return "closed"  # a drop or cut fault: the client saw no complete reply
        return str(response.status)

    async def _early_fault(
        self, request: web.Request, fault: str | None
    ) -> web.StreamResponse | None:
        faults = self.faults
        assert faults is not None
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.storm is not None:
            elapsed = time.monotonic() - self.stats.started
            start, end = faults.storm
            if start <= elapsed < end:
                self.stats.faults["storm"] += 1
                self.stats.throttled += 1
                return self.conv.throttled(max(1, round(end - elapsed + 0.499)))
        if fault is None or fault in ("cut", "truncate", "malformed"):
            return None
        self.stats.faults[fault] += 1
        if fault == "drop":
            return self._abort(request, web.Response(status=204))
        status = int(fault)
        if status in (429, 503):
            reply = self.conv.error(status, ["Injected fault: try again later"])
            reply.headers["Retry-After"] = "1"
            return reply
        return self.conv.error(status, ["Injected fault"])

    async def _serve(self, request: web.Request, fault: str | None) -> web.StreamResponse:
        method = "GET" if request.method == "HEAD" else request.method  # HEAD: a GET sans body
        matched = self.router.match(method, request.path)
        if matched is None:
            return self.conv.not_found()
        route, raw = matched
        e = route.endpoint
        conv = self.conv
        pre = conv.precheck(request, route)
        if pre is not None:
            return pre
        path_token = raw.pop("token", None) if e.url_token else None
        if path_token is not None:  # Backpack /{token}/...: the token is the credential
            authorized = path_token == self.secrets.token
        else:
            authorized = conv.authorize(request, route, self.secrets)
        if (
            not authorized and path_token is None and "body_token" in self.table.auth
        ):  # Backpack: <token> in the body
            authorized = conv.authorize_body(await request.read(), self.secrets)
        if not authorized and not (self.oauth is not None and self.oauth.check_bearer(request)):
            return conv.unauthorized()
        account = raw.pop("_account", None)
        if account is not None and int(account) != conv.account_id:
            return conv.not_found()
        if self.store.account_inactive:
            return conv.inactive()
        s = self.stats
        for cls in e.limit_classes:
            s.by_limit_class[cls] += 1
        s.by_endpoint[e.key] += 1
        if self.limits:
            retry_after = self.windows.admit(e.limit_classes)
            if retry_after:
                s.throttled += 1
                return conv.throttled(retry_after)
        params: dict[str, Any] = {
            k: int(v)
            if v.isdigit()
            and (p := e.param(k)) is not None
            and p.type.name in ("int", "int_or_str")  # Harvest people: an id or an e-mail
            else v
            for k, v in raw.items()
        }
        self._check_targets(route, params)
        result = await getattr(self, "_act_" + route.action)(request, route, params)
        return await self._respond(request, result, fault)

    # -- checks and helpers -------------------------------------------------------------------

    def _check_targets(self, route: Route, params: dict[str, Any]) -> None:
        for name, target in route.targets:
            value = params.get(name)
            if not isinstance(value, int):
                continue
            models = target.model_for(params)
            if target.is_any:
                if value not in self.store.meta:
                    raise Reply(self.conv.not_found())
            elif models and self.store.get(value, models) is None:
                raise Reply(self.conv.not_found())

    def _filters(self, route: Route, params: dict[str, Any]) -> dict[str, Any]:
        keep = {n for n, _ in route.targets}
        keep |= {t.enum_param for _, t in route.targets if t.enum_param}
        keep.discard("id")
        return {k: v for k, v in params.items() if k in keep}

    def _model(self, name: str | None) -> ModelInfo:
        if name is None or name not in self.table.models:
            raise Reply(self.conv.error(500, ["This endpoint returns no record"]))
        return self.table.models[name]

    def _rendered_record(self, model: ModelInfo, rec: dict[str, Any]) -> Any:
        """A stored record in wire form (a dict for JSON, an XML fragment), cached until it
        changes; records outside the store (id-less resources) are rendered every time."""
        rid = rec.get("id")
        meta = self.store.meta.get(rid) if isinstance(rid, int) else None
        key: tuple[int, str] | None = None
        if (
            isinstance(rid, int)
            and meta is not None
            and (
                meta.model == model.name
                or meta.model in self.conv.virtual_models.get(model.name, ((), ""))[0]
            )
        ):
            key = (rid, model.name)
            hit = self._rendered.get(key)
            if hit is not None and hit[0] == meta.modified:
                return hit[1]
        out: Any
        if self.table.format == "json":
            out = json_record(self.table, model, rec)
        else:
            out = xml_record(self.table, model, rec)
        if key is not None and meta is not None:
            self._rendered[key] = (meta.modified, out)
        return out

    def render_one(self, model: ModelInfo, rec: dict[str, Any]) -> bytes:
        out = self._rendered_record(model, rec)
        return json_body(out) if self.table.format == "json" else xml_document(out)

    def render_list(
        self,
        model: ModelInfo,
        records: list[dict[str, Any]],
        result_key: str | None,
        *,
        envelope: dict[str, Any] | None = None,
        root_attrs: str = "",
    ) -> bytes:
        items = [self._rendered_record(model, r) for r in records]
        if self.table.format == "json":
            if not result_key:
                return json_body(items)
            return json_body({**(envelope or {}), result_key: items})
        root = plural(model.xml_tag or "record")
        return f'{XML_DECL}<{root} type="array"{root_attrs}>{"".join(items)}</{root}>'.encode()

    def _location(self, model: str, rid: int) -> str | None:
        path = self.schema.get_paths.get(model)
        if path is None or "{" in path.replace("{id}", ""):
            return None
        return self.conv.api_url(self.base_url) + path.replace("{id}", str(rid))

    async def _body(self, request: web.Request, route: Route, *, creating: bool) -> dict[str, Any]:
        """The request body as record fields (by name); BodyError becomes the product's reply."""
        spec = route.endpoint.body
        if spec is None or spec.kind in ("raw", "multipart"):
            await request.read()
            return {}
        raw = await request.read()
        fields: tuple[FieldInfo, ...]
        model = self.table.models.get(spec.model) if spec.kind == "model" else None
        if model is not None:
            fields = tuple(f for f in model.fields if not f.read_only)
        else:
            fields = spec.params
        try:
            values = self._decode_body(raw, spec, fields, model)
            missing = [f.wire for f in fields if f.required and values.get(f.name) is None]
            if creating and model is not None:
                wanted = self.conv.required_fields.get(model.name, ())
                missing += [
                    f.wire
                    for f in model.fields
                    if f.name in wanted and values.get(f.name) in (None, "")
                ]
            if missing:
                raise BodyError(422, [f"{w} can't be blank" for w in missing])
        except BodyError as exc:
            raise Reply(self.conv.error(exc.status, exc.messages)) from None
        # <request><post>...</post><notify>..</notify></request>: the record's own fields
        # arrive wrapped in an element of the record's model; lift them to the top.
        for f in fields:
            if f.type.kind == "model" and f.type.name == route.model:
                wrapped = values.pop(f.name, None)
                if isinstance(wrapped, dict):
                    values = {**values, **wrapped}
        return values

    def _decode_body(
        self, raw: bytes, spec: BodyInfo, fields: tuple[FieldInfo, ...], model: ModelInfo | None
    ) -> dict[str, Any]:
        xml_root, xml_scalar = spec.xml_root, spec.xml_scalar
        if not raw.strip():
            return {}
        if self.table.format == "json":
            data = parse_json(raw)
            if not isinstance(data, dict):
                raise BodyError(400, ["the body must be a JSON object"])
        else:
            root, data = parse_xml(raw)
            expected = xml_root or (model.xml_tag if model is not None else None)
            if (
                "body_token" in self.table.auth
                and root == "request"
                and expected not in (None, "request")
                and isinstance(data, dict)
                and expected in data
            ):
                # Backpack: <request><token>..</token><note>..</note></request>
                root, data = expected, data[expected]
            elif root == "request" and isinstance(data, dict) and "token" in data:
                data = {k: v for k, v in data.items() if k != "token"} or None
            if xml_scalar and fields:
                text = data.get("#text") if isinstance(data, dict) else data
                try:
                    return {fields[0].name: parse_scalar(fields[0].type.name, text)}
                except ValueError as exc:
                    raise BodyError(422, [f"{root}: {exc}"]) from None
            if expected and root != expected:
                raise BodyError(422, [f"expected a <{expected}> root element, got <{root}>"])
            if spec.xml_list and fields:  # the root itself is the one list field
                data = {fields[0].wire: data if isinstance(data, list) else []}
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise BodyError(422, [f"<{root}> must contain fields"])
        values, problems = plain_to_record(self.table, fields, data)
        if problems:
            raise BodyError(422, problems)
        return values

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _stamp(self, rec: dict[str, Any], *, created: bool) -> None:
        now = self._now()
        if created and "created_at" in rec:
            rec["created_at"] = now
        if "updated_at" in rec:
            rec["updated_at"] = now

    def _singleton_record(self, key: str, model: ModelInfo) -> dict[str, Any]:
        rec = self.store.singletons.get(key)
        if rec is None:
            assert self.seeder is not None
            made = self.conv.singleton(self, model.name)
            rec = made if made is not None else self.seeder.generate(model, key)
            if "id" in rec and rec["id"] is None:
                rec["id"] = self.store.new_id()
            self.store.singletons[key] = rec
            self.store.singleton_modified[key] = self.store.tick()
        return rec

    # -- actions ------------------------------------------------------------------------------

    async def _act_list(self, request: web.Request, route: Route, params: dict[str, Any]) -> Result:
        filters = self._filters(route, params)
        key = (
            route.endpoint.key,
            tuple(sorted(filters.items())),
            request.host,
            request.query_string,
        )
        hit = self._pages.get(key)
        if hit is not None and hit[0] == self.store.version:
            cached = hit[1]
            return Result(
                cached.status, cached.body, dict(cached.headers), cached.last_modified, cached
            )
        result = self._list_page(request, route, filters)
        if len(self._pages) >= PAGE_CACHE_SIZE:
            self._pages.clear()
        self._pages[key] = (self.store.version, result)
        return Result(
            result.status, result.body, dict(result.headers), result.last_modified, result
        )

    def listed(self, model: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
        """The records a list of ``model`` filed under ``filters`` holds, in order."""
        virtual = self.conv.virtual_models.get(model)
        if virtual is None:
            return list(self.store.linked(model, filters))
        sources, kind = virtual  # a view over other models, e.g. Highrise parties
        return [
            {**rec, kind: source}
            for source in sources
            for rec in self.store.linked(source, filters)
        ]

    def _list_page(self, request: web.Request, route: Route, filters: dict[str, Any]) -> Result:
        e = route.endpoint
        model = self._model(route.model)
        items = self.listed(model.name, filters)
        apart = self.conv.list_excludes.get(e.key)
        if apart:  # records filed deeper (a boost on one of the recording's events)
            items = [r for r in items if not apart & self.store.meta[r["id"]].links.keys()]
        items = self._query_filter(request, route, model, items)
        items = self.conv.list_filter(route, request.query, items)
        total = len(items)
        headers: dict[str, str] = {}
        root_attrs = ""
        paging = e.paging
        if paging is None or paging.style == "none":
            page = items
        elif paging.style == "continued_at":
            # Classic comments: the root says how many there are and where the next
            # (older) page is; the path is opaque to clients, so ?n= offsets serve here.
            n = _int(request.query.get("n"), 0)
            size = paging.page_size or 50
            page = items[n : n + size]
            root_attrs = f' count="{total}"'
            if n + size < total:
                root_attrs += f' continued-at="{request.path}?n={n + size}"'
        elif paging.style == "offset":
            n = _int(request.query.get(paging.param), 0)
            page = items[n : n + paging.page_size]
        elif paging.style == "page":
            first = paging.first_page
            number = max(first, _int(request.query.get(paging.param), first)) - first
            size = paging.page_size
            if paging.size_param:  # ?count= asks for smaller pages (never larger)
                size = min(size, max(1, _int(request.query.get(paging.size_param), size)))
            page = items[number * size : (number + 1) * size]
        else:  # link: geared pages, Link rel="next" and X-Total-Count (bc3-api README)
            number = max(1, _int(request.query.get("page"), 1))
            start, size = gear(number)
            page = items[start : start + size]
            headers["X-Total-Count"] = str(total)
            if start + size < total:
                nxt = request.url.update_query(page=str(number + 1))
                headers["Link"] = f'<{nxt}>; rel="next"'
        modified = max((self.store.meta[r["id"]].modified for r in items), default=None)
        envelope = None
        if e.envelope and e.envelope in self.table.models:  # the list's sibling fields
            wrapper = self.table.models[e.envelope]
            fields = self._singleton_record(request.path + "#envelope", wrapper)
            envelope = json_record(self.table, wrapper, fields)
            envelope.pop(e.result_key or "", None)
        body = self.render_list(model, page, e.result_key, envelope=envelope, root_attrs=root_attrs)
        return Result(200, body, headers, modified)

    def _query_filter(
        self, request: web.Request, route: Route, model: ModelInfo, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        for q in route.endpoint.query:
            raw = request.query.get(q.wire)
            if raw is None:
                if q.name == "status" and q.enum and model.field("status") is not None:
                    # lists that can show archived/trashed records show active ones by default
                    hidden = {str(v) for v in q.enum}
                    items = [r for r in items if r.get("status") not in hidden]
                continue
            if q.type.name == "datetime":
                try:
                    since = (
                        datetime.strptime(raw, q.format).replace(tzinfo=UTC)
                        if q.format
                        else parse_scalar("datetime", raw)
                    )
                except ValueError:
                    raise Reply(self.conv.error(400, [f"{q.wire}: not a valid time"])) from None
                stamp = next(
                    (n for n in ("updated_at", "created_at", "deleted_at") if model.field(n)),
                    "updated_at",
                )
                items = [r for r in items if r.get(stamp) is None or r[stamp] >= since]
            elif q.name == "term":
                needle = raw.casefold()
                items = [
                    r
                    for r in items
                    if any(isinstance(v, str) and needle in v.casefold() for v in r.values())
                ]
            elif not q.required:
                f = model.field(q.name)
                if f is not None and f.type.kind == "scalar" and f.type.name in ("str", "int"):
                    items = [r for r in items if str(r.get(q.name)) == raw]
        return items

    async def _act_get(self, request: web.Request, route: Route, params: dict[str, Any]) -> Result:
        model = self._model(route.model)
        rid = params["id"]
        rec = self.store.get(rid, (model.name,))
        if rec is None:
            raise Reply(self.conv.not_found())
        modified = self.store.meta[rid].modified
        hit = self._bodies.get((rid, model.name))
        if hit is None or hit.last_modified != modified:
            hit = Result(200, self.render_one(model, rec), {}, modified)
            if len(self._bodies) >= BODY_CACHE_SIZE:
                self._bodies.clear()
            self._bodies[(rid, model.name)] = hit  # its ETag is computed once, on first reply
        return Result(200, hit.body, {}, modified, hit)

    def _reply_record(
        self, status: int, model: ModelInfo | None, rec: dict[str, Any] | None
    ) -> Result:
        if model is None or rec is None:
            return Result(status)
        return Result(status, self.render_one(model, rec))

    def _result_model(self, route: Route) -> ModelInfo | None:
        r = route.endpoint.result
        if r is None or r.kind != "model" or r.name not in self.table.models:
            return None
        return self.table.models[r.name]

    async def _act_singleton(
        self, request: web.Request, route: Route, params: dict[str, Any]
    ) -> Result:
        """A resource without an id in its URL: read it, or (PUT) change it."""
        e = route.endpoint
        model = self._result_model(route)
        key = request.path
        if e.method == "GET":
            if model is None:
                return Result(e.status or 200)
            rec = self._singleton_record(key, model)
            return Result(
                e.status or 200, self.render_one(model, rec), {}, self.store.singleton_modified[key]
            )
        values = await self._body(request, route, creating=False)
        target = self.table.models.get(route.model or "") or model
        if target is None:
            return Result(e.status or 200)
        rec = self._singleton_record(key, target)
        rec.update(values)
        self._stamp(rec, created=False)
        self.store.singleton_modified[key] = self.store.tick()
        self.store.updated += 1
        return self._reply_record(e.status or 200, model, rec if model is target else None)

    async def _act_create(
        self, request: web.Request, route: Route, params: dict[str, Any]
    ) -> Result:
        e = route.endpoint
        model = self._model(route.model)
        values = await self._body(request, route, creating=True)
        rec: dict[str, Any] = dict.fromkeys((f.name for f in model.fields), None)
        rec.update({k: v for k, v in values.items() if k in rec and k != "id"})
        rec.pop("id", None)
        self._stamp(rec, created=True)
        links = {k: {v} for k, v in self._filters(route, params).items()}
        Seeder.apply_links(rec, {k: next(iter(v)) for k, v in links.items()})
        self.store.add(model.name, rec, links)
        self.conv.on_create(self.store, route, rec, params)
        assert self.seeder is not None
        self.seeder.set_url(model.name, rec)
        self.store.created += 1
        returns_body = self.conv.create_returns_body and not e.follow_location
        result_model = self._result_model(route) if returns_body else None
        result = self._reply_record(e.status or 201, result_model, rec)
        location = self._location(model.name, rec["id"])
        if location:
            result.headers["Location"] = location
        return result

    async def _act_update(
        self, request: web.Request, route: Route, params: dict[str, Any]
    ) -> Result:
        e = route.endpoint
        model = self._model(route.model)
        rec = self.store.get(params["id"], (model.name,))
        if rec is None:
            raise Reply(self.conv.not_found())
        values = await self._body(request, route, creating=False)
        rec.update({k: v for k, v in values.items() if k in rec and k != "id"})
        self._stamp(rec, created=False)
        self.store.touch(rec["id"])
        self.store.updated += 1
        result_model = self._result_model(route)
        if e.result_optional and request.query.get("reload") != "true":
            result_model = None  # Highrise answers an update with an empty 200 unless reload=true
        return self._reply_record(e.status or 200, result_model, rec)

    async def _act_delete(
        self, request: web.Request, route: Route, params: dict[str, Any]
    ) -> Result:
        model = self._model(route.model)
        rec = self.store.get(params["id"], (model.name,))
        if rec is None:
            raise Reply(self.conv.not_found())
        status = self.conv.soft_delete.get(route.endpoint.name)
        if status is not None and "status" in rec:  # e.g. Basecamp 4 "trash": status only
            rec["status"] = status
            self._stamp(rec, created=False)
            self.store.touch(rec["id"])
            self.store.deleted += 1
            return Result(route.endpoint.status or 200)
        if not self.store.remove(params["id"]):
            raise Reply(self.conv.not_found())
        self.conv.on_delete(self.store, model.name, rec)
        self._rendered.pop((params["id"], model.name), None)
        self.store.deleted += 1
        return Result(route.endpoint.status or 200)

    async def _act_action(
        self, request: web.Request, route: Route, params: dict[str, Any]
    ) -> Result:
        """A verb on a record (complete, pin, move...): the record must exist."""
        e = route.endpoint
        values = await self._body(request, route, creating=False)
        rec = None
        rid = params.get("id")
        if isinstance(rid, int):
            models = (route.model,) if route.model else (ANY,)
            rec = self.store.get(rid, models)
            if rec is None:
                raise Reply(self.conv.not_found())
            changes = {k: v for k, v in values.items() if k in rec and k != "id"}
            self.conv.on_action(self.store, route, rec, changes)
            if changes or e.method != "GET":
                rec.update(changes)
                self._stamp(rec, created=False)
                self.store.touch(rid)
        model = self._result_model(route)
        if model is not None and (rec is None or self.store.meta[rec["id"]].model != model.name):
            rec = self._singleton_record(request.path, model)
        return self._reply_record(e.status or 200, model, rec)

    # -- reply --------------------------------------------------------------------------------

    async def _respond(
        self, request: web.Request, result: Result, fault: str | None
    ) -> web.StreamResponse:
        headers = result.headers
        body = result.body
        if request.method in ("GET", "HEAD") and result.status == 200:
            origin = result.origin or result
            if origin.etag is None:
                origin.etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
            etag = origin.etag
            headers["ETag"] = etag
            if result.last_modified is not None:
                headers["Last-Modified"] = http_date(result.last_modified)
            if self._not_modified(request, etag, result.last_modified):
                self.stats.not_modified += 1
                return web.Response(status=304, headers=headers)
        body = self.conv.wrap_reply(body, result.status)
        if body:
            headers["Content-Type"] = self.content_type
        if fault in ("cut", "truncate", "malformed") and body:
            self.stats.faults[fault] += 1
            if fault == "malformed":
                body = b"{oops" if self.table.format == "json" else b"<oops><not-closed>"
            elif fault == "truncate":
                body = body[: len(body) // 2]
            else:
                response = web.StreamResponse(status=result.status, headers=headers)
                response.content_length = len(body)
                await response.prepare(request)
                await response.write(body[: len(body) // 2])
                return self._abort(request, response)
        return web.Response(status=result.status, body=body or None, headers=headers)

    @staticmethod
    def _abort(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        """Close the connection at once (RST); aiohttp then discards ``response`` quietly."""
        if request.transport is not None:
            request.transport.abort()
        return response

    @staticmethod
    def _not_modified(request: web.Request, etag: str, last_modified: float | None) -> bool:
        inm = request.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return etag in tags or "*" in tags
        ims = request.headers.get("If-Modified-Since")
        if ims is None or last_modified is None:
            return False
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return int(last_modified) <= since.timestamp()
