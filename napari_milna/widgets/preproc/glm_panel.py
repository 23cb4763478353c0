"""First-level GLM panel: the protocol's pain GLM, its T maps and the PAG peak t per model.

A thin shell over :func:`napari_milna.core.preproc.pain_glm.pain_glm` (nilearn
FirstLevelModel), as ``milna glm`` runs it: confounds chosen by checkbox from the other
panels (the physiological noise model of the RETROICOR panel with its file, slice and
corrected peaks; six motion parameters and FD scrubbing from the motion panel; the CSF
signal from the CSF panel), smoothing 5 mm, the session's brain mask. It runs in a
worker thread; Cancel stops it before any map is written. The T maps (df in the header,
as SPM writes them) are opened as statistical layers, and the PAG peak t of each
physiological noise model (none, RETROICOR, RETROICOR + RVT + HR) is shown in a table.
The PAG is the session's ROI when that is a PAG, else the literature seed.
"""

from __future__ import annotations

import contextlib
import math

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox
from qtpy.QtCore import Qt
from qtpy.QtGui import QFont
from qtpy.QtWidgets import QHeaderView, QPushButton, QTableWidget, QTableWidgetItem

from ...core.errors import MilnaInputError
from ...core.io.tables import derivative_prefix
from ...core.preproc.first_level import HIGH_PASS_HZ, PROTOCOL_CONTRASTS, SMOOTHING_FWHM_MM
from ...core.protocol import PHYSIO_MODELS
from ..panel.status import WARN_COLOUR, coloured, escape
from .form import compact, narrow, row
from .layers import show_file_map
from .step import StepPanel

#: pain_glm's progress steps: 1 events, 2 RETROICOR, 3 motion, 4 CSF, 5 fit, 6 write, 7+ refits.
LAST_STEP_BEFORE_WRITING = 5
#: The physiological noise models of the table, in order: (key in peaks_by_model, header).
MODEL_COLUMNS = (("none", "no physio"), (PHYSIO_MODELS[0], "RETROICOR"),
                 (PHYSIO_MODELS[1], "+RVT+HR"))
COLUMNS = ("contrast",) + tuple(header for _, header in MODEL_COLUMNS) + ("PAG peak (mm)",)
NOT_FITTED = "not fitted"
#: What the GLM uses without a brain mask.
EPI_MASK = "none (nilearn's EPI mask)"


def planned_outputs(out_dir, bold) -> list:
    """The files ``pain_glm`` may write for ``bold`` in ``out_dir`` (overwrite question)."""
    prefix = derivative_prefix(bold)
    paths = []
    for name, _, _ in PROTOCOL_CONTRASTS:
        for stat in ("t", "effect"):
            paths.append(out_dir / f"{prefix}_contrast-{name}_stat-{stat}_statmap.nii.gz")
    paths.append(out_dir / f"{prefix}_desc-glm_mask.nii.gz")
    return paths


class GlmForm:
    """Confounds, comparison fits and GLM settings (magicgui).

    Attributes
    ----------
    physio, motion, scrub, csf : CheckBox
        Confounds taken from the other panels.
    compare : CheckBox
        Also fit without physiological noise regressors (and, with the fuller model,
        with RETROICOR alone).
    smoothing : FloatSpinBox
        FWHM (mm), 0: none.
    high_pass : FloatSpinBox
        Cosine drift cut-off period (s).
    noise_model : ComboBox
        ``"ar1"`` or ``"ols"``.
    container : magicgui Container
    """

    def __init__(self):
        self.physio = CheckBox(text="physio", value=True,
                               tooltip="The RETROICOR panel's physiological noise model (its "
                                       "file, slice, model and corrected peaks)")
        self.motion = CheckBox(text="motion (6)", value=True,
                               tooltip="Six motion parameters of the motion panel's file")
        self.scrub = CheckBox(text="scrub FD", value=True,
                              tooltip="Scrub volumes above the motion panel's FD threshold")
        self.csf = CheckBox(text="CSF", value=True, tooltip="The CSF panel's signal")
        self.compare = CheckBox(text="also fit without physio (and RETROICOR alone)",
                                value=True,
                                tooltip="Refit without the physiological regressors (and, "
                                        "with RETROICOR + RVT + HR, with RETROICOR alone) "
                                        "to report the PAG peak t of each model")
        self.smoothing = FloatSpinBox(value=SMOOTHING_FWHM_MM, min=0.0, max=12.0, step=0.5,
                                      tooltip="Gaussian FWHM (the protocol: 4-5 mm for the "
                                              "brainstem); 0: none")
        self.smoothing.native.setSuffix(" mm")
        self.smoothing.native.setDecimals(1)
        self.high_pass = FloatSpinBox(value=round(1 / HIGH_PASS_HZ), min=20.0, max=1000.0,
                                      step=8.0, tooltip="Cosine drift: periods longer than "
                                                        "this are removed (SPM: 128 s)")
        self.high_pass.native.setSuffix(" s")
        self.high_pass.native.setDecimals(0)
        narrow(96, self.smoothing, self.high_pass)
        self.noise_model = ComboBox(choices=[("AR(1)", "ar1"), ("OLS", "ols")], value="ar1",
                                    tooltip="Serial correlations: AR(1) (SPM's default) or "
                                            "none")
        self.container = compact(
            row("Confounds", self.physio, self.motion, self.scrub, self.csf),
            row("", self.compare),
            row("Model", self.smoothing, self.high_pass, self.noise_model),
        )
        self.motion.changed.connect(lambda on: setattr(self.scrub, "enabled", on))
        self.physio.changed.connect(lambda on: setattr(self.compare, "enabled", on))


class GlmPanel(StepPanel):
    """Pain > Baseline and Pain > Sensory of the session's run with the chosen confounds."""

    def __init__(self, ctx, parent=None):
        button = QPushButton("Run first-level GLM")
        super().__init__(ctx, GlmForm(), [button], parent=parent)
        self.run_button = button
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for k, (key, _) in enumerate(MODEL_COLUMNS, start=1):
            self.table.horizontalHeaderItem(k).setToolTip(
                f"PAG peak t with the physiological noise model {key!r}")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setMaximumHeight(90)
        self.table.setToolTip("PAG peak t of each physiological noise model (bold: the model "
                              "whose maps were written); double-click a row to move the "
                              "cursor to its PAG peak")
        self.add(self.button_row(button), self.table)
        self.finish_layout()
        self.result = None
        self.layers: dict[str, object] = {}
        self._used_column = 1
        self.run_button.clicked.connect(self.run)
        self.table.cellDoubleClicked.connect(self._go_to_peak)

    # ------------------------------------------------------------------ run
    def _inputs(self, stack) -> tuple:
        ctx, f = self.ctx, self.form
        source = ctx.run_source()
        kwargs = {"events": ctx.events_path(required=True),
                  "mask": ctx.mask_file("brain", stack),
                  "smoothing_fwhm": float(f.smoothing.value) or None,
                  "high_pass": 1.0 / float(f.high_pass.value),
                  "noise_model": f.noise_model.value,
                  "report_rois": ctx.report_rois(stack)}
        if f.physio.value:
            kwargs.update(ctx.physio.glm_inputs(stack))
            kwargs["compare_without_retroicor"] = bool(f.compare.value)
        if f.motion.value:
            motion = ctx.motion
            kwargs.update(motion=motion.form.file.path(), motion_format=motion.motion_format())
            kwargs.update(motion.settings())
            if not f.scrub.value:
                kwargs["fd_threshold"] = math.inf  # regress motion, scrub nothing
        if f.csf.value:
            kwargs.update(ctx.csf.settings(stack))
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
            self.refuse(exc)
            return False
        if overwrite is None:
            stack.close()
            self.status.setText("Not run: the existing maps were kept.")
            return False
        pag = f"{self.ctx.chosen(run='none', brain=EPI_MASK)}; PAG: {self.ctx.pag_words()}"

        def job(progress):
            def step(done, total):
                progress(done, total, done <= LAST_STEP_BEFORE_WRITING)

            with stack:
                return pain_glm(source.path, out_dir=out_dir, overwrite=overwrite,
                                progress=step, **kwargs)

        started = self.runner.start("First-level GLM", job,
                                    lambda result: self._on_done(result, pag))
        if not started:
            stack.close()
        return started

    # ------------------------------------------------------------------ results
    def _on_done(self, result, pag: str) -> None:
        self.result = result
        fit = result.fit
        self.layers = {}
        for c in fit.contrasts:
            title = c.title[:1].upper() + c.title[1:]
            self.layers[c.name] = show_file_map(
                self.ctx.viewer, f"glm_{c.name}", c.t_path, f"{title} (T, df {fit.df:g})")
        self._fill_table(result, {c.name: c.title for c in fit.contrasts})
        self.status.setText(self._summary(result, pag))
        if result.warnings:
            self.ctx.notify("warning", " ".join(result.warnings))

    def _fill_table(self, result, titles: dict) -> None:
        by_model = dict(result.peaks_by_model)
        used = result.physio_model or "none"
        by_model.setdefault(used, result.peaks)
        self._used_column = 1 + [key for key, _ in MODEL_COLUMNS].index(used)
        rows = [p for p in result.peaks if p.roi == "PAG"]
        self.table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, p in enumerate(rows):
            cells = [titles.get(p.contrast, p.contrast)]
            for key, _ in MODEL_COLUMNS:
                same = [q for q in by_model.get(key, []) if (q.roi, q.contrast) ==
                        (p.roi, p.contrast)]
                cells.append(_t(same[0].peak_t) if same else NOT_FITTED)
            cells.append(", ".join(f"{v:.1f}" for v in p.peak_mm) if p.peak_mm else "-")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if 1 <= col <= len(MODEL_COLUMNS):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if col == self._used_column:
                    item.setFont(bold)
                self.table.setItem(r, col, item)

    def _summary(self, result, pag: str) -> str:
        fit = result.fit
        groups = []
        if result.retroicor is not None:
            retro = result.retroicor
            extra = " + RVT + HR (2)" if retro.rvt_hr is not None else ""
            groups.append(f"RETROICOR {retro.orders.n_regressors}{extra}")
        if result.motion is not None:
            groups.append("motion 6")
        if result.csf is not None:
            groups.append("CSF 1")
        text = (f"df <b>{fit.df:g}</b> ({fit.n_scans_kept} of {fit.n_scans} volumes kept, design "
                f"rank {fit.rank}); confounds: {escape(', '.join(groups) or 'none')} "
                f"({len(fit.confound_columns)} columns); smoothing "
                f"{escape(f'{fit.smoothing_fwhm:g} mm' if fit.smoothing_fwhm else 'none')}.")
        others = [f"{header} {result.df_by_model[key]:g}" for key, header in MODEL_COLUMNS
                  if key in result.df_by_model and key != result.physio_model]
        if others:
            text += f" df of the other fits: {escape(', '.join(others))}."
        text += (f"<br>{escape(pag)}. Maps written to "
                 f"{escape(str(result.written[0].parent))}.")
        for note in result.notes:
            text += "<br>" + escape(note)
        for warning in result.warnings:
            text += "<br>" + coloured(warning, WARN_COLOUR)
        return text

    def peak_table(self) -> list[tuple[str, ...]]:
        """The table's rows as text.

        Each row: contrast, PAG t with the model used, t without physiological
        regressors, PAG peak (mm).
        """
        none_column = 1 + [key for key, _ in MODEL_COLUMNS].index("none")
        last = self.table.columnCount() - 1
        columns = (0, self._used_column, none_column, last)
        rows = []
        for r in range(self.table.rowCount()):
            texts = [self.table.item(r, c).text() for c in columns]
            if self._used_column == none_column:  # no physio model: nothing to compare with
                texts[2] = NOT_FITTED
            rows.append(tuple(texts))
        return rows

    def model_table(self) -> dict[str, list[str]]:
        """Column header -> the column's cells (text), for every column of the table."""
        return {COLUMNS[c]: [self.table.item(r, c).text() for r in range(self.table.rowCount())]
                for c in range(self.table.columnCount())}

    def _go_to_peak(self, row: int, column: int) -> None:
        if self.result is None:
            return
        peaks = [p for p in self.result.peaks if p.roi == "PAG"]
        if 0 <= row < len(peaks) and peaks[row].peak_mm:
            self.ctx.state.go_to_world(peaks[row].peak_mm)


def _t(value) -> str:
    return "-" if value is None else f"{value:.2f}"
