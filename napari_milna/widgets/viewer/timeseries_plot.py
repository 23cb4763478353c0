"""Time series at the cursor for 4D runs, read in a worker thread.

The cursor is the study session's (:attr:`StudySession.cursor_mm`), the run the
session's run (else the top run layer).
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState
from ..panel.links import connect_while, debounce_timer, restart
from ..panel.plot_style import PLOT_STYLE, install_save_plot, style_axes
from .cursor_panel import format_world


def run_layers(viewer) -> list:
    """Visible napari-milna layers that show a 4D run."""
    return [lay for lay in viewer.layers if (s := source_of(lay)) is not None and s.is_run]


class TimeSeriesPlot(QWidget):
    """Plot of the run's signal at the cursor voxel (click to move the cursor).

    Reading one voxel across a compressed run touches every volume, so it runs in a
    worker thread; a newer request supersedes an older one.
    """

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.state = ViewerState.of(viewer)
        self.session = StudySession.of(viewer)
        self.figure = Figure(figsize=(3.2, 1.6), dpi=100, facecolor=PLOT_STYLE["facecolor"])
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(150)
        install_save_plot(self.canvas, "timeseries")
        self.axes = self.figure.add_subplot(111)
        self.status = QLabel("Click in the image to plot the run at that voxel.")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        layout.addWidget(self.status)
        self._request = 0
        self._worker = None
        self._closed = False
        self.destroyed.connect(self._mark_closed)
        self.last_series: np.ndarray | None = None
        #: World mm of the series shown (or being read).
        self.last_world: np.ndarray | None = None
        self._timer = debounce_timer(self, 150, self.update_plot)
        connect_while(self, (self.session.cursor_changed, self._on_point),
                      (self.session.run_changed, self._on_point))
        self._style_axes()

    def _mark_closed(self, *args) -> None:
        self._closed = True

    def _style_axes(self) -> None:
        style_axes(self.axes)

    def _on_point(self, *args) -> None:
        if not self._closed and not restart(self._timer):
            self._closed = True

    def run_layer(self):
        """The run plotted: the session's run, else the top run layer (or None)."""
        layers = run_layers(self.viewer)
        run = self.session.run
        if run is not None and run in layers:
            return run
        return layers[-1] if layers else None

    def update_plot(self) -> None:
        """Start reading the time series of the run at the session cursor."""
        from napari.qt.threading import thread_worker

        layer = self.run_layer()
        if layer is None or self.viewer.dims.ndim < 3:
            return
        src = source_of(layer)
        world = np.array(self.session.cursor_mm, dtype=float)
        self.last_world = world
        ijk = tuple(int(v) for v in src.grid.to_index(world))
        if not src.grid.contains_index(ijk):
            self.status.setText(f"{layer.name}: cursor outside the run's field of view.")
            return
        self._request += 1
        request = self._request
        run = src.source.run()
        tr = src.source.tr

        @thread_worker
        def read():
            return run.timeseries(ijk)

        worker = read()
        worker.returned.connect(
            lambda series: self._show(request, layer.name, ijk, world, series, tr)
        )
        self.status.setText(f"Reading {layer.name} at voxel {ijk} ...")
        self._worker = worker
        worker.start()

    def _show(self, request, name, ijk, world, series, tr) -> None:
        if request != self._request or self._closed:
            return
        try:
            self._draw(name, ijk, world, series, tr)
        except RuntimeError:  # the dock was closed while the worker read the run
            self._closed = True

    def _draw(self, name, ijk, world, series, tr) -> None:
        self.last_series = np.asarray(series)
        ax = self.axes
        ax.clear()
        self._style_axes()
        t = np.arange(series.size) * (tr or 1.0)
        ax.plot(t, series, color=PLOT_STYLE["line"], lw=1)
        if self.viewer.dims.ndim == 4:
            current = int(round(self.viewer.dims.point[0]))
            if 0 <= current < series.size:
                ax.axvline(t[current], color=PLOT_STYLE["marker"], lw=0.8)
        ax.set_xlabel("time (s)" if tr else "volume", fontsize=7)
        self.figure.tight_layout(pad=0.4)
        self.canvas.draw_idle()
        mean, sd = float(series.mean()), float(series.std())
        tsnr = mean / sd if sd > 0 else 0.0
        self.status.setText(
            f"{name} voxel {ijk} ({format_world(world)}): mean {mean:.1f}, "
            f"sd {sd:.2f}, tSNR {tsnr:.1f}"
        )
