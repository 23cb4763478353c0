"""Every subcommand against bad files, bad option values, degenerate data and unwritable
outputs: exit status 2, one line on stderr that names the file or the option, nothing
new on disk.

The CI run takes a sample of the cases (:func:`tests.fuzz.cases.ci_cases`); the whole
set runs with ``pytest -m fuzz_long tests/fuzz`` (or ``benchmarks/fuzz_long.py``).
"""

from __future__ import annotations

import pytest

from .cases import COMMANDS, all_cases, ci_cases
from .runner import FAULTS, listing, names_one_of, run_main

CI = ci_cases()
CI_IDS = {c.id for c in CI}
LONG = [c for c in all_cases() if c.id not in CI_IDS]


def check_case(case, good, tmp_path, capsys):
    """Run ``case`` and check the answer; returns the stderr line."""
    work = tmp_path
    (work / "out").mkdir()
    argv = case.build(good, work)
    before, before_good = listing(work), listing(good.root)
    fault = (work / "out", FAULTS[case.fault]) if case.fault else None
    outcome = run_main(argv, capsys, fault=fault, memory=case.memory_guard)
    assert outcome.error is None, f"traceback:\n{outcome.error}"
    assert outcome.status == 2, (outcome.status, outcome.err_lines, outcome.out[-500:])
    assert len(outcome.err_lines) == 1, outcome.err_lines
    line = outcome.err_lines[0]
    assert line.startswith("milna "), line
    names = case.names(good, work, argv)
    assert names_one_of(line, names), f"{line!r} names none of {names}"
    assert listing(work) == before, sorted(listing(work) ^ before)
    assert listing(good.root) == before_good, sorted(listing(good.root) ^ before_good)
    return line


@pytest.mark.parametrize("case", CI, ids=[c.id for c in CI])
def test_bad_input(case, good, tmp_path, capsys):
    check_case(case, good, tmp_path, capsys)


@pytest.mark.fuzz_long
@pytest.mark.parametrize("case", LONG, ids=[c.id for c in LONG])
def test_bad_input_long(case, good, tmp_path, capsys):
    check_case(case, good, tmp_path, capsys)


GOOD = [name for name in COMMANDS if name not in ("view", "sample")]


@pytest.mark.parametrize("name", GOOD)
def test_good_arguments_run(name, good, tmp_path, capsys):
    """The arguments every case spoils are good: the command answers with status 0."""
    cmd = COMMANDS[name]
    (tmp_path / "out").mkdir()
    outcome = run_main(cmd.argv(good, tmp_path) + ["--json"], capsys)
    assert outcome.error is None, outcome.error
    assert outcome.status == 0, outcome.err_lines
