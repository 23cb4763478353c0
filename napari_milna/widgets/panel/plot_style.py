"""Matplotlib plots that sit well on napari's dark theme: one style for every dock.

Every plot can be saved: :func:`install_save_plot` gives a plot's canvas a small
"Save" button and a right-click menu that write PNG, SVG or PDF through
:func:`napari_milna.core.figures.save_figure` (atomic, asks before replacing a file).
Figures made by :func:`dark_figure` have it already.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QEvent, Qt
from qtpy.QtWidgets import QFileDialog, QMenu, QToolButton

from ...core.errors import MilnaInputError
from ...core.figures import save_figure
from .status import notify

#: Colours shared by the docks' plots.
PLOT_STYLE = {"facecolor": "#262930", "text": "#d6d6d6", "line": "#ffb000", "marker": "#4ec9ff"}
#: Edge colour of legend frames.
LEGEND_EDGE = "#555555"


def style_axes(ax, face: str | None = None, spine: str | None = None, labelsize: int = 7) -> None:
    """Dark face, light spines, ticks, labels and title."""
    text = PLOT_STYLE["text"]
    ax.set_facecolor(face or PLOT_STYLE["facecolor"])
    for item in ax.spines.values():
        item.set_color(spine or text)
    ax.tick_params(colors=text, labelsize=labelsize)
    ax.xaxis.label.set_color(text)
    ax.yaxis.label.set_color(text)
    ax.title.set_color(text)


def legend_style(**overrides) -> dict:
    """Keyword arguments of a small legend readable on the dark face."""
    style = {
        "fontsize": 6,
        "facecolor": PLOT_STYLE["facecolor"],
        "edgecolor": LEGEND_EDGE,
        "labelcolor": PLOT_STYLE["text"],
        "framealpha": 0.8,
    }
    style.update(overrides)
    return style


def dark_figure(figsize, min_height: int = 0, save_name: str = "plot"):
    """A matplotlib figure on the dark face and its Qt canvas (at least ``min_height`` px).

    The canvas has "Save plot" (:func:`install_save_plot`), suggesting ``save_name``.
    """
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, dpi=100, facecolor=PLOT_STYLE["facecolor"])
    canvas = FigureCanvasQTAgg(figure)
    if min_height:
        canvas.setMinimumHeight(min_height)
    install_save_plot(canvas, save_name)
    return figure, canvas


# ---------------------------------------------------------------------- saving plots
#: Name filters of the save dialog, and the suffix each one adds.
SAVE_FILTERS = (
    ("PNG image (*.png)", "png"),
    ("SVG vector image (*.svg)", "svg"),
    ("PDF document (*.pdf)", "pdf"),
)
#: Resolution of saved plots (dots per inch).
PLOT_DPI = 200
#: The folder of the last file saved (the next dialog opens there).
_last_folder: Path | None = None
SAVE_BUTTON_STYLE = (
    "QToolButton { color: #d6d6d6; background: rgba(0,0,0,90); border: 1px solid #555555;"
    " border-radius: 3px; padding: 0px 4px; font-size: 10px; }"
    "QToolButton:hover { background: rgba(80,80,80,200); }"
)


def ask_save_path(parent, title: str, suggested: str):
    """Ask where to save a figure (PNG, SVG or PDF); None when the user cancels.

    Qt's dialog adds the chosen format's suffix to a bare name and asks before
    replacing an existing file, so the path returned may be overwritten. The dialog
    opens in the folder of the last file saved.

    Returns
    -------
    pathlib.Path or None
    """
    global _last_folder
    if _last_folder is not None and not Path(suggested).is_absolute():
        suggested = str(_last_folder / suggested)
    dialog = QFileDialog(parent, title, suggested)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setNameFilters([text for text, _ in SAVE_FILTERS])
    suffix = Path(suggested).suffix.lstrip(".").lower()
    for text, ext in SAVE_FILTERS:
        if ext == suffix:
            dialog.selectNameFilter(text)
    dialog.setDefaultSuffix(suffix or "png")
    suffixes = dict(SAVE_FILTERS)
    dialog.filterSelected.connect(lambda text: dialog.setDefaultSuffix(suffixes.get(text, "png")))
    if not dialog.exec():
        return None
    files = dialog.selectedFiles()
    if not files:
        return None
    _last_folder = Path(files[0]).parent
    return Path(files[0])


def save_figure_as(parent, figure, title: str, suggested: str, dpi: float = PLOT_DPI):
    """Ask for a file and save ``figure`` there (atomically); say what happened.

    The file dialog asked before replacing an existing file, so the save may overwrite
    it. Bad names (another suffix) are one sentence in a notification.

    Returns
    -------
    pathlib.Path or None
        The file written, None if cancelled or refused.
    """
    path = ask_save_path(parent, title, suggested)
    if path is None:
        return None
    try:
        written = save_figure(figure, path, dpi=dpi, overwrite=path.exists())
    except (MilnaInputError, OSError) as exc:
        notify("error", str(exc))
        return None
    notify("info", f"Saved {written}.")
    return written


class SavePlotButton(QToolButton):
    """The "Save" button in a plot canvas's corner (and the canvas's right-click menu).

    Parameters
    ----------
    canvas : FigureCanvasQTAgg
    name : str
        File name the dialog suggests (without suffix).
    """

    def __init__(self, canvas, name: str):
        super().__init__(canvas)
        self.canvas, self.name = canvas, name
        self.setText("Save")
        self.setToolTip("Save this plot as PNG, SVG or PDF (also on right click)")
        self.setStyleSheet(SAVE_BUTTON_STYLE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(self.save)
        canvas.installEventFilter(self)
        canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        canvas.customContextMenuRequested.connect(self._menu)
        self._place()
        self.show()

    def save(self):
        """Ask for a file and save the canvas's figure there (the path, or None)."""
        return save_figure_as(self.canvas, self.canvas.figure, "Save plot", f"{self.name}.png")

    def _place(self) -> None:
        self.adjustSize()
        self.move(max(self.canvas.width() - self.width() - 2, 0), 2)

    def _menu(self, pos) -> None:
        popup = QMenu(self.canvas)
        popup.addAction("Save plot (PNG, SVG, PDF)...", self.save)
        popup.exec(self.canvas.mapToGlobal(pos))

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        """Keep to the canvas's top-right corner."""
        if obj is self.canvas and event.type() == QEvent.Type.Resize:
            self._place()
        return False


def install_save_plot(canvas, name: str = "plot"):
    """Give a matplotlib Qt canvas "Save plot" (PNG / SVG / PDF): a corner button and menu.

    The small "Save" button sits in the canvas's top-right corner; a right click on the
    plot offers the same. The file is written by :func:`save_figure_as`.

    Parameters
    ----------
    canvas : FigureCanvasQTAgg
    name : str
        File name the dialog suggests (without suffix).

    Returns
    -------
    SavePlotButton
        The canvas's button (made once; a second call renames it).
    """
    for child in canvas.children():
        if isinstance(child, SavePlotButton):
            child.name = name
            return child
    return SavePlotButton(canvas, name)
