"""Colour bars of statistical maps (and of other maps of values), drawn by matplotlib.

Two-sided for T and Z (cool negative half, warm positive half), one-sided for F, with
the part below the threshold left empty (hatched: not drawn in the map), the
threshold marked and labelled, and the statistic's name and df as the title
(``"T (df 14)"``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..viewer.display_values import StatRamp
from .scene import ramp_rgba

#: Text and frame colours of figures on a black face.
DARK = {"face": "black", "text": "white", "hatch": "#777777"}
_STEPS = 512


def _number(value: float) -> str:
    text = f"{value:g}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")
    return text.rstrip(".")


def stat_label(stat_type: str | None, df=None) -> str:
    """The statistic's name and degrees of freedom: ``"T (df 14)"``, ``"F (df 2, 30)"``, ``"Z"``.

    Examples
    --------
    >>> stat_label("T", 14.0), stat_label("F", (2, 30.5)), stat_label("Z"), stat_label(None)
    ('T (df 14)', 'F (df 2, 30.5)', 'Z', 'value')
    """
    name = stat_type or "value"
    if df is None or stat_type in (None, "Z"):
        return name
    values = df if isinstance(df, (tuple, list)) else (df,)
    if not all(v is not None and np.isfinite(float(v)) and float(v) > 0 for v in values):
        return name
    return f"{name} (df {', '.join(_number(float(v)) for v in values)})"


def colorbar_ticks(ramp: StatRamp) -> list[float]:
    """Tick values: the ends of each coloured half and the threshold(s)."""
    vmax, thr = float(ramp.vmax), float(ramp.threshold)
    ticks = [thr, vmax] if thr > 0 else [0.0, vmax]
    if ramp.two_sided:
        ticks = [-vmax, -thr] + ticks if thr > 0 else [-vmax] + ticks
    return sorted(set(ticks))


def draw_colorbar(ax, ramp: StatRamp, label: str, style: dict | None = None) -> None:
    """Draw a vertical colour bar of ``ramp`` into ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
        A narrow, tall axes.
    ramp : StatRamp
        The map's ramp (its limits span the bar).
    label : str
        Title (:func:`stat_label`).
    style : dict, optional
        ``face``, ``text``, ``hatch`` colours (default :data:`DARK`).
    """
    style = {**DARK, **(style or {})}
    lo, hi = ramp.limits
    values = np.linspace(lo, hi, _STEPS)
    rgba = ramp_rgba(ramp, values)[:, None, :]
    ax.set_facecolor(style["face"])
    thr = float(ramp.threshold)
    if thr > 0:  # the empty part: nothing is drawn there in the map
        gap_lo = -thr if ramp.two_sided else lo
        ax.axhspan(gap_lo, thr, facecolor="none", edgecolor=style["hatch"], hatch="///", lw=0)
    ax.imshow(
        rgba, origin="lower", extent=(0, 1, lo, hi), aspect="auto", interpolation="nearest",
        zorder=2,
    )
    for edge in ([-thr, thr] if ramp.two_sided else [thr]) if thr > 0 else []:
        ax.axhline(edge, color=style["text"], lw=1.0, zorder=3)
    _frame(ax, (lo, hi), colorbar_ticks(ramp), label, style)


def _frame(ax, limits, ticks, label: str, style: dict) -> None:
    """Limits, ticks on the right, frame and title of a vertical colour bar."""
    ax.set_xlim(0, 1)
    ax.set_ylim(*limits)
    ax.set_xticks([])
    ax.yaxis.tick_right()
    ax.set_yticks(ticks, [_number(round(t, 2)) for t in ticks])
    ax.tick_params(colors=style["text"], labelsize=7, length=3)
    for spine in ax.spines.values():
        spine.set_color(style["text"])
        spine.set_linewidth(0.6)
    ax.set_title(label, color=style["text"], fontsize=8, pad=4)


def draw_value_bar(ax, colors, limits, label: str, style: dict | None = None) -> None:
    """Draw the colour bar of a map of values (T2* in ms, tSNR, R²): a colour map over limits.

    Parameters
    ----------
    ax : matplotlib Axes
    colors : array (N, 4)
        RGBA of the colour map from ``limits[0]`` (first row) to ``limits[1]`` (last).
    limits : (float, float)
        The map's contrast limits.
    label : str
        Title: the quantity and its unit (``"T2* (ms)"``).
    style : dict, optional
    """
    style = {**DARK, **(style or {})}
    lo, hi = (float(v) for v in limits)
    if not hi > lo:
        hi = lo + 1.0
    ax.set_facecolor(style["face"])
    ax.imshow(np.asarray(colors, dtype=float)[:, None, :], origin="lower",
              extent=(0, 1, lo, hi), aspect="auto", interpolation="nearest", zorder=2)
    ticks = MaxNLocator(nbins=4).tick_values(lo, hi)
    _frame(ax, (lo, hi), [t for t in ticks if lo <= t <= hi], label, style)


def colorbar_figure(
    ramp: StatRamp, label: str, size_in=(1.0, 2.4), dpi: float = 100, style: dict | None = None
) -> Figure:
    """A figure holding only a colour bar (the viewer's canvas overlay uses it).

    Parameters
    ----------
    ramp : StatRamp
    label : str
    size_in : (float, float)
        Width and height in inches.
    dpi : float
    style : dict, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax, style = _bar_figure(size_in, dpi, style)
    draw_colorbar(ax, ramp, label, style)
    return fig


def value_colorbar_figure(colors, limits, label: str, size_in=(1.0, 2.4), dpi: float = 100,
                          style: dict | None = None) -> Figure:
    """A figure holding only the colour bar of a map of values (:func:`draw_value_bar`)."""
    fig, ax, style = _bar_figure(size_in, dpi, style)
    draw_value_bar(ax, colors, limits, label, style)
    return fig


def _bar_figure(size_in, dpi: float, style: dict | None):
    style = {**DARK, **(style or {})}
    fig = Figure(figsize=size_in, dpi=dpi, facecolor=style["face"])
    width, height = size_in
    top = 0.3 / height  # room for the title
    ax = fig.add_axes((0.3 / width, 0.08 / height, 0.2 / width, 1.0 - 0.08 / height - top))
    return fig, ax, style
