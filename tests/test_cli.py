"""The README's main job: `aiocamp demo` walks a local server with the real client."""

from __future__ import annotations

from aiocamp.cli import main


def test_demo_runs_against_its_local_server(capsys) -> None:
    assert main(["demo", "--people", "620"]) == 0
    out = capsys.readouterr().out
    assert "listed 620 people in 2 pages" in out
    assert "304s served from cache 1" in out
    assert "throttled replies 1" in out
    assert "demo OK" in out
