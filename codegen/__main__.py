"""``python -m codegen [--check | --verify] [product ...]``."""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

from aiocamp.core._errors import SpecError

from .ir import Product
from .loader import load
from .render import CodegenError, check_ruff, format_tree, write_product

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FIXTURES = ROOT / "tests" / "fixtures"
SRC = ROOT / "src"


def _products(names: list[str]) -> list[str]:
    found = sorted(p.name for p in SPECS.iterdir() if (p / "_product.yaml").exists())
    for n in names:
        if n not in found:
            raise SystemExit(f"no specs/{n}/_product.yaml (have: {', '.join(found)})")
    return names or found


def _diff(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side included)."""
    out: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        out.extend(prefix + n for n in cmp.left_only + cmp.right_only + cmp.diff_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b, ignore=["__pycache__"]), "")
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="validate the specs only")
    mode.add_argument(
        "--verify", action="store_true", help="fail when committed output differs from a fresh run"
    )
    parser.add_argument("products", nargs="*")
    args = parser.parse_args(argv)
    try:
        products = [load(SPECS, name, FIXTURES) for name in _products(args.products)]
    except SpecError as exc:
        print(f"SpecError: {exc}", file=sys.stderr)
        return 1
    for p in products:
        print(
            f"{p.name}: {len(p.resources)} resources, {p.endpoint_count()} endpoints, "
            f"{len(p.models)} models"
        )
    if args.check:
        return 0
    try:
        return _generate(products, verify=args.verify)
    except CodegenError as exc:
        print(f"codegen: {exc}", file=sys.stderr)
        return 2


def _generate(products: list[Product], *, verify: bool) -> int:
    config = ROOT / "pyproject.toml"
    check_ruff(config)  # before anything is written
    if verify:
        with tempfile.TemporaryDirectory() as tmp:
            fresh_root = Path(tmp) / "src"
            targets = [write_product(p, fresh_root) for p in products]
            format_tree(targets, config)
            stale = []
            for p, fresh in zip(products, targets, strict=True):
                committed = SRC / "aiocamp" / p.name
                if not committed.exists():
                    stale.append(f"{p.name}/ (missing)")
                    continue
                stale += [f"{p.name}/{d}" for d in _diff(fresh, committed)]
        if stale:
            print("generated code is stale; run `nox -s codegen` and commit:", file=sys.stderr)
            for s in stale:
                print(f"  src/aiocamp/{s}", file=sys.stderr)
            return 1
        print("generated code matches the specs")
        return 0
    targets = [write_product(p, SRC) for p in products]
    format_tree(targets, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
