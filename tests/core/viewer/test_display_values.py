import numpy as np
import pytest

from napari_milna.core.viewer.display_values import (
    COOL_LOW,
    WARM_HIGH,
    WARM_LOW,
    StatRamp,
    robust_range,
)


def test_two_sided_ramp_is_transparent_below_threshold():
    ramp = StatRamp(threshold=3.0, vmax=6.0, two_sided=True)
    assert ramp.limits == (-6.0, 6.0)
    for value in (-2.99, 0.0, 2.5, 2.999):
        assert ramp.color_of(value)[3] == pytest.approx(0.0, abs=1e-3)
    np.testing.assert_allclose(ramp.color_of(3.0001), WARM_LOW, atol=1e-3)
    np.testing.assert_allclose(ramp.color_of(6.0), WARM_HIGH, atol=1e-6)
    np.testing.assert_allclose(ramp.color_of(-3.0001), COOL_LOW, atol=1e-3)
    assert ramp.color_of(-5)[2] == pytest.approx(1.0)  # negative values are blue


def test_one_sided_ramp_for_f():
    ramp = StatRamp(threshold=4.0, vmax=10.0, two_sided=False)
    assert ramp.limits == (0.0, 10.0)
    assert ramp.color_of(3.9)[3] == pytest.approx(0.0, abs=1e-3)
    assert ramp.color_of(4.01)[3] == pytest.approx(1.0)


def test_controls_are_increasing_even_at_zero_threshold():
    for thr in (0.0, 0.5, 5.99, 10.0):
        controls, colors = StatRamp(thr, 6.0).controls_and_colors()
        assert np.all(np.diff(controls) > 0)
        assert controls[0] == 0 and controls[-1] == 1 and len(colors) == len(controls)


def test_robust_range_ignores_background_and_nan():
    data = np.zeros((10, 10, 10))
    data[2:8, 2:8, 2:8] = np.linspace(100, 200, 216).reshape(6, 6, 6)
    data[0, 0, 0] = np.nan
    lo, hi = robust_range(data, 0, 100)
    assert (lo, hi) == (100.0, 200.0)
