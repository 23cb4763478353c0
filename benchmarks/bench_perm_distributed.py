"""Whole-brain sign flips over dask workers vs nilearn's permuted_ols with as many jobs.

A whole-brain 2 mm map (nilearn's MNI152 brain mask at 2 mm), 15 subjects, 10 000 random
sign flips. napari-milna spreads the flips over ``--workers`` local dask processes
(:func:`napari_milna.core.svc.perm_distributed.distributed_sign_flip_test`); nilearn's
``permuted_ols`` runs the same number of flips with ``n_jobs`` = the same worker count.
Prints both timings, the ratio, and the agreement of the peak's FWE p (in units of the
Monte-Carlo standard error). Also checks that the spread run equals the one-process run.

    .venv/bin/python benchmarks/bench_perm_distributed.py [--workers 2] [--n-perm 10000]
        [--nilearn-perm N]   (time nilearn on N flips and scale to --n-perm, for a quick run)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from nilearn.datasets import load_mni152_brain_mask
from nilearn.mass_univariate import permuted_ols
from scipy import ndimage

from napari_milna.core.svc.perm_distributed import distributed_sign_flip_test
from napari_milna.core.svc.permutation import sign_flip_test


def simulate(n_subjects: int, seed: int = 1):
    """Smoothed noise subject maps with a blob, inside the MNI 2 mm brain mask."""
    mask = load_mni152_brain_mask(resolution=2).get_fdata() > 0
    rng = np.random.default_rng(seed)
    zz = np.indices(mask.shape)
    blob = np.exp(-sum((zz[a] - c) ** 2 for a, c in enumerate((45, 50, 35))) / 20.0)
    data = np.empty((n_subjects, int(mask.sum())))
    for s in range(n_subjects):
        vol = ndimage.gaussian_filter(rng.standard_normal(mask.shape), 1.5) * 4 + 0.5 * blob
        data[s] = vol[mask]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n-perm", type=int, default=10000)
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--nilearn-perm", type=int, default=0,
                        help="time nilearn on this many flips and scale (0: the same number)")
    args = parser.parse_args()
    data = simulate(args.subjects)
    n_perm = args.n_perm
    print(f"whole brain: {data.shape[1]} voxels (2 mm), {data.shape[0]} subjects, "
          f"{n_perm} random flips, {args.workers} workers")

    t0 = time.perf_counter()
    ours = distributed_sign_flip_test(data, n_perm=n_perm, seed=0, n_workers=args.workers)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = sign_flip_test(data, n_perm=n_perm, seed=0)
    t_single = time.perf_counter() - t0
    same = (np.array_equal(ours.p_fwe, single.p_fwe)
            and np.array_equal(ours.p_uncorrected, single.p_uncorrected))
    print(f"napari-milna, {args.workers} dask processes: {t_ours:8.2f} s "
          f"(one process: {t_single:.2f} s; identical p values: {same})")

    nil_perm = args.nilearn_perm or n_perm
    t0 = time.perf_counter()
    nil = permuted_ols(np.ones((data.shape[0], 1)), data, model_intercept=False,
                       n_perm=nil_perm, two_sided_test=False, random_state=0,
                       n_jobs=args.workers, verbose=0)
    t_nil = (time.perf_counter() - t0) * n_perm / nil_perm
    scaled = "" if nil_perm == n_perm else f" (timed on {nil_perm} flips, scaled)"
    print(f"nilearn permuted_ols, n_jobs={args.workers}: {t_nil:8.2f} s{scaled}")
    print(f"speed ratio (nilearn / napari-milna): {t_nil / t_ours:.1f}x")
    i = ours.peak_index
    p_nil = 10 ** -np.ravel(nil["logp_max_t"])[i]
    se = np.sqrt(p_nil * (1 - p_nil) / min(n_perm, nil_perm) + ours.p_fwe[i] * (
        1 - ours.p_fwe[i]) / n_perm)
    print(f"peak t {ours.t[i]:.3f}: FWE p {ours.p_fwe[i]:.4f} vs nilearn {p_nil:.4f} "
          f"(|diff| / MC SE = {abs(ours.p_fwe[i] - p_nil) / max(se, 1e-12):.2f})")


if __name__ == "__main__":
    main()
