"""SPM's set- and cluster-level inference against DESIGN.md's worked case and hand formulas."""

from __future__ import annotations

from math import gamma, log, pi, sqrt

import numpy as np
import pytest
from scipy import ndimage, stats

from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.cluster_level import (
    cluster_expectations,
    intrinsic_volume,
    nonstationary_extent,
    p_clusters,
    set_level_p,
    topological_fdr,
)
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm

# DESIGN.md: a 30 mm cube at FWHM 8 mm, T(20), u = 3
R_CUBE = [1, 11.25, 42.1875, 52.734375]
A = 4 * log(2)


def test_worked_case_expectations():
    e = cluster_expectations(3.0, R_CUBE, "T", 20)
    assert e.ec == pytest.approx(2.100453, abs=5e-7)
    assert e.ek == pytest.approx(0.1367201, abs=5e-8)
    assert e.dimension == 3


def test_worked_case_cluster_and_set_level():
    p_fwe, p_k = p_clusters(1, 0.5, 3.0, R_CUBE, "T", 20)
    assert float(p_k) == pytest.approx(0.0567111, abs=5e-8)
    assert float(p_fwe) == pytest.approx(0.1122979, abs=5e-8)
    assert set_level_p(3, 0.0, 3.0, R_CUBE, "T", 20) == pytest.approx(0.3504909, abs=5e-8)


def _by_hand_t(u, v, resels, k_resels, c):
    """spm_P_RF written out with scipy, independently of the module."""
    cc = (1 + u * u / v) ** ((1 - v) / 2)
    b = gamma((v + 1) / 2) / gamma(v / 2)
    rho = [stats.t.sf(u, v), sqrt(A) / (2 * pi) * cc,
           A / (2 * pi) ** 1.5 * cc * u * b / sqrt(v / 2),
           A**1.5 / (2 * pi) ** 2 * cc * ((v - 1) * u * u / v - 1)]
    rho = [max(r, np.finfo(float).eps) for r in rho]
    ec = sum(r * p for r, p in zip(resels, rho))
    ek = rho[0] / rho[3]
    beta = (gamma(2.5) / ek) ** (2 / 3)
    p_k = np.exp(-beta * k_resels ** (2 / 3)) if k_resels > 0 else 1.0
    return 1 - stats.poisson.cdf(c - 1, (ec + np.finfo(float).eps) * p_k), p_k, ec


@pytest.mark.parametrize("u,v,k,c", [(3.2, 14, 0.8, 1), (2.5, 40, 2.0, 2), (4.0, 9, 0.1, 3)])
def test_matches_hand_formula(u, v, k, c):
    resels = [1, 8.0, 20.0, 15.0]
    want_p, want_pk, want_ec = _by_hand_t(u, v, resels, k, c)
    got_p, got_pk = p_clusters(c, k, u, resels, "T", v)
    assert float(got_p) == pytest.approx(want_p, rel=1e-10)
    assert float(got_pk) == pytest.approx(want_pk, rel=1e-10)
    assert cluster_expectations(u, resels, "T", v).ec == pytest.approx(want_ec, rel=1e-12)


def test_intrinsic_volume_of_a_cube_by_hand():
    # a 3x3x3 block at FWHM 1 voxel spans 2 voxels: R = [1, 6, 12, 8] (a 2x2x2 box)
    m = np.zeros((7, 7, 7), bool)
    m[2:5, 2:5, 2:5] = True
    assert intrinsic_volume(m) == pytest.approx(0.5 + 2 / 3 * 6 + 2 / 3 * 12 + 8)
    rpv = np.full(m.shape, 0.05)
    rpv[3, 3, 3] = np.nan  # ignored, as SPM's valid-LKC mean
    assert nonstationary_extent(m, rpv, 0.2) == pytest.approx(20.5 * 0.05)
    assert nonstationary_extent(m, np.full(m.shape, np.nan), 0.2) == pytest.approx(20.5 * 0.2)


def _blob_map():
    shape = (24, 24, 20)
    rng = np.random.default_rng(3)
    stat = ndimage.gaussian_filter(rng.normal(size=shape), 1.0) * 2.0
    zz = np.indices(shape)
    for centre, amp in (((7, 7, 7), 6.0), ((16, 15, 11), 5.0), ((8, 17, 13), 4.5)):
        d2 = sum((zz[a] - centre[a]) ** 2 for a in range(3))
        stat += amp * np.exp(-d2 / 6.0)
    roi = np.zeros(shape, bool)
    roi[2:22, 2:22, 2:18] = True
    return stat, roi, Grid(shape, np.diag([2.0, 2.0, 2.0, 1.0]))


def test_table_of_an_svc_by_hand():
    stat, roi, grid = _blob_map()
    sm = smoothness_from_fwhm_mm(6.0, grid)  # 3 voxels
    res = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01)
    table = res.levels
    u = stats.t.isf(0.01, 20)
    assert table.height == pytest.approx(u)
    labels, n = ndimage.label(roi & (stat >= u), ndimage.generate_binary_structure(3, 2))
    sizes = sorted(np.bincount(labels.ravel())[1:].tolist(), reverse=True)
    assert sorted((c.k for c in table.clusters), reverse=True) == sizes
    assert table.n_clusters == n
    v2r = 1 / 27.0
    for c in table.clusters:
        want_p, want_pk, _ = _by_hand_t(u, 20, res.resels, c.k * v2r, 1)
        assert c.k_resels == pytest.approx(c.k * v2r)
        assert c.p_fwe == pytest.approx(want_p, rel=1e-9)
        assert c.p_uncorrected == pytest.approx(want_pk, rel=1e-9)
        # at most 3 maxima, strongest first, more than 8 mm apart
        assert 1 <= len(c.peaks) <= 3
        xyz = np.array([p.xyz_mm for p in c.peaks])
        values = [p.value for p in c.peaks]
        assert values == sorted(values, reverse=True)
        if len(xyz) > 1:
            d = np.sqrt(((xyz[:, None] - xyz[None]) ** 2).sum(-1))
            assert d[np.triu_indices(len(xyz), 1)].min() > 8.0
        members = labels == labels[c.peaks[0].ijk]
        assert c.peaks[0].value == pytest.approx(stat[members].max())
    # BH over the clusters' uncorrected p (scipy)
    p = np.array([c.p_uncorrected for c in table.clusters])
    np.testing.assert_allclose([c.q_fdr for c in table.clusters],
                               stats.false_discovery_control(p), rtol=1e-12)
    want_set, _, _ = _by_hand_t(u, 20, res.resels, 0.0, n)
    assert table.set_p == pytest.approx(want_set, rel=1e-9)
    out = res.to_dict()
    assert out["set_level"] == {"c": n, "p": pytest.approx(want_set, rel=1e-9)}
    first = out["clusters"][0]
    assert {"k", "k_resels", "p_fwe", "p_uncorrected", "q_fdr", "peak"} <= set(first)
    assert first["peak"]["value"] == pytest.approx(first["peak_value"])
    assert out["cluster_level"]["extent_method"] == "stationary"


def test_extent_threshold_drops_small_clusters_and_uses_k_resels_for_the_set():
    stat, roi, grid = _blob_map()
    sm = smoothness_from_fwhm_mm(6.0, grid)
    full = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01).levels
    k = sorted(c.k for c in full.clusters)[-2]  # keep the two largest
    res = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01,
                                  extent_voxels=k)
    kept = [c for c in full.clusters if c.k >= k]
    assert [c.k for c in res.levels.clusters] == [c.k for c in kept]
    want, _, _ = _by_hand_t(res.levels.height, 20, res.resels, k / 27.0, len(kept))
    assert res.levels.set_p == pytest.approx(want, rel=1e-9)
    out = res.to_dict()
    assert all(c["k"] >= k for c in out["clusters"])
    assert {p["cluster"] for p in out["peaks"]} <= {c["index"] for c in out["clusters"]}


def test_rpv_gives_the_nonstationary_extent():
    stat, roi, grid = _blob_map()
    sm = smoothness_from_fwhm_mm(6.0, grid)
    rpv = np.full(stat.shape, 0.02)
    res = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01, rpv=rpv)
    assert res.levels.extent_method == "non-stationary"
    labels, _ = ndimage.label(roi & (stat >= res.levels.height),
                              ndimage.generate_binary_structure(3, 2))
    for c in res.levels.clusters:
        members = labels == labels[c.peaks[0].ijk]
        assert c.k_resels == pytest.approx(intrinsic_volume(members) * 0.02)


def test_the_table_export_carries_set_and_cluster_levels():
    stat, roi, grid = _blob_map()
    res = small_volume_correction(stat, roi, grid, smoothness_from_fwhm_mm(6.0, grid), "T", 20,
                                  height_p=0.01)
    frame = res.to_frame()
    assert (frame["set_p"] == res.levels.set_p).all() and (frame["set_c"] == 3).all()
    clusters = frame[frame["row"] == "cluster"]
    for _, row in clusters.iterrows():
        c = res.levels.cluster(int(row["cluster"]))
        assert row["cluster_p_fwe"] == c.p_fwe and row["k_resels"] == c.k_resels
        assert row["cluster_q_fdr"] == c.q_fdr and row["n_voxels_cluster"] == c.k


def spm_p_fdr(pz, ps, tie=0.0):
    """SPM12's spm_P_FDR(Z, df, 'P', n, Ps), written as its MATLAB loop (1-based).

    SPM computes ``Ps`` and ``PZ`` with the same function, so a listed cluster finds its
    own p among ``Ps`` exactly; ``tie`` is the relative slack that a reference computed
    here by another formula needs to find it too.
    """
    ps = np.sort(np.asarray(ps, dtype=float))
    s = len(ps)
    qs = [ps[j] * s / (j + 1) for j in range(s)]
    out = []
    for p in np.atleast_1d(pz):
        first = next((j for j in range(s) if ps[j] >= p * (1 - tie)), None)  # find(Ps>=PZ,1)
        out.append(1.0 if first is None else min(qs[first:]))
    return np.array(out)


def test_topological_fdr_is_spms_loop_and_bh_on_its_own_reference():
    rng = np.random.default_rng(11)
    reference = rng.uniform(0, 1, 17) ** 3
    queries = np.r_[reference[:5], rng.uniform(0, 1, 6) ** 2, 0.0, 1.5]
    np.testing.assert_allclose(topological_fdr(queries, reference),
                               spm_p_fdr(queries, reference), rtol=1e-15)
    # a query that is one of the reference p values: Benjamini-Hochberg (scipy)
    np.testing.assert_allclose(topological_fdr(reference, reference),
                               stats.false_discovery_control(reference), rtol=1e-12)
    assert topological_fdr([0.2], []).tolist() == [1.0]


def _cluster_reference(stat, roi, u, v2r, res):
    """Uncorrected p of every cluster at u in the ROI (18-connectivity), stationary extents."""
    labels, n = ndimage.label(roi & (stat >= u), ndimage.generate_binary_structure(3, 2))
    sizes = np.bincount(labels.ravel())[1:]
    return np.array([_by_hand_t(u, 20, res.resels, k * v2r, 1)[1] for k in sizes])


def test_cluster_q_is_spms_topological_fdr_over_every_cluster_before_the_extent_threshold():
    stat, roi, grid = _blob_map()
    sm = smoothness_from_fwhm_mm(6.0, grid)  # 3 voxels: V2R = 1 / 27
    full = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01).levels
    k = sorted(c.k for c in full.clusters)[-2]  # list only the two largest
    res = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01,
                                  extent_voxels=k)
    reference = _cluster_reference(stat, roi, res.levels.height, 1 / 27.0, res)
    assert len(reference) == len(full.clusters) > len(res.levels.clusters) == 2
    listed = np.array([c.p_uncorrected for c in res.levels.clusters])
    want = spm_p_fdr(listed, reference, tie=1e-9)
    np.testing.assert_allclose([c.q_fdr for c in res.levels.clusters], want, rtol=1e-9)
    # not BH over the two listed clusters alone
    assert not np.allclose(want, stats.false_discovery_control(listed))


def test_with_rpv_the_query_is_nonstationary_and_the_reference_stationary():
    stat, roi, grid = _blob_map()
    sm = smoothness_from_fwhm_mm(6.0, grid)
    rpv = np.full(stat.shape, 0.05)  # not 1 / 27: the two extents differ
    res = small_volume_correction(stat, roi, grid, sm, "T", 20, height_p=0.01, rpv=rpv)
    reference = _cluster_reference(stat, roi, res.levels.height, 1 / 27.0, res)
    listed = []
    for c in res.levels.clusters:
        want_pk = _by_hand_t(res.levels.height, 20, res.resels, c.k_resels, 1)[1]
        assert c.p_uncorrected == pytest.approx(want_pk, rel=1e-9)  # its own K (RPV)
        listed.append(c.p_uncorrected)
    np.testing.assert_allclose([c.q_fdr for c in res.levels.clusters],
                               spm_p_fdr(listed, reference, tie=1e-9), rtol=1e-9)
