"""Small SPM / FEAT / randomise / BIDS folders written the way those tools write them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari_milna.sample_data.spm_folder import write_feat_folder, write_spm_second_level
from scipy import ndimage

from tests.conftest import write_nifti

AFFINE = np.array([[2.5, 0, 0, -20.0], [0, 2.5, 0, -30.0], [0, 0, 3.0, -18.0], [0, 0, 0, 1]])
SHAPE = (16, 18, 14)
FWHM_MM = 6.0
N_SUBJECTS = 12


def _writer(data, path, affine, description=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_nifti(path, data, affine, 4, description)


def group_data(seed: int = 0):
    """Subject maps (smoothed noise plus a blob) and a brain-like mask."""
    rng = np.random.default_rng(seed)
    sigma = FWHM_MM / np.sqrt(8 * np.log(2)) / np.array([2.5, 2.5, 3.0])
    maps = np.stack([ndimage.gaussian_filter(rng.normal(size=SHAPE), sigma) * 4.0
                     for _ in range(N_SUBJECTS)])
    zz = np.indices(SHAPE)
    blob = np.exp(-sum((zz[a] - c) ** 2 for a, c in enumerate((8, 9, 7))) / 8.0)
    maps += 1.2 * blob
    mask = np.zeros(SHAPE, bool)
    mask[1:-1, 1:-1, 1:-1] = True
    maps *= mask
    return maps, mask


def one_sample_t(maps, mask):
    mean = maps.mean(0)
    sd = maps.std(0, ddof=1)
    t = np.zeros(mask.shape)
    t[mask] = mean[mask] / (sd[mask] / np.sqrt(maps.shape[0]))
    return t, mean


def spm_folder(folder: Path, seed: int = 0) -> dict:
    """An SPM12 second-level folder: SPM.mat, spmT_0001, con_0001, mask, beta, ResMS, RPV."""
    folder.mkdir(parents=True, exist_ok=True)
    maps, mask = group_data(seed)
    t, mean = one_sample_t(maps, mask)
    desc = f"SPM{{T_[{N_SUBJECTS - 1}.0]}} - contrast 1: drug x pain"
    write_nifti(folder / "spmT_0001.nii", t.astype(np.float32), AFFINE, 4, desc)
    write_nifti(folder / "con_0001.nii", mean.astype(np.float32), AFFINE, 4, "SPM contrast")
    write_nifti(folder / "mask.nii", mask.astype(np.uint8), AFFINE, 4, "SPM mask")
    info = write_spm_second_level(folder, maps, mask, AFFINE, FWHM_MM, "drug x pain", desc,
                                  _writer)
    return dict(info, t=t, mask=mask, folder=folder)


def feat_folder(feat: Path, seed: int = 0) -> dict:
    """A FEAT-like higher-level folder of the same kind of data."""
    maps, mask = group_data(seed)
    info = write_feat_folder(feat, maps, mask, AFFINE, FWHM_MM, "drug x pain", _writer)
    return dict(info, mask=mask, folder=feat)
