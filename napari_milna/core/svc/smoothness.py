"""Spatial smoothness (FWHM) of a statistic map's noise, from one of three sources.

* ``"fwhm_mm"``: the user gives the FWHM in mm, one value or one per voxel axis
  (i, j, k), as SPM's ``FWHM`` vector; FWHM in voxels = FWHM mm / voxel size.
* ``"fsl_smoothness"``: FSL's ``stats/smoothness`` file written by ``smoothest``.
  Its three lines mean (FSL smoothest.cc):

  - ``DLH``: ``|Lambda|^(1/2)`` in voxels^-3, where Lambda is the variance of the
    partial derivatives of the standardised noise. FSL multiplies it by a small
    degrees-of-freedom correction (about 1.03 for 20 df) before printing.
  - ``VOLUME``: the number of voxels in the mask.
  - ``RESELS``: the volume of ONE resel in voxels, ``FWHMx * FWHMy * FWHMz`` (FWHM in
    voxels, without the df correction); it is not a resel count. The resel count
    of the mask is ``VOLUME / RESELS``.

  The file does not keep the per-axis FWHM, so an isotropic FWHM in voxels of
  ``RESELS^(1/3)`` is used (the geometric mean of FSL's three FWHM). If the file
  has a ``FWHMvoxel`` line (some smoothest builds print it) the three values are
  used instead. Without ``RESELS`` the DLH is converted, ``FWHM^3 = (4 ln 2)^(3/2) / DLH``.
* ``"residuals"``: estimated from residual images as spm_est_smoothness does: the
  residuals are normalised per voxel (``u = e / sqrt(sum_n e^2)``), the spatial
  derivatives are forward differences in voxels (what spm_sample_vol returns at
  voxel centres), ``Lambda = sum_n grad(u_n) grad(u_n)^T`` per voxel, and the global
  FWHM is SPM's combination ``RESEL = mean(sqrt(|Lambda| / (4 ln 2)^3))^(1/3)
  (r / prod(r)^(1/3))`` with ``r = mean(sqrt(diag(Lambda) / 4 ln 2))``,
  ``FWHM = 1 / RESEL``. With all residuals of a model this equals SPM's
  ``(n / df) mean_n(grad s grad s^T)`` on standardised residuals ``s``; give
  ``ndf = (n, df)`` to use SPM's formula on a subset of standardised residuals
  (SPM's ``ResI_*`` files when n exceeds 64). Only voxels whose forward neighbours
  along all three axes are in the mask contribute (derivatives are not defined
  across the mask edge).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.geometry import Grid
from ..results import FieldsToDict
from .rft import FOUR_LN2


@dataclass(frozen=True)
class Smoothness(FieldsToDict):
    """Smoothness of a map's noise on one voxel grid.

    Attributes
    ----------
    fwhm_mm : tuple of 3 float
        FWHM along the voxel axes i, j, k, in mm.
    fwhm_voxels : tuple of 3 float
        The same in voxels (what resel counts use).
    source : {"fwhm_mm", "fsl_smoothness", "residuals"}
        Where the values came from.
    details : dict
        Source specifics (file, DLH/VOLUME/RESELS, number of images, voxels used).
    """

    fwhm_mm: tuple[float, float, float]
    fwhm_voxels: tuple[float, float, float]
    source: str
    details: dict = field(default_factory=dict)


def _make(fwhm_voxels, grid: Grid, source: str, details: dict) -> Smoothness:
    vox = np.broadcast_to(np.asarray(fwhm_voxels, dtype=float), (3,))
    mm = vox * grid.zooms
    return Smoothness(tuple(float(v) for v in mm), tuple(float(v) for v in vox), source, details)


def smoothness_from_fwhm_mm(fwhm_mm, grid: Grid) -> Smoothness:
    """Smoothness given in mm: one value (isotropic) or three (voxel axes i, j, k).

    Raises
    ------
    MilnaInputError
        Not one or three positive finite values.
    """
    values = np.atleast_1d(np.asarray(fwhm_mm, dtype=float)).ravel()
    if values.size not in (1, 3) or not np.all(np.isfinite(values) & (values > 0)):
        raise input_error(
            None, f"the FWHM must be one or three positive values in mm, got {list(values)}"
        )
    if np.any(values > 1000):  # 1e300 mm made the resel counts divide by zero
        raise input_error(None, f"the FWHM must be at most 1000 mm (a smoothness wider than "
                                f"a head), got {[float(v) for v in values]}")
    mm = np.broadcast_to(values, (3,))
    return _make(mm / grid.zooms, grid, "fwhm_mm", {})


def parse_fsl_smoothness(text: str) -> dict[str, list[float]]:
    """Key -> numbers of an FSL ``smoothness`` file (``DLH 0.05`` per line)."""
    out: dict[str, list[float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            out[parts[0].upper()] = [float(v) for v in parts[1:]]
        except ValueError:
            continue
    return out


def read_fsl_smoothness(path: str | os.PathLike, grid: Grid) -> Smoothness:
    """Smoothness from FSL's ``stats/smoothness`` file (see the module notes).

    Parameters
    ----------
    path : path-like
    grid : Grid
        The statistic map's grid (FWHM mm = FWHM voxels x its voxel sizes).

    Raises
    ------
    MilnaInputError
        Missing or unreadable file, no usable RESELS / DLH value.
    """
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise input_error(
            path, f"cannot be read as an FSL smoothness file ({exc.strerror})"
        ) from None
    values = parse_fsl_smoothness(text)
    details: dict = {"file": str(path)}
    for key in ("DLH", "VOLUME", "RESELS"):
        if key in values:
            details[key.lower()] = values[key][0]
    fwhm_vox = values.get("FWHMVOXEL")
    if fwhm_vox is not None and len(fwhm_vox) == 3 and all(v > 0 for v in fwhm_vox):
        details["used"] = "FWHMvoxel"
        return _make(fwhm_vox, grid, "fsl_smoothness", details)
    resels = values.get("RESELS", [0.0])[0]
    if resels > 0 and np.isfinite(resels):
        details["used"] = "RESELS"
        return _make(resels ** (1.0 / 3.0), grid, "fsl_smoothness", details)
    dlh = values.get("DLH", [0.0])[0]
    if dlh > 0 and np.isfinite(dlh):
        details["used"] = "DLH"
        return _make((FOUR_LN2**1.5 / dlh) ** (1.0 / 3.0), grid, "fsl_smoothness", details)
    raise input_error(
        path, "is not an FSL smoothness file: it has no positive RESELS or DLH line"
    )


def _valid_derivative_voxels(mask: np.ndarray) -> np.ndarray:
    """In-mask voxels whose +1 neighbours along i, j and k are in the mask too."""
    valid = mask.copy()
    valid[-1, :, :] = False
    valid[:, -1, :] = False
    valid[:, :, -1] = False
    valid[:-1] &= mask[1:]
    valid[:, :-1] &= mask[:, 1:]
    valid[:, :, :-1] &= mask[:, :, 1:]
    return valid


def estimate_fwhm_voxels(
    residuals, mask: np.ndarray | None = None, ndf=None
) -> tuple[np.ndarray, dict]:
    """FWHM in voxels (i, j, k) of residual images, as spm_est_smoothness.

    Parameters
    ----------
    residuals : sequence of 3D arrays, 4D array (i, j, k, n), or callable
        The residual images. A callable ``residuals()`` must return a fresh iterable
        of 3D arrays each time it is called (the images are read twice, one at a
        time, so runs never sit in memory whole).
    mask : 3D bool array, optional
        Voxels to use; intersected with voxels finite in every image and with a
        non-zero sum of squares.
    ndf : (float, float), optional
        ``(n, df)``: treat the images as SPM standardised residuals of a model with
        ``n`` scans and ``df`` error degrees of freedom and use SPM's scaling
        ``(n / df) mean(grad s grad s^T)`` instead of normalising.

    Returns
    -------
    fwhm_voxels : ndarray, shape (3,)
    info : dict
        ``n_images``, ``n_voxels_used`` (voxels with derivatives), ``resels_per_voxel``.
    """
    images = _image_source(residuals)
    ssq = None
    finite = None
    n = 0
    for img in images():
        img = np.asarray(img, dtype=np.float64)
        if img.ndim != 3:
            raise ValueError(f"residual images must be 3D, got shape {img.shape}")
        if ssq is None:
            ssq = np.zeros(img.shape)
            finite = np.ones(img.shape, dtype=bool)
        elif img.shape != ssq.shape:
            raise ValueError("residual images differ in shape")
        ok = np.isfinite(img)
        finite &= ok
        ssq += np.where(ok, img, 0.0) ** 2
        n += 1
    if n < 2:
        raise ValueError("smoothness estimation needs at least two residual images")
    if min(ssq.shape) < 2:
        raise ValueError("smoothness estimation needs at least two voxels along every axis")
    use = finite & (ssq >= np.sqrt(np.finfo(float).eps))
    if mask is not None:
        use &= np.asarray(mask, dtype=bool)
    valid = _valid_derivative_voxels(use)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        raise ValueError("no voxel has in-mask neighbours along all three axes")
    strides = np.array([ssq.shape[1] * ssq.shape[2], ssq.shape[2], 1])
    scale = np.zeros(ssq.shape)
    if ndf is None:
        scale[use] = 1.0 / np.sqrt(ssq[use])
    else:
        scale[use] = 1.0
    L = np.zeros((idx.size, 3, 3))
    for img in images():
        u = (np.nan_to_num(np.asarray(img, dtype=np.float64)) * scale).ravel()
        here = u[idx]
        grad = np.stack([u[idx + s] - here for s in strides], axis=1)
        L += grad[:, :, None] * grad[:, None, :]
    if ndf is not None:
        n_full, edf = (float(v) for v in ndf)
        L *= (n_full / edf) / n
    if not (np.diagonal(L, axis1=1, axis2=2) > 0).any():
        raise ValueError("the residuals do not vary from voxel to voxel (every spatial "
                         "derivative is zero: constant images?), so they say nothing about "
                         "the smoothness")
    det = np.linalg.det(L)
    resel_img = np.sqrt(np.maximum(det, 0.0) / FOUR_LN2**3)
    resel_xyz = np.sqrt(np.diagonal(L, axis1=1, axis2=2) / FOUR_LN2)
    mean_img = resel_img.mean()
    mean_xyz = resel_xyz.mean(axis=0)
    resel = mean_img ** (1.0 / 3.0) * (mean_xyz / np.prod(mean_xyz) ** (1.0 / 3.0))
    fwhm = 1.0 / resel
    fwhm[~np.isfinite(fwhm) | (fwhm == 0)] = 1.0
    info = {"n_images": n, "n_voxels_used": int(idx.size), "resels_per_voxel": float(mean_img)}
    return fwhm, info



def _image_source(residuals):
    if callable(residuals):
        return residuals
    if isinstance(residuals, np.ndarray):
        if residuals.ndim != 4:
            raise ValueError(f"a residual array must be 4D (i, j, k, n), got {residuals.ndim}D")
        return lambda: (residuals[..., t] for t in range(residuals.shape[3]))
    seq = list(residuals)
    return lambda: iter(seq)


def estimate_smoothness(
    paths: Sequence[str | os.PathLike], grid: Grid, mask: np.ndarray | None = None, ndf=None
) -> Smoothness:
    """Smoothness of residual images read from files (a 4D run or several 3D volumes).

    Parameters
    ----------
    paths : sequence of path-like
        One 4D residual image (FSL ``res4d``) or several 3D ones (SPM ``ResI_*.nii``;
        4D files are accepted in the list too).
    grid : Grid
        The statistic map's grid; every residual image must lie on it.
    mask : 3D bool array, optional
        Analysis mask on ``grid``.
    ndf : (float, float), optional
        See :func:`estimate_fwhm_voxels`.

    Raises
    ------
    MilnaInputError
        A file that cannot be read, lies on another grid, or fewer than two images.
    """
    from ..io.nifti import open_nifti

    sources = []
    for p in paths:
        src = open_nifti(p)
        if not src.grid.matches(grid):
            raise input_error(
                p,
                f"is on a different voxel grid ({src.grid.describe()}) than the statistic map "
                f"({grid.describe()}); residuals must come from the model that made the map",
            )
        sources.append(src)

    def images() -> Iterable[np.ndarray]:
        for src in sources:
            if src.is_run:
                run = src.run()
                for t in range(src.n_volumes):
                    yield run.volume(t)
            else:
                yield src.volume()

    n_images = sum(s.n_volumes for s in sources)
    if n_images < 2:
        raise input_error(
            paths[0], "holds a single residual volume; smoothness estimation needs several"
        )
    try:
        fwhm, info = estimate_fwhm_voxels(images, mask, ndf)
    except ValueError as exc:
        raise input_error(paths[0], f"cannot give a smoothness estimate: {exc}") from None
    info["files"] = [str(p) for p in paths]
    return _make(fwhm, grid, "residuals", info)
