"""The main dock: display, statistical thresholds, cursor read-out and time series."""

from __future__ import annotations

from qtpy.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from ..._napari.viewer_state import ViewerState
from ..panel.dock_layout import ScrollingDock, add_sections, hbox, vbox
from .cursor_overlay import show_cursor
from .cursor_panel import CursorPanel
from .display_controls import DisplayControls
from .orientation_labels import OrientationLabels
from .ortho_views import set_orthogonal_views, side_viewer_models
from .stat_threshold import StatThresholdControls
from .timeseries_plot import TimeSeriesPlot


def click_sets_cursor(viewer, event):
    """Mouse callback: a click (press and release without dragging) moves the cursor there.

    Only in pan / zoom mode, so painting and drawing are untouched. The cursor is
    napari's dims point: the slice shown in the other planes and the read-out position.
    """
    layer = viewer.layers.selection.active
    mode = str(getattr(layer, "mode", "pan_zoom")) if layer is not None else "pan_zoom"
    if event.button != 1 or mode not in ("pan_zoom", "Mode.PAN_ZOOM"):
        return
    start = tuple(event.position)
    dragged = False
    yield
    while event.type == "mouse_move":
        dragged = True
        yield
    if dragged or len(start) < 3:
        return
    point = list(viewer.dims.point)
    displayed = viewer.dims.displayed
    for axis in displayed:
        point[axis] = start[axis]
    viewer.dims.point = tuple(point)


def install_cursor_click(viewer) -> None:
    """Add :func:`click_sets_cursor` to the viewer once."""
    if click_sets_cursor not in viewer.mouse_drag_callbacks:
        viewer.mouse_drag_callbacks.append(click_sets_cursor)


class ViewerDock(ScrollingDock):
    """Brainstem viewer dock of napari-milna.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.state = ViewerState.of(napari_viewer)
        self.display = DisplayControls(napari_viewer)
        self.crosshair = QCheckBox("Cursor crosshair")
        self.crosshair.setChecked(True)
        self.crosshair.toggled.connect(self._on_crosshair)
        show_cursor(napari_viewer, True)
        self.ortho = QCheckBox("Orthogonal views")
        self.ortho.setToolTip("Axial, coronal and sagittal views linked at one cursor")
        self.ortho.toggled.connect(self._on_ortho)
        self.stats = StatThresholdControls(napari_viewer)
        self.cursor = CursorPanel(napari_viewer)
        self.timeseries = TimeSeriesPlot(napari_viewer)
        self.orientation = OrientationLabels(napari_viewer)
        install_cursor_click(napari_viewer)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections = add_sections(
            layout,
            (
                ("display", "Display", vbox(self.display, hbox(self.crosshair, self.ortho)), True),
                ("stats", "Statistical map", self.stats, True),
                ("cursor", "Cursor", self.cursor, True),
                ("timeseries", "Time series at cursor", self.timeseries, True),
            ),
        )
        layout.addStretch(1)
        self.set_body(body)
        napari_viewer.layers.events.inserted.connect(self.fit_width)

    def _on_crosshair(self, checked: bool) -> None:
        show_cursor(self.viewer, checked)
        for model in side_viewer_models(self.viewer):
            show_cursor(model, checked)

    def _on_ortho(self, checked: bool) -> None:
        shown = set_orthogonal_views(self.viewer, checked)
        if shown != checked:
            self.ortho.blockSignals(True)
            self.ortho.setChecked(shown)
            self.ortho.blockSignals(False)
