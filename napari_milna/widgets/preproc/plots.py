"""Plots of the preprocessing tab: pulse, RVT and heart rate, FD, CSF signal.

The pulse trace with its beats, RVT and heart rate raw and convolved, framewise
displacement, the CSF signal: dark matplotlib canvases in the style of the panel's
time-series plot.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from ..panel.plot_style import PLOT_STYLE, dark_figure, legend_style, style_axes

#: Colours on the dark background.
COLOURS = {
    "trace": "#9ecbff",
    "peak": PLOT_STYLE["line"],
    "missed": "#ff6b6b",
    "extra": "#c77dff",
    "threshold": "#ff6b6b",
    "scrub": "#ff6b6b",
    "fd": PLOT_STYLE["line"],
    "csf": PLOT_STYLE["marker"],
    "task": "#ffb000",
    "rvt": "#7ee081",
    "hr": "#ff8fa3",
    "convolved": "#ffb000",
}


class DarkPlot(QWidget):
    """A matplotlib canvas with one dark-themed axes."""

    #: The file name "Save" suggests (without suffix): what the plot shows.
    save_name = "plot"

    def __init__(self, height: int = 150, parent=None):
        super().__init__(parent)
        self.figure, self.canvas = dark_figure((3.4, height / 100), height,
                                               save_name=self.save_name)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.canvas.setFixedHeight(height)
        self.axes = self.figure.add_subplot(111)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.style_axes()
        self.setVisible(False)  # shown with its first data (see finish)

    def style_axes(self) -> None:
        """Dark face, light ticks and labels."""
        style_axes(self.axes)

    def reset(self) -> None:
        """Clear the axes and restyle them."""
        self.axes.clear()
        self.style_axes()

    def finish(self) -> None:
        """Lay out, redraw and show."""
        self.setVisible(True)
        self.figure.tight_layout(pad=0.4)
        self.canvas.draw_idle()

    def legend(self, **kwargs) -> None:
        """A small legend readable on the dark face."""
        return self.axes.legend(**legend_style(**kwargs))


class PulsePlot(DarkPlot):
    """The cardiac trace with its beats and the flagged (missed / extra) intervals.

    Shows a window of ``window_s`` seconds; a left click emits :attr:`clicked` with
    the time under the mouse (the panel adds or removes a peak there).
    """

    save_name = "cardiac_peaks"
    clicked = Signal(float)

    def __init__(self, window_s: float = 20.0, parent=None):
        super().__init__(height=170, parent=parent)
        self.window_s = window_s
        self.start = 0.0
        self.times: np.ndarray | None = None
        self.span = (0.0, 1.0)
        self.canvas.mpl_connect("button_press_event", self._on_press)

    def _on_press(self, event) -> None:
        if event.inaxes is self.axes and event.button == 1 and event.xdata is not None:
            self.clicked.emit(float(event.xdata))

    def show_trace(self, times: np.ndarray, trace: np.ndarray, peaks, run_span=None) -> None:
        """Draw the trace, the beats of ``peaks`` (CardiacPeaks) and its flagged intervals."""
        self.times = times
        self.span = (float(times[0]), float(times[-1]))
        self.reset()
        ax = self.axes
        ax.plot(times, trace, color=COLOURS["trace"], lw=0.7, label="pulse")
        if run_span is not None:
            for edge in run_span:
                ax.axvline(edge, color="#888888", lw=0.8, ls=":")
        if peaks is not None and peaks.times.size:
            idx = np.clip(np.rint((peaks.times - times[0]) / (times[1] - times[0])).astype(int),
                          0, trace.size - 1)
            ax.plot(peaks.times, trace[idx], "v", color=COLOURS["peak"], ms=4, ls="none",
                    label=f"beats ({peaks.times.size})")
            shown = set()
            for flag in peaks.flagged:
                kind = flag.kind
                ax.axvspan(flag.start, flag.end, color=COLOURS[kind], alpha=0.3,
                           label=f"{kind} beat?" if kind not in shown else None)
                shown.add(kind)
        lo, hi = float(np.min(trace)), float(np.max(trace))
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.35 * (hi - lo))  # room for the legend
        ax.set_xlabel("time from run start (s)", fontsize=7)
        ax.set_yticks([])
        self.legend(loc="upper left", ncol=3)  # the top right holds the Save button
        self.set_window(self.start)

    def set_window(self, start: float) -> None:
        """Show ``window_s`` seconds from ``start``."""
        lo, hi = self.span
        start = float(np.clip(start, lo, max(lo, hi - self.window_s)))
        self.start = start
        self.axes.set_xlim(start, start + self.window_s)
        if self.times is not None:
            self.finish()

    def centre_on(self, t: float) -> None:
        """Show the window centred on time ``t``."""
        self.set_window(t - self.window_s / 2)


class FDPlot(DarkPlot):
    """Framewise displacement per volume, the threshold and the scrubbed volumes."""

    save_name = "framewise_displacement"

    def __init__(self, parent=None):
        super().__init__(height=150, parent=parent)

    def show_fd(self, fd: np.ndarray, threshold: float, scrub: np.ndarray) -> None:
        """Draw FD (mm), the threshold line and markers on scrubbed volumes."""
        self.reset()
        ax = self.axes
        vol = np.arange(fd.size)
        for v in np.flatnonzero(scrub):
            ax.axvspan(v - 0.5, v + 0.5, color=COLOURS["scrub"], alpha=0.25, lw=0)
        ax.plot(vol, fd, color=COLOURS["fd"], lw=0.9, label="FD")
        ax.axhline(threshold, color=COLOURS["threshold"], lw=0.9, ls="--",
                   label=f"threshold {threshold:g} mm")
        hit = fd > threshold
        ax.plot(vol[hit], fd[hit], "o", color=COLOURS["scrub"], ms=3.5, ls="none",
                label=f"scrubbed ({int(scrub.sum())})")
        ax.set_xlim(-0.5, fd.size - 0.5)
        ax.set_ylim(0, max(float(fd.max()), threshold) * 1.4)  # room for the legend
        ax.set_xlabel("volume", fontsize=7)
        ax.set_ylabel("FD (mm)", fontsize=7)
        self.legend(loc="upper left", ncol=3)  # the top right holds the Save button
        self.finish()


class CsfPlot(DarkPlot):
    """The CSF signal (percent change) and the task regressors scaled to it."""

    save_name = "csf_signal"

    def __init__(self, parent=None):
        super().__init__(height=150, parent=parent)

    def show_signal(self, signal: np.ndarray, tr: float, task=None, correlations=None,
                    scrub=None) -> None:
        """Draw the CSF signal and, when given, each task regressor (z-scored to its scale)."""
        self.reset()
        ax = self.axes
        t = np.arange(signal.size) * tr
        mean = float(np.mean(signal))
        pct = 100 * (signal - mean) / mean if mean else signal - mean
        if scrub is not None:
            for v in np.flatnonzero(scrub):
                ax.axvspan(t[v] - tr / 2, t[v] + tr / 2, color=COLOURS["scrub"], alpha=0.2, lw=0)
        ax.plot(t, pct, color=COLOURS["csf"], lw=0.9, label="CSF signal")
        if task is not None:
            sd = float(np.std(pct)) or 1.0
            palette = (COLOURS["task"], "#c77dff", "#7ee081")
            for n, name in enumerate(task.columns):
                col = task[name].to_numpy(dtype=float)
                z = (col - col.mean()) / (col.std() or 1.0)
                r = (correlations or {}).get(str(name))
                label = f"{name} (r = {r:+.2f})" if r is not None and np.isfinite(r) else name
                ax.plot(t, z * sd, color=palette[n % 3], lw=0.8, alpha=0.8, label=label)
        ax.set_xlim(t[0], t[-1])
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # room for the legend
        ax.set_xlabel("time (s)", fontsize=7)
        ax.set_ylabel("% change", fontsize=7)
        self.legend(loc="upper left", ncol=3)  # the top right holds the Save button
        self.finish()


class RvtHrPlot(DarkPlot):
    """RVT and heart rate per volume, raw (left axis) and convolved with the RRF / CRF (right).

    Lines are labelled with the regressor columns: ``rvt``, ``rvt_rrf``, ``hr``, ``hr_crf``.
    """

    save_name = "rvt_heart_rate"

    def __init__(self, parent=None):
        super().__init__(height=210, parent=parent)
        self.lines: dict[str, object] = {}

    def show_regressors(self, rvt_hr, beats_note: str = "") -> None:
        """Draw the four columns of ``rvt_hr`` (RvtHrRegressors) against the sample times."""
        self.figure.clear()
        top, bottom = self.figure.subplots(2, 1, sharex=True)
        self.axes = top
        t = np.asarray(rvt_hr.sample_times, dtype=float)
        rows = ((top, "rvt", "rvt_rrf", "RVT (belt/s)", "RVT * RRF", COLOURS["rvt"]),
                (bottom, "hr", "hr_crf", "HR (bpm)", "HR * CRF", COLOURS["hr"]))
        self.lines = {}
        for ax, raw, conv, unit, conv_name, colour in rows:
            twin = ax.twinx()
            for axis in (ax, twin):
                style_axes(axis)
            self.lines[raw], = ax.plot(t, getattr(rvt_hr, raw), color=colour, lw=0.9,
                                       label=raw)
            self.lines[conv], = twin.plot(t, getattr(rvt_hr, conv), color=COLOURS["convolved"],
                                          lw=0.8, alpha=0.9, label=conv)
            ax.set_ylabel(unit, fontsize=7, color=colour)
            twin.set_ylabel(conv_name, fontsize=7, color=COLOURS["convolved"])
            for axis in (ax, twin):
                lo, hi = axis.get_ylim()
                axis.set_ylim(lo, hi + 0.4 * (hi - lo))  # room for the legend
            handles = [self.lines[raw], self.lines[conv]]
            ax.legend(handles=handles, loc="upper left", ncol=2, **legend_style())
        bottom.set_xlim(t[0], t[-1])
        bottom.set_xlabel("time from run start (s)" + (f"; {beats_note}" if beats_note else ""),
                          fontsize=7)
        self.finish()
