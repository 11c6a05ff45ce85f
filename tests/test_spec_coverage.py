"""The specs cover every endpoint the official docs list, and list nothing undocumented.

Doc endpoint lines are found as ../shared/api-docs/README.md describes: outside fenced code
blocks, a line starting (after an optional bullet) with an HTTP verb and a path. Legacy
Basecamp 4 equivalents (``→`` right after the path) are not endpoints.
"""

from __future__ import annotations

import re

import pytest

from .doc_sections import product_docs
from .generated_support import PRODUCTS, endpoints
from .helpers import DOCS

VERB = r"(GET|POST|PUT|DELETE|PATCH)"
LINES = (
    re.compile(r"^\s*(?:[*-]\s+)?`" + VERB + r"\s+([^`]+)`(.*)$"),  # * `GET /path`
    re.compile(r"^\s*(?:[*-]\s+)?" + VERB + r"\s+`([^`]+)`(.*)$"),  # GET `/path` (Harvest)
    re.compile(r"^\s*(?:[*-]\s+)?" + VERB + r"\s+(/\S*)(.*)$"),  # GET /path
)
OPENAPI = "/openapi.json#"
PLACEHOLDER = re.compile(r"#\{[^}]*\}|\{[^}]*\}|\$[A-Z_]+|:[a-z_]+")

#: Spec endpoints the docs mention only in prose (each checked by hand against the doc).
PROSE_ONLY = {
    ("basecamp4", "GET", "/schedule_entries/{id}/occurrences/{date}.json"),
    # harvest README.md#throttle-limit---http-503: "You can use `GET /account/rate_limit_status`
    # to programmatically query your current throttle status."
    ("harvest", "GET", "/account/rate_limit_status"),
}


def doc_endpoints(product: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for file in sorted((DOCS / product).rglob("*.md")):
        fenced = False
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if fenced:
                continue
            m = next((rx.match(line) for rx in LINES if rx.match(line)), None)
            if not m:
                continue
            method, path, rest = m.groups()
            if rest.lstrip().startswith("→"):
                continue  # a legacy equivalent
            main, _, alternative = path.partition(" (or like: ")
            main = main.strip()
            if not main.startswith(("/", "http")):
                main = "/" + main  # Harvest: GET `account/who_am_i`
            found.add((method, main))
            if alternative:
                found.add((method, alternative.rstrip(")").strip()))
    return found


def pattern(doc_path: str) -> re.Pattern[str]:
    """A regex matching the spec's form of a documented path."""
    # An optional suffix in parentheses may hold the query: `/x.xml(?n=...)` (Classic).
    path = re.sub(r"\(.*\)$", "", doc_path).split("?", 1)[0]
    path = path.replace("https://launchpad.37signals.com", "")
    parts = []
    for piece in re.split(
        r"(#\{[^}]*\}|\{[^}]*\}|\$[A-Z_]+|(?<=/):[a-z_]+|(?<=/)\d+(?=[/.]|$))", path
    ):
        if not piece:
            continue
        if PLACEHOLDER.fullmatch(piece) or piece.isdigit():
            parts.append(r"[^/]+")
        else:
            parts.append(re.escape(piece))
    return re.compile("^" + "".join(parts) + "$")


def matches(doc_path: str, spec_path: str) -> bool:
    """The spec path is the documented one, or a generalisation of it (a placeholder where
    the doc shows one concrete subject such as /people/#{person-id}/notes.xml)."""
    if pattern(doc_path).match(spec_path):
        return True
    concrete = PLACEHOLDER.sub("X1", doc_path.split("?", 1)[0])
    spec_rx = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(spec_path)) + "$"
    return re.match(spec_rx, concrete) is not None


def spec_paths(product: str) -> set[tuple[str, str]]:
    return {
        (e.method, e.path.replace("https://launchpad.37signals.com", ""))
        for _, e in endpoints(product)
    }


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_documented_endpoint_is_in_the_specs(product) -> None:
    product_docs(product)
    specs = spec_paths(product)
    missing = []
    for method, doc_path in sorted(doc_endpoints(product)):
        if not any(m == method and matches(doc_path, p) for m, p in specs):
            missing.append(f"{method} {doc_path}")
    assert missing == []


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_spec_endpoint_is_documented(product) -> None:
    product_docs(product)
    documented = doc_endpoints(product)
    # Operations the docs lack cite basecamp4-openapi instead (test_openapi_coverage.py).
    from_openapi = {(e.method, e.path) for _, e in endpoints(product) if OPENAPI in e.doc_url}
    extra = []
    for method, path in sorted(spec_paths(product)):
        if (product, method, path) in PROSE_ONLY or (method, path) in from_openapi:
            continue
        if not any(m == method and matches(d, path) for m, d in documented):
            extra.append(f"{method} {path}")
    assert extra == []


def inventory_count(product: str) -> int:
    """The "Endpoints (unique)" count of the product's row in ../shared/api-docs/README.md."""
    readme = DOCS / "README.md"
    assert readme.is_file(), f"docs inventory not found at {readme}"
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == f"`{product}/`":
            m = re.match(r"(\d+)", cells[-1])
            assert m, line
            return int(m.group(1))
    raise AssertionError(f"{product} has no row in {readme}")


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_doc_parser_finds_every_endpoint_of_the_inventory(product) -> None:
    """The parser above sees at least the endpoints the docs' own inventory counts (Basecamp
    4 has one more: the gauges report line, prose with an arrow there, is real here)."""
    product_docs(product)
    found = {(m, pattern(p).pattern) for m, p in doc_endpoints(product)}
    assert len(found) >= inventory_count(product)
