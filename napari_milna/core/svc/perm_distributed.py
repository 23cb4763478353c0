"""The sign-flip max-t test with its flips spread over a dask cluster.

The flips are cut into the same blocks the single-process test evaluates
(:func:`.permutation.flip_blocks`; random flips drawn in this process from the seeded
generator), the blocks are split into one contiguous run per worker, and each worker
returns the maximum of every flip and the voxel exceedance counts of its blocks.
Concatenated in block order they are exactly what :func:`.permutation.sign_flip_test`
computes in one process: the same seed gives identical p values and null maxima.

Workers: dask's local process pool by default (``n_workers`` processes), or an existing
``dask.distributed`` scheduler given by address (``tcp://host:8786``), as the batch QC
does (:mod:`napari_milna.core.qc.batch`).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import input_error
from ..jobs import Progress, gather_futures, report
from .permutation import SignFlipResult, block_size, run_blocks, sign_flip_test


def _split(blocks: list, parts: int) -> list[list]:
    """``blocks`` in at most ``parts`` contiguous runs of about equal numbers of flips."""
    sizes = np.array([block_size(b) for b in blocks], dtype=float)
    edges = np.searchsorted(np.cumsum(sizes), np.linspace(0, sizes.sum(), parts + 1)[1:-1])
    runs, start = [], 0
    for edge in [int(e) + 1 for e in edges] + [len(blocks)]:
        edge = min(max(edge, start), len(blocks))
        if edge > start:
            runs.append(blocks[start:edge])
        start = edge
    return runs


def _evaluate(xn, blocks, key_obs, two_sided, uncorrected):
    """One worker's share (in a worker process)."""
    return run_blocks(xn, blocks, key_obs, two_sided, uncorrected)


def dask_runner(scheduler: str | None = None, n_workers: int | None = None,
                progress: Progress | None = None):
    """A ``runner`` for :func:`.permutation.sign_flip_test` that uses dask workers.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler; default dask's local process
        pool. ``"sync"`` runs every share in this process (debugging).
    n_workers : int, optional
        Processes of the local pool (default: the CPU count); with a scheduler, the
        number of shares (default: the cluster's worker count).
    progress : callable, optional
        ``progress(shares_done, n_shares)``.
    """

    def run(xn, blocks, key_obs, two_sided, uncorrected, _progress=None, _total=None):
        if scheduler and scheduler not in ("sync", "processes"):
            return _run_distributed(xn, blocks, key_obs, two_sided, uncorrected, scheduler,
                                    n_workers, progress)
        import dask

        workers = n_workers or max(1, os.cpu_count() or 1)
        shares = _split(blocks, workers)
        report(progress, 0, len(shares))
        tasks = [dask.delayed(_evaluate, pure=False)(xn, share, key_obs, two_sided,
                                                     uncorrected) for share in shares]
        if scheduler == "sync":
            results = dask.compute(*tasks, scheduler="sync")
        else:
            results = dask.compute(*tasks, scheduler="processes", num_workers=workers)
        report(progress, len(shares), len(shares))
        return _combine(results, xn.shape[1])

    return run


def _run_distributed(xn, blocks, key_obs, two_sided, uncorrected, address, n_workers,
                     progress):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise input_error(None, "dask.distributed is not installed; cannot use --scheduler"
                          ) from None
    try:
        client = Client(address, timeout=20)
    except (OSError, TimeoutError) as exc:
        raise input_error(None, f"cannot reach the dask scheduler at {address} ({exc})"
                          ) from None
    with client:
        workers = n_workers or max(1, len(client.scheduler_info().get("workers", {})))
        shares = _split(blocks, workers)
        xn_future = client.scatter(xn, broadcast=True)
        key_future = client.scatter(key_obs, broadcast=True)
        futures = [client.submit(_evaluate, xn_future, share, key_future, two_sided,
                                 uncorrected, pure=False) for share in shares]
        results = gather_futures(client, futures, progress)
    return _combine(results, xn.shape[1])


def _combine(results, n_vox: int):
    """Maxima of every share's blocks in order, voxel counts summed."""
    maxima = [m for share_maxima, _ in results for m in share_maxima]
    counts = np.zeros(n_vox, dtype=np.int64)
    for _, share_counts in results:
        counts += share_counts
    return maxima, counts


def distributed_sign_flip_test(
    data: np.ndarray,
    n_perm: int = 0,
    seed: int | None = 0,
    two_sided: bool = False,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: Progress | None = None,
    uncorrected: bool = True,
) -> SignFlipResult:
    """:func:`.permutation.sign_flip_test` with its flips spread over dask workers.

    Parameters
    ----------
    data, n_perm, seed, two_sided, uncorrected
        As :func:`.permutation.sign_flip_test`; the result is identical for the same
        seed.
    scheduler, n_workers, progress
        As :func:`dask_runner`.

    Returns
    -------
    SignFlipResult
    """
    return sign_flip_test(data, n_perm=n_perm, seed=seed, two_sided=two_sided,
                          uncorrected=uncorrected,
                          runner=dask_runner(scheduler, n_workers, progress))
