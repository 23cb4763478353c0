"""Refine an ROI on its grid: thresholds, region growing, CSF exclusion, morphology.

Every function is pure: it takes a mask (any array; non-zero voxels are in the
ROI) or a label array plus the :class:`Grid` it lives on, and returns a new array,
never modifying its input. Distances are world millimetres measured through the
grid's affine, so anisotropic and oblique voxels are handled exactly. Moving an
ROI to another grid (:func:`resample_roi`, :func:`mirror_left_right`) is explicit
and lives in :mod:`.roi_transfer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage import measure, morphology, segmentation

from ..errors import input_error
from ..io.geometry import Grid, bounding_box
from ..io.resample import resample_to_grid
from .transfer import mirror_left_right, resample_roi  # noqa: F401  (public API)

_CONNECTIVITY_RANK = {6: 1, 18: 2, 26: 3}


def _mask(roi, shape=None) -> np.ndarray:
    roi = np.asarray(roi)
    if roi.ndim != 3:
        raise ValueError(f"an ROI is a 3D array, got shape {roi.shape}")
    if shape is not None and roi.shape != tuple(shape):
        raise ValueError(f"ROI shape {roi.shape} does not match {tuple(shape)}")
    return roi.astype(bool) if roi.dtype != bool else roi


def _same_shape(values, shape, what: str) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != tuple(shape):
        raise ValueError(f"{what} of shape {values.shape} is not on the ROI grid {tuple(shape)}")
    return values


def _rank(connectivity: int) -> int:
    """scikit-image's connectivity (1 faces, 2 edges, 3 corners) of a 6 / 18 / 26 neighbourhood."""
    if connectivity not in _CONNECTIVITY_RANK:
        raise ValueError(f"connectivity must be 6, 18 or 26, got {connectivity}")
    return _CONNECTIVITY_RANK[connectivity]


# --- thresholds ----------------------------------------------------------------------------


def keep_in_range(roi, values, minimum: float | None = None, maximum: float | None = None):
    """ROI voxels whose value lies in ``[minimum, maximum]`` (bounds inclusive, NaN out).

    Parameters
    ----------
    roi : ndarray, 3D
        Mask (non-zero = in).
    values : ndarray, same shape
        Intensity or statistic on the same grid.
    minimum, maximum : float, optional
        Inclusive bounds; ``None`` leaves that side open.

    Returns
    -------
    ndarray of bool
    """
    mask = _mask(roi)
    values = _same_shape(values, mask.shape, "the value map")
    keep = mask.copy()
    with np.errstate(invalid="ignore"):
        if minimum is not None:
            keep &= values >= minimum
        if maximum is not None:
            keep &= values <= maximum
    if values.dtype.kind == "f":
        keep &= np.isfinite(values)
    return keep


def keep_above(roi, values, level: float) -> np.ndarray:
    """ROI voxels with ``values >= level``."""
    return keep_in_range(roi, values, minimum=level)


def keep_below(roi, values, level: float) -> np.ndarray:
    """ROI voxels with ``values <= level``."""
    return keep_in_range(roi, values, maximum=level)


def restrict_to(roi, within) -> np.ndarray:
    """ROI voxels inside a brain or coverage mask (``within > 0``; NaN counts as outside)."""
    mask = _mask(roi)
    within = _same_shape(within, mask.shape, "the restricting mask")
    with np.errstate(invalid="ignore"):
        return mask & (within > 0)


# --- millimetre distances ------------------------------------------------------------------


def _ellipsoid_reach(grid: Grid, distance_mm: float) -> np.ndarray:
    """Largest index offset per axis whose world length can be <= distance_mm."""
    linear = grid.affine[:3, :3]
    metric_inv = np.linalg.inv(linear.T @ linear)
    return np.floor(distance_mm * np.sqrt(np.diag(metric_inv)) + 1e-9).astype(int)


def mm_ball(grid: Grid, distance_mm: float) -> np.ndarray:
    """Structuring element of the voxel offsets whose world length is <= ``distance_mm``.

    Parameters
    ----------
    grid : Grid
        Supplies the voxel -> world linear map (anisotropic and oblique voxels).
    distance_mm : float
        Radius in mm (>= 0).

    Returns
    -------
    ndarray of bool, odd shape centred on the zero offset
    """
    if distance_mm < 0:
        raise ValueError(f"a distance must be >= 0 mm, got {distance_mm}")
    reach = _ellipsoid_reach(grid, distance_mm)
    axes = [np.arange(-r, r + 1) for r in reach]
    offsets = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    length2 = np.sum((offsets @ grid.affine[:3, :3].T) ** 2, axis=-1)
    return length2 <= distance_mm**2 * (1 + 1e-9) + 1e-12


def dilate_mm(roi, grid: Grid, distance_mm: float) -> np.ndarray:
    """Add every voxel whose centre lies within ``distance_mm`` of an ROI voxel centre.

    The structuring element is :func:`mm_ball`, so a 2.5 x 2.5 x 3 mm grid dilated by
    2.5 mm grows in-plane only. Works on the ROI's bounding box.
    """
    mask = _mask(roi, grid.shape)
    ball = mm_ball(grid, distance_mm)
    reach = np.asarray(ball.shape) // 2
    box = bounding_box(mask, reach)
    out = np.zeros_like(mask)
    if box is None:
        return out
    out[box] = morphology.dilation(mask[box], footprint=ball, mode="constant", cval=False)
    return out


def erode_mm(roi, grid: Grid, distance_mm: float) -> np.ndarray:
    """Keep the ROI voxels whose every neighbour within ``distance_mm`` is in the ROI.

    Voxels outside the grid count as outside the ROI.
    """
    mask = _mask(roi, grid.shape)
    ball = mm_ball(grid, distance_mm)
    box = bounding_box(mask)
    out = np.zeros_like(mask)
    if box is None:
        return out
    # voxels beyond the box (outside the ROI or the grid) count as outside
    out[box] = morphology.erosion(mask[box], footprint=ball, mode="constant", cval=False)
    return out


# --- connectivity --------------------------------------------------------------------------


def largest_component(roi, connectivity: int = 26) -> np.ndarray:
    """The largest connected component of the ROI.

    Ties go to the component met first in C (i, j, k) order. ``connectivity`` is
    6 (faces), 18 (faces and edges, as SPM) or 26 (faces, edges, corners, as FSL).
    """
    mask = _mask(roi)
    box = bounding_box(mask, 0)
    out = np.zeros_like(mask)
    if box is None:
        return out
    labels, n = measure.label(mask[box], connectivity=_rank(connectivity), return_num=True)
    if n <= 1:
        out[box] = labels > 0
        return out
    sizes = np.bincount(labels.ravel())[1:]
    out[box] = labels == 1 + int(np.argmax(sizes))
    return out


def grow_region(
    values,
    grid: Grid,
    seed_ijk,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    connectivity: int = 6,
    radius_mm: float | None = None,
    within=None,
) -> np.ndarray:
    """3D region growing from a seed voxel inside an intensity window.

    The region is the connected set (``connectivity`` 6, 18 or 26) of voxels that
    contains the seed, whose values lie in ``[minimum, maximum]``, which lie within
    ``radius_mm`` of the seed (centre to centre, world mm) and inside ``within``.

    Parameters
    ----------
    values : ndarray, ``grid.shape``
    grid : Grid
    seed_ijk : sequence of 3 int
        The seed voxel index.
    minimum, maximum : float, optional
        Inclusive window; default: open.
    connectivity : {6, 18, 26}
    radius_mm : float, optional
    within : ndarray, optional
        Restricting mask (``> 0`` is in).

    Returns
    -------
    ndarray of bool

    Raises
    ------
    MilnaInputError
        When the seed lies outside the grid, or its own value is outside the window.
    """
    values = _same_shape(values, grid.shape, "the value map")
    seed = tuple(int(v) for v in np.asarray(seed_ijk).reshape(3))
    if not grid.contains_index(np.asarray(seed)):
        raise input_error(None, f"the seed voxel {seed} lies outside the {grid.shape} grid")
    box = tuple(slice(0, n) for n in grid.shape)
    if radius_mm is not None:
        reach = _ellipsoid_reach(grid, radius_mm)
        box = tuple(
            slice(max(s - r, 0), min(s + r + 1, n)) for s, r, n in zip(seed, reach, grid.shape)
        )
    local_seed = tuple(s - b.start for s, b in zip(seed, box))
    candidate = keep_in_range(np.ones(values[box].shape, bool), values[box], minimum, maximum)
    if within is not None:
        candidate &= restrict_to(candidate, _same_shape(within, grid.shape, "the mask")[box])
    if radius_mm is not None:
        ijk = np.stack(
            np.meshgrid(*[np.arange(b.start, b.stop) for b in box], indexing="ij"), axis=-1
        )
        offset_mm = (ijk - np.asarray(seed)) @ grid.affine[:3, :3].T
        candidate &= np.sum(offset_mm**2, axis=-1) <= radius_mm**2 * (1 + 1e-9)
    if not candidate[local_seed]:
        v = values[seed]
        raise input_error(
            None,
            f"the seed voxel {seed} has value {v:g}, outside the window "
            f"[{minimum if minimum is not None else '-inf'}, "
            f"{maximum if maximum is not None else 'inf'}] (or outside the restricting mask)",
        )
    out = np.zeros(grid.shape, dtype=bool)
    out[box] = segmentation.flood(candidate, local_seed, connectivity=_rank(connectivity))
    return out


# --- CSF -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapOnGrid:
    """A map brought onto an ROI grid, and whether that took resampling."""

    data: np.ndarray
    resampled: bool
    note: str = ""


def map_on_grid(data, data_grid: Grid, grid: Grid, *, order: int = 1, name: str = "the map"):
    """``data`` on ``grid``: as is when the grids match, else resampled explicitly.

    Resampling uses :func:`~napari_milna.core.io.resample.resample_to_grid` (trilinear by
    default); target voxels outside the map's field of view get NaN. The result says
    whether it was resampled so that callers can report it.

    Returns
    -------
    MapOnGrid
    """
    data = np.asarray(data)
    if data_grid.matches(grid):
        return MapOnGrid(data, False)
    out = resample_to_grid(data.astype(np.float64), data_grid, grid, order=order, fill=np.nan)
    note = (
        f"{name} ({data_grid.describe()}) was resampled onto the ROI grid "
        f"({grid.describe()}) with {'trilinear' if order == 1 else f'order-{order}'} "
        "interpolation"
    )
    return MapOnGrid(out, True, note)


@dataclass(frozen=True)
class CsfExclusion:
    """Result of :func:`exclude_csf`.

    Attributes
    ----------
    mask : ndarray of bool
        The ROI without its CSF voxels.
    max_probability : float
    n_removed : int
        ROI voxels dropped (CSF probability above ``max_probability``).
    n_unknown : int
        ROI voxels without a CSF value (outside the CSF map), kept.
    resampled : bool
        True when the CSF map was resampled onto the ROI grid.
    note : str
    """

    mask: np.ndarray
    max_probability: float
    n_removed: int
    n_unknown: int
    resampled: bool
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {
            "csf_max": float(self.max_probability),
            "csf_removed": int(self.n_removed),
            "csf_unknown": int(self.n_unknown),
            "csf_resampled": bool(self.resampled),
            "csf_note": self.note,
        }


def exclude_csf(
    roi, grid: Grid, csf, csf_grid: Grid | None = None, max_probability: float = 0.5
) -> CsfExclusion:
    """Drop ROI voxels whose CSF probability exceeds ``max_probability``.

    Parameters
    ----------
    roi : ndarray, ``grid.shape``
    grid : Grid
    csf : ndarray
        CSF probability (fMRIPrep ``label-CSF_probseg``, FSL ``pve_0``, SPM ``c3``).
    csf_grid : Grid, optional
        The CSF map's grid; when it differs from ``grid`` the map is resampled
        (trilinear) and the result says so. Default: same grid as the ROI.
    max_probability : float
        Voxels with a CSF probability strictly above this go.

    Returns
    -------
    CsfExclusion
    """
    mask = _mask(roi, grid.shape)
    on_grid = map_on_grid(csf, csf_grid or grid, grid, name="the CSF map")
    csf_values = _same_shape(on_grid.data, grid.shape, "the CSF map")
    idx = np.nonzero(mask)
    p = csf_values[idx].astype(np.float64)
    unknown = ~np.isfinite(p)
    drop = np.zeros(p.shape, bool)
    drop[~unknown] = p[~unknown] > max_probability
    out = mask.copy()
    out[tuple(a[drop] for a in idx)] = False
    return CsfExclusion(
        out,
        float(max_probability),
        int(drop.sum()),
        int(unknown.sum()),
        on_grid.resampled,
        on_grid.note,
    )
