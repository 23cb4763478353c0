"""First-level GLM panel: the protocol's pain GLM, its T maps and the PAG peak t.

A thin shell over :func:`napari_milna.core.preproc.pain_glm.pain_glm` (nilearn
FirstLevelModel): confounds chosen by checkbox from the other panels (RETROICOR with
the physio panel's file, slice and corrected peaks; six motion parameters and FD
scrubbing from the motion panel; the CSF signal from the CSF panel), smoothing 5 mm.
It runs in a worker thread; Cancel stops it before any map is written. The T maps
(df in the header, as SPM writes them) are opened as statistical layers, and the
PAG peak t with and without RETROICOR is shown in a table.
"""

from __future__ import annotations

import contextlib
import math

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import MilnaInputError
from ...core.io.tables import derivative_prefix
from ...core.preproc.first_level import PROTOCOL_CONTRASTS, SMOOTHING_FWHM_MM
from ..panel.jobs import JobRunner
from ..panel.status import WARN_COLOUR, StatusLabel, coloured, escape
from .layers import show_file_map

#: pain_glm's progress steps: 1 events, 2 RETROICOR, 3 motion, 4 CSF, 5 fit, 6 write, 7 refit.
LAST_STEP_BEFORE_WRITING = 5

COLUMNS = ("contrast", "PAG peak t", "without RETROICOR", "peak (mm)")


def planned_outputs(out_dir, bold) -> list:
    """The files ``pain_glm`` may write for ``bold`` in ``out_dir`` (overwrite question)."""
    prefix = derivative_prefix(bold)
    paths = []
    for name, _, _ in PROTOCOL_CONTRASTS:
        for stat in ("t", "effect"):
            paths.append(out_dir / f"{prefix}_contrast-{name}_stat-{stat}_statmap.nii.gz")
    paths.append(out_dir / f"{prefix}_desc-glm_mask.nii.gz")
    return paths


class GlmPanel(QWidget):
    """Pain > Baseline and Pain > Sensory of the chosen run with the chosen confounds."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.retroicor_check = QCheckBox("RETROICOR (physio panel)")
        self.motion_check = QCheckBox("Motion, 6 parameters")
        self.scrub_check = QCheckBox("Scrub FD > threshold")
        self.csf_check = QCheckBox("CSF signal")
        for box in (self.retroicor_check, self.motion_check, self.scrub_check, self.csf_check):
            box.setChecked(True)
        self.compare_check = QCheckBox("Also fit without RETROICOR (PAG comparison)")
        self.compare_check.setChecked(True)
        self.smoothing_spin = QDoubleSpinBox()
        self.smoothing_spin.setRange(0.0, 12.0)
        self.smoothing_spin.setSingleStep(0.5)
        self.smoothing_spin.setDecimals(1)
        self.smoothing_spin.setSuffix(" mm")
        self.smoothing_spin.setSpecialValueText("none")
        self.smoothing_spin.setValue(SMOOTHING_FWHM_MM)
        self.smoothing_spin.setToolTip("Gaussian FWHM (the protocol: 4-5 mm for the brainstem)")
        self.run_button = QPushButton("Run first-level GLM")
        self.cancel_button = QPushButton("Cancel")
        self.bar = QProgressBar()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(90)
        self.table.setToolTip("Double-click a row to move the cursor to its PAG peak")
        self.status = StatusLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runner = JobRunner(self.bar, self.status, self.cancel_button, [self.run_button],
                                ctx.notify, self)

        boxes = QGridLayout()
        boxes.setContentsMargins(0, 0, 0, 0)
        boxes.addWidget(self.retroicor_check, 0, 0)
        boxes.addWidget(self.motion_check, 0, 1)
        boxes.addWidget(self.csf_check, 1, 0)
        boxes.addWidget(self.scrub_check, 1, 1)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Smoothing", self.smoothing_spin)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button, 1)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Confounds"))
        layout.addLayout(boxes)
        layout.addWidget(self.compare_check)
        layout.addLayout(form)
        layout.addLayout(run_row)
        layout.addWidget(self.bar)
        layout.addWidget(self.table)
        layout.addWidget(self.status)

        self.result = None
        self.layers: dict[str, object] = {}
        self.run_button.clicked.connect(self.run)
        self.motion_check.toggled.connect(self.scrub_check.setEnabled)
        self.retroicor_check.toggled.connect(self.compare_check.setEnabled)
        self.table.cellDoubleClicked.connect(self._go_to_peak)

    # ------------------------------------------------------------------ run
    def _inputs(self, stack) -> tuple:
        ctx = self.ctx
        source = ctx.run_source()
        kwargs = {"events": ctx.events_path(required=True), "mask": ctx.brain_mask_path(),
                  "smoothing_fwhm": self.smoothing_spin.value() or None,
                  "report_rois": ("PAG",)}
        if self.retroicor_check.isChecked():
            kwargs.update(ctx.physio.glm_inputs(stack))
            kwargs["compare_without_retroicor"] = self.compare_check.isChecked()
        if self.motion_check.isChecked():
            motion = ctx.motion
            kwargs.update(motion=motion.file_field.path(), motion_format=motion.motion_format())
            kwargs.update(motion.settings())
            if not self.scrub_check.isChecked():
                kwargs["fd_threshold"] = math.inf  # regress motion, scrub nothing
        if self.csf_check.isChecked():
            kwargs.update(ctx.csf.settings())
        return source, kwargs

    def run(self) -> bool:
        """Check the inputs, ask before replacing maps, and fit in a worker thread."""
        from ...core.preproc.pain_glm import pain_glm

        stack = contextlib.ExitStack()
        try:
            source, kwargs = self._inputs(stack)
            out_dir = self.ctx.output_dir()
            overwrite = self.ctx.confirm_overwrite(planned_outputs(out_dir, source.path))
        except MilnaInputError as exc:
            stack.close()
            self.status.setText(coloured(str(exc), "#ff6b6b"))
            self.ctx.notify("error", str(exc))
            return False
        if overwrite is None:
            stack.close()
            self.status.setText("Not run: the existing maps were kept.")
            return False

        def job(progress):
            def step(done, total):
                progress(done, total, done <= LAST_STEP_BEFORE_WRITING)

            with stack:
                return pain_glm(source.path, out_dir=out_dir, overwrite=overwrite,
                                progress=step, **kwargs)

        started = self.runner.start("First-level GLM", job,
                                    lambda result: self._on_done(result, kwargs))
        if not started:
            stack.close()
        return started

    # ------------------------------------------------------------------ results
    def _on_done(self, result, kwargs) -> None:
        self.result = result
        fit = result.fit
        self.layers = {}
        for c in fit.contrasts:
            title = c.title[:1].upper() + c.title[1:]
            self.layers[c.name] = show_file_map(
                self.ctx.viewer, f"glm_{c.name}", c.t_path, f"{title} (T, df {fit.df:g})")
        without = {(p.roi, p.contrast): p for p in result.peaks_without_retroicor}
        rows = [p for p in result.peaks if p.roi == "PAG"]
        self.table.setRowCount(len(rows))
        titles = {c.name: c.title for c in fit.contrasts}
        for r, p in enumerate(rows):
            other = without.get((p.roi, p.contrast))
            cells = (
                titles.get(p.contrast, p.contrast),
                _t(p.peak_t),
                _t(other.peak_t) if other is not None else "not fitted",
                ", ".join(f"{v:.1f}" for v in p.peak_mm) if p.peak_mm else "-",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
        confounds = fit.confound_columns
        groups = []
        if result.retroicor is not None:
            groups.append(f"RETROICOR {result.retroicor.orders.n_regressors}")
        if result.motion is not None:
            groups.append("motion 6")
        if result.csf is not None:
            groups.append("CSF 1")
        text = (f"df <b>{fit.df:g}</b> ({fit.n_scans_kept} of {fit.n_scans} volumes kept, design "
                f"rank {fit.rank}); confounds: {escape(', '.join(groups) or 'none')} "
                f"({len(confounds)} columns); smoothing "
                f"{escape(f'{fit.smoothing_fwhm:g} mm' if fit.smoothing_fwhm else 'none')}.")
        if result.df_without_retroicor is not None:
            text += f" Without RETROICOR: df {result.df_without_retroicor:g}."
        text += f"<br>Maps written to {escape(str(result.written[0].parent))}."
        for note in result.notes:
            text += "<br>" + escape(note)
        for warning in result.warnings:
            text += "<br>" + coloured(warning, WARN_COLOUR)
        self.status.setText(text)
        if result.warnings:
            self.ctx.notify("warning", " ".join(result.warnings))

    def peak_table(self) -> list[tuple[str, ...]]:
        """The table's rows as text (contrast, t, t without RETROICOR, peak mm)."""
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]

    def _go_to_peak(self, row: int, column: int) -> None:
        if self.result is None:
            return
        peaks = [p for p in self.result.peaks if p.roi == "PAG"]
        if 0 <= row < len(peaks) and peaks[row].peak_mm:
            self.ctx.state.go_to_world(peaks[row].peak_mm)


def _t(value) -> str:
    return "-" if value is None else f"{value:.2f}"
