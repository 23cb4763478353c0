"""Slice planes in world mm and sampling of volumes on them through their own affines.

A figure panel is a plane of world (RAS+) millimetres: axial (normal z, rows y,
columns x), coronal (normal y, rows z, columns x) or sagittal (normal x, rows z,
columns y). Each volume is looked up at the panel's pixel centres through its own
affine (:class:`~napari_milna.core.io.geometry.Grid`), never resampled onto another
grid: with ``order=0`` every pixel carries the value of the voxel that contains it,
so the colour of a statistical map's pixel is that voxel's value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.geometry import Grid, Plane, plane_layout

#: World axes (0 = x, 1 = y, 2 = z) of each plane: (normal, rows, columns).
PLANE_AXES: dict[str, tuple[int, int, int]] = {
    "axial": (2, 1, 0),
    "coronal": (1, 2, 0),
    "sagittal": (0, 2, 1),
}
#: Letter of the world coordinate along each world axis.
AXIS_LETTERS = "xyz"
_TOL = 1e-6


def check_plane(plane: str) -> Plane:
    """``plane`` if it is axial, coronal or sagittal; else a ValueError in one sentence."""
    if plane not in PLANE_AXES:
        raise ValueError(f"unknown plane {plane!r}; expected axial, coronal or sagittal")
    return plane  # type: ignore[return-value]


def coordinate_label(plane: str, position_mm: float) -> str:
    """``"z = -48"``: the world coordinate of a slice, in mm (the unit goes in the caption)."""
    normal = PLANE_AXES[check_plane(plane)][0]
    return f"{AXIS_LETTERS[normal]} = {position_mm:g}"


def voxel_axis_along(grid: Grid, world_axis: int) -> int | None:
    """The voxel axis of an axis-aligned ``grid`` that runs along ``world_axis`` (else None)."""
    if not grid.is_axis_aligned:
        return None
    return int(np.argmax(np.abs(grid.affine[world_axis, :3])))


def slice_positions(grid: Grid, plane: str, low=None, high=None) -> np.ndarray:
    """World coordinates (mm) of ``grid``'s slice centres along the plane's normal.

    For an axis-aligned grid these are the voxel centres along the voxel axis that
    runs along the normal (every slice of the grid, none skipped or doubled); for an
    oblique grid, planes one smallest voxel size apart spanning the grid.

    Parameters
    ----------
    grid : Grid
    plane : {"axial", "coronal", "sagittal"}
    low, high : float, optional
        Keep positions in ``[low, high]`` mm (inclusive; either end open when None).

    Returns
    -------
    ndarray
        Increasing positions in mm.
    """
    normal = PLANE_AXES[check_plane(plane)][0]
    axis = voxel_axis_along(grid, normal)
    if axis is not None:
        n = np.arange(grid.shape[axis])
        positions = grid.affine[normal, axis] * n + grid.affine[normal, 3]
    else:
        corners = np.array(np.meshgrid(*[(0, s - 1) for s in grid.shape], indexing="ij"))
        ends = grid.to_world(corners.reshape(3, -1).T)[:, normal]
        step = float(grid.zooms.min())
        positions = np.arange(ends.min(), ends.max() + step / 2, step)
    positions = np.sort(positions)
    keep = np.ones(positions.shape, bool)
    if low is not None:
        keep &= positions >= float(low) - _TOL
    if high is not None:
        keep &= positions <= float(high) + _TOL
    return positions[keep]


def grid_bounds(grid: Grid) -> np.ndarray:
    """World bounding box of the grid's voxels (their outer edges), shape (2, 3): min, max."""
    corners = np.array(np.meshgrid(*[(-0.5, s - 0.5) for s in grid.shape], indexing="ij"))
    world = grid.to_world(corners.reshape(3, -1).T)
    return np.vstack([world.min(axis=0), world.max(axis=0)])


@dataclass(frozen=True)
class PlaneSampling:
    """The pixel grid of one panel: a plane at ``position_mm`` and its pixel centres.

    Attributes
    ----------
    plane : {"axial", "coronal", "sagittal"}
    position_mm : float
        World coordinate of the plane along its normal.
    cols_mm, rows_mm : ndarray
        World coordinates of the pixel centres along the columns' and rows' world axes
        (increasing).
    """

    plane: Plane
    position_mm: float
    cols_mm: np.ndarray
    rows_mm: np.ndarray

    @property
    def axes(self) -> tuple[int, int, int]:
        """World axes (normal, rows, columns)."""
        return PLANE_AXES[self.plane]

    @property
    def pixel_mm(self) -> float:
        """Pixel size in mm."""
        return float(self.cols_mm[1] - self.cols_mm[0]) if self.cols_mm.size > 1 else 1.0

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` pixel edges in mm, for ``imshow(origin="lower")``."""
        half = self.pixel_mm / 2
        return (
            float(self.cols_mm[0] - half),
            float(self.cols_mm[-1] + half),
            float(self.rows_mm[0] - half),
            float(self.rows_mm[-1] + half),
        )

    def at(self, position_mm: float) -> PlaneSampling:
        """The same pixels on a parallel plane at ``position_mm``."""
        return PlaneSampling(self.plane, float(position_mm), self.cols_mm, self.rows_mm)

    def points(self) -> np.ndarray:
        """World mm of every pixel centre, shape (rows, columns, 3)."""
        normal, row_axis, col_axis = self.axes
        rows, cols = np.meshgrid(self.rows_mm, self.cols_mm, indexing="ij")
        out = np.empty(rows.shape + (3,))
        out[..., normal] = self.position_mm
        out[..., row_axis] = rows
        out[..., col_axis] = cols
        return out

    def world_of(self, col_mm: float, row_mm: float) -> np.ndarray:
        """World mm of a point of the panel given in its column and row coordinates."""
        normal, row_axis, col_axis = self.axes
        out = np.empty(3)
        out[[normal, row_axis, col_axis]] = (self.position_mm, row_mm, col_mm)
        return out


def plane_sampling(
    plane: str, position_mm: float, cols_range, rows_range, pixel_mm: float
) -> PlaneSampling:
    """Pixels of ``pixel_mm`` covering ``cols_range`` x ``rows_range`` (mm, edges) of a plane.

    The ranges are widened to whole pixels from their low ends.
    """
    pixel_mm = float(pixel_mm)
    if not pixel_mm > 0:
        raise ValueError(f"the pixel size must be positive, got {pixel_mm}")

    def centres(lo, hi):
        lo, hi = float(min(lo, hi)), float(max(lo, hi))
        n = max(int(np.ceil((hi - lo) / pixel_mm - 1e-6)), 1)
        return lo + (np.arange(n) + 0.5) * pixel_mm

    return PlaneSampling(
        check_plane(plane), float(position_mm), centres(*cols_range), centres(*rows_range)
    )


def snap_to_voxel_edges(low: float, high: float, grid: Grid, world_axis: int):
    """Widen ``[low, high]`` (mm) to the voxel edges of an axis-aligned ``grid`` along an axis.

    So that pixels whose size divides the voxel size never straddle a voxel edge.
    Returned unchanged for an oblique grid.
    """
    axis = voxel_axis_along(grid, world_axis)
    if axis is None:
        return float(low), float(high)
    step = abs(float(grid.affine[world_axis, axis]))
    origin = float(grid.affine[world_axis, 3]) - step / 2  # an edge
    lo = origin + np.floor((low - origin) / step + 1e-9) * step
    hi = origin + np.ceil((high - origin) / step - 1e-9) * step
    return float(lo), float(hi)


def sample_volume(
    volume: np.ndarray, grid: Grid, sampling: PlaneSampling, order: int = 0
) -> np.ndarray:
    """Values of ``volume`` (on ``grid``) at the pixel centres of ``sampling``.

    Parameters
    ----------
    volume : ndarray, shape ``grid.shape``
    grid : Grid
        The volume's own grid: each pixel centre goes through its affine.
    sampling : PlaneSampling
    order : {0, 1}
        0: the value of the voxel containing the pixel centre (statistics, labels);
        1: trilinear (an anatomical underlay, for display only).

    Returns
    -------
    ndarray, shape (rows, columns)
        float; NaN outside the grid.
    """
    volume = np.asarray(volume)
    if volume.shape != grid.shape:
        raise ValueError(f"a volume of shape {volume.shape} is not on the grid {grid.shape}")
    ijk = grid.to_voxel(sampling.points())
    if order == 0:
        index = np.rint(ijk).astype(int)
        inside = grid.contains_index(index)
        out = np.full(index.shape[:-1], np.nan)
        found = index[inside]
        out[inside] = volume[found[:, 0], found[:, 1], found[:, 2]]
        return out
    if order != 1:
        raise ValueError(f"order must be 0 or 1, got {order}")
    from scipy.ndimage import map_coordinates

    shape = np.asarray(grid.shape)
    inside = np.all((ijk >= -0.5) & (ijk <= shape - 0.5), axis=-1)
    out = np.full(ijk.shape[:-1], np.nan)
    if not inside.any():
        return out
    coords = np.clip(ijk[inside], 0, shape - 1)
    # only the voxels around the plane are read (a 1 mm volume is large)
    low = np.floor(coords.min(axis=0)).astype(int)
    high = np.minimum(np.ceil(coords.max(axis=0)).astype(int) + 1, shape)
    block = np.asarray(volume[tuple(slice(a, b) for a, b in zip(low, high))], dtype=float)
    out[inside] = map_coordinates(
        np.nan_to_num(block), (coords - low).T, order=1, mode="nearest"
    )
    return out


def screen_layout(plane: str, radiological: bool = False):
    """Which way rows and columns run on screen, and the edge letters, for a world plane.

    The neurological convention (left on the left, anterior up in axial, superior up
    in coronal and sagittal, anterior on the left in sagittal) unless ``radiological``
    (left and right swapped), as the viewer shows it
    (:func:`~napari_milna.core.io.geometry.plane_layout` in world RAS+).

    Returns
    -------
    PlaneLayout
        ``row_up`` / ``col_right``: increasing world coordinates run up / right;
        ``labels``: letter at each edge.
    """
    return plane_layout("RAS", check_plane(plane), radiological)
