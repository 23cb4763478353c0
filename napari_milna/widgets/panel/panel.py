"""The milna panel: one dock with a tab per feature and a permanent cursor strip.

Tabs: Viewer (display, statistical threshold, orthogonal views), ROIs, SVC, QC,
Crossover and Preprocessing. Below the tabs, whatever tab is shown, the cursor strip:
the study session's cursor in world mm with a "Go to" field, each layer's voxel and
value there, and the run's time series at the cursor.

The feature tabs host the feature docks by class (``RoiWorkbench``, ``SvcDock``,
``QCDock``, ``CrossoverDock``, ``PreprocessingDock``, each built with the viewer) and
are built the first time they are shown, so the panel opens fast. They share what is
loaded and chosen through the viewer's :class:`~napari_milna._napari.session.StudySession`.

:func:`open_panel` is what ``milna view`` uses: the panel goes into napari's left
column, as a tab beside napari's layer controls, so that napari's canvas keeps at
least two thirds of a 1600 px wide window.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QSize, Qt, QTimer
from qtpy.QtWidgets import (
    QDockWidget,
    QFrame,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..._napari.compat import layer_controls_dock, layer_list_dock, main_window
from ..._napari.viewer_state import unwrap_viewer
from .dock_layout import ScrollingDock, ViewerWidget
from .session_bar import SessionBar
from .status import ERROR_COLOUR, StatusLabel, coloured, notify

#: The plugin, and the panel's name in napari's Plugins menu (napari.yaml).
PLUGIN = "napari-milna"
PANEL_NAME = "milna panel"
#: Width the panel asks for (pixels): napari's canvas keeps 2/3 of a 1600 px window.
PANEL_WIDTH = 500
#: Height of napari's layer list under the panel in the left column (pixels).
LAYER_LIST_HEIGHT = 265


def _roi_tab(viewer):
    from ..roi.dock import RoiWorkbench

    return RoiWorkbench(viewer)


def _svc_tab(viewer):
    from ..svc.dock import SvcDock

    return SvcDock(viewer)


def _qc_tab(viewer):
    from ..qc.dock import QCDock

    return QCDock(viewer)


def _crossover_tab(viewer):
    from ..crossover.dock import CrossoverDock

    return CrossoverDock(viewer)


def _preprocessing_tab(viewer):
    from ..preproc.dock import PreprocessingDock

    return PreprocessingDock(viewer)


#: The feature tabs after "Viewer": (title, builder taking the viewer).
FEATURE_TABS: tuple[tuple[str, Callable], ...] = (
    ("ROIs", _roi_tab),
    ("SVC", _svc_tab),
    ("QC", _qc_tab),
    ("Crossover", _crossover_tab),
    ("Preprocessing", _preprocessing_tab),
)
#: Every tab of the panel, in order.
TAB_TITLES = ("Viewer",) + tuple(title for title, _ in FEATURE_TABS)


def scrolling(widget: QWidget) -> QWidget:
    """``widget`` fitted to the panel's width: docks scroll themselves, others get a scroll."""
    if isinstance(widget, ScrollingDock):
        widget.fit_to_panel()
        return widget
    widget.setMinimumWidth(0)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    scroll.setWidget(widget)
    return scroll


class FeatureTab(QWidget):
    """A tab page that builds its feature widget the first time it is shown."""

    def __init__(self, title: str, build: Callable[[], QWidget], parent=None):
        super().__init__(parent)
        self.title = title
        self._build = build
        self.widget: QWidget | None = None
        #: Why the feature widget could not be built (None: it could, or was not tried).
        self.error: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def ensure_built(self) -> QWidget | None:
        """The feature widget (built now if it was not yet); None when it cannot be built."""
        if self.widget is None and self.error is None:
            try:
                self.widget = self._build()
            except Exception as exc:  # noqa: BLE001 - one broken tab never takes the viewer down
                problem = f"{type(exc).__name__}: {exc}"
                self.error = f"The {self.title} tab could not be opened: {problem}"
                self.layout().addWidget(StatusLabel(coloured(self.error, ERROR_COLOUR)))
                self.layout().addStretch(1)
                notify("error", self.error)
                return None
            self.layout().addWidget(scrolling(self.widget))
        return self.widget

    def showEvent(self, event):  # noqa: N802 (Qt API)
        """Build on first show."""
        self.ensure_built()
        super().showEvent(event)


class CursorStrip(QWidget):
    """The cursor read-out and the time series at the cursor, below every tab."""

    def __init__(self, napari_viewer, parent=None):
        from ..viewer.cursor_panel import CursorPanel
        from ..viewer.timeseries_plot import TimeSeriesPlot

        super().__init__(parent)
        self.cursor = CursorPanel(napari_viewer)
        self.cursor.table.setMinimumHeight(90)
        self.timeseries = TimeSeriesPlot(napari_viewer)
        self.timeseries.canvas.setMinimumHeight(110)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        layout.addWidget(self.cursor, 3)
        layout.addWidget(self.timeseries, 2)
        self.cursor.refresh()


class MilnaPanel(ViewerWidget):
    """The napari-milna panel: tabbed features over a permanent cursor / time-series strip."""

    def __init__(self, napari_viewer, parent=None):
        from ..roi.outlines import RoiOutlines
        from ..roi.session import shows_roi
        from ..viewer.controls import ViewerControls

        super().__init__(napari_viewer, parent)
        RoiOutlines.install(self.viewer, shows_roi)  # ROIs outlined whichever tab is shown
        self.controls = ViewerControls(napari_viewer)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.addTab(scrolling(self.controls), "Viewer")
        self.pages: dict[str, FeatureTab] = {}
        for title, build in FEATURE_TABS:
            page = FeatureTab(title, lambda build=build: build(napari_viewer))
            self.pages[title] = page
            self.tabs.addTab(page, title)
        self.strip = CursorStrip(napari_viewer)
        self.cursor = self.strip.cursor
        self.timeseries = self.strip.timeseries
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.strip)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        #: "Save session...", "Open session..." and "Report..." above the tabs.
        self.session_bar = SessionBar(napari_viewer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.session_bar)
        layout.addWidget(self.splitter)
        self._placed = False

    def showEvent(self, event):  # noqa: N802 (Qt API)
        """The first time it is shown (e.g. from the Plugins menu): take its place."""
        super().showEvent(event)
        if not self._placed:
            self._placed = True
            QTimer.singleShot(0, self._take_place)

    def _take_place(self) -> None:
        dock_widget = self.parentWidget()
        if isinstance(dock_widget, QDockWidget):
            place_panel(self.viewer, dock_widget)

    # ------------------------------------------------------------------ tabs
    def tab(self, title: str) -> QWidget | None:
        """The widget of tab ``title`` (a feature tab is built now if it was not yet).

        None when the feature widget cannot be built (the tab says why).
        """
        if title == "Viewer":
            return self.controls
        return self.pages[title].ensure_built()

    def built_tab(self, title: str) -> QWidget | None:
        """The widget of tab ``title`` if it was built, else None."""
        if title == "Viewer":
            return self.controls
        return self.pages[title].widget

    def show_tab(self, title: str) -> QWidget | None:
        """Bring tab ``title`` to the front; returns its widget."""
        self.tabs.setCurrentIndex(TAB_TITLES.index(title))
        return self.tab(title)

    def sizeHint(self):  # noqa: N802 (Qt API)
        """:data:`PANEL_WIDTH` wide."""
        return QSize(PANEL_WIDTH, super().sizeHint().height())


def find_panel(viewer) -> MilnaPanel | None:
    """The milna panel docked in ``viewer``'s window, or None."""
    window = main_window(unwrap_viewer(viewer))
    if window is None:
        return None
    panels = window.findChildren(MilnaPanel)
    return panels[0] if panels else None


def place_panel(viewer, dock_widget) -> None:
    """Put the panel's dock in napari's left column, a tab beside napari's layer controls.

    napari's layer list stays visible below it, and the canvas keeps the rest of the
    window (at least two thirds of a 1600 px window).
    """
    window = main_window(viewer)
    controls = layer_controls_dock(viewer)
    if window is None or controls is None:
        return
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    if window.dockWidgetArea(controls) != left or dock_widget.isFloating():
        return  # the user moved napari's docks: leave the panel where napari put it
    if dock_widget in window.tabifiedDockWidgets(controls):
        return  # already in place
    window.addDockWidget(left, dock_widget)
    window.tabifyDockWidget(controls, dock_widget)
    window.setTabPosition(left, QTabWidget.TabPosition.North)
    dock_widget.show()
    dock_widget.raise_()
    window.resizeDocks([dock_widget], [PANEL_WIDTH], Qt.Orientation.Horizontal)
    layer_list = layer_list_dock(viewer)
    if layer_list is not None and window.dockWidgetArea(layer_list) == left:
        height = max(window.height() - LAYER_LIST_HEIGHT, LAYER_LIST_HEIGHT)
        window.resizeDocks(
            [dock_widget, layer_list], [height, LAYER_LIST_HEIGHT], Qt.Orientation.Vertical
        )


def open_panel(viewer, tab: str | None = None) -> MilnaPanel:
    """Open the milna panel (once) in napari's left column; bring ``tab`` to the front.

    Returns
    -------
    MilnaPanel
    """
    viewer = unwrap_viewer(viewer)
    panel = find_panel(viewer)
    if panel is None:
        dock_widget, panel = viewer.window.add_plugin_dock_widget(PLUGIN, PANEL_NAME)
        place_panel(viewer, dock_widget)
    if tab is not None:
        panel.show_tab(tab)
    return panel
