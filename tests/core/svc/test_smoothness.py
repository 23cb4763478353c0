"""Smoothness sources: FWHM in mm, FSL smoothness files, residual-based estimation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.smoothness import (
    estimate_fwhm_voxels,
    estimate_smoothness,
    read_fsl_smoothness,
    smoothness_from_fwhm_mm,
)
from tests.conftest import write_nifti

EPI = np.diag([2.5, 2.5, 3.0, 1.0])
GRID = Grid((20, 20, 16), EPI)
SIGMA_PER_FWHM = 1 / np.sqrt(8 * np.log(2))


def smooth_noise(rng, fwhm_vox, shape=(44, 44, 44), n=30, crop=8):
    """n Gaussian noise images smoothed with a Gaussian kernel of known FWHM (voxels)."""
    sigma = np.asarray(fwhm_vox) * SIGMA_PER_FWHM
    out = []
    for _ in range(n):
        x = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
        out.append(x[crop:-crop, crop:-crop, crop:-crop])
    return out


def lattice_fwhm(fwhm_vox):
    """FWHM that forward differences of the sampled-kernel field imply (exact expectation).

    For a field made by filtering white noise with weights w, the lag-one correlation
    is rho = sum w_k w_{k+1} / sum w_k^2 and Var(difference) = 2 (1 - rho); the FWHM of
    a Gaussian field with that roughness is sqrt(4 ln 2 / (2 (1 - rho))).
    """
    out = []
    for f in np.atleast_1d(fwhm_vox):
        delta = np.zeros(201)
        delta[100] = 1
        w = ndimage.gaussian_filter1d(delta, f * SIGMA_PER_FWHM)
        rho = np.sum(w[1:] * w[:-1]) / np.sum(w**2)
        out.append(np.sqrt(4 * np.log(2) / (2 * (1 - rho))))
    return np.array(out)


def test_fwhm_mm_one_or_three_values():
    s = smoothness_from_fwhm_mm(5.0, GRID)
    np.testing.assert_allclose(s.fwhm_voxels, [2.0, 2.0, 5 / 3])
    np.testing.assert_allclose(s.fwhm_mm, [5, 5, 5])
    assert s.source == "fwhm_mm"
    s3 = smoothness_from_fwhm_mm([5.0, 6.0, 6.0], GRID)
    np.testing.assert_allclose(s3.fwhm_voxels, [2.0, 2.4, 2.0])
    for bad in ([5.0, 6.0], [0.0], [-4.0, 4.0, 4.0], [np.nan]):
        with pytest.raises(MilnaInputError):
            smoothness_from_fwhm_mm(bad, GRID)


def fsl_lines(sigmasq, dof_factor=1.0):
    """DLH / RESELS exactly as FSL smoothest.cc computes them from sigma^2 per axis."""
    sx, sy, sz = sigmasq
    dlh = (sx * sy * sz) ** -0.5 * 8**-0.5 * dof_factor
    fwhm = [np.sqrt(8 * np.log(2) * s) for s in sigmasq]
    return dlh, fwhm[0] * fwhm[1] * fwhm[2], fwhm


def test_fsl_smoothness_resels_is_the_volume_of_one_resel(tmp_path):
    dlh, resels, fwhm = fsl_lines([1.6, 1.6, 1.6], dof_factor=1.03)
    path = tmp_path / "smoothness"
    path.write_text(f"DLH {dlh}\nVOLUME 23456\nRESELS {resels}\n")
    s = read_fsl_smoothness(path, GRID)
    np.testing.assert_allclose(s.fwhm_voxels, fwhm, rtol=1e-12)
    np.testing.assert_allclose(s.fwhm_mm, np.array(fwhm) * [2.5, 2.5, 3.0], rtol=1e-12)
    assert s.source == "fsl_smoothness"
    assert s.details["used"] == "RESELS" and s.details["volume"] == 23456


def test_fsl_smoothness_dlh_only_and_fwhmvoxel_line(tmp_path):
    dlh, _, fwhm = fsl_lines([2.0, 2.0, 2.0])  # no df factor: DLH and RESELS agree
    path = tmp_path / "smoothness"
    path.write_text(f"DLH {dlh}\nVOLUME 100\n")
    np.testing.assert_allclose(read_fsl_smoothness(path, GRID).fwhm_voxels, fwhm, rtol=1e-12)
    path.write_text(f"DLH {dlh}\nVOLUME 100\nRESELS 30\nFWHMvoxel 2.5 3 3.5\n")
    np.testing.assert_allclose(read_fsl_smoothness(path, GRID).fwhm_voxels, [2.5, 3, 3.5])


def test_fsl_smoothness_bad_files(tmp_path):
    with pytest.raises(MilnaInputError, match="nope"):
        read_fsl_smoothness(tmp_path / "nope", GRID)
    bad = tmp_path / "smoothness"
    bad.write_text("hello world\n")
    with pytest.raises(MilnaInputError, match="smoothness"):
        read_fsl_smoothness(bad, GRID)


def test_residual_estimate_of_smoothed_noise_of_known_fwhm():
    rng = np.random.default_rng(11)
    fwhm = np.array([5.0, 4.0, 6.0])
    fwhm_est, info = estimate_fwhm_voxels(smooth_noise(rng, fwhm, n=30))
    # within a few % of the nominal FWHM, and closer still to the lattice expectation
    np.testing.assert_allclose(fwhm_est, fwhm, rtol=0.04)
    np.testing.assert_allclose(fwhm_est, lattice_fwhm(fwhm), rtol=0.025)
    assert info["n_images"] == 30 and info["n_voxels_used"] == 27**3


def test_standardised_residuals_with_ndf_give_the_same_estimate():
    # SPM: L = (n/df) mean_n(grad s grad s') on s = e / sqrt(RSS/df) equals the
    # normalised-residual estimate when every residual image is given.
    rng = np.random.default_rng(3)
    e = smooth_noise(rng, 3.0, shape=(30, 30, 30), n=12, crop=4)
    rss = sum(x**2 for x in e)
    df = 9.0
    s = [x / np.sqrt(rss / df) for x in e]
    a, _ = estimate_fwhm_voxels(e)
    b, _ = estimate_fwhm_voxels(s, ndf=(12, df))
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_mask_edges_are_excluded_and_nan_outside_is_fine():
    rng = np.random.default_rng(5)
    imgs = smooth_noise(rng, 4.0, n=20)
    shape = imgs[0].shape
    mask = np.zeros(shape, bool)
    mask[3:-3, 3:-3, 3:-3] = True
    nan_imgs = [np.where(mask, x, np.nan) for x in imgs]
    zero_imgs = [np.where(mask, x, 0.0) for x in imgs]
    a, info = estimate_fwhm_voxels(nan_imgs)
    b, _ = estimate_fwhm_voxels(zero_imgs)
    c, _ = estimate_fwhm_voxels(imgs, mask=mask)
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a, c)
    n_inner = (shape[0] - 6 - 1) * (shape[1] - 6 - 1) * (shape[2] - 6 - 1)
    assert info["n_voxels_used"] == n_inner
    np.testing.assert_allclose(a, lattice_fwhm([4.0] * 3), rtol=0.04)


def test_from_files_4d_equals_list_of_3d(tmp_path):
    rng = np.random.default_rng(9)
    imgs = smooth_noise(rng, 3.0, shape=(28, 28, 24), n=6, crop=4)
    grid = Grid(imgs[0].shape, EPI)
    four_d = tmp_path / "res4d.nii.gz"
    write_nifti(four_d, np.stack(imgs, axis=-1).astype(np.float32), EPI)
    files = []
    for i, x in enumerate(imgs):
        files.append(tmp_path / f"ResI_{i + 1:04d}.nii")
        write_nifti(files[-1], x.astype(np.float32), EPI)
    a = estimate_smoothness([four_d], grid)
    b = estimate_smoothness(files, grid)
    np.testing.assert_allclose(a.fwhm_voxels, b.fwhm_voxels, rtol=1e-6)
    np.testing.assert_allclose(a.fwhm_mm, np.array(a.fwhm_voxels) * [2.5, 2.5, 3.0])
    assert a.source == "residuals" and a.details["n_images"] == 6
    other = Grid(imgs[0].shape, np.diag([2.0, 2.0, 2.0, 1.0]))
    with pytest.raises(MilnaInputError, match="different voxel grid"):
        estimate_smoothness([four_d], other)
    with pytest.raises(MilnaInputError, match="single residual"):
        estimate_smoothness(files[:1], grid)
