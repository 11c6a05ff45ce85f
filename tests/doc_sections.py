"""Reading the official docs in ../shared/api-docs: files, heading anchors and sections.

The docs are Markdown with Setext (``Title\\n-----``) or ATX (``## Title``) headings; an
endpoint's ``doc`` link in a spec is ``<file>#<anchor>``, the anchor being GitHub's slug of a
heading. A *section* is the text under that heading up to the next heading of the same or a
higher level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codegen.ir import Endpoint, Product

from .helpers import DOCS


@dataclass(frozen=True)
class Heading:
    level: int
    slug: str
    line: int  # index of the heading's first line


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title.strip())  # [text](link) -> text
    text = text.lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def lines_of(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


@cache
def headings(path: Path) -> tuple[Heading, ...]:
    lines = lines_of(path)
    found: list[Heading] = []
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        atx = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if atx:
            found.append(Heading(len(atx.group(1)), slug(atx.group(2)), i))
            continue
        if i + 1 < len(lines) and line.strip() and not line.startswith(("*", "-", " ", "|")):
            under = lines[i + 1]
            if re.fullmatch(r"=+\s*", under):
                found.append(Heading(1, slug(line), i))
            elif re.fullmatch(r"-{3,}\s*", under):
                found.append(Heading(2, slug(line), i))
    # GitHub numbers repeated anchors: foo, foo-1, foo-2 ...
    seen: dict[str, int] = {}
    numbered = []
    for h in found:
        n = seen.get(h.slug, 0)
        seen[h.slug] = n + 1
        numbered.append(Heading(h.level, h.slug if n == 0 else f"{h.slug}-{n}", h.line))
    return tuple(numbered)


def section(path: Path, anchor: str) -> str:
    """The text under the heading with this anchor (the whole file when anchor is empty)."""
    lines = lines_of(path)
    if not anchor:
        return "\n".join(lines)
    hs = headings(path)
    for k, h in enumerate(hs):
        if h.slug == anchor:
            end = next((n.line for n in hs[k + 1 :] if n.level <= h.level), len(lines))
            return "\n".join(lines[h.line : end])
    raise LookupError(f"{path.relative_to(DOCS)}: no heading with anchor #{anchor}")


def doc_location(product: Product, e: Endpoint) -> tuple[Path, str]:
    """The doc file and anchor an endpoint's ``doc`` link points to."""
    prefix = product.docs.rstrip("/") + "/"
    if not e.doc_url.startswith(prefix):
        raise LookupError(f"{e.method} {e.path}: doc link {e.doc_url} is outside {prefix}")
    relative, _, anchor = e.doc_url[len(prefix) :].partition("#")
    return DOCS / product.name / relative, anchor


def endpoint_section(product: Product, e: Endpoint) -> str:
    path, anchor = doc_location(product, e)
    return section(path, anchor)


def product_docs(product: str) -> Path:
    """The product's docs folder; a missing folder is a failure, never a skip."""
    folder = DOCS / product
    assert folder.is_dir(), f"official docs not found at {folder} (see tests/helpers.py DOCS)"
    return folder
