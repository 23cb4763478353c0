"""A small SPM T map (df 20 in its header) and box ROIs on 2.5 x 2.5 x 3 mm LAS voxels (SVC)."""

from __future__ import annotations

import numpy as np

from tests.conftest import write_nifti

# 2.5 x 2.5 x 3 mm EPI-like voxels, LAS (x flipped) so that mm come from the affine
AFF = np.array([[-2.5, 0, 0, 20.0], [0, 2.5, 0, -50.0], [0, 0, 3.0, -40.0], [0, 0, 0, 1]])
SHAPE = (14, 14, 12)
#: The header SPM writes for a T map with 20 df.
SPM_T_DESCRIPTION = "SPM{T_[20.0]} - contrast 1: drug x pain"


def stat_map(seed=0, spread=1.5, peaks=None) -> np.ndarray:
    """Uniform noise in ``[-spread, spread)`` with ``peaks`` (``{ijk: value}``), float32.

    The default peaks: 4.4 at (6, 7, 6) and -4.9 at (4, 4, 4).
    """
    rng = np.random.default_rng(seed)
    data = rng.uniform(-spread, spread, SHAPE).astype(np.float32)
    for ijk, value in (peaks or {(6, 7, 6): 4.4, (4, 4, 4): -4.9}).items():
        data[ijk] = value
    return data


def box(shape=SHAPE, lo=(3, 3, 3), hi=(8, 8, 8)) -> np.ndarray:
    """A uint8 box ROI ``lo:hi``."""
    m = np.zeros(shape, np.uint8)
    m[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = 1
    return m


def write_spm_t(folder, data):
    """``folder/spmT_0001.nii`` with SPM's header (df 20); returns its path."""
    return write_nifti(folder / "spmT_0001.nii", data, AFF, description=SPM_T_DESCRIPTION)
