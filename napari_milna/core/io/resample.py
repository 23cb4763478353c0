"""Explicit resampling between voxel grids (never done silently).

The viewer resamples only for display, when a grid is oblique to the display
space; analyses resample only when the user asks (ROI to another grid, a CSF map
onto the EPI grid) and say so.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .geometry import DisplaySpace, Grid


def resample_to_grid(
    data: np.ndarray, source: Grid, target: Grid, order: int = 1, fill: float = 0.0
) -> np.ndarray:
    """Resample a volume from ``source`` onto ``target`` (world positions preserved).

    Parameters
    ----------
    data : ndarray, shape ``source.shape``
    source, target : Grid
    order : int
        Spline order: 0 nearest neighbour (labels, masks), 1 trilinear.
    fill : float
        Value outside the source field of view.

    Returns
    -------
    ndarray, shape ``target.shape``
        float64 for ``order > 0``, the input dtype for ``order == 0``.
    """
    data = np.asarray(data)
    if tuple(data.shape[:3]) != source.shape:
        raise ValueError(f"data of shape {data.shape} is not on the source grid {source.shape}")
    if source.matches(target):
        return data.copy()
    # target voxel -> world -> source voxel
    mapping = np.linalg.inv(source.affine) @ target.affine
    values = data if order == 0 else np.nan_to_num(data.astype(np.float64))
    out = ndimage.affine_transform(
        values,
        mapping[:3, :3],
        offset=mapping[:3, 3],
        output_shape=target.shape,
        order=order,
        mode="constant",
        cval=fill,
        prefilter=order > 1,
    )
    return out.astype(data.dtype) if order == 0 else out


def display_aligned_grid(grid: Grid, space: DisplaySpace, spacing) -> Grid:
    """An axis-aligned grid (in ``space``) that covers ``grid`` with voxels of ``spacing``.

    Its voxel centres sit on multiples of ``spacing`` in display coordinates, so that
    grids built for the same space line up.
    """
    spacing = np.broadcast_to(np.asarray(spacing, dtype=float), (3,))
    corners = np.array(np.meshgrid(*[[-0.5, n - 0.5] for n in grid.shape], indexing="ij"))
    corners = corners.reshape(3, -1).T
    disp = space.from_world(grid.to_world(corners))
    lo = np.floor(disp.min(axis=0) / spacing) * spacing
    hi = np.ceil(disp.max(axis=0) / spacing) * spacing
    shape = tuple(int(n) for n in np.maximum(np.round((hi - lo) / spacing), 1))
    display_affine = np.diag(np.r_[spacing, 1.0])
    display_affine[:3, 3] = lo + spacing / 2
    return Grid(shape, space.display_to_world @ display_affine)
