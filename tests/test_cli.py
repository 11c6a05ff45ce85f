"""The README's main job: `aiocamp demo` walks a local server with the real client."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import aiocamp
from aiocamp.cli import main

from .helpers import ROOT


def test_demo_runs_against_its_local_server(capsys) -> None:
    assert main(["demo", "--people", "620"]) == 0
    out = capsys.readouterr().out
    assert "listed 620 people in 2 pages" in out
    assert "304s served from cache 1" in out
    assert "throttled replies 1" in out
    assert "demo OK" in out


def test_no_arguments_prints_the_commands_and_exits_2(capsys) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "demo" in err
    assert "name a command" in err
    assert "Traceback" not in err


def test_version_prints_the_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"aiocamp {aiocamp.__version__}"


@pytest.mark.parametrize(
    ("value", "why"), [("0", "at least 1"), ("-3", "at least 1"), ("x", "whole")]
)
def test_bad_values_are_usage_errors_not_tracebacks(capsys, value, why) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--people", value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert why in err
    assert "Traceback" not in err


def test_python_dash_m_aiocamp_without_arguments_exits_2_without_traceback() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run(
        [sys.executable, "-m", "aiocamp"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "demo" in proc.stderr
