"""The "Brainstem viewer" dock: display, statistical thresholds, cursor read-out and time series.

The milna panel (:mod:`napari_milna.widgets.panel.panel`) shows the same parts: the
controls in its Viewer tab, the cursor and time series in its permanent strip. This
dock stays reachable from napari's Plugins menu on its own.
"""

from __future__ import annotations

from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..panel.dock_layout import ScrollingDock, add_sections
from .controls import ViewerControls, click_sets_cursor, install_cursor_click
from .cursor_panel import CursorPanel
from .timeseries_plot import TimeSeriesPlot


class ViewerDock(ScrollingDock):
    """Brainstem viewer dock of napari-milna (built with the viewer)."""

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.controls = ViewerControls(napari_viewer)
        self.display = self.controls.display
        self.crosshair = self.controls.crosshair
        self.ortho = self.controls.ortho
        self.stats = self.controls.stats
        self.orientation = self.controls.orientation
        self.cursor = CursorPanel(napari_viewer)
        self.timeseries = TimeSeriesPlot(napari_viewer)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.controls)
        self.sections = dict(self.controls.sections)
        self.sections.update(
            add_sections(
                layout,
                (
                    ("cursor", "Cursor", self.cursor, True),
                    ("timeseries", "Time series at cursor", self.timeseries, True),
                ),
            )
        )
        layout.addStretch(1)
        self.set_body(body)
        self.cursor.refresh()
        napari_viewer.layers.events.inserted.connect(self.fit_width)


__all__ = ["ViewerDock", "click_sets_cursor", "install_cursor_click"]
