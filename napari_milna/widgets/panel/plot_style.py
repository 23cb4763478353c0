"""Matplotlib plots that sit well on napari's dark theme: one style for every dock."""

from __future__ import annotations

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


def dark_figure(figsize, min_height: int = 0):
    """A matplotlib figure on the dark face and its Qt canvas (at least ``min_height`` px)."""
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, dpi=100, facecolor=PLOT_STYLE["facecolor"])
    canvas = FigureCanvasQTAgg(figure)
    if min_height:
        canvas.setMinimumHeight(min_height)
    return figure, canvas
