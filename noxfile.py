"""Developer tasks. `nox` runs the default list: lint, typing, codegen_verify, tests."""

from __future__ import annotations

import shutil
import subprocess
import sys

import nox

nox.options.sessions = ["lint", "typing", "codegen_verify", "tests"]
nox.options.reuse_existing_virtualenvs = True
# Run on the supported interpreters this machine has; a missing one is skipped, not fatal.
nox.options.error_on_missing_interpreters = False

PYPROJECT = nox.project.load_toml("pyproject.toml")
#: Supported Pythons (keep in step with the classifiers in pyproject.toml).
SUPPORTED = ["3.11", "3.12", "3.13"]
#: The tests run on every supported interpreter present; the other sessions on one of them.


def _runs(version: str) -> bool:
    """The interpreter is on PATH and really starts (a pyenv shim of a missing version
    is on PATH too, and fails)."""
    exe = shutil.which(f"python{version}")
    if exe is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 - an interpreter from PATH, fixed arguments
            [exe, "-c", "pass"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


TEST_PYTHONS = [v for v in SUPPORTED if _runs(v)] or [
    f"{sys.version_info.major}.{sys.version_info.minor}"
]
PYTHON = TEST_PYTHONS[-1]


def _install(session: nox.Session, *groups: str, editable: bool = True) -> None:
    deps: list[str] = []
    for group in groups:
        deps += nox.project.dependency_groups(PYPROJECT, group)
    extras = ".[redis,fast,cli]"  # every optional dependency: typing and tests cover them all
    session.install(*(["-e", extras] if editable else [extras]), *deps)


@nox.session(python=TEST_PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite (Redis tests start their own redis-server)."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", "src", "codegen", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "codegen", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """mypy --strict on src/ and codegen/."""
    _install(session, "typing")
    session.run("mypy")


@nox.session(python=PYTHON)
def codegen(session: nox.Session) -> None:
    """Regenerate src/aiocamp/<product>/ from specs/."""
    _install(session, "codegen")
    session.run("python", "-m", "codegen", *session.posargs)


@nox.session(python=PYTHON)
def codegen_verify(session: nox.Session) -> None:
    """`python -m codegen --verify`: fail when the committed generated code differs from a
    fresh generation."""
    _install(session, "codegen")
    session.run("python", "-m", "codegen", "--verify")


@nox.session(python=PYTHON)
def mutation(session: nox.Session) -> None:
    """Mutation testing (mutmut) of src/aiocamp/core/ and codegen/render.py, module by module.

    `nox -s mutation` runs every module, `nox -s mutation -- limiter retry` only those,
    `nox -s mutation -- --list` names them. Each module runs in a scratch copy under
    build/mutation/ with only its own test files, and prints its score. Not in the default
    run (minutes per module): run it before a performance or design change, then kill each
    new survivor with a test or list it as equivalent in tests/mutation/README.md.
    """
    _install(session, "test", "mutation", editable=False)
    session.run("python", "tests/mutation/run.py", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks (printed tables, not tests)."""
    _install(session, "test")
    session.run("python", "benchmarks/bench_core.py", *session.posargs)
    session.run("python", "benchmarks/bench_sandbox.py")
    session.run("python", "benchmarks/bench_decode.py")
    session.run("python", "benchmarks/bench_export.py")


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """The fuzz tests at nightly size: random (not the CI seed), many examples each.

    `nox -s fuzz` runs 2000 examples per test; `nox -s fuzz -- 10000` runs more.
    """
    _install(session, "test")
    examples = session.posargs[0] if session.posargs else "2000"
    session.run(
        "pytest",
        "tests/test_fuzz_http.py",
        "tests/test_fuzz_models.py",
        "tests/test_fuzz_codecs.py",
        "tests/test_codecs_xml_one_pass.py",
        env={"AIOCAMP_FUZZ_EXAMPLES": examples},
    )
