"""Inputs of the preprocessing tab: file fields and the files a BIDS layout keeps by a run.

The run and the brain / CSF masks are the study session's (layers); the other inputs
are files (physio, motion, events, the output folder), typed or chosen in a
:class:`PathField` (a magicgui ``FileEdit``). When the session's run changes, empty
fields, and fields that still hold a guess, take the files a BIDS / fMRIPrep / SPM
layout puts next to the run (:func:`bids_companions`); a path the user typed or
chose is kept.
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import FileEdit

from ...core.io.tables import bids_entities


class PathField(FileEdit):
    """A file (or folder) typed or chosen with a dialog; remembers whether it is a guess.

    Parameters
    ----------
    label : str
    placeholder : str
    file_filter : str, optional
        Glob filter of the dialog (``"*.tsv *.tsv.gz"``).
    directory : bool
        A folder instead of a file.
    tooltip : str
    """

    #: True while the path was filled in by a guess, not by the user.
    auto = False
    _guessing = False

    def __init__(self, label: str = "", placeholder: str = "", file_filter: str | None = None,
                 directory: bool = False, tooltip: str = ""):
        super().__init__(mode="d" if directory else "r", filter=file_filter, nullable=True,
                         label=label, tooltip=tooltip)
        self.choose_btn.text = "\u2026"
        self.choose_btn.native.setFixedWidth(28)
        self.choose_btn.tooltip = "Choose with a file dialog"
        edit = self.line_edit.native
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.textEdited.connect(self._typed)

    def _typed(self, text: str) -> None:
        self.auto = False

    def set_value(self, value) -> None:
        """Set the path (None: empty); a path set from outside :meth:`fill` is the user's."""
        super().set_value(value)
        self.line_edit.tooltip = "" if value is None else str(value)
        self.auto = self._guessing

    def path(self) -> Path | None:
        """The path, or None when the field is empty."""
        text = self.line_edit.value.strip()
        return Path(text).expanduser() if text else None

    def fill(self, path) -> None:
        """Put a guessed path in the field unless the user typed or chose one."""
        if path is not None and (self.path() is None or self.auto):
            self._guessing = True
            try:
                self.value = path
            finally:
                self._guessing = False


# ------------------------------------------------------------------ file guesses

MOTION_NAME_FORMATS = (
    ("rp_", ".txt", "spm"),
    ("", ".par", "fsl"),
    ("", ".1d", "afni"),
    ("", "_timeseries.tsv", "fmriprep"),
    ("", "_regressors.tsv", "fmriprep"),
)


def guess_motion_format(path) -> str | None:
    """The motion format a file's name suggests, or None.

    SPM ``rp_*.txt``, FSL ``*.par``, AFNI ``*.1D``, fMRIPrep
    ``*_desc-confounds_timeseries.tsv``.
    """
    if path is None:
        return None
    name = Path(path).name.lower()
    for prefix, suffix, fmt in MOTION_NAME_FORMATS:
        if name.startswith(prefix) and name.endswith(suffix):
            return fmt
    return None


def _first(paths) -> Path | None:
    paths = sorted(p for p in paths if p.is_file())
    return paths[0] if paths else None


def _run_key(bold: Path) -> str:
    """``sub-01_ses-x_task-pain_run-1``: the entities that name a run's raw companions."""
    ent = bids_entities(bold.name)
    keep = ("sub", "ses", "task", "acq", "run")
    return "_".join(f"{k}-{v}" for k, v in ent.items() if k in keep)


def bids_companions(bold) -> dict[str, Path]:
    """Files a BIDS / fMRIPrep / SPM layout keeps next to a preprocessed run.

    Looks in the run's folder (fMRIPrep confounds and brain mask), the subject's
    ``anat`` folder next to it (CSF probability) and, when the run lies under a
    ``derivatives`` folder, the raw dataset beside it (events, physio) and
    ``derivatives/spm`` (``rp_*.txt``). Only existing files are returned.

    Returns
    -------
    dict
        Keys among ``events``, ``physio``, ``confounds``, ``rp``, ``csf``, ``brain_mask``.
    """
    bold = Path(bold)
    key = _run_key(bold)
    if not key:
        return {}
    ent = bids_entities(bold.name)
    folder = bold.parent
    found: dict[str, Path | None] = {
        "confounds": _first(folder.glob(f"{key}*_desc-confounds_timeseries.tsv")),
        "brain_mask": _first(folder.glob(f"{key}*space-{ent.get('space', '*')}*"
                                         "_desc-brain_mask.nii*")),
    }
    sub = f"sub-{ent['sub']}" if "sub" in ent else None
    anat = folder.parent / "anat"
    if anat.is_dir() and sub:
        space = ent.get("space")
        pattern = f"{sub}*space-{space}_*label-CSF_probseg.nii*" if space else \
            f"{sub}*label-CSF_probseg.nii*"
        found["csf"] = _first(anat.glob(pattern))
    parts = bold.parts
    if "derivatives" in parts:
        root = Path(*parts[: parts.index("derivatives")])
        rel = Path(*[p for p in (sub, f"ses-{ent['ses']}" if "ses" in ent else None) if p])
        raw = root / rel / bold.parent.name
        found["events"] = _first(raw.glob(f"{key}*_events.tsv"))
        found["physio"] = _first(list(raw.glob(f"{key}*_physio.tsv.gz"))
                                 + list(raw.glob(f"{key}*_physio.tsv")))
        found["rp"] = _first((root / "derivatives" / "spm" / rel).rglob(f"rp_{key}*.txt"))
    return {k: v for k, v in found.items() if v is not None}
