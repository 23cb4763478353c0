"""Random field theory as SPM12 computes it (spm_ECdensity, spm_P_RF, spm_P, spm_uc).

Everything here is a pure function of a statistic value ``u``, the resel counts
``R = [R0, R1, R2, R3]`` of a search volume and the statistic's type and degrees of
freedom. The expected Euler characteristic of the excursion set above ``u`` is

    E[EC](u) = sum_d R_d rho_d(u)

summed up to the last non-zero resel count, each EC density ``rho_d`` clamped at
machine epsilon (as spm_P_RF does), and the corrected p value is the Poisson
clumping heuristic ``P_RF = 1 - exp(-(E[EC] + eps))`` (spm_P_RF with c = 1, k = 0;
SPM adds ``eps`` to E[EC] before the Poisson tail, and so do we). SPM reports
``min(P_RF, P_Bonferroni)`` with ``P_Bonferroni = min(1, S p_uncorrected)`` (spm_P)
and thresholds at ``min(u_RF, u_Bonferroni)`` (spm_uc).

Two deliberate differences from SPM, both in the direction of accuracy:

* ``rho0`` is the upper-tail probability from ``scipy.stats`` ``sf`` rather than
  ``1 - cdf`` (SPM), which loses all digits beyond u ~ 8; below 1e-16 both are
  clamped at eps anyway.
* thresholds are solved by bracketing and Brent's method to about 1e-12 in ``u``
  (spm_uc_RF stops its Newton iteration at steps below 1e-6).

References: Worsley KJ et al. (1996) Hum Brain Mapp 4:58-73; SPM12 spm_ECdensity.m,
spm_P_RF.m, spm_P.m, spm_uc_RF.m, spm_uc_Bonf.m.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, special

from .stat_values import log_sf, p_value, threshold_for_p

#: 4 ln 2: converts FWHM into the roughness of a Gaussian random field.
FOUR_LN2 = 4.0 * np.log(2.0)
#: Floor of each EC density (MATLAB's ``eps``), as in spm_P_RF.
EC_FLOOR = np.finfo(float).eps


def _stat(stat_type: str) -> str:
    s = str(stat_type).upper()
    if s not in ("Z", "T", "F"):
        raise ValueError(f"unknown statistic type {stat_type!r}; expected Z, T or F")
    return s


def _df_for(stat: str, df):
    if stat == "Z":
        return None
    if stat == "T":
        if df is None or np.ndim(df) != 0 or not float(df) > 0:
            raise ValueError("a T statistic needs one positive number of degrees of freedom")
        return float(df)
    if df is None or np.size(df) != 2 or not np.all(np.asarray(df, dtype=float) > 0):
        raise ValueError("an F statistic needs two positive degrees of freedom (df1, df2)")
    return tuple(float(v) for v in np.ravel(df))


def ec_densities(u, stat_type: str = "Z", df=None) -> np.ndarray:
    """EC densities rho_0..rho_3 per resel at height ``u`` (spm_ECdensity), unclamped.

    Parameters
    ----------
    u : float or array-like
        Statistic value(s).
    stat_type : {"Z", "T", "F"}
    df : float or (float, float), optional
        Residual df for T; (df1, df2) for F.

    Returns
    -------
    ndarray, shape ``np.shape(u) + (4,)``
    """
    stat = _stat(stat_type)
    df = _df_for(stat, df)
    t = np.asarray(u, dtype=float)
    a = FOUR_LN2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if stat == "Z":
            b = np.exp(-(t**2) / 2.0)
            rho = [
                np.exp(log_sf(t, "Z")),
                np.sqrt(a) / (2 * np.pi) * b,
                a / (2 * np.pi) ** 1.5 * b * t,
                a**1.5 / (2 * np.pi) ** 2 * b * (t**2 - 1.0),
            ]
        elif stat == "T":
            v = df
            # Gamma((v+1)/2) / Gamma(v/2), exact also for huge df (SPM: exp of gammaln difference)
            b = special.poch(v / 2.0, 0.5)
            c = (1.0 + t**2 / v) ** ((1.0 - v) / 2.0)
            rho = [
                np.exp(log_sf(t, "T", v)),
                np.sqrt(a) / (2 * np.pi) * c,
                a / (2 * np.pi) ** 1.5 * c * t / np.sqrt(v / 2.0) * b,
                a**1.5 / (2 * np.pi) ** 2 * c * ((v - 1.0) * t**2 / v - 1.0),
            ]
        else:
            k, v = df
            a = FOUR_LN2 / (2 * np.pi)
            g = special.gammaln(v / 2.0) + special.gammaln(k / 2.0)
            x = k * t / v
            tail = (1.0 + x) ** (-0.5 * (v + k - 2.0))
            rho = [
                np.exp(log_sf(t, "F", (k, v))),
                np.sqrt(a) * np.exp(special.gammaln((v + k - 1) / 2.0) - g) * np.sqrt(2.0)
                * x ** (0.5 * (k - 1.0)) * tail,
                a * np.exp(special.gammaln((v + k - 2) / 2.0) - g) * x ** (0.5 * (k - 2.0))
                * tail * ((v - 1.0) * x - (k - 1.0)),
                a**1.5 * np.exp(special.gammaln((v + k - 3) / 2.0) - g) / np.sqrt(2.0)
                * x ** (0.5 * (k - 3.0)) * tail
                * ((v - 1.0) * (v - 2.0) * x**2 - (2 * v * k - v - k - 1.0) * x
                   + (k - 1.0) * (k - 2.0)),
            ]
    return np.stack([np.broadcast_to(r, t.shape) for r in rho], axis=-1)


def _resels(resels) -> np.ndarray:
    r = np.asarray(resels, dtype=float).ravel()
    if r.size > 4 or r.size == 0 or not np.all(np.isfinite(r)):
        raise ValueError(f"resel counts must be 1 to 4 finite numbers, got {resels!r}")
    return np.pad(r, (0, 4 - r.size))


def expected_ec(u, resels, stat_type: str = "Z", df=None) -> np.ndarray:
    """Expected Euler characteristic of the excursion set above ``u``.

    ``sum_d R_d max(rho_d(u), eps)`` over d up to the last non-zero resel count
    (spm_P_RF). Densities that are NaN (F below zero) count as eps, as MATLAB's
    ``max`` ignores NaN.
    """
    r = _resels(resels)
    nonzero = np.flatnonzero(r)
    if nonzero.size == 0:
        return np.zeros(np.shape(u))
    d = int(nonzero[-1]) + 1
    rho = np.fmax(ec_densities(u, stat_type, df)[..., :d], EC_FLOOR)
    return rho @ r[:d]


def p_rft(u, resels, stat_type: str = "Z", df=None) -> np.ndarray:
    """Corrected p value of a peak of height ``u``: ``1 - exp(-(E[EC] + eps))``.

    Clipped into [0, 1] (E[EC] can be negative for search volumes with tunnels at
    low ``u``).
    """
    ec = expected_ec(u, resels, stat_type, df)
    return np.clip(-np.expm1(-(ec + EC_FLOOR)), 0.0, 1.0)


def p_bonferroni(u, n_voxels: int, stat_type: str = "Z", df=None) -> np.ndarray:
    """``min(1, S p_uncorrected(u))`` over ``S = n_voxels`` voxels (spm_P_Bonf)."""
    return np.minimum(1.0, float(n_voxels) * p_value(u, _stat(stat_type), df))


@dataclass(frozen=True)
class FwePValues:
    """Family-wise error p values of one height.

    Attributes
    ----------
    rft, bonferroni : float
        Random field theory and Bonferroni p values.
    reported : float
        ``min(rft, bonferroni)``, as SPM reports.
    """

    rft: float
    bonferroni: float
    reported: float


def p_fwe(u, resels, n_voxels: int, stat_type: str = "Z", df=None, two_sided: bool = False):
    """RFT, Bonferroni and reported (minimum) FWE p values of height(s) ``u``.

    With ``two_sided`` the height is ``|u|`` and each p value doubles (capped at 1):
    both tails are searched.

    Returns
    -------
    tuple of ndarray
        ``(p_rft, p_bonferroni, p_reported)``, each shaped like ``u``.
    """
    u = np.asarray(u, dtype=float)
    tails = 1.0
    if two_sided:
        u = np.abs(u)
        tails = 2.0
    rft = np.minimum(1.0, tails * p_rft(u, resels, stat_type, df))
    bonf = np.minimum(1.0, tails * p_bonferroni(u, n_voxels, stat_type, df))
    return rft, bonf, np.minimum(rft, bonf)


def _median_height(stat: str, df) -> float:
    return 0.0 if stat in ("Z", "T") else float(threshold_for_p(0.5, "F", df))


def rft_threshold(alpha: float, resels, stat_type: str = "Z", df=None) -> float:
    """Height ``u`` with ``P_RF(u) = alpha`` (spm_uc_RF), solved to ~1e-12.

    The largest crossing is returned (E[EC] is not monotonic at low heights).
    NaN when P_RF stays below ``alpha`` everywhere above the median of the
    statistic (a search volume of almost no resels).
    """
    stat = _stat(stat_type)
    df = _df_for(stat, df)
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie strictly between 0 and 1")

    def excess(x):
        return p_rft(x, resels, stat, df) - alpha

    lo = _median_height(stat, df)
    hi = float(threshold_for_p(max(alpha / max(np.abs(_resels(resels)).sum(), 1.0) / 10, 1e-300),
                               stat, df))
    hi = max(hi, lo + 1.0)
    for _ in range(200):
        if excess(hi) < 0:
            break
        hi = lo + 2.0 * (hi - lo)
    else:  # pragma: no cover - P_RF never falls below alpha
        return float("inf")
    grid = np.linspace(lo, hi, 513)
    above = excess(grid) >= 0
    if not above.any():
        return float("nan")
    i = int(np.flatnonzero(above)[-1])
    return float(optimize.brentq(excess, grid[i], grid[i + 1], xtol=1e-13, rtol=4 * EC_FLOOR))


def bonferroni_threshold(alpha: float, n_voxels: int, stat_type: str = "Z", df=None) -> float:
    """Height with ``S p_uncorrected(u) = alpha`` (spm_uc_Bonf), exact by inverse tail."""
    stat = _stat(stat_type)
    if n_voxels < 1:
        raise ValueError("the Bonferroni threshold needs at least one voxel")
    return float(threshold_for_p(alpha / float(n_voxels), stat, _df_for(stat, df)))


@dataclass(frozen=True)
class FweThreshold:
    """FWE height thresholds at level ``alpha`` (per tail ``alpha / 2`` if two-sided).

    Attributes
    ----------
    rft : float
        Random field theory threshold (NaN if undefined).
    bonferroni : float
        Bonferroni threshold over the search voxels.
    used : float
        ``min(rft, bonferroni)`` (spm_uc); for two-sided tests it applies to ``|stat|``.
    alpha : float
    two_sided : bool
    """

    rft: float
    bonferroni: float
    used: float
    alpha: float
    two_sided: bool = False

    def to_dict(self) -> dict:
        """JSON-ready form (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}


def fwe_threshold(
    alpha: float, resels, n_voxels: int, stat_type: str = "Z", df=None, two_sided: bool = False
) -> FweThreshold:
    """FWE height thresholds as spm_uc: ``min(u_RF, u_Bonferroni)``.

    Parameters
    ----------
    alpha : float
        Family-wise error rate; split ``alpha / 2`` per tail when ``two_sided``.
    resels : array-like
        ``[R0, R1, R2, R3]`` of the search volume.
    n_voxels : int
        Voxels searched (S).
    stat_type : {"Z", "T", "F"}
    df : float or tuple, optional
    two_sided : bool

    Returns
    -------
    FweThreshold
    """
    a = alpha / 2.0 if two_sided else alpha
    u_rf = rft_threshold(a, resels, stat_type, df)
    u_b = bonferroni_threshold(a, n_voxels, stat_type, df)
    used = float(np.fmin(u_rf, u_b))
    return FweThreshold(float(u_rf), float(u_b), used, float(alpha), bool(two_sided))
