"""Input fields of the preprocessing dock: file paths, layers-or-files, BIDS companions.

A user picks the run as a layer (it is open in the viewer) and the other inputs as
files (physio, motion, events) or as layers that came from files (CSF probability,
brain mask). When a run is chosen, empty fields are filled with the files a BIDS /
fMRIPrep / SPM layout puts next to it (:func:`bids_companions`), which the user can
change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ..._napari.layers import source_of
from ...core.io.tables import bids_entities

NONE_TEXT = "(none)"


def _disconnect(viewer, callback) -> None:
    for emitter in (viewer.layers.events.inserted, viewer.layers.events.removed):
        emitter.disconnect(callback)


class PathField(QWidget):
    """A path typed or chosen with a file dialog.

    Parameters
    ----------
    placeholder : str
    file_filter : str
        Qt name filter of the dialog.
    directory : bool
        Choose a folder instead of a file.
    """

    #: The path text changed (typed, chosen or set).
    changed = Signal(str)

    def __init__(self, placeholder: str = "", file_filter: str = "All files (*)",
                 directory: bool = False, parent=None):
        super().__init__(parent)
        self.file_filter = file_filter
        self.directory = directory
        self.auto = False  # True while the text was filled in by a guess, not by the user
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.browse = QPushButton("...")
        self.browse.setFixedWidth(28)
        self.browse.setToolTip("Choose with a file dialog")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse)
        self.browse.clicked.connect(self._choose)
        self.edit.textEdited.connect(self._edited)
        self.edit.editingFinished.connect(lambda: self.changed.emit(self.edit.text()))

    def _edited(self, text: str) -> None:
        self.auto = False

    def _choose(self) -> None:
        start = self.edit.text() or ""
        if self.directory:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a file", start,
                                                    self.file_filter)
        if chosen:
            self.set_path(chosen)

    def path(self) -> Path | None:
        """The path, or None when the field is empty."""
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_path(self, path, auto: bool = False) -> None:
        """Set the path (as the user choosing it, or as a guess with ``auto``)."""
        self.edit.setText("" if path is None else str(path))
        self.edit.setToolTip("" if path is None else str(path))
        self.auto = bool(auto)
        self.changed.emit(self.edit.text())

    def fill(self, path) -> None:
        """Set a guessed path if the user has not typed or chosen one."""
        if path is not None and (self.path() is None or self.auto):
            self.set_path(path, auto=True)


class LayerFileCombo(QWidget):
    """A file given as a layer opened from it, or chosen with a file dialog.

    Parameters
    ----------
    viewer : napari.Viewer
    accepts : callable
        ``accepts(layer)``: offer this layer (it must come from a file).
    file_filter : str
    allow_none : bool
        Offer "(none)".
    """

    changed = Signal()

    def __init__(self, viewer, accepts: Callable, file_filter: str = "NIfTI (*.nii *.nii.gz)",
                 allow_none: bool = True, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.accepts = accepts
        self.file_filter = file_filter
        self.allow_none = allow_none
        self._files: list[Path] = []
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(14)
        self.browse = QPushButton("...")
        self.browse.setFixedWidth(28)
        self.browse.setToolTip("Choose a file")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.browse)
        self.browse.clicked.connect(self._choose)
        self.combo.currentIndexChanged.connect(lambda i: self.changed.emit())
        viewer.layers.events.inserted.connect(self.refresh)
        viewer.layers.events.removed.connect(self.refresh)
        self.refresh()

    def _layer_paths(self) -> list[tuple[str, Path]]:
        out = []
        for layer in self.viewer.layers:
            src = source_of(layer)
            if src is not None and src.source is not None and self.accepts(layer):
                out.append((f"layer: {layer.name}", Path(src.source.path)))
        return out

    def refresh(self, event=None) -> None:
        """Rebuild the entries (layers from files, then chosen files), keeping the choice."""
        try:
            self._refresh()
        except RuntimeError:  # the dock was closed: stop following the layer list
            _disconnect(self.viewer, self.refresh)

    def _refresh(self) -> None:
        current = self.path()
        self.combo.blockSignals(True)
        self.combo.clear()
        if self.allow_none:
            self.combo.addItem(NONE_TEXT, None)
        for text, path in self._layer_paths():
            self.combo.addItem(text, str(path))
            self.combo.setItemData(self.combo.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
        for path in self._files:
            self.combo.addItem(f"file: {path.name}", str(path))
            self.combo.setItemData(self.combo.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
        index = self.combo.findData(str(current)) if current is not None else -1
        self.combo.setCurrentIndex(index if index >= 0 else (0 if self.combo.count() else -1))
        self.combo.blockSignals(False)
        if self.path() != current:
            self.changed.emit()

    def _choose(self) -> None:
        start = str(self.path().parent) if self.path() else ""
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a file", start, self.file_filter)
        if chosen:
            self.set_path(chosen)

    def set_path(self, path) -> None:
        """Choose ``path`` (a layer opened from it if there is one; None: "(none)")."""
        if path is None:
            if self.allow_none:
                self.combo.setCurrentIndex(0)
            return
        path = Path(path)
        index = self.combo.findData(str(path))
        if index < 0:
            self._files.append(path)
            self.refresh()
            index = self.combo.findData(str(path))
        self.combo.setCurrentIndex(index)

    def fill(self, path) -> None:
        """Choose a guessed file when nothing is chosen yet."""
        if path is not None and self.path() is None:
            self.set_path(path)

    def path(self) -> Path | None:
        """The chosen file, or None."""
        data = self.combo.currentData()
        return Path(data) if data else None


class RunCombo(QComboBox):
    """The napari-milna layers that show a 4D run."""

    run_changed = Signal(object)

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.currentIndexChanged.connect(lambda i: self.run_changed.emit(self.layer()))
        viewer.layers.events.inserted.connect(self.refresh)
        viewer.layers.events.removed.connect(self.refresh)
        self.refresh()

    @staticmethod
    def is_run(layer) -> bool:
        """True for a napari-milna layer of a 4D run."""
        src = source_of(layer)
        return src is not None and src.is_run

    def refresh(self, event=None) -> None:
        """Rebuild the list, keeping the current run when it is still there."""
        try:
            self._refresh()
        except RuntimeError:  # the dock was closed: stop following the layer list
            _disconnect(self.viewer, self.refresh)

    def _refresh(self) -> None:
        current = self.currentData()
        names = [layer.name for layer in self.viewer.layers if self.is_run(layer)]
        self.blockSignals(True)
        self.clear()
        for name in names:
            self.addItem(name, name)
        if current in names:
            self.setCurrentIndex(self.findData(current))
        self.blockSignals(False)
        if self.currentData() != current:
            self.run_changed.emit(self.layer())

    def layer(self):
        """The chosen run layer, or None."""
        name = self.currentData()
        if not name or name not in self.viewer.layers:
            return None
        return self.viewer.layers[name]

    def set_layer(self, layer) -> None:
        """Choose ``layer``."""
        index = self.findData(layer.name)
        if index >= 0:
            self.setCurrentIndex(index)


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
