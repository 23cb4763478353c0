"""The exhaustive fuzz run: every case of tests/fuzz, per subcommand, with what went wrong.

    .venv/bin/python benchmarks/fuzz_long.py [--subprocess] [--only CMD] [--json OUT]

Runs every case of :func:`tests.fuzz.cases.all_cases` (the CI run of
``tests/fuzz/test_cli_fuzz.py`` takes a sample) and prints, per subcommand, the number
of cases and of failures, and the failures grouped by what went wrong: a traceback
(by exception type), an exit status other than 2 (0: the bad input was accepted), not
exactly one line on stderr, a line naming neither the file nor the option, files left
behind. In-process by default (as the CI tests run them, with write faults emulated);
``--subprocess`` runs each case as ``python -m napari_milna.cli`` to see stderr exactly as
a user does (warnings and logging included; the write-fault cases are skipped there).
Not a timed benchmark: it reports counts.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import subprocess
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.cases import all_cases, ci_cases  # noqa: E402
from tests.fuzz.inputs import write_good_inputs  # noqa: E402
from tests.fuzz.runner import FAULTS, listing, names_one_of, run_main  # noqa: E402


class Capture:
    """capsys's ``readouterr`` over redirected streams."""

    def __init__(self):
        self.out, self.err = io.StringIO(), io.StringIO()

    def readouterr(self):
        out, err = self.out.getvalue(), self.err.getvalue()
        self.out.seek(0), self.out.truncate(), self.err.seek(0), self.err.truncate()
        return collections.namedtuple("Captured", "out err")(out, err)


def problems(case, good, work, outcome, before, before_good, argv) -> list[str]:
    found = []
    if outcome.error:
        last = outcome.error.strip().splitlines()[-1]
        found.append(f"traceback: {last.split(':')[0]}")
    elif outcome.status != 2:
        found.append(f"exit {outcome.status}" + (" (accepted)" if outcome.status == 0 else ""))
    if not outcome.error and outcome.status == 2:
        if len(outcome.err_lines) != 1:
            found.append(f"{len(outcome.err_lines)} stderr lines")
        elif not names_one_of(outcome.err_lines[0], case.names(good, work, argv)):
            found.append("line names neither file nor option")
    if listing(work) != before or listing(good.root) != before_good:
        found.append("files left behind")
    return found


def run_case(case, good, base: Path, use_subprocess: bool):
    work = Path(tempfile.mkdtemp(dir=base))
    (work / "out").mkdir()
    argv = case.build(good, work)
    before, before_good = listing(work), listing(good.root)
    if use_subprocess:
        if case.fault:
            return None
        proc = subprocess.run([sys.executable, "-m", "napari_milna.cli", *argv],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
        error = proc.stderr if "Traceback (most recent call last)" in proc.stderr else None
        outcome = collections.namedtuple("O", "status out err_lines error")(
            proc.returncode, proc.stdout,
            [line for line in proc.stderr.splitlines() if line.strip()], error)
    else:
        cap = Capture()
        fault = (work / "out", FAULTS[case.fault]) if case.fault else None
        with redirect_stdout(cap.out), redirect_stderr(cap.err):
            outcome = run_main(argv, cap, fault=fault, memory=case.memory_guard)
    return problems(case, good, work, outcome, before, before_good, argv), outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subprocess", action="store_true")
    parser.add_argument("--only", help="one subcommand (e.g. 'roi seed')")
    parser.add_argument("--ci", action="store_true", help="only the CI sample")
    parser.add_argument("--json", help="write every case's problems here")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="milna-fuzz-"))
    good = write_good_inputs(base / "good")
    cases = ci_cases() if args.ci else all_cases()
    if args.only:
        cases = [c for c in cases if c.command == args.only]
    per_cmd = collections.OrderedDict()
    groups = collections.defaultdict(collections.Counter)
    record = {}
    for case in cases:
        result = run_case(case, good, base, args.subprocess)
        if result is None:
            continue
        found, outcome = result
        n, bad = per_cmd.get(case.command, (0, 0))
        per_cmd[case.command] = (n + 1, bad + bool(found))
        for f in found:
            groups[f][case.command] += 1
        record[case.id] = {"problems": found, "status": outcome.status,
                           "stderr": outcome.err_lines[-3:],
                           "error": (outcome.error or "").strip().splitlines()[-1:]}
    width = max(len(c) for c in per_cmd)
    print(f"{'subcommand':<{width}}  cases  failed")
    for cmd, (n, bad) in per_cmd.items():
        print(f"{cmd:<{width}}  {n:5d}  {bad:6d}")
    total = sum(n for n, _ in per_cmd.values()), sum(b for _, b in per_cmd.values())
    print(f"{'all':<{width}}  {total[0]:5d}  {total[1]:6d}")
    print("\nwhat went wrong (cases per subcommand):")
    for problem, counts in sorted(groups.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"  {problem}: {sum(counts.values())} ({dict(counts)})")
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
