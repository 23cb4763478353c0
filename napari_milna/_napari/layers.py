"""Turn opened NIfTI sources into napari layers placed by their affine.

Every layer this package makes carries its :class:`LayerSource` in
``layer.metadata["milna"]``: the file, the nibabel image (header for the writer),
the grid and the classification. :mod:`napari_milna._napari.viewer_state` places such
layers in the viewer's display space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from napari.utils import Colormap

from ..core.io.geometry import DisplaySpace, Grid, Placement
from ..core.io.kinds import ImageInfo, ImageKind, classify
from ..core.io.nifti import LazyRun, NiftiSource
from ..core.io.resample import display_aligned_grid, resample_to_grid
from ..core.svc.stat_values import threshold_for_p
from ..core.viewer.display_values import StatRamp, robust_range, stat_display_max

#: Default display threshold of statistical maps (uncorrected one-sided p).
DEFAULT_P_THRESHOLD = 0.001
#: Stacking order: lower ranks sit lower in the layer list.
KIND_RANK = {
    ImageKind.RUN: 0,
    ImageKind.IMAGE: 1,
    ImageKind.CONTRAST: 2,
    ImageKind.BETA: 2,
    ImageKind.VARIANCE: 2,
    ImageKind.RESELS_PER_VOXEL: 2,
    ImageKind.PROBABILITY: 3,
    ImageKind.CSF: 3,
    ImageKind.STAT: 4,
    ImageKind.MASK: 5,
    ImageKind.LABELS: 6,
    ImageKind.ATLAS: 3,  # under the statistical maps, over the anatomy
}
METADATA_KEY = "milna"


@dataclass
class RoiState:
    """What napari-milna knows of an ROI labels layer drawn in it.

    Attributes
    ----------
    names : dict
        Label value -> ROI name.
    workbench : bool
        Made by the ROI workbench (its edits are guarded against loss).
    reference : str or None
        Name of the image whose grid the ROIs live on.
    unsaved : bool
        Edits made since the last save (set by the writer and the workbench).
    saved_path, saved_kind : str or None
        Where and how (``"masks"`` or ``"dseg"``) the layer was last saved.
    saved_labels, saved_names
        The labels and names as last saved (to tell whether edits are unsaved).
    snapshot_path : str or None
        ``saved_path`` when ``saved_labels`` were taken.
    """

    names: dict = field(default_factory=dict)
    workbench: bool = False
    reference: str | None = None
    unsaved: bool = False
    saved_path: str | None = None
    saved_kind: str | None = None
    saved_labels: np.ndarray | None = field(default=None, repr=False)
    saved_names: dict | None = None
    snapshot_path: str | None = None


@dataclass
class LayerSource:
    """What a layer shows: a grid in world mm and, when it came from a file, that file.

    Attributes
    ----------
    grid : Grid
        Voxel grid of the layer's data (the spatial axes).
    info : ImageInfo
        Classification (kind, statistic type, df).
    source : NiftiSource or None
        The file the layer was read from; its header is kept on save.
    df : float or tuple or None
        Degrees of freedom in use (from the header or set by the user).
    threshold : float
        Current display threshold of a statistical map, in its own units.
    vmax : float
        Top of the colour ramp of a statistical map.
    grid_source : NiftiSource or None
        For drawn or derived layers (no file of their own): the image whose grid and
        header they are saved with.
    result_of : (str, object) or None
        ``(feature, key)`` of a layer a tab made as a result (replaced, never duplicated).
    roi : RoiState or None
        ROI names and save state of a labels layer drawn in napari-milna.
    focus_mm : tuple or None
        World mm the viewer goes to once the layer is shown (then cleared).
    session_role : str or None
        What the study session takes the layer as once it is added (then cleared):
        ``"stat_map"``, ``"run"`` or a mask role (``"brain"``, ``"csf"``, ``"analysis"``).
    placed_space : DisplaySpace or None
        The display space the layer is currently placed in.
    display_grid : Grid or None
        The display-aligned grid of the resampled copy shown, when the layer's grid is
        oblique to the display space (values in the read-out still come from ``grid``).
    original_data : ndarray or None
        Own-grid data of a drawn or derived layer while a display copy is shown.
    atlas : napari_milna.core.atlas.Atlas or None
        The atlas an atlas layer shows (its labels, or the most probable label of a
        probabilistic atlas); the read-out asks it for the label at the cursor.
    quantity : str or None
        What the values of a result map that is not a statistic are, with their unit
        (``"T2* (ms)"``, ``"tSNR"``, ``"partial R²"``): the canvas colour bar's title.
    """

    grid: Grid
    info: ImageInfo
    source: NiftiSource | None = None
    df: float | tuple | None = None
    threshold: float = 0.0
    vmax: float = 1.0
    grid_source: NiftiSource | None = None
    result_of: tuple[str, object] | None = None
    roi: RoiState | None = None
    focus_mm: tuple | None = None
    session_role: str | None = None
    placed_space: DisplaySpace | None = None
    display_grid: Grid | None = None
    original_data: np.ndarray | None = field(default=None, repr=False)
    atlas: object | None = field(default=None, repr=False)
    quantity: str | None = None

    @property
    def image(self):
        """The nibabel image (header source for writing), or None."""
        return self.source.image if self.source is not None else None

    @property
    def header_source(self) -> NiftiSource | None:
        """The image whose affine and header the layer is saved with (None if unknown)."""
        return self.source if self.source is not None else self.grid_source

    @property
    def resampled_for_display(self) -> bool:
        """True when the layer shows a copy resampled onto a display-aligned grid."""
        return self.display_grid is not None

    @property
    def is_run(self) -> bool:
        """True for a 4D run."""
        return self.source is not None and self.source.is_run

    def value_at(self, ijk, t: int = 0) -> float | None:
        """Voxel value at integer index ``ijk`` (volume ``t`` for runs).

        None outside the grid, and for a run with no volume ``t`` (shorter than another
        run the viewer steps through).
        """
        ijk = np.asarray(ijk, dtype=int)
        if self.source is None or not self.grid.contains_index(ijk):
            return None
        if self.source.is_run:
            run = self.source.run()
            if not 0 <= int(t) < run.shape[0]:
                return None
            return float(run.volume(t)[tuple(ijk)])
        return float(self.source.volume()[tuple(ijk)])


def source_of(layer) -> LayerSource | None:
    """The :class:`LayerSource` of a layer, or None for layers not made by napari-milna."""
    meta = getattr(layer, "metadata", None) or {}
    src = meta.get(METADATA_KEY)
    return src if isinstance(src, LayerSource) else None


def grid_data(layer) -> np.ndarray:
    """A layer's data on its own grid, never the copy resampled for an oblique display.

    File-backed images and runs are shown from their source anyway; drawn or derived
    layers (ROIs, QC maps) keep their own-grid data in ``original_data``
    while the viewer shows a display copy.
    """
    src = source_of(layer)
    if src is not None and src.resampled_for_display and src.original_data is not None:
        return np.asarray(src.original_data)
    return np.asarray(layer.data)


def is_result_of(layer, feature: str, key=None) -> bool:
    """True for a layer that the ``feature`` tab made as a result (with ``key``, if given)."""
    src = source_of(layer)
    if src is None or src.result_of is None or src.result_of[0] != feature:
        return False
    return key is None or src.result_of[1] == key


def find_result_layer(viewer, feature: str, key):
    """The layer that the ``feature`` tab made for ``key``, or None."""
    for layer in viewer.layers:
        if is_result_of(layer, feature, key):
            return layer
    return None


def add_quietly(viewer, layer) -> None:
    """Add ``layer`` without taking the selection from the user's active layer.

    napari selects a new layer; a tab adding a result must not stop the user's painting.
    """
    active = viewer.layers.selection.active
    selected = set(viewer.layers.selection)
    viewer.add_layer(layer)
    if active is not None and active in viewer.layers:
        viewer.layers.selection.clear()
        viewer.layers.selection.update(selected)
        viewer.layers.selection.active = active


def stat_colormap(ramp: StatRamp, name: str = "milna-stat") -> Colormap:
    """A napari colormap for a statistical ramp (transparent below threshold)."""
    controls, colors = ramp.controls_and_colors()
    return Colormap(colors=colors, controls=controls, name=name, interpolation="linear")


#: napari units of the spatial axes (world mm, or a reference grid scaled by its voxel
#: size): napari's scale bar reads mm. A run's volume axis keeps napari's default.
SPATIAL_UNITS = ("mm", "mm", "mm")


def layer_units(ndim: int) -> tuple[str, ...]:
    """napari ``units`` of a layer of ``ndim`` (3 or 4) axes: mm on the spatial axes."""
    return ("pixel",) * (ndim - 3) + SPATIAL_UNITS


def placement_kwargs(placement: Placement, ndim: int) -> dict:
    """Napari ``scale``, ``translate``, ``affine`` and ``units`` for a layer of ``ndim`` axes."""
    extra = ndim - 3
    scale = np.r_[np.ones(extra), placement.scale]
    translate = np.r_[np.zeros(extra), placement.translate]
    affine = np.eye(ndim + 1)
    affine[extra:, extra:] = placement.affine
    return {"scale": scale, "translate": translate, "affine": affine, "units": layer_units(ndim)}


def _stat_kwargs(data: np.ndarray, info: ImageInfo) -> tuple[dict, float, float]:
    vmax = stat_display_max(data)
    threshold = 0.0
    try:
        if info.stat_type == "Z" or info.df is not None:
            threshold = float(threshold_for_p(DEFAULT_P_THRESHOLD, info.stat_type, info.df))
    except ValueError:
        threshold = 0.0
    ramp = stat_ramp(info.stat_type, threshold, vmax)
    kwargs = {
        "colormap": stat_colormap(ramp),
        "contrast_limits": ramp.limits,
        "blending": "translucent",
        "interpolation2d": "nearest",
    }
    return kwargs, threshold, vmax


def layer_tuple(
    source: NiftiSource,
    space: DisplaySpace,
    info: ImageInfo | None = None,
    spacing=None,
):
    """A napari layer-data tuple for an opened NIfTI file, placed in ``space``.

    Parameters
    ----------
    source : NiftiSource
    space : DisplaySpace
        The viewer's display space (world mm or a reference grid).
    info : ImageInfo, optional
        Classification; computed from the file when omitted.
    spacing : array-like, optional
        Voxel size of the display grid, used only when the image is oblique to
        ``space`` and must be resampled for display (default: its own smallest voxel).

    Returns
    -------
    tuple
        ``(data, kwargs, layer_type)`` as napari readers return.
    """
    if source.is_run:
        data = source.run()
        info = info or classify(source)
        vol0 = data.volume(0)
        kwargs = {"colormap": "gray", "contrast_limits": robust_range(vol0)}
        layer_type = "image"
    else:
        data = source.volume()
        info = info or classify(source, data)
        layer_type = "image"
        kwargs = {}
        if info.kind in (ImageKind.MASK, ImageKind.LABELS):
            data = np.asarray(
                np.nan_to_num(data), dtype=np.int32 if data.max() > 255 else np.uint8
            )
            layer_type = "labels"
            kwargs = {"opacity": 0.5 if info.kind == ImageKind.LABELS else 0.35}
        elif info.kind == ImageKind.STAT:
            kwargs, threshold, vmax = _stat_kwargs(data, info)
        elif info.kind in (ImageKind.CSF, ImageKind.PROBABILITY):
            kwargs = {
                "colormap": "cyan",
                "contrast_limits": (0.0, 1.0),
                "blending": "additive",
                "opacity": 0.6,
            }
        elif info.kind in (ImageKind.CONTRAST, ImageKind.BETA):
            lim = max(abs(v) for v in robust_range(data, 0.5, 99.5))
            kwargs = {"colormap": "twilight_shifted", "contrast_limits": (-lim, lim)}
        elif info.kind in (ImageKind.VARIANCE, ImageKind.RESELS_PER_VOXEL):
            kwargs = {"colormap": "magma", "contrast_limits": robust_range(data)}
        else:
            kwargs = {"colormap": "gray", "contrast_limits": robust_range(data)}
    layer_src = LayerSource(grid=source.grid, info=info, source=source, df=info.df)
    if info.kind == ImageKind.STAT and not source.is_run:
        layer_src.threshold = threshold
        layer_src.vmax = vmax
    if layer_type == "image" and isinstance(data, np.ndarray) and data.dtype.kind == "f":
        # NaN (masked-out) voxels show as empty; the read-out still reports NaN.
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    if spacing is None:
        spacing = np.full(3, float(source.grid.zooms.min()))
    data, placement = display_version(layer_src, data, space, spacing, layer_type == "labels")
    kwargs.update(placement_kwargs(placement, np.ndim(data)))
    kwargs["name"] = source.name
    kwargs["metadata"] = {METADATA_KEY: layer_src}
    return data, kwargs, layer_type


def atlas_layer_tuple(atlas, space: DisplaySpace, spacing=None, name: str | None = None):
    """A napari labels-layer tuple of an atlas, placed by its own affine in ``space``.

    A label atlas shows its labels; a probabilistic atlas its most probable label where
    that reaches the atlas's summary threshold (FSL's maxprob-thr25), one layer for all
    labels. Label names are the layer's ``features`` (``index``, ``name``: napari's
    status bar names the label under the mouse); :class:`LayerSource` ``.atlas`` keeps
    the atlas, so the read-out gives the label and probability at the cursor.

    Parameters
    ----------
    atlas : napari_milna.core.atlas.Atlas
    space : DisplaySpace
    spacing : array-like, optional
        Display voxel size if the atlas is oblique to ``space``.
    name : str, optional
        Layer name (default: the atlas's name).

    Returns
    -------
    tuple
        ``(data, kwargs, "labels")``.
    """
    import pandas as pd

    summary = np.asarray(atlas.summary)
    dtype = np.uint8 if summary.max(initial=0) < 256 else np.uint16
    names = atlas.summary_names()
    kind = "probabilistic atlas" if atlas.is_probabilistic else "label atlas"
    info = ImageInfo(ImageKind.ATLAS, None, None, atlas.lut.format,
                     f"{kind} ({atlas.n_labels} labels, {atlas.space})")
    layer_src = LayerSource(grid=atlas.grid, info=info, atlas=atlas)
    if spacing is None:
        spacing = np.full(3, float(atlas.grid.zooms.min()))
    data, placement = display_version(layer_src, summary.astype(dtype), space, spacing, True)
    kwargs = {"opacity": 0.4, "blending": "translucent"}
    kwargs.update(placement_kwargs(placement, 3))
    values = sorted(names)
    kwargs["features"] = pd.DataFrame({"index": [0, *values],
                                       "name": ["", *(names[v] for v in values)]})
    kwargs["name"] = name or atlas.name
    kwargs["metadata"] = {METADATA_KEY: layer_src}
    return data, kwargs, "labels"


class ResampledRun:
    """A 4D run shown on another grid: each requested volume is resampled on demand."""

    def __init__(self, run, source: Grid, target: Grid):
        self.run, self.source, self.target = run, source, target
        self.shape = (run.shape[0],) + target.shape
        self.dtype = np.dtype(np.float32)
        self.ndim = 4
        self._cache: dict[int, np.ndarray] = {}

    def volume(self, t: int) -> np.ndarray:
        """Volume ``t`` on the target grid."""
        if t not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            vol = resample_to_grid(self.run.volume(t), self.source, self.target, order=1)
            self._cache[t] = vol.astype(np.float32)
        return self._cache[t]

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (4 - len(key))
        times = np.arange(self.shape[0])[key[0]]
        if np.ndim(times) == 0:
            return self.volume(int(times))[key[1:]]
        return np.stack([self.volume(int(t))[key[1:]] for t in times])


def display_version(src: LayerSource, data, space: DisplaySpace, spacing, labels: bool):
    """The data to show for a layer in ``space`` and its placement.

    When the layer's grid is axis-aligned in ``space`` this is ``data`` itself, placed
    by its affine. Otherwise napari could not slice it: the volume (or each volume
    of a run, on demand) is resampled onto a display-aligned grid -- nearest
    neighbour for labels, trilinear otherwise -- and ``src`` records it
    (``display_grid``).

    Parameters
    ----------
    src : LayerSource
    data : array-like
        The layer's data on its own grid (labels: the current, possibly edited, labels).
    space : DisplaySpace
    spacing : array-like
        Voxel size of the display grid when resampling.
    labels : bool

    Returns
    -------
    data, Placement
    """
    placement = space.place(src.grid.affine)
    src.placed_space = space
    if not placement.needs_resampling:
        src.display_grid = None
        return data, placement
    target = display_aligned_grid(src.grid, space, spacing)
    if isinstance(data, LazyRun):
        shown = ResampledRun(data, src.grid, target)
    else:
        order = 0 if labels else 1
        values = np.nan_to_num(np.asarray(data))
        if values.ndim == 4:  # labels drawn on a run: (t, i, j, k), each volume on its own
            shown = np.stack([resample_to_grid(v, src.grid, target, order=order) for v in values])
        else:
            shown = resample_to_grid(values, src.grid, target, order=order)
        if not labels:
            shown = shown.astype(np.float32)
    src.display_grid = target
    return shown, space.place(target.affine)


def stat_ramp(stat_type: str | None, threshold: float, vmax: float) -> StatRamp:
    """The colour ramp of a statistical map: two-sided for T and Z, one-sided for F."""
    return StatRamp(threshold, vmax, stat_type in ("T", "Z"))


__all__ = [
    "KIND_RANK",
    "METADATA_KEY",
    "LayerSource",
    "ResampledRun",
    "RoiState",
    "add_quietly",
    "atlas_layer_tuple",
    "display_version",
    "find_result_layer",
    "grid_data",
    "is_result_of",
    "layer_tuple",
    "layer_units",
    "placement_kwargs",
    "source_of",
    "stat_colormap",
    "stat_ramp",
]
