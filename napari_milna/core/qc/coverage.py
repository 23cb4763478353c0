"""Brainstem coverage and signal-dropout QC of one EPI run.

:func:`run_qc` reads the run once (:mod:`.tsnr` streaming) and gives, on the EPI grid,
the temporal mean, std and tSNR, the signal ratio and the two kinds of dropout, then
per ROI (PAG, RVM, ...) a handful of numbers and a verdict in words.

Definitions
-----------
brain mask
    Given (fMRIPrep ``desc-brain_mask``, SPM ``mask.nii``: voxels > 0), or computed
    with nilearn's :func:`~nilearn.masking.compute_epi_mask` on the temporal mean.
    A computed EPI mask follows the signal, so it leaves out the very regions that
    drop out: give the anatomical mask where there is one. (SPM's ``mask.nii`` is the
    analysis mask, already without the implicit-mask drops.)
field of view
    EPI grid voxels whose temporal mean is finite and not 0 (resampled fMRIPrep runs
    are 0 outside the acquired slab).
signal ratio
    Temporal mean / median temporal mean over the brain mask.
dropout
    Voxels whose signal ratio is below ``dropout_threshold`` (default 0.5: "below half
    the brain median signal").
SPM implicit-mask drop
    Voxels SPM's first-level analysis threshold removes: not above 0.8 x the scan's
    global mean in every scan, or constant (:class:`.tsnr.SpmImplicitMask`; the global
    is ``spm_global``: the mean of the voxels above one eighth of the volume mean).
    This is how brainstem voxels silently vanish from SPM analyses; it is reported
    apart from the dropout above.
CSF
    A probability map (fMRIPrep ``label-CSF_probseg``, SPM ``c3``, FSL ``pve_0``) or a
    binary mask, resampled explicitly to the EPI grid when it lies on another grid
    (trilinear for probabilities, nearest for binary masks; the result says so). The
    CSF signal is the mean over voxels with probability >= ``csf_threshold`` (0.9).
pulsation proxies
    ``csf_correlation``: median over the ROI of the Pearson correlation between each
    voxel's time series and the CSF signal (after the same detrending as the tSNR),
    computed for every voxel in the same streamed pass (:class:`.tsnr.CsfCoupling`);
    ``csf_std_ratio``: median temporal std over the ROI / median over the CSF voxels.

Per-ROI numbers are taken over the ROI's voxels on the EPI grid (after explicit
nearest-neighbour resampling when the ROI lies on another grid), whether or not
they are in the brain mask: ``n_voxels``; ``coverage`` (fraction of the ROI's own
voxels whose centre falls in the EPI field of view and in the brain mask);
``dropout_fraction``, ``spm_drop_fraction``; ``tsnr_median``, ``signal_ratio``
(medians); ``csf_fraction`` (mean CSF probability); ``csf_correlation``,
``csf_std_ratio``.

Verdict thresholds (:data:`THRESHOLDS`): *fail* when coverage < 0.5, dropout >= 30 %,
SPM implicit-mask drop >= 50 % or median tSNR < 10; *warn* when coverage < 0.9,
dropout >= 10 %, SPM drop >= 10 %, median tSNR < 20, mean CSF probability >= 0.3 or
median CSF correlation >= 0.5; *ok* otherwise. Every triggered rule is named in the
``reason``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.geometry import Grid
from ..io.nifti import load_volume, open_nifti
from ..io.resample import resample_to_grid
from ..jobs import Progress
from ..protocol import DROPOUT_THRESHOLD
from ..roi.io import load_roi
from .tsnr import (
    MIN_STD,
    SPM_MASK_THRESHOLD,
    CsfCoupling,
    RegionSeries,
    SignalCheck,
    SpmImplicitMask,
    TemporalMoments,
    check_detrend,
    stream_run,
)

__all__ = [
    "QCMaps", "QCResult", "RoiMask", "RoiQC", "THRESHOLDS", "load_brain_mask",
    "load_csf", "load_rois", "roi_coverage", "roi_verdict", "run_qc",
]

#: Runs shorter than this are refused (tSNR of a handful of volumes means little).
MIN_VOLUMES = 10
#: CSF probability above which a voxel feeds the CSF signal.
CSF_THRESHOLD = 0.9
#: Fewest CSF voxels needed for a CSF signal.
MIN_CSF_VOXELS = 5

#: Verdict thresholds: (warn, fail) per measure; None where the rule has no such level.
THRESHOLDS = {
    "coverage": (0.9, 0.5),  # below
    "dropout_fraction": (0.10, 0.30),  # at or above
    "spm_drop_fraction": (0.10, 0.50),  # at or above
    "tsnr_median": (20.0, 10.0),  # below
    "csf_fraction": (0.30, None),  # at or above
    "csf_correlation": (0.50, None),  # at or above
}


@dataclass
class RoiMask:
    """An ROI ready for QC: its voxels on the EPI grid and on its own grid."""

    name: str
    mask: np.ndarray = field(repr=False)  # bool, EPI grid
    source_voxels_mm: np.ndarray = field(repr=False)  # (n, 3) world mm of its own voxels
    path: Path | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RoiQC:
    """QC numbers of one ROI in one run (see the module notes for definitions)."""

    name: str
    n_voxels: int
    coverage: float
    dropout_fraction: float | None
    spm_drop_fraction: float | None
    tsnr_median: float | None
    signal_ratio: float | None
    csf_fraction: float | None
    csf_correlation: float | None
    csf_std_ratio: float | None
    verdict: str
    reason: str
    source: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready values."""
        return {
            "name": self.name,
            "n_voxels": int(self.n_voxels),
            "coverage": _num(self.coverage),
            "dropout_fraction": _num(self.dropout_fraction),
            "spm_drop_fraction": _num(self.spm_drop_fraction),
            "tsnr_median": _num(self.tsnr_median),
            "signal_ratio": _num(self.signal_ratio),
            "csf_fraction": _num(self.csf_fraction),
            "csf_correlation": _num(self.csf_correlation),
            "csf_std_ratio": _num(self.csf_std_ratio),
            "verdict": self.verdict,
            "reason": self.reason,
            "source": self.source,
            "notes": list(self.notes),
        }


@dataclass
class QCMaps:
    """Voxel maps on the EPI grid, for display as layers (3D arrays, NIfTI order)."""

    grid: Grid
    mean: np.ndarray
    std: np.ndarray
    tsnr: np.ndarray
    signal_ratio: np.ndarray
    dropout: np.ndarray
    spm_implicit_drop: np.ndarray
    brain_mask: np.ndarray
    field_of_view: np.ndarray
    csf_probability: np.ndarray | None = None
    csf_correlation: np.ndarray | None = None
    rois: dict[str, np.ndarray] = field(default_factory=dict)

    def layers(self) -> dict[str, np.ndarray]:
        """Name -> array of every map present (ROI masks as ``roi-<name>``)."""
        out = {
            "mean": self.mean,
            "std": self.std,
            "tsnr": self.tsnr,
            "signal_ratio": self.signal_ratio,
            "dropout": self.dropout,
            "spm_implicit_drop": self.spm_implicit_drop,
            "brain_mask": self.brain_mask,
        }
        if self.csf_probability is not None:
            out["csf_probability"] = self.csf_probability
        if self.csf_correlation is not None:
            out["csf_correlation"] = self.csf_correlation
        out.update({f"roi-{k}": v for k, v in self.rois.items()})
        return out


@dataclass
class QCResult:
    """Coverage / dropout QC of one run.

    Attributes
    ----------
    file : Path
    n_volumes : int
    tr : float or None
    detrend : int
    dropout_threshold : float
    tsnr_median : float
        Median tSNR over the brain mask.
    brain_median_signal : float
        Median temporal mean over the brain mask (the signal-ratio reference).
    brain_voxels : int
    brain_dropout_fraction, brain_spm_drop_fraction : float
        Over the brain mask.
    brain_mask_source, csf_source : str
        Where the masks came from (file, or "computed ...").
    rois : list of RoiQC
    notes : list of str
        Every resampling and fallback, in words.
    maps : QCMaps
    roi_timeseries : dict of str to ndarray
        Mean time series per ROI (NaN for an ROI with no voxel on the grid).
    csf_timeseries : ndarray or None
        Mean CSF time series.
    spm_globals : ndarray
        SPM's global mean per volume.
    """

    file: Path
    n_volumes: int
    tr: float | None
    detrend: int
    dropout_threshold: float
    tsnr_median: float
    brain_median_signal: float
    brain_voxels: int
    brain_dropout_fraction: float
    brain_spm_drop_fraction: float
    brain_mask_source: str
    csf_source: str | None
    rois: list[RoiQC]
    notes: list[str]
    maps: QCMaps = field(repr=False)
    roi_timeseries: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    csf_timeseries: np.ndarray | None = field(default=None, repr=False)
    spm_globals: np.ndarray | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        """Worst ROI verdict (``"ok"`` without ROIs)."""
        order = {"ok": 0, "warn": 1, "fail": 2}
        return max((r.verdict for r in self.rois), key=order.get, default="ok")

    def to_dict(self, timeseries: bool = False) -> dict:
        """JSON-ready summary (maps left out; time series only when asked)."""
        out = {
            "file": str(self.file),
            "n_volumes": int(self.n_volumes),
            "tr": _num(self.tr),
            "detrend": int(self.detrend),
            "dropout_threshold": float(self.dropout_threshold),
            "tsnr_median": _num(self.tsnr_median),
            "brain_median_signal": _num(self.brain_median_signal),
            "brain_voxels": int(self.brain_voxels),
            "brain_dropout_fraction": _num(self.brain_dropout_fraction),
            "brain_spm_drop_fraction": _num(self.brain_spm_drop_fraction),
            "brain_mask_source": self.brain_mask_source,
            "csf_source": self.csf_source,
            "verdict": self.verdict,
            "rois": [r.to_dict() for r in self.rois],
            "notes": list(self.notes),
        }
        if timeseries:
            out["roi_timeseries"] = {k: _num_list(v) for k, v in self.roi_timeseries.items()}
            out["csf_timeseries"] = (
                None if self.csf_timeseries is None else _num_list(self.csf_timeseries)
            )
            out["spm_globals"] = None if self.spm_globals is None else _num_list(self.spm_globals)
        return out


def _num(value):
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _num_list(values) -> list:
    return [_num(v) for v in np.asarray(values, dtype=float)]


# --------------------------------------------------------------------------- inputs


def _grid_note(kind: str, path, source: Grid, target: Grid, how: str) -> str:
    return (
        f"{kind} {Path(path).name} lies on another grid ({source.describe()}) and was "
        f"resampled to the EPI grid ({target.describe()}) by {how}"
    )


def load_brain_mask(path, grid: Grid, notes: list[str]) -> np.ndarray:
    """A brain mask (voxels > 0) on the EPI grid, resampled (nearest) when needed.

    Raises
    ------
    MilnaInputError
        Unreadable or 4D file, an empty mask, or one that misses the EPI grid.
    """
    source = load_volume(path)
    data = np.nan_to_num(np.asarray(source.volume(), dtype=np.float64)) > 0
    if not data.any():
        raise input_error(source.path, "is an empty brain mask (no voxel above 0)")
    if not source.grid.matches(grid):
        data = resample_to_grid(data, source.grid, grid, order=0)
        notes.append(_grid_note("brain mask", source.path, source.grid, grid, "nearest neighbour"))
        if not data.any():
            raise input_error(source.path, "does not overlap the EPI field of view")
    return data.astype(bool)


def compute_brain_mask(mean: np.ndarray, grid: Grid, epi_path) -> np.ndarray:
    """nilearn's :func:`~nilearn.masking.compute_epi_mask` on the temporal mean."""
    from nilearn.masking import compute_epi_mask

    image = nib.Nifti1Image(np.asarray(mean, dtype=np.float32), np.asarray(grid.affine))
    try:
        mask = np.asarray(compute_epi_mask(image).dataobj) > 0
    except (ValueError, RuntimeError) as exc:
        raise input_error(
            epi_path, f"gives no usable brain mask from its mean image ({exc}); give one"
        ) from None
    if not mask.any():
        raise input_error(epi_path, "gives an empty brain mask from its mean image; give one")
    return mask


def load_csf(path, grid: Grid, notes: list[str]) -> np.ndarray:
    """CSF probability (0..1) on the EPI grid; binary masks read as 0 / 1.

    Probability maps are resampled trilinearly, binary masks by nearest neighbour,
    and the resampling is recorded in ``notes``.
    """
    source = load_volume(path)
    data = np.nan_to_num(np.asarray(source.volume(), dtype=np.float64))
    lo, hi = float(data.min()), float(data.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise input_error(
            source.path,
            f"holds values from {lo:g} to {hi:g}; a CSF map must be a probability (0 to 1) "
            "or a binary mask",
        )
    binary = bool(np.isin(data, (0.0, 1.0)).all())
    if not source.grid.matches(grid):
        order = 0 if binary else 1
        data = resample_to_grid(data, source.grid, grid, order=order)
        how = "nearest neighbour (binary mask)" if binary else "trilinear interpolation"
        notes.append(_grid_note("CSF map", source.path, source.grid, grid, how))
    return np.clip(data, 0.0, 1.0)


def _read_roi_file(path):
    """(name, bool mask, grid) per ROI in a mask or dseg file (:func:`..roi.io.load_roi`)."""
    roi = load_roi(path, require_voxels=True)
    if roi.kind == "mask":
        return [(roi.name, roi.labels != 0, roi.grid)], roi.path
    values = [v for v in np.unique(roi.labels) if v != 0]
    return [
        (roi.names.get(int(v), f"label {int(v)}"), roi.labels == v, roi.grid) for v in values
    ], roi.path


def load_rois(paths, grid: Grid) -> list[RoiMask]:
    """ROIs from mask / dseg files, on the EPI grid (nearest-neighbour resampling, noted).

    Parameters
    ----------
    paths : sequence of path-like
    grid : Grid
        The EPI grid.

    Returns
    -------
    list of RoiMask
    """
    out = []
    for path in paths:
        entries, real_path = _read_roi_file(path)
        for name, mask, roi_grid in entries:
            ijk = np.argwhere(mask)
            notes = []
            if roi_grid.matches(grid):
                on_grid = mask.astype(bool)
            else:
                on_grid = resample_to_grid(mask.astype(np.uint8), roi_grid, grid, order=0) > 0
                notes.append(
                    f"ROI {name} from {Path(real_path).name} lies on another grid "
                    f"({roi_grid.describe()}) and was resampled to the EPI grid by nearest "
                    f"neighbour: {len(ijk)} voxels there, {int(on_grid.sum())} on the EPI grid"
                )
            out.append(RoiMask(name, on_grid, roi_grid.to_world(ijk), Path(real_path), notes))
    return out


def _input_name(image) -> str:
    """How the result names an input: its path (a file, or an opened / in-memory image)."""
    if isinstance(image, (str, os.PathLike)):
        return str(Path(image))
    return str(open_nifti(image).path)


def _open_run(epi):
    source = open_nifti(epi)
    if not source.is_run:
        raise input_error(source.path, "is a 3D image; QC needs a 4D run (several volumes)")
    if source.n_volumes < MIN_VOLUMES:
        raise input_error(
            source.path,
            f"has only {source.n_volumes} volumes; QC needs a run of at least {MIN_VOLUMES}",
        )
    return source


# --------------------------------------------------------------------------- QC


def run_qc(
    epi,
    *,
    brain_mask=None,
    csf=None,
    rois=(),
    detrend: int = 0,
    dropout_threshold: float = DROPOUT_THRESHOLD,
    csf_threshold: float = CSF_THRESHOLD,
    spm_threshold: float = SPM_MASK_THRESHOLD,
    chunk_volumes: int | None = None,
    progress: Progress | None = None,
) -> QCResult:
    """Coverage, dropout, tSNR and CSF QC of one run, in one streamed pass.

    Parameters
    ----------
    epi : str or path-like
        The 4D EPI run (e.g. ``*_desc-preproc_bold.nii.gz``).
    brain_mask : path-like, optional
        Brain mask; computed from the mean EPI with nilearn when not given.
    csf : path-like, optional
        CSF probability map or binary mask.
    rois : sequence of path-like or RoiMask
        ROI mask / dseg files (or ROIs already on the EPI grid).
    detrend : int
        Legendre degree removed before std / tSNR / CSF correlation (nipype
        ``regress_poly``); 0: none.
    dropout_threshold : float
        Signal ratio below which a voxel counts as dropout.
    csf_threshold : float
        CSF probability for the voxels that make the CSF signal.
    spm_threshold : float
        Fraction of SPM's global for the implicit mask (SPM default 0.8).
    chunk_volumes : int, optional
        Volumes per streamed chunk.
    progress : callable, optional
        ``progress(done, total)`` (volumes); returning True cancels with
        :class:`~napari_milna.core.jobs.Cancelled`. Safe to call from a worker thread.

    Returns
    -------
    QCResult

    Raises
    ------
    MilnaInputError
        A 3D image, fewer than 10 volumes, unreadable or empty masks, a CSF map with
        values outside 0..1. An ROI outside the field of view is not an error: it
        gets coverage 0 and verdict ``fail``.
    """
    if not 0 < dropout_threshold < 1:
        raise input_error(
            None, f"the dropout threshold must lie between 0 and 1, not {dropout_threshold}"
        )
    source = _open_run(epi)
    check_detrend(detrend, source.n_volumes, source.path)
    grid = source.grid
    shape = grid.shape
    n_vox = grid.n_voxels
    n_vol = source.n_volumes
    notes: list[str] = []

    given_mask = load_brain_mask(brain_mask, grid, notes) if brain_mask is not None else None
    csf_prob = load_csf(csf, grid, notes) if csf is not None else None
    roi_list: list[RoiMask] = []
    for roi in rois:
        roi_list.extend([roi] if isinstance(roi, RoiMask) else load_rois([roi], grid))
    for roi in roi_list:
        notes.extend(roi.notes)

    flat = lambda a: np.reshape(a, -1, order="F")  # noqa: E731
    moments = TemporalMoments(n_vox, n_vol, detrend)
    implicit = SpmImplicitMask(n_vox, n_vol, spm_threshold)
    series = RegionSeries([np.flatnonzero(flat(r.mask)) for r in roi_list], n_vol)
    signal = SignalCheck(n_vox, None if given_mask is None else np.flatnonzero(flat(given_mask)))
    accumulators = [moments, implicit, series, signal]
    coupling = None
    if csf_prob is not None:
        csf_voxels = np.flatnonzero(flat(csf_prob) >= csf_threshold)
        if csf_voxels.size >= MIN_CSF_VOXELS:
            coupling = CsfCoupling(csf_voxels, n_vox, n_vol)
            accumulators.append(coupling)
        else:
            notes.append(
                f"only {csf_voxels.size} voxels have a CSF probability >= {csf_threshold:g} "
                "on the EPI grid: no CSF signal, no pulsation proxy"
            )
    stream_run(source.run(), accumulators, chunk_volumes=chunk_volumes, progress=progress)
    problem = signal.problem()  # all NaN, all zero or constant: no tSNR to speak of
    if problem:
        raise input_error(source.path, problem)

    stats = moments.result(MIN_STD)
    as_grid = lambda a: np.reshape(a, shape, order="F")  # noqa: E731
    mean = as_grid(stats.mean)
    std = as_grid(stats.std)
    tsnr = as_grid(stats.tsnr)
    fov = np.isfinite(mean) & (mean != 0)
    if given_mask is not None:
        brain = given_mask
        brain_source = _input_name(brain_mask)
    else:
        brain = compute_brain_mask(mean, grid, source.path)
        brain_source = "computed: nilearn compute_epi_mask on the temporal mean"
    brain_fov = brain & fov
    if not brain_fov.any():
        raise input_error(
            brain_mask if brain_mask is not None else source.path,
            "has no brain-mask voxel with signal in the EPI run (mask and run do not overlap)",
        )
    median_signal = float(np.median(mean[brain_fov]))
    if not median_signal > 0:
        raise input_error(
            source.path,
            f"has a median brain signal of {median_signal:g}; QC needs positive signal",
        )
    ratio = mean / median_signal
    spm_drop = ~as_grid(implicit.kept) | (std == 0)
    roi_union = np.zeros(shape, dtype=bool)
    for roi in roi_list:
        roi_union |= roi.mask
    shown = brain | roi_union
    dropout = (ratio < dropout_threshold) & shown

    csf_corr = None
    csf_std_ref = None
    if coupling is not None:
        csf_corr = as_grid(coupling.correlation(moments))
        csf_mask = np.zeros(n_vox, dtype=bool)
        csf_mask[coupling.csf_voxels] = True
        csf_mask = as_grid(csf_mask) & fov
        if csf_mask.any():
            csf_std_ref = float(np.median(std[csf_mask]))

    valid = brain & fov
    roi_results = []
    timeseries = {}
    for roi, ts in zip(roi_list, series.series):
        roi_results.append(
            _roi_qc(
                roi, grid, valid, ratio, tsnr, std, spm_drop, csf_prob, csf_corr, csf_std_ref,
                dropout_threshold, spm_threshold,
            )
        )
        timeseries[roi.name] = ts

    maps = QCMaps(
        grid=grid,
        mean=mean.astype(np.float32),
        std=std.astype(np.float32),
        tsnr=tsnr.astype(np.float32),
        signal_ratio=ratio.astype(np.float32),
        dropout=dropout,
        spm_implicit_drop=spm_drop & shown,
        brain_mask=brain,
        field_of_view=fov,
        csf_probability=None if csf_prob is None else csf_prob.astype(np.float32),
        csf_correlation=None if csf_corr is None else csf_corr.astype(np.float32),
        rois={r.name: r.mask for r in roi_list},
    )
    return QCResult(
        file=source.path,
        n_volumes=n_vol,
        tr=source.tr,
        detrend=detrend,
        dropout_threshold=dropout_threshold,
        tsnr_median=float(np.median(tsnr[brain])),
        brain_median_signal=median_signal,
        brain_voxels=int(brain.sum()),
        brain_dropout_fraction=float(np.mean(ratio[brain] < dropout_threshold)),
        brain_spm_drop_fraction=float(np.mean(spm_drop[brain])),
        brain_mask_source=brain_source,
        csf_source=None if csf is None else _input_name(csf),
        rois=roi_results,
        notes=notes,
        maps=maps,
        roi_timeseries=timeseries,
        csf_timeseries=None if coupling is None else coupling.series.copy(),
        spm_globals=implicit.globals.copy(),
    )


def roi_coverage(roi: RoiMask, grid: Grid, valid: np.ndarray) -> float:
    """Fraction of the ROI's own voxels whose centre lands on a ``valid`` EPI voxel."""
    n = len(roi.source_voxels_mm)
    if n == 0:
        return 0.0
    ijk = grid.to_index(roi.source_voxels_mm)
    inside = grid.contains_index(ijk)
    hits = np.zeros(n, dtype=bool)
    idx = ijk[inside]
    hits[inside] = valid[idx[:, 0], idx[:, 1], idx[:, 2]]
    return float(hits.mean())


def _roi_qc(
    roi, grid, valid, ratio, tsnr, std, spm_drop, csf_prob, csf_corr, csf_std_ref,
    dropout_threshold, spm_threshold,
) -> RoiQC:
    mask = roi.mask
    n = int(mask.sum())
    coverage = roi_coverage(roi, grid, valid)
    source = None if roi.path is None else str(roi.path)
    if n == 0:
        return RoiQC(
            roi.name, 0, coverage, None, None, None, None, None, None, None, "fail",
            f"{roi.name} lies outside the EPI field of view (no voxel on the EPI grid)",
            source, list(roi.notes),
        )
    measures = {
        "coverage": coverage,
        "dropout_fraction": float(np.mean(ratio[mask] < dropout_threshold)),
        "spm_drop_fraction": float(np.mean(spm_drop[mask])),
        "tsnr_median": float(np.median(tsnr[mask])),
        "signal_ratio": float(np.median(ratio[mask])),
        "csf_fraction": None if csf_prob is None else float(np.mean(csf_prob[mask])),
        "csf_correlation": None if csf_corr is None else float(np.median(csf_corr[mask])),
        "csf_std_ratio": None,
    }
    if csf_std_ref is not None and csf_std_ref > 0:
        measures["csf_std_ratio"] = float(np.median(std[mask])) / csf_std_ref
    verdict, reason = roi_verdict(roi.name, measures, dropout_threshold, spm_threshold)
    return RoiQC(roi.name, n, verdict=verdict, reason=reason, source=source,
                 notes=list(roi.notes), **measures)


def _fraction_words(threshold: float) -> str:
    words = {0.5: "half", 0.25: "a quarter", 0.75: "three quarters"}
    return words.get(round(threshold, 6), f"{threshold:g} x")


def roi_verdict(
    name: str,
    m: dict,
    dropout_threshold: float = DROPOUT_THRESHOLD,
    spm_threshold: float = SPM_MASK_THRESHOLD,
) -> tuple[str, str]:
    """``(verdict, reason)`` of one ROI from its measures and :data:`THRESHOLDS`.

    Parameters
    ----------
    name : str
    m : dict
        ``coverage``, ``dropout_fraction``, ``spm_drop_fraction``, ``tsnr_median``,
        ``csf_fraction``, ``csf_correlation`` (None where not measured).

    Returns
    -------
    (str, str)
        ``"ok"``, ``"warn"`` or ``"fail"`` and the reasons in words.
    """
    fails, warns = [], []

    def check(key, value, text, below):
        if value is None:
            return
        warn_at, fail_at = THRESHOLDS[key]
        hit = (lambda t: value < t) if below else (lambda t: value >= t)
        if fail_at is not None and hit(fail_at):
            fails.append(text)
        elif warn_at is not None and hit(warn_at):
            warns.append(text)

    cov = m.get("coverage")
    check(
        "coverage", cov,
        f"only {_pct(cov)} of {name} voxels inside the field of view and the brain mask", True,
    )
    d = m.get("dropout_fraction")
    check(
        "dropout_fraction", d,
        f"{_pct(d)} of {name} voxels below {_fraction_words(dropout_threshold)} the brain "
        "median signal", False,
    )
    s = m.get("spm_drop_fraction")
    check(
        "spm_drop_fraction", s,
        f"{_pct(s)} of {name} voxels would be dropped by SPM's implicit mask (not above "
        f"{spm_threshold:g} x the global mean in every volume)", False,
    )
    t = m.get("tsnr_median")
    check(
        "tsnr_median", t,
        f"median tSNR {t:.1f} in {name} (below {_low(t)})" if t is not None else "", True,
    )
    c = m.get("csf_fraction")
    check(
        "csf_fraction", c,
        f"mean CSF probability {c:.2f} in {name} (partial volume with CSF)" if c is not None
        else "", False,
    )
    r = m.get("csf_correlation")
    check(
        "csf_correlation", r,
        f"median correlation {r:.2f} of {name} voxels with the CSF signal (pulsation)"
        if r is not None else "", False,
    )
    if fails:
        return "fail", "; ".join(fails + warns)
    if warns:
        return "warn", "; ".join(warns)
    parts = [f"{_pct(cov)} coverage", f"{_pct(d)} dropout"]
    if t is not None:
        parts.append(f"median tSNR {t:.1f}")
    return "ok", f"{name}: " + ", ".join(parts)


def _low(tsnr: float) -> str:
    warn_at, fail_at = THRESHOLDS["tsnr_median"]
    return f"{fail_at:g}" if tsnr < fail_at else f"{warn_at:g}"


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def qc_error_row(path: str | os.PathLike, error: MilnaInputError) -> dict:
    """A result-shaped dict for a run that could not be checked (batch mode)."""
    return {"file": str(path), "error": str(error), "verdict": "error", "rois": []}
