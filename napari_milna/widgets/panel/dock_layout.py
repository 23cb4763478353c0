"""What every dock shares: its viewer, session and state; a scrolling body; sections, rows."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QScrollArea, QVBoxLayout, QWidget
from superqt import QCollapsible

from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState, unwrap_viewer


def hbox(*widgets, stretch: bool = False) -> QWidget:
    """Widgets side by side without margins (a trailing stretch when asked)."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    if stretch:
        layout.addStretch(1)
    return box


def vbox(*widgets) -> QWidget:
    """Widgets stacked without margins."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return box


def add_sections(layout, sections) -> dict[str, QCollapsible]:
    """Add collapsible sections to ``layout``; returns them by key.

    Parameters
    ----------
    layout : QBoxLayout
    sections : iterable of (key, title, widget, expanded)
    """
    out = {}
    for key, title, widget, expanded in sections:
        section = QCollapsible(title)
        section.addWidget(widget)
        if expanded:
            section.expand(animate=False)
        layout.addWidget(section)
        out[key] = section
    return out


class ViewerWidget(QWidget):
    """A milna widget of one viewer: the viewer, its study session and its display state.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer (napari's public-only plugin proxy is unwrapped: layer identity and the
        per-viewer session and state key on the viewer itself).
    parent : QWidget, optional

    Attributes
    ----------
    viewer : napari.Viewer
    session : StudySession
    state : ViewerState
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        self.viewer = unwrap_viewer(napari_viewer)
        self.session = StudySession.of(self.viewer)
        self.state = ViewerState.of(self.viewer)


class ScrollingDock(ViewerWidget):
    """A dock of one viewer whose body scrolls vertically and is never narrower than its content.

    Subclasses build a body widget and call :meth:`set_body`; :meth:`fit_width`
    keeps the dock at least as wide as the body needs (so no column or button is
    clipped). ``min_width`` is the width the dock asks for when there is room (its
    size hint), never a minimum: a narrower dock still shows everything.

    Inside the milna panel (:meth:`fit_to_panel`) the dock takes the panel's width
    instead: a body wider than that scrolls sideways rather than widening the panel
    (and narrowing napari's canvas).

    Parameters
    ----------
    napari_viewer : napari.Viewer
    parent : QWidget, optional
    min_width : int
        The width asked for when there is room (pixels).
    """

    def __init__(self, napari_viewer, parent=None, min_width: int = 0):
        super().__init__(napari_viewer, parent)
        self._min_width = int(min_width)
        self._scroll: QScrollArea | None = None
        self._body: QWidget | None = None
        self._in_panel = False

    def set_body(self, body: QWidget, footer: QWidget | None = None) -> None:
        """Put ``body`` in the scroll area (and ``footer`` below it, outside the scroll)."""
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self._scroll, self._body = scroll, body
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        if footer is not None:
            outer.addWidget(footer)
        self.fit_width()

    def fit_to_panel(self) -> None:
        """Take the width of the panel hosting the dock; wide content scrolls sideways."""
        self._in_panel = True
        self.setMinimumWidth(0)
        if self._scroll is not None:
            self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.fit_width()

    def fit_width(self, *args) -> None:
        """Keep the dock at least as wide as its content, so nothing is clipped."""
        if self._scroll is None:
            return
        if self._in_panel:
            self._scroll.setMinimumWidth(0)
            return
        bar = self._scroll.verticalScrollBar().sizeHint().width()
        needed = self._body.minimumSizeHint().width() + bar + 4
        self._scroll.setMinimumWidth(needed)

    def sizeHint(self):  # noqa: N802 (Qt API)
        """At least ``min_width`` wide when there is room."""
        hint = super().sizeHint()
        if not self._in_panel:
            hint.setWidth(max(hint.width(), self._min_width))
        return hint

    def showEvent(self, event):  # noqa: N802 (Qt API)
        """Fit the width when shown."""
        self.fit_width()
        super().showEvent(event)
