"""The crossover study table: which first-level map is which subject, treatment and condition.

A study table is a TSV or CSV file with the columns

* ``subject`` (``participant_id`` is accepted too),
* ``treatment``: ``drug`` or ``placebo``,
* ``condition``: ``pain``, ``baseline``, ``sensory``, or a ready contrast such as
  ``pain_vs_baseline``,
* ``path``: the map, absolute or relative to the table's folder,
* ``period`` (optional): 1 or 2, the scan period of that treatment (sequence).

Instead of a table, a BIDS-derivatives folder can be searched
(:func:`discover_bids`): the entities ``sub``, ``ses`` or ``acq`` (drug / placebo) and
``contrast`` name the map, e.g.
``sub-01_ses-drug_task-pain_contrast-pain_stat-effect_statmap.nii.gz``.

:func:`validate_study` then checks the study against the contrast that will be
computed (:class:`CrossoverContrast`): every subject needs both treatments and the
conditions that contrast uses, every map must exist, be a 3D NIfTI image and lie on
the grid of the first one (or is resampled onto it when the caller asks). Every
problem is one :class:`~napari_milna.core.errors.MilnaInputError` sentence naming the
file and the row or subject.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.bids import bids_entities
from ..io.geometry import Grid
from ..io.nifti import NiftiSource, is_nifti_path, open_nifti
from ..io.resample import resample_to_grid
from ..io.tables import read_table
from ..protocol import CONTRAST_KINDS

TREATMENTS = ("drug", "placebo")
#: Column names the table needs (after aliases), and the optional one.
REQUIRED_COLUMNS = ("subject", "treatment", "condition", "path")
OPTIONAL_COLUMNS = ("period",)
COLUMN_ALIASES = {"participant_id": "subject", "sub": "subject"}
#: Conditions of the first level; anything else is taken as a ready contrast.
CONDITIONS = ("pain", "baseline", "sensory")
#: Entity values (lower case) that mean drug / placebo in BIDS discovery.
DRUG_LABELS = ("drug", "active", "verum")
PLACEBO_LABELS = ("placebo", "pla", "plc")
#: Fewest subjects for a paired t (df = N - 1 >= 2; with a period covariate df >= 1).
MIN_SUBJECTS = 3

_CONDITION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_MISSING = ("", "n/a", "na", "nan")


def natural_key(text: str):
    """Sort key that orders ``sub-2`` before ``sub-10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(text))]


@dataclass(frozen=True)
class MapEntry:
    """One first-level map of the study.

    Attributes
    ----------
    subject, treatment, condition : str
        ``treatment`` is ``drug`` or ``placebo``; ``condition`` lower case from a
        table, the ``contrast`` label as written from BIDS (matched ignoring case).
    path : Path
        Absolute path of the map.
    period : int or None
        Scan period (1 or 2) of this treatment, when known.
    line : int or None
        Line of the table (1 is the header), None for maps found by discovery.
    """

    subject: str
    treatment: str
    condition: str
    path: Path
    period: int | None = None
    line: int | None = None


@dataclass
class StudyTable:
    """The maps of a crossover study, read from a table or found in a BIDS folder.

    Attributes
    ----------
    source : Path
        The table file or the BIDS folder.
    entries : list of MapEntry
    kind : {"table", "bids"}
    """

    source: Path
    entries: list[MapEntry]
    kind: str = "table"

    @property
    def subjects(self) -> list[str]:
        """Subjects in natural order."""
        return sorted({e.subject for e in self.entries}, key=natural_key)

    @property
    def conditions(self) -> list[str]:
        """Conditions (and ready contrasts) present, sorted."""
        return sorted({e.condition for e in self.entries})

    def entry(self, subject: str, treatment: str, condition: str) -> MapEntry | None:
        """The map of one subject, treatment and condition, or None."""
        for e in self.entries:
            if (e.subject, e.treatment, e.condition) == (subject, treatment, condition):
                return e
        return None

    def period(self, subject: str, treatment: str) -> int | None:
        """The scan period of ``treatment`` for ``subject`` (None when not given)."""
        for e in self.entries:
            if e.subject == subject and e.treatment == treatment and e.period is not None:
                return e.period
        return None

    def where(self, entry: MapEntry) -> str:
        """Where an entry comes from, for messages: ``line 5 (sub-02 drug pain)``."""
        what = f"{entry.subject} {entry.treatment} {entry.condition}"
        if entry.line is not None:
            return f"line {entry.line} ({what})"
        return f"{entry.path.name} ({what})"

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "source": str(self.source),
            "kind": self.kind,
            "n_subjects": len(self.subjects),
            "conditions": self.conditions,
            "n_maps": len(self.entries),
        }


# ---------------------------------------------------------------------------- reading
def _delimiter(path: Path, head: str) -> str:
    name = path.name.lower()
    if name.endswith((".tsv", ".tsv.txt")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    return "\t" if head.count("\t") >= head.count(",") else ","


def _parse_period(value: str, table: Path, line: int, subject: str) -> int | None:
    text = str(value or "").strip().lower()
    if text in _MISSING:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number not in (1.0, 2.0):
        raise input_error(
            table, f"line {line} (subject {subject}) has period {value!r}; the period must be "
            "1 or 2 (or empty)"
        )
    return int(number)


def read_study_table(path: str | os.PathLike) -> StudyTable:
    """Read a study table (TSV or CSV) and check each row.

    Parameters
    ----------
    path : str or path-like
        Tab- or comma-separated file with a header row: ``subject``, ``treatment``,
        ``condition``, ``path`` and optionally ``period``. Relative paths are relative
        to the table's folder.

    Returns
    -------
    StudyTable

    Raises
    ------
    MilnaInputError
        Missing or unreadable file, missing columns, an empty cell, a treatment other
        than drug / placebo, a malformed condition or period, a duplicate row, or a
        subject whose treatments share a period.
    """
    table = Path(path)
    if not table.exists():
        raise input_error(table, "does not exist")
    if table.is_dir():
        raise input_error(table, "is a folder; give a study table (TSV / CSV) or use discovery")
    try:
        text = table.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise input_error(table, f"could not be read as text ({exc})") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise input_error(table, "is empty; a study table needs a header row and one row per map")
    frame = read_table(table, sep=_delimiter(table, lines[0]), as_text=True,
                       skip_blank_lines=False)
    header = [COLUMN_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise input_error(
            table, f"lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(a study table needs {', '.join(REQUIRED_COLUMNS)}, optionally period; "
            f"found {', '.join(h for h in header if h) or 'no column names'})"
        )
    col = {name: header.index(name) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
           if name in header}
    entries: list[MapEntry] = []
    seen: dict[tuple, int] = {}
    for number, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: row[i].strip() for name, i in col.items()}
        subject = cells["subject"]
        for name in REQUIRED_COLUMNS:
            if not cells[name]:
                who = f" (subject {subject})" if subject else ""
                raise input_error(table, f"line {number}{who} has an empty {name}")
        treatment = cells["treatment"].lower()
        if treatment not in TREATMENTS:
            raise input_error(
                table, f"line {number} (subject {subject}) has treatment {cells['treatment']!r}; "
                "it must be drug or placebo"
            )
        condition = cells["condition"].lower()
        if not _CONDITION.match(condition):
            raise input_error(
                table, f"line {number} (subject {subject}) has condition {cells['condition']!r}; "
                "use pain, baseline, sensory or a contrast name of letters, digits and _"
            )
        period = _parse_period(cells.get("period", ""), table, number, subject)
        map_path = Path(os.path.expanduser(cells["path"]))
        if not map_path.is_absolute():
            map_path = table.parent / map_path
        key = (subject, treatment, condition)
        if key in seen:
            raise input_error(
                table, f"lines {seen[key]} and {number} both give the {treatment} {condition} "
                f"map of subject {subject}; keep one row per subject, treatment and condition"
            )
        seen[key] = number
        entries.append(MapEntry(subject, treatment, condition, map_path, period, number))
    if not entries:
        raise input_error(table, "has a header but no rows")
    study = StudyTable(table, entries, "table")
    _check_periods(study)
    return study


def _check_periods(study: StudyTable) -> None:
    """Within a subject a treatment has one period, and the two treatments differ."""
    for subject in study.subjects:
        periods = {}
        for e in study.entries:
            if e.subject != subject or e.period is None:
                continue
            previous = periods.setdefault(e.treatment, (e.period, e))
            if previous[0] != e.period:
                raise input_error(
                    study.source, f"{study.where(e)} gives period {e.period} but "
                    f"{study.where(previous[1])} gives period {previous[0]} for the same "
                    f"{e.treatment} session of subject {subject}"
                )
        if len(periods) == 2 and periods["drug"][0] == periods["placebo"][0]:
            raise input_error(
                study.source, f"subject {subject} has drug and placebo both in period "
                f"{periods['drug'][0]}; in a crossover one is period 1 and the other period 2"
            )


# -------------------------------------------------------------------------- discovery
def _treatment_of(entities: dict[str, str], drug_labels, placebo_labels) -> str | None:
    for key in ("ses", "acq"):
        value = entities.get(key, "").lower()
        if value in drug_labels:
            return "drug"
        if value in placebo_labels:
            return "placebo"
    return None


def _sequence_periods(folder: Path) -> dict[str, dict[str, int]]:
    """Drug / placebo periods by subject from the nearest ``participants.tsv`` with ``sequence``.

    ``sequence`` values such as ``drug-placebo`` or ``placebo-drug`` (also ``_`` or ``/``).
    """
    for candidate in [folder, *list(folder.parents)[:4]]:
        tsv = candidate / "participants.tsv"
        if not tsv.is_file():
            continue
        try:
            rows = read_table(tsv, sep="\t", as_text=True).to_dict("records")
        except MilnaInputError:
            return {}
        out = {}
        for row in rows:
            sid = str(row.get("participant_id", "")).strip()
            order = re.split(r"[-_/ ,]+", str(row.get("sequence", "")).strip().lower())
            if sid and len(order) == 2 and set(order) == set(TREATMENTS):
                periods = {order[0]: 1, order[1]: 2}
                out[sid] = periods
                out[sid.removeprefix("sub-")] = periods
        return out
    return {}


def discover_bids(
    folder: str | os.PathLike,
    *,
    stat: str | None = "effect",
    drug_labels=DRUG_LABELS,
    placebo_labels=PLACEBO_LABELS,
) -> StudyTable:
    """Find the crossover maps in a BIDS-derivatives folder.

    A map is a NIfTI file whose name has ``sub-<label>``, ``contrast-<label>`` and a
    ``ses-`` or ``acq-`` entity meaning drug or placebo. Files with a ``stat-`` entity
    other than ``stat`` are skipped (a first level writes effect, variance, t and z
    maps side by side). Periods come from the ``sequence`` column of the nearest
    ``participants.tsv`` (``drug-placebo`` / ``placebo-drug``), when there is one.

    Parameters
    ----------
    folder : str or path-like
    stat : str or None
        The ``stat`` entity to keep (default ``effect``); None keeps every map.
    drug_labels, placebo_labels : sequence of str
        Lower-case ``ses`` / ``acq`` values meaning drug and placebo.

    Returns
    -------
    StudyTable

    Raises
    ------
    MilnaInputError
        Not a folder, no map found, or two maps for the same subject, treatment and
        contrast.
    """
    root = Path(folder)
    if not root.is_dir():
        raise input_error(root, "is not a folder")
    periods = _sequence_periods(root)
    found: dict[tuple, Path] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or not is_nifti_path(path) or path.name.startswith("."):
            continue
        ent = bids_entities(path)
        if "sub" not in ent or "contrast" not in ent:
            continue
        if stat is not None and "stat" in ent and ent["stat"].lower() != stat.lower():
            continue
        treatment = _treatment_of(ent, tuple(drug_labels), tuple(placebo_labels))
        if treatment is None:
            continue
        subject = f"sub-{ent['sub']}"
        key = (subject, treatment, ent["contrast"])
        if key in found:
            raise input_error(
                root, f"holds two {treatment} maps of contrast {ent['contrast']} for {subject} "
                f"({found[key].name} and {path.name}); keep one, or write a study table"
            )
        found[key] = path
    if not found:
        raise input_error(
            root, "holds no first-level map named with sub-, ses- or acq- (drug / placebo) and "
            "contrast- entities" + (f" (stat-{stat})" if stat else "")
        )
    entries = [
        MapEntry(s, t, c, p, periods.get(s, {}).get(t), None)
        for (s, t, c), p in sorted(found.items(), key=lambda kv: natural_key(" ".join(kv[0])))
    ]
    return StudyTable(root, entries, "bids")


def open_study(path: str | os.PathLike, **discovery) -> StudyTable:
    """A study table file, or discovery in a BIDS-derivatives folder."""
    path = Path(path)
    if path.is_dir():
        return discover_bids(path, **discovery)
    return read_study_table(path)


# --------------------------------------------------------------------------- contrast
@dataclass(frozen=True)
class CrossoverContrast:
    """What is compared per subject.

    ``interaction``: ``(Drug_active - Drug_control) - (Placebo_active - Placebo_control)``,
    e.g. Pain > Baseline or Pain > Sensory. ``difference``: ``Drug - Placebo`` of one
    condition or ready contrast (``active``).

    Attributes
    ----------
    kind : {"interaction", "difference"}
    active : str
    control : str or None
        Only for the interaction.
    """

    kind: str
    active: str
    control: str | None = None

    @property
    def conditions(self) -> tuple[str, ...]:
        """Conditions each subject needs under both treatments."""
        return (self.active, self.control) if self.kind == "interaction" else (self.active,)

    @property
    def within(self) -> str:
        """The within-session contrast: ``pain - baseline`` or the ready contrast's name."""
        return f"{self.active} - {self.control}" if self.kind == "interaction" else self.active

    @property
    def label(self) -> str:
        """Human description: ``(drug - placebo) x (pain - baseline)``."""
        if self.kind == "interaction":
            return f"(drug - placebo) x ({self.within})"
        return f"drug - placebo ({self.active})"

    @property
    def name(self) -> str:
        """Short name for files: ``interaction`` or ``difference`` (plus non-default parts)."""
        if self.kind == "interaction":
            if (self.active, self.control) == ("pain", "baseline"):
                return "interaction"
            return f"interaction{_camel(self.active)}Vs{_camel(self.control)}"
        return f"difference{_camel(self.active)}"

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"kind": self.kind, "active": self.active, "control": self.control,
                "label": self.label}


def _camel(text: str | None) -> str:
    words = re.split(r"[^A-Za-z0-9]+", str(text or ""))
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def choose_contrast(
    table: StudyTable,
    kind: str | None = None,
    active: str | None = None,
    control: str | None = None,
) -> CrossoverContrast:
    """Settle the contrast from the user's choice and the conditions in the table.

    Parameters
    ----------
    table : StudyTable
    kind : {"interaction", "difference"} or None
        None: the interaction when the table has its two conditions, else the
        difference when it holds one condition (a ready contrast).
    active : str, optional
        Interaction: the task condition (default ``pain``). Difference: the condition
        or ready contrast compared (default: the table's only condition).
    control : str, optional
        Interaction only: ``baseline`` (default, when present) or ``sensory``
        (Pain > Sensory).

    Returns
    -------
    CrossoverContrast

    Raises
    ------
    MilnaInputError
        A kind that is not known, or conditions the table does not hold.
    """
    canonical = {c.lower(): c for c in table.conditions}
    present = list(canonical)
    listed = ", ".join(table.conditions)
    if kind is not None and kind not in CONTRAST_KINDS:
        raise input_error(None, f"unknown contrast {kind!r}; use interaction or difference")
    active = active.lower() if active else None
    control = control.lower() if control else None
    if kind is None:
        act = active or "pain"
        ctl = control or next((c for c in ("baseline", "sensory") if c in present), None)
        if act in present and ctl in present and act != ctl:
            kind = "interaction"
        elif len(present) == 1 or (active is not None and active in present):
            kind = "difference"
        else:
            raise input_error(
                table.source, f"holds the conditions {listed}; choose the contrast "
                "(interaction of pain with baseline or sensory, or the drug - placebo "
                "difference of one condition)"
            )
    if kind == "interaction":
        active = active or "pain"
        control = control or next((c for c in ("baseline", "sensory") if c in present),
                                  "baseline")
        if active == control:
            raise input_error(None, f"the interaction needs two different conditions, got "
                              f"{active} twice")
        lacking = [c for c in (active, control) if c not in present]
        if lacking:
            raise input_error(
                table.source, f"has no {' or '.join(lacking)} maps (conditions present: "
                f"{listed}); the interaction ({active} - {control}) needs both; for a ready "
                "contrast use the drug - placebo difference"
            )
        return CrossoverContrast("interaction", canonical[active], canonical[control])
    if control is not None:
        raise input_error(None, "a control condition applies only to the interaction contrast")
    if active is None:
        if len(present) != 1:
            raise input_error(
                table.source, f"holds several conditions ({listed}); name the one whose "
                "drug - placebo difference is wanted"
            )
        active = present[0]
    if active not in present:
        raise input_error(table.source, f"has no {active} maps (conditions present: {listed})")
    return CrossoverContrast("difference", canonical[active], None)


# ------------------------------------------------------------------------- validation
@dataclass
class CrossoverStudy:
    """A study checked against its contrast: the maps each subject contributes.

    Attributes
    ----------
    table : StudyTable
    contrast : CrossoverContrast
    subjects : list of str
    paths : dict
        ``(subject, treatment, condition) -> Path`` for the conditions the contrast uses.
    drug_period : dict of str to int or None
        Period (1 / 2) in which each subject had the drug, when the table says.
    reference : NiftiSource
        The first map: its grid is the study grid, its header goes to the outputs.
    resampled : list of Path
        Maps on another grid, resampled (trilinear) onto the reference grid on reading.
    """

    table: StudyTable
    contrast: CrossoverContrast
    subjects: list[str]
    paths: dict[tuple[str, str, str], Path]
    drug_period: dict[str, int | None]
    reference: NiftiSource
    resampled: list[Path] = field(default_factory=list)

    @property
    def grid(self) -> Grid:
        """The study grid (the reference map's)."""
        return self.reference.grid

    @property
    def n_subjects(self) -> int:
        """Number of subjects."""
        return len(self.subjects)

    @property
    def has_periods(self) -> bool:
        """True when every subject's drug period is known."""
        return all(self.drug_period.get(s) is not None for s in self.subjects)

    def sequence(self, subject: str) -> str | None:
        """``drug-placebo`` or ``placebo-drug``, when the period is known."""
        period = self.drug_period.get(subject)
        if period is None:
            return None
        return "drug-placebo" if period == 1 else "placebo-drug"

    def load_map(self, subject: str, treatment: str, condition: str) -> np.ndarray:
        """One map as float64 on the study grid (resampled when it was allowed and needed)."""
        path = self.paths[(subject, treatment, condition)]
        source = open_nifti(path)
        data = np.asarray(source.volume(), dtype=np.float64)
        if not np.isfinite(data).any():
            # Refused, not dropped: a subject left out silently changes the group and its df.
            raise input_error(path, f"holds no finite value (every voxel is NaN): {subject}'s "
                                    f"{treatment} {condition} map is empty; give its map or "
                                    f"remove {subject} from the study")
        if not source.grid.matches(self.grid):
            data = resample_to_grid(data, source.grid, self.grid, order=1, fill=np.nan)
        return data

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "source": str(self.table.source),
            "n_subjects": self.n_subjects,
            "subjects": list(self.subjects),
            "contrast": self.contrast.to_dict(),
            "periods_known": self.has_periods,
            "grid": self.grid.describe(),
            "resampled": [str(p) for p in self.resampled],
        }


def validate_study(
    table: StudyTable, contrast: CrossoverContrast, *, resample: bool = False
) -> CrossoverStudy:
    """Check that the study can give the contrast for every subject.

    Parameters
    ----------
    table : StudyTable
    contrast : CrossoverContrast
    resample : bool
        Resample maps on another grid onto the first map's grid (trilinear, explicit).
        Without it a grid mismatch is an error.

    Returns
    -------
    CrossoverStudy

    Raises
    ------
    MilnaInputError
        A subject without one of the treatments or without a condition the contrast
        needs, fewer than :data:`MIN_SUBJECTS` subjects, a missing or unreadable map,
        a 4D map, or a map on another grid (unless ``resample``).
    """
    where = table.source
    needed = " and ".join(contrast.conditions)
    paths: dict[tuple[str, str, str], Path] = {}
    for subject in table.subjects:
        for treatment in TREATMENTS:
            if not any(e.subject == subject and e.treatment == treatment for e in table.entries):
                raise input_error(
                    where, f"subject {subject} has no {treatment} maps; every subject of a "
                    "crossover needs both drug and placebo"
                )
            for condition in contrast.conditions:
                entry = table.entry(subject, treatment, condition)
                if entry is None:
                    raise input_error(
                        where, f"subject {subject} has no {treatment} {condition} map; the "
                        f"contrast {contrast.label} needs {needed} under drug and placebo"
                    )
                paths[(subject, treatment, condition)] = entry.path
    subjects = table.subjects
    if len(subjects) < MIN_SUBJECTS:
        raise input_error(
            where, f"has {len(subjects)} subject{'s' if len(subjects) != 1 else ''}; a paired "
            f"group test needs at least {MIN_SUBJECTS}"
        )
    reference = None
    resampled = []
    for (subject, treatment, condition), path in paths.items():
        entry = table.entry(subject, treatment, condition)
        if not path.exists():
            raise input_error(
                where, f"{table.where(entry)} points to {path}, which does not exist"
            )
        try:
            source = open_nifti(path)
        except ValueError as exc:
            raise input_error(where, f"{table.where(entry)}: {exc}") from None
        if source.is_run:
            raise input_error(
                where, f"{table.where(entry)} points to {path}, a 4D run of "
                f"{source.n_volumes} volumes; each row needs one 3D map"
            )
        if reference is None:
            reference = source
            continue
        if not source.grid.matches(reference.grid):
            if not resample:
                raise input_error(
                    where, f"{table.where(entry)}: {path.name} lies on a grid of "
                    f"{source.grid.describe()} that does not match the grid of "
                    f"{reference.path.name} ({reference.grid.describe()}); resample the maps "
                    "explicitly (resample option) or give maps on one grid"
                )
            resampled.append(path)
    drug_period = {s: table.period(s, "drug") for s in subjects}
    for s in subjects:
        placebo = table.period(s, "placebo")
        if drug_period[s] is None and placebo is not None:
            drug_period[s] = 3 - placebo
    return CrossoverStudy(table, contrast, subjects, paths, drug_period, reference, resampled)


__all__ = [
    "CONDITIONS",
    "CONTRAST_KINDS",
    "TREATMENTS",
    "CrossoverContrast",
    "CrossoverStudy",
    "MapEntry",
    "StudyTable",
    "choose_contrast",
    "discover_bids",
    "natural_key",
    "open_study",
    "read_study_table",
    "validate_study",
]
