"""The viewer's controls: display, crosshair, orthogonal views, statistical threshold, figures.

The display is the plane, the neurological / radiological convention and the display
space; the figures are the colour and scale bars, "Save figure" and the lightbox. The
Viewer tab of the milna panel and the "Brainstem viewer" dock show them.
"""

from __future__ import annotations

from qtpy.QtWidgets import QCheckBox, QVBoxLayout

from ..._napari.viewer_state import ViewerState, unwrap_viewer
from ..panel.dock_layout import ViewerWidget, add_sections, hbox, vbox
from .cursor_overlay import OVERLAY_NAME, show_cursor
from .cursor_overlay import _overlays as _scene_overlays
from .cursor_status import CursorStatus
from .display_controls import DisplayControls
from .figure_controls import FigureControls
from .lightbox_panel import LightboxPanel
from .orientation_labels import OrientationLabels
from .ortho_views import OrthoViews
from .stat_threshold import StatThresholdControls


def click_sets_cursor(viewer, event):
    """Mouse callback: a click (press and release without dragging) moves the cursor there.

    Only in pan / zoom mode, so painting and drawing are untouched. The cursor is the
    study session's (world mm); the dims point -- the slice shown in the other planes --
    follows it. The view is not re-centred.
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
    for axis in viewer.dims.displayed:
        point[axis] = start[axis]
    state = ViewerState.of(viewer)
    state.go_to_world(state.world_point(point), center=False)


def install_cursor_click(viewer) -> None:
    """Add :func:`click_sets_cursor` to the viewer once."""
    if click_sets_cursor not in viewer.mouse_drag_callbacks:
        viewer.mouse_drag_callbacks.append(click_sets_cursor)


def install_viewer_links(viewer) -> OrientationLabels:
    """What every viewer of napari-milna has once a milna widget is open (each once).

    The crosshair, click-to-cursor, the anatomical letters on the canvas edges and the
    session cursor in napari's status bar. Returns the letters.
    """
    viewer = unwrap_viewer(viewer)
    if _scene_overlays(viewer).get(OVERLAY_NAME) is None:
        show_cursor(viewer, True)
    install_cursor_click(viewer)
    CursorStatus.install(viewer)
    return OrientationLabels.install(viewer)


class ViewerControls(ViewerWidget):
    """Display, crosshair / orthogonal views, statistical threshold, figures and lightbox."""

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.orientation = install_viewer_links(napari_viewer)
        self.display = DisplayControls(napari_viewer)
        self.crosshair = QCheckBox("Cursor crosshair")
        overlay = _scene_overlays(self.viewer).get(OVERLAY_NAME)
        self.crosshair.setChecked(overlay is None or overlay.visible)
        self.crosshair.toggled.connect(self._on_crosshair)
        self.ortho = QCheckBox("Orthogonal views")
        self.ortho.setToolTip(
            "Axial, coronal and sagittal views linked at one cursor (built the first time, "
            "then shown and hidden)"
        )
        self.orthogonal = OrthoViews.of(napari_viewer)
        self.ortho.setChecked(self.orthogonal.shown)
        self.ortho.toggled.connect(self._on_ortho)
        self.orthogonal.shown_changed.connect(self._on_ortho_shown)
        self.stats = StatThresholdControls(napari_viewer)
        self.figures = FigureControls(napari_viewer)
        self.lightbox = LightboxPanel(napari_viewer, self.figures)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sections = add_sections(
            layout,
            (
                ("display", "Display", vbox(self.display, hbox(self.crosshair, self.ortho)), True),
                ("stats", "Statistical map", self.stats, True),
                ("figures", "Figures", self.figures.native, True),
                ("lightbox", "Lightbox", self.lightbox, False),
            ),
        )

    def _on_crosshair(self, checked: bool) -> None:
        show_cursor(self.viewer, checked)
        for model in self.orthogonal.models():  # shown or hidden
            show_cursor(model, checked)

    def _on_ortho(self, checked: bool) -> None:
        shown = self.orthogonal.set_shown(checked)
        if shown != checked:
            self._on_ortho_shown(shown)

    def _on_ortho_shown(self, shown: bool) -> None:
        try:
            self.ortho.blockSignals(True)
            self.ortho.setChecked(shown)
            self.ortho.blockSignals(False)
        except RuntimeError:  # these controls were closed
            self.orthogonal.shown_changed.disconnect(self._on_ortho_shown)
