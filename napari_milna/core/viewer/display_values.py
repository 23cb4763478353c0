"""Display choices that are pure arithmetic: contrast ranges and the two-sided stat colour ramp.

Kept free of napari so they can be tested on their own; the napari side turns
:class:`StatRamp` into a ``napari.utils.Colormap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Colours of the statistical ramps (RGBA): SPM/FSLeyes-like red-yellow and blue-light blue.
WARM_LOW = (1.0, 0.0, 0.0, 1.0)
WARM_HIGH = (1.0, 1.0, 0.0, 1.0)
COOL_LOW = (0.0, 0.25, 1.0, 1.0)
COOL_HIGH = (0.55, 0.9, 1.0, 1.0)
CLEAR = (0.0, 0.0, 0.0, 0.0)
_EPS = 1e-6


def robust_range(data: np.ndarray, low: float = 1.0, high: float = 99.5) -> tuple[float, float]:
    """Contrast limits from percentiles of the finite, non-zero voxels.

    Falls back to the full finite range, and to (0, 1) for an empty or constant image.
    """
    data = np.asarray(data).ravel()
    if data.size > 200_000:
        # a regular subsample is plenty for display percentiles, and keeps opening fast
        data = data[:: data.size // 100_000]
    values = data[np.isfinite(data)] if data.dtype.kind == "f" else data
    values = values[values != 0]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(values, [low, high]))
    if not hi > lo:
        lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        lo, hi = min(lo, 0.0), max(hi, lo + 1.0)
    return lo, hi


def stat_display_max(data: np.ndarray) -> float:
    """Upper end of a statistic's colour ramp: max |value| over finite voxels (at least 1e-6)."""
    data = np.asarray(data, dtype=float)
    finite = np.abs(data[np.isfinite(data)])
    return float(max(finite.max(initial=0.0), _EPS))


@dataclass(frozen=True)
class StatRamp:
    """A statistical colour ramp: transparent below ``threshold`` in absolute value.

    Positive values run red -> yellow from ``threshold`` to ``vmax``; for a two-sided
    ramp negative values run blue -> light blue from ``-threshold`` to ``-vmax``.
    The ramp is defined over the contrast limits :attr:`limits`.
    """

    threshold: float
    vmax: float
    two_sided: bool = True

    @property
    def limits(self) -> tuple[float, float]:
        """Contrast limits of the layer."""
        return (-self.vmax, self.vmax) if self.two_sided else (0.0, self.vmax)

    def controls_and_colors(self) -> tuple[np.ndarray, np.ndarray]:
        """Control points in [0, 1] and RGBA colours for a linear colormap."""
        vmax = max(float(self.vmax), _EPS)
        thr = float(np.clip(self.threshold, 0.0, vmax * (1 - 1e-4)))
        if self.two_sided:
            half = thr / (2 * vmax)
            lo, hi = 0.5 - half, 0.5 + half
            controls = [0.0, lo, lo + _EPS, hi - _EPS, hi, 1.0]
            colors = [COOL_HIGH, COOL_LOW, CLEAR, CLEAR, WARM_LOW, WARM_HIGH]
            if thr == 0:
                controls = [0.0, 0.5 - _EPS, 0.5, 0.5 + _EPS, 1.0]
                colors = [COOL_HIGH, COOL_LOW, CLEAR, WARM_LOW, WARM_HIGH]
        else:
            cut = thr / vmax
            controls = [0.0, max(cut - _EPS, 0.0), cut, 1.0] if cut > 0 else [0.0, _EPS, 1.0]
            colors = (
                [CLEAR, CLEAR, WARM_LOW, WARM_HIGH] if cut > 0 else [CLEAR, WARM_LOW, WARM_HIGH]
            )
        return np.asarray(controls, dtype=float), np.asarray(colors, dtype=float)

    def color_of(self, value: float) -> np.ndarray:
        """RGBA the ramp gives ``value`` (for tests and legends)."""
        lo, hi = self.limits
        x = np.clip((value - lo) / (hi - lo), 0, 1)
        controls, colors = self.controls_and_colors()
        return np.array([np.interp(x, controls, colors[:, c]) for c in range(4)])
