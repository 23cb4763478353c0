"""ROI labels layers: one napari labels layer per reference grid, one label value per ROI.

An ROI layer is a napari ``Labels`` layer whose data lie on the voxel grid of a
reference image (the stat map or EPI the ROIs will be tested on), at its native
resolution. Its :class:`~napari_milna._napari.layers.LayerSource` records that grid, the
reference's :class:`~napari_milna.core.io.nifti.NiftiSource` (``extra["grid_source"]``,
so that every writer keeps the reference's affine and header) and the ROI names
(``extra["roi_names"]``, label value -> name). The viewer state places the layer
by that grid's affine: voxel size as ``scale``, so napari's brush and eraser cover
world-space discs on anisotropic voxels.

Edits made here go through :meth:`napari.layers.Labels.data_setitem` inside
:meth:`~napari.layers.Labels.block_history`, so each tool is one step of napari's
own undo history (Ctrl+Z) like a brush stroke.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from napari.layers import Labels
from napari.utils.colormaps import DirectLabelColormap

from ..core.io.geometry import Grid
from ..core.io.kinds import ImageInfo, ImageKind
from ..core.roi.io import save_roi_labels
from .layers import METADATA_KEY, LayerSource, RoiState, grid_data, layer_units, source_of

#: Colours of the literature ROIs: saturated, distinct from each other, from the warm /
#: cool statistical colour ramps, from gray anatomy and from the green cursor crosshair.
REGION_COLOURS = {
    "PAG": (0.25, 0.85, 1.0, 1.0),  # sky blue (cyan, as in the report's mosaics)
    "RVM": (1.0, 0.35, 1.0, 1.0),  # magenta
}
#: Further ROIs, by label value.
PALETTE = (
    (1.0, 0.5, 0.4, 1.0),  # coral
    (1.0, 0.86, 0.2, 1.0),  # gold
    (0.62, 0.5, 1.0, 1.0),  # lavender
    (1.0, 0.6, 0.2, 1.0),  # orange
    (0.6, 1.0, 0.85, 1.0),  # mint
    (1.0, 0.55, 0.7, 1.0),  # pink
)
#: Labels painted with a value that has no name yet.
UNNAMED_COLOUR = (1.0, 1.0, 1.0, 1.0)
#: ROI layers are drawn as outlines this wide (data pixels), so the statistical colours
#: under them stay visible; 0 fills them (napari Labels ``contour``).
ROI_OUTLINE = 1


def recovery_dir() -> Path:
    """Folder of recovery copies: ``$MILNA_RECOVERY_DIR`` or ``~/.cache/napari-milna/recovery``."""
    env = os.environ.get("MILNA_RECOVERY_DIR")
    return Path(env) if env else Path.home() / ".cache" / "napari-milna" / "recovery"


def roi_colour(label: int, name: str | None) -> tuple[float, float, float, float]:
    """RGBA of an ROI: fixed for PAG and RVM names, else a palette colour by label value."""
    key = re.sub(r"[^A-Za-z]", "", str(name or "")).upper()
    for region, colour in REGION_COLOURS.items():
        if key.startswith(region):
            return colour
    return PALETTE[(int(label) - 1) % len(PALETTE)]


def roi_colormap(names: dict[int, str]) -> DirectLabelColormap:
    """A direct colormap: background transparent, each named ROI its colour, others white."""
    colours = {None: UNNAMED_COLOUR, 0: (0.0, 0.0, 0.0, 0.0)}
    for label, name in names.items():
        colours[int(label)] = roi_colour(label, name)
    return DirectLabelColormap(color_dict=colours)


def is_roi_layer(layer) -> bool:
    """True for labels drawn in napari-milna: ROI layers and napari "new labels" on our grids.

    Labels read from a file (a brain mask, an atlas) are inputs, not ROI layers; nor is a
    built-in atlas, which comes from no file of the user's.
    """
    src = source_of(layer)
    return (isinstance(layer, Labels) and src is not None and src.source is None
            and src.atlas is None)


def roi_state(layer) -> RoiState:
    """The ROI state of a napari-milna labels layer (created empty on first use)."""
    src = source_of(layer)
    if src.roi is None:
        src.roi = RoiState()
    return src.roi


def roi_names(layer) -> dict[int, str]:
    """Label value -> ROI name of an ROI layer (a copy)."""
    src = source_of(layer)
    return dict(src.roi.names) if src is not None and src.roi is not None else {}


def roi_grid(layer) -> Grid:
    """The voxel grid the ROI labels live on."""
    return source_of(layer).grid


def roi_data(layer) -> np.ndarray:
    """The ROI labels on their own grid (not a display copy resampled for an oblique view)."""
    return grid_data(layer)


def reference_source(layer):
    """The NiftiSource whose affine and header an ROI layer is saved with (None if unknown)."""
    src = source_of(layer)
    return src.header_source if src is not None else None


def edit_blocker(layer) -> str | None:
    """Why the ROI labels cannot be edited now, or None when they can."""
    src = source_of(layer)
    if src is None:
        return f"{layer.name} is not an ROI layer of napari-milna"
    if src.resampled_for_display:
        return (
            f"{layer.name} is shown resampled for display (its grid is oblique to the display "
            "space); show the reference grid to edit its voxels"
        )
    if tuple(np.shape(layer.data)) != src.grid.shape:
        return f"{layer.name} holds {np.ndim(layer.data)}D data, not one volume of its grid"
    return None


def set_roi_names(layer, names: dict[int, str]) -> None:
    """Record ROI names on the layer: LayerSource, colours, and features for the status bar."""
    names = {int(k): str(v) for k, v in names.items() if int(k) != 0}
    roi_state(layer).names = dict(sorted(names.items()))
    selected = layer.selected_label
    layer.colormap = roi_colormap(names)
    layer.selected_label = selected
    index = [0] + sorted(names)
    layer.features = pd.DataFrame(
        {"index": index, "roi": ["background"] + [names[k] for k in index[1:]]}
    )


def next_label(names: dict[int, str], data: np.ndarray | None = None) -> int:
    """The smallest label value above every named and every painted value."""
    top = max([0, *names])
    if data is not None and data.size:
        top = max(top, int(data.max()))
    return top + 1


def roi_layer_source(grid: Grid, grid_source, names: dict[int, str], reference: str):
    """The LayerSource of an ROI layer on ``grid`` (saved with ``grid_source``'s header)."""
    info = ImageInfo(
        ImageKind.LABELS, source="napari-milna ROI workbench", label=f"ROIs on {reference}"
    )
    roi = RoiState(
        names={int(k): str(v) for k, v in names.items()}, workbench=True, reference=reference
    )
    return LayerSource(grid=grid, info=info, source=None, grid_source=grid_source, roi=roi)


def labels_dtype(top: int) -> np.dtype:
    """Smallest unsigned dtype for labels up to ``top``."""
    return np.dtype(np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.int32)


def add_roi_layer(
    viewer,
    grid: Grid,
    grid_source,
    reference: str,
    labels: np.ndarray | None = None,
    names: dict[int, str] | None = None,
    name: str | None = None,
):
    """Add an ROI labels layer on ``grid`` to ``viewer`` and return it.

    The viewer state places it by ``grid``'s affine when it is inserted.

    Parameters
    ----------
    viewer : napari.Viewer
    grid : Grid
        The reference grid (native resolution).
    grid_source : NiftiSource or None
        Image whose affine and header the ROIs are saved with.
    reference : str
        Name of the reference (shown and recorded).
    labels : ndarray, optional
        Initial labels on ``grid`` (default: empty).
    names : dict of int to str, optional
    name : str, optional
        Layer name (default ``"ROIs on <reference>"``).
    """
    names = dict(names or {})
    if labels is None:
        labels = np.zeros(grid.shape, np.uint8)
    labels = np.asarray(labels)
    if labels.shape != grid.shape:
        raise ValueError(f"labels of shape {labels.shape} are not on the grid {grid.shape}")
    top = max(int(labels.max(initial=0)), max(names, default=0))
    labels = np.ascontiguousarray(labels, dtype=labels_dtype(top))
    src = roi_layer_source(grid, grid_source, names, reference)
    layer = Labels(
        labels,
        name=name or f"ROIs on {reference}",
        metadata={METADATA_KEY: src},
        opacity=0.75,
        colormap=roi_colormap(names),
        units=layer_units(3),  # as every napari-milna layer: napari never finds mixed units
    )
    layer.brush_size = 1
    layer.contour = ROI_OUTLINE
    set_roi_names(layer, names)
    if names:
        layer.selected_label = min(names)
    viewer.add_layer(layer)
    return layer


def replace_label(layer, label: int, mask: np.ndarray) -> dict:
    """Make ROI ``label`` equal to ``mask``, as one undoable step; other ROIs are kept.

    Voxels of ``mask`` that belong to another ROI are left to that ROI (counted as
    ``n_kept_other``), so a tool acting on one ROI never eats another.

    Returns
    -------
    dict
        ``n_added``, ``n_removed``, ``n_kept_other``.
    """
    data = np.asarray(layer.data)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != data.shape:
        raise ValueError(f"mask of shape {mask.shape} is not on the ROI grid {data.shape}")
    label = int(label)
    current = data == label
    add = mask & (data == 0)
    remove = current & ~mask
    blocked = mask & ~current & (data != 0)
    with layer.block_history():
        if remove.any():
            layer.data_setitem(np.nonzero(remove), 0, refresh=False)
        if add.any():
            layer.data_setitem(np.nonzero(add), label, refresh=False)
    layer.refresh()
    return {
        "n_added": int(add.sum()),
        "n_removed": int(remove.sum()),
        "n_kept_other": int(blocked.sum()),
    }


def write_recovery(layer, folder: Path | None = None) -> Path:
    """Write an ROI layer's labels and names to the recovery folder (atomic, new file).

    Returns
    -------
    Path
        The ``*_dseg.nii.gz`` written (a ``.tsv`` of names sits next to it).
    """
    folder = Path(folder) if folder is not None else recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    grid = roi_grid(layer)
    source = reference_source(layer)
    if source is not None and tuple(source.shape[:3]) == grid.shape:
        reference = source.image
    else:
        reference = nib.Nifti1Image(np.zeros(grid.shape, np.uint8), np.asarray(grid.affine))
    stem = re.sub(r"[^A-Za-z0-9]+", "", layer.name) or "ROIs"
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = folder / f"recovery-{stem}-{stamp}_dseg.nii.gz"
    n = 1
    while path.exists() or path.with_suffix("").with_suffix(".tsv").exists():
        n += 1
        path = folder / f"recovery-{stem}-{stamp}-{n}_dseg.nii.gz"
    labels = roi_data(layer)
    labels = labels.astype(labels_dtype(int(labels.max(initial=0))))
    written, _ = save_roi_labels(labels, roi_names(layer), reference, path)
    return written


__all__ = [
    "PALETTE",
    "REGION_COLOURS",
    "ROI_OUTLINE",
    "add_roi_layer",
    "edit_blocker",
    "is_roi_layer",
    "labels_dtype",
    "next_label",
    "recovery_dir",
    "reference_source",
    "replace_label",
    "roi_colormap",
    "roi_colour",
    "roi_data",
    "roi_grid",
    "roi_layer_source",
    "roi_names",
    "set_roi_names",
    "write_recovery",
]
