"""napari-side glue of the small-volume correction dock: layers in, core inputs out.

The SVC dock is a thin shell over :mod:`napari_milna.core.svc.correction` and
:mod:`napari_milna.core.svc.permutation`. This module turns the layers the user picked
into the core's inputs (statistic values with their NaN, type and df; an ROI mask
on the map's grid; an analysis mask; the subject matrix of a permutation test), with
one sentence naming the layer or file for every problem, and puts result volumes
back into the viewer as layers on the statistic map's grid (replaced, never
duplicated). No Qt widgets here.

ROIs and masks are never resampled silently: an ROI on another grid raises
:class:`RoiGridMismatch`, and :func:`resample_roi_layer` (behind an explicit button)
makes a copy of it on the map's grid with
:func:`napari_milna.core.roi.transfer.resample_roi`.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from napari.layers import Image
from napari.utils import Colormap

from ..._napari.layers import (
    METADATA_KEY,
    LayerSource,
    add_quietly,
    find_result_layer,
    is_result_of,
    layer_units,
    source_of,
)
from ..._napari.roi_layers import add_roi_layer, roi_data, roi_names
from ...core.errors import MilnaInputError, input_error
from ...core.io.geometry import Grid, bounding_box
from ...core.io.kinds import ImageInfo, ImageKind
from ...core.io.nifti import NiftiSource, nifti_stem, open_nifti
from ...core.jobs import Cancelled, Progress, report
from ...core.roi.io import read_dseg_tsv
from ...core.roi.transfer import resample_roi
from ...core.svc.inputs import check_stat_data, nonzero_mask, stat_type_and_df
from ...core.svc.permutation import MIN_SUBJECTS, subject_matrix

#: Feature name of layers made by the SVC tab (``LayerSource.result_of``).
SVC_FEATURE = "svc"


class RoiGridMismatch(MilnaInputError):
    """The ROI lies on another voxel grid than the statistic map (resampling is offered)."""


# ---------------------------------------------------------------------- statistic map
@dataclass(frozen=True)
class StatInput:
    """A statistic map as the core needs it.

    Attributes
    ----------
    name : str
        Layer name (for messages and exports).
    data : ndarray
        Voxel values on ``grid`` with their NaN (the file's values, not the display copy).
    grid : Grid
    stat_type : {"T", "Z", "F"}
    df : float or (float, float) or None
    source : NiftiSource or None
        The file, when the layer was read from one.
    """

    name: str
    data: np.ndarray
    grid: Grid
    stat_type: str
    df: float | tuple[float, float] | None
    source: NiftiSource | None

    @property
    def path(self) -> str | None:
        """The map's file, when known."""
        return str(self.source.path) if self.source is not None else None


def parse_numbers(text: str, what: str) -> list[float]:
    """Numbers typed in a box (``"6"``, ``"6 6 7"``, ``"6, 6, 7"``).

    Raises
    ------
    MilnaInputError
        Something that is not a number.
    """
    parts = text.replace(",", " ").replace(";", " ").split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise input_error(None, f"{what} must be numbers, got {text.strip()!r}") from None
    return values


def header_df(layer) -> float | tuple | None:
    """Degrees of freedom the layer carries (set by the user in the viewer, else the header's)."""
    src = source_of(layer)
    if src is None:
        return None
    return src.df if src.df is not None else src.info.df


def df_text(df) -> str:
    """Text of a df for the df box (``"20"``, ``"3, 40"``, ``""``)."""
    if df is None:
        return ""
    if isinstance(df, (tuple, list)):
        return ", ".join(f"{float(v):g}" for v in df)
    return f"{float(df):g}"


def stat_values(layer) -> np.ndarray:
    """The map's own voxel values (NaN kept), not the display copy."""
    src = source_of(layer)
    if src.source is not None and not src.source.is_run:
        return src.source.volume()
    return np.asarray(layer.data)


def stat_input(layer, stat_type: str | None, df_typed: str) -> StatInput:
    """Statistic values, type and df of a stat layer.

    Parameters
    ----------
    layer : napari layer
        A napari-milna statistical map.
    stat_type : {"T", "Z", "F"} or None
        The type chosen in the dock (None: the layer's).
    df_typed : str
        The df box: one value for T, two for F (ignored for Z).

    Raises
    ------
    MilnaInputError
        Unknown type, missing or bad df, or a map without a non-zero finite voxel.
    """
    src = source_of(layer)
    name = layer.name
    values = parse_numbers(df_typed, f"{name}: the degrees of freedom") if df_typed else []
    stat, df = stat_type_and_df(
        name, stat_type or src.info.stat_type, values, type_hint="choose T, Z or F",
        df_hint="type the df in the df box", f_df_hint="type DF1, DF2",
    )
    data = stat_values(layer)
    check_stat_data(name, data)
    return StatInput(name, data, src.grid, stat, df, src.source)


# ---------------------------------------------------------------------- ROI labels
def is_svc_layer(layer) -> bool:
    """True for result layers made by the SVC dock."""
    return is_result_of(layer, SVC_FEATURE)


def roi_labels(layer) -> np.ndarray:
    """ROI labels on their own grid (not a display copy resampled for an oblique view)."""
    return roi_data(layer)


def _tsv_names(source: NiftiSource | None) -> dict[int, str]:
    if source is None:
        return {}
    tsv = Path(source.path).parent / (nifti_stem(source.path) + ".tsv")
    if not tsv.is_file():
        return {}
    try:
        return read_dseg_tsv(tsv)
    except MilnaInputError:
        return {}


def label_names(layer) -> dict[int, str]:
    """Label value -> ROI name: the workbench's names, else a ``*_dseg.tsv`` next to the file."""
    names = roi_names(layer)
    if not names:
        names = _tsv_names(source_of(layer).source)
    return {int(k): str(v) for k, v in names.items() if int(k) != 0}


def present_labels(labels: np.ndarray) -> list[int]:
    """Non-zero label values present in ``labels``."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "ub" and labels.dtype.itemsize <= 2:
        counts = np.bincount(labels.ravel().astype(np.int64, copy=False))
        return [int(v) for v in np.flatnonzero(counts) if v != 0]
    return [int(v) for v in np.unique(labels) if v != 0]


def label_text(value: int, names: dict[int, str]) -> str:
    """How a label is listed: ``"PAG (1)"`` or ``"label 3"``."""
    name = names.get(int(value))
    return f"{name} ({value})" if name else f"label {value}"


def label_choices(layer) -> list[tuple[str, int]]:
    """(text, value) of every named or painted label of an ROI layer, by value."""
    names = label_names(layer)
    values = sorted(set(names) | set(present_labels(roi_labels(layer))))
    return [(label_text(v, names), v) for v in values]


def roi_mask(layer, label: int, grid: Grid, map_name: str) -> np.ndarray:
    """Voxels of ROI ``label`` of an ROI layer, which must lie on ``grid``.

    Raises
    ------
    RoiGridMismatch
        The ROI's grid differs from the map's (resampling is only done on request).
    MilnaInputError
        Data that are not one volume of the ROI's grid.
    """
    src = source_of(layer)
    if not src.grid.matches(grid):
        raise RoiGridMismatch(
            f"{layer.name}: the ROI lies on a different voxel grid ({src.grid.describe()}) than "
            f"the statistic map {map_name} ({grid.describe()}); it is not resampled silently: "
            "press 'Resample ROI onto the map's grid' for a copy on the map's grid (nearest "
            "neighbour)."
        )
    labels = roi_labels(layer)
    if labels.shape != grid.shape:
        raise input_error(
            layer.name, f"holds data of shape {labels.shape}, not one volume of its grid "
            f"{grid.shape}"
        )
    return labels == label


def mask_on(layer, grid: Grid, map_name: str) -> np.ndarray:
    """Analysis mask (non-zero finite voxels) of a mask layer on the map's grid.

    Raises
    ------
    MilnaInputError
        Another grid, or no non-zero voxel.
    """
    src = source_of(layer)
    if not src.grid.matches(grid):
        raise input_error(
            layer.name, f"the analysis mask lies on a different voxel grid "
            f"({src.grid.describe()}) than the statistic map {map_name} ({grid.describe()}) and "
            "is not resampled silently; choose a mask on the map's grid (or resample it with "
            "milna svc --resample-mask)"
        )
    data = src.source.volume() if src.source is not None else np.asarray(layer.data)
    return nonzero_mask(layer.name, data, "analysis mask")


def resample_roi_layer(viewer, roi_layer, stat_layer):
    """A copy of an ROI layer on the statistic map's grid (nearest neighbour), added to the viewer.

    Returns
    -------
    napari.layers.Labels
        The new ROI layer (names kept), placed by the map's affine.

    Raises
    ------
    MilnaInputError
        When no ROI voxel lands inside the map's field of view.
    """
    src, target = source_of(roi_layer), source_of(stat_layer)
    labels = roi_labels(roi_layer)
    moved = resample_roi(labels, src.grid, target.grid, method="nearest")
    if not moved.any():
        raise input_error(
            roi_layer.name, f"no ROI voxel lands inside the field of view of {stat_layer.name} "
            "after resampling"
        )
    names = label_names(roi_layer)
    name = f"{roi_layer.name} on {stat_layer.name}"
    top = int(moved.max())
    dtype = np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.int32
    moved = np.ascontiguousarray(moved, dtype=dtype)
    return add_roi_layer(
        viewer, target.grid, target.source, stat_layer.name, labels=moved, names=names,
        name=name,
    )


# ---------------------------------------------------------------------- result layers
def solid_colormap(rgba, name: str) -> Colormap:
    """Zero transparent, every positive value one colour (use contrast limits (0, 1))."""
    clear = [0.0, 0.0, 0.0, 0.0]
    return Colormap(
        colors=[clear, list(rgba), list(rgba)], controls=[0.0, 1e-6, 1.0], name=name,
        interpolation="linear",
    )


def ramp_colormap(rgba, name: str) -> Colormap:
    """Zero transparent, then from a faint to the full colour."""
    clear = [0.0, 0.0, 0.0, 0.0]
    faint = [*list(rgba)[:3], 0.25]
    return Colormap(
        colors=[clear, faint, list(rgba)], controls=[0.0, 1e-6, 1.0], name=name,
        interpolation="linear",
    )


def show_result_layer(
    viewer, key: str, data: np.ndarray, grid: Grid, grid_source, name: str,
    colormap: Colormap, contrast_limits: tuple[float, float], label: str, top: bool = False,
    opacity: float = 0.85, blending: str = "translucent",
):
    """Show ``data`` (on ``grid``) as the result layer ``key``: updated in place or replaced.

    The layer's :class:`LayerSource` has the map's grid (``source=None``,
    ``extra["grid_source"]`` the map's file), so the viewer state places it by that
    affine and the cursor panel reads its values. There is never more than one layer
    per ``key``. An existing layer on the same grid is updated in place (changed
    voxels only), which keeps live updates cheap. A new layer sits above the map
    (below ROI labels), or on top of every layer with ``top``; ``opacity`` and
    ``blending`` say how much of the layers below shows through.
    """
    data = np.asarray(data, dtype=np.float32)
    limits = (float(contrast_limits[0]), float(contrast_limits[1]))
    layer = find_result_layer(viewer, SVC_FEATURE, key)
    if layer is not None:
        src = source_of(layer)
        current = layer.data
        if (src.grid.matches(grid) and not src.resampled_for_display
                and isinstance(current, np.ndarray) and current.shape == data.shape
                and current.dtype == data.dtype):
            flat, new = current.reshape(-1), data.reshape(-1)
            changed = np.flatnonzero(flat != new)
            if changed.size:
                flat[changed] = new[changed]
                layer.refresh()
            if tuple(layer.contrast_limits) != limits:
                layer.contrast_limits = limits
            if layer.colormap.name != colormap.name:
                layer.colormap = colormap
            if layer.name != name:
                layer.name = name
            return layer
        viewer.layers.remove(layer)
    info = ImageInfo(ImageKind.MASK, source="napari-milna SVC", label=label)
    src = LayerSource(
        grid=grid, info=info, source=None, grid_source=grid_source, result_of=(SVC_FEATURE, key)
    )
    layer = Image(
        data, name=name, colormap=colormap, contrast_limits=limits, blending=blending,
        opacity=opacity, interpolation2d="nearest", metadata={METADATA_KEY: src},
        units=layer_units(3),  # as every placed layer: no "inconsistent units" warning
    )
    add_quietly(viewer, layer)  # painting an ROI must not stop
    if top:
        viewer.layers.move(viewer.layers.index(layer), len(viewer.layers))
    return layer


def remove_result_layer(viewer, key: str) -> None:
    """Remove the result layer ``key`` if the viewer has one."""
    layer = find_result_layer(viewer, SVC_FEATURE, key)
    if layer is not None:
        viewer.layers.remove(layer)


def survivors_volume(result, grid: Grid) -> np.ndarray:
    """``-log10`` of the reported FWE p at voxels with p FWE <= alpha, 0 elsewhere."""
    out = np.zeros(grid.shape, np.float32)
    keep = result.voxel_p_fwe <= result.alpha
    ijk = result.voxel_ijk[keep]
    p = np.maximum(result.voxel_p_fwe[keep], np.finfo(float).tiny)
    out[tuple(ijk.T)] = -np.log10(p)
    return out


# ---------------------------------------------------------------------- permutation inputs
def glob_paths(pattern: str) -> list[str]:
    """NIfTI files matching a glob pattern (``**`` recurses), sorted.

    Raises
    ------
    MilnaInputError
        No file matches.
    """
    pattern = os.path.expanduser(pattern.strip())
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, "*.nii*")
    found = sorted(
        p for p in glob.glob(pattern, recursive=True)
        if p.endswith((".nii", ".nii.gz")) and os.path.isfile(p)
    )
    if not found:
        raise input_error(pattern, "matches no NIfTI file")
    return found


@dataclass(frozen=True)
class SubjectFiles:
    """Opened subject images: sources and how many volumes (subjects) each holds."""

    sources: list[NiftiSource]
    n_images: int


def open_subjects(paths: Sequence[str], grid: Grid, grid_owner: str, what: str) -> SubjectFiles:
    """Open subject images (headers only) and check that they lie on ``grid``.

    Raises
    ------
    MilnaInputError
        An unreadable file, or one on another grid than the ROI.
    """
    sources = []
    for path in paths:
        src = open_nifti(path)
        if not src.grid.matches(grid):
            raise input_error(
                path, f"this {what} lies on a different voxel grid ({src.grid.describe()}) than "
                f"{grid_owner} ({grid.describe()}); subject images and the ROI must share one grid"
            )
        sources.append(src)
    return SubjectFiles(sources, sum(s.n_volumes for s in sources))


def _volumes_in_box(files: SubjectFiles, box, progress: Progress | None,
                    start: int, total: int) -> list[np.ndarray]:
    out = []
    for n, src in enumerate(files.sources):
        try:
            report(progress, start + n, total)
        except Cancelled:
            raise Cancelled("stopped while reading the subject images") from None
        try:
            if src.is_run:
                run = src.run()
                out.extend(np.asarray(run.volume(t)[box], np.float64)
                           for t in range(src.n_volumes))
            else:
                out.append(np.asarray(src.volume()[box], np.float64))
        except (OSError, EOFError, ValueError) as exc:
            raise input_error(src.path, f"could not be read ({exc})") from None
    return out


def check_counts(n_images: int, n_placebo: int | None) -> None:
    """Refuse too few subjects or unequal pair lists before reading any voxel.

    Raises
    ------
    MilnaInputError
    """
    if n_placebo is not None and n_placebo != n_images:
        raise input_error(
            None, f"a paired design needs one placebo image per drug image; got {n_images} drug "
            f"and {n_placebo} placebo images"
        )
    if n_images < MIN_SUBJECTS:
        raise input_error(
            None, f"a sign-flip permutation test needs at least {MIN_SUBJECTS} subject images, "
            f"got {n_images}"
        )


def subject_data(
    search: np.ndarray,
    images: SubjectFiles,
    placebo: SubjectFiles | None = None,
    roi_name: str = "the ROI",
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Subjects x ROI voxels matrix: the images, or the paired differences images - placebo.

    Returns
    -------
    data : ndarray (n_subjects, n_voxels)
    kept : 3D bool array on the ROI's grid
        ROI voxels with finite, not-all-zero data in every subject (columns of ``data``).

    Raises
    ------
    MilnaInputError
        Fewer than five subjects, unequal pair lists, or no ROI voxel with data.
    Cancelled
        When ``progress`` stopped the reading (one report per file read).
    """
    check_counts(images.n_images, placebo.n_images if placebo is not None else None)
    box = bounding_box(search)
    n_files = len(images.sources) + (len(placebo.sources) if placebo is not None else 0)
    volumes = _volumes_in_box(images, box, progress, 0, n_files)
    if placebo is not None:
        volumes = [a - b for a, b in zip(
            volumes, _volumes_in_box(placebo, box, progress, len(images.sources), n_files))]
    data, kept_box = subject_matrix(volumes, search[box])
    if data.shape[1] == 0:
        raise input_error(
            roi_name, "none of the ROI's voxels has data (finite and not all zero) in every "
            "subject image (NaN maps, or the ROI outside the images' masks)"
        )
    kept = np.zeros(search.shape, bool)
    kept[box] = kept_box
    return data, kept


__all__ = [
    "SVC_FEATURE",
    "RoiGridMismatch",
    "StatInput",
    "SubjectFiles",
    "check_counts",
    "df_text",
    "glob_paths",
    "header_df",
    "is_svc_layer",
    "label_choices",
    "label_names",
    "label_text",
    "mask_on",
    "open_subjects",
    "parse_numbers",
    "present_labels",
    "ramp_colormap",
    "remove_result_layer",
    "resample_roi_layer",
    "roi_labels",
    "roi_mask",
    "show_result_layer",
    "solid_colormap",
    "stat_input",
    "stat_values",
    "subject_data",
    "survivors_volume",
]
