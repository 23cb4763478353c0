"""Where the SVC's smoothness comes from: FWHM in mm, FSL's smoothness file, or residual images.

Residual images are read in a worker thread (a 4D ``res4d`` can take seconds); the
estimate is kept for the grid it was made on, so live recomputation never waits.
"""

from __future__ import annotations

import os

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from ...core.errors import MilnaInputError, input_error
from ...core.io.geometry import Grid
from ...core.svc.smoothness import (
    Smoothness,
    estimate_smoothness,
    read_fsl_smoothness,
    smoothness_from_fwhm_mm,
)
from .layer_io import parse_numbers

#: (key, text) of the smoothness sources, in combo order.
SOURCES = (
    ("fwhm_mm", "FWHM (mm)"),
    ("fsl_smoothness", "FSL smoothness file"),
    ("residuals", "Residual images"),
)
NIFTI_FILTER = "NIfTI (*.nii.gz *.nii);;All files (*)"


class SmoothnessPending(MilnaInputError):
    """The residual images are still being read."""


def ask_open_file(parent, title: str) -> str | None:
    """One file to read, or None (replaced in tests)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, "", "All files (*)")
    return path or None


def ask_open_files(parent, title: str, filter: str = NIFTI_FILTER) -> list[str]:
    """Files to read (empty when cancelled; replaced in tests)."""
    paths, _ = QFileDialog.getOpenFileNames(parent, title, "", filter)
    return list(paths)


def _split_paths(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


class SmoothnessPanel(QWidget):
    """Choose the smoothness source; :meth:`smoothness` gives the core's :class:`Smoothness`.

    ``used_label`` (laid out by the dock) says which smoothness the last result used.
    """

    #: Something the SVC depends on changed.
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.source_combo = QComboBox()
        for key, text in SOURCES:
            self.source_combo.addItem(text, key)
        self.fwhm_edit = QLineEdit("6")
        self.fwhm_edit.setPlaceholderText("one value, or three (i j k)")
        self.fwhm_edit.setToolTip(
            "Smoothness of the map's noise: FWHM in mm, one value or one per voxel axis "
            "(i, j, k), as SPM's FWHM"
        )
        self.fsl_edit = QLineEdit()
        self.fsl_edit.setPlaceholderText("stats/smoothness")
        self.fsl_button = QPushButton("Browse...")
        self.residual_edit = QLineEdit()
        self.residual_edit.setPlaceholderText("res4d.nii.gz, or ResI_*.nii (separate with ;)")
        self.residual_button = QPushButton("Browse...")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.fwhm_edit)
        self.stack.addWidget(self._row(self.fsl_edit, self.fsl_button))
        self.stack.addWidget(self._row(self.residual_edit, self.residual_button))
        self.used_label = QLabel("")
        self.used_label.setWordWrap(True)
        self.used_label.setStyleSheet("color: #a9b7c6;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.source_combo)
        layout.addWidget(self.stack, 1)
        self._estimates: dict[tuple, Smoothness] = {}
        self._failed: dict[tuple, str] = {}
        self._pending: tuple | None = None
        self._worker = None
        self._closed = False
        self.destroyed.connect(self._mark_closed)
        self.source_combo.currentIndexChanged.connect(self._on_source)
        self.fwhm_edit.textChanged.connect(self.changed)
        self.fsl_edit.editingFinished.connect(self.changed)
        self.residual_edit.editingFinished.connect(self.changed)
        self.fsl_button.clicked.connect(self._browse_fsl)
        self.residual_button.clicked.connect(self._browse_residuals)

    @staticmethod
    def _row(edit, button) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        row.addWidget(button)
        return box

    def _mark_closed(self, *args) -> None:
        self._closed = True

    def source(self) -> str:
        """The chosen source key (``fwhm_mm``, ``fsl_smoothness``, ``residuals``)."""
        return self.source_combo.currentData()

    def set_source(self, key: str) -> None:
        """Choose a source by key."""
        self.source_combo.setCurrentIndex(self.source_combo.findData(key))

    def _on_source(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.changed.emit()

    def _browse_fsl(self) -> None:
        path = ask_open_file(self, "FSL smoothness file (stats/smoothness)")
        if path:
            self.fsl_edit.setText(path)
            self.changed.emit()

    def _browse_residuals(self) -> None:
        paths = ask_open_files(self, "Residual images (one 4D res4d, or SPM ResI_*.nii)")
        if paths:
            self.residual_edit.setText("; ".join(paths))
            self.changed.emit()

    def show_used(self, smoothness: Smoothness | None) -> None:
        """Say which smoothness the last result used."""
        if smoothness is None:
            self.used_label.setText("")
            return
        self.used_label.setText(describe_smoothness(smoothness))

    # ------------------------------------------------------------------ values
    def smoothness(self, grid: Grid, mask=None) -> Smoothness:
        """The smoothness on ``grid`` from the chosen source.

        Raises
        ------
        SmoothnessPending
            Residual images are being read (``changed`` fires when done).
        MilnaInputError
            Bad FWHM values, unreadable files.
        """
        key = self.source()
        if key == "fwhm_mm":
            text = self.fwhm_edit.text()
            values = parse_numbers(text, "The FWHM")
            if len(values) not in (1, 3):
                raise input_error(
                    None,
                    f"the FWHM must be one value or three (i j k) in mm, got {text.strip()!r}",
                )
            return smoothness_from_fwhm_mm(values, grid)
        if key == "fsl_smoothness":
            path = self.fsl_edit.text().strip()
            if not path:
                raise input_error(None, "choose FSL's smoothness file (stats/smoothness)")
            return read_fsl_smoothness(path, grid)
        paths = _split_paths(self.residual_edit.text())
        if not paths:
            raise input_error(None, "choose the residual images (a 4D res4d or SPM ResI_*.nii)")
        return self._estimate(paths, grid, mask)

    def _estimate(self, paths: list[str], grid: Grid, mask) -> Smoothness:
        stamp = tuple((p, os.path.getmtime(p) if os.path.exists(p) else None) for p in paths)
        key = (stamp, grid.shape, grid.affine.tobytes(),
               None if mask is None else hash(mask.tobytes()))
        if key in self._estimates:
            return self._estimates[key]
        if key in self._failed:
            raise MilnaInputError(self._failed[key])
        if self._pending != key:
            self._start(key, paths, grid, mask)
        raise SmoothnessPending(
            f"Estimating the smoothness from {len(paths)} residual file(s) ..."
        )

    def _start(self, key, paths, grid, mask) -> None:
        from napari.qt.threading import thread_worker

        @thread_worker
        def estimate():
            try:
                return "ok", estimate_smoothness(paths, grid, mask)
            except MilnaInputError as exc:
                return "error", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported to the user, never a crash
                return "error", f"{paths[0]}: the smoothness could not be estimated ({exc})."

        self._pending = key
        worker = estimate()
        worker.returned.connect(lambda outcome: self._done(key, outcome))
        self._worker = worker
        worker.start()

    def _done(self, key, outcome) -> None:
        if self._closed or key != self._pending:
            return
        self._pending = None
        status, value = outcome
        if status == "ok":
            self._estimates[key] = value
        else:
            self._failed[key] = value
        try:
            self.changed.emit()
        except RuntimeError:  # the dock was closed while the worker read the files
            self._closed = True


def describe_smoothness(smoothness: Smoothness) -> str:
    """``"FWHM 6.0 x 6.0 x 6.0 mm (2.4 x 2.4 x 2.0 voxels), given in mm"``."""
    mm = " x ".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in smoothness.fwhm_mm)
    vox = " x ".join(f"{v:.2f}" for v in smoothness.fwhm_voxels)
    details = smoothness.details
    if smoothness.source == "fwhm_mm":
        origin = "given in mm"
    elif smoothness.source == "fsl_smoothness":
        origin = (f"from FSL's smoothness file {os.path.basename(details.get('file', ''))} "
                  f"({details.get('used', 'RESELS')})")
    else:
        origin = (f"estimated from {details.get('n_images', '?')} residual images "
                  f"({details.get('n_voxels_used', '?')} voxels)")
    return f"FWHM {mm} mm ({vox} voxels), {origin}"
