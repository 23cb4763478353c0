"""npe2 writer: a labels layer as NIfTI on the grid and with the header of its source image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error, show_info
from napari.utils.transforms import Affine

from ..core.errors import MilnaInputError
from ..core.io.nifti_write import build_image, save_image, with_nifti_suffix
from .layers import METADATA_KEY, LayerSource


def _labels_dtype(data: np.ndarray) -> np.dtype:
    top = int(data.max(initial=0))
    return np.dtype(np.uint8) if top <= 255 else np.dtype(np.int16 if top <= 32767 else np.int32)


def layer_world_affine(meta: dict, ndim: int) -> np.ndarray:
    """The 4 x 4 voxel -> viewer-coordinates transform of a layer's spatial axes."""
    data2physical = Affine(
        scale=meta.get("scale", np.ones(ndim)),
        translate=meta.get("translate", np.zeros(ndim)),
        rotate=meta.get("rotate"),
        shear=meta.get("shear"),
        ndim=ndim,
    )
    physical2world = meta.get("affine")
    if physical2world is None:
        physical2world = np.eye(ndim + 1)
    elif isinstance(physical2world, Affine):
        physical2world = physical2world.affine_matrix
    full = np.asarray(physical2world, dtype=float) @ data2physical.affine_matrix
    spatial = np.eye(4)
    spatial[:3, :3] = full[-4:-1, -4:-1]
    spatial[:3, 3] = full[-4:-1, -1]
    return spatial


def _display_to_world() -> tuple[np.ndarray, int]:
    """Display -> world transform of the current viewer and an sform code to use."""
    import napari

    from .layers import source_of
    from .viewer_state import ViewerState

    viewer = napari.current_viewer()
    state = ViewerState.existing(viewer) if viewer is not None else None
    if state is None:
        return np.eye(4), 2
    code = 2
    for layer in state.milna_layers():
        src = source_of(layer)
        if src.source is not None and src.source.sform_code:
            code = src.source.sform_code
            break
    return state.space.display_to_world, code


def write_labels(path: str, data, meta: dict) -> list[str]:
    """Write a labels layer as NIfTI.

    The output keeps the affine, sform / qform and codes and the header of the image
    the labels were drawn on (from the layer's napari-milna metadata, including
    labels made with napari's "new labels" from one of our layers). Without such a
    source the affine is rebuilt from the layer's transforms and the viewer's
    display space. Voxel (i, j, k) of the layer is voxel (i, j, k) of the file.
    A 4D labels layer (drawn on a run) is written as the union over volumes.

    Parameters
    ----------
    path : str
        Destination (``.nii.gz`` appended when it has no NIfTI suffix).
    data : array-like
        Labels, NIfTI voxel order (i, j, k).
    meta : dict
        napari layer attributes (``metadata``, ``scale``, ``translate``, ``affine``, ...).

    Returns
    -------
    list of str
        The path written (empty on failure, with a notification).
    """
    labels = np.asarray(data)
    if labels.ndim == 4:
        labels = labels.max(axis=0)
        show_info(f"{meta.get('name', 'labels')}: 4D labels written as their union over volumes.")
    if labels.ndim != 3:
        show_error(f"{path}: only 3D labels can be saved as NIfTI (got {labels.ndim}D).")
        return []
    labels = labels.astype(_labels_dtype(labels))
    src = (meta.get("metadata") or {}).get(METADATA_KEY)
    image = None
    if isinstance(src, LayerSource) and not src.resampled_for_display:
        grid_source = src.header_source
        image = grid_source.image if grid_source is not None else None
    try:
        if image is not None and tuple(image.shape[:3]) == labels.shape:
            img = build_image(labels, source=image, description="napari-milna labels")
        else:
            display_to_world, code = _display_to_world()
            affine = display_to_world @ layer_world_affine(meta, np.ndim(data))
            img = build_image(
                labels, affine=affine, sform_code=code, description="napari-milna labels"
            )
        out = save_image(img, with_nifti_suffix(path), overwrite=True)
    except (MilnaInputError, OSError, ValueError) as exc:
        show_error(str(exc) if isinstance(exc, MilnaInputError) else f"{path}: {exc}")
        return []
    if isinstance(src, LayerSource) and src.roi is not None:
        src.roi.unsaved = False
        src.roi.saved_path = str(out)
    return [str(Path(out))]
