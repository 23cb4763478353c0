"""Linked orthogonal views (axial, coronal, sagittal at one cursor) via napari-orthogonal-views.

napari-orthogonal-views adds two side canvases that share the main viewer's layers
and cursor. Here they are built once, the first time they are asked for, and then
only shown and hidden (building them copies every layer into two viewer models and
takes seconds; showing them again takes milliseconds). The main view keeps the left
part of the canvas area and the two side views are stacked on its right; the side
plugin's own "Controls | Screen Recorder" tabs are not shown. The side views are
re-oriented to the anatomical conventions of the main view (superior up, left on the
left in neurological mode) and kept in step when the plane or convention changes.
"""

from __future__ import annotations

import weakref

from napari.utils.notifications import show_warning
from psygnal import Signal
from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtWidgets import QSplitter

from ..._napari.compat import camera
from ..._napari.per_viewer import OnePerViewer
from ..._napari.viewer_state import ViewerState
from ...core.io.geometry import plane_layout
from .cursor_overlay import OVERLAY_NAME, show_cursor
from .cursor_overlay import _overlays as _scene_overlays

#: The two planes shown beside each main plane: (upper side view, lower side view).
COMPANIONS = {
    "axial": ("sagittal", "coronal"),
    "coronal": ("sagittal", "axial"),
    "sagittal": ("coronal", "axial"),
}
#: Share of the canvas width the side views take when shown.
SIDE_FRACTION = 0.34


def _manager(viewer):
    try:
        from napari_orthogonal_views.ortho_view_manager import _get_manager
    except ImportError:  # pragma: no cover - optional dependency
        return None
    return _get_manager(viewer)


class OrthoViews(OnePerViewer):
    """The orthogonal views of one viewer: built once, then shown and hidden.

    Get it with :meth:`of` (:meth:`existing`: if they were ever asked for);
    :meth:`set_shown` shows or hides them.
    """

    #: Shown (True) or hidden (False).
    shown_changed = Signal(bool)

    def __init__(self, viewer):
        super().__init__(viewer)
        self._manager_ref = None
        self.side: QSplitter | None = None
        self._shown = False

    @property
    def manager(self):
        """napari-orthogonal-views' manager of the viewer (None before the build)."""
        return self._manager_ref() if self._manager_ref is not None else None

    @property
    def built(self) -> bool:
        """True once the side views exist."""
        return self.side is not None

    @property
    def shown(self) -> bool:
        """True while the side views are shown."""
        return self._shown

    def models(self) -> list:
        """The viewer models of the upper and lower side views (empty before the build)."""
        if self.manager is None or not self.built:
            return []
        models = []
        for widget in (self.manager.right_widget, self.manager.bottom_widget):
            container = getattr(widget, "vm_container", None)
            if container is not None:
                models.append(container.viewer_model)
        return models

    # ------------------------------------------------------------------ show / hide
    def set_shown(self, show: bool) -> bool:
        """Show or hide the side views; returns whether they are shown."""
        show = bool(show)
        if show == self._shown:
            return self._shown
        first = show and not self.built
        if first and not self._build():
            return False
        # hidden side views stay oriented (plane, convention) and keep the crosshair state;
        # the splitter keeps their width
        self.side.setVisible(show)
        self._shown = show
        if first:
            orient_side_views(self.viewer)
            splitter = self.manager.h_splitter_top
            total = max(sum(splitter.sizes()), 100)
            side = int(total * SIDE_FRACTION)
            splitter.setSizes([total - side, side])
        self.shown_changed.emit(show)
        return show

    def _build(self) -> bool:
        viewer = self.viewer
        manager = _manager(viewer)
        if manager is None:
            show_warning("Orthogonal views need the napari-orthogonal-views package.")
            return False
        state = ViewerState.of(viewer)
        cursor = state.session.cursor_mm.copy()
        manager.show()  # builds both side views (and moves the dims point to the middle)
        manager.set_axes(False)
        self._manager_ref = weakref.ref(manager)  # the plugin owns it (and the viewer)
        self._arrange(manager)
        ref = weakref.ref(viewer)
        state.changed.connect(lambda *_: orient_side_views(ref()))
        viewer.dims.events.order.connect(lambda *_: orient_side_views(ref()))
        state.go_to_world(cursor, center=False)
        # fit all three views once Qt has laid out the split canvases
        QTimer.singleShot(100, lambda: _fit_views(ref()))
        return True

    def _arrange(self, manager) -> None:
        """Main view on the left, the two side views stacked on its right, no side tabs."""
        right, bottom = manager.right_widget, manager.bottom_widget
        side = QSplitter(Qt.Orientation.Vertical)
        side.setChildrenCollapsible(False)
        manager.h_splitter_top.replaceWidget(manager.h_splitter_top.indexOf(right), side)
        side.addWidget(right)
        side.addWidget(bottom)
        right.show()
        bottom.show()
        manager.h_splitter_bottom.hide()  # its last child: the side plugin's control tabs
        self.side = side
        # put the plugin's layout back before it tears it down when the window closes
        self._restorer = _RestoreOnClose(self, manager.main_window)

    def _restore(self) -> None:
        """Give napari-orthogonal-views its own splitters back (before its clean-up)."""
        manager = self.manager
        if manager is None or self.side is None:
            return
        try:
            right, bottom = manager.right_widget, manager.bottom_widget
            # hidden first: moving a shown GL canvas paints it, and the window is closing
            right.hide()
            bottom.hide()
            manager.h_splitter_bottom.insertWidget(0, bottom)
            manager.h_splitter_top.replaceWidget(manager.h_splitter_top.indexOf(self.side), right)
            manager.h_splitter_bottom.show()
        except RuntimeError:  # already deleted with the window
            pass
        self.side = None
        self._shown = False


class _RestoreOnClose(QObject):
    """Runs before napari-orthogonal-views' own close filter (filters run newest first)."""

    def __init__(self, views: OrthoViews, window):
        super().__init__(window)
        self._views = weakref.ref(views)
        window.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        """Restore the plugin's layout when the window closes."""
        if event.type() == QEvent.Type.Close:
            views = self._views()
            if views is not None:
                views._restore()
        return False


def side_viewer_models(viewer) -> list:
    """The viewer models of the side views (empty while hidden)."""
    views = OrthoViews.existing(viewer)
    return views.models() if views is not None and views.shown else []


def orient_side_views(viewer) -> None:
    """Give each side view the dims order and camera orientation of its companion plane."""
    if viewer is None:
        return
    state = ViewerState.of(viewer)
    views = OrthoViews.existing(viewer)
    models = views.models() if views is not None else []
    if not models or viewer.dims.ndim < 3:
        return
    off = viewer.dims.ndim - 3
    main_cursor = _scene_overlays(viewer).get(OVERLAY_NAME)
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
        show_cursor(model, main_cursor.visible if main_cursor is not None else True)


def _fit_views(viewer) -> None:
    if viewer is None:
        return
    state = ViewerState.of(viewer)
    cursor = state.session.cursor_mm.copy()
    viewer.reset_view()
    for model in OrthoViews.of(viewer).models():
        model.reset_view()
    state.go_to_world(cursor)


def set_orthogonal_views(viewer, show: bool) -> bool:
    """Show or hide the linked orthogonal views; returns whether they are shown."""
    return OrthoViews.of(viewer).set_shown(show)
