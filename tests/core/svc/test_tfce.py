"""TFCE against nilearn's implementation, exact enumeration, and nilearn's permutation p."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from nilearn.maskers import NiftiMasker
from nilearn.mass_univariate import permuted_ols
from nilearn.mass_univariate._utils import calculate_tfce
from scipy import ndimage

from napari_milna.core.svc.permutation import subject_matrix
from napari_milna.core.svc.tfce import tfce_map, tfce_sign_flip_test

RANK = {6: 1, 18: 2, 26: 3}


def smooth_map(seed, shape=(11, 12, 9), amp=6.0):
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), 1.2) * amp


@pytest.mark.parametrize("connectivity", [6, 18, 26])
@pytest.mark.parametrize("two_sided", [False, True])
def test_tfce_map_equals_nilearn(connectivity, two_sided):
    v = smooth_map(1)
    roi = np.zeros(v.shape, bool)
    roi[1:10, 2:11, 1:8] = True
    masked = np.where(roi, v, 0.0)
    ref = calculate_tfce(masked[..., None].copy(),
                         ndimage.generate_binary_structure(3, RANK[connectivity]),
                         two_sided_test=two_sided)[..., 0]
    ours = tfce_map(v, roi, connectivity=connectivity, two_sided=two_sided)
    assert np.abs(ours - ref).max() < 1e-6
    assert np.abs(ref).max() > 100  # not a trivial map
    # a fixed step: nilearn's dh
    ref = calculate_tfce(masked[..., None].copy(),
                         ndimage.generate_binary_structure(3, RANK[connectivity]),
                         dh=0.1, two_sided_test=False)[..., 0]
    ours = tfce_map(v, roi, connectivity=connectivity, dh=0.1)
    assert np.abs(ours - ref).max() < 1e-6


def subjects(n, shape=(8, 9, 7), effect=0.6, seed=2):
    rng = np.random.default_rng(seed)
    zz = np.indices(shape)
    blob = np.exp(-sum((zz[a] - c) ** 2 for a, c in enumerate((3, 4, 3))) / 4.0)
    return [ndimage.gaussian_filter(rng.normal(size=shape), 1.0) * 3 + effect * blob
            for _ in range(n)]


def test_exhaustive_p_equals_enumeration_by_hand():
    vols = subjects(7)
    search = np.ones(vols[0].shape, bool)
    search[0] = False
    data, kept = subject_matrix(vols, search)
    res = tfce_sign_flip_test(data, kept, connectivity=26)
    assert res.exhaustive and res.n_perm == 128
    n = data.shape[0]
    maxima = []
    for code in range(2**n):
        signs = 1 - 2 * ((code >> np.arange(n)) & 1)
        x = data * signs[:, None]
        t = x.mean(0) / (x.std(0, ddof=1) / np.sqrt(n))
        vol = np.zeros(kept.shape)
        vol[kept] = t
        maxima.append(tfce_map(vol, kept, connectivity=26)[kept].max())
    maxima = np.array(maxima)
    t_obs = data.mean(0) / (data.std(0, ddof=1) / np.sqrt(n))
    vol = np.zeros(kept.shape)
    vol[kept] = t_obs
    obs = tfce_map(vol, kept, connectivity=26)[kept]
    np.testing.assert_allclose(res.tfce, obs, atol=1e-9)
    want = (maxima[None, :] >= obs[:, None] - 1e-9).sum(1) / 2**n
    np.testing.assert_allclose(res.p_fwe, want)
    assert 0 < res.p_fwe[res.peak_index] < 1


def test_observed_tfce_and_fwe_p_agree_with_nilearn_permuted_ols(tmp_path):
    n_perm = 1000
    vols = subjects(12, effect=0.35, seed=5)
    shape = vols[0].shape
    mask = np.zeros(shape, bool)
    mask[1:-1, 1:-1, 1:-1] = True
    data, kept = subject_matrix(vols, mask)
    res = tfce_sign_flip_test(data, kept, n_perm=n_perm, seed=3, connectivity=6)
    assert not res.exhaustive and res.n_perm == n_perm
    mask_img = nib.Nifti1Image(kept.astype(np.uint8), np.eye(4))
    masker = NiftiMasker(mask_img).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = permuted_ols(np.ones((data.shape[0], 1)), data, model_intercept=False,
                           n_perm=n_perm, two_sided_test=False, random_state=0, n_jobs=1,
                           tfce=True, masker=masker, output_type="dict", verbose=0)
    ref_tfce = np.ravel(out["tfce"])
    assert np.abs(res.tfce - ref_tfce).max() < 1e-6
    ref_p = 10.0 ** -np.ravel(out["logp_max_tfce"])
    i = res.peak_index
    p_ours, p_ref = res.p_fwe[i], ref_p[i]
    assert 0.02 < p_ref < 0.9, "pick data whose peak p is testable"
    se = np.sqrt(2 * p_ref * (1 - p_ref) / n_perm)
    assert abs(p_ours - p_ref) < 4 * se + 2 / n_perm
    # and over voxels with testable p values
    ok = (ref_p > 0.05) & (ref_p < 0.95)
    se = np.sqrt(2 * ref_p[ok] * (1 - ref_p[ok]) / n_perm)
    assert np.all(np.abs(res.p_fwe[ok] - ref_p[ok]) < 4 * se + 2 / n_perm)
