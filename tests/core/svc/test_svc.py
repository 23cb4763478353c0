"""Small-volume correction: p values against hand formulas and scipy, peaks, clusters,
dropout-aware counts, two-sided searches, bad input and FWE validity on null fields."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, stats

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.correction import fdr_q_values, small_volume_correction
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm

A = 4 * np.log(2)
# LAS, 2 mm: x flips, so world positions test the affine, not the index
AFF = np.array([[-2.0, 0, 0, 40], [0, 2, 0, -60], [0, 0, 2, -30], [0, 0, 0, 1]])
GRID = Grid((16, 16, 16), AFF)
SMOOTH_2VOX = smoothness_from_fwhm_mm(4.0, GRID)  # FWHM 2 voxels


def box_roi():
    roi = np.zeros(GRID.shape, bool)
    roi[5:10, 5:10, 5:10] = True  # 5 x 5 x 5 -> resels [1, 6, 12, 8] at FWHM 2 voxels
    return roi


def background(seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, GRID.shape)


def t_p_rft_by_hand(t, v, resels):
    c = (1 + t * t / v) ** ((1 - v) / 2)
    from math import gamma, sqrt

    b = gamma((v + 1) / 2) / gamma(v / 2)
    rho = [
        stats.t.sf(t, v),
        sqrt(A) / (2 * np.pi) * c,
        A / (2 * np.pi) ** 1.5 * c * t * b / sqrt(v / 2),
        A**1.5 / (2 * np.pi) ** 2 * c * ((v - 1) * t * t / v - 1),
    ]
    ec = sum(r * max(p, np.finfo(float).eps) for r, p in zip(resels, rho))
    return 1 - np.exp(-(ec + np.finfo(float).eps))


def test_box_roi_t_map_against_hand_formulas():
    stat = background()
    stat[7, 6, 8] = 4.2
    res = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "T", 20)
    np.testing.assert_allclose(res.resels, [1, 6, 12, 8])
    assert res.n_voxels == 125
    pk = res.peak
    assert pk.ijk == (7, 6, 8)
    np.testing.assert_allclose(pk.xyz_mm, [40 - 14, -60 + 12, -30 + 16])
    p_unc = stats.t.sf(4.2, 20)
    assert pk.p_uncorrected == pytest.approx(p_unc, rel=1e-10)
    assert pk.p_fwe_bonferroni == pytest.approx(min(1, 125 * p_unc), rel=1e-10)
    assert pk.p_fwe_rft == pytest.approx(t_p_rft_by_hand(4.2, 20, [1, 6, 12, 8]), rel=1e-9)
    assert pk.p_fwe == min(pk.p_fwe_rft, pk.p_fwe_bonferroni)
    assert pk.z == pytest.approx(stats.norm.isf(p_unc), rel=1e-9)
    ps = stats.t.sf(stat[5:10, 5:10, 5:10].ravel(), 20)
    assert pk.q_fdr == pytest.approx(stats.false_discovery_control(ps, method="bh").min())
    assert res.threshold_fwe.bonferroni == pytest.approx(stats.t.isf(0.05 / 125, 20))
    assert res.smoothness.source == "fwhm_mm"
    d = res.to_dict()
    for key in ("n_voxels", "resels", "fwhm_mm", "stat_type", "df", "peak", "threshold_fwe",
                "peaks", "clusters"):
        assert key in d
    assert set(d["threshold_fwe"]) == {"rft", "bonferroni", "used"}


def test_fdr_q_values_against_scipy():
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 1e-3, 20), [0.5, 0.5]])
    np.testing.assert_allclose(fdr_q_values(p), stats.false_discovery_control(p, method="bh"),
                               rtol=1e-12)
    # hand example: p = [0.01, 0.04, 0.03, 0.2] -> sorted ranks 1..4, m = 4
    np.testing.assert_allclose(fdr_q_values([0.01, 0.04, 0.03, 0.2]),
                               [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])


def test_dropout_shrinks_s_but_not_the_roi_resels():
    stat = background()
    stat[7, 7, 7] = 5.0
    stat[5:10, 5:10, 5] = np.nan  # one slab lost to dropout
    stat[5:10, 5:10, 9] = 0.0  # and one zeroed (SPM/FSL style)
    res = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z")
    assert res.n_voxels == 75 and res.n_roi_voxels == 125
    np.testing.assert_allclose(res.resels, [1, 6, 12, 8])
    assert res.peak.p_fwe_bonferroni == pytest.approx(75 * stats.norm.sf(5.0), rel=1e-10)
    inside = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z",
                                     resels_in_mask=True)
    # 5 x 5 x 3 voxels left: a box of 4 x 4 x 2 voxels between centres, s = (2, 2, 1)
    np.testing.assert_allclose(inside.resels, [1, 5, 8, 4])


def test_explicit_mask_keeps_zero_valued_voxels():
    stat = background()
    stat[5:10, 5:10, 9] = 0.0
    mask = np.ones(GRID.shape, bool)
    res = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z", analysis_mask=mask)
    assert res.n_voxels == 125
    mask[5:10, 5:7, 5:10] = False
    res = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z", analysis_mask=mask)
    assert res.n_voxels == 75


def test_two_sided_reports_the_sign_and_doubles_p():
    stat = background()
    stat[6, 6, 6] = -4.5
    stat[8, 8, 8] = 3.9
    one = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z")
    two = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z", two_sided=True)
    assert one.peak.ijk == (8, 8, 8) and one.peak.sign == 1
    assert two.peak.ijk == (6, 6, 6) and two.peak.sign == -1
    assert two.peak.value == -4.5 and two.peak.z == pytest.approx(-4.5)
    assert two.peak.p_uncorrected == pytest.approx(2 * stats.norm.sf(4.5), rel=1e-12)
    p_one_at_45 = small_volume_correction(-stat, box_roi(), GRID, SMOOTH_2VOX, "Z").peak
    assert two.peak.p_fwe_rft == pytest.approx(2 * p_one_at_45.p_fwe_rft, rel=1e-12)
    assert two.threshold_fwe.bonferroni == pytest.approx(stats.norm.isf(0.025 / 125))
    signs = {c.sign for c in two.clusters}
    assert signs == {1, -1}


def test_peaks_clusters_connectivity_and_minimum_distance():
    stat = np.full(GRID.shape, 0.5)
    roi = np.zeros(GRID.shape, bool)
    roi[2:14, 2:14, 2:14] = True
    # cluster A: a ridge with two maxima 2 voxels (4 mm) apart and one 3 voxels (6 mm) away
    stat[4, 4, 4], stat[5, 4, 4], stat[6, 4, 4] = 6.0, 4.0, 5.0
    stat[7, 4, 4], stat[8, 4, 4], stat[9, 4, 4] = 4.0, 4.0, 5.5
    # clusters B, C: two voxels touching only at a corner
    stat[10, 10, 10] = 4.5
    stat[11, 11, 11] = 4.4
    res = small_volume_correction(stat, roi, GRID, SMOOTH_2VOX, "Z", height=3.5)
    sizes = sorted(c.n_voxels for c in res.clusters)
    assert sizes == [1, 1, 6]  # 18-connectivity splits the corner pair
    first = res.clusters[0]
    assert first.n_voxels == 6 and first.peak_ijk == (4, 4, 4)
    assert first.volume_mm3 == pytest.approx(6 * 8.0)
    listed = [(p.ijk, p.cluster) for p in res.peaks]
    # (6,4,4) is 4 mm from (4,4,4): not > 4 mm -> dropped; (9,4,4) is 10 mm away -> kept
    assert listed[0] == ((4, 4, 4), 1) and listed[1] == ((9, 4, 4), 1)
    assert ((6, 4, 4), 1) not in listed
    assert len(res.peaks) == 4
    res26 = small_volume_correction(stat, roi, GRID, SMOOTH_2VOX, "Z", height=3.5,
                                    connectivity=26)
    assert sorted(c.n_voxels for c in res26.clusters) == [2, 6]
    res_close = small_volume_correction(stat, roi, GRID, SMOOTH_2VOX, "Z", height=3.5,
                                        min_distance_mm=3.0)
    assert ((6, 4, 4), 1) in [(p.ijk, p.cluster) for p in res_close.peaks]


def test_peak_below_height_threshold_is_still_reported():
    stat = background()
    res = small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "T", 12)
    assert res.peaks == [] and res.clusters == []
    assert res.peak.cluster is None and res.peak.p_fwe > 0.5


def test_bad_input():
    stat = background()
    with pytest.raises(MilnaInputError, match="empty"):
        small_volume_correction(stat, np.zeros(GRID.shape, bool), GRID, SMOOTH_2VOX, "Z")
    stat[box_roi()] = np.nan
    with pytest.raises(MilnaInputError, match="inside the analysis mask"):
        small_volume_correction(stat, box_roi(), GRID, SMOOTH_2VOX, "Z")
    with pytest.raises(MilnaInputError, match="one tail"):
        small_volume_correction(background(), box_roi(), GRID, SMOOTH_2VOX, "F", (2, 20),
                                two_sided=True)


def smooth_null_fields(rng, n, shape, fwhm_vox):
    """Unit-variance stationary Gaussian fields of known FWHM (wrap-around smoothing)."""
    sigma = np.asarray(fwhm_vox) / np.sqrt(8 * np.log(2))
    delta = np.zeros(shape)
    delta[0, 0, 0] = 1
    sd = np.sqrt((ndimage.gaussian_filter(delta, sigma, mode="wrap") ** 2).sum())
    for _ in range(n):
        yield ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap") / sd


def test_fwe_rate_on_null_fields_in_a_pag_sized_roi():
    # 2.5 x 2.5 x 3 mm voxels, FWHM 6 mm, a cylinder of ~150 voxels (PAG-sized search)
    aff = np.diag([2.5, 2.5, 3.0, 1.0])
    shape = (20, 20, 20)
    grid = Grid(shape, aff)
    ii = np.indices(shape)
    roi = ((ii[0] - 10) * 2.5) ** 2 + ((ii[1] - 10) * 2.5) ** 2 <= 7.5**2
    roi &= (ii[2] >= 6) & (ii[2] < 12)
    assert 100 <= roi.sum() <= 200
    smooth = smoothness_from_fwhm_mm(6.0, grid)
    rng = np.random.default_rng(2024)
    n_fields, alpha = 600, 0.05
    hits = 0
    for field in smooth_null_fields(rng, n_fields, shape, smooth.fwhm_voxels):
        res = small_volume_correction(field, roi, grid, smooth, "Z", height_p=0.01)
        hits += res.peak.p_fwe <= alpha
    # validity: not more false positives than alpha allows (one-sided binomial test)
    assert stats.binomtest(hits, n_fields, alpha, alternative="greater").pvalue > 0.001
    assert hits / n_fields <= alpha + 2.5 * np.sqrt(alpha * (1 - alpha) / n_fields)
