"""What a figure shows: an underlay, a thresholded statistical map, ROI outlines, the cursor.

Every part keeps its own data on its own grid; :func:`panel_rgb` looks each one up at
a panel's pixels (:func:`~napari_milna.core.figures.planes.sample_volume`) and stacks
them as the viewer does: the statistical map in its ramp's colours over the grey
underlay, transparent below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..io.geometry import Grid
from ..viewer.display_values import StatRamp, robust_range
from .planes import PlaneSampling, sample_volume

#: Colour of the cursor marks (RGB; white, apart from the ROI colours) and of ROI outlines
#: without a colour of their own.
CURSOR_COLOUR = (1.0, 1.0, 1.0)
ROI_COLOUR = (0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Underlay:
    """An anatomical image drawn in grey.

    Attributes
    ----------
    data : ndarray
        The volume on ``grid``.
    grid : Grid
    limits : (float, float) or None
        Grey from black at ``limits[0]`` to white at ``limits[1]`` (default: robust
        percentiles of the volume).
    name : str
    """

    data: np.ndarray = field(repr=False)
    grid: Grid
    limits: tuple[float, float] | None = None
    name: str = "underlay"

    def grey_limits(self) -> tuple[float, float]:
        """The grey ramp's limits."""
        if self.limits is not None:
            return float(self.limits[0]), float(self.limits[1])
        return robust_range(self.data)


@dataclass(frozen=True)
class StatOverlay:
    """A statistical map in its colour ramp (transparent below the threshold).

    Attributes
    ----------
    data : ndarray
        The statistic on ``grid`` (NaN: no value).
    grid : Grid
    ramp : StatRamp
        Threshold, top and sidedness: the viewer's ramp of the layer.
    stat_type : str or None
        ``"T"``, ``"Z"``, ``"F"`` (None: unknown).
    df : float or tuple or None
        Degrees of freedom.
    name : str
    opacity : float
    """

    data: np.ndarray = field(repr=False)
    grid: Grid
    ramp: StatRamp
    stat_type: str | None = None
    df: float | tuple | None = None
    name: str = "statistic"
    opacity: float = 1.0


@dataclass(frozen=True)
class RoiOutline:
    """ROIs of a labels volume drawn as outlines.

    Attributes
    ----------
    labels : ndarray
        Integer labels on ``grid``.
    grid : Grid
    colours : dict
        Label value -> RGB(A) of its outline; only these labels are drawn (empty: every
        non-zero label, in :data:`ROI_COLOUR`).
    names : dict
        Label value -> name (for the legend).
    """

    labels: np.ndarray = field(repr=False)
    grid: Grid
    colours: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)

    def drawn(self) -> dict:
        """Label value -> outline colour of every label drawn."""
        if self.colours:
            return {int(k): tuple(v) for k, v in self.colours.items()}
        values = np.unique(np.asarray(self.labels))
        return {int(v): ROI_COLOUR for v in values if v != 0}


@dataclass(frozen=True)
class FigureScene:
    """Everything a slice figure shows.

    Attributes
    ----------
    underlay : Underlay or None
    stat : StatOverlay or None
    roi : RoiOutline or None
    cursor_mm : array-like of 3 or None
        The cursor in world mm (marked on the slice that contains it).
    radiological : bool
        Left on the right of the screen (default: neurological, left on the left).
    """

    underlay: Underlay | None = None
    stat: StatOverlay | None = None
    roi: RoiOutline | None = None
    cursor_mm: tuple | None = None
    radiological: bool = False

    def grids(self) -> list[Grid]:
        """The grids of the parts shown."""
        return [p.grid for p in (self.underlay, self.stat, self.roi) if p is not None]

    def slice_grid(self) -> Grid:
        """The grid whose slices a lightbox steps through: the statistic's, else the first."""
        if self.stat is not None:
            return self.stat.grid
        grids = self.grids()
        if not grids:
            raise ValueError("a figure needs an underlay, a statistical map or an ROI")
        return grids[0]


def ramp_rgba(ramp: StatRamp, values) -> np.ndarray:
    """RGBA (float, 0-1) the ramp gives each value (NaN: transparent).

    The same piecewise-linear ramp as the viewer's colour map
    (:meth:`StatRamp.controls_and_colors` over :attr:`StatRamp.limits`).
    """
    values = np.asarray(values, dtype=float)
    lo, hi = ramp.limits
    x = np.clip((np.nan_to_num(values, nan=0.0) - lo) / (hi - lo), 0.0, 1.0)
    controls, colors = ramp.controls_and_colors()
    out = np.stack([np.interp(x, controls, colors[:, c]) for c in range(4)], axis=-1)
    out[np.isnan(values)] = 0.0
    return out


def underlay_rgb(underlay: Underlay, sampling: PlaneSampling) -> np.ndarray:
    """The underlay's grey (RGB, 0-1) at the panel's pixels; black outside its grid."""
    values = sample_volume(underlay.data, underlay.grid, sampling, order=1)
    lo, hi = underlay.grey_limits()
    grey = np.clip((np.nan_to_num(values, nan=lo) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    return np.repeat(grey[..., None], 3, axis=-1)


def stat_values(stat: StatOverlay, sampling: PlaneSampling) -> np.ndarray:
    """The statistic at the panel's pixels: each pixel the value of its voxel (NaN outside)."""
    return sample_volume(stat.data, stat.grid, sampling, order=0)


def panel_rgb(scene: FigureScene, sampling: PlaneSampling) -> np.ndarray:
    """The panel's colours (RGB, 0-1, shape (rows, columns, 3)): underlay, then statistic.

    Above the threshold the statistic's colour replaces the grey (``opacity`` 1), as in
    the viewer's translucent blending.
    """
    shape = (sampling.rows_mm.size, sampling.cols_mm.size, 3)
    rgb = underlay_rgb(scene.underlay, sampling) if scene.underlay is not None else np.zeros(shape)
    if scene.stat is not None:
        rgba = ramp_rgba(scene.stat.ramp, stat_values(scene.stat, sampling))
        alpha = rgba[..., 3:4] * float(scene.stat.opacity)
        rgb = rgba[..., :3] * alpha + rgb * (1.0 - alpha)
    return rgb


def roi_masks(roi: RoiOutline, sampling: PlaneSampling) -> dict:
    """Label value -> boolean mask of its voxels at the panel's pixels."""
    labels = sample_volume(roi.labels, roi.grid, sampling, order=0)
    return {value: labels == value for value in roi.drawn()}
