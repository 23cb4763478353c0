"""The report's numbers, each computed by the core function the CLI and the panel use.

* :func:`svc_entry`: ``milna svc STAT ROI [--label N]`` -- the map with what its analysis
  folder records (df, smoothness, mask, RPV; a FEAT t map with voxelwise df as FSL's z),
  :func:`~napari_milna.core.svc.correction.small_volume_correction` with the protocol's
  defaults; a session's df, smoothness and mask win over the folder's.
* :func:`qc_entry`: ``milna qc RUN --roi ...`` -- :func:`~napari_milna.core.qc.coverage.run_qc`.
* :func:`crossover_entry`: ``milna crossover TABLE --roi ...`` --
  :func:`~napari_milna.core.crossover.analysis.run_crossover` (no maps written).
* :func:`motion_entry`: ``milna motion FILE --format F`` -- framewise displacement.
* :func:`physio_entry`: ``milna retroicor PHYSIO --bold RUN --at 0.5 -31 -9`` -- cardiac
  peaks and RETROICOR at the slice through the PAG centroid.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..jobs import Progress
from ..protocol import (
    DROPOUT_THRESHOLD,
    FD_THRESHOLD_MM,
    FOURIER_ORDERS,
    HEAD_RADIUS_MM,
    SVC_ALPHA,
    SVC_CONNECTIVITY,
    SVC_HEIGHT_P,
    SVC_MIN_DISTANCE_MM,
)
from ..roi.seeds import PAG_CENTROID_MM
from .inputs import ContrastInput, RoiInput

#: SPM's results table: maxima per cluster and their minimum distance (mm), as ``milna svc``.
TABLE_PEAKS = (3, 8.0)
#: Where RETROICOR samples the phases: the slice through the PAG centroid (MNI mm).
PHYSIO_POINT_MM = PAG_CENTROID_MM


# ------------------------------------------------------------------------------ SVC
@dataclass
class SvcEntry:
    """The SVC of one contrast in one ROI, with what its figure needs.

    Attributes
    ----------
    contrast : ContrastInput
    roi : RoiInput
    result : SvcResult
    summary : dict
        ``result.to_dict()`` plus what ``milna svc`` adds (files, analysis, df source).
    stat : ndarray
        The values tested (z for a converted FEAT t map).
    roi_mask : ndarray of bool
    grid : Grid
    df_source : str
    """

    contrast: ContrastInput
    roi: RoiInput
    result: object
    summary: dict
    stat: np.ndarray = field(repr=False)
    roi_mask: np.ndarray = field(repr=False)
    grid: object = field(repr=False)
    df_source: str = ""


def _same_df(a, b) -> bool:
    return a is not None and np.array_equal(np.atleast_1d(a), np.atleast_1d(b))


def _stat_map(contrast: ContrastInput):
    """The folder record (or None) and the map with its type and df, as ``milna svc``.

    A session's df other than the folder's is used as ``milna svc --df`` uses it.
    """
    from ..analysis import folder_stat_map
    from ..io.nifti import load_volume
    from ..svc.inputs import StatMap, read_stat_map

    folder = folder_stat_map(contrast.stat_path)
    if contrast.df is not None and not (folder is not None and _same_df(folder.df, contrast.df)):
        return folder, read_stat_map(contrast.stat_path, None, contrast.df)
    if folder is None:
        return None, read_stat_map(contrast.stat_path)
    if folder.stat_type not in ("T", "Z", "F") or (folder.stat_type != "Z" and folder.df is None):
        return folder, read_stat_map(folder.path)
    if not (folder.data != 0).any():
        return folder, read_stat_map(folder.path)  # says "nothing to test"
    return folder, StatMap(load_volume(folder.path), folder.data, folder.stat_type, folder.df)


def _smoothness(contrast: ContrastInput, folder, grid):
    """The smoothness to test with: the session's choice, else the folder's (one sentence)."""
    from ..svc.smoothness import smoothness_from_fwhm_mm

    record = contrast.smoothness
    folder_smooth = folder.smoothness if folder is not None else None
    if record is not None:
        if folder_smooth is not None and tuple(folder_smooth.fwhm_mm) == tuple(record.fwhm_mm):
            return folder_smooth
        typed = smoothness_from_fwhm_mm(record.fwhm_mm, grid)
        return replace(typed, source=record.source or typed.source)
    if folder_smooth is None:
        raise input_error(contrast.stat_path, "records no smoothness (no SPM.mat xVol.FWHM or "
                                              "FEAT stats/smoothness), so random field theory "
                                              "cannot run; give it in a session")
    return folder_smooth


def svc_entry(contrast: ContrastInput, roi: RoiInput) -> SvcEntry:
    """SVC of ``contrast`` in ``roi`` with the CLI's defaults (see the module notes).

    Raises
    ------
    MilnaInputError
        The map, ROI or mask cannot be used (one sentence).
    """
    from ..svc.correction import analysis_mask_of, check_search_volume, small_volume_correction
    from ..svc.inputs import read_mask, read_roi

    folder, stat = _stat_map(contrast)
    grid = stat.grid
    owner = f"the statistic map {contrast.stat_path}"
    roi_mask = read_roi(roi.path, grid, roi.label, False, owner)
    mask, mask_path = None, None
    if contrast.mask_path is not None:
        mask, mask_path = read_mask(contrast.mask_path, grid, False, owner), contrast.mask_path
    elif folder is not None and folder.mask is not None:
        mask, mask_path = folder.mask, folder.mask_path
    check_search_volume(roi_mask, analysis_mask_of(stat.data, mask), roi.path, mask_path)
    smoothness = _smoothness(contrast, folder, grid)
    rpv = folder.rpv if folder is not None else None
    rpv_path = folder.rpv_path if folder is not None and folder.rpv is not None else None
    result = small_volume_correction(
        stat.data, roi_mask, grid, smoothness, stat.stat_type, stat.df, analysis_mask=mask,
        alpha=SVC_ALPHA, two_sided=False, height_p=SVC_HEIGHT_P,
        min_distance_mm=SVC_MIN_DISTANCE_MM, connectivity=SVC_CONNECTIVITY,
        resels_in_mask=False, extent_voxels=0, rpv=rpv, table_peaks=TABLE_PEAKS,
    )
    summary = result.to_dict()
    summary["cluster_level"]["rpv"] = None if rpv_path is None else str(rpv_path)
    summary["files"] = {"stat": str(contrast.stat_path), "roi": str(roi.path),
                        "mask": None if mask_path is None else str(mask_path),
                        "label": roi.label}
    overridden = contrast.df is not None and not (
        folder is not None and _same_df(folder.df, contrast.df))
    df_source = "chosen in the session" if overridden else (
        folder.df_source if folder is not None and folder.df_source else "the header")
    if folder is not None:
        summary["analysis"] = folder.describe()
        if folder.converted is not None and not overridden:
            summary["converted_from"] = "T"
            lo, hi = folder.converted["df_min"], folder.converted["df_max"]
            span = f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"
            df_source = (f"voxelwise df {span} ({Path(folder.converted['df_path']).name}), "
                         "as FSL's zstat")
    summary["df_source"] = df_source
    return SvcEntry(contrast, roi, result, summary, np.asarray(stat.data, dtype=float),
                    roi_mask, grid, df_source)


# ------------------------------------------------------------------------------ QC
def qc_entry(run, roi_files, progress: Progress | None = None) -> dict:
    """QC of one run with the ROIs, as ``milna qc RUN --roi ... --json`` prints it.

    Returns
    -------
    dict
        ``QCResult.to_dict()`` with the run's BIDS ``entities`` and ``mosaic_png`` (bytes).
    """
    from ..qc.batch import render_mosaic
    from ..qc.coverage import run_qc

    res = run_qc(run.bold, brain_mask=run.brain_mask, csf=run.csf, rois=list(roi_files),
                 detrend=0, dropout_threshold=DROPOUT_THRESHOLD, progress=progress)
    out = res.to_dict()
    out["entities"] = dict(run.entities)
    out["mosaic_png"] = render_mosaic(res)
    return out


# ------------------------------------------------------------------------------ crossover
@dataclass
class CrossoverEntry:
    """The crossover analysis of one study table.

    Attributes
    ----------
    table : Path
    summary : dict
        What ``milna crossover --json`` prints (maps not written).
    rois : list of RoiStats
    """

    table: Path
    summary: dict
    rois: list = field(default_factory=list)


def crossover_entry(table: Path, roi_files, notes: list[str],
                    progress: Progress | None = None) -> CrossoverEntry:
    """Paired drug-vs-placebo statistics of the ROIs (Holm across them), as ``milna crossover``.

    ROI files on another grid than the study's maps are left out (and said in ``notes``).
    """
    from ..crossover.analysis import rois_from_files, run_crossover
    from ..crossover.study_table import choose_contrast, open_study, validate_study
    from ..errors import MilnaInputError
    from ..roi.io import load_roi

    study_table = open_study(table)
    contrast = choose_contrast(study_table, None, None, None)
    study = validate_study(study_table, contrast, resample=False)
    usable = []
    for path in roi_files:
        try:
            load_roi(path, reference=study.grid)
            usable.append(path)
        except MilnaInputError as exc:
            notes.append(f"crossover {table.name}: {exc}".rstrip("."))
    rois = rois_from_files(usable, study.grid) if usable else []
    result = run_crossover(study, rois, progress=progress)
    summary = {
        "table": str(table),
        "n_subjects": study.n_subjects,
        "df": result.df,
        "rois": [r.to_dict(per_subject=False) for r in result.rois],
        "contrast": contrast.to_dict(),
        "subjects": list(study.subjects),
        "period_covariate": False,
    }
    return CrossoverEntry(table, summary, list(result.rois))


# ------------------------------------------------------------------------------ motion, physio
def motion_entry(path: Path, fmt: str):
    """FD and scrubbing of a motion file (a :class:`~..preproc.motion.MotionResult`)."""
    from ..preproc.motion import assess_motion, read_motion

    return assess_motion(read_motion(path, fmt), FD_THRESHOLD_MM, 0, 0, HEAD_RADIUS_MM)


def physio_entry(physio: Path, bold: Path) -> dict:
    """Cardiac peaks and RETROICOR of a run, as ``milna retroicor --bold RUN --at X Y Z``.

    Returns
    -------
    dict
        ``RetroicorResult.to_dict()`` with ``slice_time_source``, ``bold`` and the
        shortest and longest inter-beat interval (``ibi_s``).
    """
    from ..io.nifti import open_nifti
    from ..preproc.physio import read_bids_physio
    from ..preproc.retroicor import FourierOrders, compute_retroicor
    from ..preproc.slice_timing import choose_slice_time

    recording = read_bids_physio(physio)
    source = open_nifti(bold)
    if not source.is_run:
        raise input_error(source.path, "is a 3D image; RETROICOR needs the 4D run")
    choice = choose_slice_time(source, at=PHYSIO_POINT_MM)
    result = compute_retroicor(recording, source.n_volumes, source.tr, slice_time=choice.time,
                               orders=FourierOrders(*FOURIER_ORDERS),
                               slice_index=choice.index)
    out = result.to_dict()
    out["slice_time_source"] = choice.source
    out["bold"] = str(bold)
    ibi = np.diff(np.asarray(result.peaks.times, dtype=float))
    out["ibi_s"] = {"min": float(ibi.min()), "max": float(ibi.max())} if ibi.size else None
    return out


__all__ = [
    "PHYSIO_POINT_MM",
    "TABLE_PEAKS",
    "CrossoverEntry",
    "SvcEntry",
    "crossover_entry",
    "motion_entry",
    "physio_entry",
    "qc_entry",
    "svc_entry",
]
