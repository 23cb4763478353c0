"""Sign-flip max-t engine vs nilearn's permuted_ols on a 300-voxel ROI, same number of flips.

Prints both timings, the speed ratio and the agreement of the voxelwise FWE p values
(the difference in units of the Monte-Carlo standard error). Also times the exact
enumeration of all 2^N flips for a 15- and a 20-subject study.

    .venv/bin/python benchmarks/bench_permutation.py [--n-perm 10000] [--subjects 16]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from nilearn.mass_univariate import permuted_ols

from napari_milna.core.svc.permutation import sign_flip_test


def simulate(rng, n_subjects: int, n_voxels: int = 300) -> np.ndarray:
    """Correlated subject data with a small effect in part of the ROI."""
    base = rng.standard_normal((n_subjects, n_voxels))
    data = 0.7 * base + 0.3 * np.roll(base, 1, axis=1) + 0.2 * np.roll(base, 2, axis=1)
    data[:, :40] += 0.6
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-perm", type=int, default=10000)
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    data = simulate(rng, args.subjects)
    n_perm = args.n_perm

    ours = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = sign_flip_test(data, n_perm=n_perm, seed=0, exhaustive_limit=0)
        ours.append(time.perf_counter() - t0)
    assert not res.exhaustive

    nilearn_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        nil = permuted_ols(np.ones((data.shape[0], 1)), data, model_intercept=False,
                           n_perm=n_perm, two_sided_test=False, random_state=0, n_jobs=1)
        nilearn_times.append(time.perf_counter() - t0)
    t_nilearn = min(nilearn_times)
    p_nil = 10 ** -nil["logp_max_t"][0]

    t_ours = min(ours)
    print(f"ROI voxels: {data.shape[1]}, subjects: {data.shape[0]}, flips: {n_perm}")
    print(f"napari-milna sign_flip_test: {t_ours * 1e3:9.1f} ms (best of {args.repeats})")
    print(f"nilearn permuted_ols:        {t_nilearn * 1e3:9.1f} ms (best of 3)")
    print(f"speed ratio (nilearn / ours): {t_nilearn / t_ours:.1f}x")
    print(f"max |t difference|: {np.abs(nil['t'][0] - res.t).max():.2e}")
    # Both are Monte-Carlo estimates from independent flips: SE of the difference
    p_mean = (p_nil + res.p_fwe) / 2
    se = np.sqrt(2 * p_mean * (1 - p_mean) / n_perm) + 1e-12
    z = np.abs(p_nil - res.p_fwe) / se
    informative = (p_mean > 0.001) & (p_mean < 0.999)
    print(f"FWE p agreement over {informative.sum()} informative voxels: "
          f"max |diff| = {np.abs(p_nil - res.p_fwe).max():.4f}, "
          f"max |diff| / MC SE = {z[informative].max():.2f}")

    # Exact enumeration against nilearn at the same count (2^15 flips)
    small = simulate(rng, 15)
    exact_times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        exact = sign_flip_test(small)
        exact_times.append(time.perf_counter() - t0)
    t_exact = min(exact_times)
    t0 = time.perf_counter()
    nil15 = permuted_ols(np.ones((15, 1)), small, model_intercept=False, n_perm=2**15,
                         two_sided_test=False, random_state=0, n_jobs=1)
    t_nil15 = time.perf_counter() - t0
    p15 = 10 ** -nil15["logp_max_t"][0]
    se = np.sqrt(exact.p_fwe * (1 - exact.p_fwe) / 2**15) + 1e-12
    print(f"15 subjects, all 2^15 = {exact.n_perm} flips (exact): {t_exact * 1e3:.1f} ms; "
          f"nilearn 2^15 random flips: {t_nil15 * 1e3:.1f} ms; ratio {t_nil15 / t_exact:.1f}x; "
          f"max |diff| / nilearn MC SE = {(np.abs(p15 - exact.p_fwe) / se).max():.2f}")
    big = simulate(rng, 20)
    t0 = time.perf_counter()
    exact20 = sign_flip_test(big)
    print(f"20 subjects, all 2^20 = {exact20.n_perm} flips (exact): "
          f"{(time.perf_counter() - t0):.2f} s")


if __name__ == "__main__":
    main()
