"""Live SVC recomputation cost: a ~500-voxel ROI in a 2 mm MNI-sized T map.

The widget recomputes the SVC whenever the ROI changes; the budget is 50 ms. This
prints the time of one full ``small_volume_correction`` (resels, RFT thresholds,
per-voxel p values, FDR, peaks, clusters) and of the resel count alone, each as a
fraction of the budget, and the time of a brute-force Python resel count on the
same ROI as a baseline.

    .venv/bin/python benchmarks/bench_svc_live.py
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from _timing import run_times
from scipy import ndimage

from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.resels import resel_counts
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm

BUDGET_S = 0.050


def best_of(fn, repeats=20):
    times = run_times(fn, repeats)
    return float(times.min()), float(np.median(times))


def brute_force_counts(mask):
    """Baseline: edges, faces and cubes by walking every in-mask voxel in Python."""
    counts = {}
    for i, j, k in zip(*np.nonzero(mask)):
        for offsets in itertools.product((0, 1), repeat=3):
            if offsets == (0, 0, 0):
                continue
            corners = [(a, b, c) for a, b, c in itertools.product(*[(0, 1) if o else (0,)
                                                                   for o in offsets])]
            if all(mask[i + a, j + b, k + c] for a, b, c in corners):
                counts[offsets] = counts.get(offsets, 0) + 1
    return counts


def main() -> None:
    shape = (91, 109, 91)
    affine = np.diag([-2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [90, -126, -72]
    grid = Grid(shape, affine)
    rng = np.random.default_rng(0)
    stat = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5)
    stat *= 3 / stat.std()
    centre = np.array([45, 48, 30])
    d = np.sqrt(((np.indices(shape) - centre[:, None, None, None]) ** 2).sum(0))
    roi = d <= 5.0
    smooth = smoothness_from_fwhm_mm(8.0, grid)
    res = small_volume_correction(stat, roi, grid, smooth, "T", 20)
    full_best, full_median = best_of(
        lambda: small_volume_correction(stat, roi, grid, smooth, "T", 20))
    resel_best, _ = best_of(lambda: resel_counts(roi, smooth.fwhm_voxels))
    t0 = time.perf_counter()
    brute_force_counts(roi)
    t_brute = time.perf_counter() - t0
    print(f"ROI voxels: {res.n_voxels}, map {shape}, peaks {len(res.peaks)}, "
          f"clusters {len(res.clusters)}")
    print(f"full SVC: best {full_best * 1e3:.1f} ms, median {full_median * 1e3:.1f} ms "
          f"= {full_median / BUDGET_S:.0%} of the 50 ms budget")
    print(f"resel count alone: {resel_best * 1e3:.2f} ms; brute-force Python lattice count "
          f"(baseline): {t_brute * 1e3:.1f} ms; ratio {t_brute / resel_best:.0f}x")


if __name__ == "__main__":
    main()
