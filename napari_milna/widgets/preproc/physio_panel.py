"""Physiological noise panel: cardiac peaks (see, correct), RETROICOR regressors, R^2 map.

A thin shell over :mod:`napari_milna.core.preproc.physio`,
:mod:`~napari_milna.core.preproc.slice_timing` and :mod:`~napari_milna.core.preproc.retroicor`:

1. choose the BIDS physio file (and its JSON sidecar) and the slice whose acquisition
   time samples the phases (default: the slice through the PAG);
2. *Detect peaks* (neurokit2) shows the pulse trace with the beats and the
   flagged intervals (missed / extra beats); a click near a beat removes it, a click
   elsewhere adds one at the pulse maximum nearby; corrected lists load and save;
3. *Compute RETROICOR* builds the 18 regressors and the per-voxel partial R^2 map
   (streamed, cancellable) shown as a warm layer on the run grid; *Save regressors*
   writes the TSV atomically, asking before replacing a file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
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
from ...core.io.tables import derivative_prefix
from ...core.preproc.physio import (
    CardiacPeaks,
    peaks_from_times,
    read_bids_physio,
    read_peak_times,
    refine_peaks,
    sidecar_path,
    write_peak_times,
)
from ...core.preproc.retroicor import compute_retroicor, retroicor_variance_map, write_regressors
from ...core.preproc.slice_timing import SLICE_ORDERS, choose_slice_time
from ...core.roi.seeds import PAG_CENTROID_MM, SEEDS
from ..panel.jobs import JobRunner
from ..panel.status import WARN_COLOUR, StatusLabel, coloured, escape
from .inputs import PathField
from .layers import show_r2_map
from .plots import PulsePlot

#: Where the phases are sampled by default: the slice through these points (MNI mm).
SLICE_POINTS = {
    "PAG": PAG_CENTROID_MM,  # Satpute et al. 2013 hand-traced centroid
    "RVM": tuple(SEEDS["RVM"]["canlab"].shape.centre_mm),  # CANlab symmetric RVM box
}
#: A click closer than this (s) to a beat removes it; elsewhere it adds one.
CLICK_TOLERANCE_S = 0.15
#: An added beat moves to the pulse maximum within this half-window (s).
ADD_SEARCH_S = 0.15


class PhysioPanel(QWidget):
    """Cardiac peaks, RETROICOR regressors and the partial R^2 map of the chosen run."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.physio_field = PathField("BIDS *_physio.tsv.gz",
                                      "BIDS physio (*_physio.tsv.gz *_physio.tsv *.tsv.gz *.tsv)")
        self.sidecar_field = PathField("JSON sidecar (default: next to the physio file)",
                                       "JSON (*.json)")
        self.slice_combo = QComboBox()
        for key, text in (("PAG", "through the PAG"), ("RVM", "through the RVM"),
                          ("cursor", "through the cursor"), ("index", "slice index")):
            self.slice_combo.addItem(text, key)
        self.slice_combo.setToolTip("RETROICOR samples the phases when this slice was acquired")
        self.slice_spin = QSpinBox()
        self.slice_spin.setRange(0, 9999)
        self.slice_spin.setEnabled(False)
        self.order_combo = QComboBox()
        self.order_combo.addItem("stored timing", None)
        for order in SLICE_ORDERS:
            self.order_combo.addItem(order, order)
        self.order_combo.setToolTip("Slice order used only when neither the BOLD sidecar nor "
                                    "the NIfTI header stores slice timing")
        self.slice_label = QLabel("")
        self.slice_label.setWordWrap(True)
        self.slice_label.setTextFormat(Qt.TextFormat.RichText)

        self.detect_button = QPushButton("Detect peaks")
        self.load_peaks_button = QPushButton("Load peaks...")
        self.save_peaks_button = QPushButton("Save peaks...")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Back to the detected peaks")
        self.plot = PulsePlot()
        self.plot.setToolTip("Click near a beat to remove it; click elsewhere to add one at the "
                             "pulse maximum nearby")
        self.back_button = QPushButton("\u25c0")
        self.forward_button = QPushButton("\u25b6")
        self.flag_button = QPushButton("Next flagged beat")
        for b in (self.back_button, self.forward_button):
            b.setFixedWidth(32)
        self.peaks_label = QLabel("Detect the cardiac peaks to see the pulse trace.")
        self.peaks_label.setWordWrap(True)
        self.peaks_label.setTextFormat(Qt.TextFormat.RichText)

        self.compute_button = QPushButton("RETROICOR + R\u00b2 map")
        self.compute_button.setToolTip("Build the 18 regressors and map the variance they "
                                       "explain (partial R\u00b2) on the run grid")
        self.cancel_button = QPushButton("Cancel")
        self.save_button = QPushButton("Save TSV...")
        self.save_button.setToolTip("Save the RETROICOR regressors as a TSV")
        self.save_button.setEnabled(False)
        self.bar = QProgressBar()
        self.status = StatusLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runner = JobRunner(self.bar, self.status, self.cancel_button,
                                [self.detect_button, self.compute_button], ctx.notify, self)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Physio", self.physio_field)
        form.addRow("Sidecar", self.sidecar_field)
        slice_row = QHBoxLayout()
        slice_row.addWidget(self.slice_combo, 1)
        slice_row.addWidget(self.slice_spin)
        form.addRow("Slice", slice_row)
        form.addRow("Order", self.order_combo)
        peaks_row = QHBoxLayout()
        for b in (self.detect_button, self.load_peaks_button, self.save_peaks_button,
                  self.revert_button):
            peaks_row.addWidget(b)
        nav_row = QHBoxLayout()
        nav_row.addWidget(self.back_button)
        nav_row.addWidget(self.forward_button)
        nav_row.addWidget(self.flag_button, 1)
        run_row = QHBoxLayout()
        run_row.addWidget(self.compute_button, 1)
        run_row.addWidget(self.save_button)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.slice_label)
        layout.addLayout(peaks_row)
        layout.addWidget(self.plot)
        layout.addLayout(nav_row)
        layout.addWidget(self.peaks_label)
        layout.addLayout(run_row)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)

        self.recording = None
        self.recording_paths: tuple | None = None
        self.detected: CardiacPeaks | None = None
        self.peaks: CardiacPeaks | None = None
        self.peaks_file: Path | None = None
        self.n_added = self.n_removed = 0
        self.result = None
        self.variance = None
        self.r2_limits: tuple[float, float] | None = None

        self.physio_field.changed.connect(self._on_physio_changed)
        self.sidecar_field.changed.connect(lambda text: self._forget_recording())
        self.slice_combo.currentIndexChanged.connect(self._on_slice_mode)
        self.slice_spin.valueChanged.connect(lambda v: self.update_slice())
        self.order_combo.currentIndexChanged.connect(lambda i: self.update_slice())
        self.detect_button.clicked.connect(self.detect)
        self.load_peaks_button.clicked.connect(self._load_peaks_dialog)
        self.save_peaks_button.clicked.connect(lambda: self.save_peaks())
        self.revert_button.clicked.connect(self.revert)
        self.plot.clicked.connect(self.toggle_peak)
        self.back_button.clicked.connect(lambda: self.plot.set_window(
            self.plot.start - 0.8 * self.plot.window_s))
        self.forward_button.clicked.connect(lambda: self.plot.set_window(
            self.plot.start + 0.8 * self.plot.window_s))
        self.flag_button.clicked.connect(self.next_flag)
        self.compute_button.clicked.connect(self.compute)
        self.save_button.clicked.connect(lambda: self.save_regressors())
        ctx.viewer.dims.events.point.connect(self._on_cursor)
        self._update_buttons()

    # ------------------------------------------------------------------ inputs
    def _on_physio_changed(self, text: str) -> None:
        path = self.physio_field.path()
        if path is not None:
            self.sidecar_field.fill(sidecar_path(path))
        self._forget_recording()

    def _forget_recording(self) -> None:
        if self.recording_paths is not None and self.recording_paths != self._paths(False):
            self.recording = self.recording_paths = None
            self.detected = self.peaks = None
            self.peaks_file = None
            self.plot.reset()
            self.plot.finish()
            self.peaks_label.setText("Detect the cardiac peaks of this file.")
            self._update_buttons()

    def _paths(self, required: bool = True):
        physio = self.physio_field.path()
        if physio is None:
            if required:
                raise input_error(None, "choose a physio file (BIDS *_physio.tsv.gz) first")
            return None
        return physio, self.sidecar_field.path() or sidecar_path(physio)

    def _on_slice_mode(self, index: int) -> None:
        self.slice_spin.setEnabled(self.slice_combo.currentData() == "index")
        self.update_slice()

    def _on_cursor(self, event=None) -> None:
        try:
            if self.slice_combo.currentData() == "cursor":
                self.update_slice()
        except RuntimeError:  # the dock was closed
            self.ctx.viewer.dims.events.point.disconnect(self._on_cursor)

    def slice_choice(self):
        """The slice time used for the phases (core ``choose_slice_time``).

        Raises
        ------
        MilnaInputError
            No run, a point outside the run's grid, or no slice timing known.
        """
        source = self.ctx.run_source()
        mode = self.slice_combo.currentData()
        order = self.order_combo.currentData()
        if mode == "index":
            return choose_slice_time(source, slice_index=self.slice_spin.value(),
                                     slice_order=order)
        if mode == "cursor":
            at = self.ctx.cursor_world()
            if at is None:
                raise input_error(None, "there is no cursor position yet")
        else:
            at = SLICE_POINTS[mode]
        return choose_slice_time(source, at=at, slice_order=order)

    def update_slice(self) -> None:
        """Show which slice (and time within the TR) samples the phases."""
        if self.ctx.run_layer() is None:
            self.slice_label.setText("Choose the run at the top of the dock.")
            return
        try:
            choice = self.slice_choice()
        except MilnaInputError as exc:
            self.slice_label.setText(coloured(str(exc), WARN_COLOUR))
            return
        if choice.index is not None and self.slice_combo.currentData() != "index":
            self.slice_spin.blockSignals(True)
            self.slice_spin.setValue(int(choice.index))
            self.slice_spin.blockSignals(False)
        where = f"slice {choice.index}" if choice.index is not None else "every slice"
        self.slice_label.setText(escape(f"Phases sampled at {where}, {choice.time:.3f} s into "
                                        f"each TR ({choice.source})."))

    # ------------------------------------------------------------------ peaks
    def detect(self) -> bool:
        """Read the physio file and detect the cardiac peaks in a worker thread."""
        from ...core.preproc.physio import detect_cardiac_peaks

        try:
            paths = self._paths()
        except MilnaInputError as exc:
            self._refuse(exc)
            return False

        def job(progress):
            recording = read_bids_physio(*paths)
            progress(1, 2)
            peaks = detect_cardiac_peaks(recording)
            progress(2, 2)
            return recording, peaks

        return self.runner.start("Cardiac peak detection", job,
                                 lambda out: self._on_detected(paths, *out))

    def _on_detected(self, paths, recording, peaks: CardiacPeaks) -> None:
        self.recording, self.recording_paths = recording, paths
        self.detected = peaks
        self.n_added = self.n_removed = 0
        self.peaks_file = None
        self._set_peaks(peaks, recentre=True)
        self.status.setText(escape(f"{peaks.times.size} beats found by {peaks.source}."))

    def _set_peaks(self, peaks: CardiacPeaks, recentre: bool = False) -> None:
        self.peaks = peaks
        if self.recording is not None:
            span = None
            try:
                source = self.ctx.run_source()
                span = (0.0, source.n_volumes * source.tr)
            except MilnaInputError:
                pass
            if recentre:
                self.plot.start = 0.0
            self.plot.show_trace(self.recording.times, self.recording.cardiac, peaks, span)
        self._describe_peaks()
        self._update_buttons()
        if self.result is not None:
            self.status.setText(coloured("The peaks changed: compute RETROICOR again.",
                                         WARN_COLOUR))

    def _describe_peaks(self) -> None:
        p = self.peaks
        if p is None:
            return
        missed = sum(f.kind == "missed" for f in p.flagged)
        extra = len(p.flagged) - missed
        text = f"<b>{p.times.size}</b> beats, {p.heart_rate_bpm:.1f} bpm; "
        flags = f"{missed} missed, {extra} extra beat(s) flagged"
        text += coloured(flags, WARN_COLOUR) if p.flagged else escape(flags)
        if self.n_added or self.n_removed:
            text += escape(f"; corrected by hand: {self.n_added} added, {self.n_removed} removed")
        elif p.source == "user" and self.peaks_file is not None:
            text += escape(f"; from {self.peaks_file.name}")
        self.peaks_label.setText(text)

    def _update_buttons(self) -> None:
        have = self.peaks is not None
        self.save_peaks_button.setEnabled(have)
        self.flag_button.setEnabled(have and bool(self.peaks.flagged))
        edited = self.detected is not None and self.peaks is not self.detected
        self.revert_button.setEnabled(edited)

    def toggle_peak(self, t: float) -> None:
        """A click on the trace at time ``t``: remove the beat there, or add one."""
        if self.peaks is None or self.recording is None:
            return
        times = self.peaks.times
        near = int(np.argmin(np.abs(times - t))) if times.size else -1
        if near >= 0 and abs(times[near] - t) <= CLICK_TOLERANCE_S:
            self.remove_peak(times[near])
        else:
            self.add_peak(t)

    def remove_peak(self, t: float) -> None:
        """Remove the beat nearest to ``t``."""
        times = self.peaks.times
        keep = np.ones(times.size, bool)
        keep[int(np.argmin(np.abs(times - t)))] = False
        if self._edit(times[keep]):
            self.n_removed += 1
            self._describe_peaks()

    def add_peak(self, t: float) -> None:
        """Add a beat at the pulse maximum within ``ADD_SEARCH_S`` of ``t``."""
        rec = self.recording
        fs = rec.sampling_frequency
        index = int(round((t - rec.start_time) * fs))
        if not 0 <= index < rec.n_samples:
            return
        moved = refine_peaks(np.asarray(rec.cardiac, float), np.array([index]),
                             int(round(ADD_SEARCH_S * fs)))[0]
        t_new = rec.start_time + moved / fs
        if self.peaks.times.size and np.min(np.abs(self.peaks.times - t_new)) < 0.5 / fs:
            self.ctx.notify("info", f"A beat already sits at {t_new:.2f} s.")
            return
        if self._edit(np.append(self.peaks.times, t_new)):
            self.n_added += 1
            self._describe_peaks()

    def _edit(self, times) -> bool:
        try:
            peaks = peaks_from_times(times)
        except MilnaInputError as exc:
            self._refuse(exc)
            return False
        self.peaks_file = None
        self._set_peaks(peaks)
        return True

    def revert(self) -> None:
        """Back to the detected peaks."""
        if self.detected is not None:
            self.n_added = self.n_removed = 0
            self.peaks_file = None
            self._set_peaks(self.detected)

    def next_flag(self) -> None:
        """Centre the plot on the next flagged interval (after the one shown)."""
        if self.peaks is None or not self.peaks.flagged:
            return
        centre = self.plot.start + self.plot.window_s / 2
        later = [f for f in self.peaks.flagged if (f.start + f.end) / 2 > centre + 1e-6]
        flag = later[0] if later else self.peaks.flagged[0]
        self.plot.centre_on((flag.start + flag.end) / 2)
        n = self.peaks.flagged.index(flag) + 1
        self.status.setText(escape(
            f"Flag {n} of {len(self.peaks.flagged)}: {flag.kind} beat? interval "
            f"{flag.start:.2f}-{flag.end:.2f} s lasts {flag.ibi:.2f} s against a local median "
            f"of {flag.local_median:.2f} s."))

    def _load_peaks_dialog(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getOpenFileName(self, "Corrected peak times", "",
                                                "Peak times (*.tsv *.txt *.csv);;All (*)")
        if chosen:
            self.load_peaks(chosen)

    def load_peaks(self, path) -> bool:
        """Use corrected peak times (s) from a file (one per line or a ``time`` column)."""
        try:
            peaks = read_peak_times(path)
        except MilnaInputError as exc:
            self._refuse(exc)
            return False
        self.n_added = self.n_removed = 0
        self.peaks_file = Path(path)
        if self.recording is None:
            self._read_recording_quietly()
        self._set_peaks(peaks, recentre=True)
        self.status.setText(escape(f"{peaks.times.size} peak times read from {Path(path).name}."))
        return True

    def _read_recording_quietly(self) -> None:
        try:
            paths = self._paths()
            self.recording, self.recording_paths = read_bids_physio(*paths), paths
        except MilnaInputError:
            pass

    def save_peaks(self, path=None) -> Path | None:
        """Write the current peak times as a TSV (``time`` column), asking before replacing."""
        if self.peaks is None:
            return None
        try:
            default = self.ctx.output_dir() / self._peaks_name() if path is None else None
            written = self.ctx.save_tsv(
                path, "Save the cardiac peak times", default,
                lambda p, overwrite: write_peak_times(self.peaks, p, overwrite=overwrite),
            )
        except MilnaInputError as exc:
            self._refuse(exc)
            return None
        if written is None:
            return None
        self.peaks_file = written
        self.status.setText(escape(f"Saved {self.peaks.times.size} peak times to {written}."))
        return written

    def _peaks_name(self) -> str:
        physio = self.physio_field.path()
        prefix = derivative_prefix(physio) if physio is not None else "physio"
        prefix = prefix.removesuffix("_physio")
        return f"{prefix}_desc-cardiac_peaks.tsv"

    # ------------------------------------------------------------------ RETROICOR
    def compute(self) -> bool:
        """Build the RETROICOR regressors and the partial R^2 map in a worker thread."""
        from ...core.preproc.first_level import read_events, task_design

        try:
            source = self.ctx.run_source()
            paths = self._paths()
            choice = self.slice_choice()
            brain = self.ctx.brain_mask(source.grid)
        except MilnaInputError as exc:
            self._refuse(exc)
            return False
        recording = self.recording if self.recording_paths == paths else None
        peaks = self.peaks if recording is not None else None
        events = self.ctx.events_path()
        n, tr = source.n_volumes, source.tr

        def job(progress):
            rec = recording or read_bids_physio(*paths)
            result = compute_retroicor(rec, n, tr, slice_time=choice.time, peaks=peaks,
                                       slice_index=choice.index)
            base, note = None, None
            if events is not None:
                try:
                    base = task_design(read_events(events, n, tr), n, tr).to_numpy()
                except MilnaInputError as exc:
                    note = f"task regressors left out of the base model: {exc}"
            vmap = retroicor_variance_map(source.run(), result.regressors, base=base,
                                          mask=brain, progress=progress)
            return rec, result, vmap, base is not None, note

        return self.runner.start(
            "RETROICOR partial R\u00b2 map", job,
            lambda out: self._on_computed(paths, source, brain, choice, *out))

    def _on_computed(self, paths, source, brain, choice, recording, result, vmap,
                     with_task: bool, note) -> None:
        first = self.recording is None or self.recording_paths != paths
        self.recording, self.recording_paths = recording, paths
        if self.peaks is None or first:
            self.detected = result.peaks
            self.n_added = self.n_removed = 0
            self.result = None
            self._set_peaks(result.peaks, recentre=True)
        self.result, self.variance = result, vmap
        _, self.r2_limits = show_r2_map(self.ctx.viewer, vmap, source,
                                        result.orders.n_regressors, brain)
        self.save_button.setEnabled(True)
        r2 = vmap.partial_r2[np.isfinite(vmap.partial_r2)]
        low, high = self.r2_limits
        o = result.orders
        peaks = result.peaks
        text = (
            f"<b>{len(result.columns)}</b> regressors ({o.cardiac} cardiac, {o.respiratory} "
            f"respiratory, {o.interaction} interaction) at "
            f"{'slice ' + str(choice.index) if choice.index is not None else 'every slice'}, "
            f"{choice.time:.3f} s into each TR; {peaks.times.size} beats"
            f"{' (corrected)' if peaks.source == 'user' else ''}.<br>"
            f"Partial R\u00b2 over {r2.size:,} voxels"
            f"{' (brain mask)' if brain is not None else ''}, base model drift"
            f"{' + task' if with_task else ''}: median <b>{np.median(r2):.3f}</b>, 95th "
            f"percentile <b>{np.percentile(r2, 95):.3f}</b>. Shown from {low:.3f} (reached by "
            f"white noise with p 0.05 anywhere in the map; {100 * np.mean(r2 > low):.0f} % of "
            f"voxels above) to {high:.3f}."
        )
        if note:
            text += "<br>" + coloured(note, WARN_COLOUR)
        self.status.setText(text)

    def save_regressors(self, path=None) -> Path | None:
        """Write the regressors as a TSV (atomic; asks before replacing a file)."""
        if self.result is None:
            return None
        try:
            default = None
            if path is None:
                source = self.ctx.run_source()
                default = (self.ctx.output_dir()
                           / f"{derivative_prefix(source.path)}_desc-retroicor_timeseries.tsv")
            written = self.ctx.save_tsv(
                path, "Save the RETROICOR regressors", default,
                lambda p, overwrite: write_regressors(self.result, p, overwrite=overwrite),
            )
        except MilnaInputError as exc:
            self._refuse(exc)
            return None
        if written is None:
            return None
        self.status.setText(escape(f"Saved {len(self.result.columns)} regressors x "
                                   f"{self.result.n_volumes} volumes to {written}."))
        return written

    # ------------------------------------------------------------------ GLM
    def glm_inputs(self, stack) -> dict:
        """``pain_glm`` keywords for RETROICOR: physio file, peaks, slice.

        Corrected peaks not saved to a file are written to a temporary folder that
        ``stack`` (an ExitStack) removes when the GLM is done.

        Raises
        ------
        MilnaInputError
        """
        physio, sidecar = self._paths()
        if sidecar != sidecar_path(physio):
            raise input_error(sidecar, "is not next to the physio file; the GLM reads the "
                                       f"sidecar {sidecar_path(physio).name}")
        choice = self.slice_choice()
        out = {"physio": physio, "slice_index": choice.index, "slice_time": choice.time}
        if self.peaks is not None and self.peaks.source == "user" \
                and self.recording_paths == (physio, sidecar):
            path = self.peaks_file
            if path is None:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="milna-peaks-"))
                path = write_peak_times(self.peaks, Path(folder) / "corrected_peaks.tsv")
            out["peaks"] = path
        return out

    def _refuse(self, exc: MilnaInputError) -> None:
        self.status.setText(coloured(str(exc), "#ff6b6b"))
        self.ctx.notify("error", str(exc))
