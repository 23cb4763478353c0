"""Physiological noise panel: cardiac peaks, RETROICOR (+ RVT + HR) regressors, R^2 map.

A thin shell over :mod:`napari_milna.core.preproc.physio`,
:mod:`~napari_milna.core.preproc.retroicor` and :mod:`~napari_milna.core.preproc.rvt_hr`,
as ``milna retroicor`` runs them:

1. the form (:class:`~.physio_form.PhysioForm`) chooses the BIDS physio file, the
   slice whose acquisition time samples the phases (default: the slice through the
   PAG, the session's ROI when that is a PAG), the Fourier orders and the model:
   RETROICOR, or RETROICOR + RVT + HR (respiratory volume per time and heart rate,
   raw and convolved with the RRF / CRF);
2. the cardiac peaks (:class:`~.peak_editor.PeakEditor`) are detected, shown on the
   pulse trace and corrected by hand; after a correction the regressors are rebuilt
   from the corrected beats (the heart rate follows them);
3. *RETROICOR + R^2 map* builds the regressors and the per-voxel partial R^2 map of
   the columns that enter the GLM (streamed, cancellable), shown as a warm layer on
   the run grid; with the fuller model the RVT and HR traces are plotted under the
   pulse trace; *Save TSV* writes the table as core writes it (``rvt``, ``rvt_rrf``,
   ``hr``, ``hr_crf`` after RETROICOR's columns), asking before replacing a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QPushButton

from ...core.errors import MilnaInputError
from ...core.io.tables import derivative_prefix
from ...core.preproc.physio import read_bids_physio
from ...core.preproc.retroicor import compute_retroicor, retroicor_variance_map, write_regressors
from ..panel.links import debounce_timer
from ..panel.status import WARN_COLOUR, coloured, escape
from .layers import show_r2_map
from .peak_editor import PeakEditor
from .physio_form import MODEL_CHOICES, PhysioForm
from .plots import RvtHrPlot
from .step import StepPanel

#: Wait this long (ms) after the last correction before rebuilding the regressors.
REBUILD_DELAY_MS = 250
MODEL_NAMES = {key: text for text, key in MODEL_CHOICES}


class PhysioPanel(StepPanel):
    """Cardiac peaks, physiological noise regressors and the partial R^2 map of the run."""

    def __init__(self, ctx, parent=None):
        form = PhysioForm()
        compute = QPushButton("RETROICOR + R\u00b2 map")
        compute.setToolTip("Build the regressors of the chosen model and map the variance "
                           "they explain (partial R\u00b2) on the run grid")
        save = QPushButton("Save TSV\u2026")
        save.setToolTip("Save the regressors as a TSV (as milna retroicor writes it)")
        save.setEnabled(False)
        super().__init__(ctx, form, [compute], parent=parent)
        self.compute_button, self.save_button = compute, save
        self.editor = PeakEditor(ctx, form, self.status, self.refuse)
        self.runner.busy_buttons.append(self.editor.detect_button)
        self.rvt_plot = RvtHrPlot()
        self.add(self.editor, self.rvt_plot, self.button_row(compute, save))
        self.finish_layout()

        self.result = None
        self.variance = None
        self.r2_limits: tuple[float, float] | None = None
        #: The GLM columns the R^2 map was computed with (None: no map).
        self.map_frame = None
        self._rebuild = debounce_timer(self, REBUILD_DELAY_MS, self.rebuild_regressors)

        form.physio.changed.connect(self._on_physio)
        form.sidecar.changed.connect(self._on_physio)
        for widget in (form.slice_mode, form.slice_index, form.order):
            widget.changed.connect(self._on_slice_setting)
        for widget in (form.model, form.cardiac, form.respiratory, form.interaction):
            widget.changed.connect(self._schedule_rebuild)
        self.editor.detect_button.clicked.connect(self.detect)
        self.editor.edited.connect(self._schedule_rebuild)
        compute.clicked.connect(self.compute)
        save.clicked.connect(lambda: self.save_regressors())
        session = ctx.session
        self._links = [(session.roi_changed, self._on_roi), (session.cursor_changed,
                                                              self._on_cursor)]
        for signal, slot in self._links:
            signal.connect(slot)

    def close_links(self) -> None:
        """Stop following the session (the tab is going away)."""
        for signal, slot in self._links:
            signal.disconnect(slot)
        self._links = []

    # ------------------------------------------------------------------ inputs
    def _on_physio(self, *args) -> None:
        self.editor.forget()

    def _on_slice_setting(self, *args) -> None:
        self.update_slice()
        self._schedule_rebuild()

    def _on_roi(self, *args) -> None:
        if self.form.slice_mode.value == "PAG":
            self._on_slice_setting()

    def _on_cursor(self, *args) -> None:
        if self.form.slice_mode.value == "cursor":
            self._on_slice_setting()

    def update_slice(self) -> None:
        """Show which slice (and time within the TR) samples the phases."""
        where = self.form.where
        if self.ctx.run_layer() is None:
            where.value = "Choose the run at the top of the tab."
            return
        try:
            choice = self.form.slice_choice(self.ctx)
        except MilnaInputError as exc:
            where.value = coloured(str(exc), WARN_COLOUR)
            return
        self.form.show_choice(choice, self.ctx)

    # ------------------------------------------------------------------ peaks
    def detect(self) -> bool:
        """Read the physio file and detect the cardiac peaks in a worker thread."""
        from ...core.preproc.physio import detect_cardiac_peaks

        try:
            paths = self.form.paths()
        except MilnaInputError as exc:
            self.refuse(exc)
            return False

        def job(progress):
            recording = read_bids_physio(*paths)
            progress(1, 2)
            peaks = detect_cardiac_peaks(recording)
            progress(2, 2)
            return recording, peaks

        return self.runner.start("Cardiac peak detection", job,
                                 lambda out: self._on_detected(paths, *out))

    def _on_detected(self, paths, recording, peaks) -> None:
        self.editor.set_detected(paths, recording, peaks)
        self.status.setText(escape(f"{peaks.times.size} beats found by {peaks.source}."))
        self._schedule_rebuild()

    # ------------------------------------------------------------------ regressors
    def _inputs(self):
        """Run, physio paths, slice choice, orders and model of the form.

        Raises
        ------
        MilnaInputError
        """
        source = self.ctx.run_source()
        paths = self.form.paths()
        choice = self.form.slice_choice(self.ctx)
        return source, paths, choice, self.form.orders(), self.form.model.value

    def _regressors_job(self, source, paths, choice, orders, model):
        """``job(progress)`` building the regressors (recording read when not shown yet)."""
        recording = self.editor.current_recording(paths)
        peaks = self.editor.peaks if recording is not None else None
        n, tr = source.n_volumes, source.tr

        def job(progress):
            rec = recording or read_bids_physio(*paths)
            result = compute_retroicor(rec, n, tr, slice_time=choice.time, orders=orders,
                                       peaks=peaks, slice_index=choice.index, model=model)
            return rec, result

        return job

    def compute(self) -> bool:
        """Build the regressors and the partial R^2 map in a worker thread."""
        from ...core.preproc.first_level import read_events, task_design

        try:
            source, paths, choice, orders, model = inputs = self._inputs()
            brain = self.ctx.brain_mask(source.grid)
        except MilnaInputError as exc:
            self.refuse(exc)
            return False
        build = self._regressors_job(*inputs)
        used = self.ctx.chosen(run="none", brain="none (non-zero voxels)")
        events = self.ctx.events_path()
        n, tr = source.n_volumes, source.tr

        def job(progress):
            rec, result = build(None)
            base, note = None, None
            if events is not None:
                try:
                    base = task_design(read_events(events, n, tr), n, tr).to_numpy()
                except MilnaInputError as exc:
                    note = f"task regressors left out of the base model: {exc}"
            vmap = retroicor_variance_map(source.run(), result.glm_frame().to_numpy(),
                                          base=base, mask=brain, progress=progress)
            return rec, result, vmap, base is not None, note

        self._rebuild.stop()
        return self.runner.start(
            "Physiological noise partial R\u00b2 map", job,
            lambda out: self._on_computed(paths, source, brain, choice, used, *out))

    def _take_recording(self, paths, recording, result) -> None:
        """Show the recording and the beats a computation used when none were shown."""
        editor = self.editor
        if editor.peaks is None or editor.current_recording(paths) is None:
            editor.set_detected(paths, recording, result.peaks)

    def _on_computed(self, paths, source, brain, choice, used, recording, result, vmap,
                     with_task: bool, note) -> None:
        self._take_recording(paths, recording, result)
        self.result, self.variance = result, vmap
        self.map_frame = result.glm_frame()
        n_columns = self.map_frame.shape[1]
        _, self.r2_limits = show_r2_map(self.ctx.viewer, vmap, source, n_columns, brain)
        self.save_button.setEnabled(True)
        self._show_rvt_hr(result)
        r2 = vmap.partial_r2[np.isfinite(vmap.partial_r2)]
        low, high = self.r2_limits
        text = (
            f"{self._describe(result, choice)}<br>"
            f"Partial R\u00b2 of the {n_columns} GLM columns over {r2.size:,} voxels "
            f"({escape(used)}), base model drift"
            f"{' + task' if with_task else ''}: median <b>{np.median(r2):.3f}</b>, 95th "
            f"percentile <b>{np.percentile(r2, 95):.3f}</b>. Shown from {low:.3f} (reached by "
            f"white noise with p 0.05 anywhere in the map; {100 * np.mean(r2 > low):.0f} % of "
            f"voxels above) to {high:.3f}."
        )
        if note:
            text += "<br>" + coloured(note, WARN_COLOUR)
        self.status.setText(text)

    def _describe(self, result, choice) -> str:
        o = result.orders
        peaks = result.peaks
        where = f"slice {choice.index}" if choice.index is not None else "every slice"
        text = (f"{escape(MODEL_NAMES[result.model])}: <b>{len(result.columns)}</b> RETROICOR "
                f"regressors ({o.cardiac} cardiac, {o.respiratory} respiratory, "
                f"{o.interaction} interaction) at {where}, {choice.time:.3f} s into each TR; "
                f"{peaks.times.size} beats{' (corrected)' if peaks.source == 'user' else ''}.")
        if result.rvt_hr is not None:
            d = result.rvt_hr.to_dict()
            text += escape(
                f" RVT (Harrison 2021) mean {d['rvt_mean']:.3g} belt units/s over "
                f"{d['n_breaths']} breaths; HR {d['hr_min_bpm']:.0f}-{d['hr_max_bpm']:.0f} bpm "
                f"(mean {d['hr_mean_bpm']:.1f}, {d['hr_window_s']:g} s window); the GLM takes "
                "rvt_rrf and hr_crf.")
            for note in d["notes"]:
                text += " <b>Note:</b> " + escape(note[0].upper() + note[1:] + ".")
        return text

    def _show_rvt_hr(self, result) -> None:
        fuller = result.rvt_hr is not None
        self.rvt_plot.setVisible(fuller)
        if fuller:  # finish() shows it
            corrected = result.peaks.source == "user"
            self.rvt_plot.show_regressors(
                result.rvt_hr, f"HR from {result.peaks.times.size} "
                               f"{'corrected ' if corrected else ''}beats")

    def _schedule_rebuild(self, *args) -> None:
        """After a change of beats or model, rebuild the regressors (once a result exists)."""
        if self.result is not None:
            self._rebuild.start()

    def rebuild_regressors(self) -> bool:
        """Rebuild the regressors (not the R^2 map) from the form and the beats in use."""
        if self.result is None:
            return False
        if self.runner.running:
            self._rebuild.start()  # after the running job
            return False
        try:
            source, paths, choice, orders, model = inputs = self._inputs()
        except MilnaInputError as exc:
            self.status.setText(coloured(str(exc), WARN_COLOUR))
            return False
        return self.runner.start(
            "Physiological noise regressors", self._regressors_job(*inputs),
            lambda out: self._on_rebuilt(paths, choice, *out))

    def _on_rebuilt(self, paths, choice, recording, result) -> None:
        self._take_recording(paths, recording, result)
        self.result = result
        self._show_rvt_hr(result)
        text = self._describe(result, choice)
        if self.map_frame is not None and not self.map_frame.equals(result.glm_frame()):
            text += "<br>" + coloured("The R\u00b2 map was computed before this change: press "
                                      "RETROICOR + R\u00b2 map to update it.", WARN_COLOUR)
        self.status.setText(text)

    def save_regressors(self, path=None) -> Path | None:
        """Write the regressors as a TSV (atomic; asks before replacing a file)."""
        if self.result is None:
            return None
        result = self.result

        def default() -> Path:
            prefix = derivative_prefix(self.ctx.run_source().path)
            return self.ctx.output_dir() / f"{prefix}_desc-retroicor_timeseries.tsv"

        written = self.ctx.save_tsv(
            path, "Save the physiological noise regressors", default,
            lambda p, overwrite: write_regressors(result, p, overwrite=overwrite), self.refuse)
        if written is not None:
            rows, columns = result.to_frame().shape
            self.status.setText(escape(f"Saved {columns} regressors x {rows} volumes to "
                                       f"{written}."))
        return written

    # ------------------------------------------------------------------ GLM
    def glm_inputs(self, stack) -> dict:
        """``pain_glm`` keywords of the physiological noise model: file, peaks, slice, model.

        Corrected peaks not saved to a file are written to a temporary folder that
        ``stack`` (an ExitStack) removes when the GLM is done.

        Raises
        ------
        MilnaInputError
        """
        from ...core.errors import input_error
        from ...core.preproc.physio import sidecar_path

        physio, sidecar = self.form.paths()
        if sidecar != sidecar_path(physio):
            raise input_error(sidecar, "is not next to the physio file; the GLM reads the "
                                       f"sidecar {sidecar_path(physio).name}")
        choice = self.form.slice_choice(self.ctx)
        out = {"physio": physio, "slice_index": choice.index, "slice_time": choice.time,
               "orders": self.form.orders(), "physio_model": self.form.model.value}
        peaks = self.editor.user_peaks_file((physio, sidecar), stack)
        if peaks is not None:
            out["peaks"] = peaks
        return out
