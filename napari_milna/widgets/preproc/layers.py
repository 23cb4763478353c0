"""Result layers of the preprocessing tab.

Maps computed on the run grid (RETROICOR partial R^2, the conservative CSF mask)
become layers whose :class:`~napari_milna._napari.layers.LayerSource` has the run's grid,
``source=None``, ``grid_source`` = the run's NiftiSource and
``result_of=("preproc", key)``: the viewer state places them by the run's affine and
the cursor panel reads their voxels.
Maps the core wrote to disk (GLM T maps, Fisher z maps) are opened from their files
with :func:`~napari_milna._napari.layers.layer_tuple`, so a T map carries the df of its
header, as any T map the user opens.

There is at most one layer per result ``key``; a new result replaces the old one.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels
from napari.utils import Colormap

from ..._napari.layers import (
    METADATA_KEY,
    LayerSource,
    add_quietly,
    find_result_layer,
    layer_tuple,
    layer_units,
)
from ..._napari.viewer_state import ViewerState
from ...core.io.geometry import Grid
from ...core.io.kinds import ImageInfo, ImageKind
from ...core.io.nifti import load_volume

#: Feature name of the preprocessing tab's result layers (``LayerSource.result_of``).
PREPROC_FEATURE = "preproc"

#: Warm ramp of the partial R^2 map: transparent at the lower limit, then dark red,
#: orange and yellow, more opaque as R^2 grows (the anatomy shows through weak values).
R2_COLORS = (
    (0.5, 0.0, 0.0, 0.0),
    (0.6, 0.0, 0.0, 0.55),
    (0.95, 0.25, 0.0, 0.8),
    (1.0, 0.6, 0.0, 0.95),
    (1.0, 0.95, 0.2, 1.0),
)
R2_CONTROLS = (0.0, 0.001, 0.4, 0.75, 1.0)


def warm_colormap() -> Colormap:
    """The partial R^2 colormap (values at or below the lower limit are transparent)."""
    return Colormap(colors=np.asarray(R2_COLORS), controls=np.asarray(R2_CONTROLS),
                    name="milna-retroicor-r2", interpolation="linear")


def null_r2_quantile(n_regressors: int, residual_df: int, q: float = 0.99) -> float:
    """Quantile of partial R^2 when the regressors explain nothing.

    With Gaussian white noise, the partial R^2 of ``p`` added regressors with
    ``d`` residual degrees of freedom in the full model follows Beta(p/2, d/2)
    (the F test of the added columns written as a ratio of sums of squares).
    Serially correlated noise makes it somewhat larger, so this is a display
    threshold, not a test.
    """
    from scipy.stats import beta

    if n_regressors < 1 or residual_df < 1:
        return 0.0
    return float(beta.ppf(q, n_regressors / 2, residual_df / 2))


def r2_limits(partial_r2: np.ndarray, n_regressors: int, residual_df: int,
              alpha: float = 0.05) -> tuple[float, float]:
    """Display limits of a partial R^2 map.

    The lower limit is the R^2 that white noise exceeds with probability ``alpha``
    anywhere among the map's finite voxels (Bonferroni over voxels, from
    :func:`null_r2_quantile`): below it the map is transparent. The upper limit is
    the map's 99th percentile (at least the lower limit + 0.05).
    """
    values = partial_r2[np.isfinite(partial_r2)]
    n = max(int(values.size), 1)
    low = null_r2_quantile(n_regressors, residual_df, 1.0 - alpha / n)
    high = float(np.percentile(values, 99)) if values.size else 1.0
    return low, float(min(1.0, max(high, low + 0.05)))


def find_result(viewer, key: str):
    """The layer showing the preprocessing result ``key``, or None."""
    return find_result_layer(viewer, PREPROC_FEATURE, key)


def show_grid_map(viewer, key: str, data: np.ndarray, grid: Grid, grid_source, name: str,
                  info: ImageInfo, labels: bool = False, quantity: str | None = None,
                  **kwargs):
    """Show ``data`` (on the run ``grid``) as the result layer ``key``, replacing an old one.

    Parameters
    ----------
    viewer : napari.Viewer
    key : str
        One layer per key.
    data : ndarray, shape grid.shape
    grid : Grid
        The run's grid.
    grid_source : NiftiSource
        The run (its affine and header for saving).
    name : str
    info : ImageInfo
    labels : bool
        A labels layer (masks) instead of an image.
    quantity : str, optional
        What the values are, for the canvas colour bar (``"partial R²"``).
    **kwargs
        Layer options (colormap, contrast_limits, opacity, ...).

    Returns
    -------
    napari layer
    """
    old = find_result(viewer, key)
    if old is not None:
        viewer.layers.remove(old)
    src = LayerSource(grid=grid, info=info, source=None, grid_source=grid_source,
                      result_of=(PREPROC_FEATURE, key), quantity=quantity)
    if labels:
        layer = Labels(np.asarray(data, dtype=np.uint8), name=name,
                       metadata={METADATA_KEY: src}, units=layer_units(3), **kwargs)
        layer.editable = False
    else:
        shown = np.nan_to_num(np.asarray(data, dtype=np.float32), nan=0.0)
        layer = Image(shown, name=name, metadata={METADATA_KEY: src}, units=layer_units(3),
                      **kwargs)
    add_quietly(viewer, layer)
    return layer


def show_r2_map(viewer, vmap, run_source, n_regressors: int, brain=None, name=None):
    """The RETROICOR partial R^2 map as a warm, thresholded layer on the run grid.

    Returns
    -------
    (layer, (low, high))
    """
    r2 = np.asarray(vmap.partial_r2, dtype=np.float32)
    if brain is not None:
        r2 = np.where(brain, r2, np.nan)
    residual_df = int(vmap.n_volumes_used - vmap.rank_full)
    limits = r2_limits(r2, n_regressors, residual_df)
    info = ImageInfo(ImageKind.VARIANCE, source="napari-milna RETROICOR",
                     label="RETROICOR partial R^2")
    layer = show_grid_map(
        viewer, "retroicor_r2", r2, run_source.grid, run_source,
        name or f"RETROICOR partial R\u00b2 ({run_source.name})", info,
        colormap=warm_colormap(), contrast_limits=limits, blending="translucent",
        interpolation2d="nearest", opacity=0.85, quantity="partial R\u00b2",
    )
    return layer, limits


def show_mask(viewer, key: str, mask: np.ndarray, run_source, name: str, colour) -> object:
    """A boolean mask on the run grid as a non-editable labels layer in one colour."""
    from napari.utils.colormaps import DirectLabelColormap

    info = ImageInfo(ImageKind.MASK, source="napari-milna preprocessing", label=name)
    cmap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 0: (0, 0, 0, 0), 1: colour})
    return show_grid_map(viewer, key, mask.astype(np.uint8), run_source.grid, run_source, name,
                         info, labels=True, colormap=cmap, opacity=0.7)


def show_file_map(viewer, key: str, path, name: str, info: ImageInfo | None = None):
    """Open a map the core wrote (placed by its affine) as the result layer ``key``.

    A T map with ``SPM{T_[df]}`` in its header becomes a statistical layer with that
    df (``info`` None: classified from the file).
    """
    from napari.layers import Layer

    old = find_result(viewer, key)
    if old is not None:
        viewer.layers.remove(old)
    state = ViewerState.of(viewer)
    data, kwargs, layer_type = layer_tuple(load_volume(path), state.space, info=info)
    kwargs["name"] = name
    kwargs["metadata"][METADATA_KEY].result_of = (PREPROC_FEATURE, key)
    layer = Layer.create(data, kwargs, layer_type)
    add_quietly(viewer, layer)
    return layer
