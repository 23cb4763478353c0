"""Anatomical letters (L / R / A / P / S / I) at the edges of the main canvas."""

from __future__ import annotations

import weakref

from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtWidgets import QLabel

from ..._napari.compat import qt_viewer
from ..._napari.viewer_state import ViewerState, unwrap_viewer

LABEL_STYLE = (
    "color: #ffd24d; background: rgba(0,0,0,110); font-weight: bold; font-size: 13px;"
    "padding: 1px 4px; border-radius: 3px;"
)


def canvas_widget(viewer):
    """The Qt widget of napari's main canvas (None without a Qt window)."""
    canvas = getattr(qt_viewer(viewer), "canvas", None)
    return getattr(canvas, "native", None)


class OnCanvas(QObject):
    """Something drawn over one viewer's main canvas, one per canvas, owned by the canvas.

    Get it with :meth:`install` (the docks and the panel share it).

    Parameters
    ----------
    viewer : napari.Viewer

    Attributes
    ----------
    canvas : QWidget or None
        napari's canvas widget (None without a Qt window).
    """

    @classmethod
    def install(cls, viewer):
        """The object of ``viewer``'s canvas (created once)."""
        viewer = unwrap_viewer(viewer)
        canvas = canvas_widget(viewer)
        if canvas is not None:
            for existing in canvas.findChildren(cls):
                return existing
        return cls(viewer)

    def __init__(self, viewer):
        viewer = unwrap_viewer(viewer)
        super().__init__(canvas_widget(viewer))
        self._viewer_ref = weakref.ref(viewer)
        self.canvas = canvas_widget(viewer)

    @property
    def viewer(self):
        """The napari viewer (None once it is gone)."""
        return self._viewer_ref()


class OrientationLabels(OnCanvas):
    """Keeps four letters on the canvas edges in step with the plane and convention.

    One set per viewer, owned by its canvas: get it with :meth:`install`.
    """

    def __init__(self, viewer):
        super().__init__(viewer)
        viewer = self.viewer
        self.state = ViewerState.of(viewer)
        self.labels = {}
        if self.canvas is None:
            return
        for edge in ("top", "bottom", "left", "right"):
            label = QLabel("", self.canvas)
            label.setStyleSheet(LABEL_STYLE)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.show()
            self.labels[edge] = label
        self.canvas.installEventFilter(self)
        self.state.changed.connect(self.update_labels)
        viewer.dims.events.order.connect(self.update_labels)
        viewer.dims.events.ndisplay.connect(self.update_labels)
        self.update_labels()

    def text(self) -> dict[str, str]:
        """Letter shown at each edge (empty in 3D view or without 3 spatial axes)."""
        if self.viewer.dims.ndim < 3 or self.viewer.dims.ndisplay != 2:
            return dict.fromkeys(self.labels, "")
        return dict(self.state.layout().labels)

    def update_labels(self, *args) -> None:
        """Refresh the letters and their positions."""
        if not self.labels:
            return
        for edge, letter in self.text().items():
            self.labels[edge].setText(letter)
            self.labels[edge].setVisible(bool(letter))
            self.labels[edge].adjustSize()
        self._position()

    def _position(self) -> None:
        w, h = self.canvas.width(), self.canvas.height()
        m = 6
        top, bottom = self.labels["top"], self.labels["bottom"]
        left, right = self.labels["left"], self.labels["right"]
        top.move((w - top.width()) // 2, m)
        bottom.move((w - bottom.width()) // 2, h - bottom.height() - m)
        left.move(m, (h - left.height()) // 2)
        right.move(w - right.width() - m, (h - right.height()) // 2)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        """Reposition the letters when the canvas is resized."""
        if obj is self.canvas and event.type() == QEvent.Type.Resize:
            self._position()
        return False
