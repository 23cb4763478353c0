"""Inputs of the QC dock: which layers can feed ``run_qc``, and how.

:func:`~napari_milna.core.qc.coverage.run_qc` reads files. A layer read from a file and not
edited since is passed as that file (so the notes name it); a mask or CSF layer
drawn or edited in napari is written to a temporary NIfTI named after the layer, on
the layer's own grid with its affine; ROI labels layers become
:class:`~napari_milna.core.qc.coverage.RoiMask` objects (one per label value), resampled to
the EPI grid by nearest neighbour when they lie on another grid, and the resampling
is noted as :func:`~napari_milna.core.qc.coverage.load_rois` notes it for files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
from napari.layers import Image, Labels

from ..._napari.layers import grid_data, is_result_of, source_of
from ..._napari.roi_layers import roi_names
from ..._napari.session import StudySession
from ...core.errors import MilnaInputError, input_error
from ...core.io.geometry import Grid
from ...core.io.kinds import ImageKind
from ...core.io.resample import resample_to_grid
from ...core.qc.coverage import MIN_VOLUMES, RoiMask, load_rois
from ...core.roi.io import load_roi

#: Feature name of the QC tab's own layers (``LayerSource.result_of``).
QC_FEATURE = "qc"


def is_qc_layer(layer) -> bool:
    """True for a layer the QC dock made (mean, tSNR, signal ratio, dropout ...)."""
    return is_result_of(layer, QC_FEATURE)


def run_candidates(viewer) -> list:
    """The session's runs (4D files), then 3D images (offered, refused with a reason)."""
    session = StudySession.of(viewer)
    volumes = [
        lay for lay in viewer.layers
        if isinstance(lay, Image) and (s := source_of(lay)) is not None and s.source is not None
        and not s.is_run and s.info.kind == ImageKind.IMAGE and s.result_of is None
    ]
    return session.runs() + volumes


def preferred_brain_mask(session):
    """A mask layer named like a brain mask (fMRIPrep ``desc-brain_mask``, SPM ``mask``)."""
    for lay in session.mask_candidates("brain"):
        name = lay.name.lower()
        if "brain" in name or name == "mask":
            return lay
    return None


def preferred_csf(session):
    """The first CSF probability layer."""
    for lay in session.mask_candidates("csf"):
        if source_of(lay).info.kind == ImageKind.CSF:
            return lay
    return None


def looks_like_roi(layer) -> bool:
    """Default tick of an ROI layer: drawn in napari, or a file named like ROIs."""
    src = source_of(layer)
    if src.source is None:
        return True
    name = layer.name.lower()
    if "brain" in name:
        return False
    return "dseg" in name or "roi" in name or bool(re.search(r"desc-[a-z0-9]+_mask", name))


def layer_labels(layer) -> np.ndarray:
    """A labels layer's data on its own grid (not a copy resampled for display)."""
    return grid_data(layer)


def _file_data(src) -> np.ndarray:
    return np.nan_to_num(np.asarray(src.source.volume(), dtype=np.float64))


def unchanged_from_file(layer) -> bool:
    """True when the layer shows its file's voxels as read (no edit in napari)."""
    src = source_of(layer)
    if src is None or src.source is None:
        return False
    if not isinstance(layer, Labels):
        return True  # image layers are not edited in napari-milna
    data = layer_labels(layer)
    if data.shape != src.grid.shape:
        return False
    return np.array_equal(data, _file_data(src).astype(data.dtype))


def layer_volume(layer) -> np.ndarray:
    """A 3D layer's values on its own grid (labels as drawn, images as read)."""
    src = source_of(layer)
    if isinstance(layer, Labels):
        return layer_labels(layer)
    if src.source is not None:
        return _file_data(src)
    return np.asarray(layer.data)


def layer_as_file(layer, folder: Path) -> Path:
    """The file to give :func:`run_qc` for a mask / CSF layer.

    The layer's own file when unchanged, else a temporary NIfTI named after the layer
    (its values on its own grid, with that grid's affine).
    """
    if unchanged_from_file(layer):
        return Path(source_of(layer).source.path)
    src = source_of(layer)
    data = layer_volume(layer)
    if data.shape != src.grid.shape:
        raise input_error(
            None, f"layer {layer.name} holds data of shape {data.shape}, not one volume"
        )
    dtype = np.float32 if data.dtype.kind == "f" else np.int32
    image = nib.Nifti1Image(np.asarray(data, dtype=dtype), np.asarray(src.grid.affine))
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", layer.name).strip("_") or "layer"
    path = Path(folder) / f"{safe}.nii.gz"
    nib.save(image, str(path))
    return path


def layer_roi_names(layer) -> dict[int, str]:
    """Label value -> ROI name of a labels layer.

    The ROI workbench's names, else those of the file the layer was read from (a dseg's
    TSV, a mask's name), as QC names the ROIs of that file.
    """
    names = roi_names(layer)
    src = source_of(layer)
    if names or src is None or src.source is None:
        return names
    try:
        return dict(load_roi(src.source.path).names)
    except MilnaInputError:
        return {}


def layer_roi_masks(layer, grid: Grid) -> list[RoiMask]:
    """One :class:`RoiMask` per label value of an ROI labels layer, on the EPI ``grid``.

    Parameters
    ----------
    layer : napari.layers.Labels
        A napari-milna labels layer (its LayerSource gives its own grid).
    grid : Grid
        The EPI grid.
    """
    src = source_of(layer)
    data = layer_labels(layer)
    if data.shape != src.grid.shape:
        raise input_error(
            None, f"ROI layer {layer.name} holds data of shape {data.shape}, not one volume"
        )
    names = layer_roi_names(layer)
    out = []
    for value in np.unique(data):
        if value == 0:
            continue
        name = names.get(int(value)) or f"label {int(value)}"
        mask = data == value
        ijk = np.argwhere(mask)
        notes = []
        if src.grid.matches(grid):
            on_grid = mask
        else:
            on_grid = resample_to_grid(mask.astype(np.uint8), src.grid, grid, order=0) > 0
            notes.append(
                f"ROI {name} of layer {layer.name} lies on another grid "
                f"({src.grid.describe()}) and was resampled to the EPI grid by nearest "
                f"neighbour: {len(ijk)} voxels there, {int(on_grid.sum())} on the EPI grid"
            )
        out.append(RoiMask(name, on_grid, src.grid.to_world(ijk), None, notes))
    return out


def unique_names(rois: list[RoiMask]) -> list[RoiMask]:
    """Make ROI names unique (``PAG``, ``PAG (2)``): results are keyed by name."""
    seen: dict[str, int] = {}
    for roi in rois:
        n = seen.get(roi.name, 0) + 1
        seen[roi.name] = n
        if n > 1:
            roi.name = f"{roi.name} ({n})"
    return rois


def roi_label_of(layer, roi: RoiMask) -> int:
    """The label value ``roi`` has in ``layer`` (read at one of its own voxels; 0: none)."""
    if layer is None or len(roi.source_voxels_mm) == 0:
        return 0
    src = source_of(layer)
    ijk = tuple(int(v) for v in np.rint(src.grid.to_index(roi.source_voxels_mm[0])))
    data = layer_labels(layer)
    if not src.grid.contains_index(ijk) or data.shape != src.grid.shape:
        return 0
    return int(data[ijk])


def check_run(layer) -> str | None:
    """Why ``layer`` cannot be QC'd as a run (one sentence), or None when it can."""
    if layer is None:
        return "Open a 4D EPI run (File > Open) and choose it as the run."
    src = source_of(layer)
    if src is None or src.source is None:
        return f"Layer {layer.name} was not read from a NIfTI file; QC reads runs from their file."
    if not src.is_run:
        return str(
            input_error(src.source.path, "is a 3D image; QC needs a 4D run (several volumes)")
        )
    if src.source.n_volumes < MIN_VOLUMES:
        return str(
            input_error(
                src.source.path,
                f"has only {src.source.n_volumes} volumes; QC needs a run of at least "
                f"{MIN_VOLUMES}",
            )
        )
    return None


@dataclass
class RoiInputs:
    """The ROIs to check, gathered in the main thread (no layer access in the worker).

    Attributes
    ----------
    masks : list of RoiMask
        ROIs of edited or drawn layers, on the EPI grid.
    mask_owners : list of (str, layer)
        Name and layer of each mask's layer.
    files : list of (Path, str, layer or None)
        ROI files (of unedited layers, or added by the user), their owner's name and layer.
    skipped : list of str
        Layers left out, in words.
    """

    masks: list[RoiMask] = field(default_factory=list)
    mask_owners: list[tuple[str, object]] = field(default_factory=list)
    files: list[tuple[Path, str, object]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def load(self, grid: Grid) -> tuple[list[RoiMask], list[tuple[str, object]]]:
        """Every ROI on ``grid`` (files read now) with unique names, and its owner."""
        rois, owners = list(self.masks), list(self.mask_owners)
        for path, owner, layer in self.files:
            loaded = load_rois([path], grid)
            rois += loaded
            owners += [(owner, layer)] * len(loaded)
        unique_names(rois)
        return rois, owners

    def describe(self) -> str:
        """Which ROIs, in words: ``PAG, RVM (labels 1, 2 of ROIs on run); atlas (file)``."""
        parts = []
        by_layer: dict[int, list[RoiMask]] = {}
        layers = {}
        for roi, (_, layer) in zip(self.masks, self.mask_owners):
            by_layer.setdefault(id(layer), []).append(roi)
            layers[id(layer)] = layer
        for key, rois in by_layer.items():
            layer = layers[key]
            labels = [roi_label_of(layer, r) for r in rois]
            word = "label" if len(labels) == 1 else "labels"
            parts.append(f"{', '.join(r.name for r in rois)} ({word} "
                         f"{', '.join(str(v) for v in labels)} of {layer.name})")
        parts += [f"{owner} (file {Path(path).name})" if layer is not None
                  else f"{Path(path).name} (file)" for path, owner, layer in self.files]
        return "; ".join(parts) if parts else "no ROI"


def gather_rois(roi_layers, roi_files, grid: Grid) -> RoiInputs:
    """The ROIs of ``roi_layers`` (every label) and ``roi_files``, for the EPI ``grid``."""
    out = RoiInputs()
    for layer in roi_layers:
        if unchanged_from_file(layer):
            out.files.append((Path(source_of(layer).source.path), layer.name, layer))
            continue
        found = layer_roi_masks(layer, grid)
        if not found:
            out.skipped.append(f"ROI layer {layer.name} holds no ROI voxel and was left out")
            continue
        out.masks.extend(found)
        out.mask_owners.extend([(layer.name, layer)] * len(found))
    out.files.extend((Path(p), Path(p).name, None) for p in roi_files)
    return out


@dataclass
class MaskInputs:
    """Brain mask and CSF map as files for the core (layers written when edited)."""

    brain: Path | None = None
    brain_layer: str | None = None
    csf: Path | None = None
    csf_layer: str | None = None


def gather_masks(brain_layer, csf_layer, temp_dir: Path) -> MaskInputs:
    """The brain mask and CSF layers as files (temporary copies of edited layers)."""
    return MaskInputs(
        brain=layer_as_file(brain_layer, temp_dir) if brain_layer is not None else None,
        brain_layer=None if brain_layer is None else brain_layer.name,
        csf=layer_as_file(csf_layer, temp_dir) if csf_layer is not None else None,
        csf_layer=None if csf_layer is None else csf_layer.name,
    )


@dataclass
class QCJob:
    """Everything the worker needs, gathered in the main thread (no layer access later)."""

    run_name: str
    epi: Path
    grid: Grid
    grid_source: object
    masks: MaskInputs
    rois: RoiInputs
    detrend: int = 0
    dropout_threshold: float = 0.5
    temp_dir: Path | None = None

    @property
    def skipped(self) -> list[str]:
        """Inputs left out, in words."""
        return self.rois.skipped


def gather(
    run_layer, brain_layer, csf_layer, roi_layers, roi_files, detrend, dropout_threshold, temp_dir
) -> QCJob:
    """Build a :class:`QCJob` from the chosen layers.

    Raises
    ------
    MilnaInputError
        A run that cannot be used, a mask / ROI layer in an unusable state.
    """
    problem = check_run(run_layer)
    if problem is not None:
        raise MilnaInputError(problem)
    src = source_of(run_layer)
    return QCJob(
        run_name=run_layer.name,
        epi=Path(src.source.path),
        grid=src.grid,
        grid_source=src.source,
        masks=gather_masks(brain_layer, csf_layer, temp_dir),
        rois=gather_rois(roi_layers, roi_files, src.grid),
        detrend=int(detrend),
        dropout_threshold=float(dropout_threshold),
        temp_dir=temp_dir,
    )
