"""Conversions between p values, T, Z and F statistics (accurate far into the tails).

Used for display thresholds ("show T above p < 0.001") and for the equivalent Z
that SPM reports next to a T value.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import special, stats

StatType = Literal["T", "Z", "F"]


def _check(stat_type: str, df) -> str:
    stat_type = stat_type.upper()
    if stat_type not in ("T", "Z", "F"):
        raise ValueError(f"unknown statistic type {stat_type!r}; expected T, Z or F")
    if stat_type == "T" and (df is None or not np.all(np.asarray(df, dtype=float) > 0)):
        raise ValueError("a T statistic needs positive degrees of freedom")
    if stat_type == "F":
        if df is None or np.size(df) != 2 or not np.all(np.asarray(df, dtype=float) > 0):
            raise ValueError("an F statistic needs two positive degrees of freedom (df1, df2)")
    return stat_type


def log_sf(value, stat_type: StatType, df=None) -> np.ndarray:
    """Natural log of the one-sided upper-tail p value of ``value``."""
    stat_type = _check(stat_type, df)
    value = np.asarray(value, dtype=float)
    if stat_type == "Z":
        return stats.norm.logsf(value)
    if stat_type == "T":
        return _t_logsf(value, float(df))
    d1, d2 = (float(v) for v in df)
    return stats.f.logsf(value, d1, d2)


def _t_logsf(value: np.ndarray, df: float) -> np.ndarray:
    """log of the T upper tail, finite even where scipy's logsf underflows to -inf.

    For large t, sf = I_x(v/2, 1/2) / 2 with x = v / (v + t^2) small, and
    I_x(a, b) ~ x^a / (a B(a, b)) (leading term of the incomplete beta series).
    """
    out = np.asarray(stats.t.logsf(value, df), dtype=float)
    bad = np.isneginf(out) & np.isfinite(value)
    if np.any(bad):
        t = np.asarray(value, dtype=float)[bad] if out.ndim else float(value)
        a = df / 2.0
        log_x = np.log(df) - np.log(df + np.square(t))
        tail = np.log(0.5) + a * log_x - np.log(a) - special.betaln(a, 0.5)
        if out.ndim:
            out[bad] = tail
        else:
            out = np.asarray(tail, dtype=float)
    return out


def p_value(value, stat_type: StatType, df=None, two_sided: bool = False) -> np.ndarray:
    """Uncorrected p value of a statistic (upper tail, or both tails of |value| for T and Z)."""
    value = np.asarray(value, dtype=float)
    if two_sided and stat_type.upper() != "F":
        return np.minimum(1.0, 2.0 * np.exp(log_sf(np.abs(value), stat_type, df)))
    return np.exp(log_sf(value, stat_type, df))


def threshold_for_p(p, stat_type: StatType, df=None, two_sided: bool = False) -> np.ndarray:
    """Statistic value whose uncorrected p value is ``p`` (``p / 2`` per tail if two-sided)."""
    stat_type = _check(stat_type, df)
    p = np.asarray(p, dtype=float)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("p must lie strictly between 0 and 1")
    if two_sided and stat_type != "F":
        p = p / 2.0
    if stat_type == "Z":
        return stats.norm.isf(p)
    if stat_type == "T":
        return stats.t.isf(p, float(df))
    d1, d2 = (float(v) for v in df)
    return stats.f.isf(p, d1, d2)


def equivalent_z(value, stat_type: StatType, df=None) -> np.ndarray:
    """The Z score with the same upper-tail p value (SPM's "equivalent Z").

    Computed from the log p value, so it stays exact where the p value underflows.
    """
    stat_type = _check(stat_type, df)
    value = np.asarray(value, dtype=float)
    if stat_type == "Z":
        return value.copy()
    return -special.ndtri_exp(log_sf(value, stat_type, df))


def convert_threshold(
    value: float,
    unit: Literal["p", "T", "Z"],
    stat_type: StatType,
    df=None,
) -> float:
    """Turn a threshold given in p, T or Z into the units of a map of ``stat_type``.

    Parameters
    ----------
    value : float
        The threshold as the user typed it.
    unit : {"p", "T", "Z"}
        Its unit: an uncorrected one-sided p, a T value (with the map's df) or a Z score.
    stat_type : {"T", "Z", "F"}
        The map's statistic.
    df : float or tuple, optional
        The map's degrees of freedom.

    Returns
    -------
    float
        The threshold in the map's own units.
    """
    if unit == "p":
        p = value
    elif unit == "Z":
        p = float(stats.norm.sf(value))
    elif unit == "T":
        if stat_type.upper() == "T":
            return float(value)
        p = float(np.exp(log_sf(value, "T", df)))
    else:
        raise ValueError(f"unknown threshold unit {unit!r}")
    if stat_type.upper() == "Z" and unit == "Z":
        return float(value)
    return float(threshold_for_p(p, stat_type, df))
