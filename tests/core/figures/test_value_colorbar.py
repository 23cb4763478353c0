"""The colour bar of a map of values (T2* in ms, tSNR, R²): its colours, limits, title."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg

from napari_milna.core.figures import value_colorbar_figure


def test_value_bar_spans_the_limits_with_the_colour_map_and_names_the_quantity():
    colors = colormaps["magma"](np.linspace(0.0, 1.0, 256))
    fig = value_colorbar_figure(colors, (0.0, 60.0), "T2* (ms)")
    [ax] = fig.axes
    assert ax.get_title() == "T2* (ms)"
    assert ax.get_ylim() == (0.0, 60.0)
    ticks = list(ax.get_yticks())
    assert ticks[0] == 0.0 and ticks[-1] == 60.0 and all(0 <= t <= 60 for t in ticks)
    # the drawn bar: the colour map from the lower limit (bottom) to the upper (top)
    [image] = ax.get_images()
    np.testing.assert_allclose(image.get_array()[:, 0, :], colors)
    assert image.get_extent()[2:] == [0.0, 60.0] and image.origin == "lower"
    FigureCanvasAgg(fig).draw()  # draws


def test_flat_limits_still_draw_a_bar():
    colors = colormaps["viridis"](np.linspace(0.0, 1.0, 8))
    fig = value_colorbar_figure(colors, (5.0, 5.0), "tSNR")
    assert fig.axes[0].get_ylim() == (5.0, 6.0)
