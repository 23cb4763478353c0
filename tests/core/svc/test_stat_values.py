import numpy as np
import pytest
from scipy import stats

from napari_milna.core.svc.stat_values import (
    convert_threshold,
    equivalent_z,
    p_value,
    threshold_for_p,
)


def test_threshold_for_p_matches_scipy_and_spm_tables():
    # T(20) one-sided p = 0.001 -> 3.5518 (standard tables)
    assert threshold_for_p(0.001, "T", 20) == pytest.approx(3.551808, abs=1e-5)
    assert threshold_for_p(0.05, "Z") == pytest.approx(1.644854, abs=1e-6)
    assert threshold_for_p(0.05, "Z", two_sided=True) == pytest.approx(1.959964, abs=1e-6)
    assert threshold_for_p(0.01, "F", (2, 30)) == pytest.approx(stats.f.isf(0.01, 2, 30))


def test_equivalent_z_is_exact_in_far_tails():
    # moderate: matches norm.isf(t.sf)
    assert equivalent_z(4.0, "T", 14) == pytest.approx(stats.norm.isf(stats.t.sf(4.0, 14)))
    # far tail (p ~ 1e-14): still exact against scipy in linear space
    assert equivalent_z(12.0, "T", 30) == pytest.approx(stats.norm.isf(stats.t.sf(12.0, 30)))
    # beyond double precision (p << 1e-308) scipy returns -inf; the result stays finite and
    # follows the T tail's power law: log p ~ -v log t + const, and Z ~ sqrt(-2 log p)
    z1, z2 = (float(equivalent_z(t, "T", 20)) for t in (1e20, 1e21))
    assert np.isfinite(z1) and z2 > z1 > 37
    # log p difference between the two = -20 log(10) = -46.05; Z^2/2 ~ -log p (to O(log z))
    assert (z2**2 - z1**2) / 2 == pytest.approx(20 * np.log(10), rel=2e-2)


def test_p_value_two_sided():
    assert p_value(-1.959964, "Z", two_sided=True) == pytest.approx(0.05, abs=1e-6)
    assert p_value(2.0, "T", 10) == pytest.approx(stats.t.sf(2.0, 10))


def test_convert_threshold_units():
    # p -> T map units
    assert convert_threshold(0.001, "p", "T", 20) == pytest.approx(stats.t.isf(0.001, 20))
    # Z 3.09 on a T(14) map -> the T with the same p
    assert convert_threshold(3.09, "Z", "T", 14) == pytest.approx(
        stats.t.isf(stats.norm.sf(3.09), 14)
    )
    # T on a T map is taken as is; Z on a Z map likewise
    assert convert_threshold(3.2, "T", "T", 14) == 3.2
    assert convert_threshold(2.3, "Z", "Z") == 2.3
    with pytest.raises(ValueError, match="degrees of freedom"):
        convert_threshold(0.001, "p", "T", None)
