"""Sign-flip engine against brute-force enumeration (scipy t-tests) and nilearn."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.jobs import Cancelled
from napari_milna.core.svc.permutation import (
    sign_flip_test,
    subject_matrix,
)


def brute_force(x, two_sided=False):
    """Loop over all 2^N flips with scipy's one-sample t-test."""
    n = x.shape[0]
    t_obs = stats.ttest_1samp(x, 0.0).statistic
    maxima, ge = [], np.zeros(x.shape[1])
    for signs in itertools.product((1.0, -1.0), repeat=n):
        t = stats.ttest_1samp(x * np.array(signs)[:, None], 0.0).statistic
        stat, obs = (np.abs(t), np.abs(t_obs)) if two_sided else (t, t_obs)
        maxima.append(stat.max())
        ge += stat >= obs - 1e-9
    maxima = np.array(maxima)
    obs = np.abs(t_obs) if two_sided else t_obs
    p_fwe = np.array([(maxima >= o - 1e-9).mean() for o in obs])
    return t_obs, p_fwe, ge / 2**n, maxima


@pytest.mark.parametrize("two_sided", [False, True])
def test_exhaustive_equals_brute_force_n6(two_sided):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 25)) + np.linspace(-0.8, 1.5, 25)
    res = sign_flip_test(x, two_sided=two_sided)
    t_obs, p_fwe, p_unc, maxima = brute_force(x, two_sided)
    assert res.exhaustive and res.n_perm == 64
    np.testing.assert_allclose(res.t, t_obs, rtol=1e-12)
    np.testing.assert_array_equal(res.p_fwe, p_fwe)
    np.testing.assert_array_equal(res.p_uncorrected, p_unc)
    np.testing.assert_allclose(np.sort(res.max_null), np.sort(maxima), rtol=1e-10)


def test_exact_ties_from_zero_values_count_as_reached():
    # subject 3 is exactly zero everywhere: flipping it changes nothing, so each
    # maximum occurs (at least) twice, the observed one included
    rng = np.random.default_rng(8)
    x = rng.standard_normal((7, 10)) + 2.0
    x[3] = 0.0
    res = sign_flip_test(x)
    _, p_fwe, p_unc, _ = brute_force(x)
    np.testing.assert_array_equal(res.p_fwe, p_fwe)
    np.testing.assert_array_equal(res.p_uncorrected, p_unc)
    assert res.p_fwe.min() >= 2 / 2**7


def test_strong_effect_reaches_the_smallest_exact_p():
    x = np.abs(np.random.default_rng(1).standard_normal((8, 5))) + 3.0
    res = sign_flip_test(x)
    assert res.p_fwe[res.peak_index] == 1 / 256  # only the identity reaches it


def test_random_flips_formula_seed_and_mode_choice():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((12, 30)) + 0.4
    a = sign_flip_test(x, n_perm=500, seed=3)
    b = sign_flip_test(x, n_perm=500, seed=3)
    c = sign_flip_test(x, n_perm=500, seed=4)
    assert not a.exhaustive and a.n_perm == 500 and a.max_null.size == 500
    np.testing.assert_array_equal(a.p_fwe, b.p_fwe)
    assert not np.array_equal(a.max_null, c.max_null)
    i = a.peak_index
    n_ge = np.sum(a.max_null >= a.t[i] - 1e-9)
    assert a.p_fwe[i] == pytest.approx((1 + n_ge) / 501)
    assert sign_flip_test(x, n_perm=5000).exhaustive  # 2^12 = 4096 <= 5000
    assert not sign_flip_test(x, n_perm=0, exhaustive_limit=1000).exhaustive


def test_agrees_with_nilearn_permuted_ols_within_monte_carlo_error():
    from nilearn.mass_univariate import permuted_ols

    rng = np.random.default_rng(12)
    base = rng.standard_normal((10, 40))
    x = base + 0.5 * np.roll(base, 1, axis=1)
    x[:, :15] += 0.7
    exact = sign_flip_test(x)  # 1024 flips, exact
    n_perm = 3000
    nil = permuted_ols(np.ones((10, 1)), x, model_intercept=False, n_perm=n_perm,
                       two_sided_test=False, random_state=0, n_jobs=1)
    np.testing.assert_allclose(nil["t"][0], exact.t, rtol=1e-10)
    p_nil = 10 ** -nil["logp_max_t"][0]
    se = np.sqrt(exact.p_fwe * (1 - exact.p_fwe) / n_perm)
    assert np.all(np.abs(p_nil - exact.p_fwe) <= 4.5 * se + 1.5 / n_perm)
    two = sign_flip_test(x, two_sided=True)
    nil2 = permuted_ols(np.ones((10, 1)), x, model_intercept=False, n_perm=n_perm,
                        two_sided_test=True, random_state=1, n_jobs=1)
    p_nil2 = 10 ** -nil2["logp_max_t"][0]
    se2 = np.sqrt(two.p_fwe * (1 - two.p_fwe) / n_perm)
    assert np.all(np.abs(p_nil2 - two.p_fwe) <= 4.5 * se2 + 1.5 / n_perm)


def test_progress_and_cancellation():
    x = np.random.default_rng(0).standard_normal((12, 2000))
    seen = []
    res = sign_flip_test(x, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4096, 4096) and all(a < b for (a, _), (b, _) in zip(seen, seen[1:]))
    assert res.n_perm == 4096
    with pytest.raises(Cancelled):
        sign_flip_test(x, progress=lambda done, total: done >= 1000)

    class Stop(Exception):
        pass

    def boom(done, total):
        raise Stop

    with pytest.raises(Stop):
        sign_flip_test(x, n_perm=3000, progress=boom)


def test_bad_input():
    with pytest.raises(MilnaInputError, match="at least 5"):
        sign_flip_test(np.ones((4, 10)))
    x = np.ones((6, 3))
    x[2, 1] = np.nan
    with pytest.raises(MilnaInputError, match="NaN"):
        sign_flip_test(x)


def test_subject_matrix_keeps_voxels_with_data_in_every_subject():
    vols = [np.full((3, 3, 3), float(i + 1)) for i in range(5)]
    vols[2][0, 0, 0] = np.nan
    for v in vols:
        v[1, 1, 1] = 0.0
    roi = np.zeros((3, 3, 3), bool)
    roi[0, 0, :] = True
    roi[1, 1, 1] = True
    data, kept = subject_matrix(vols, roi)
    assert data.shape == (5, 2)
    assert kept.sum() == 2 and not kept[0, 0, 0] and not kept[1, 1, 1]
    np.testing.assert_array_equal(data[:, 0], [1, 2, 3, 4, 5])
