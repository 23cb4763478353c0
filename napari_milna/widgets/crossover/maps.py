"""The crossover tab's map layers: one group map and one subject map, thresholded, translucent.

Both are result layers of the tab (``LayerSource.result_of = ("crossover", key)``):
a new map replaces the layer of its key in place, so the tab never adds more than
these two layers. T maps use the two-sided statistical colour ramp, transparent below
the t of the chosen p (:func:`~napari_milna.widgets.viewer.stat_threshold.apply_threshold`).
Effect maps (the group mean, a subject's contrast) show the same voxels -- where the
group |t| of that view passes -- with the same ramp over their own values, and are
transparent elsewhere.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Layer

from ..._napari.layers import (
    METADATA_KEY,
    add_quietly,
    display_version,
    find_result_layer,
    layer_tuple,
    source_of,
    stat_colormap,
    stat_ramp,
)
from ...core.crossover.analysis import CrossoverResult, view_map
from ...core.io.nifti import load_volume
from ...core.svc.stat_values import threshold_for_p
from ...core.viewer.display_values import stat_display_max
from ..viewer.stat_threshold import apply_threshold

#: The feature name of the tab's result layers.
FEATURE = "crossover"
#: Result keys: the group map and the clicked subject's map.
GROUP, SUBJECT = "group", "subject"
#: Name prefix of the group map layer.
GROUP_PREFIX = "crossover map"
#: Effect maps: values within this fraction of the ramp's top around 0 are transparent.
CLEAR_FRACTION = 0.05


def show_file(viewer, state, key: str, path, name: str):
    """Show the map at ``path`` as the tab's ``key`` layer (replacing what it showed).

    Parameters
    ----------
    viewer : napari.Viewer
    state : ViewerState
        Gives the display space the layer is placed in.
    key : {"group", "subject"}
    path : path-like
    name : str

    Returns
    -------
    napari layer
    """
    source = load_volume(path)
    data, kwargs, layer_type = layer_tuple(source, state.space, spacing=state.display_spacing())
    kwargs["metadata"][METADATA_KEY].result_of = (FEATURE, key)
    kwargs["name"] = name
    kwargs["blending"] = "translucent"
    layer = find_result_layer(viewer, FEATURE, key)
    if layer is not None and type(layer).__name__.lower() != layer_type:
        viewer.layers.remove(layer)
        layer = None
    if layer is None:
        layer = Layer.create(data, kwargs, layer_type)
        add_quietly(viewer, layer)
        return layer
    layer.metadata = kwargs["metadata"]
    layer.data = data
    for attr in ("affine", "scale", "translate", "colormap", "contrast_limits", "blending",
                 "name"):
        if attr in kwargs:
            setattr(layer, attr, kwargs[attr])
    return layer


def t_threshold(p: float, df: float) -> float:
    """The t whose one-sided uncorrected p is ``p`` with ``df`` degrees of freedom."""
    return float(threshold_for_p(p, "T", df))


def passing(result: CrossoverResult, view: str, p: float) -> tuple[np.ndarray, float, float]:
    """Voxels where the group |t| of ``view`` reaches the t of ``p``: ``(mask, t, df)``."""
    t_map, df = view_map(result, view, "t")
    t_thr = t_threshold(p, df)
    return np.abs(np.asarray(t_map)) >= t_thr, t_thr, df


def show_where(layer, values: np.ndarray, keep: np.ndarray, state) -> None:
    """Show ``values`` (study grid) where ``keep``, transparent elsewhere, on the stat ramp.

    The ramp is clear for ``|value| < CLEAR_FRACTION * vmax``: the voxels left out (0)
    stay transparent on the GPU too, whose colour table would otherwise blend the two
    tails' colours at an infinitely thin clear band.
    """
    src = source_of(layer)
    shown = np.where(keep, np.nan_to_num(np.asarray(values, np.float32)), 0).astype(np.float32)
    vmax = stat_display_max(shown)
    src.threshold, src.vmax = CLEAR_FRACTION * vmax, vmax
    data, _ = display_version(src, shown, state.space, state.display_spacing(), False)
    layer.data = data
    ramp = stat_ramp("T", src.threshold, vmax)
    layer.colormap = stat_colormap(ramp)
    layer.contrast_limits = ramp.limits
    layer.blending = "translucent"


def threshold_t_layer(layer, p: float, df: float) -> float:
    """Threshold a group t layer at ``p`` (one-sided per tail); returns the t."""
    return float(apply_threshold(layer, p, "p", df))


__all__ = [
    "FEATURE",
    "GROUP",
    "GROUP_PREFIX",
    "SUBJECT",
    "passing",
    "show_file",
    "show_where",
    "t_threshold",
    "threshold_t_layer",
]
