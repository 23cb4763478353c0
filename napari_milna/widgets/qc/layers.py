"""The QC dock's result layers: maps on the EPI grid, placed by the viewer state.

Each layer is a napari ``Image`` whose :class:`~napari_milna._napari.layers.LayerSource` has
the EPI grid, no file (``source=None``), the run's NiftiSource as
``grid_source`` and ``result_of = ("qc", (run file, map))``. The viewer
state places it by the grid's affine when it is inserted. Running QC again on the
same run removes that run's QC layers first, so layers are replaced, never
duplicated. Masks are shown as image overlays (not labels), so the ROI and SVC docks
do not offer them as ROI layers.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image
from napari.utils import Colormap

from ..._napari.layers import METADATA_KEY, LayerSource, is_result_of, source_of
from ...core.io.kinds import ImageInfo, ImageKind
from ...core.qc.coverage import QCResult
from ...core.viewer.display_values import robust_range
from .inputs import QC_FEATURE

#: Overlay colours (RGBA): dropout red, SPM implicit-mask drop yellow.
DROPOUT_RGBA = (1.0, 0.12, 0.12, 1.0)
SPM_DROP_RGBA = (1.0, 0.85, 0.0, 1.0)
BRAIN_RGBA = (0.35, 0.75, 1.0, 1.0)


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
            "contrast_limits": mean_lim,
        }),
        ("tsnr", maps.tsnr, ImageKind.IMAGE, {
            "name": f"QC tSNR · {short}", "colormap": "inferno",
            "contrast_limits": _limits(maps.tsnr[brain]), "visible": False,
        }),
        ("signal_ratio", maps.signal_ratio, ImageKind.IMAGE, {
            "name": f"QC signal ratio · {short}", "colormap": "viridis",
            "contrast_limits": (0.0, 1.5), "visible": False,
        }),
    ]
    if result.brain_mask_source.startswith("computed"):
        specs.append(("brain_mask", maps.brain_mask.astype(np.uint8), ImageKind.MASK, {
            "name": f"QC brain mask (computed) · {short}",
            "colormap": overlay_colormap(BRAIN_RGBA, "milna-qc-brain"),
            "contrast_limits": (0.0, 1.0), "opacity": 0.3, "visible": False,
        }))
    specs += [
        ("spm_implicit_drop", maps.spm_implicit_drop.astype(np.uint8), ImageKind.MASK, {
            "name": f"QC SPM implicit-mask drop · {short}",
            "colormap": overlay_colormap(SPM_DROP_RGBA, "milna-qc-spm-drop"),
            "contrast_limits": (0.0, 1.0), "opacity": 0.7,
        }),
        ("dropout", maps.dropout.astype(np.uint8), ImageKind.MASK, {
            "name": f"QC dropout · {short}",
            "colormap": overlay_colormap(DROPOUT_RGBA, "milna-qc-dropout"),
            "contrast_limits": (0.0, 1.0), "opacity": 0.8,
        }),
    ]
    return specs


def qc_layers_of(viewer, run_key: str) -> list:
    """The QC dock's layers for the run file ``run_key``."""
    out = []
    for layer in viewer.layers:
        if is_result_of(layer, QC_FEATURE) and source_of(layer).result_of[1][0] == run_key:
            out.append(layer)
    return out


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
    for old in qc_layers_of(viewer, run_key):
        viewer.layers.remove(old)
    added = {}
    for key, data, kind, kwargs in qc_layer_specs(result, short):
        info = ImageInfo(kind, source="napari-milna QC", label=f"QC {key} of {short}")
        src = LayerSource(
            grid=result.maps.grid,
            info=info,
            source=None,
            grid_source=grid_source,
            result_of=(QC_FEATURE, (run_key, key)),
        )
        layer = Image(
            np.ascontiguousarray(data),
            metadata={METADATA_KEY: src},
            interpolation2d="nearest",
            blending="translucent",
            **kwargs,
        )
        viewer.add_layer(layer)
        added[key] = layer
    return added
