"""T2* and S0 by log-linear fit, the adaptive mask and the T2*-weighted combination.

Conventions are tedana's (DuPre et al. 2021) and the design card's:

* per voxel and echo, the temporal mean ``S_e`` of the run (streamed, the echoes read
  side by side a few volumes at a time);
* the adaptive mask counts the usable echoes of each voxel: tedana's
  ``make_adaptive_mask`` ("dropout" method: an echo is usable while its mean is above
  a third of the mean of the voxel at the 33rd percentile of echo 1) on the temporal
  means, combined (element-wise minimum) with tedana's base rule (every value of the
  echo finite and above 0 in every volume), tracked here as the temporal minimum;
  this equals ``make_adaptive_mask`` on the whole run;
* T2* and S0 by ``tedana.decay.fit_decay(..., "loglin")`` on the temporal means:
  least squares of ``log(S_e + 1) = log S0 - TE_e / T2*`` over the usable echoes
  (the first two for a voxel with one), then ``modify_t2s_s0_maps`` (T2* of an
  infinite fit set to 500 ms, non-positive to 1 ms, tiny values floored);
* the optimal combination (Posse et al. 1999) by ``tedana.combine.make_optcom``:
  per voxel the weighted mean of the usable echoes with
  ``w_e = TE_e exp(-TE_e / T2*) / sum_e TE_e exp(-TE_e / T2*)``, computed chunk by
  chunk and written as it goes.

Echo times are in ms; the T2* map is written in seconds (BIDS ``T2starmap``, as tedana
writes it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..jobs import Progress, report
from .echoes import EchoSet

#: Bytes of float64 one echo's streamed chunk may take (the chunk length follows from it).
CHUNK_BYTES_PER_ECHO = 16 * 2**20

#: tedana's rule for the adaptive mask ("dropout"); see the module notes.
ADAPTIVE_MASK_METHODS = ("dropout",)


@contextlib.contextmanager
def quiet_tedana():
    """Hold tedana's loggers (``GENERAL``, ``REPORT``) to errors: its notes are ours to say."""
    loggers = [logging.getLogger(name) for name in ("GENERAL", "REPORT")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def default_chunk_volumes(n_voxels: int, n_volumes: int) -> int:
    """Volumes per chunk so that one echo's float64 chunk takes about 16 MiB."""
    return int(max(1, min(n_volumes, CHUNK_BYTES_PER_ECHO // max(8 * n_voxels, 1))))


def _echo_chunks(echoes: EchoSet, step: int) -> Iterator[tuple[int, int, list[np.ndarray]]]:
    """``(start, stop, blocks)`` with one ``(voxels, n)`` float64 block per echo (F order)."""
    n_vox = echoes.grid.n_voxels
    streams = [s.run().iter_chunks(step) for s in echoes.sources]
    try:
        for parts in zip(*streams):
            start, stop = parts[0][0], parts[0][1]
            yield start, stop, [p[2].reshape((n_vox, stop - start), order="F") for p in parts]
    finally:
        for stream in streams:
            stream.close()


@dataclass
class EchoMeans:
    """Temporal statistics of every echo over the whole grid (voxels in NIfTI F order).

    Attributes
    ----------
    mean, std, minimum : ndarray, shape (n_echoes, n_voxels)
        Temporal mean, population std (ddof 0) and minimum; a non-finite value makes
        the minimum ``-inf`` and counts as 0 in the mean and std (nipype's rule).
    n_volumes : int
    """

    mean: np.ndarray
    std: np.ndarray
    minimum: np.ndarray
    n_volumes: int


def echo_means(
    echoes: EchoSet, *, chunk_volumes: int | None = None, progress: Progress | None = None
) -> EchoMeans:
    """Temporal mean, std and minimum of every echo, reading the echoes once side by side.

    Parameters
    ----------
    echoes : EchoSet
    chunk_volumes : int, optional
        Volumes per chunk (default about 16 MiB of float64 per echo).
    progress : callable, optional
        ``progress(volumes_done, n_volumes)``; :class:`~napari_milna.core.jobs.Cancelled`
        stops the pass.

    Returns
    -------
    EchoMeans
    """
    from ..qc.tsnr import TemporalMoments

    n_vox, n_vol = echoes.grid.n_voxels, echoes.n_volumes
    step = chunk_volumes or default_chunk_volumes(n_vox, n_vol)
    moments = [TemporalMoments(n_vox, n_vol) for _ in echoes.sources]
    minimum = np.full((echoes.n_echoes, n_vox), np.inf)
    report(progress, 0, n_vol)
    for start, stop, blocks in _echo_chunks(echoes, step):
        for e, block in enumerate(blocks):
            finite = np.isfinite(block)
            if not finite.all():
                block[~finite] = 0.0
                minimum[e][~finite.all(axis=1)] = -np.inf
            np.minimum(minimum[e], block.min(axis=1), out=minimum[e])
            moments[e].update(block, start)
        report(progress, stop, n_vol)
    stats = [m.result() for m in moments]
    return EchoMeans(
        mean=np.stack([s.mean for s in stats]),
        std=np.stack([s.std for s in stats]),
        minimum=minimum,
        n_volumes=n_vol,
    )


def adaptive_mask(mean: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Usable echoes per voxel (tedana's adaptive mask) from temporal means and minima.

    Parameters
    ----------
    mean, minimum : ndarray, shape (n_voxels, n_echoes)
        Temporal mean and minimum of each echo in the voxels of the brain mask.

    Returns
    -------
    ndarray of int, shape (n_voxels,)
        0 .. n_echoes.
    """
    from tedana.utils import make_adaptive_mask

    with quiet_tedana():
        _, from_means = make_adaptive_mask(
            np.asarray(mean, dtype=np.float64)[:, :, None], threshold=1,
            methods=list(ADAPTIVE_MASK_METHODS),
        )
    good = np.asarray(minimum) > 0  # every value finite and above 0 (tedana's base rule)
    leading = np.cumprod(good, axis=1).sum(axis=1)
    return np.minimum(np.asarray(from_means, dtype=int), leading)


@dataclass
class DecayFit:
    """T2* and S0 of the voxels of a mask.

    Attributes
    ----------
    t2star_ms, s0 : ndarray, shape (n_voxels,)
        tedana's "full" maps (floors and ceilings applied); 0 where no echo is usable.
    adaptive : ndarray of int, shape (n_voxels,)
        Usable echoes per voxel.
    """

    t2star_ms: np.ndarray
    s0: np.ndarray
    adaptive: np.ndarray


def fit_t2star(mean: np.ndarray, echo_times_ms, adaptive: np.ndarray) -> DecayFit:
    """Log-linear T2* / S0 fit of temporal means (``tedana.decay.fit_decay``, loglin).

    Parameters
    ----------
    mean : ndarray, shape (n_voxels, n_echoes)
        Temporal mean of each echo.
    echo_times_ms : array-like, shape (n_echoes,)
    adaptive : ndarray of int, shape (n_voxels,)
        Usable echoes per voxel (:func:`adaptive_mask`).

    Returns
    -------
    DecayFit
    """
    from tedana.decay import fit_decay, modify_t2s_s0_maps

    te = np.asarray(echo_times_ms, dtype=float)
    adaptive = np.asarray(adaptive, dtype=int)
    t2s = np.zeros(adaptive.shape)
    s0 = np.zeros(adaptive.shape)
    fitted = adaptive >= 1
    if fitted.any():
        with quiet_tedana():
            t2s_f, s0_f, *_ = fit_decay(np.asarray(mean, dtype=np.float64)[fitted], te,
                                        adaptive[fitted], "loglin", report=False)
            t2s_f, s0_f, _, _ = modify_t2s_s0_maps(t2s_f, s0_f, adaptive[fitted], te)
        t2s[fitted], s0[fitted] = t2s_f, s0_f
    return DecayFit(t2s, s0, adaptive)


def posse_weights(echo_times_ms, t2star_ms) -> np.ndarray:
    """Posse 1999 weights ``TE_e exp(-TE_e / T2*)`` normalised to sum 1 (voxels x echoes)."""
    te = np.asarray(echo_times_ms, dtype=float)[None, :]
    t2s = np.asarray(t2star_ms, dtype=float).reshape(-1, 1)
    w = te * np.exp(-te / t2s)
    return w / w.sum(axis=1, keepdims=True)


def optimal_combination_chunks(
    echoes: EchoSet,
    voxels: np.ndarray,
    fit: DecayFit,
    *,
    chunk_volumes: int | None = None,
    progress: Progress | None = None,
) -> Iterator[np.ndarray]:
    """The optimally combined run, chunk by chunk (``tedana.combine.make_optcom``).

    Parameters
    ----------
    echoes : EchoSet
    voxels : ndarray of int
        Flat (F-order) indices of the fitted voxels, in the order of ``fit``.
    fit : DecayFit
    chunk_volumes : int, optional
    progress : callable, optional
        ``progress(volumes_done, n_volumes)``.

    Yields
    ------
    ndarray, shape (i, j, k, n), float32
        Combined volumes; 0 outside the voxels with at least one usable echo.
    """
    from tedana.combine import make_optcom

    grid = echoes.grid
    n_vox, n_vol = grid.n_voxels, echoes.n_volumes
    step = chunk_volumes or default_chunk_volumes(n_vox, n_vol)
    use = fit.adaptive >= 1
    idx = np.asarray(voxels)[use]
    adaptive = fit.adaptive[use]
    t2s = fit.t2star_ms[use]
    te = np.asarray(echoes.echo_times_ms, dtype=float)
    report(progress, 0, n_vol)
    for _, stop, blocks in _echo_chunks(echoes, step):
        n = blocks[0].shape[1]
        out = np.zeros((n_vox, n), dtype=np.float32)
        if idx.size:
            data = np.stack([b[idx] for b in blocks], axis=1)
            with quiet_tedana():
                out[idx] = make_optcom(data, te, adaptive, t2s=t2s, combmode="t2s")
            del data
        yield out.reshape(tuple(grid.shape) + (n,), order="F")
        report(progress, stop, n_vol)


def combine_means(mean: np.ndarray, echo_times_ms, fit: DecayFit) -> np.ndarray:
    """``make_optcom`` of the temporal means: the combined run's temporal mean per voxel.

    The weights are fixed per voxel, so the combination of the means is the mean of
    the combination.
    """
    from tedana.combine import make_optcom

    out = np.zeros(fit.adaptive.shape)
    use = fit.adaptive >= 1
    if use.any():
        with quiet_tedana():
            out[use] = make_optcom(np.asarray(mean, dtype=np.float64)[use][:, :, None],
                                   np.asarray(echo_times_ms, dtype=float), fit.adaptive[use],
                                   t2s=fit.t2star_ms[use], combmode="t2s")[:, 0]
    return out
