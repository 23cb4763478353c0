"""Motion panel: framewise displacement (Power 2012) and scrubbing from a motion file.

A thin shell over :mod:`napari_milna.core.preproc.motion`: choose the file (SPM ``rp_*.txt``,
FSL ``*.par``, AFNI 3dvolreg ``*.1D`` or fMRIPrep confounds; the format is guessed
from the name), the threshold (0.5 mm) and the neighbours scrubbed with each volume
above it. The plot shows FD, the threshold and the scrubbed volumes; the GLM and
CSF panels use the scrub mask.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import MilnaInputError, input_error
from ...core.preproc.motion import FD_THRESHOLD_MM, MOTION_FORMATS, assess_motion, read_motion
from ..panel.jobs import JobRunner
from ..panel.status import StatusLabel, coloured, escape
from .inputs import PathField, guess_motion_format
from .plots import FDPlot

FORMAT_NAMES = {"spm": "SPM rp_*.txt", "fsl": "FSL mcflirt .par", "afni": "AFNI 3dvolreg 1D",
                "fmriprep": "fMRIPrep confounds"}


class MotionPanel(QWidget):
    """FD, its threshold and the scrub mask of the chosen run."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.file_field = PathField(
            "rp_*.txt, *.par, *.1D or *_desc-confounds_timeseries.tsv",
            "Motion parameters (*.txt *.par *.1D *.tsv);;All files (*)")
        self.format_combo = QComboBox()
        self.format_combo.addItem("auto (from the name)", None)
        for fmt in MOTION_FORMATS:
            self.format_combo.addItem(FORMAT_NAMES[fmt], fmt)
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.05, 10.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setSuffix(" mm")
        self.threshold_spin.setValue(FD_THRESHOLD_MM)
        self.threshold_spin.setToolTip("Scrub volumes with FD above this (Power 2012: 0.5 mm)")
        self.before_spin = QSpinBox()
        self.after_spin = QSpinBox()
        for spin, text in ((self.before_spin, "before"), (self.after_spin, "after")):
            spin.setRange(0, 5)
            spin.setToolTip(f"Also scrub this many volumes {text} each one above the threshold "
                            "(Power 2014: 1 before, 2 after)")
        self.compute_button = QPushButton("Compute FD")
        self.plot = FDPlot()
        self.summary = StatusLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.status = StatusLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.runner = JobRunner(self.bar, self.status, None, [self.compute_button],
                                ctx.notify, self)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Motion file", self.file_field)
        form.addRow("Format", self.format_combo)
        row = QHBoxLayout()
        row.addWidget(self.threshold_spin)
        row.addWidget(QLabel("neighbours"))
        row.addWidget(self.before_spin)
        row.addWidget(self.after_spin)
        form.addRow("FD >", row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.compute_button)
        layout.addWidget(self.bar)
        layout.addWidget(self.plot)
        layout.addWidget(self.summary)
        layout.addWidget(self.status)

        self.params = None
        self.result = None
        self.file_field.changed.connect(self._on_file)
        self.format_combo.currentIndexChanged.connect(lambda i: self._on_file())
        self.compute_button.clicked.connect(self.compute)
        for spin in (self.threshold_spin, self.before_spin, self.after_spin):
            spin.valueChanged.connect(lambda v: self.reassess())

    def _on_file(self, text=None) -> None:
        guessed = guess_motion_format(self.file_field.path())
        self.format_combo.setItemText(
            0, f"auto ({FORMAT_NAMES[guessed]})" if guessed else "auto (from the name)")
        self.params = self.result = None

    def motion_format(self) -> str:
        """The chosen format, or the one the file name suggests.

        Raises
        ------
        MilnaInputError
            No file, or a name that tells no format while "auto" is chosen.
        """
        path = self.file_field.path()
        if path is None:
            raise input_error(None, "choose a motion file (rp_*.txt, *.par, *.1D or fMRIPrep "
                                    "confounds) first")
        fmt = self.format_combo.currentData() or guess_motion_format(path)
        if fmt is None:
            raise input_error(path, "has a name that does not tell its motion format; choose "
                                    "SPM, FSL, AFNI or fMRIPrep")
        return fmt

    def settings(self) -> dict:
        """Threshold and neighbours as ``pain_glm`` keywords."""
        return {"fd_threshold": self.threshold_spin.value(),
                "scrub_before": self.before_spin.value(), "scrub_after": self.after_spin.value()}

    def compute(self) -> bool:
        """Read the motion file (in a worker thread), then FD and the scrub mask."""
        try:
            path = self.file_field.path()
            fmt = self.motion_format()
        except MilnaInputError as exc:
            self._refuse(exc)
            return False
        n_volumes = None
        try:
            n_volumes = self.ctx.run_source().n_volumes
        except MilnaInputError:
            pass

        def job(progress):
            params = read_motion(path, fmt)
            if n_volumes is not None and params.n_volumes != n_volumes:
                raise input_error(path, f"holds {params.n_volumes} rows of motion parameters "
                                        f"for a run of {n_volumes} volumes")
            progress(1, 1)
            return params

        return self.runner.start("Framewise displacement", job, self._on_read,
                                 cancellable=False)

    def _on_read(self, params) -> None:
        self.params = params
        self.reassess()
        self.status.setText(escape(f"Read {params.n_volumes} volumes from {params.path.name} "
                                   f"({FORMAT_NAMES[params.source_format]})."))

    def reassess(self) -> None:
        """Recompute FD and the scrub mask with the current threshold and neighbours."""
        if self.params is None:
            return
        s = self.settings()
        self.result = r = assess_motion(self.params, s["fd_threshold"], s["scrub_before"],
                                        s["scrub_after"])
        self.plot.show_fd(r.fd, r.threshold, r.scrub)
        vols = np.flatnonzero(r.scrub)
        listed = ", ".join(map(str, vols[:20])) + (" ..." if vols.size > 20 else "")
        text = (f"Mean FD <b>{r.mean_fd:.3f}</b> mm, max <b>{r.max_fd:.2f}</b> mm; "
                f"<b>{r.n_scrubbed}</b> of {r.n_volumes} volumes scrubbed "
                f"(FD &gt; {r.threshold:g} mm")
        if r.before or r.after:
            text += f", {r.before} before / {r.after} after"
        text += ")" + (f": {escape(listed)}" if vols.size else "")
        self.summary.setText(text)

    def _refuse(self, exc: MilnaInputError) -> None:
        self.status.setText(coloured(str(exc), "#ff6b6b"))
        self.ctx.notify("error", str(exc))
