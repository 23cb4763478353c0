"""Plot of ROI mean time series against the CSF mean (z-scored, dark theme)."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..._napari.roi_layers import roi_colour
from ..panel.plot_style import PLOT_STYLE, dark_figure, legend_style, style_axes
from .layers import hex_colour

#: Colour of the CSF line.
CSF_COLOUR = "#b0b0b0"


def zscore(series) -> np.ndarray | None:
    """(x - mean) / std (ddof 0); None for a series without finite variance."""
    x = np.asarray(series, dtype=float)
    if x.size == 0 or not np.all(np.isfinite(x)):
        return None
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else None


def line_colour(i: int, name: str) -> str:
    """Colour of ROI line ``i``: the ROI workbench colour of its name (palette by position)."""
    return hex_colour(roi_colour(i + 1, name))


class QCPlot(QWidget):
    """Z-scored ROI mean time series and the CSF mean, with a legend.

    The legend gives each ROI's Pearson correlation with the CSF mean series.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.figure, self.canvas = dark_figure((3.6, 2.2), min_height=210,
                                               save_name="qc_roi_csf_series")
        self.axes = self.figure.add_subplot(111)
        QVBoxLayout(self).addWidget(self.canvas)
        self.layout().setContentsMargins(0, 0, 0, 0)
        #: The caption over the plot (what is drawn, what is not).
        self.caption = ""
        #: What is drawn: label -> z-scored series (for tests and export).
        self.lines: dict[str, np.ndarray] = {}
        self._style()
        self.canvas.draw_idle()

    def _style(self) -> None:
        style_axes(self.axes)

    def show_series(self, roi_series: dict, csf_series, tr: float | None) -> None:
        """Draw each ROI's mean series and the CSF mean, z-scored.

        Parameters
        ----------
        roi_series : dict of str to ndarray
        csf_series : ndarray or None
        tr : float or None
            Seconds per volume (x axis in seconds when known).
        """
        ax = self.axes
        ax.clear()
        self._style()
        self.lines = {}
        csf = zscore(csf_series) if csf_series is not None else None
        n = max([len(s) for s in roi_series.values()] + [0 if csf is None else len(csf)])
        t = np.arange(n) * (tr or 1.0)
        if csf is not None:
            ax.plot(t[: len(csf)], csf, color=CSF_COLOUR, lw=1.6, ls="--", label="CSF mean")
            self.lines["CSF mean"] = csf
        skipped = []
        for i, (name, series) in enumerate(roi_series.items()):
            z = zscore(series)
            if z is None:
                skipped.append(name)
                continue
            label = name
            if csf is not None:
                label += f" (r={np.corrcoef(z, csf)[0, 1]:.2f})"
            ax.plot(t[: len(z)], z, color=line_colour(i, name), lw=1.0, label=label)
            self.lines[name] = z
        ax.set_xlabel("time (s)" if tr else "volume", fontsize=7)
        ax.set_ylabel("z", fontsize=7)
        if self.lines:
            legend = ax.legend(
                loc="upper right", ncol=min(3, len(self.lines)), handlelength=1.5,
                columnspacing=1.0, **legend_style(fontsize=7, framealpha=0.75),
            )
            legend.set_draggable(True)
            top = max(float(np.max(np.abs(z))) for z in self.lines.values())
            ax.set_ylim(-top * 1.05, top * 1.05 + 0.35 * top * (1 + len(self.lines) // 3))
        text = "ROI means, z-scored; r: correlation with the CSF mean"
        if csf is None:
            text = "ROI means, z-scored (no CSF signal: choose a CSF map)"
        if skipped:
            text += f". Not drawn (no voxel or no variance): {', '.join(skipped)}"
        self.caption = text
        ax.set_title(text, fontsize=7, loc="left", wrap=True, color=PLOT_STYLE["text"])
        self.figure.tight_layout(pad=0.4)
        self.canvas.draw_idle()
