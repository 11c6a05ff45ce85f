"""A valid request for every route of a running sandbox, built from the table alone.

Used by the tests (every endpoint answers; garbage variations of each request never crash
the server) and by the benchmarks. Path parameters name existing records; bodies carry
the required fields with plausible values in the product's wire format.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from ._app import SandboxApp
from ._data import ANY, Route
from ._table import FieldInfo, ModelInfo, TypeInfo
from ._wire import XML_TYPE, json_body

USER_AGENT = "aiocamp-sandbox-examples (sandbox@example.com)"
SAMPLE = {
    "int": 1,
    "str": "Sample text",
    "bool": True,
    "float": 1.5,
    "decimal": "12.50",
    "datetime": "2025-01-02T03:04:05Z",
    "date": "2025-01-02",
    "datetime_or_date": "2025-01-02",
    "json": "{}",
}


@dataclass
class ExampleRequest:
    route: Route
    method: str
    path: str  # relative to the sandbox root URL
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def expected_status(self) -> int:
        e = self.route.endpoint
        if e.status:
            return e.status
        return 201 if self.route.action == "create" else 200


def auth_headers(app: SandboxApp) -> dict[str, str]:
    if app.table.auth == ("bearer",) or "basic_token" not in app.table.auth:
        return {"Authorization": f"Bearer {app.secrets.access_token}"}
    token = base64.b64encode(f"{app.secrets.token}:X".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _pick(app: SandboxApp, models: tuple[str, ...], avoid: set[int]) -> int | None:
    store = app.store
    if ANY in models:
        candidates = [rid for rid in store.meta if rid not in avoid]
        return candidates[0] if candidates else None
    expanded: list[str] = []
    for m in models:
        virtual = app.conv.virtual_models.get(m)
        expanded.extend(virtual[0] if virtual else (m,))
    for m in expanded:
        for rid in store.ids(m):
            if rid not in avoid:
                return rid
    return None


def path_params(app: SandboxApp, route: Route, avoid: set[int]) -> dict[str, Any] | None:
    """Values naming existing records for every placeholder (None when none exist)."""
    e = route.endpoint
    values: dict[str, Any] = {}
    targets = dict(route.targets)
    for name in e.placeholders:
        p = e.param(name)
        t = targets.get(name)
        if p is not None and p.enum:
            holder = next((tt for tt in targets.values() if tt.enum_param == name), None)
            if holder is not None:
                choice = next((v for v, m in holder.by_enum if app.store.ids(m)), str(p.enum[0]))
                values[name] = choice
            else:
                values[name] = p.enum[0]
        elif t is not None:
            models = t.model_for(values) or t.models
            rid = _pick(app, models, avoid)
            if rid is None:
                return None
            values[name] = rid
        elif p is None or p.type.name == "int":
            rid = _pick(app, (route.model,) if route.model else (ANY,), avoid)
            if rid is None:
                return None
            values[name] = rid
        elif p.type.name in ("date", "datetime_or_date"):
            values[name] = "2025-01-02"
        else:
            values[name] = "sample-key"
    return values


def _xml_value(f: FieldInfo, t: TypeInfo) -> str:
    kind = XML_TYPE.get(t.name)
    attr = f' type="{kind}"' if kind else ""
    return f"<{f.wire}{attr}>{SAMPLE.get(t.name, 'x')}</{f.wire}>"


def _required_of(app: SandboxApp, model: ModelInfo) -> list[FieldInfo]:
    """Fields a body of ``model`` must carry (or one writable text field as a sample)."""
    wanted = set(app.conv.required_fields.get(model.name, ()))
    fields = [f for f in model.fields if f.name in wanted or f.required]
    return fields or [f for f in model.fields if not f.read_only and f.type.kind == "scalar"][:1]


def _json_value(app: SandboxApp, f: FieldInfo) -> Any:
    t = f.type
    if t.kind == "scalar":
        return SAMPLE.get(t.name, "x") if t.name != "json" else {}
    if t.kind == "list":
        return [1] if t.item is not None and t.item.name == "int" else []
    nested = app.table.models.get(t.name)
    return {g.wire: _json_value(app, g) for g in _required_of(app, nested)} if nested else {}


def _xml_field(app: SandboxApp, f: FieldInfo) -> str:
    if f.type.kind == "model" and f.type.name in app.table.models:
        inner = "".join(
            _xml_field(app, g) for g in _required_of(app, app.table.models[f.type.name])
        )
        return f"<{f.wire}>{inner}</{f.wire}>"
    if f.type.kind == "scalar":
        return _xml_value(f, f.type)
    item = f.type.item
    if f.type.kind == "list" and item is not None and item.kind == "scalar":
        one = SAMPLE.get(item.name, "x")
        if getattr(f, "xml_repeat", False):  # <item-id>1</item-id> straight under the root
            return f"<{f.wire}>{one}</{f.wire}>"
        tag = getattr(f, "item", None) or "item"
        return f'<{f.wire} type="array"><{tag}>{one}</{tag}></{f.wire}>'
    return ""


def example_body(app: SandboxApp, route: Route) -> tuple[bytes | None, str | None]:
    """A body carrying every required field, and its Content-Type."""
    spec = route.endpoint.body
    if spec is None:
        return None, None
    if spec.kind == "raw":
        return b"sample file content", spec.content_type or "application/octet-stream"
    if spec.kind == "multipart":
        boundary = "aiocampsandboxboundary"
        name = spec.params[0].wire if spec.params else "file"
        part = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="sample.txt"\r\nContent-Type: text/plain\r\n\r\nsample\r\n--{boundary}--\r\n'
        )
        return part.encode(), f"multipart/form-data; boundary={boundary}"
    model = app.table.models.get(spec.model) if spec.kind == "model" else None
    if model is not None:
        fields = _required_of(app, model)
    else:
        fields = [p for p in spec.params if p.required]
    if app.table.format == "json":
        data = {f.wire: _json_value(app, f) for f in fields}
        return json_body(data), "application/json; charset=utf-8"
    root = spec.xml_root or (model.xml_tag if model is not None else None) or "request"
    if spec.xml_scalar and spec.params:
        return f"<{root}>Sample</{root}>".encode(), "application/xml"
    if spec.xml_list:
        return f'<{root} type="array"></{root}>'.encode(), "application/xml"
    inner = "".join(_xml_field(app, f) for f in fields)
    return f"<{root}>{inner}</{root}>".encode(), "application/xml"


def example_request(
    app: SandboxApp, route: Route, avoid: set[int] | None = None
) -> ExampleRequest | None:
    """A request to ``route`` that the sandbox should answer with its success status."""
    values = path_params(app, route, avoid or set())
    if values is None:
        return None
    e = route.endpoint
    path = e.path
    if path.startswith("https://"):
        path = "/" + path.split("/", 3)[3]
    elif app.conv.account_prefix:
        path = f"/{app.conv.account_id}{path}"
    if e.url_token:  # the examples authenticate with OAuth: no token segment
        path = path.removeprefix("/{token}")
    for k, v in values.items():
        path = path.replace("{" + k + "}", str(v))
    query = [f"{q.wire}={SAMPLE.get(q.type.name, 'x')}" for q in e.query if q.required]
    if query:
        path += "?" + "&".join(query)
    headers = {"User-Agent": USER_AGENT, **auth_headers(app)}
    body, content_type = example_body(app, route)
    if content_type:
        headers["Content-Type"] = content_type
    return ExampleRequest(route, e.method, path, headers, body)
