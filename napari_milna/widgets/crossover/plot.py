"""Paired-lines plot of one ROI: placebo -> drug per subject, with group means and 95 % CIs."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from ..panel.plot_style import install_save_plot, style_axes

#: Colours on napari's dark theme: drug up warm, drug down cool (the stat ramps' colours).
STYLE = {
    "facecolor": "#262930",
    "axes": "#1e2027",
    "text": "#d6d6d6",
    "grid": "#3b3f4a",
    "up": "#ff9b3d",
    "down": "#4ec9ff",
    "mean": "#ffffff",
    "highlight": "#ffe14d",
}


def format_p(p, digits: int = 3, compact: bool = False) -> str:
    """``0.0123`` / ``4.9e-05`` / ``n/a`` (``digits`` significant digits above 0.001).

    ``compact`` writes small p without the exponent's padding (``4.9e-5``), for tables.
    """
    if p is None or not np.isfinite(p):
        return "n/a"
    if p >= 1e-3:
        return f"{p:.{digits}g}"
    if compact:
        mantissa, exponent = f"{p:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{p:.2g}"


class PairedLinesPlot(QWidget):
    """Matplotlib canvas showing one ROI's per-subject placebo and drug values.

    Attributes
    ----------
    shown : dict or None
        What is drawn (ROI name, x / y of every subject line, means and CIs), for tests
        and exports.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.figure = Figure(figsize=(3.6, 3.0), dpi=100, facecolor=STYLE["facecolor"])
        self.canvas = FigureCanvasQTAgg(self.figure)
        install_save_plot(self.canvas, "paired_lines")
        self.canvas.setMinimumHeight(260)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.axes = self.figure.add_subplot(111)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.shown: dict | None = None
        self.clear("Load a study table and ROIs to plot paired values.")

    def _style(self) -> None:
        ax = self.axes
        style_axes(ax, face=STYLE["axes"], spine=STYLE["grid"], labelsize=8)
        ax.grid(axis="y", color=STYLE["grid"], lw=0.6)
        ax.set_axisbelow(True)

    def clear(self, message: str = "") -> None:
        """Empty plot with a message."""
        self.shown = None
        ax = self.axes
        ax.clear()
        self._style()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, message, ha="center", va="center", color=STYLE["text"], fontsize=8,
                wrap=True, transform=ax.transAxes)
        self.canvas.draw_idle()

    def show_roi(self, stats, ylabel: str = "effect", highlight: str | None = None) -> None:
        """Draw the paired lines of ``stats`` (a ``RoiStats`` of the crossover core).

        Parameters
        ----------
        stats : RoiStats
        ylabel : str
            What the values are (e.g. ``pain - baseline``).
        highlight : str, optional
            Subject drawn on top in a highlight colour.
        """
        ax = self.axes
        ax.clear()
        self._style()
        placebo = np.asarray(stats.placebo, float)
        drug = np.asarray(stats.drug, float)
        lines = []
        for subject, p, d in zip(stats.subjects, placebo, drug):
            lines.append((subject, float(p), float(d)))
            if subject == highlight:
                continue
            colour = STYLE["up"] if d > p else STYLE["down"]
            ax.plot([0, 1], [p, d], color=colour, lw=1.1, alpha=0.7, marker="o", ms=3.5,
                    mec="none", zorder=2)
        if highlight in stats.subjects:
            i = stats.subjects.index(highlight)
            ax.plot([0, 1], [placebo[i], drug[i]], color=STYLE["highlight"], lw=2.6, marker="o",
                    ms=6, zorder=4)
            ax.annotate(highlight, (1, drug[i]), xytext=(6, 0), textcoords="offset points",
                        color=STYLE["highlight"], fontsize=8, va="center")
        means = {}
        for x, which, offset in ((0, "placebo", -0.16), (1, "drug", 0.16)):
            mean, (lo, hi) = stats.mean_ci(which)
            means[which] = (mean, lo, hi)
            ax.errorbar([x + offset], [mean], yerr=[[mean - lo], [hi - mean]], fmt="s",
                        color=STYLE["mean"], ms=7, capsize=4, lw=1.8, zorder=5,
                        label="mean, 95% CI" if x == 0 else None)
        ax.plot([-0.16, 1.16], [means["placebo"][0], means["drug"][0]], color=STYLE["mean"],
                lw=2.2, zorder=5)
        ax.axhline(0.0, color=STYLE["grid"], lw=1.0, ls="--", zorder=1)
        ax.set_xlim(-0.45, 1.45)
        ax.set_xticks([0, 1])
        ax.set_xticklabels(["placebo", "drug"], fontsize=9, color=STYLE["text"])
        ax.set_ylabel(ylabel, fontsize=8)
        legend = ax.legend(loc="best", fontsize=7, frameon=True, facecolor=STYLE["axes"],
                           edgecolor=STYLE["grid"], labelcolor=STYLE["text"])
        legend.set_zorder(6)
        lo, hi = stats.ci95
        ax.set_title(
            f"{stats.name}: drug - placebo = {stats.mean_difference:+.2f} "
            f"[{lo:+.2f}, {hi:+.2f}]\n"
            f"t({stats.df}) = {stats.t:.2f}, p = {format_p(stats.p)}, dz = {stats.dz:+.2f}\n"
            f"p perm = {format_p(stats.p_perm)}, p Wilcoxon = {format_p(stats.p_wilcoxon)}, "
            f"p Holm = {format_p(stats.p_holm)}",
            fontsize=8, loc="left",
        )
        self.figure.tight_layout(pad=0.6)
        self.canvas.draw_idle()
        self.shown = {"roi": stats.name, "lines": lines, "means": means, "highlight": highlight}
