"""Spec facts checked against the official docs, not against the specs themselves.

Every query parameter name, body field name, paging parameter and page size, date format,
rate limit and limit class in ``specs/`` is traced to the docs in ``../shared/api-docs``:
to the endpoint's own section (the heading its ``doc:`` link points to), to the product's
README, or, for Basecamp 4, to the machine-readable ``basecamp4-openapi/openapi.json``
(the docs' README ranks it second: it is consulted only for what the docs leave out).
What the docs state only in running prose is listed in ``FACTS`` with the quoted words
and their location; a test checks that each quote is really there.

These tests fail (never skip) when the docs are missing: CI always has them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from codegen.ir import Endpoint, Product

from .doc_sections import doc_location, endpoint_section, lines_of, product_docs, section
from .generated_support import PRODUCTS, endpoints, spec
from .helpers import DOCS
from .test_spec_coverage import LINES, matches


@dataclass(frozen=True)
class Fact:
    """A spec fact the docs state only in prose (or in another section than the endpoint's)."""

    product: str
    endpoint: str  # "resource.method"
    kind: str  # "query" | "limit_class"
    value: str
    where: str  # doc file#anchor, relative to the product's docs folder
    quote: str  # words of the docs at that place


FACTS = (
    Fact(
        "highrise",
        "parties.search",
        "query",
        "name",
        "sections/parties.md#strict-party-search",
        "`/parties/search.xml?name=jon&strict=1`",
    ),
    Fact(
        "highrise",
        "parties.search",
        "query",
        "strict",
        "sections/parties.md#strict-party-search",
        "Add `&strict=1` after the query parameters to return strict name results.",
    ),
    Fact(
        "highrise",
        "people.search",
        "limit_class",
        "email_search",
        "README.md#rate-limiting",
        "We've lowered the API limit call to searching for contacts via an email address "
        "to 2 requests in a 10 second period",
    ),
)


_HARVEST_TT = "Sections/Time Tracking.md#working-with-timesheets-for-other-users"
_HARVEST_ET = "Sections/Expense Tracking.md#working-with-expenses-for-other-users"
_HARVEST_REPORTS = "Sections/Time and Expense Reporting.md"
_FILTERS = {
    "billable": "Acceptable values for the billable parameter are",
    "only_billed": "Acceptable value for the only_billed parameter is",
    "only_unbilled": "Acceptable value for the only_unbilled parameter is",
    "is_closed": "Acceptable values for the is_closed parameter are",
    "updated_since": "Acceptable value for the updated_since parameter is a UTC date time value",
}

# Harvest states of_user once per API ("any time tracking API call") and lists the report
# filters under FILTERING headings of their own, after the endpoint they refine.
FACTS += (
    *(
        Fact(
            "harvest",
            f"daily.{m}",
            "query",
            "of_user",
            _HARVEST_TT,
            "You may add an of_user=#{user_id} parameter to the URL of any time tracking API call",
        )
        for m in ("today", "for_day", "show", "toggle_timer", "add", "delete", "update")
    ),
    *(
        Fact(
            "harvest",
            f"expenses.{m}",
            "query",
            "of_user",
            _HARVEST_ET,
            "You may add an of_user=#{user_id} parameter to the URL of any expense tracking "
            "API call",
        )
        for m in ("create", "update", "get", "delete", "attach_receipt", "get_receipt")
    ),
    Fact(
        "harvest",
        "reports.project_entries",
        "query",
        "user_id",
        f"{_HARVEST_REPORTS}#get-all-time-entries-by-the-current-user-logged-to-a-project-for-a-"
        "given-timeframe",
        "GET `/projects/#{project_id}/entries?from=YYYYMMDD&to=YYYYMMDD&user_id=#{user_id}`",
    ),
    Fact(
        "harvest",
        "reports.user_entries",
        "query",
        "project_id",
        f"{_HARVEST_REPORTS}#get-all-your-time-entries-from-a-project-and-a-given-timeframe",
        "GET `/people/#{user_id}/entries?from=YYYYMMDD&to=YYYYMMDD&project_id=#{project_id}`",
    ),
    *(
        Fact("harvest", f"reports.{endpoint}", "query", name, f"{_HARVEST_REPORTS}#{anchor}", quote)
        for endpoint, anchor in (("project_entries", "filtering"), ("user_entries", "filtering-1"))
        for name, quote in _FILTERS.items()
    ),
)


def fact_sections(product: Product, endpoint: str, wire: str) -> str:
    """The doc sections FACTS cite for one query parameter of an endpoint."""
    out = []
    for f in FACTS:
        if (f.product, f.endpoint, f.kind, f.value) == (product.name, endpoint, "query", wire):
            file, _, anchor = f.where.partition("#")
            out.append(section(DOCS / product.name / file, anchor))
    return "\n".join(out)


def facts(product: str, kind: str) -> set[tuple[str, str]]:
    return {(f.endpoint, f.value) for f in FACTS if f.product == product and f.kind == kind}


@pytest.fixture(params=PRODUCTS)
def product(request: pytest.FixtureRequest) -> Product:
    product_docs(request.param)
    return spec(request.param)


def label(resource: str, e: Endpoint) -> str:
    return f"{resource}.{e.name}"


# -- reading the docs ----------------------------------------------------------------------


def prose_and_own_lines(p: Product, e: Endpoint) -> list[str]:
    """The lines of an endpoint's section that speak about it: its own endpoint bullets and
    every line of prose (bullets of *other* endpoints and code blocks left out)."""
    out: list[str] = []
    fenced = False
    spec_path = e.path.replace("https://launchpad.37signals.com", "")
    for line in endpoint_section(p, e).splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = next((rx.match(line) for rx in LINES if rx.match(line)), None)
        if m is None or (m.group(1) == e.method and matches(m.group(2).split(" ")[0], spec_path)):
            out.append(line)
    return out


@cache
def openapi(product: str) -> dict[str, Any] | None:
    path = DOCS / f"{product}-openapi" / "openapi.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _shape(path: str) -> str:
    """A path with anonymous placeholders and no ``.json`` (OpenAPI drops it at times)."""
    return re.sub(r"\{[^}]*\}", "{}", path).removesuffix(".json")


def openapi_operation(product: str, e: Endpoint) -> tuple[str, dict[str, Any]] | None:
    """The OpenAPI path and operation of the same method and path shape, if any."""
    data = openapi(product)
    if data is None:
        return None
    want = _shape(e.path)
    for path, item in data["paths"].items():
        local = re.sub(r"^/\{accountId\}", "", path)
        if _shape(local) == want and e.method.lower() in item:
            return path, item[e.method.lower()]
    return None


OPENAPI_LINK = re.compile(r"/openapi\.json#(\w+)$")


def cited_operation(product: str, e: Endpoint) -> tuple[str, dict[str, Any]] | None:
    """The OpenAPI operation an endpoint's ``doc:`` link names (``openapi.json#<OperationId>``),
    for endpoints the docs lack; ``None`` for endpoints documented in the docs."""
    m = OPENAPI_LINK.search(e.doc_url)
    data = openapi(product)
    if m is None or data is None:
        return None
    for path, item in data["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == m.group(1):
                return path, {**op, "x-method": method.upper()}
    raise LookupError(f"{e.method} {e.path}: no OpenAPI operation {m.group(1)}")


def doc_text(p: Product, e: Endpoint) -> str:
    """The endpoint's doc section; empty for an endpoint documented only in OpenAPI."""
    if cited_operation(p.name, e) is not None:
        return ""
    return endpoint_section(p, e)


def operation(product: str, e: Endpoint) -> tuple[str, dict[str, Any]] | None:
    return cited_operation(product, e) or openapi_operation(product, e)


def openapi_params(product: str, e: Endpoint, where: str = "query") -> dict[str, dict[str, Any]]:
    """OpenAPI parameters of the endpoint's operation (by name), ``$ref``s resolved."""
    op = operation(product, e)
    data = openapi(product)
    if op is None or data is None:
        return {}
    out = {}
    for param in op[1].get("parameters", []):
        if "$ref" in param:
            param = data["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
        if param.get("in") == where:
            out[param["name"]] = param
    return out


def openapi_body_names(product: str, op: dict[str, Any]) -> set[str]:
    data = openapi(product)
    assert data is not None
    names: set[str] = set()
    for content in op.get("requestBody", {}).get("content", {}).values():
        schema = content.get("schema", {})
        if "$ref" in schema:
            schema = data["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        names |= set(schema.get("properties", {}))
    return names


def named(wire: str) -> list[str]:
    """Ways the docs show a name: `name`, "name": (JSON), <name> (XML), ?name= / &name=."""
    if wire.startswith("@"):  # an XML attribute: <item completed='true'>
        return [rf"""<[\w-]+\s[^>]*\b{re.escape(wire[1:])}=['"]"""]
    w = re.escape(wire)
    return [rf"`{w}(=[^`]*)?`", rf'"{w}"\s*:', rf"<{w}[\s>/]", rf"[?&]{w}[=\[]"]


def shows(text: str, wire: str) -> bool:
    return any(re.search(rx, text) for rx in named(wire))


# -- the checks ----------------------------------------------------------------------------


def test_the_docs_of_every_product_are_present() -> None:
    assert PRODUCTS
    for name in PRODUCTS:
        folder = product_docs(name)
        assert any(folder.rglob("*.md")), f"{folder} holds no Markdown docs"


def test_every_doc_link_points_to_a_heading_of_the_docs(product: Product) -> None:
    """A link into the docs names a heading; a link into the OpenAPI description names an
    operation of the same method and path."""
    broken = []
    for resource, e in endpoints(product.name):
        try:
            cited = cited_operation(product.name, e)
            if cited is None:
                endpoint_section(product, e)
            else:
                local = re.sub(r"^/\{accountId\}", "", cited[0])
                if cited[1]["x-method"] != e.method or _shape(local) != _shape(e.path):
                    broken.append(f"{label(resource, e)}: cites {cited[1]['x-method']} {local}")
        except LookupError as exc:
            broken.append(f"{label(resource, e)}: {exc}")
    assert broken == []


def test_every_query_parameter_name_is_documented_for_its_endpoint(product: Product) -> None:
    """Kills: a wrong query name in a spec (search ``q`` -> ``query``)."""
    allowed = facts(product.name, "query")
    undocumented = []
    for resource, e in endpoints(product.name):
        text = doc_text(product, e)
        in_openapi = openapi_params(product.name, e)
        for q in e.query:
            if (label(resource, e), q.wire) in allowed or q.wire in in_openapi:
                continue
            if not shows(text, q.wire):
                undocumented.append(f"{label(resource, e)}: {q.wire}")
    assert undocumented == []


def test_every_body_field_name_is_documented(product: Product) -> None:
    """Kills: a renamed body field. A name must appear in the endpoint's section, in its
    resource's doc file (the docs describe writable fields once per resource), in the
    product's data reference, or in the OpenAPI request schema."""
    undocumented = []
    for resource, e in endpoints(product.name):
        if e.body is None:
            continue
        texts = [doc_text(product, e)]
        if cited_operation(product.name, e) is None:
            texts.append("\n".join(lines_of(doc_location(product, e)[0])))
        texts += ["\n".join(lines_of(f)) for f in sorted(DOCS.glob(f"{product.name}/**/data_*.md"))]
        op = operation(product.name, e)
        schema_names = openapi_body_names(product.name, op[1]) if op else set()
        for b in e.body.params:
            if b.wire in schema_names or any(shows(t, b.wire) for t in texts):
                continue
            undocumented.append(f"{label(resource, e)}: {b.wire}")
    assert undocumented == []


NOT_PAGINATED = re.compile(r"\b(not|none of these are) paginated\b", re.IGNORECASE)
PAGED = re.compile(r"\bpaginat|\bpaged\b|page limit", re.IGNORECASE)
#: Words that make a number on the same line a page size.
SIZED = re.compile(r"\bpaginat|\bpaged\b|\bpages?\b|groups of|\bmost recent\b", re.IGNORECASE)


def param_shown(param: str) -> re.Pattern[str]:
    """``?n=`` in a URL, or the parameter named in prose: "set the `page` query parameter"."""
    p = re.escape(param)
    return re.compile(rf"[?&]{p}=|[`\"“]{p}[`\"”] query parameter")


def test_paging_parameter_and_page_size_match_the_docs(product: Product) -> None:
    """Kills: a wrong page size (results cut after page 1), a wrong paging parameter, a
    paged endpoint declared unpaged and the reverse."""
    wrong = []
    for resource, e in endpoints(product.name):
        if not e.is_list:
            continue
        paging = e.paging or product.paging
        lines = prose_and_own_lines(product, e) if doc_text(product, e) else []
        text = "\n".join(lines)
        name = label(resource, e)
        says_unpaged = NOT_PAGINATED.search(text) is not None
        size = re.compile(rf"\b{paging.page_size}\b")
        if paging.style in ("offset", "page"):
            param = param_shown(paging.param)
            if says_unpaged or not param.search(text):
                wrong.append(f"{name}: the docs show no {paging.param} parameter for it")
            elif not any(size.search(x) and (param.search(x) or SIZED.search(x)) for x in lines):
                wrong.append(f"{name}: no documented page size of {paging.page_size}")
            continue
        op = operation(product.name, e)
        openapi_paged = None if op is None else "x-basecamp-pagination" in op[1]
        if paging.style == "link":
            # Following Link on a list that never sends one costs nothing, so only an
            # explicit "not paginated" in the docs contradicts it (the OpenAPI description
            # leaves x-basecamp-pagination off some paged lists).
            if says_unpaged:
                wrong.append(f"{name}: link paging, but the docs say it is not paginated")
            continue
        if paging.style != "none":
            # A style named after what the docs show (continued_at: a continued-at attribute).
            marker = re.compile(paging.style.replace("_", "[-_]"), re.IGNORECASE)
            if not marker.search(text):
                wrong.append(f"{name}: the docs never mention {paging.style}")
            elif paging.page_size and not any(size.search(x) for x in lines):
                wrong.append(f"{name}: no documented page size of {paging.page_size}")
            continue
        default = product.paging
        if says_unpaged:
            continue
        if default.style in ("offset", "page"):
            if param_shown(default.param).search(text) or PAGED.search(text):
                wrong.append(f"{name}: unpaged, but its docs page it with {default.param}")
        elif default.style == "link" and openapi_paged is not False:
            why = "the OpenAPI description pages it" if openapi_paged else "nothing says so"
            wrong.append(f"{name}: unpaged, but {why}")
    assert wrong == [], "\n".join(wrong)


def documented_values(text: str, wire: str) -> list[str]:
    """Example values of a query parameter: ``?wire=value`` in URLs, and backticked values
    on the parameter's own bullet (``* `wire` - ... e.g. `2024-01-22```)."""
    w = re.escape(wire)
    values = re.findall(rf"[?&]{w}=([^&\s`)\]\"']+)", text)
    values += re.findall(rf"`{w}=([^`]+)`", text)
    for bullet in re.findall(rf"^\s*[*-]\s+`{w}`\s*[-:](.*)$", text, re.MULTILINE):
        values += [v for v in re.findall(r"`([^`]+)`", bullet) if re.match(r"\d{4}", v)]
    # URL-encoded values read as sent (Harvest: 2010-09-25+18%3A30); a stray "?" where the
    # docs meant "&" ends the value; a spelled pattern (?from=YYYYMMDD) is a format, not a value.
    values = [unquote_plus(v.split("?", 1)[0]) for v in values]
    return [v for v in values if not DATE_PATTERN.fullmatch(v)]


def says_iso(text: str, wire: str) -> bool:
    w = re.escape(wire)
    bullets = re.findall(rf"^\s*[*-]\s+`{w}`\s*[-:](.*)$", text, re.MULTILINE)
    return any("ISO 8601" in b for b in bullets)


DATE_PATTERN = re.compile(r"\b[Yy]{4}[-/]?[Mm]{2}[-/]?[Dd]{2}(?:[T ]?[Hh]{2}:?[Mm]{2}:?[Ss]{2})?\b")


def strftime_of(pattern: str) -> str:
    """``yyyymmddhhmmss`` -> ``%Y%m%d%H%M%S`` (the first ``mm`` is the month)."""
    out, i, month_seen = "", 0, False
    while i < len(pattern):
        four, two = pattern[i : i + 4].lower(), pattern[i : i + 2].lower()
        if four == "yyyy":
            out, i = out + "%Y", i + 4
            continue
        code = {"dd": "%d", "hh": "%H", "ss": "%S"}.get(two)
        if two == "mm":
            code = "%M" if month_seen else "%m"
            month_seen = True
        if code:
            out, i = out + code, i + 2
        else:
            out, i = out + pattern[i], i + 1
    return out


def documented_formats(text: str, wire: str) -> set[str]:
    """Date patterns the docs state on lines that name the parameter (`since`)."""
    found = set()
    for line in text.splitlines():
        if f"`{wire}`" in line:
            found |= {strftime_of(m) for m in DATE_PATTERN.findall(line)}
        # Harvest spells the pattern in the URL: ?from=YYYYMMDD
        for m in re.findall(rf"[?&]{re.escape(wire)}=([A-Za-z:/ -]+?)(?=[&?`\s]|$)", line):
            if DATE_PATTERN.fullmatch(m):
                found.add(strftime_of(m))
    return found


def test_date_query_parameters_use_the_documented_format(product: Product) -> None:
    """Kills: a changed date format. Each documented example value of a date or date-time
    query parameter must read back (and print again) in the spec's format, and a format the
    docs spell out (`yyyymmddhhmmss`, `YYYY-MM-DD`) must be the spec's."""
    wrong = []
    for resource, e in endpoints(product.name):
        text = doc_text(product, e)
        in_openapi = openapi_params(product.name, e)
        for q in e.query:
            if q.type.kind != "scalar" or q.type.name not in ("date", "datetime"):
                continue
            schema = in_openapi.get(q.wire, {}).get("schema", {})
            openapi_format = {"date": "date", "date-time": "datetime"}.get(schema.get("format"))
            name = f"{label(resource, e)}: {q.wire}"
            where = text + "\n" + fact_sections(product, label(resource, e), q.wire)
            examples = [v for v in documented_values(where, q.wire) if not v.startswith("#{")]
            formats = documented_formats(where, q.wire)
            ours = q.format or ("%Y-%m-%d" if q.type.name == "date" else None)
            if formats and ours not in formats:
                wrong.append(f"{name}: the docs spell the format {sorted(formats)}, not {ours}")
            iso_said = q.format is None and (says_iso(text, q.wire) or openapi_format is not None)
            if openapi_format is not None and openapi_format != q.type.name:
                wrong.append(f"{name}: OpenAPI says {schema.get('format')}, not {q.type.name}")
            if not examples and not formats and not iso_said:
                wrong.append(f"{name}: no documented example value or format")
            for value in examples:
                try:
                    if q.format:
                        ok = datetime.strptime(value, q.format).strftime(q.format) == value
                    elif q.type.name == "date":
                        ok = date.fromisoformat(value).isoformat() == value
                    else:
                        ok = datetime.fromisoformat(value.replace("Z", "+00:00")) is not None
                except ValueError:
                    ok = False
                if not ok:
                    wrong.append(f"{name}: {value!r} does not fit {q.format or 'ISO 8601'}")
    assert wrong == [], "\n".join(wrong)


def limit_clauses(product: str) -> list[tuple[int, float, str, str]]:
    """(requests, seconds, clause, file) for every "N requests per/in W second(s)" clause."""
    found = []
    rx = re.compile(
        r"\b(\d+) (?:requests|calls) (?:per|in) (?:a |one )?(\d+(?:\.\d+)?)[- ]seconds?\b"
    )
    for file in sorted((DOCS / product).rglob("*.md")):
        for line in lines_of(file):
            for clause in re.split(r"\band\b|;", line):
                for m in rx.finditer(clause):
                    rel = str(file.relative_to(DOCS / product))
                    found.append((int(m.group(1)), float(m.group(2)), clause, rel))
    return found


def test_every_rate_limit_is_a_documented_limit(product: Product) -> None:
    """Kills: a changed or invented limit (requests or window)."""
    documented = {(n, w) for n, w, _, _ in limit_clauses(product.name)}
    wrong = [
        f"{r.name}: {r.requests} per {r.per_seconds} s"
        for r in product.rate_limits
        if (r.requests, float(r.per_seconds)) not in documented
    ]
    assert wrong == [], "\n".join(wrong)


def test_endpoints_draw_from_the_limit_classes_the_docs_name(product: Product) -> None:
    """Kills: a lost limit class. A limit the docs tie to particular endpoints (its sentence
    names them, or FACTS quotes the prose that does) is drawn from by exactly those
    endpoints. Limits stated for everything (or per HTTP method) are not tied to any."""
    by_limit = {(r.requests, float(r.per_seconds)): r.name for r in product.rate_limits}
    named_by_docs: dict[str, set[tuple[str, str]]] = {}
    for n, w, clause, _ in limit_clauses(product.name):
        cls = by_limit.get((n, w))
        refs = re.findall(r"`(GET|POST|PUT|DELETE) ([^`]+)`", clause)
        if cls is not None and refs:
            named_by_docs.setdefault(cls, set()).update(refs)
    prose = facts(product.name, "limit_class")
    special = set(named_by_docs) | {cls for _, cls in prose}
    wrong = []
    for resource, e in endpoints(product.name):
        name = label(resource, e)
        defaults = product.limit_classes_by_method.get(e.method, product.default_limit_classes)
        classes = set(e.limit_classes or defaults)
        for cls in sorted(special):
            in_docs = any(
                m == e.method and matches(path, e.path) for m, path in named_by_docs.get(cls, ())
            )
            tied = in_docs or (name, cls) in prose
            if tied and cls not in classes:
                wrong.append(f"{name}: the docs put it under the {cls} limit")
            if cls in classes and not tied:
                wrong.append(f"{name}: draws from {cls}, which the docs tie to other endpoints")
    assert wrong == [], "\n".join(wrong)


def _snake(name: str) -> str:
    name = name.strip("#{} ").replace("-", "_")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_path_placeholders_are_in_the_documented_order(product: Product) -> None:
    """Kills: swapped path placeholders. Where the docs (or the OpenAPI description) give a
    placeholder the spec's name, it must be at the same position in the path."""
    documented: list[tuple[str, list[str]]] = []
    for file in sorted((DOCS / product.name).rglob("*.md")):
        for line in lines_of(file):
            m = next((rx.match(line) for rx in LINES if rx.match(line)), None)
            if m:
                path = m.group(2).split("?")[0]
                names = [_snake(x) for x in re.findall(r"#\{[^}]*\}|\{[^}]*\}", path)]
                documented.append((f"{m.group(1)} {path}", names))
    wrong = []
    for resource, e in endpoints(product.name):
        ours = re.findall(r"\{(\w+)\}", e.path)
        if len(ours) < 2:
            continue
        theirs = [
            n
            for d, n in documented
            if d.split(" ", 1)[0] == e.method and matches(d.split(" ", 1)[1], e.path)
        ]
        op = operation(product.name, e)
        if op is not None:
            theirs.append([_snake(x) for x in re.findall(r"\{(\w+)\}", op[0]) if x != "accountId"])
        for names in theirs:
            # A name the docs also use must sit at the same position ("id" is too generic).
            moved = [
                n for i, n in enumerate(ours) if n != "id" and n in names and names.index(n) != i
            ]
            if moved:
                wrong.append(f"{label(resource, e)}: {e.path} vs documented order {names}")
    assert wrong == [], "\n".join(wrong)


def normalised(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f"{f.product}:{f.endpoint}:{f.value}")
def test_each_prose_fact_is_quoted_from_the_docs(fact: Fact) -> None:
    product_docs(fact.product)
    file, _, anchor = fact.where.partition("#")
    text = section(Path(DOCS / fact.product / file), anchor)
    assert normalised(fact.quote) in normalised(text)
    resource, _, method = fact.endpoint.partition(".")
    assert any(r == resource and e.name == method for r, e in endpoints(fact.product))
