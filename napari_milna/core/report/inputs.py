"""What a study report is made of: found in a study folder, or taken from a saved session.

A study folder is searched as the analysis core and the CLI recognise its parts:

* contrasts: the T / Z / F maps of every SPM, FEAT, randomise or BIDS statistics folder
  (:func:`napari_milna.core.analysis.analysis_kind`), each with what its folder records;
* runs: fMRIPrep ``*_desc-preproc_bold`` runs with their brain mask and CSF probseg
  (:func:`napari_milna.core.qc.batch.find_runs`, as ``milna qc``);
* crossover study tables (TSV / CSV with subject, treatment, condition and path);
* motion files (SPM ``rp_*.txt``, FSL ``*.par``, fMRIPrep confounds) and BIDS physiology
  (``*_physio.tsv.gz``, paired with its run);
* the finest ``*_T1w`` image as the figures' underlay.

ROIs are the files given, else the literature seeds PAG and RVM
(:mod:`napari_milna.core.roi.seeds`) on the first map's grid. A session file gives its
statistical map (with its df, smoothness and analysis mask), its ROI layers, its run and
masks; the rest is searched in the study folder its files lie in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import input_error
from ..io.bids import bids_entities
from ..io.nifti import is_nifti_path, nifti_stem
from ..qc.batch import BOLD_PATTERN, RunInputs, find_brain_mask, find_csf_probseg
from ..session_file import SessionFile, SmoothnessRecord, looks_like_session, read_session

#: Literature seeds a folder's report tests when no ROI is given (region, variant).
DEFAULT_SEEDS = (("PAG", None), ("RVM", None))
#: Folders never searched.
SKIPPED_FOLDERS = {".git", "__pycache__", "sourcedata", ".milna-tmp"}
#: Columns a crossover study table has (``participant_id`` / ``sub`` for subject).
STUDY_COLUMNS = ({"subject", "participant_id", "sub"}, {"treatment"}, {"condition"}, {"path"})


@dataclass
class ContrastInput:
    """A statistic map to test, and what overrides its folder's record.

    Attributes
    ----------
    name : str
        How the report names it.
    stat_path : Path
    kind : str
        ``"spm"``, ``"feat"``, ``"randomise"``, ``"bids"`` or ``"file"``.
    df : float or tuple or None
        Degrees of freedom chosen in a session (None: the folder's or the header's).
    smoothness : SmoothnessRecord or None
        Smoothness chosen in a session (None: the folder's).
    mask_path : Path or None
        Analysis mask chosen in a session (None: the folder's).
    """

    name: str
    stat_path: Path
    kind: str = "file"
    df: float | tuple | None = None
    smoothness: SmoothnessRecord | None = None
    mask_path: Path | None = None


@dataclass
class RoiInput:
    """One ROI: a label of a file, or a literature seed placed when the report runs.

    Attributes
    ----------
    name : str
    path : Path or None
        Mask or dseg file (None for a seed until it is placed).
    label : int or None
        The label in a dseg file (None: every non-zero voxel).
    seed : tuple or None
        ``(region, variant)`` of a literature seed.
    origin : str
        ``"seed"``, ``"file"`` or ``"session"``.
    """

    name: str
    path: Path | None = None
    label: int | None = None
    seed: tuple | None = None
    origin: str = "file"


@dataclass
class StudyInputs:
    """Everything the report found or was given.

    Attributes
    ----------
    source : Path
        The folder or session file the report is about.
    mode : {"folder", "session"}
    root : Path or None
        The study folder searched.
    contrasts : list of ContrastInput
    rois : list of RoiInput
    runs : list of RunInputs
    crossover_tables : list of Path
    motion : list of (Path, str)
        Motion files and their formats.
    physio : list of (Path, Path)
        BIDS physiology files and the runs they belong to.
    underlay : Path or None
    session : SessionFile or None
    notes : list of str
        What was found but cannot be used, in words.
    """

    source: Path
    mode: str
    root: Path | None
    contrasts: list[ContrastInput] = field(default_factory=list)
    rois: list[RoiInput] = field(default_factory=list)
    runs: list[RunInputs] = field(default_factory=list)
    crossover_tables: list[Path] = field(default_factory=list)
    motion: list[tuple[Path, str]] = field(default_factory=list)
    physio: list[tuple[Path, Path]] = field(default_factory=list)
    underlay: Path | None = None
    session: SessionFile | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when there is nothing to report."""
        return not (self.contrasts or self.runs or self.crossover_tables or self.motion
                    or self.physio)

    def roi_files(self) -> list[Path]:
        """The ROI files, each once, in order."""
        out = []
        for roi in self.rois:
            if roi.path is not None and roi.path not in out:
                out.append(roi.path)
        return out


# ------------------------------------------------------------------------- the folder
def _walk(root: Path):
    """Folders under ``root`` (sorted), analysis folders not entered."""
    from ..analysis import analysis_kind

    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith("."))
        here = Path(folder)
        kind = _analysis_kind(here, files, analysis_kind)
        if kind is not None:
            dirs[:] = []
        yield here, kind, sorted(files)


def _analysis_kind(folder: Path, files, analysis_kind) -> str | None:
    """The analysis kind of a folder; BIDS folders count only with a T, Z or F map."""
    from ..analysis.bids_maps import STAT_TYPES

    kind = analysis_kind(folder)
    if kind == "bids":
        stats = {bids_entities(name).get("stat", "").lower() for name in files
                 if "_statmap.nii" in name}
        return kind if stats & set(STAT_TYPES) else None
    return kind


def _contrasts(folder: Path, notes: list[str]) -> list[ContrastInput]:
    from ..analysis import open_analysis
    from ..errors import MilnaInputError

    try:
        analysis = open_analysis(folder)
    except MilnaInputError as exc:
        notes.append(str(exc))
        return []
    kind = {"spm": "SPM", "feat": "FEAT", "randomise": "randomise", "bids": "BIDS"}
    out = []
    for c in analysis.contrasts:
        if c.path is None or c.stat_type not in ("T", "Z", "F"):
            continue
        out.append(ContrastInput(f"{c.name} ({kind[analysis.kind]} {folder.name}, contrast "
                                 f"{c.index})", Path(c.path), analysis.kind))
    return out


def _is_study_table(path: Path) -> bool:
    """True for a TSV / CSV whose header names subject, treatment, condition and path."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.readline()
    except OSError:
        return False
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    columns = {c.strip().lower() for c in head.split(sep)}
    return all(columns & names for names in STUDY_COLUMNS)


def _motion_format(name: str) -> str | None:
    lower = name.lower()
    if lower.startswith("rp_") and lower.endswith(".txt"):
        return "spm"
    if lower.endswith(".par"):
        return "fsl"
    if lower.endswith(("_desc-confounds_timeseries.tsv", "_desc-confounds_regressors.tsv")):
        return "fmriprep"
    return None


def _t1w_rank(path: Path) -> tuple:
    """Finer underlays first (``res-1``), then shorter names."""
    ent = bids_entities(path)
    return (0 if ent.get("res") == "1" else 1, len(path.name), str(path))


def _pair_physio(physio: Path, runs: list[RunInputs]) -> Path | None:
    """The run a physiology file belongs to: same sub, ses, task, run and acq entities."""
    ent = bids_entities(physio)
    keys = [k for k in ("sub", "ses", "task", "run", "acq") if k in ent]
    matches = [r for r in runs if all(r.entities.get(k) == ent[k] for k in keys)
               and all(k not in r.entities for k in ("run", "acq", "ses") if k not in ent)]
    matches.sort(key=lambda r: ("echo" in r.entities, str(r.bold)))
    return matches[0].bold if matches else None


def search_folder(root: Path, inputs: StudyInputs) -> None:
    """Fill ``inputs`` with what the study folder ``root`` holds."""
    physio, t1w = [], []
    for folder, kind, files in _walk(root):
        if kind is not None:
            inputs.contrasts.extend(_contrasts(folder, inputs.notes))
            continue
        for name in files:
            path = folder / name
            if name.endswith((".tsv", ".csv")) and _motion_format(name) is None \
                    and _is_study_table(path):
                inputs.crossover_tables.append(path)
            elif (fmt := _motion_format(name)) is not None:
                inputs.motion.append((path, fmt))
            elif name.endswith(("_physio.tsv.gz", "_physio.tsv")):
                physio.append(path)
            elif is_nifti_path(path) and nifti_stem(path).endswith("_T1w"):
                t1w.append(path)
            elif is_nifti_path(path) and path.match(BOLD_PATTERN):
                inputs.runs.append(RunInputs(path, find_brain_mask(path),
                                             find_csf_probseg(path), bids_entities(path)))
    for path in physio:
        bold = _pair_physio(path, inputs.runs)
        if bold is None:
            inputs.notes.append(f"{path}: no preprocessed run of the same subject and task "
                                "was found, so its TR and volumes are unknown; left out")
        else:
            inputs.physio.append((path, bold))
    if inputs.underlay is None and t1w:
        inputs.underlay = sorted(t1w, key=_t1w_rank)[0]


# ------------------------------------------------------------------------- the session
def _session_root(session: SessionFile) -> Path | None:
    """The study folder of a session: the folder its files share (above ``derivatives``)."""
    paths = [str(Path(r.path).resolve().parent) for r in session.layers
             if r.path is not None and r.origin != "roi" and Path(r.path).exists()]
    if session.analysis_folder is not None and Path(session.analysis_folder).is_dir():
        paths.append(str(Path(session.analysis_folder).resolve()))
    if not paths:
        return None
    common = Path(os.path.commonpath(paths))
    if common == Path(common.anchor):
        return None
    for candidate in (common, *common.parents):
        if candidate.name == "derivatives":
            return candidate.parent
    return common


def _session_rois(session: SessionFile) -> list[RoiInput]:
    from ..roi.io import load_roi

    out = []
    chosen = session.layer(session.choices.roi_layer)
    layers = [r for r in session.openable() if r.origin == "roi"]
    if chosen is not None and chosen not in layers and chosen in session.openable():
        layers.insert(0, chosen)
    for rec in layers:
        names = rec.roi_names
        if names is None:
            names = load_roi(rec.path).names
        for label, name in sorted(names.items()):
            out.append(RoiInput(str(name), Path(rec.path), int(label), origin="session"))
    return out


def _layer_file(session: SessionFile, name: str | None) -> Path | None:
    rec = session.layer(name)
    return Path(rec.path) if rec is not None and rec.path is not None \
        and Path(rec.path).exists() else None


def session_inputs(session: SessionFile, inputs: StudyInputs) -> None:
    """The session's choices as report inputs: its map, ROIs, run and masks."""
    c = session.choices
    stat = session.layer(c.stat_map)
    if stat is not None and stat.path is not None and Path(stat.path).exists():
        df = tuple(c.df) if isinstance(c.df, list) else c.df
        inputs.contrasts.append(ContrastInput(
            f"{stat.name} (session)", Path(stat.path), "session", df, c.smoothness,
            _layer_file(session, c.masks.get("analysis"))))
    elif c.stat_map:
        inputs.notes.append(f"the session's statistical map {c.stat_map!r} cannot be opened")
    inputs.rois = _session_rois(session)
    run = _layer_file(session, c.run)
    if run is not None:
        inputs.runs.append(RunInputs(run, _layer_file(session, c.masks.get("brain")),
                                     _layer_file(session, c.masks.get("csf")),
                                     bids_entities(run)))
    for rec in session.layers:
        if rec.path is not None and nifti_stem(rec.path).endswith("_T1w") \
                and Path(rec.path).exists() and inputs.underlay is None:
            inputs.underlay = Path(rec.path)
    inputs.notes.extend(m.rstrip(".") for m in session.missing())


def file_rois(path) -> list[RoiInput]:
    """The ROIs of a file: one per label of a dseg (named from its ``.tsv``), else the mask.

    Raises
    ------
    MilnaInputError
        The file is not an ROI file (one sentence).
    """
    from ..roi.io import load_roi

    roi = load_roi(path)
    if roi.kind == "dseg":
        return [RoiInput(str(name), Path(path), int(label), origin="file")
                for label, name in sorted(roi.names.items())]
    return [RoiInput(roi.name, Path(path), None, origin="file")]


# ------------------------------------------------------------------------- entry point
def find_study(path, rois=()) -> StudyInputs:
    """What a report of ``path`` (a study folder or a session file) is made of.

    Parameters
    ----------
    path : str or path-like
        A study folder, or a napari-milna session file.
    rois : sequence of path-like
        ROI files (masks or dseg) to test; default: the session's ROIs, or the
        literature seeds PAG and RVM for a folder.

    Returns
    -------
    StudyInputs

    Raises
    ------
    MilnaInputError
        ``path`` does not exist, is a file that is not a session, or holds nothing the
        report can use (one sentence).
    """
    path = Path(path)
    if not path.exists():
        raise input_error(path, "does not exist; give a study folder or a napari-milna "
                                "session file")
    if path.is_file():
        if not looks_like_session(path):
            raise input_error(path, "is neither a study folder nor a napari-milna session "
                                    "file (*.milna-session.json)")
        session = read_session(path)
        inputs = StudyInputs(path, "session", _session_root(session), session=session)
        session_inputs(session, inputs)
        if inputs.root is not None:
            found = StudyInputs(path, "folder", inputs.root)
            search_folder(inputs.root, found)
            inputs.crossover_tables = found.crossover_tables
            inputs.motion = found.motion
            inputs.physio = found.physio
            inputs.underlay = inputs.underlay or found.underlay
            if not inputs.contrasts:
                inputs.contrasts = found.contrasts
            if not inputs.runs:
                inputs.runs = found.runs
    else:
        inputs = StudyInputs(path, "folder", path)
        search_folder(path, inputs)
    if rois:
        inputs.rois = [r for p in rois for r in file_rois(p)]
    elif not inputs.rois:
        inputs.rois = [RoiInput(region, seed=(region, variant), origin="seed")
                       for region, variant in DEFAULT_SEEDS]
    if inputs.empty:
        what = "session" if inputs.mode == "session" else "folder"
        raise input_error(path, f"holds nothing the report can use (this {what} has no SPM, "
                                "FEAT, randomise or BIDS statistic map, no preprocessed "
                                f"run {BOLD_PATTERN}, no crossover study table and no motion "
                                "or physiology file)")
    return inputs


__all__ = [
    "DEFAULT_SEEDS",
    "ContrastInput",
    "RoiInput",
    "StudyInputs",
    "file_rois",
    "find_study",
    "search_folder",
    "session_inputs",
]
