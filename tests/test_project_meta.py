"""Issue 6 item 20: nox runs on whatever supported interpreter is present."""

from __future__ import annotations

import ast
import tomllib

from .helpers import ROOT


def _noxfile_assignments() -> dict[str, ast.expr]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                name = ast.unparse(target)
                found[name] = node.value
    return found


def test_nox_does_not_fail_on_a_missing_interpreter() -> None:
    assigned = _noxfile_assignments()
    value = assigned["nox.options.error_on_missing_interpreters"]
    assert isinstance(value, ast.Constant)
    assert value.value is False


def test_nox_versions_match_the_classifiers_and_requires_python() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    classified = sorted(
        c.rsplit(":: ", 1)[1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    )
    supported = ast.literal_eval(_noxfile_assignments()["SUPPORTED"])
    assert classified == sorted(supported) == ["3.11", "3.12", "3.13"]
    assert project["requires-python"] == ">=3.11"
