"""Figures drawn headlessly by matplotlib from the data on their own grids.

Slices in world mm (:mod:`.planes`), what they show (:mod:`.scene`), colour bars
(:mod:`.colorbar`), slice panels (:mod:`.panels`), the lightbox and single-slice
figures (:mod:`.lightbox`) and saving them (:mod:`.export`). No Qt, no napari: the
viewer's "Save figure", the study report and the tests share this one renderer.
"""

from .colorbar import (
    colorbar_figure,
    colorbar_ticks,
    draw_colorbar,
    draw_value_bar,
    stat_label,
    value_colorbar_figure,
)
from .export import DEFAULT_DPI, FIGURE_FORMATS, figure_format, save_figure
from .lightbox import (
    BRAINSTEM_RANGE_MM,
    BRAINSTEM_RANGES_MM,
    default_pixel_mm,
    figure_field,
    lightbox_figure,
    lightbox_positions,
    nearest_slice,
    slice_figure,
)
from .panels import SliceFigure, SlicePanel, cursor_slice, draw_panel
from .planes import (
    PLANE_AXES,
    PlaneSampling,
    coordinate_label,
    grid_bounds,
    plane_sampling,
    sample_volume,
    screen_layout,
    slice_positions,
)
from .scene import FigureScene, RoiOutline, StatOverlay, Underlay, panel_rgb, ramp_rgba

__all__ = [
    "BRAINSTEM_RANGE_MM",
    "BRAINSTEM_RANGES_MM",
    "DEFAULT_DPI",
    "FIGURE_FORMATS",
    "PLANE_AXES",
    "FigureScene",
    "PlaneSampling",
    "RoiOutline",
    "SliceFigure",
    "SlicePanel",
    "StatOverlay",
    "Underlay",
    "colorbar_figure",
    "colorbar_ticks",
    "coordinate_label",
    "cursor_slice",
    "default_pixel_mm",
    "draw_colorbar",
    "draw_value_bar",
    "draw_panel",
    "figure_field",
    "figure_format",
    "grid_bounds",
    "lightbox_figure",
    "lightbox_positions",
    "nearest_slice",
    "panel_rgb",
    "plane_sampling",
    "ramp_rgba",
    "sample_volume",
    "save_figure",
    "screen_layout",
    "slice_figure",
    "slice_positions",
    "stat_label",
    "value_colorbar_figure",
]
