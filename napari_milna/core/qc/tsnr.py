"""Streaming temporal statistics of a 4D run: mean, standard deviation, tSNR and friends.

A run is read once, a chunk of volumes at a time (:meth:`LazyRun.chunk`), and never
held whole in memory. Each chunk is turned into a ``(voxels, volumes)`` float64 block
and handed to a list of *accumulators* (:func:`stream_run`), so that every per-voxel
and per-volume quantity the QC needs comes out of the same pass:

* :class:`TemporalMoments` -- temporal mean and sum of squared deviations merged chunk
  by chunk with Chan, Golub & LeVeque's pairwise update (float64), plus the projections
  of each voxel's time series on an orthonormal Legendre drift basis when detrending;
* :class:`SpmImplicitMask` -- SPM's per-scan global (``spm_global``) and the analysis
  threshold that ``spm_spm`` applies to every scan;
* :class:`RegionSeries` -- mean time series of small voxel sets (ROIs);
* :class:`CsfCoupling` -- the mean CSF time series and each voxel's cross-product with
  it, for a whole-volume correlation map in the same pass.

Definitions (nipype ``TSNR``, used by MRIQC)
--------------------------------------------
Without detrending, ``mean`` and ``std`` are the temporal mean and the population
standard deviation (``ddof=0``) of each voxel, and ``tsnr = mean / std``.

With ``detrend=K`` nipype calls ``regress_poly(K, data, remove_mean=False)``: it fits
the design ``X = [1, P1(x), ..., PK(x)]`` (Legendre polynomials on
``x = linspace(-1, 1, T)``) by least squares and subtracts only the fitted columns
1..K. The detrended series therefore keeps the fitted *intercept* ``b0``, which is
its mean; ``b0`` equals the raw temporal mean for ``K = 1`` but differs from it for
``K >= 2`` by ``-sum_k b_k mean(P_k)`` (the even Legendre polynomials do not average to
zero on a discrete grid). The standard deviation is that of the least-squares
residuals, ``sqrt(RSS / T)``. Both are reproduced exactly here: with ``X = QR`` and
``q_k`` the orthonormal columns, ``RSS = M2 - sum_{k>=1} (x . q_k)^2`` and
``b0 = mean + sum_{k>=1} (R^-1)_{0k} (x . q_k)``, all from sums gathered in one pass.

tSNR is 0 where the standard deviation is at most ``min_std`` (``1e-3``, nipype's
rule), which includes every zero-variance voxel. Non-finite values count as 0 in
the moments (nipype's ``nan_to_num``).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial import Legendre

from ..errors import input_error
from ..io.nifti import LazyRun, open_nifti, run_signal_problem
from ..jobs import Progress, report

#: Bytes of float64 data one streamed chunk may take (the chunk length follows from it).
CHUNK_BYTES = 32 * 2**20

#: nipype's TSNR sets tSNR to 0 where the temporal std is at most this.
MIN_STD = 1e-3

#: SPM's ``defaults.mask.thresh``: the analysis threshold is this fraction of the global.
SPM_MASK_THRESHOLD = 0.8

def legendre_drift_basis(n_volumes: int, degree: int) -> np.ndarray:
    """nipype's polynomial design: ``[1, P1(x), ..., Pdegree(x)]`` with ``x = linspace(-1, 1, T)``.

    Parameters
    ----------
    n_volumes : int
    degree : int
        Highest Legendre degree (0 gives the constant only).

    Returns
    -------
    ndarray, shape (n_volumes, degree + 1)
    """
    x = np.linspace(-1.0, 1.0, n_volumes)
    columns = [np.ones(n_volumes)] + [Legendre.basis(k)(x) for k in range(1, degree + 1)]
    return np.column_stack(columns)


def default_chunk_volumes(n_voxels: int, n_volumes: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Volumes per streamed chunk so that one float64 chunk takes about ``chunk_bytes``."""
    return int(max(1, min(n_volumes, chunk_bytes // max(8 * n_voxels, 1))))


def as_run(run) -> LazyRun:
    """A :class:`LazyRun` from a path, a :class:`NiftiSource` or a LazyRun.

    Raises
    ------
    MilnaInputError
        When the file is a 3D image.
    """
    if isinstance(run, LazyRun):
        return run
    source = open_nifti(run)  # a path, an opened source or a nibabel image
    if not source.is_run:
        raise input_error(source.path, "is a 3D image; a 4D run (several volumes) is needed")
    return source.run()


class RunAccumulator:
    """Something that gathers statistics from streamed ``(voxels, volumes)`` blocks."""

    def update(self, block: np.ndarray, start: int, finite: np.ndarray | None) -> None:
        """Take volumes ``start : start + block.shape[1]``.

        Parameters
        ----------
        block : ndarray, shape (n_voxels, n)
            float64, voxels in NIfTI (Fortran) order, non-finite values set to 0.
        start : int
            Index of the first volume of the block.
        finite : ndarray of bool or None
            Where the original values were finite; None when all were.
        """
        raise NotImplementedError


def stream_run(
    run: LazyRun,
    accumulators: Sequence[RunAccumulator],
    *,
    chunk_volumes: int | None = None,
    progress: Progress | None = None,
    prefetch: bool = False,
) -> None:
    """Read ``run`` once, chunk by chunk, and feed every accumulator.

    Parameters
    ----------
    run : LazyRun
    accumulators : sequence of RunAccumulator
        Called in order for each chunk.
    chunk_volumes : int, optional
        Volumes per chunk (default: about :data:`CHUNK_BYTES` of float64).
    progress : callable, optional
        ``progress(volumes_done, n_volumes)`` after each chunk; returning True (or
        raising) stops the pass (:class:`~napari_milna.core.jobs.Cancelled`).
    prefetch : bool
        Read the next chunk in a background thread while this one is processed. Off
        by default: on the 2-core machines measured (benchmarks/bench_qc_streaming.py)
        it gained nothing when idle and lost up to 1.6x when other work ran.
    """
    n_volumes = run.shape[0]
    n_voxels = int(np.prod(run.shape[1:]))
    step = chunk_volumes or default_chunk_volumes(n_voxels, n_volumes)
    starts = list(range(0, n_volumes, step))

    chunks = run.iter_chunks(step)

    def read(start):
        _, stop, values = next(chunks)
        block = values.reshape((n_voxels, stop - start), order="F")
        finite = None
        if not np.isfinite(block).all():
            finite = np.isfinite(block)
            block[~finite] = 0.0
        return block, finite

    report(progress, 0, n_volumes)
    try:
        with _single_threaded_blas():
            _stream(read, starts, step, n_volumes, accumulators, progress, prefetch)
    finally:
        chunks.close()


def _single_threaded_blas():
    """Hold BLAS to one thread (threadpoolctl, a scikit-learn / nilearn dependency).

    The per-chunk products are skinny (voxels x a few volumes times a few drifts);
    multi-threaded OpenBLAS gains little on them and stalls badly when the cores are
    shared (measured 8x slower under load on 2 cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _stream(read, starts, step, n_volumes, accumulators, progress, prefetch) -> None:
    if not prefetch:
        for start in starts:
            block, finite = read(start)
            for accumulator in accumulators:
                accumulator.update(block, start, finite)
            del block, finite
            report(progress, min(n_volumes, start + step), n_volumes)
        return
    # One reader thread decompresses and converts the next chunk while this one is
    # processed (overlap only where the decompressor releases the GIL): at most two
    # chunks in memory.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="milna-read") as reader:
        pending = reader.submit(read, starts[0])
        try:
            for i, start in enumerate(starts):
                block, finite = pending.result()
                if i + 1 < len(starts):
                    pending = reader.submit(read, starts[i + 1])
                for accumulator in accumulators:
                    accumulator.update(block, start, finite)
                del block, finite
                report(progress, min(n_volumes, start + step), n_volumes)
        except BaseException:
            pending.cancel()
            raise


class TemporalMoments(RunAccumulator):
    """Temporal mean, sum of squared deviations and Legendre drift projections per voxel.

    Chunks are merged with the pairwise update of Chan, Golub & LeVeque (1979): each
    chunk's own mean and sum of squared deviations (two-pass, float64) are combined
    with the running ones, which stays accurate when the mean is large relative to
    the standard deviation (raw EPI values).

    Parameters
    ----------
    n_voxels, n_volumes : int
    detrend : int
        Legendre degree K (0: none).
    """

    def __init__(self, n_voxels: int, n_volumes: int, detrend: int = 0):
        self.n_volumes = int(n_volumes)
        self.detrend = int(detrend)
        self.count = 0
        self.mean = np.zeros(n_voxels)
        self.m2 = np.zeros(n_voxels)
        self._buffer: np.ndarray | None = None
        if self.detrend:
            design = legendre_drift_basis(self.n_volumes, self.detrend)
            q, r = np.linalg.qr(design)
            self.basis = q  # orthonormal; column 0 is constant, 1.. orthogonal to it
            self.r_inv = np.linalg.inv(r)
            self.projections = np.zeros((n_voxels, self.detrend))
        else:
            self.basis = None
            self.r_inv = None
            self.projections = None

    def update(self, block, start, finite=None):
        """Merge one chunk (see :meth:`RunAccumulator.update`)."""
        n = block.shape[1]
        chunk_mean = block.mean(axis=1)
        if self._buffer is None or self._buffer.shape != block.shape:
            self._buffer = np.empty(block.shape, dtype=np.float64, order="F")
        dev = np.subtract(block, chunk_mean[:, None], out=self._buffer)
        np.multiply(dev, dev, out=dev)
        chunk_m2 = dev.sum(axis=1)
        if self.count == 0:
            self.mean[:] = chunk_mean
            self.m2[:] = chunk_m2
        else:
            total = self.count + n
            delta = chunk_mean - self.mean
            self.mean += delta * (n / total)
            self.m2 += chunk_m2 + delta * delta * (self.count * n / total)
        self.count += n
        if self.basis is not None:
            drifts = np.ascontiguousarray(self.basis[start : start + n, 1:])
            self.projections += block @ drifts

    def result(self, min_std: float = MIN_STD) -> TemporalStats:
        """The temporal statistics once every volume has been seen."""
        if self.count != self.n_volumes:
            raise RuntimeError(f"saw {self.count} of {self.n_volumes} volumes")
        if self.projections is not None:
            rss = self.m2 - np.einsum("ij,ij->i", self.projections, self.projections)
            variance = np.maximum(rss, 0.0) / self.count
            mean = self.mean + self.projections @ self.r_inv[0, 1:]
        else:
            variance = np.maximum(self.m2, 0.0) / self.count
            mean = self.mean.copy()
        std = np.sqrt(variance)
        return TemporalStats(
            mean=self.mean.copy(),
            std=std,
            tsnr=tsnr_from(mean, std, min_std),
            n_volumes=self.count,
            detrend=self.detrend,
            detrended_mean=mean if self.detrend else None,
        )

    def residual_inner_products(self, series: np.ndarray, cross: np.ndarray) -> np.ndarray:
        """Per voxel, the inner product of the residuals of x and of ``series``.

        Residuals after removing the constant (and the Legendre drifts when
        detrending). ``cross`` is ``sum_t x_t series_t`` per voxel.
        """
        series = np.asarray(series, dtype=np.float64)
        out = cross - self.count * self.mean * series.mean()
        if self.basis is not None:
            out = out - self.projections @ (self.basis[:, 1:].T @ series)
        return out


def tsnr_from(mean: np.ndarray, std: np.ndarray, min_std: float = MIN_STD) -> np.ndarray:
    """``mean / std`` where ``std > min_std``, else 0 (nipype's TSNR rule)."""
    out = np.zeros_like(mean, dtype=np.float64)
    ok = std > min_std
    out[ok] = mean[ok] / std[ok]
    return out


@dataclass
class TemporalStats:
    """Temporal mean, standard deviation and tSNR of every voxel of a run.

    Arrays are flat (voxels in NIfTI / Fortran order) inside the streaming code and
    reshaped to the grid by :meth:`on_grid`.

    Attributes
    ----------
    mean : ndarray
        Raw temporal mean.
    std : ndarray
        Population standard deviation (of the Legendre residuals when detrended).
    tsnr : ndarray
        ``mean / std`` (``detrended_mean / std`` when detrended), 0 where ``std <= 1e-3``.
    n_volumes : int
    detrend : int
        Legendre degree removed (0: none).
    detrended_mean : ndarray or None
        Mean of the detrended series (nipype's fitted intercept) when detrended.
    """

    mean: np.ndarray
    std: np.ndarray
    tsnr: np.ndarray
    n_volumes: int
    detrend: int = 0
    detrended_mean: np.ndarray | None = field(default=None, repr=False)

    def on_grid(self, shape: tuple[int, int, int]) -> TemporalStats:
        """The same statistics reshaped to a 3D grid (Fortran order)."""

        def grid(a):
            return None if a is None else np.reshape(a, shape, order="F")

        return TemporalStats(
            grid(self.mean), grid(self.std), grid(self.tsnr), self.n_volumes, self.detrend,
            grid(self.detrended_mean),
        )

    def to_dict(self) -> dict:
        """Summary (no arrays): number of volumes, detrending and whole-grid medians."""
        return {
            "n_volumes": int(self.n_volumes),
            "detrend": int(self.detrend),
            "tsnr_median_all_voxels": float(np.median(self.tsnr)),
        }


def temporal_stats(
    run,
    *,
    detrend: int = 0,
    chunk_volumes: int | None = None,
    min_std: float = MIN_STD,
    progress: Progress | None = None,
) -> TemporalStats:
    """Temporal mean, std and tSNR of a run in one streamed pass (nipype ``TSNR``).

    Parameters
    ----------
    run : path, NiftiSource or LazyRun
        A 4D run.
    detrend : int
        Remove Legendre polynomials of degree 1..K first, keeping the intercept
        (nipype ``regress_poly=K``). 0 (default): no detrending.
    chunk_volumes : int, optional
        Volumes per chunk.
    min_std : float
        tSNR is 0 where the std is at most this.
    progress : callable, optional
        ``progress(done, total)``; see :mod:`napari_milna.core.jobs`.

    Returns
    -------
    TemporalStats
        On the run's grid (3D arrays).
    """
    run = as_run(run)
    n_volumes = run.shape[0]
    check_detrend(detrend, n_volumes, run.source.path)
    moments = TemporalMoments(int(np.prod(run.shape[1:])), n_volumes, detrend)
    stream_run(run, [moments], chunk_volumes=chunk_volumes, progress=progress)
    return moments.result(min_std).on_grid(run.shape[1:])


class SignalCheck(RunAccumulator):
    """Finite values and temporal range per voxel, to tell whether anything can be analysed.

    Parameters
    ----------
    n_voxels : int
    voxels : ndarray of int, optional
        Flat (Fortran-order) indices of the voxels analysed (a brain mask's); all by
        default.
    """

    def __init__(self, n_voxels: int, voxels: np.ndarray | None = None):
        self.voxels = voxels
        size = n_voxels if voxels is None else len(voxels)
        self.n_finite = np.zeros(size, dtype=np.int64)
        self.low = np.full(size, np.inf)
        self.high = np.full(size, -np.inf)
        self.n_volumes = 0

    def update(self, block, start, finite=None):
        """Count finite values and widen each voxel's range (see RunAccumulator.update)."""
        if self.voxels is not None:
            block = block[self.voxels]
            finite = None if finite is None else finite[self.voxels]
        self.n_volumes += block.shape[1]
        if finite is None:
            self.n_finite += block.shape[1]
            np.minimum(self.low, block.min(axis=1), out=self.low)
            np.maximum(self.high, block.max(axis=1), out=self.high)
            return
        self.n_finite += finite.sum(axis=1)
        np.minimum(self.low, np.where(finite, block, np.inf).min(axis=1), out=self.low)
        np.maximum(self.high, np.where(finite, block, -np.inf).max(axis=1), out=self.high)

    def problem(self) -> str | None:
        """Why nothing can be computed (end of a sentence naming the run), or None."""
        with np.errstate(invalid="ignore"):
            spread = self.high - self.low
        return run_signal_problem(self.n_finite, spread, self.n_volumes)


def check_run_signal(run, voxels: np.ndarray | None = None, *,
                     progress: Progress | None = None) -> None:
    """Refuse a run without a finite, varying time series among ``voxels`` (one pass).

    All NaN, all zero or constant runs give no statistic (a T map of NaN, a GLM with a
    singular design): they are refused with the reason before any model is fitted.

    Parameters
    ----------
    run : path, NiftiSource or LazyRun
    voxels : ndarray of int, optional
        Flat (Fortran-order) indices of the voxels analysed; every voxel by default.
    progress : callable, optional

    Raises
    ------
    MilnaInputError
    """
    run = as_run(run)
    check = SignalCheck(int(np.prod(run.shape[1:])), voxels)
    stream_run(run, [check], progress=progress)
    problem = check.problem()
    if problem:
        raise input_error(run.source.path, problem)


def check_detrend(detrend: int, n_volumes: int, path: str | os.PathLike) -> None:
    """Refuse a negative degree or one that leaves no residual degrees of freedom."""
    if detrend < 0:
        raise input_error(None, f"the detrending degree must be 0 or more, not {detrend}")
    if detrend + 1 >= n_volumes:
        raise input_error(
            path,
            f"has {n_volumes} volumes, too few to remove Legendre drifts up to degree {detrend}",
        )


def spm_global(volume: np.ndarray) -> float:
    """SPM's global mean of one volume (``spm_global.c``).

    The mean of the finite voxels is divided by 8; the global is the mean of the
    finite voxels strictly above that value.
    """
    values = np.asarray(volume, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan
    cut = values.sum() / (8.0 * values.size)
    above = values[values > cut]
    return float(above.mean()) if above.size else math.nan


class SpmImplicitMask(RunAccumulator):
    """The voxels SPM's first-level analysis threshold keeps.

    ``spm_fmri_spm_ui`` sets ``xM.TH = g .* gSF * defaults.mask.thresh`` (0.8) with
    ``g`` the per-scan ``spm_global``; ``spm_spm`` keeps a voxel only when its value
    exceeds ``TH`` in every scan (NaN fails) and it is not constant over scans. The
    global scaling ``gSF`` multiplies data and threshold alike, so in raw units a voxel
    survives when ``x_t > 0.8 * g_t`` for every volume ``t``.

    Parameters
    ----------
    n_voxels, n_volumes : int
    threshold : float
        Fraction of the global (SPM default 0.8).
    """

    def __init__(self, n_voxels: int, n_volumes: int, threshold: float = SPM_MASK_THRESHOLD):
        self.threshold = float(threshold)
        self.globals = np.full(n_volumes, np.nan)
        self.kept = np.ones(n_voxels, dtype=bool)

    def update(self, block, start, finite=None):
        """Per-scan globals and the running 'above threshold in every scan' mask."""
        n = block.shape[1]
        if finite is None:
            count = np.full(n, block.shape[0], dtype=np.float64)
            cut = block.sum(axis=0) / (8.0 * count)
            above = block > cut
        else:
            count = finite.sum(axis=0).astype(np.float64)
            cut = block.sum(axis=0) / (8.0 * np.maximum(count, 1))
            above = (block > cut) & finite
        n_above = above.sum(axis=0)
        sums = np.einsum("ij,ij->j", block, above)
        with np.errstate(invalid="ignore", divide="ignore"):
            g = sums / n_above
        self.globals[start : start + n] = g
        keep = (block > self.threshold * g).all(axis=1)
        if finite is not None:
            keep &= finite.all(axis=1)
        self.kept &= keep


class RegionSeries(RunAccumulator):
    """Mean time series over each of a few small voxel sets (ROIs).

    Parameters
    ----------
    regions : sequence of int arrays
        Flat (Fortran-order) voxel indices of each region; an empty region gives NaN.
    n_volumes : int
    """

    def __init__(self, regions: Sequence[np.ndarray], n_volumes: int):
        self.regions = [np.asarray(r, dtype=np.intp) for r in regions]
        self.series = np.full((len(self.regions), n_volumes), np.nan)

    def update(self, block, start, finite=None):
        """Mean over each region for the volumes of the block."""
        n = block.shape[1]
        for i, idx in enumerate(self.regions):
            if idx.size:
                self.series[i, start : start + n] = block[idx].mean(axis=0)


class CsfCoupling(RunAccumulator):
    """Mean CSF time series and every voxel's cross-product with it, in one pass.

    The CSF mean of volume ``t`` is known as soon as volume ``t`` is read, so
    ``sum_t x_t c_t`` can be accumulated chunk by chunk without a second pass. The
    series is shifted by its mean over the first chunk (correlation does not change
    under a constant shift) to keep the float64 sums small.

    Parameters
    ----------
    csf_voxels : int array
        Flat indices of the (high-probability) CSF voxels.
    n_voxels, n_volumes : int
    """

    def __init__(self, csf_voxels: np.ndarray, n_voxels: int, n_volumes: int):
        self.csf_voxels = np.asarray(csf_voxels, dtype=np.intp)
        self.series = np.full(n_volumes, np.nan)
        self.shift: float | None = None
        self.cross = np.zeros(n_voxels)

    def update(self, block, start, finite=None):
        """CSF mean of each volume, then the voxels' cross-products with it."""
        n = block.shape[1]
        c = block[self.csf_voxels].mean(axis=0)
        self.series[start : start + n] = c
        if self.shift is None:
            self.shift = float(c.mean())
        self.cross += block @ (c - self.shift)

    def correlation(self, moments: TemporalMoments) -> np.ndarray:
        """Pearson correlation of each voxel with the CSF mean (after the same detrending).

        0 where either series has no variance left.
        """
        shifted = self.series - self.shift
        xc = moments.residual_inner_products(shifted, self.cross)
        cc = moments_of_series(shifted, moments)
        if moments.projections is not None:
            xx = moments.m2 - np.einsum("ij,ij->i", moments.projections, moments.projections)
        else:
            xx = moments.m2.copy()
        denom = np.sqrt(np.maximum(xx, 0.0) * cc)
        out = np.zeros_like(xc)
        ok = denom > 1e-12 * max(float(np.max(denom, initial=0.0)), 1e-300)
        out[ok] = xc[ok] / denom[ok]
        return np.clip(out, -1.0, 1.0)


def moments_of_series(series: np.ndarray, moments: TemporalMoments) -> float:
    """Residual sum of squares of one time series after the same detrending as ``moments``."""
    series = np.asarray(series, dtype=np.float64)
    centred = series - series.mean()
    rss = float(centred @ centred)
    if moments.basis is not None:
        p = moments.basis[:, 1:].T @ series
        rss -= float(p @ p)
    return max(rss, 0.0)
