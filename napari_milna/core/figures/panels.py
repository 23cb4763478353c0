"""One slice panel of a figure: colours, ROI outlines, cursor, coordinate and letters.

:class:`SliceFigure` is a matplotlib ``Figure`` that remembers its slice panels
(:class:`SlicePanel`: the axes and the world plane they show), so a caller -- a test,
the panel's click-to-cursor -- can turn a point of a panel into world mm and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from .colorbar import DARK
from .planes import PlaneSampling, coordinate_label, screen_layout
from .scene import CURSOR_COLOUR, FigureScene, panel_rgb, roi_masks

#: Gap (mm) left open around the cursor by its crosshair, so its voxel stays visible.
CURSOR_GAP_MM = 3.0
#: Font sizes (points).
LETTER_SIZE = 9
COORD_SIZE = 8


@dataclass(frozen=True)
class SlicePanel:
    """A panel of a :class:`SliceFigure`: the axes and the plane they show.

    Attributes
    ----------
    axes : matplotlib Axes
        Data coordinates are world mm along the plane's columns and rows.
    sampling : PlaneSampling
        The plane, its position and the pixel centres drawn.
    has_cursor : bool
        The cursor is marked on this panel.
    """

    axes: object
    sampling: PlaneSampling
    has_cursor: bool = False

    @property
    def position_mm(self) -> float:
        """World coordinate of the slice along the plane's normal."""
        return self.sampling.position_mm

    def world_of(self, col_mm: float, row_mm: float) -> np.ndarray:
        """World mm of a point given in the panel's data coordinates."""
        return self.sampling.world_of(col_mm, row_mm)


class SliceFigure(Figure):
    """A matplotlib figure of slice panels (``panels``), in the order drawn."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: The slice panels (:class:`SlicePanel`).
        self.panels: list[SlicePanel] = []
        #: The colour bar's axes, if one is drawn.
        self.colorbar_axes = None

    def panel_at(self, axes) -> SlicePanel | None:
        """The panel drawn in ``axes`` (None for the colour bar or outside)."""
        for panel in self.panels:
            if panel.axes is axes:
                return panel
        return None


def draw_panel(
    ax,
    scene: FigureScene,
    sampling: PlaneSampling,
    *,
    letters: bool = True,
    coordinate: bool = True,
    cursor: bool = False,
    scale_bar_mm: float | None = None,
    style: dict | None = None,
    roi_linewidth: float = 1.0,
) -> None:
    """Draw one slice of ``scene`` into ``ax`` (data coordinates: world mm).

    Parameters
    ----------
    ax : matplotlib Axes
    scene : FigureScene
    sampling : PlaneSampling
        The plane and the pixels to draw.
    letters : bool
        Anatomical letters at the edges (neurological or radiological, as the scene).
    coordinate : bool
        The slice's world coordinate (``"z = -48"``) in the top-left corner.
    cursor : bool
        Mark the scene's cursor with a crosshair (open at the cursor's voxel).
    scale_bar_mm : float, optional
        Draw a scale bar this long (mm) in the bottom-left corner.
    style : dict, optional
        ``face`` and ``text`` colours (default: black face, white text).
    roi_linewidth : float
        Width of ROI outlines in points.
    """
    style = {**DARK, **(style or {})}
    layout = screen_layout(sampling.plane, scene.radiological)
    left, right, bottom, top = sampling.extent
    ax.set_facecolor(style["face"])
    ax.imshow(
        panel_rgb(scene, sampling), origin="lower", extent=(left, right, bottom, top),
        interpolation="nearest", interpolation_stage="rgba", resample=False,
    )
    if scene.roi is not None:
        for value, mask in roi_masks(scene.roi, sampling).items():
            if mask.any() and not mask.all():
                colour = scene.roi.drawn()[value]
                ax.contour(
                    sampling.cols_mm, sampling.rows_mm, mask.astype(float), levels=[0.5],
                    colors=[colour[:3]], linewidths=roi_linewidth,
                )
    ax.set_xlim((left, right) if layout.col_right else (right, left))
    ax.set_ylim((bottom, top) if layout.row_up else (top, bottom))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    label = coordinate_label(sampling.plane, sampling.position_mm)
    ax.set_label(label)
    if coordinate:
        ax.text(0.03, 0.97, label, transform=ax.transAxes, ha="left", va="top",
                color=style["text"], fontsize=COORD_SIZE, gid="slice-coordinate", zorder=5,
                bbox=_label_box(style))
    if letters:
        spots = {"top": (0.5, 0.985, "center", "top"), "bottom": (0.5, 0.015, "center", "bottom"),
                 "left": (0.015, 0.5, "left", "center"), "right": (0.985, 0.5, "right", "center")}
        for edge, (x, y, ha, va) in spots.items():
            ax.text(x, y, layout.labels[edge], transform=ax.transAxes, ha=ha, va=va,
                    color=style["text"], fontsize=LETTER_SIZE, fontweight="bold",
                    gid=f"orientation-{edge}", zorder=5, bbox=_label_box(style))
    if cursor and scene.cursor_mm is not None:
        _draw_cursor(ax, sampling, scene.cursor_mm)
    if scale_bar_mm:
        _draw_scale_bar(ax, scale_bar_mm, style)


def _label_box(style: dict) -> dict:
    """A small box in the face colour behind a label, so lines never run through it."""
    return {"boxstyle": "square,pad=0.15", "facecolor": style["face"], "edgecolor": "none",
            "alpha": 0.6}


def _draw_cursor(ax, sampling: PlaneSampling, cursor_mm) -> None:
    _, row_axis, col_axis = sampling.axes
    cx, cy = float(cursor_mm[col_axis]), float(cursor_mm[row_axis])
    left, right, bottom, top = sampling.extent
    gap = CURSOR_GAP_MM
    kw = {"color": CURSOR_COLOUR, "lw": 0.7, "alpha": 0.75, "ls": (0, (3, 2)), "gid": "cursor"}
    ax.plot([left, cx - gap], [cy, cy], **kw)
    ax.plot([cx + gap, right], [cy, cy], **kw)
    ax.plot([cx, cx], [bottom, cy - gap], **kw)
    ax.plot([cx, cx], [cy + gap, top], **kw)


def _draw_scale_bar(ax, length_mm: float, style: dict) -> None:
    """A bar of ``length_mm`` in the bottom-left corner, measured in data units (mm)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    sx, sy = np.sign(x1 - x0), np.sign(y1 - y0)
    start = x0 + sx * 0.06 * abs(x1 - x0)
    y = y0 + sy * 0.06 * abs(y1 - y0)
    ax.plot([start, start + sx * length_mm], [y, y], color=style["text"], lw=2,
            solid_capstyle="butt", gid="scale-bar")
    ax.text(start + sx * length_mm / 2, y + sy * 0.015 * abs(y1 - y0), f"{length_mm:g} mm",
            ha="center", va="bottom" if sy > 0 else "top", color=style["text"], fontsize=7)


def cursor_slice(positions, cursor_mm, normal: int, step: float | None = None) -> int | None:
    """Index of the position that holds the cursor (within half a slice step), or None."""
    positions = np.asarray(positions, dtype=float)
    if cursor_mm is None or positions.size == 0:
        return None
    distance = np.abs(positions - float(cursor_mm[normal]))
    best = int(np.argmin(distance))
    if step is None:
        step = float(np.min(np.diff(positions))) if positions.size > 1 else np.inf
    return best if distance[best] <= step / 2 + 1e-6 else None
