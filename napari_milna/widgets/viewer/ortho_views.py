"""Linked orthogonal views (axial, coronal, sagittal at one cursor) via napari-orthogonal-views.

napari-orthogonal-views adds two side canvases that share the main viewer's layers
and cursor. Its side views follow napari's default axis order; here they are
re-oriented to the anatomical conventions of the main view (superior up, left on
the left in neurological mode) and kept in step when the plane or convention changes.
"""

from __future__ import annotations

from napari.utils.notifications import show_warning
from qtpy.QtCore import QTimer

from ..._napari.compat import camera
from ..._napari.viewer_state import ViewerState
from ...core.io.geometry import plane_layout
from .cursor_overlay import OVERLAY_NAME, show_cursor
from .cursor_overlay import _overlays as _scene_overlays

#: The two planes shown beside each main plane: (right view, bottom view).
COMPANIONS = {
    "axial": ("sagittal", "coronal"),
    "coronal": ("sagittal", "axial"),
    "sagittal": ("coronal", "axial"),
}


def _manager(viewer):
    try:
        from napari_orthogonal_views.ortho_view_manager import _get_manager
    except ImportError:  # pragma: no cover - optional dependency
        return None
    return _get_manager(viewer)


def side_viewer_models(viewer) -> list:
    """The viewer models of the right and bottom side views (empty when hidden)."""
    manager = _manager(viewer)
    if manager is None or not manager.is_shown():
        return []
    models = []
    for widget in (manager.right_widget, manager.bottom_widget):
        container = getattr(widget, "vm_container", None)
        if container is not None:
            models.append(container.viewer_model)
    return models


def orient_side_views(viewer) -> None:
    """Give each side view the dims order and camera orientation of its companion plane."""
    state = ViewerState.of(viewer)
    models = side_viewer_models(viewer)
    if not models or viewer.dims.ndim < 3:
        return
    off = viewer.dims.ndim - 3
    for model, plane in zip(models, COMPANIONS[state.plane]):
        lay = plane_layout(state.space.axcodes, plane, state.radiological)
        order = list(range(off)) + [off + lay.slice_axis, off + lay.row_axis, off + lay.col_axis]
        model.dims.order = tuple(order)
        camera(model).orientation2d = (
            "up" if lay.row_up else "down",
            "right" if lay.col_right else "left",
        )
        model.reset_view()
        model.dims.point = tuple(viewer.dims.point)
        main_cursor = _scene_overlays(viewer).get(OVERLAY_NAME)
        show_cursor(model, main_cursor.visible if main_cursor is not None else True)


def _hide_their_crosshair_option(manager) -> None:
    """Hide napari-orthogonal-views' own crosshair switch: ours follows world mm and flips."""
    from qtpy.QtWidgets import QCheckBox

    controls = getattr(manager, "main_controls_widget", None)
    for box in controls.findChildren(QCheckBox) if controls is not None else ():
        if "cross hair" in box.text().lower():
            box.setChecked(False)
            box.hide()


def _fit_views(viewer) -> None:
    point = tuple(viewer.dims.point)
    viewer.reset_view()
    for model in side_viewer_models(viewer):
        model.reset_view()
    viewer.dims.point = point
    ViewerState.of(viewer).go_to_world(ViewerState.of(viewer).world_point(point))


def set_orthogonal_views(viewer, show: bool) -> bool:
    """Show or hide the linked orthogonal views; returns whether they are shown."""
    manager = _manager(viewer)
    if manager is None:
        show_warning("Orthogonal views need the napari-orthogonal-views package.")
        return False
    if show and not manager.is_shown():
        point = tuple(viewer.dims.point)
        manager.show()
        manager.set_axes(False)
        _hide_their_crosshair_option(manager)
        state = ViewerState.of(viewer)
        if not getattr(manager, "_milna_connected", False):
            state.changed.connect(lambda *_: orient_side_views(viewer))
            viewer.dims.events.order.connect(lambda *_: orient_side_views(viewer))
            manager._milna_connected = True
        viewer.dims.point = point
        orient_side_views(viewer)
        # fit all three views once Qt has laid out the split canvases
        QTimer.singleShot(100, lambda: _fit_views(viewer))
    elif not show and manager.is_shown():
        manager.hide()
    return manager.is_shown()
