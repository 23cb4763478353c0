"""What the crossover tab computes, as callback-style jobs for the panel's JobRunner.

The tab gathers its choices into :class:`CrossoverChoices` in the GUI thread (an ROI
layer is copied into a :class:`LayerRois` there) and hands :func:`analyse` or
:func:`update_rois` to :class:`~napari_milna.widgets.panel.jobs.JobRunner`. Both are
plain functions over :mod:`napari_milna.core.crossover`: they report through
``progress(done, total)`` (:mod:`napari_milna.core.jobs`) and stop with
:class:`~napari_milna.core.jobs.Cancelled`. No Qt here.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..._napari.layers import grid_data, source_of
from ...core.crossover.analysis import (
    CrossoverResult,
    Roi,
    build_subject_maps,
    roi_statistics,
    rois_from_files,
    rois_from_labels,
    run_crossover,
    write_view_maps,
)
from ...core.crossover.study_table import choose_contrast, open_study, validate_study
from ...core.errors import input_error
from ...core.io.geometry import Grid
from ...core.io.nifti import nifti_stem
from ...core.jobs import Progress
from ...core.roi.io import read_dseg_tsv

_SESSION_ROOT: list[Path] = []


def session_folder() -> Path:
    """A fresh folder for this process's crossover maps (removed at exit)."""
    if not _SESSION_ROOT:
        root = Path(tempfile.mkdtemp(prefix="milna-crossover-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _SESSION_ROOT.append(root)
    return Path(tempfile.mkdtemp(prefix="run-", dir=_SESSION_ROOT[0]))


@dataclass(eq=False)
class LayerRois:
    """The labels of an ROI layer, copied in the GUI thread.

    Attributes
    ----------
    layer_name : str
        The layer's name (the ROIs' source in the tab's texts).
    labels : ndarray
        The layer's data on its own grid.
    names : dict
        Label value -> ROI name (from the layer's ROI names, else its dseg ``.tsv``).
    grid : Grid or None
        The layer's grid.
    """

    layer_name: str
    labels: np.ndarray = field(repr=False)
    names: dict
    grid: Grid | None

    @classmethod
    def of(cls, layer) -> LayerRois:
        """Copy the labels and names of a napari labels layer."""
        src = source_of(layer)
        names = dict(src.roi.names) if src is not None and src.roi is not None else {}
        if not names and src is not None and src.source is not None:
            tsv = src.source.path.parent / (nifti_stem(src.source.path) + ".tsv")
            if tsv.is_file():
                names = read_dseg_tsv(tsv)
        grid = src.grid if src is not None else None
        return cls(layer.name, np.array(grid_data(layer), copy=True), names, grid)

    @property
    def values(self) -> list[int]:
        """The label values present, ascending (one ROI each)."""
        return sorted(int(v) for v in np.unique(self.labels) if v != 0)

    def roi_names(self) -> list[str]:
        """The ROI names in label order."""
        return [str(self.names.get(v, f"label {v}")) for v in self.values]

    def rois(self, grid: Grid) -> list[Roi]:
        """One :class:`Roi` per label, on the study ``grid`` (refused when it is another)."""
        if tuple(self.labels.shape) != tuple(grid.shape) or (
            self.grid is not None and not self.grid.matches(grid)
        ):
            raise input_error(
                None, f"the ROI layer {self.layer_name} does not lie on the study grid "
                f"({grid.describe()}); resample it onto a study map first"
            )
        return rois_from_labels(self.labels, self.names, f"layer {self.layer_name}")


@dataclass(frozen=True)
class CrossoverChoices:
    """Everything one crossover analysis is computed from.

    Attributes
    ----------
    study : Path
        Study table (TSV / CSV) or BIDS-derivatives folder.
    kind : {"interaction", "difference"} or None
        None: the interaction when the table has its two conditions (as ``milna crossover``).
    condition, control : str or None
        ``--condition`` and ``--control`` of ``milna crossover`` (None: their defaults).
    period, resample : bool
        ``--period`` and ``--resample``.
    layer_rois : LayerRois or None
        The session's ROI layer.
    roi_files : tuple of Path
    """

    study: Path
    kind: str | None = None
    condition: str | None = None
    control: str | None = None
    period: bool = False
    resample: bool = False
    layer_rois: LayerRois | None = None
    roi_files: tuple[Path, ...] = ()


@dataclass
class Analysis:
    """One computed crossover: the core's result and what the tab shows of it.

    Attributes
    ----------
    result : CrossoverResult
    map_paths : dict
        ``(view, "mean" | "t") -> Path`` of the group maps written in ``folder``.
    folder : Path
    choices : CrossoverChoices
    rois : list of Roi
        The ROIs tested, in table order.
    layer_labels : dict
        ROI name -> label value, for the ROIs taken from the session's ROI layer.
    conditions : list of str
        The conditions the study table holds.
    """

    result: CrossoverResult
    map_paths: dict
    folder: Path
    choices: CrossoverChoices
    rois: list[Roi]
    layer_labels: dict
    conditions: list[str]

    def describe_rois(self) -> str:
        """Which ROIs are tested, grouped by where they came from."""
        return describe_rois(self.rois)


def describe_rois(rois) -> str:
    """Which ROIs are tested and where they came from, in one sentence.

    For example ``Testing 3 ROIs: PAG, RVM (layer ROIs); V1 (file V1_mask.nii.gz).``
    """
    if not rois:
        return "No ROI tested: choose an ROI layer or add ROI files."
    groups: dict[str, list[str]] = {}
    for roi in rois:
        where = roi.source if roi.source.startswith("layer ") else f"file {Path(roi.source).name}"
        groups.setdefault(where, []).append(roi.name)
    parts = [f"{', '.join(names)} ({where})" for where, names in groups.items()]
    return f"Testing {len(rois)} ROI{'s' if len(rois) != 1 else ''}: " + "; ".join(parts) + "."


def unique_names(rois: list[Roi]) -> list[Roi]:
    """ROIs with names made unique by their source (a layer and a file may share names)."""
    names = [r.name for r in rois]
    for roi in rois:
        if names.count(roi.name) > 1:
            where = roi.source if roi.source.startswith("layer ") else Path(roi.source).name
            roi.name = f"{roi.name} ({where})"
    return rois


def tested_rois(choices: CrossoverChoices, grid: Grid) -> tuple[list[Roi], dict]:
    """The ROIs of the choices on the study grid, and the layer's ROI name -> label value."""
    rois: list[Roi] = []
    layer_labels = {}
    if choices.layer_rois is not None:
        from_layer = choices.layer_rois.rois(grid)
        rois += from_layer
    if choices.roi_files:
        rois += rois_from_files(list(choices.roi_files), grid)
    rois = unique_names(rois)
    if choices.layer_rois is not None:
        values = choices.layer_rois.values
        layer_labels = {roi.name: value for roi, value in zip(rois, values)}
    return rois, layer_labels


def analyse(choices: CrossoverChoices, folder: Path, progress: Progress | None = None):
    """Read the study, compute every map and the ROI statistics, write the group maps.

    Progress is reported once per subject read.

    Returns
    -------
    Analysis
    """
    table = open_study(choices.study)
    condition = choices.condition
    if choices.kind == "difference" and condition is None and len(table.conditions) > 1:
        # the drug - placebo difference of a table with several conditions: of pain
        condition = next((c for c in table.conditions if c.lower() == "pain"), None)
    contrast = choose_contrast(table, choices.kind, condition, choices.control)
    study = validate_study(table, contrast, resample=choices.resample)
    rois, layer_labels = tested_rois(choices, study.grid)
    maps = build_subject_maps(study, progress)
    result = run_crossover(study, rois, period=choices.period, maps=maps)
    paths = write_view_maps(result, folder)
    return Analysis(result, paths, folder, choices, rois, layer_labels, list(table.conditions))


def update_rois(analysis: Analysis, choices: CrossoverChoices,
                progress: Progress | None = None) -> Analysis:
    """The same analysis with the ROI statistics of other ROIs (the maps are kept).

    Returns
    -------
    Analysis
    """
    result = analysis.result
    rois, layer_labels = tested_rois(choices, result.study.grid)
    drug_period = None
    if result.period is not None:
        drug_period = [result.study.drug_period[s] for s in result.study.subjects]
    stats = roi_statistics(result.maps, rois, drug_period) if rois else []
    kept = dataclasses.replace(
        analysis.choices, layer_rois=choices.layer_rois, roi_files=choices.roi_files)
    return dataclasses.replace(
        analysis, result=dataclasses.replace(result, rois=stats), choices=kept, rois=rois,
        layer_labels=layer_labels)


__all__ = [
    "Analysis",
    "CrossoverChoices",
    "LayerRois",
    "analyse",
    "describe_rois",
    "session_folder",
    "tested_rois",
    "unique_names",
    "update_rois",
]
