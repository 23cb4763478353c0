"""Save and load ROI files: one mask per file, or all ROIs as one labels file.

Following BIDS derivatives:

* one ROI per file: ``<entities>_desc-<NAME>_mask.nii.gz``, uint8 0/1;
* all ROIs at once: ``<entities>_dseg.nii.gz`` (uint8, or int16 above 255 labels)
  with ``<entities>_dseg.tsv`` holding the columns ``index`` and ``name``.

Files are written on the reference grid with the reference's affine and header
(:func:`~napari_milna.core.io.nifti_write.build_image`), atomically, never over an
existing file unless asked. Loading gives labels and names back; an ROI whose
grid differs from the reference is an error unless resampling is asked for.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from ..errors import input_error
from ..io.atomic import output_set, remove_stale
from ..io.geometry import Grid
from ..io.nifti import NiftiSource, nifti_stem, open_nifti
from ..io.nifti_write import build_image, save_image, with_nifti_suffix
from ..io.tables import read_table, write_table
from .transfer import resample_roi

_DESC = re.compile(r"(?:^|_)desc-([A-Za-z0-9]+)(?:_|$)")


@dataclass
class RoiImage:
    """An ROI file read back.

    Attributes
    ----------
    labels : ndarray of int32, ``grid.shape``
        0 background, 1..n the ROIs (a single mask holds 0 / 1).
    names : dict of int to str
        Label value -> ROI name.
    grid : Grid
        The grid ``labels`` lie on (the reference's after resampling).
    path : Path
    kind : {"mask", "dseg"}
    resampled_from : Grid or None
        The file's own grid when it was resampled onto a reference.
    """

    labels: np.ndarray = field(repr=False)
    names: dict[int, str]
    grid: Grid
    path: Path
    kind: str
    resampled_from: Grid | None = None

    def mask(self, label: int = 1) -> np.ndarray:
        """Boolean mask of one label."""
        return self.labels == label

    @property
    def name(self) -> str:
        """The name of a single-mask file (first label's name)."""
        return self.names.get(1, next(iter(self.names.values()), nifti_stem(self.path)))


def _as_image(reference):
    if isinstance(reference, NiftiSource):
        return reference.image, reference.path
    if isinstance(reference, (str, os.PathLike)):
        source = open_nifti(reference)
        return source.image, source.path
    if isinstance(reference, nib.spatialimages.SpatialImage):
        filename = reference.get_filename()
        return reference, Path(filename) if filename else None
    raise TypeError(f"expected a path, NiftiSource or nibabel image, got {type(reference)}")


def desc_label(name: str) -> str:
    """A BIDS ``desc`` label from an ROI name (letters and digits only)."""
    label = re.sub(r"[^A-Za-z0-9]", "", str(name))
    if not label:
        raise input_error(None, f"the ROI name {name!r} has no letters or digits for a file name")
    return label


def bids_roi_path(reference_path, folder, name: str | None = None, *, dseg: bool = False) -> Path:
    """BIDS derivative path for an ROI made on ``reference_path``.

    The reference's key-value entities are kept except ``desc``; e.g. the reference
    ``sub-01_task-pain_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz`` and the name
    ``"PAG"`` give ``sub-01_task-pain_space-MNI152NLin2009cAsym_desc-PAG_mask.nii.gz``.
    """
    stem = nifti_stem(reference_path) if reference_path is not None else ""
    entities = [t for t in stem.split("_") if re.fullmatch(r"[A-Za-z0-9]+-[A-Za-z0-9]+", t)]
    entities = [t for t in entities if not t.startswith("desc-")]
    if dseg:
        parts = entities + ([f"desc-{desc_label(name)}"] if name else []) + ["dseg"]
    else:
        parts = entities + [f"desc-{desc_label(name or 'ROI')}", "mask"]
    return Path(folder) / ("_".join(parts) + ".nii.gz")


def _tsv_path(nifti_path: Path) -> Path:
    return nifti_path.parent / (nifti_stem(nifti_path) + ".tsv")


def _label_dtype(labels: np.ndarray):
    top = int(labels.max()) if labels.size else 0
    if labels.size and int(labels.min()) < 0:
        raise ValueError("ROI labels must be >= 0")
    if top <= 255:
        return np.uint8
    if top <= 32767:
        return np.int16
    raise ValueError(f"ROI labels up to {top} do not fit int16")


def _build(data, reference_image, description: str, intent: str):
    img = build_image(data, source=reference_image, description=description)
    img.header.set_intent(intent)
    return img


def save_roi_mask(
    mask, reference, path, *, name: str | None = None, overwrite: bool = False
) -> Path:
    """Write one ROI as a uint8 0/1 mask on the reference grid.

    Parameters
    ----------
    mask : ndarray, reference grid shape
        Non-zero voxels are in the ROI.
    reference : str, path-like, NiftiSource or nibabel image
        Grid, affine and header of the output.
    path : str or path-like
        File, or an existing folder (then :func:`bids_roi_path` names the file).
    name : str, optional
        ROI name, used in the BIDS name and the header description.
    overwrite : bool

    Returns
    -------
    Path
    """
    image, ref_path = _as_image(reference)
    target = Path(path)
    if target.is_dir():
        target = bids_roi_path(ref_path, target, name)
    data = (np.asarray(mask) != 0).astype(np.uint8)
    img = _build(data, image, f"milna ROI: {name or nifti_stem(target)}", "none")
    return save_image(img, target, overwrite=overwrite)


def save_roi_labels(
    labels, names: dict[int, str], reference, path, *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Write all ROIs as one labels image plus its BIDS ``.tsv`` (``index``, ``name``).

    Parameters
    ----------
    labels : ndarray of int, reference grid shape
        0 background.
    names : dict of int to str
        Every non-zero label present should be named (missing names get ``label <k>``).
    reference : str, path-like, NiftiSource or nibabel image
    path : str or path-like
        ``*_dseg.nii.gz`` file, or an existing folder.
    overwrite : bool

    Returns
    -------
    (Path, Path)
        The image and the TSV written.
    """
    image, ref_path = _as_image(reference)
    target = Path(path)
    if target.is_dir():
        target = bids_roi_path(ref_path, target, dseg=True)
    target = with_nifti_suffix(target)
    tsv = _tsv_path(target)
    remove_stale(target.parent)  # a killed run's half-moved pair is undone first
    for existing in (target, tsv):
        if existing.exists() and not overwrite:
            raise input_error(existing, "already exists; choose another name or allow overwriting")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "biu":
        raise ValueError(f"ROI labels must be integers, got {labels.dtype}")
    data = labels.astype(_label_dtype(labels))
    present = [int(v) for v in np.unique(data) if v != 0]
    table = {int(k): str(v) for k, v in names.items() if int(k) != 0}
    for value in present:
        table.setdefault(value, f"label {value}")
    for text in table.values():
        if "\t" in text or "\n" in text:
            raise ValueError(f"ROI name {text!r} contains a tab or a newline")
    img = _build(data, image, f"milna ROIs: {len(table)} labels", "label")
    import pandas as pd

    frame = pd.DataFrame({"index": sorted(table), "name": [table[k] for k in sorted(table)]})
    with output_set():  # the labels and their names appear together, or neither
        written = save_image(img, target, overwrite=overwrite)
        write_table(frame, tsv, overwrite=overwrite)
    return written, tsv


def read_dseg_tsv(path) -> dict[int, str]:
    """Label names from a BIDS ``dseg.tsv`` (columns ``index`` and ``name``; others ignored)."""
    table = read_table(path, sep="\t", as_text=True)
    if table.empty or not {"index", "name"} <= set(table.columns):
        raise input_error(path, "is not a BIDS dseg table (it needs the columns index and name)")
    names = {}
    for row in table.to_dict("records"):
        try:
            names[int(row["index"])] = str(row["name"]).strip()
        except (TypeError, ValueError):
            raise input_error(path, f"has a non-integer index {row['index']!r}") from None
    return names


def _integer_labels(source: NiftiSource) -> np.ndarray:
    data = source.volume()
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)):
            raise input_error(source.path, "holds NaN or infinite values; not an ROI file")
        if not np.array_equal(data, np.round(data)):
            raise input_error(
                source.path, "holds non-integer values; an ROI file holds 0/1 or integer labels"
            )
    if data.size and data.min() < 0:
        raise input_error(source.path, "holds negative values; an ROI file holds labels >= 0")
    return np.asarray(data, dtype=np.int32)


def load_roi(path, *, reference=None, resample: str | None = None, threshold: float = 0.5,
             require_voxels: bool = False):
    """Read an ROI file (single mask or dseg) as labels with names.

    The one ROI reader: ``milna roi``, SVC, the permutation test, QC, the GLM and the
    crossover all read ROI files through it, so a file one of them refuses (negative or
    fractional values, NaN, an unreadable dseg table, a 4D file) every one refuses.

    Parameters
    ----------
    path : str or path-like
    reference : str, path-like, NiftiSource, nibabel image or Grid, optional
        The grid the ROI must lie on.
    resample : {None, "nearest", "fraction"}
        What to do when the grids differ: ``None`` (default) raises; otherwise the
        ROI is resampled explicitly (:func:`~.roi_transfer.resample_roi`) and the
        result records ``resampled_from``.
    threshold : float
        Fraction threshold for ``resample="fraction"``.
    require_voxels : bool
        Refuse a file without a single ROI voxel (an empty ROI tests nothing).

    Returns
    -------
    RoiImage

    Raises
    ------
    MilnaInputError
        Unreadable file, non-integer or negative values, a 4D file, an empty ROI (with
        ``require_voxels``), or a grid that does not match the reference (the message
        names both files).
    """
    source = open_nifti(path)
    if source.is_run:
        raise input_error(source.path, f"is a 4D run of {source.n_volumes} volumes, not an ROI")
    labels = _integer_labels(source)
    if require_voxels and not labels.any():
        raise input_error(source.path, "holds no ROI voxel (the ROI is empty)")
    tsv = _tsv_path(source.path)
    if tsv.exists():
        names, kind = read_dseg_tsv(tsv), "dseg"
    else:
        values = [int(v) for v in np.unique(labels) if v != 0]
        m = _DESC.search(source.name)
        if len(values) <= 1 and not source.name.lower().endswith("_dseg"):
            # one value (1, or 255 as some tools write): a single mask
            base = m.group(1) if m else source.name
            names, kind = {1: base}, "mask"
            labels = (labels != 0).astype(np.int32)
        else:
            names, kind = {v: f"label {v}" for v in values}, "dseg"
    grid = source.grid
    roi = RoiImage(labels, names, grid, source.path, kind)
    if reference is None:
        return roi
    if isinstance(reference, Grid):
        ref_grid, ref_name = reference, "the reference grid"
    else:
        ref = reference if isinstance(reference, NiftiSource) else None
        if ref is None and isinstance(reference, (str, os.PathLike)):
            ref = open_nifti(reference)
        if ref is not None:
            ref_grid, ref_name = ref.grid, str(ref.path)
        else:
            ref_grid = Grid.of(reference)
            ref_name = reference.get_filename() or "the reference image"
    if grid.matches(ref_grid):
        return roi
    if resample is None:
        raise input_error(
            source.path,
            f"lies on a {grid.describe()} grid that does not match the grid of {ref_name} "
            f"({ref_grid.describe()}); resample it explicitly onto that reference "
            "(milna roi resample, or load_roi(..., resample='nearest'))",
        )
    moved = resample_roi(labels, grid, ref_grid, method=resample, threshold=threshold)
    return RoiImage(moved, names, ref_grid, source.path, kind, resampled_from=grid)
