"""The cardiac peaks of the RETROICOR panel: see them on the pulse trace, correct them by hand.

*Detect peaks* (neurokit2, through the panel's job runner) shows the pulse trace with
the beats and the flagged intervals (missed / extra beats); a click near a beat removes
it, a click elsewhere adds one at the pulse maximum nearby; corrected lists load and
save (TSV, ``time`` column); *Revert* goes back to the detected beats. Every change by
hand emits :attr:`PeakEditor.edited`: the panel then rebuilds the regressors from the
corrected beats (the heart rate follows them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ...core.errors import MilnaInputError
from ...core.io.tables import derivative_prefix
from ...core.preproc.physio import (
    CardiacPeaks,
    peaks_from_times,
    read_bids_physio,
    read_peak_times,
    refine_peaks,
    write_peak_times,
)
from ..panel.status import WARN_COLOUR, StatusLabel, coloured, escape
from .plots import PulsePlot

#: A click closer than this (s) to a beat removes it; elsewhere it adds one.
CLICK_TOLERANCE_S = 0.15
#: An added beat moves to the pulse maximum within this half-window (s).
ADD_SEARCH_S = 0.15


class PeakEditor(QWidget):
    """Pulse trace, beats and their correction by hand.

    Parameters
    ----------
    ctx : PreprocContext
    form : PhysioForm
        The physio file and sidecar.
    status : StatusLabel
        The panel's status line.
    refuse : callable
        ``refuse(MilnaInputError)``: the panel's way to show bad input.

    Attributes
    ----------
    recording : PhysioRecording or None
    recording_paths : (Path, Path) or None
        The physio file and sidecar the recording was read from.
    detected, peaks : CardiacPeaks or None
        The beats found by detection and the beats in use (corrected by hand).
    """

    #: The beats were changed by hand (added, removed, loaded or reverted).
    edited = Signal()

    def __init__(self, ctx, form, status: StatusLabel, refuse, parent=None):
        super().__init__(parent)
        self.ctx, self.form, self.status, self.refuse = ctx, form, status, refuse
        self.detect_button = QPushButton("Detect peaks")
        self.load_peaks_button = QPushButton("Load\u2026")
        self.save_peaks_button = QPushButton("Save\u2026")
        self.load_peaks_button.setToolTip("Use corrected peak times from a file")
        self.save_peaks_button.setToolTip("Save the peak times in use (TSV, time column)")
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
        self.peaks_label = StatusLabel("Detect the cardiac peaks to see the pulse trace.")
        buttons = QHBoxLayout()
        for b in (self.detect_button, self.load_peaks_button, self.save_peaks_button,
                  self.revert_button):
            buttons.addWidget(b)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addWidget(self.forward_button)
        nav.addWidget(self.flag_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.plot)
        layout.addLayout(nav)
        layout.addWidget(self.peaks_label)

        self.recording = None
        self.recording_paths: tuple | None = None
        self.detected: CardiacPeaks | None = None
        self.peaks: CardiacPeaks | None = None
        self.peaks_file: Path | None = None
        self.n_added = self.n_removed = 0
        self.load_peaks_button.clicked.connect(self._load_peaks_dialog)
        self.save_peaks_button.clicked.connect(lambda: self.save_peaks())
        self.revert_button.clicked.connect(self.revert)
        self.plot.clicked.connect(self.toggle_peak)
        self.back_button.clicked.connect(lambda: self.plot.set_window(
            self.plot.start - 0.8 * self.plot.window_s))
        self.forward_button.clicked.connect(lambda: self.plot.set_window(
            self.plot.start + 0.8 * self.plot.window_s))
        self.flag_button.clicked.connect(self.next_flag)
        self._update_buttons()

    # ------------------------------------------------------------------ state
    def forget(self) -> None:
        """The physio file changed: drop the recording and its beats."""
        if self.recording_paths is not None and self.recording_paths != self.form.paths(False):
            self.recording = self.recording_paths = None
            self.detected = self.peaks = None
            self.peaks_file = None
            self.plot.reset()
            self.plot.setVisible(False)
            self.peaks_label.setText("Detect the cardiac peaks of this file.")
            self._update_buttons()

    def current_recording(self, paths):
        """The recording read from ``paths`` if it is the one shown, else None."""
        return self.recording if self.recording_paths == paths else None

    def set_detected(self, paths, recording, peaks: CardiacPeaks) -> None:
        """Show a recording and the beats detected in it."""
        self.recording, self.recording_paths = recording, paths
        self.detected = peaks
        self.n_added = self.n_removed = 0
        self.peaks_file = None
        self.set_peaks(peaks, recentre=True)

    def set_peaks(self, peaks: CardiacPeaks, recentre: bool = False) -> None:
        """Use ``peaks`` and show them on the pulse trace."""
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

    # ------------------------------------------------------------------ edits by hand
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
        self._edit(times[keep], removed=1)

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
        self._edit(np.append(self.peaks.times, t_new), added=1)

    def _edit(self, times, added: int = 0, removed: int = 0) -> None:
        try:
            peaks = peaks_from_times(times)
        except MilnaInputError as exc:
            self.refuse(exc)
            return
        self.n_added += added
        self.n_removed += removed
        self.peaks_file = None
        self.set_peaks(peaks)
        self.edited.emit()

    def revert(self) -> None:
        """Back to the detected peaks."""
        if self.detected is not None:
            self.n_added = self.n_removed = 0
            self.peaks_file = None
            self.set_peaks(self.detected)
            self.edited.emit()

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

    # ------------------------------------------------------------------ files
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
            self.refuse(exc)
            return False
        self.n_added = self.n_removed = 0
        self.peaks_file = Path(path)
        if self.recording is None:
            try:
                paths = self.form.paths()
                self.recording, self.recording_paths = read_bids_physio(*paths), paths
            except MilnaInputError:
                pass
        self.set_peaks(peaks, recentre=True)
        self.status.setText(escape(f"{peaks.times.size} peak times read from {Path(path).name}."))
        self.edited.emit()
        return True

    def save_peaks(self, path=None) -> Path | None:
        """Write the current peak times as a TSV (``time`` column), asking before replacing."""
        if self.peaks is None:
            return None
        peaks = self.peaks
        written = self.ctx.save_tsv(
            path, "Save the cardiac peak times",
            lambda: self.ctx.output_dir() / self._peaks_name(),
            lambda p, overwrite: write_peak_times(peaks, p, overwrite=overwrite), self.refuse)
        if written is not None:
            self.peaks_file = written
            self.status.setText(escape(f"Saved {peaks.times.size} peak times to {written}."))
        return written

    def _peaks_name(self) -> str:
        physio = self.form.physio.path()
        prefix = derivative_prefix(physio) if physio is not None else "physio"
        prefix = prefix.removesuffix("_physio")
        return f"{prefix}_desc-cardiac_peaks.tsv"

    def user_peaks_file(self, paths, stack) -> Path | None:
        """A file of the beats corrected by hand for ``paths`` (None: the detected ones).

        Beats not saved to a file are written to a temporary folder that ``stack`` (an
        ExitStack) removes.
        """
        import tempfile

        if self.peaks is None or self.peaks.source != "user" or self.recording_paths != paths:
            return None
        if self.peaks_file is not None:
            return self.peaks_file
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="milna-peaks-"))
        return write_peak_times(self.peaks, Path(folder) / "corrected_peaks.tsv")
