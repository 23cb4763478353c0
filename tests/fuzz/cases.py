"""The fuzz cases: for every subcommand, good arguments spoiled in one place at a time.

A :class:`Case` is one bad input: a bad file in one slot (positional argument or
option), a bad option value, a degenerate data set, or an output that cannot or must
not be written. :func:`all_cases` lists every case (the long run,
``benchmarks/fuzz_long.py`` or ``pytest -m fuzz_long``); :func:`ci_cases` a sample that
still gives every subcommand, every slot, every kind of bad file and every option at
least one case (the CI run).

Each command's good arguments (:data:`COMMANDS`) run with exit status 0 on the inputs
of :mod:`tests.fuzz.inputs` (``test_good_arguments_run``), so a refusal is the bad
input's doing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import badfiles

STRUCT = list(badfiles.STRUCTURAL)
ANY = STRUCT + ["nan3d", "inf3d", "nan4d"]
REF = STRUCT
STAT = STRUCT + ["nan3d", "inf3d", "zero3d", "run4d"]
MAP = STRUCT + ["nan3d", "inf3d", "run4d", "other_grid"]
CSF = STRUCT + ["nan3d", "run4d"]
ROI = STRUCT + ["nan3d", "empty_mask", "negative", "fractional", "run4d", "other_grid",
                "dseg_tsv"]
ROI_RESAMPLED = [k for k in ROI if k != "other_grid"]
MASK = STRUCT + ["nan3d", "empty_mask", "run4d", "other_grid"]
MASK_RESAMPLED = [k for k in MASK if k != "other_grid"]
RUN = STRUCT + ["nan4d", "zero4d", "constant4d", "vol3d", "huge_run"]
RUN_HEADER = STRUCT + ["vol3d", "huge_run"]  # only the header is used (TR, volumes, slices)
TABLE = list(badfiles.TABLES)
PHYSIO = list(badfiles.PHYSIO)
FOLDER = list(badfiles.FOLDERS)

POSITIVE = ["-1", "0", "nan", "inf", "1e300", "abc"]
NONNEG = ["-1", "nan", "inf", "1e300", "abc"]
LEVEL = ["0", "1", "-0.5", "1.5", "nan", "abc"]
PROBABILITY = ["-0.1", "1.5", "nan", "abc"]
COUNT = ["-1", "1.5", "abc"]
POSITIVE_COUNT = ["0", "-3", "2.5", "abc"]


@dataclass(frozen=True)
class Slot:
    """Where a file goes: a positional index in the good argv, or an option."""

    where: int | str
    kinds: list[str]
    needs: tuple[str, ...] = ()       # extra arguments the slot needs (e.g. --tfce)
    drop: tuple[str, ...] = ()        # options of the good argv to remove
    tail: tuple[str, ...] = ()        # given after the bad file (the other runs' files)


@dataclass(frozen=True)
class Option:
    """Bad values of one option (each value is split on spaces for nargs > 1)."""

    name: str
    values: list[str]
    needs: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


@dataclass
class Command:
    """A subcommand: its good argv, the slots that take files, the options to spoil."""

    name: str
    argv: Callable                    # argv(g, w) -> list[str] (w: the case's folder)
    slots: dict[str, Slot] = field(default_factory=dict)
    options: list[Option] = field(default_factory=list)
    output: str | None = None         # "file" | "dir": the --out kind
    out_option: str = "--out"
    exists: Callable | None = None    # exists(g, w) -> a path the good run would write


@dataclass
class Case:
    """One bad input."""

    id: str
    command: str
    kind: str                          # "file" | "option" | "data" | "output"
    build: Callable                    # build(g, w) -> argv
    names: Callable                    # names(g, w, argv) -> strings one of which is named
    fault: str | None = None           # "erofs" | "enospc": writes into w/out fail
    memory_guard: bool = True
    extra_setup: Callable | None = None


def _out_file(w: Path, name: str) -> str:
    return str(w / "out" / name)


def _out_dir(w: Path) -> str:
    return str(w / "out")


COMMANDS: dict[str, Command] = {}


def _add(cmd: Command) -> None:
    COMMANDS[cmd.name] = cmd


_add(Command(
    "info", lambda g, w: ["info", str(g.stat)],
    slots={"file": Slot(1, ANY)},
))
_add(Command(
    "view", lambda g, w: ["view", str(g.stat)],
    slots={"file": Slot(1, ANY)},
))
_add(Command(
    "analysis", lambda g, w: ["analysis", str(g.spm)],
    slots={"folder": Slot(1, FOLDER)},
    options=[Option("--contrast", ["0", "-1", "99", "abc"])],
))
_add(Command(
    "roi seed",
    lambda g, w: ["roi", "seed", "--region", "PAG", "--ref", str(g.ref), "--assume-mni",
                  "--out", _out_file(w, "pag_mask.nii.gz")],
    slots={"--ref": Slot("--ref", REF), "--csf": Slot("--csf", CSF)},
    options=[Option("--fraction", ["0", "1.5", "-1", "nan", "abc"]),
             Option("--csf-max", PROBABILITY, needs=("--csf", "{csf}")),
             Option("--region", ["XYZ"]),
             Option("--shape", ["nrm"])],
    output="file", exists=lambda g, w: w / "out" / "pag_mask.nii.gz",
))
_add(Command(
    "roi info", lambda g, w: ["roi", "info", str(g.roi), "--stat", str(g.stat)],
    slots={"roi": Slot(2, ROI), "--ref": Slot("--ref", REF), "--stat": Slot("--stat", MAP),
           "--csf": Slot("--csf", CSF), "--brain": Slot("--brain", MASK),
           "--coverage": Slot("--coverage", MASK)},
))
_add(Command(
    "roi resample",
    lambda g, w: ["roi", "resample", str(g.roi), "--ref", str(g.stat),
                  "--out", _out_file(w, "moved_mask.nii.gz")],
    slots={"roi": Slot(2, ROI_RESAMPLED), "--ref": Slot("--ref", REF)},
    options=[Option("--fraction", ["0", "1.5", "nan", "abc"], needs=("--method", "fraction")),
             Option("--method", ["cubic"])],
    output="file", exists=lambda g, w: w / "out" / "moved_mask.nii.gz",
))
_add(Command(
    "svc", lambda g, w: ["svc", str(g.stat), str(g.roi), "--fwhm", "6",
                         "--csv", _out_file(w, "svc.csv")],
    slots={"stat": Slot(1, STAT), "roi": Slot(2, ROI), "--mask": Slot("--mask", MASK),
           "--rpv": Slot("--rpv", MAP),
           "--residuals": Slot("--residuals", RUN, drop=("--fwhm",)),
           "--smoothness": Slot("--smoothness", TABLE + list(badfiles.SMOOTHNESS),
                                drop=("--fwhm",))},
    options=[Option("--df", ["0", "-1", "nan", "inf", "abc"]),
             Option("--fwhm", POSITIVE + ["6 6"]),
             Option("--alpha", LEVEL), Option("--height-p", LEVEL),
             Option("--min-distance", NONNEG), Option("--extent", COUNT),
             Option("--table-peaks", POSITIVE_COUNT), Option("--table-distance", NONNEG),
             Option("--label", ["-1", "0", "99", "abc"]), Option("--contrast", ["0", "-1", "2"]),
             Option("--connectivity", ["5"]), Option("--type", ["x"])],
    output="file", out_option="--csv", exists=lambda g, w: w / "out" / "svc.csv",
))
_add(Command(
    "perm", lambda g, w: ["perm", str(g.roi), *map(str, g.subjects), "--n-perm", "200"],
    slots={"roi": Slot(1, ROI), "image": Slot(3, [k for k in MAP if k != "run4d"])},
    options=[Option("--n-perm", ["-1", "abc", "1e12", "1000000000000"]),
             Option("--seed", ["-1", "abc", "2.5"]),
             Option("--label", ["-1", "99", "abc"]),
             Option("--tfce-steps", POSITIVE_COUNT, needs=("--tfce",)),
             Option("--tfce-connectivity", ["5"], needs=("--tfce",)),
             Option("--workers", ["0", "-1", "abc"], needs=("--whole-brain",))],
))
_add(Command(
    "qc", lambda g, w: ["qc", str(g.run), "--brain-mask", str(g.brain), "--out-dir", _out_dir(w)],
    slots={"epi": Slot(1, RUN), "--brain-mask": Slot("--brain-mask", MASK_RESAMPLED),
           "--csf": Slot("--csf", CSF), "--roi": Slot("--roi", ROI_RESAMPLED)},
    options=[Option("--detrend", ["-1", "1000", "abc"]),
             Option("--dropout-threshold", LEVEL),
             Option("--workers", ["0", "-1", "abc"])],
    output="dir", out_option="--out-dir",
    exists=lambda g, w: w / "out" / f"{Path(g.run).name[:-7]}_qc.tsv",
))
_add(Command(
    "motion", lambda g, w: ["motion", str(g.motion), "--format", "spm"],
    slots={"params": Slot(1, TABLE + list(badfiles.MOTION))},
    options=[Option("--threshold", POSITIVE), Option("--before", COUNT),
             Option("--after", COUNT), Option("--radius", POSITIVE),
             Option("--format", ["bogus"])],
))
_add(Command(
    "retroicor",
    lambda g, w: ["retroicor", str(g.physio), "--tr", "2", "--n-volumes", "40",
                  "--slice-time", "0.5", "--out", _out_file(w, "retro.tsv")],
    slots={"physio": Slot(1, PHYSIO), "--bold": Slot("--bold", RUN_HEADER,
                                                     drop=("--tr", "--n-volumes")),
           "--peaks": Slot("--peaks", TABLE + list(badfiles.PEAKS))},
    options=[Option("--tr", POSITIVE), Option("--n-volumes", ["0", "-5", "1000000000", "abc"]),
             Option("--slice-time", ["-1", "2.5", "nan", "inf"]),
             Option("--orders", ["-1 4 1", "0 0 0", "3 4", "a b c", "99 99 99"]),
             Option("--hr-window", POSITIVE, needs=("--model", "retroicor+rvt+hr")),
             Option("--slice", ["-1", "999"], needs=("--bold", "{run}"),
                    drop=("--tr", "--n-volumes", "--slice-time")),
             Option("--at", ["nan 0 0", "1e9 0 0"], needs=("--bold", "{run}"),
                    drop=("--tr", "--n-volumes", "--slice-time")),
             Option("--cardiac-kind", ["x"]), Option("--model", ["x"])],
    output="file", exists=lambda g, w: w / "out" / "retro.tsv",
))
_add(Command(
    "glm",
    lambda g, w: ["glm", str(g.run), "--events", str(g.events), "--mask", str(g.brain),
                  "--smoothing", "0", "--no-compare", "--roi", str(g.roi), "--out", _out_dir(w)],
    slots={"bold": Slot(1, RUN),
           "--events": Slot("--events", TABLE + list(badfiles.EVENTS)),
           "--physio": Slot("--physio", PHYSIO, needs=("--slice-time", "0.5")),
           "--confounds": Slot("--confounds", TABLE + list(badfiles.CONFOUNDS)),
           "--mask": Slot("--mask", MASK), "--roi": Slot("--roi", ROI_RESAMPLED),
           "--motion": Slot("--motion", TABLE + list(badfiles.MOTION),
                            needs=("--motion-format", "spm")),
           "--csf": Slot("--csf", CSF)},
    options=[Option("--smoothing", NONNEG), Option("--high-pass", NONNEG + ["10"]),
             Option("--fd-threshold", POSITIVE, needs=("--motion", "{motion}",
                                                       "--motion-format", "spm")),
             Option("--scrub-before", COUNT), Option("--scrub-after", COUNT),
             Option("--csf-level", PROBABILITY), Option("--csf-erosion", COUNT),
             Option("--csf-warn", PROBABILITY),
             Option("--orders", ["-1 4 1", "0 0 0", "a b c"],
                    needs=("--physio", "{physio}", "--slice-time", "0.5")),
             Option("--slice", ["-1", "999"], needs=("--physio", "{physio}")),
             Option("--slice-time", ["-1", "99", "nan"], needs=("--physio", "{physio}")),
             Option("--noise-model", ["x"]), Option("--roi", ["NOSUCHREGION"]),
             Option("--motion-format", ["bogus"], needs=("--motion", "{motion}"))],
    output="dir",
    exists=lambda g, w: w / "out" / "sub-01_task-pain_space-MNI152NLin2009cAsym_contrast-pain"
                                   "_stat-t_statmap.nii.gz",
))
_add(Command(
    "crossover", lambda g, w: ["crossover", str(g.crossover), "--out", _out_dir(w)],
    slots={"table": Slot(1, TABLE), "--roi": Slot("--roi", ROI)},
    options=[Option("--contrast", ["bogus"]), Option("--condition", ["nosuch"]),
             Option("--control", ["nosuch"])],
    output="dir",
    exists=lambda g, w: w / "out" / "group_contrast-interaction_stat-t_statmap.nii.gz",
))
_add(Command(
    "connectivity",
    lambda g, w: ["connectivity", *map(str, g.rest), "--mask", str(g.rest_mask),
                  "--seed", "left", "-36", "0", "4", "--out", _out_dir(w)],
    slots={"bold": Slot(1, RUN), "--mask": Slot("--mask", MASK),
           "--confounds": Slot("--confounds", TABLE + list(badfiles.CONFOUNDS),
                               tail=("{rest_confounds}",))},
    options=[Option("--high-pass", NONNEG + ["0.2"]), Option("--low-pass", NONNEG + ["1.0"]),
             Option("--smoothing", NONNEG), Option("--fd-threshold", POSITIVE),
             Option("--seed", ["x a b c", "x nan 0 0", "x 1e9 0 0"])],
    output="dir",
))
_add(Command(
    "multiecho",
    lambda g, w: ["multiecho", *map(str, g.echoes), "--mask", str(g.echo_mask), "--no-qc",
                  "--out", _out_dir(w)],
    slots={"echo": Slot(2, RUN), "--mask": Slot("--mask", MASK_RESAMPLED),
           "--roi": Slot("--roi", ROI_RESAMPLED)},
    options=[Option("--te", ["0 30 47", "-13 30 47", "nan 30 47", "13 30", "13 30 47 60",
                             "13 13 13", "47 30 13", "1e9 30 47"])],
    output="dir",
))
_add(Command(
    "report", lambda g, w: ["report", str(g.spm), "--out", _out_file(w, "report.html")],
    slots={"source": Slot(1, FOLDER + ["not_nifti"]), "--roi": Slot("--roi", ROI)},
    output="file", exists=lambda g, w: w / "out" / "report.html",
))
_add(Command(
    "sample", lambda g, w: ["sample", "--out", str(w / "out" / "study")],
    output="dir",
))


# --------------------------------------------------------------------- argv editing
def _fill(token: str, g) -> str:
    table = {"{csf}": g.csf, "{run}": g.run, "{physio}": g.physio, "{motion}": g.motion,
             "{rest_confounds}": g.rest_confounds}
    return str(table.get(token, token))


def _drop(argv: list[str], option: str) -> list[str]:
    """``argv`` without ``option`` and the values after it."""
    if option not in argv:
        return argv
    i = argv.index(option)
    j = i + 1
    while j < len(argv) and not argv[j].startswith("--"):
        j += 1
    return argv[:i] + argv[j:]


def _set(argv: list[str], option: str, values: list[str]) -> list[str]:
    """``argv`` with ``option`` given ``values`` (replaced, or appended)."""
    if option in argv:
        i = argv.index(option)
        rest = _drop(argv, option)
        return rest[:i] + [option, *values] + rest[i:]
    return argv + [option, *values]


def _with(argv: list[str], needs, drop, g) -> list[str]:
    for option in drop:
        argv = _drop(argv, option)
    needs = [_fill(t, g) for t in needs]
    i = 0
    while i < len(needs):
        option = needs[i]
        j = i + 1
        while j < len(needs) and not needs[j].startswith("--"):
            j += 1
        if option not in argv:
            argv = argv + needs[i:j]
        i = j
    return argv


def _stems(*paths) -> list[str]:
    from napari_milna.core.io.nifti import nifti_stem

    out = []
    for p in paths:
        name = Path(p).name
        stem = nifti_stem(name).split(".")[0]
        out += [stem, name]
    return out


# --------------------------------------------------------------------- case makers
def _file_case(cmd: Command, slot_name: str, slot: Slot, kind: str) -> Case:
    def build(g, w):
        argv = _with(cmd.argv(g, w), slot.needs, slot.drop, g)
        bad = str(badfiles.make(kind, w))
        if isinstance(slot.where, int):
            argv[slot.where] = bad
        else:
            argv = _set(argv, slot.where, [bad] + [_fill(t, g) for t in slot.tail])
        return argv

    def names(g, w, argv):
        bad = [a for a in argv if "bad-" in a]
        return _stems(*bad) + ["bad-" + kind]

    return Case(f"{cmd.name}/{slot_name}={kind}", cmd.name, "file", build, names,
                memory_guard=True)


def _option_case(cmd: Command, option: Option, value: str) -> Case:
    def build(g, w):
        argv = _with(cmd.argv(g, w), option.needs, option.drop, g)
        return _set(argv, option.name, value.split(" "))

    def names(g, w, argv):
        return [option.name]

    return Case(f"{cmd.name}/{option.name}={value.replace(' ', ',')}", cmd.name, "option",
                build, names)


def _output_cases(cmd: Command) -> list[Case]:
    """Outputs that cannot or must not be written: below a file, exists, read-only, full."""
    cases = []
    opt = cmd.out_option

    def below_file(g, w):
        (w / "afile").write_text("x")
        target = w / "afile" / ("x.tsv" if cmd.output == "file" else "sub")
        return _set(cmd.argv(g, w), opt, [str(target)])

    cases.append(Case(f"{cmd.name}/{opt}=below_a_file", cmd.name, "output", below_file,
                      lambda g, w, a: ["afile"]))
    if cmd.output == "file" or cmd.name in ("glm", "connectivity", "multiecho"):
        def missing_parent(g, w):
            target = w / "nope" / "deeper" / ("x.tsv" if cmd.output == "file" else "sub")
            return _set(cmd.argv(g, w), opt, [str(target)])

        cases.append(Case(f"{cmd.name}/{opt}=missing_folder", cmd.name, "output",
                          missing_parent, lambda g, w, a: ["nope"]))
    if cmd.exists is not None:
        def exists(g, w):
            target = cmd.exists(g, w)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("mine")
            return cmd.argv(g, w)

        cases.append(Case(f"{cmd.name}/{opt}=exists", cmd.name, "output", exists,
                          lambda g, w, a: [Path(cmd.exists(g, w)).name, "out"]))
    for fault in ("erofs", "enospc"):
        def faulty(g, w):
            (w / "out").mkdir(exist_ok=True)
            return cmd.argv(g, w)

        cases.append(Case(f"{cmd.name}/{opt}={fault}", cmd.name, "output", faulty,
                          lambda g, w, a: ["out"], fault=fault))
    return cases


def _data(command: str, name: str, build, names=None) -> Case:
    return Case(f"{command}/data={name}", command, "data", build,
                names or (lambda g, w, argv: _stems(*[a for a in argv if "bad-" in a])))


def _data_cases() -> list[Case]:
    """Degenerate data sets a command must refuse with a reason (not a number)."""
    from .degenerate import DATA_CASES

    return [_data(*c) for c in DATA_CASES]


def all_cases() -> list[Case]:
    """Every case (the long run)."""
    cases: list[Case] = []
    for cmd in COMMANDS.values():
        for slot_name, slot in cmd.slots.items():
            cases += [_file_case(cmd, slot_name, slot, kind) for kind in slot.kinds]
        for option in cmd.options:
            cases += [_option_case(cmd, option, v) for v in option.values]
        if cmd.output:
            cases += _output_cases(cmd)
    cases += _data_cases()
    return cases


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def ci_cases(share: int = 3) -> list[Case]:
    """About one case in ``share`` of each (command, slot / option) group, chosen by a
    stable hash, keeping at least one case per group and per (command, bad-file kind).

    Output and degenerate-data cases are all kept.
    """
    chosen, seen_kind, groups = [], set(), {}
    for case in all_cases():
        if case.kind in ("output", "data"):
            chosen.append(case)
            continue
        group = case.id.split("=")[0]
        kind = (case.command, case.id.split("=")[1]) if case.kind == "file" else None
        keep = _stable(case.id) % share == 0
        if group not in groups or (kind is not None and kind not in seen_kind):
            keep = True
        groups.setdefault(group, 0)
        if keep:
            groups[group] += 1
            chosen.append(case)
            if kind is not None:
                seen_kind.add(kind)
    return chosen
