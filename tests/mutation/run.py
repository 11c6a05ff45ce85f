"""Mutation testing of the core runtime and the code generator, one module at a time.

Usage (from the repository root; ``nox -s mutation -- limiter`` runs the same)::

    python tests/mutation/run.py                 # every module below, one after another
    python tests/mutation/run.py limiter retry   # just these
    python tests/mutation/run.py --list          # the module names

Each module is mutated in a scratch copy of the repository (``build/mutation/<module>/``,
so the worktree never sees mutmut's ``mutants/`` directory), with only the test files that
exercise it selected: a run stays in minutes on two cores. The score printed at the end is
killed / (killed + survived), timeouts counted as killed; mutants listed in
``tests/mutation/README.md`` as equivalent are reported apart.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / "build" / "mutation"

#: module name -> (file to mutate, test files that exercise it)
MODULES: dict[str, tuple[str, list[str]]] = {
    "limiter": (
        "src/aiocamp/core/_limiter.py",
        ["tests/test_core_limiter.py", "tests/test_kill_limiter.py"],
    ),
    "retry": (
        "src/aiocamp/core/_retry.py",
        ["tests/test_core_retry.py", "tests/test_kill_retry.py"],
    ),
    "redaction": (
        "src/aiocamp/core/_redaction.py",
        ["tests/test_core_session.py", "tests/test_kill_secrets.py"],
    ),
    "auth": (
        "src/aiocamp/core/_auth.py",
        [
            "tests/test_core_session.py",
            "tests/test_kill_auth.py",
            "tests/test_kill_secrets.py",
            "tests/test_kill_origins.py",
        ],
    ),
    "cache": (
        "src/aiocamp/core/_cache.py",
        ["tests/test_core_cache.py", "tests/test_kill_cache.py", "tests/test_core_redis.py"],
    ),
    "pagination": (
        "src/aiocamp/core/_pagination.py",
        [
            "tests/test_core_pagination.py",
            "tests/test_kill_pagination.py",
            "tests/test_kill_origins.py",
        ],
    ),
    "session": (
        "src/aiocamp/core/_session.py",
        [
            "tests/test_core_session.py",
            "tests/test_core_retry.py",
            "tests/test_core_cache.py",
            "tests/test_kill_retry.py",
            "tests/test_kill_secrets.py",
            "tests/test_kill_origins.py",
            "tests/test_kill_cache.py",
            "tests/test_kill_auth.py",
            "tests/test_kill_pagination.py",
            "tests/test_kill_errors.py",
            "tests/test_kill_session.py",
            "tests/test_core_hardening.py",
            "tests/test_core_settings.py",
            "tests/test_core_fast_paths.py",
            "tests/test_kill_session_requests.py",
            "tests/test_kill_session_bodies.py",
        ],
    ),
    "errors": (
        "src/aiocamp/core/_errors.py",
        ["tests/test_core_session.py", "tests/test_kill_errors.py"],
    ),
    "codecs": (
        "src/aiocamp/core/_codecs.py",
        [
            "tests/test_core_codecs.py",
            "tests/test_codecs_json.py",
            "tests/test_codecs_xml_one_pass.py",
            "tests/test_backpack_dialect.py",
            "tests/test_generated_fixtures.py",
            "tests/test_kill_codecs.py",
        ],
    ),
    "models": (
        "src/aiocamp/core/_models.py",
        [
            "tests/test_models_runtime.py",
            "tests/test_generated_fixtures.py",
            "tests/test_kill_models.py",
        ],
    ),
    "resource": (
        "src/aiocamp/core/_resource.py",
        [
            "tests/test_resource_verbs.py",
            "tests/test_generated_endpoints.py",
            "tests/test_patch.py",
            "tests/test_kill_resource.py",
        ],
    ),
    "download": (
        "src/aiocamp/core/_download.py",
        ["tests/test_download.py", "tests/test_kill_download.py"],
    ),
    "sqlite_cache": (
        "src/aiocamp/core/_sqlite_cache.py",
        ["tests/test_sqlite_cache.py", "tests/test_kill_sqlite_cache.py"],
    ),
    "settings": (
        "src/aiocamp/core/_settings.py",
        ["tests/test_core_settings.py", "tests/test_kill_settings.py"],
    ),
    "client": (
        "src/aiocamp/core/_client.py",
        [
            "tests/test_generated_endpoints.py",
            "tests/test_download.py",
            "tests/test_kill_client.py",
        ],
    ),
    "runtime": (
        "src/aiocamp/core/_runtime.py",
        [
            "tests/test_generated_api.py",
            "tests/test_generated_fixtures.py",
            "tests/test_kill_runtime.py",
        ],
    ),
    "redis": (
        "src/aiocamp/core/_redis_backends.py",
        ["tests/test_core_redis.py", "tests/test_kill_redis.py"],
    ),
    "render": (
        "codegen/render.py",
        [
            "tests/test_kill_render.py",
            "tests/test_codegen.py",
            "tests/test_codegen_schema.py",
            "tests/test_codegen_xml_features.py",
        ],
    ),
}

#: Tests left out of a module's mutation run: a throughput floor that a loaded machine (two
#: mutants at a time next to other work) misses (the window bound it also checks is
#: covered by tests/test_kill_limiter.py); a subprocess the renderer's run cannot use.
DESELECTED = {
    "limiter": [
        "tests/test_core_limiter.py::test_sliding_window_bound_holds_under_64_concurrent_tasks"
    ],
    # A fresh interpreter importing the mutated copy loads importlib.metadata through
    # mutmut's trampolines, so the "nothing loaded at import" check fails on clean code.
    "models": [
        "tests/test_models_runtime.py::"
        "test_importing_a_product_builds_no_model_and_loads_no_metadata_nor_cattrs"
    ],
    # `codegen --verify` in a subprocess: mutmut cannot see which renderer functions it
    # calls, so it is never chosen for a mutant; tests/test_kill_render.py makes the same
    # comparison in-process.
    "render": ["tests/test_codegen.py::test_committed_generated_code_matches_a_fresh_generation"],
    # A 26 ms spacing floor that a loaded machine misses in the clean run (failed twice on
    # 2026-11-29 with four mutation runs going); the Redis pause itself is also covered by
    # test_redis_pause_is_seen_by_every_limiter.
    "redis": [
        "tests/test_core_redis.py::test_redis_after_a_pause_the_bucket_restarts_with_one_token"
    ],
}

COPIED = ("src", "codegen", "tests", "specs", "pyproject.toml")


def prepare(name: str) -> Path:
    target, tests = MODULES[name]
    work = SCRATCH / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants")
    for item in COPIED:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, work / item)
    tests = [t for t in tests if (ROOT / t).exists()]
    tests += [arg for test in DESELECTED.get(name, []) for arg in ("--deselect", test)]
    source = "codegen" if target.startswith("codegen/") else "src"
    also = ["src", "specs"] if source == "codegen" else ["codegen", "specs"]
    config = [
        "",
        "[tool.mutmut]",
        f'source_paths = ["{source}"]',
        f'only_mutate = ["{target}"]',
        # The tests import the package from src/ (and the renderer's tests compare with
        # the generated code committed there), whichever tree is mutated.
        f"also_copy = {also!r}".replace("'", '"'),
        f"pytest_add_cli_args_test_selection = {tests!r}".replace("'", '"'),
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
        "use_git_change_detection = false",
        # A mutant that makes the limiter wait forever sleeps (no CPU): cut it off soon.
        "timeout_multiplier = 3.0",
        "",
    ]
    text = (work / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r"\n\[tool\.mutmut\][^\[]*", "\n", text)
    (work / "pyproject.toml").write_text(text + "\n".join(config), encoding="utf-8")
    return work


def run(name: str, children: int, only: list[str]) -> tuple[int, int, int, list[str]]:
    work = prepare(name)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # The spec-vs-docs tests look for the docs next to the repository.
    docs = ROOT.parent / "shared"
    if docs.is_dir() and not (work.parent / "shared").exists():
        (work.parent / "shared").symlink_to(docs)
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run(
        [*mutmut, "run", "--max-children", str(children), *only], cwd=work, env=env, check=False
    )
    out = subprocess.run(
        [*mutmut, "results", "--all", "true"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    killed = survived = timeout = 0
    survivors: list[str] = []
    for line in out.splitlines():
        key, _, status = line.strip().rpartition(": ")
        if only and not any(fnmatch.fnmatchcase(key, pattern) for pattern in only):
            continue
        if status == "killed":
            killed += 1
        elif status == "timeout":
            timeout += 1
        elif status in ("survived", "no tests"):
            survived += 1
            survivors.append(key)
    return killed, timeout, survived, survivors


def show(name: str, key: str) -> list[str]:
    """The changed lines of one mutant (``mutmut show``)."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", key],
        cwd=SCRATCH / name,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [
        line
        for line in out.splitlines()
        if line[:1] in ("-", "+") and not line.startswith(("---", "+++"))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    parser.add_argument("--list", action="store_true", help="print the module names")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutants")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only the mutants whose names match (repeatable), e.g. "
        "'aiocamp.core._session.xǁSessionǁ_send__mutmut_*'",
    )
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(MODULES))
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {', '.join(MODULES)}")
    rows = []
    failed = []
    for name in args.modules or list(MODULES):
        killed, timeout, survived, survivors = run(name, args.max_children, args.only)
        total = killed + timeout + survived
        if not total:
            print(f"\n{name}: no results: the clean test run failed (see mutmut's output above)")
            failed.append(name)
            continue
        score = (killed + timeout) / total if total else 1.0
        rows.append((name, killed, timeout, survived, score))
        print(f"\n{name}: {len(survivors)} survivor(s)")
        for key in survivors:
            print(f"  {key}")
            for line in show(name, key):
                print(f"      {line}")
    print(f"\n{'module':<12} {'killed':>7} {'timeout':>8} {'survived':>9} {'score':>7}")
    for name, killed, timeout, survived, score in rows:
        print(f"{name:<12} {killed:>7} {timeout:>8} {survived:>9} {score:>7.1%}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
