"""RETROICOR regressors (Glover et al. 2000) and the variance they explain.

Regressors are low-order Fourier series of the cardiac phase phi_c and the
respiratory phase phi_r (see :mod:`napari_milna.core.preproc.physio`) sampled at the
acquisition time of one slice in every volume, plus the cardiac-respiratory
interaction terms of Harvey et al. 2008 (J Magn Reson Imaging 28:1337),
cos / sin (phi_c + phi_r) and cos / sin (phi_c - phi_r). With the default orders
(3 cardiac, 4 respiratory, 1 interaction) that makes 18 columns, in this order::

    cardiac_cos1..3, cardiac_sin1..3, resp_cos1..4, resp_sin1..4,
    inter_cos_plus, inter_sin_plus, inter_cos_minus, inter_sin_minus

An interaction order M > 1 adds, for k = 2..M, the terms of k (phi_c +/- phi_r) with
the suffix ``k`` (``inter_cos_plus2``, ...).

:func:`retroicor_variance_map` gives, per voxel, the partial R^2 of the RETROICOR
regressors on top of a base model (cosine drift + constant, plus any task
regressors), reading the run a few volumes at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..jobs import Progress
from ..protocol import FOURIER_ORDERS, PHYSIO_MODELS
from .physio import (
    RESP_DERIVATIVE_WINDOW_S,
    CardiacPeaks,
    PhysioRecording,
    cardiac_phase,
    detect_cardiac_peaks,
    respiratory_phase,
    sample_at,
)
from .slice_timing import check_sample_times, volume_sample_times


@dataclass(frozen=True)
class FourierOrders:
    """Fourier orders of the cardiac, respiratory and interaction terms."""

    cardiac: int = FOURIER_ORDERS[0]
    respiratory: int = FOURIER_ORDERS[1]
    interaction: int = FOURIER_ORDERS[2]

    def __post_init__(self):
        for name in ("cardiac", "respiratory", "interaction"):
            value = getattr(self, name)
            if int(value) != value or value < 0:
                raise input_error(None, f"the {name} order must be a non-negative integer, "
                                        f"got {value}")

    @property
    def n_regressors(self) -> int:
        """Number of columns: 2 C + 2 R + 4 M."""
        return 2 * self.cardiac + 2 * self.respiratory + 4 * self.interaction


def retroicor_columns(orders: FourierOrders = FourierOrders()) -> list[str]:
    """Column names in output order (see the module docstring)."""
    cols = [f"cardiac_cos{k}" for k in range(1, orders.cardiac + 1)]
    cols += [f"cardiac_sin{k}" for k in range(1, orders.cardiac + 1)]
    cols += [f"resp_cos{k}" for k in range(1, orders.respiratory + 1)]
    cols += [f"resp_sin{k}" for k in range(1, orders.respiratory + 1)]
    for k in range(1, orders.interaction + 1):
        s = "" if k == 1 else str(k)
        cols += [f"inter_cos_plus{s}", f"inter_sin_plus{s}"]
        cols += [f"inter_cos_minus{s}", f"inter_sin_minus{s}"]
    return cols


def retroicor_regressors(
    phi_c, phi_r, orders: FourierOrders = FourierOrders()
) -> np.ndarray:
    """Fourier regressors of cardiac and respiratory phases.

    Parameters
    ----------
    phi_c, phi_r : array-like, shape (n,)
        Cardiac and respiratory phases (radians) at each volume's sample time.
    orders : FourierOrders

    Returns
    -------
    ndarray, shape (n, orders.n_regressors)
        Columns in the order of :func:`retroicor_columns`.
    """
    phi_c = np.asarray(phi_c, dtype=float)
    phi_r = np.asarray(phi_r, dtype=float)
    if phi_c.shape != phi_r.shape or phi_c.ndim != 1:
        raise ValueError("cardiac and respiratory phases must be 1D arrays of the same length")
    kc = np.arange(1, orders.cardiac + 1)
    kr = np.arange(1, orders.respiratory + 1)
    blocks = [
        np.cos(np.outer(phi_c, kc)),
        np.sin(np.outer(phi_c, kc)),
        np.cos(np.outer(phi_r, kr)),
        np.sin(np.outer(phi_r, kr)),
    ]
    for k in range(1, orders.interaction + 1):
        plus, minus = k * (phi_c + phi_r), k * (phi_c - phi_r)
        blocks.append(np.column_stack([np.cos(plus), np.sin(plus), np.cos(minus), np.sin(minus)]))
    return np.hstack([b.reshape(phi_c.size, -1) for b in blocks])


@dataclass
class RetroicorResult:
    """RETROICOR regressors of one run and what they were built from.

    Attributes
    ----------
    regressors : ndarray, shape (n_volumes, n_columns)
    columns : list of str
    sample_times : ndarray
        Time (s) of each volume's chosen slice.
    cardiac_phase, respiratory_phase : ndarray
        Phases at the sample times (radians).
    peaks : CardiacPeaks
        The beats used (detected or given), with flagged intervals.
    orders : FourierOrders
    slice_time : float
        Slice acquisition time within the TR (s).
    tr : float
    physio_path : Path or None
    """

    regressors: np.ndarray
    columns: list[str]
    sample_times: np.ndarray
    cardiac_phase: np.ndarray
    respiratory_phase: np.ndarray
    peaks: CardiacPeaks
    orders: FourierOrders
    slice_time: float
    tr: float
    physio_path: Path | None = None
    slice_index: int | None = None
    written: Path | None = field(default=None)
    model: str = "retroicor"
    rvt_hr: object = None

    def glm_frame(self):
        """The columns that enter the GLM: RETROICOR's, plus ``rvt_rrf`` and ``hr_crf``.

        The unconvolved ``rvt`` and ``hr`` are written to the table to look at; PhysIO's
        model (and this one) regresses their convolutions with the RRF and CRF.
        """
        from .rvt_hr import GLM_COLUMNS

        frame = self.to_frame()
        keep = list(self.columns) + (list(GLM_COLUMNS) if self.rvt_hr is not None else [])
        return frame[keep]

    @property
    def n_volumes(self) -> int:
        """Number of volumes."""
        return int(self.regressors.shape[0])

    def to_frame(self):
        """The regressors as a pandas DataFrame with the column names."""
        import pandas as pd

        frame = pd.DataFrame(self.regressors, columns=self.columns)
        if self.rvt_hr is not None:
            frame = pd.concat([frame, self.rvt_hr.to_frame()], axis=1)
        return frame

    def to_dict(self) -> dict:
        """JSON-ready summary (regressor values are in the TSV, not here)."""
        return {
            "physio": str(self.physio_path) if self.physio_path else None,
            "out": str(self.written) if self.written else None,
            "n_volumes": self.n_volumes,
            "tr": float(self.tr),
            "slice_time": float(self.slice_time),
            "slice_index": self.slice_index,
            "orders": [self.orders.cardiac, self.orders.respiratory, self.orders.interaction],
            "columns": list(self.columns) + (
                list(self.rvt_hr.to_frame().columns) if self.rvt_hr is not None else []),
            "n_peaks": int(self.peaks.times.size),
            "peak_source": self.peaks.source,
            "heart_rate_bpm": self.peaks.heart_rate_bpm,
            "n_flagged_beats": len(self.peaks.flagged),
            "flagged_beats": [f.to_dict() for f in self.peaks.flagged],
            **({"model": self.model, "rvt_hr": self.rvt_hr.to_dict()}
               if self.rvt_hr is not None else {}),
        }


def compute_retroicor(
    recording: PhysioRecording,
    n_volumes: int,
    tr: float,
    slice_time: float = 0.0,
    orders: FourierOrders = FourierOrders(),
    peaks: CardiacPeaks | None = None,
    cardiac_kind: str = "auto",
    derivative_window_s: float = RESP_DERIVATIVE_WINDOW_S,
    slice_index: int | None = None,
    progress: Progress | None = None,
    model: str = "retroicor",
    rvt_method: str = "harrison2021",
    hr_window_s: float | None = None,
) -> RetroicorResult:
    """Build RETROICOR regressors for a run from its physiological recording.

    Parameters
    ----------
    recording : PhysioRecording
    n_volumes : int
    tr : float
        Repetition time (s).
    slice_time : float
        Acquisition time (s from the start of each volume) of the chosen slice.
    orders : FourierOrders
    peaks : CardiacPeaks, optional
        Corrected beats; detected with neurokit2 when not given.
    cardiac_kind : {"auto", "ppg", "ecg"}
    derivative_window_s : float
        Window of the slope fit giving sign(dR/dt) (s).
    slice_index : int, optional
        Recorded in the result for reference.
    progress : callable(done, total), optional
        Called after the cardiac peaks, the respiratory phase and the regressors.
    model : {"retroicor", "retroicor+rvt+hr"}
        With ``"retroicor+rvt+hr"`` the table gains ``rvt``, ``rvt_rrf``, ``hr`` and
        ``hr_crf`` (:mod:`.rvt_hr`): RVT (belt units / s) and heart rate (bpm) from the
        beats used, at the same sample times, and their convolutions with the RRF / CRF.
    rvt_method : str
        ``neurokit2.rsp_rvt`` method (:data:`.rvt_hr.RVT_METHODS`).
    hr_window_s : float, optional
        Heart-rate window (default :data:`.rvt_hr.HR_WINDOW_S`, 6 s).

    Returns
    -------
    RetroicorResult

    Raises
    ------
    MilnaInputError
        The recording does not cover every sample time, has no cardiac or
        respiratory column, no beats are found, or the belt trace is flat.
    """
    if n_volumes < 1:
        raise input_error(None, f"a run has at least 1 volume, not {n_volumes}")
    if model not in PHYSIO_MODELS:
        raise input_error(None, f"unknown physiological noise model {model!r}; known: "
                                f"{', '.join(PHYSIO_MODELS)}")
    if orders.n_regressors == 0:
        raise input_error(None, "the Fourier orders 0 0 0 give no RETROICOR regressor; give at "
                                "least one order above 0 (the protocol: 3 4 1)")
    n_columns = orders.n_regressors + (4 if model == "retroicor+rvt+hr" else 0)
    if n_columns >= n_volumes:
        raise input_error(None, f"{n_columns} regressors for a run of {n_volumes} volumes leave "
                                "nothing to estimate; lower the Fourier orders or give the "
                                "whole run")
    check_sample_times(n_volumes, tr, slice_time)
    # The recording must cover the run: checked from the two ends, before anything of the
    # run's size is allocated.
    recording.check_covers(slice_time, (n_volumes - 1) * tr + slice_time)
    times = volume_sample_times(n_volumes, tr, slice_time)
    if orders.cardiac or orders.interaction:
        if peaks is None:
            peaks = detect_cardiac_peaks(recording, kind=cardiac_kind)
        try:
            phi_c = cardiac_phase(times, peaks.times)
        except ValueError as exc:
            raise input_error(recording.path, str(exc)) from None
    else:
        phi_c = np.zeros(n_volumes)
        peaks = peaks or CardiacPeaks(np.array([]), [], "not used")
    if progress is not None:
        progress(1, 3)
    if orders.respiratory or orders.interaction:
        resp = recording.respiratory
        if not np.ptp(resp) > 0:
            raise input_error(recording.path, "has a flat respiratory trace")
        phase = respiratory_phase(resp, recording.sampling_frequency,
                                  derivative_window_s=derivative_window_s)
        phi_r = sample_at(recording, phase, times)
    else:
        phi_r = np.zeros(n_volumes)
    if progress is not None:
        progress(2, 3)
    regs = retroicor_regressors(phi_c, phi_r, orders)
    rvt_hr = None
    if model == "retroicor+rvt+hr":
        from .rvt_hr import HR_WINDOW_S, compute_rvt_hr

        if peaks.times.size < 2:
            peaks = detect_cardiac_peaks(recording, kind=cardiac_kind)
        rvt_hr = compute_rvt_hr(recording, peaks.times, times, method=rvt_method,
                                window_s=hr_window_s or HR_WINDOW_S)
    if progress is not None:
        progress(3, 3)
    return RetroicorResult(
        regs, retroicor_columns(orders), times, phi_c, phi_r, peaks, orders,
        float(slice_time), float(tr), recording.path, slice_index, model=model, rvt_hr=rvt_hr,
    )


def write_regressors(
    result: RetroicorResult, path: str | os.PathLike, overwrite: bool = False
) -> Path:
    """Write the regressors as a BIDS-style TSV (header row, one row per volume), atomically."""
    from ..io.tables import write_table

    written = write_table(result.to_frame(), path, overwrite=overwrite)
    result.written = written
    return written


# ----------------------------------------------------------------- variance map


@dataclass
class VarianceMap:
    """Per-voxel partial R^2 of a regressor set on top of a base model.

    Attributes
    ----------
    partial_r2 : ndarray, shape (i, j, k)
        (RSS_base - RSS_full) / RSS_base; NaN outside the mask or where the base
        model leaves no variance.
    mask : ndarray of bool
    n_volumes_used : int
    rank_base, rank_full : int
        Ranks of the base and full design matrices.
    """

    partial_r2: np.ndarray
    mask: np.ndarray
    n_volumes_used: int
    rank_base: int
    rank_full: int

    def to_dict(self) -> dict:
        """JSON-ready summary over the mask."""
        vals = self.partial_r2[np.isfinite(self.partial_r2)]
        return {
            "n_voxels": int(vals.size),
            "n_volumes_used": int(self.n_volumes_used),
            "rank_base": int(self.rank_base),
            "rank_full": int(self.rank_full),
            "mean_partial_r2": float(vals.mean()) if vals.size else None,
            "median_partial_r2": float(np.median(vals)) if vals.size else None,
            "max_partial_r2": float(vals.max()) if vals.size else None,
        }


def drift_design(n_volumes: int, tr: float, high_pass: float = 1 / 128) -> np.ndarray:
    """Cosine drift regressors and a constant (nilearn's design, period 1 / high_pass s)."""
    from nilearn.glm.first_level import make_first_level_design_matrix

    frame_times = np.arange(n_volumes) * float(tr)
    dm = make_first_level_design_matrix(frame_times, drift_model="cosine", high_pass=high_pass)
    return dm.to_numpy(dtype=float)


def _orthonormal_basis(x: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis of the column space of ``x`` (rank-revealing SVD)."""
    if x.shape[1] == 0:
        return np.zeros((x.shape[0], 0))
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    keep = s > rtol * s[0] if s.size and s[0] > 0 else np.zeros(0, bool)
    return u[:, keep]


def retroicor_variance_map(
    run,
    regressors: np.ndarray,
    base: np.ndarray | None = None,
    *,
    tr: float | None = None,
    high_pass: float = 1 / 128,
    sample_mask: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    chunk_volumes: int = 32,
    progress: Progress | None = None,
) -> VarianceMap:
    """Partial R^2 of ``regressors`` per voxel, streaming the run in chunks of volumes.

    The base model is a constant plus cosine drift (period ``1 / high_pass`` s) plus
    ``base`` (e.g. task regressors) when given; the full model adds ``regressors``.
    The run is never held whole: for each chunk of volumes only the projections of
    the voxel time series on orthonormal bases of the two models and the sums of
    squares are accumulated, so memory grows with voxels x regressors, not time.

    Parameters
    ----------
    run : LazyRun
        The 4D run (``.shape`` (t, i, j, k), ``.iter_chunks(step)``).
    regressors : ndarray, shape (t, p)
        RETROICOR (or any) regressors to assess.
    base : ndarray, shape (t, q), optional
        Extra base-model columns (task regressors, motion).
    tr : float, optional
        Repetition time, for the drift terms; read from the run when not given.
    high_pass : float
        Drift cut-off in Hz (1/128 as SPM).
    sample_mask : array of int or bool, optional
        Volumes kept (indices, or booleans True = keep); scrubbed volumes are dropped.
    mask : ndarray of bool, shape (i, j, k), optional
        Voxels to fit; by default the voxels non-zero and finite in the first kept volume.
    chunk_volumes : int
        Volumes read at a time.
    progress : callable(done, total), optional
        Called after each chunk with the number of volumes read.

    Returns
    -------
    VarianceMap
    """
    n_t = run.shape[0]
    spatial = run.shape[1:]
    regressors = np.asarray(regressors, dtype=float).reshape(n_t, -1)
    if tr is None:
        tr = run.source.tr
        if tr is None:
            raise input_error(run.source.path, "has no TR in its header; give the TR")
    keep = np.ones(n_t, bool)
    if sample_mask is not None:
        sm = np.asarray(sample_mask)
        if sm.dtype == bool:
            keep = sm.copy()
        else:
            keep = np.zeros(n_t, bool)
            keep[sm.astype(int)] = True
    kept = np.flatnonzero(keep)
    x_base = drift_design(n_t, tr, high_pass)
    if base is not None:
        x_base = np.hstack([x_base, np.asarray(base, dtype=float).reshape(n_t, -1)])
    x_full = np.hstack([x_base, regressors])
    q_base = _orthonormal_basis(x_base[kept])
    q_full = _orthonormal_basis(x_full[kept])
    n_kept = kept.size
    if n_kept <= q_full.shape[1]:
        raise ValueError(
            f"{n_kept} volumes cannot fit a model of rank {q_full.shape[1]}"
        )
    # Row of each kept volume in the kept-volume design.
    row_of = -np.ones(n_t, int)
    row_of[kept] = np.arange(n_kept)
    first = run.volume(int(kept[0])).astype(np.float64)
    if mask is None:
        mask = np.isfinite(first) & (first != 0)
    mask = np.asarray(mask, bool)
    if mask.shape != tuple(spatial):
        raise ValueError(f"mask shape {mask.shape} differs from the run grid {tuple(spatial)}")
    shift = first[mask]
    n_vox = int(mask.sum())
    sumsq = np.zeros(n_vox)
    proj_base = np.zeros((n_vox, q_base.shape[1]))
    proj_full = np.zeros((n_vox, q_full.shape[1]))
    for start, stop, values in run.iter_chunks(chunk_volumes):
        rows = row_of[start:stop]
        use = rows >= 0
        if use.any():
            block = values[mask][:, use]
            block -= shift[:, None]
            r = rows[use]
            sumsq += np.einsum("vt,vt->v", block, block)
            proj_base += block @ q_base[r]
            proj_full += block @ q_full[r]
        if progress is not None:
            progress(stop, n_t)
    rss_base = sumsq - np.einsum("vq,vq->v", proj_base, proj_base)
    rss_full = sumsq - np.einsum("vq,vq->v", proj_full, proj_full)
    scale = np.maximum(sumsq, np.finfo(float).tiny)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = (rss_base - rss_full) / rss_base
    r2[rss_base <= 1e-12 * scale] = np.nan
    r2 = np.clip(r2, 0.0, 1.0)
    out = np.full(tuple(spatial), np.nan, dtype=np.float32)
    out[mask] = r2
    return VarianceMap(out, mask, n_kept, q_base.shape[1], q_full.shape[1])
