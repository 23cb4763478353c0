"""Random field theory against DESIGN.md's worked numbers, scipy and hand algebra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from napari_milna.core.svc import rft

A = 4 * np.log(2)
# DESIGN.md: sphere r = 6 mm, FWHM 8 mm -> s = 0.75
S_ = 0.75
SPHERE = [1.0, 4 * S_, 2 * np.pi * S_**2, 4 / 3 * np.pi * S_**3]


def test_design_worked_numbers_z():
    assert rft.p_rft(3.5, SPHERE, "Z") == pytest.approx(0.011751299, rel=1e-6)
    assert rft.p_bonferroni(3.5, 123, "Z") == pytest.approx(0.028613377, rel=1e-6)
    p_rf, p_bf, p_rep = rft.p_fwe(3.5, SPHERE, 123, "Z")
    assert p_rep == pytest.approx(0.011751299, rel=1e-6) and p_bf > p_rf


def test_design_worked_numbers_t20_thresholds():
    th = rft.fwe_threshold(0.05, SPHERE, 123, "T", 20)
    assert th.rft == pytest.approx(3.552759, rel=1e-6)
    assert th.bonferroni == pytest.approx(3.938128, rel=1e-6)
    assert th.used == th.rft
    # solved to far better than 1e-10: P_RF at the threshold is alpha
    assert rft.p_rft(th.rft, SPHERE, "T", 20) == pytest.approx(0.05, abs=1e-12)
    assert stats.t.sf(th.bonferroni, 20) * 123 == pytest.approx(0.05, rel=1e-12)


def _z_densities_by_hand(u):
    e = np.exp(-u * u / 2)
    return np.array([
        stats.norm.sf(u),
        np.sqrt(A) / (2 * np.pi) * e,
        A / (2 * np.pi) ** 1.5 * u * e,
        A**1.5 / (2 * np.pi) ** 2 * (u * u - 1) * e,
    ])


def _t_densities_by_hand(u, v):
    from math import gamma, sqrt

    c = (1 + u * u / v) ** ((1 - v) / 2)
    b = gamma((v + 1) / 2) / gamma(v / 2)
    return np.array([
        stats.t.sf(u, v),
        sqrt(A) / (2 * np.pi) * c,
        A / (2 * np.pi) ** 1.5 * c * u * b / sqrt(v / 2),
        A**1.5 / (2 * np.pi) ** 2 * c * ((v - 1) * u * u / v - 1),
    ])


@pytest.mark.parametrize("u", [-1.0, 0.3, 2.0, 3.5, 5.0])
def test_ec_densities_match_formulas(u):
    np.testing.assert_allclose(rft.ec_densities(u, "Z"), _z_densities_by_hand(u), rtol=1e-12)
    for v in (5.0, 14.0, 120.0):
        np.testing.assert_allclose(
            rft.ec_densities(u, "T", v), _t_densities_by_hand(u, v), rtol=1e-11
        )


def test_t_densities_tend_to_z_for_large_df():
    u = np.array([2.5, 3.5, 4.5])
    np.testing.assert_allclose(rft.ec_densities(u, "T", 1e9), rft.ec_densities(u, "Z"),
                               rtol=1e-6)


def test_f_with_one_numerator_df_is_a_squared_t_field():
    # {F > u^2} = {T > u} U {T < -u}: every EC density doubles
    for u in (2.0, 3.3, 4.5):
        np.testing.assert_allclose(
            rft.ec_densities(u * u, "F", (1, 15)), 2 * rft.ec_densities(u, "T", 15), rtol=1e-10
        )


def test_rho1_integrates_to_the_upcrossing_rate():
    # 1D Rice formula: rho1(u) = sqrt(lambda)/(2 pi) e^{-u^2/2} with lambda = 4 ln 2 per
    # resel; and d rho0 / du relates to the Gaussian density (sanity of rho0 too)
    u = 2.7
    rho = rft.ec_densities(u, "Z")
    assert rho[1] == pytest.approx(np.sqrt(A) / (2 * np.pi) * np.exp(-u * u / 2), rel=1e-14)
    assert integrate.quad(stats.norm.pdf, u, np.inf)[0] == pytest.approx(rho[0], rel=1e-9)


def test_expected_ec_of_a_line_by_hand():
    # A line of 11 voxels at FWHM 2 voxels: R = [1, 5, 0, 0]; E[EC] = rho0 + 5 rho1
    u = 3.0
    ec = rft.expected_ec(u, [1, 5, 0, 0], "Z")
    hand = stats.norm.sf(u) + 5 * np.sqrt(A) / (2 * np.pi) * np.exp(-4.5)
    assert ec == pytest.approx(hand, rel=1e-13)
    assert rft.p_rft(u, [1, 5, 0, 0], "Z") == pytest.approx(
        1 - np.exp(-(hand + np.finfo(float).eps)), rel=1e-12
    )


def test_densities_are_clamped_at_eps_and_truncated_at_the_last_resel():
    # rho3(0.5) < 0 is clamped to eps; R3 = 0 so it does not count at all
    eps = np.finfo(float).eps
    rho = rft.ec_densities(0.5, "Z")
    assert rho[3] < 0
    assert rft.expected_ec(0.5, [1, 2, 3, 4], "Z") == pytest.approx(
        rho[0] + 2 * rho[1] + 3 * rho[2] + 4 * eps, rel=1e-14
    )
    assert rft.expected_ec(0.5, [1, 2, 3, 0], "Z") == pytest.approx(
        rho[0] + 2 * rho[1] + 3 * rho[2], rel=1e-14
    )
    # far in the tail every density is eps: E[EC] = eps * sum(R)
    assert rft.expected_ec(60.0, [1, 2, 3, 4], "Z") == pytest.approx(10 * eps, rel=1e-12)


def test_two_sided_doubles_p_and_splits_alpha():
    p1 = rft.p_fwe(3.2, SPHERE, 123, "Z")
    p2 = rft.p_fwe(-3.2, SPHERE, 123, "Z", two_sided=True)
    np.testing.assert_allclose(np.array(p2), np.minimum(1, 2 * np.array(p1)), rtol=1e-14)
    th2 = rft.fwe_threshold(0.05, SPHERE, 123, "Z", two_sided=True)
    th1 = rft.fwe_threshold(0.025, SPHERE, 123, "Z")
    assert th2.rft == pytest.approx(th1.rft, rel=1e-12)
    assert th2.bonferroni == pytest.approx(stats.norm.isf(0.025 / 123), rel=1e-12)


def test_threshold_is_where_the_reported_p_equals_alpha():
    resels = [2.0, 10.0, 30.0, 25.0]
    for stat, df in (("Z", None), ("T", 14), ("F", (2, 30))):
        th = rft.fwe_threshold(0.05, resels, 400, stat, df)
        assert rft.p_fwe(th.used, resels, 400, stat, df)[2] == pytest.approx(0.05, rel=1e-9)
        assert th.used == min(th.rft, th.bonferroni)


def test_large_search_volume_rft_beats_bonferroni():
    # whole brain: ~1000 resels, 200000 voxels -> RFT threshold below Bonferroni
    th = rft.fwe_threshold(0.05, [1, 40, 500, 1000], 200000, "Z")
    assert th.rft < th.bonferroni
    assert th.used == th.rft


def test_bad_arguments():
    with pytest.raises(ValueError):
        rft.ec_densities(3.0, "T")
    with pytest.raises(ValueError):
        rft.ec_densities(3.0, "X")
    with pytest.raises(ValueError):
        rft.rft_threshold(1.5, SPHERE)


def test_expected_ec_matches_nipy_when_installed():
    # nipy (Taylor & Worsley's implementation) works in Lipschitz-Killing curvatures of a
    # unit-roughness field: L_d = R_d (4 ln 2)^(d/2). Optional: nipy is not a dependency.
    nrft = pytest.importorskip("nipy.algorithms.statistics.rft")
    lkc = np.asarray(SPHERE) * A ** (np.arange(4) / 2)
    u = np.array([2.5, 3.5, 4.5])
    np.testing.assert_allclose(rft.expected_ec(u, SPHERE, "Z"), nrft.Gaussian()(u, search=lkc),
                               rtol=1e-10)
    np.testing.assert_allclose(rft.expected_ec(u, SPHERE, "T", 20),
                               nrft.TStat(dfd=20)(u, search=lkc), rtol=1e-10)
    np.testing.assert_allclose(rft.expected_ec(u**2, SPHERE, "F", (3, 20)),
                               nrft.FStat(dfn=3, dfd=20)(u**2, search=lkc), rtol=1e-10)
