"""Resel counts of search volumes: voxel masks (spm_resels_vol) and analytic shapes (spm_resels).

A voxel mask is read as a cubical complex whose vertices are the in-mask voxel
centres: an edge joins two in-mask neighbours along an axis, a face is a full
2 x 2 square of in-mask voxels in a coordinate plane, a cube a full 2 x 2 x 2 block
(spm_resels_vol.c; Worsley et al. 1996). With ``r_d = 1 / FWHM_d`` (FWHM in voxels
along the voxel axes i, j, k):

* R0 = P - (Ex + Ey + Ez) + (Fxy + Fxz + Fyz) - C  (the Euler characteristic),
* R1 = (Ex - Fxy - Fxz + C) rx + (Ey - Fxy - Fyz + C) ry + (Ez - Fxz - Fyz + C) rz,
* R2 = (Fxy - C) rx ry + (Fxz - C) rx rz + (Fyz - C) ry rz,
* R3 = C rx ry rz.

A 5 x 5 x 5 box with FWHM 2 voxels gives [1, 6, 12, 8]: the lattice measures the
box between the outermost voxel centres (4 voxels wide).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.geometry import bounding_box


@dataclass(frozen=True)
class LatticeCounts:
    """Points, edges, faces and cubes of a voxel mask (spm_resels_vol's P, E, F, C)."""

    points: int
    edges: tuple[int, int, int]
    faces: tuple[int, int, int]
    cubes: int


def lattice_counts(mask) -> LatticeCounts:
    """Count in-mask points, edges (x, y, z), faces (xy, xz, yz) and cubes.

    Parameters
    ----------
    mask : array-like, 3D
        Non-zero finite voxels are in the mask (NaN counts as outside, as in SPM).

    Returns
    -------
    LatticeCounts
    """
    m = np.asarray(mask)
    if m.ndim != 3:
        raise ValueError(f"a search volume mask must be 3D, got {m.ndim}D")
    if m.dtype != bool:
        m = np.isfinite(m) & (m != 0) if m.dtype.kind == "f" else m != 0
    box = bounding_box(m)
    m = m[box] if box is not None else np.zeros((0, 0, 0), dtype=bool)
    lo, hi = slice(None, -1), slice(1, None)
    ex = m[hi, :, :] & m[lo, :, :]
    ey = m[:, hi, :] & m[:, lo, :]
    ez = m[:, :, hi] & m[:, :, lo]
    fxy = ex[:, hi, :] & ex[:, lo, :]
    fxz = ex[:, :, hi] & ex[:, :, lo]
    fyz = ey[:, :, hi] & ey[:, :, lo]
    cubes = fxy[:, :, hi] & fxy[:, :, lo]
    return LatticeCounts(
        int(m.sum()),
        (int(ex.sum()), int(ey.sum()), int(ez.sum())),
        (int(fxy.sum()), int(fxz.sum()), int(fyz.sum())),
        int(cubes.sum()),
    )


def _fwhm3(fwhm) -> np.ndarray:
    f = np.broadcast_to(np.asarray(fwhm, dtype=float), (3,)).copy()
    if not np.all(np.isfinite(f) & (f > 0)):
        raise ValueError(f"FWHM must be positive and finite, got {fwhm!r}")
    return f


def resel_counts(mask, fwhm_voxels) -> np.ndarray:
    """Resel counts ``[R0, R1, R2, R3]`` of a voxel mask, as spm_resels_vol.

    Parameters
    ----------
    mask : array-like, 3D
        The search volume (non-zero finite voxels).
    fwhm_voxels : float or sequence of 3 floats
        Smoothness in voxels along the voxel axes i, j, k (FWHM mm / voxel size).

    Returns
    -------
    ndarray, shape (4,)
    """
    rx, ry, rz = 1.0 / _fwhm3(fwhm_voxels)
    c = lattice_counts(mask)
    (ex, ey, ez), (fxy, fxz, fyz), cu = c.edges, c.faces, c.cubes
    return np.array(
        [
            c.points - (ex + ey + ez) + (fxy + fxz + fyz) - cu,
            (ex - fxy - fxz + cu) * rx + (ey - fxy - fyz + cu) * ry + (ez - fxz - fyz + cu) * rz,
            (fxy - cu) * rx * ry + (fxz - cu) * rx * rz + (fyz - cu) * ry * rz,
            cu * rx * ry * rz,
        ],
        dtype=float,
    )


def sphere_resels(radius, fwhm) -> np.ndarray:
    """Resel counts of a continuous sphere (spm_resels 'S').

    ``s = (prod radius_d / FWHM_d)^(1/3)`` and ``R = [1, 4 s, 2 pi s^2, 4/3 pi s^3]``.
    ``radius`` and ``fwhm`` in the same units (mm, or voxels per axis).
    """
    s = float(np.prod(np.broadcast_to(np.asarray(radius, dtype=float), (3,)) / _fwhm3(fwhm)))
    s = s ** (1.0 / 3.0)
    return np.array([1.0, 4.0 * s, 2.0 * np.pi * s**2, 4.0 / 3.0 * np.pi * s**3])


def box_resels(sides, fwhm) -> np.ndarray:
    """Resel counts of a continuous box of edge lengths ``sides`` (spm_resels 'B').

    ``R = [1, sum s, s1 s2 + s2 s3 + s1 s3, s1 s2 s3]`` with ``s = sides / FWHM``.
    """
    s = np.broadcast_to(np.asarray(sides, dtype=float), (3,)) / _fwhm3(fwhm)
    return np.array([1.0, s.sum(), s[0] * s[1] + s[1] * s[2] + s[0] * s[2], s.prod()])
