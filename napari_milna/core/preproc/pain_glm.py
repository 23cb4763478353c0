"""The protocol's first-level analysis of one pain run, from files to written maps.

Gathers the confounds (RETROICOR from the physio recording, six motion parameters,
the CSF signal, any extra confound tables), scrubs volumes with FD above the
threshold, fits the block-design GLM (:mod:`.first_level`), writes the T and effect
maps, and reports the peak t inside brainstem ROIs (the PAG by default). With a
physio recording it also refits without the RETROICOR regressors and reports the
same peaks, so the gain from physiological noise correction is visible.

The CLI (``milna glm``) and the napari preprocessing dock call :func:`pain_glm`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.bids import derivative_prefix
from ..io.nifti import NiftiSource, nifti_stem
from ..jobs import Progress
from .first_level import (
    HIGH_PASS_HZ,
    SMOOTHING_FWHM_MM,
    FirstLevelFit,
    RoiPeak,
    build_confounds,
    fit_first_level,
    read_events,
    roi_peak,
    task_design,
    write_first_level,
)
from .motion import FD_THRESHOLD_MM, MotionResult, assess_motion, read_motion
from .nuisance import CSF_EROSION, CSF_LEVEL, TASK_CORRELATION_LEVEL, CsfRegressor, csf_regressor
from .retroicor import FourierOrders, RetroicorResult, compute_retroicor


@dataclass
class PainGlmResult:
    """Everything the first-level analysis of one run produced."""

    fit: FirstLevelFit
    written: list[Path]
    retroicor: RetroicorResult | None = None
    slice_choice: object = None
    motion: MotionResult | None = None
    csf: CsfRegressor | None = None
    peaks: list[RoiPeak] = field(default_factory=list)
    peaks_without_retroicor: list[RoiPeak] = field(default_factory=list)
    df_without_retroicor: float | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    physio_model: str | None = None
    peaks_by_model: dict[str, list[RoiPeak]] = field(default_factory=dict)
    df_by_model: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = {
            "maps": [str(p) for p in self.written],
            **self.fit.to_dict(),
            "retroicor": None,
            "motion": None,
            "csf": self.csf.to_dict() if self.csf else None,
            "roi_peaks": [p.to_dict() for p in self.peaks],
            "roi_peaks_without_retroicor": [p.to_dict() for p in self.peaks_without_retroicor],
            "df_without_retroicor": self.df_without_retroicor,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }
        if self.retroicor is not None:
            r = self.retroicor.to_dict()
            out["retroicor"] = {k: r[k] for k in ("physio", "slice_time", "slice_index", "orders",
                                                  "n_peaks", "heart_rate_bpm",
                                                  "n_flagged_beats")}
            if self.slice_choice is not None:
                out["retroicor"]["slice_time_source"] = self.slice_choice.source
            if self.retroicor.rvt_hr is not None:
                out["retroicor"]["rvt_hr"] = r["rvt_hr"]
            out["physio_model"] = self.physio_model
            out["roi_peaks_by_model"] = {k: [p.to_dict() for p in v]
                                         for k, v in self.peaks_by_model.items()}
            out["df_by_model"] = {k: float(v) for k, v in self.df_by_model.items()}
        if self.motion is not None:
            m = self.motion.to_dict()
            out["motion"] = {k: m[k] for k in ("file", "format", "threshold", "mean_fd", "max_fd",
                                               "n_scrubbed", "scrubbed_volumes")}
        return out


def _sidecar(source: NiftiSource) -> dict:
    from .slice_timing import read_bold_sidecar

    try:
        return read_bold_sidecar(source.path)
    except MilnaInputError:
        return {}


def _roi_masks(
    rois: Sequence, source: NiftiSource, notes: list[str]
) -> list[tuple[str, np.ndarray]]:
    """(name, mask on the BOLD grid) for ROI names (PAG, RVM) or mask files."""
    from ..qc.coverage import load_brain_mask
    from ..roi.seeds import seed_roi

    out = []
    for roi in rois:
        name = str(roi)
        if name.upper() in ("PAG", "RVM"):
            try:
                out.append((name.upper(), seed_roi(name.upper(), source).mask))
            except MilnaInputError as exc:
                notes.append(f"no {name.upper()} peak reported: {exc}")
        else:
            from ..roi.io import load_roi

            if not Path(name).exists():
                raise input_error(name, "is neither a literature seed (PAG, RVM) nor an "
                                        "existing ROI file")
            load_roi(name, require_voxels=True)  # the one ROI reader's checks
            grid_notes: list[str] = []
            out.append((nifti_stem(name), load_brain_mask(name, source.grid, grid_notes)))
            notes.extend(grid_notes)
    return out


def _peaks(fit: FirstLevelFit, rois, grid) -> list[RoiPeak]:
    return [roi_peak(c.t, mask, grid, name, c.name) for name, mask in rois for c in fit.contrasts]


def pain_glm(
    bold: str | os.PathLike,
    events: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    physio: str | os.PathLike | None = None,
    peaks: str | os.PathLike | None = None,
    slice_index: int | None = None,
    at=None,
    slice_time: float | None = None,
    slice_order: str | None = None,
    orders: FourierOrders | None = None,
    motion: str | os.PathLike | None = None,
    motion_format: str | None = None,
    fd_threshold: float = FD_THRESHOLD_MM,
    scrub_before: int = 0,
    scrub_after: int = 0,
    csf: str | os.PathLike | None = None,
    csf_level: float = CSF_LEVEL,
    csf_erosion: int = CSF_EROSION,
    csf_restrict: str | os.PathLike | None = None,
    csf_warn_level: float = TASK_CORRELATION_LEVEL,
    confounds: Sequence[str | os.PathLike] = (),
    confound_columns: Sequence[str] | None = None,
    smoothing_fwhm: float | None = SMOOTHING_FWHM_MM,
    high_pass: float = HIGH_PASS_HZ,
    noise_model: str = "ar1",
    mask: str | os.PathLike | None = None,
    report_rois: Sequence[str] = ("PAG",),
    compare_without_retroicor: bool = True,
    overwrite: bool = False,
    progress: Progress | None = None,
    physio_model: str = "retroicor",
) -> PainGlmResult:
    """First-level GLM of one pain run with the protocol's confounds.

    Parameters
    ----------
    bold : path-like
        Preprocessed 4D run (e.g. fMRIPrep ``*_desc-preproc_bold.nii.gz``).
    events : path-like
        BIDS ``*_events.tsv`` (pain / sensory blocks).
    out_dir : path-like
        Existing folder for the maps.
    physio : path-like, optional
        BIDS ``*_physio.tsv.gz``: RETROICOR regressors are added.
    peaks : path-like, optional
        Corrected cardiac peak times (instead of neurokit2 detection).
    slice_index, at, slice_time, slice_order
        Where in the TR the phases are sampled (:func:`.slice_timing.choose_slice_time`).
    orders : FourierOrders, optional
        Default 3 cardiac, 4 respiratory, 1 interaction.
    motion, motion_format : path-like, str
        Motion parameters (six regressors and FD scrubbing).
    fd_threshold, scrub_before, scrub_after
        Scrubbing (FD > threshold in mm, plus neighbours).
    csf, csf_level, csf_erosion, csf_restrict, csf_warn_level
        CSF regressor from a probability map (:mod:`.nuisance`).
    confounds : sequence of path-like
        Extra confound TSVs (with a header; see
        :func:`.connectivity.read_confounds_table`).
    confound_columns : sequence of str, optional
        Columns to take from the extra confound TSVs.
    smoothing_fwhm, high_pass, noise_model, mask
        GLM settings (5 mm, 1/128 Hz, AR(1), nilearn's EPI mask).
    report_rois : sequence of str
        ``"PAG"``, ``"RVM"`` (literature seeds, needs MNI space) or mask files.
    compare_without_retroicor : bool
        With ``physio``: refit without RETROICOR and report the same peaks (and, with
        the fuller model, with RETROICOR alone).
    overwrite : bool
    progress : callable(done, total), optional
    physio_model : {"retroicor", "retroicor+rvt+hr"}
        With ``physio``: RETROICOR alone, or RETROICOR plus RVT convolved with the RRF
        and heart rate convolved with the CRF (``rvt_rrf``, ``hr_crf``; :mod:`.rvt_hr`).
        The peaks are reported with each model (``peaks_by_model``).

    Returns
    -------
    PainGlmResult
    """
    from ..io.atomic import output_set
    from ..io.nifti import load_mask
    from ..qc.tsnr import check_run_signal
    from .connectivity import read_confounds_table
    from .first_level import check_degrees_of_freedom, check_model_settings, open_run_and_tr
    from .physio import read_bids_physio, read_peak_times
    from .slice_timing import choose_slice_time

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise input_error(out_dir, "is not an existing folder")
    source, tr = open_run_and_tr(bold, None, "the GLM")
    n = source.n_volumes
    check_model_settings(source, tr, high_pass, smoothing_fwhm)
    mask_voxels = None
    if mask is not None:
        on_grid = load_mask(mask, source.grid, f"the run {source.path.name}")
        mask_voxels = np.flatnonzero(np.reshape(on_grid.volume() != 0, -1, order="F"))
    fuller = physio_model != "retroicor"
    total = 6 + ((2 if fuller else 1) if physio and compare_without_retroicor else 0)
    step = 0

    def tick():
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total)

    notes: list[str] = []
    warnings: list[str] = []
    meta = _sidecar(source)
    slice_time_ref = 0.0
    if meta.get("SliceTimingCorrected") and meta.get("StartTime") is not None:
        slice_time_ref = float(meta["StartTime"]) / tr
        notes.append(f"slice-timing corrected run: frames referenced at StartTime "
                     f"{float(meta['StartTime']):g} s (slice_time_ref {slice_time_ref:.3f})")
    ev = read_events(events, n, tr)
    if "pain" not in set(ev["trial_type"]):
        raise input_error(events, "holds no 'pain' trial type, so no protocol contrast can be "
                                  "computed")
    task = task_design(ev, n, tr, slice_time_ref)
    roi_notes: list[str] = []
    rois = _roi_masks(report_rois, source, roi_notes)  # before the fit: a bad ROI costs nothing
    tick()

    retro = choice = None
    if physio is not None:
        choice = choose_slice_time(source, slice_index=slice_index, at=at,
                                   slice_order=slice_order, slice_time=slice_time)
        given_peaks = read_peak_times(peaks) if peaks else None
        retro = compute_retroicor(read_bids_physio(physio), n, tr, slice_time=choice.time,
                                  orders=orders or FourierOrders(), peaks=given_peaks,
                                  slice_index=choice.index, model=physio_model)
        if retro.peaks.flagged:
            warnings.append(f"{len(retro.peaks.flagged)} cardiac inter-beat interval(s) look "
                            "like missed or extra beats; check the peaks (milna retroicor "
                            "--save-peaks) and give corrected ones")
    tick()

    motion_result = None
    sample_mask = None
    if motion is not None:
        if motion_format is None:
            raise input_error(motion, "needs a motion format (spm, fsl, afni, fmriprep)")
        params = read_motion(motion, motion_format)
        if params.n_volumes != n:
            raise input_error(motion, f"holds {params.n_volumes} rows for a run of {n} volumes")
        motion_result = assess_motion(params, fd_threshold, scrub_before, scrub_after)
        if motion_result.n_scrubbed == n:
            raise input_error(motion, f"scrubs every volume of the run (FD above "
                                      f"{fd_threshold:g} mm everywhere): nothing is left to fit")
        if motion_result.n_scrubbed:
            sample_mask = motion_result.sample_mask
    tick()

    csf_result = None
    if csf is not None:
        csf_result = csf_regressor(source.run(), csf, level=csf_level, erosion=csf_erosion,
                                   restrict_path=csf_restrict, task=task,
                                   sample_mask=sample_mask, warn_level=csf_warn_level)
        notes.extend(csf_result.notes)
        if csf_result.warning:
            warnings.append(csf_result.warning)
    tick()

    extra = [read_confounds_table(p, confound_columns) for p in confounds]
    taken = set(motion_result.params.to_frame().columns) if motion_result else set()
    for k, (path, table) in enumerate(zip(confounds, extra)):
        if len(table) != n:
            raise input_error(path, f"holds {len(table)} rows for a run of {n} volumes")
        repeated = [c for c in table.columns if c in taken]
        if repeated:
            notes.append(f"{Path(path).name}: {', '.join(repeated)} already come from the "
                         "motion parameters and were not added twice")
            extra[k] = table.drop(columns=repeated)
        taken |= set(extra[k].columns)
    parts_common = [
        motion_result.params if motion_result else None,
        ("csf_signal", csf_result.signal) if csf_result else None,
        *extra,
    ]
    conf = build_confounds(n, retro.glm_frame() if retro else None, *parts_common)
    mask_img = str(mask) if mask is not None else None
    settings = dict(sample_mask=sample_mask, smoothing_fwhm=smoothing_fwhm, high_pass=high_pass,
                    noise_model=noise_model, mask_img=mask_img, slice_time_ref=slice_time_ref)
    if sample_mask is not None:  # scrubbing took the volumes: the motion file is named
        check_degrees_of_freedom(source, ev, tr, sample_mask, confounds=conf,
                                 high_pass=high_pass, slice_time_ref=slice_time_ref,
                                 owner=motion)
    check_run_signal(source, mask_voxels)  # all NaN, all zero, constant: no model to fit
    fit = fit_first_level(source, ev, confounds=conf, **settings)
    tick()

    with output_set():  # the maps appear together, and only when everything succeeded
        written = write_first_level(fit, source, out_dir, derivative_prefix(source.path),
                                    overwrite=overwrite)
        notes.extend(roi_notes)
        result = PainGlmResult(fit, written, retro, choice, motion_result, csf_result,
                               _peaks(fit, rois, source.grid), warnings=warnings, notes=notes)
        tick()
        _compare_models(result, source, ev, rois, retro, parts_common, settings, n,
                        physio_model, compare_without_retroicor, fuller, tick)
    return result


def _compare_models(result, source, ev, rois, retro, parts_common, settings, n, physio_model,
                    compare_without_retroicor, fuller, tick) -> None:
    """Refit without RETROICOR (and with RETROICOR alone) and report the same peaks."""
    if retro is not None:
        result.physio_model = physio_model
        result.peaks_by_model[physio_model] = result.peaks
        result.df_by_model[physio_model] = float(result.fit.df)
    if retro is not None and compare_without_retroicor:
        conf0 = build_confounds(n, *parts_common)
        fit0 = fit_first_level(source, ev, confounds=conf0, **settings)
        result.peaks_without_retroicor = _peaks(fit0, rois, source.grid)
        result.df_without_retroicor = float(fit0.df)
        result.peaks_by_model["none"] = result.peaks_without_retroicor
        result.df_by_model["none"] = float(fit0.df)
        tick()
        if fuller:
            conf_r = build_confounds(n, retro.to_frame()[list(retro.columns)], *parts_common)
            fit_r = fit_first_level(source, ev, confounds=conf_r, **settings)
            result.peaks_by_model["retroicor"] = _peaks(fit_r, rois, source.grid)
            result.df_by_model["retroicor"] = float(fit_r.df)
            tick()
