"""The QC tab's result layers: maps on the EPI grid, placed by the viewer state.

Each layer is a napari ``Image`` whose :class:`~napari_milna._napari.layers.LayerSource` has
the EPI grid, no file (``source=None``), the run's NiftiSource as
``grid_source`` and ``result_of = ("qc", (run file, map))``. The viewer
state places it by the grid's affine when it is inserted. Running QC again on the
same run replaces that run's QC layers (same place in the layer list, never a
duplicate). Masks are shown as image overlays (not labels), so the ROI and SVC tabs
do not offer them as ROI layers. Every map is translucent over the anatomy: the
overlays are transparent where they are 0, the continuous maps (tSNR, signal ratio,
T2*) are drawn at partial opacity, and the mean EPI starts hidden.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image
from napari.utils import Colormap

from ..._napari.layers import (
    METADATA_KEY,
    LayerSource,
    add_quietly,
    find_result_layer,
    layer_units,
    source_of,
)
from ...core.io.kinds import ImageInfo, ImageKind
from ...core.qc.coverage import QCResult
from ...core.viewer.display_values import robust_range
from .inputs import QC_FEATURE

#: Overlay colour (RGBA) of each mask map: dropout red, SPM implicit-mask drop yellow,
#: computed brain mask blue.
OVERLAY_RGBA = {
    "dropout": (1.0, 0.12, 0.12, 1.0),
    "spm_implicit_drop": (1.0, 0.85, 0.0, 1.0),
    "brain_mask": (0.35, 0.75, 1.0, 1.0),
}
#: Opacity of the continuous QC maps (tSNR, signal ratio, T2*) over the anatomy.
MAP_OPACITY = 0.6


def hex_colour(rgba) -> str:
    """``#rrggbb`` of an RGB(A) tuple of floats in 0..1."""
    return "#{:02x}{:02x}{:02x}".format(*(int(round(255 * v)) for v in rgba[:3]))


def overlay_colormap(rgba, name: str) -> Colormap:
    """0 transparent, 1 ``rgba``."""
    return Colormap(
        colors=np.array([[0.0, 0.0, 0.0, 0.0], rgba]), controls=[0.0, 1.0], name=name
    )


def _limits(values: np.ndarray, high: float = 99.0) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    top = float(np.percentile(values, high))
    return 0.0, top if top > 0 else 1.0


def qc_layer_specs(result: QCResult, short: str) -> list[tuple[str, np.ndarray, ImageKind, dict]]:
    """``(map key, data, kind, napari kwargs)`` of every layer to add, bottom to top."""
    maps = result.maps
    brain = maps.brain_mask
    mean_lim = robust_range(maps.mean[brain]) if brain.any() else robust_range(maps.mean)
    specs = [
        ("mean", maps.mean, ImageKind.IMAGE, {
            "name": f"QC mean EPI · {short}", "colormap": "gray",
            "contrast_limits": mean_lim, "visible": False,
        }),
        ("tsnr", maps.tsnr, ImageKind.IMAGE, {
            "name": f"QC tSNR · {short}", "colormap": "inferno",
            "contrast_limits": _limits(maps.tsnr[brain]), "visible": False,
            "opacity": MAP_OPACITY, "quantity": "tSNR",
        }),
        ("signal_ratio", maps.signal_ratio, ImageKind.IMAGE, {
            "name": f"QC signal ratio · {short}", "colormap": "viridis",
            "contrast_limits": (0.0, 1.5), "visible": False, "opacity": MAP_OPACITY,
            "quantity": "signal ratio",
        }),
    ]
    if result.brain_mask_source.startswith("computed"):
        specs.append(("brain_mask", maps.brain_mask.astype(np.uint8), ImageKind.MASK, {
            "name": f"QC brain mask (computed) · {short}",
            "colormap": overlay_colormap(OVERLAY_RGBA["brain_mask"], "milna-qc-brain"),
            "contrast_limits": (0.0, 1.0), "opacity": 0.3, "visible": False,
        }))
    specs += [
        ("spm_implicit_drop", maps.spm_implicit_drop.astype(np.uint8), ImageKind.MASK, {
            "name": f"QC SPM implicit-mask drop · {short}",
            "colormap": overlay_colormap(OVERLAY_RGBA["spm_implicit_drop"], "milna-qc-spm-drop"),
            "contrast_limits": (0.0, 1.0), "opacity": 0.7,
        }),
        ("dropout", maps.dropout.astype(np.uint8), ImageKind.MASK, {
            "name": f"QC dropout · {short}",
            "colormap": overlay_colormap(OVERLAY_RGBA["dropout"], "milna-qc-dropout"),
            "contrast_limits": (0.0, 1.0), "opacity": 0.8,
        }),
    ]
    return specs


def qc_layers_of(viewer, run_key: str) -> list:
    """The QC tab's layers for the run file ``run_key``."""
    results = [source_of(layer) and source_of(layer).result_of for layer in viewer.layers]
    return [layer for layer, of in zip(viewer.layers, results)
            if of and of[0] == QC_FEATURE and of[1][0] == run_key]


def replace_result_layer(viewer, key, layer) -> None:
    """Add ``layer`` as the QC result ``key``, in place of the layer it replaces (if any)."""
    old = find_result_layer(viewer, QC_FEATURE, key)
    index = viewer.layers.index(old) if old is not None else None
    if old is not None:
        viewer.layers.remove(old)
    add_quietly(viewer, layer)
    if index is not None:
        viewer.layers.move(viewer.layers.index(layer), index)


def result_layer(data, grid, grid_source, key, label: str, kind=ImageKind.IMAGE,
                 quantity: str | None = None, **kwargs):
    """A QC result ``Image`` layer on ``grid`` (translucent, nearest voxels, in mm).

    ``quantity`` names its values for the canvas colour bar (``"tSNR"``, ``"T2* (ms)"``).
    """
    info = ImageInfo(kind, source="napari-milna QC", label=label)
    src = LayerSource(grid=grid, info=info, source=None, grid_source=grid_source,
                      result_of=(QC_FEATURE, key), quantity=quantity)
    return Image(
        np.ascontiguousarray(data), metadata={METADATA_KEY: src}, interpolation2d="nearest",
        blending="translucent", units=layer_units(3), **kwargs,
    )


def show_qc_layers(viewer, result: QCResult, grid_source, short: str) -> dict[str, Image]:
    """Add the maps of ``result`` as layers, replacing this run's earlier QC layers.

    Parameters
    ----------
    viewer : napari.Viewer
    result : QCResult
    grid_source : NiftiSource
        The run (its header is the maps' header on save).
    short : str
        Short run name for layer names.

    Returns
    -------
    dict of str to Image
        Map key -> new layer.
    """
    run_key = str(result.file)
    specs = qc_layer_specs(result, short)
    wanted = {key for key, *_ in specs}
    for old in qc_layers_of(viewer, run_key):
        if source_of(old).result_of[1][1] not in wanted:
            viewer.layers.remove(old)  # e.g. a computed brain mask no longer computed
    added = {}
    for key, data, kind, kwargs in specs:
        layer = result_layer(data, result.maps.grid, grid_source, (run_key, key),
                             f"QC {key} of {short}", kind, **kwargs)
        replace_result_layer(viewer, (run_key, key), layer)
        added[key] = layer
    return added


def t2star_colormap() -> Colormap:
    """magma from 0 (transparent at exactly 0: voxels without a fit show the anatomy)."""
    from napari.utils.colormaps import ensure_colormap

    ramp = ensure_colormap("magma").map(np.linspace(0.0, 1.0, 64))
    colors = np.vstack([[0.0, 0.0, 0.0, 0.0], ramp])
    controls = np.r_[0.0, np.linspace(1e-3, 1.0, 64)]
    return Colormap(colors=colors, controls=controls, name="milna-qc-t2star")


def t2star_limits(t2star_ms: np.ndarray) -> tuple[float, float]:
    """0 to the 99th percentile of the fitted T2*, rounded up to 10 ms."""
    fitted = t2star_ms[t2star_ms > 0]
    top = float(np.percentile(fitted, 99)) if fitted.size else 100.0
    return 0.0, float(10 * np.ceil(top / 10))


def show_t2star_layer(viewer, t2star_ms: np.ndarray, grid, grid_source, run_key: str,
                      short: str) -> Image:
    """The T2* map (ms) of a multi-echo fit as a layer with a colour bar (replaces the last)."""
    layer = result_layer(
        t2star_ms.astype(np.float32), grid, grid_source, (run_key, "t2star"),
        f"T2* (ms) of {short}", name=f"QC T2* (ms) · {short}", colormap=t2star_colormap(),
        contrast_limits=t2star_limits(t2star_ms), opacity=MAP_OPACITY, quantity="T2* (ms)",
    )
    replace_result_layer(viewer, (run_key, "t2star"), layer)
    return layer
