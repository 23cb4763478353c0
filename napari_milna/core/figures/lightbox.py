"""Slice figures: the lightbox (a grid of parallel slices) and a single view.

Both are drawn headlessly by matplotlib from the data on their own grids (see
:mod:`~napari_milna.core.figures.planes`): the panel, the study report and the
tests use these functions, so what a test checks is what a paper gets.
"""

from __future__ import annotations

import math

import numpy as np

from .colorbar import DARK, draw_colorbar, stat_label
from .panels import SliceFigure, SlicePanel, cursor_slice, draw_panel
from .planes import (
    PLANE_AXES,
    check_plane,
    grid_bounds,
    plane_sampling,
    slice_positions,
    voxel_axis_along,
)
from .planes import snap_to_voxel_edges as _snap
from .scene import FigureScene

#: The brainstem's default axial range (mm): the medulla to the top of the midbrain.
BRAINSTEM_RANGE_MM = (-50.0, 0.0)
#: Default lightbox range of each plane (MNI mm along its normal): the brainstem.
BRAINSTEM_RANGES_MM = {
    "axial": BRAINSTEM_RANGE_MM,  # z: medulla to the top of the midbrain
    "coronal": (-45.0, -15.0),  # y: the fourth ventricle to the cerebral peduncles
    "sagittal": (-8.0, 8.0),  # x: the brainstem's width about the midline
}
#: Width of one lightbox panel (inches) and of the colour bar column.
PANEL_WIDTH_IN = 1.5
COLORBAR_WIDTH_IN = 1.1
_TITLE_IN = 0.32


def default_pixel_mm(scene: FigureScene) -> float:
    """A quarter of the finest voxel shown: every voxel edge falls on a pixel edge."""
    grids = scene.grids()
    return float(min(g.zooms.min() for g in grids)) / 4.0


def figure_field(scene: FigureScene, plane: str, center_mm=None, size_mm=None):
    """Column and row ranges (mm) a panel of ``plane`` shows.

    Parameters
    ----------
    scene : FigureScene
    plane : {"axial", "coronal", "sagittal"}
    center_mm : array-like of 3, optional
        Centre of the field (world mm); with ``size_mm``.
    size_mm : float or (float, float), optional
        Width and height of the field (mm). Default: the whole grid of the slices
        (the statistic's).

    Returns
    -------
    (cols_range, rows_range)
        Each ``(low, high)`` in mm, widened to the slice grid's voxel edges.
    """
    _, row_axis, col_axis = PLANE_AXES[check_plane(plane)]
    grid = scene.slice_grid()
    if size_mm is None or center_mm is None:
        bounds = grid_bounds(grid)
        cols, rows = bounds[:, col_axis], bounds[:, row_axis]
    else:
        width, height = np.broadcast_to(np.asarray(size_mm, dtype=float), (2,))
        c = np.asarray(center_mm, dtype=float)
        cols = (c[col_axis] - width / 2, c[col_axis] + width / 2)
        rows = (c[row_axis] - height / 2, c[row_axis] + height / 2)
    return _snap(*cols, grid, col_axis), _snap(*rows, grid, row_axis)


def lightbox_positions(scene: FigureScene, plane: str = "axial", range_mm=None, every: int = 1):
    """Slice positions of a lightbox: every ``every``-th slice of the statistic's grid in range.

    Parameters
    ----------
    scene : FigureScene
    plane : str
    range_mm : (float, float), optional
        Inclusive range along the plane's normal (default: the brainstem,
        :data:`BRAINSTEM_RANGES_MM`: z -50 to 0 mm for axial slices).
    every : int
        Keep one slice in ``every``.

    Returns
    -------
    ndarray
        World coordinates (mm) of the slices: the grid's slice centres.
    """
    if range_mm is None:
        range_mm = BRAINSTEM_RANGES_MM[check_plane(plane)]
    low, high = range_mm
    positions = slice_positions(scene.slice_grid(), plane, low, high)
    return positions[:: max(int(every), 1)]


def nearest_slice(scene: FigureScene, plane: str, position_mm: float) -> float:
    """The centre (mm) of the statistic's slice nearest ``position_mm`` along the normal.

    The slice the viewer shows for a cursor there; ``position_mm`` itself when the
    grid has no slice centres along the normal (oblique).
    """
    grid = scene.slice_grid()
    normal = PLANE_AXES[check_plane(plane)][0]
    if voxel_axis_along(grid, normal) is None:
        return float(position_mm)
    positions = slice_positions(grid, plane)
    return float(positions[np.argmin(np.abs(positions - position_mm))])


def _columns(n: int, panel_aspect: float, ncols: int | None) -> int:
    if ncols:
        return max(1, min(int(ncols), n))
    # about 16:10 overall
    return max(1, min(n, math.ceil(math.sqrt(n * 1.6 * panel_aspect))))


def lightbox_figure(
    scene: FigureScene,
    plane: str = "axial",
    range_mm=None,
    every: int = 1,
    *,
    positions=None,
    ncols: int | None = None,
    center_mm=None,
    size_mm=None,
    pixel_mm: float | None = None,
    colorbar: bool = True,
    title: str | None = None,
    panel_width_in: float = PANEL_WIDTH_IN,
    width_in: float | None = None,
    dpi: float = 100,
    style: dict | None = None,
) -> SliceFigure:
    """A lightbox: a grid of parallel slices with the statistic, ROI outlines and cursor.

    Parameters
    ----------
    scene : FigureScene
        Underlay, statistical map (its ramp and df), ROI outline, cursor, convention.
    plane : {"axial", "coronal", "sagittal"}
    range_mm : (float, float), optional
        Range along the plane's normal (default: the brainstem, z -50 to 0 mm for
        axial slices; :data:`BRAINSTEM_RANGES_MM`).
    every : int
        One slice in ``every`` of the statistic's grid (default: every slice).
    positions : array-like, optional
        Explicit slice positions (mm) instead of ``range_mm`` / ``every``.
    ncols : int, optional
        Panels per row (default: about 16:10 overall).
    center_mm, size_mm : optional
        Field of each panel (default: the whole grid; see :func:`figure_field`).
    pixel_mm : float, optional
        Pixel size of the drawn slices (default :func:`default_pixel_mm`).
    colorbar : bool
        Draw the statistic's colour bar on the right.
    title : str, optional
    panel_width_in : float
        Width of one panel in inches.
    width_in : float, optional
        Width of the whole figure in inches (overrides ``panel_width_in``).
    dpi : float
    style : dict, optional
        ``face`` / ``text`` colours (default: black face, white text).

    Returns
    -------
    SliceFigure
        ``panels`` in slice order (increasing position), then the colour bar's axes.
        Orientation letters are drawn on the first panel, the cursor's crosshair on
        the slice that holds it, the slice coordinate on every panel.
    """
    plane = check_plane(plane)
    style = {**DARK, **(style or {})}
    if positions is None:
        low, high = range_mm if range_mm is not None else BRAINSTEM_RANGES_MM[plane]
        positions = lightbox_positions(scene, plane, (low, high), every)
        if positions.size == 0:
            raise ValueError(
                f"no {plane} slice of the map lies between {low:g} and {high:g} mm"
            )
    positions = np.asarray(positions, dtype=float)
    if positions.size == 0:
        raise ValueError("a lightbox needs at least one slice position")
    pixel_mm = float(pixel_mm or default_pixel_mm(scene))
    cols, rows = figure_field(scene, plane, center_mm, size_mm)
    base = plane_sampling(plane, positions[0], cols, rows, pixel_mm)
    left, right, bottom, top = base.extent
    panel_aspect = (top - bottom) / (right - left)
    n = positions.size
    ncols = _columns(n, panel_aspect, ncols)
    nrows = math.ceil(n / ncols)
    bar_w = COLORBAR_WIDTH_IN if (colorbar and scene.stat is not None) else 0.0
    if width_in is not None:
        panel_width_in = max(float(width_in) - bar_w, 0.5) / ncols
    panel_w, panel_h = panel_width_in, panel_width_in * panel_aspect
    title_h = _TITLE_IN if title else 0.0
    fig_w, fig_h = ncols * panel_w + bar_w, nrows * panel_h + title_h
    fig = SliceFigure(figsize=(fig_w, max(fig_h, 2.2 if bar_w else 0.0)), dpi=dpi,
                      facecolor=style["face"])
    fig_h = fig.get_figheight()
    normal = PLANE_AXES[plane][0]
    step = float(np.min(np.diff(positions))) if n > 1 else None
    marked = cursor_slice(positions, scene.cursor_mm, normal, step)
    for index, position in enumerate(positions):
        r, c = divmod(index, ncols)
        rect = (c * panel_w / fig_w, 1 - (title_h + (r + 1) * panel_h) / fig_h,
                panel_w / fig_w, panel_h / fig_h)
        ax = fig.add_axes(rect)
        sampling = base.at(position)
        draw_panel(ax, scene, sampling, letters=index == 0, cursor=index == marked, style=style,
                   scale_bar_mm=10.0 if index == n - 1 else None)
        fig.panels.append(SlicePanel(ax, sampling, index == marked))
    if bar_w:
        _add_colorbar(fig, scene, fig_w, fig_h, bar_w, title_h, style)
    if title:
        fig.text(0.01, 1 - 0.5 * title_h / fig_h, title, ha="left", va="center",
                 color=style["text"], fontsize=9)
    return fig


def _add_colorbar(fig, scene, fig_w, fig_h, bar_w, title_h, style) -> None:
    height = min(2.4, fig_h - title_h - 0.6)
    bottom = (fig_h - title_h - height) / 2 - 0.05
    rect = ((fig_w - bar_w + 0.3) / fig_w, bottom / fig_h, 0.2 / fig_w, height / fig_h)
    cax = fig.add_axes(rect)
    draw_colorbar(cax, scene.stat.ramp, stat_label(scene.stat.stat_type, scene.stat.df), style)
    fig.colorbar_axes = cax


def slice_figure(
    scene: FigureScene,
    plane: str = "axial",
    position_mm: float | None = None,
    *,
    cols_range=None,
    rows_range=None,
    pixel_mm: float | None = None,
    colorbar: bool = True,
    title: str | None = None,
    width_in: float = 4.0,
    dpi: float = 100,
    scale_bar_mm: float | None = 10.0,
    style: dict | None = None,
) -> SliceFigure:
    """One slice (the viewer's current view) with letters, coordinate, cursor and colour bar.

    Parameters
    ----------
    scene : FigureScene
    plane : {"axial", "coronal", "sagittal"}
    position_mm : float, optional
        World coordinate of the slice along the plane's normal (default: the centre of
        the statistic's slice holding the cursor, :func:`nearest_slice`).
    cols_range, rows_range : (float, float), optional
        Field shown (mm along the plane's columns and rows; default: the whole grid).
    pixel_mm : float, optional
    colorbar : bool
    title : str, optional
    width_in : float
        Width of the slice panel in inches.
    dpi : float
    scale_bar_mm : float or None
        Length of the scale bar (None: none).
    style : dict, optional

    Returns
    -------
    SliceFigure
        One panel; the cursor is marked when it lies in the slice.
    """
    plane = check_plane(plane)
    style = {**DARK, **(style or {})}
    normal = PLANE_AXES[plane][0]
    if position_mm is None:
        if scene.cursor_mm is None:
            raise ValueError("give the slice position or a cursor")
        position_mm = nearest_slice(scene, plane, float(scene.cursor_mm[normal]))
    field = figure_field(scene, plane)
    cols = cols_range if cols_range is not None else field[0]
    rows = rows_range if rows_range is not None else field[1]
    pixel_mm = float(pixel_mm or default_pixel_mm(scene))
    sampling = plane_sampling(plane, position_mm, cols, rows, pixel_mm)
    left, right, bottom, top = sampling.extent
    panel_h = width_in * (top - bottom) / (right - left)
    bar_w = COLORBAR_WIDTH_IN if (colorbar and scene.stat is not None) else 0.0
    title_h = _TITLE_IN if title else 0.0
    fig_w, fig_h = width_in + bar_w, max(panel_h + title_h, 2.2 if bar_w else 0.0)
    fig = SliceFigure(figsize=(fig_w, fig_h), dpi=dpi, facecolor=style["face"])
    ax = fig.add_axes((0, (fig_h - title_h - panel_h) / fig_h / 2, width_in / fig_w,
                       panel_h / fig_h))
    grid = scene.slice_grid()
    step = float(grid.zooms.min())
    has_cursor = (scene.cursor_mm is not None
                  and abs(float(scene.cursor_mm[normal]) - position_mm) <= step / 2 + 1e-6)
    draw_panel(ax, scene, sampling, cursor=has_cursor, scale_bar_mm=scale_bar_mm, style=style)
    fig.panels.append(SlicePanel(ax, sampling, has_cursor))
    if bar_w:
        _add_colorbar(fig, scene, fig_w, fig_h, bar_w, title_h, style)
    if title:
        fig.text(0.01, 1 - 0.5 * title_h / fig_h, title, ha="left", va="center",
                 color=style["text"], fontsize=9)
    return fig
