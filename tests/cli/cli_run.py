"""Run ``milna`` in-process for the CLI tests: the JSON it prints, or its one-line error."""

from __future__ import annotations

import json

from napari_milna.cli import main


def run_json(capsys, argv: list[str]) -> dict:
    """``milna ARGV --json``: exit status 0 and the one JSON object printed."""
    status = main([str(a) for a in argv] + ["--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def run_error(capsys, argv: list[str]) -> str:
    """``milna ARGV --json`` on bad input: exit status 2 and the one line on stderr."""
    status = main([str(a) for a in argv] + ["--json"])
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]
