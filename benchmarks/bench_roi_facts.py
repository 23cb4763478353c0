"""ROI facts on a whole-brain 2.5 mm grid: indexed computation vs a naive whole-volume one.

Target: < 20 ms for a 1000-voxel ROI with CSF, brain, coverage and stat maps, so
the workbench can refresh its table on every brush stroke. Run:

    .venv/bin/python benchmarks/bench_roi_facts.py
"""

from __future__ import annotations

import numpy as np
from _timing import run_times

from napari_milna.core.io.geometry import Grid
from napari_milna.core.roi.facts import facts_from_voxels, roi_facts, roi_facts_table
from napari_milna.core.roi.refine import dilate_mm, largest_component
from napari_milna.core.roi.seeds import seed_roi

# MNI152 bounding box (-90..90, -126..90, -72..108 mm) at 2.5 x 2.5 x 2.5 mm, LAS
GRID = Grid((73, 87, 73), [[-2.5, 0, 0, 90], [0, 2.5, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])


def naive_facts(labels, grid, label, csf, brain, coverage, stat):
    """Whole-volume passes: what one writes first."""
    m = labels == label
    n = int(m.sum())
    world = grid.voxel_centres_mm()
    centroid = (world * m[..., None]).sum(axis=(0, 1, 2)) / n
    csf_fraction = float((csf * m).sum() / n)
    brain_fraction = float(((brain > 0) & m).sum() / n)
    coverage_fraction = float(((coverage > 0) & m).sum() / n)
    stat_mean = float(stat[m].mean())
    masked = np.where(m, stat, -np.inf)
    k = np.unravel_index(np.argmax(masked), m.shape)
    peak_mm = world[k]
    return n, centroid, csf_fraction, brain_fraction, coverage_fraction, stat_mean, peak_mm


def _time(fn, repeat=30):
    times = run_times(fn, repeat)
    return float(np.median(times)), float(np.min(times))


def _sphere_roi(n_target=1000):
    world = GRID.voxel_centres_mm()
    d = np.linalg.norm(world - np.array([0.5, -31.0, -9.0]), axis=-1)
    roi = np.zeros(GRID.shape, bool)
    roi.ravel()[np.argsort(d.ravel(), kind="stable")[:n_target]] = True
    return roi


def main():
    rng = np.random.default_rng(0)
    roi = _sphere_roi()
    labels = roi.astype(np.int16)
    maps = {
        "csf": rng.uniform(0, 1, GRID.shape).astype(np.float32),
        "brain": (rng.uniform(0, 1, GRID.shape) > 0.2).astype(np.uint8),
        "coverage": (rng.uniform(0, 1, GRID.shape) > 0.1).astype(np.uint8),
        "stat": rng.normal(0, 1, GRID.shape).astype(np.float32),
    }
    print(f"grid {GRID.describe()} ({GRID.n_voxels} voxels), ROI {int(roi.sum())} voxels")
    for order in ("C", "F"):
        lab = np.asarray(labels, order=order)
        mp = {k: np.asarray(v, order=order) for k, v in maps.items()}
        fast = roi_facts(lab, GRID, 1, **mp)
        slow = naive_facts(lab, GRID, 1, **mp)
        assert fast.n_voxels == slow[0]
        np.testing.assert_allclose(fast.centroid_mm, slow[1], atol=1e-9)
        np.testing.assert_allclose(fast.csf_fraction, slow[2], rtol=1e-5)
        np.testing.assert_allclose(fast.stat_peak_mm, slow[6])
        f_med, f_min = _time(lambda lab=lab, mp=mp: roi_facts(lab, GRID, 1, **mp))
        n_med, n_min = _time(lambda lab=lab, mp=mp: naive_facts(lab, GRID, 1, **mp), repeat=10)
        print(
            f"[{order}-order maps] roi_facts {1e3 * f_med:6.2f} ms (min {1e3 * f_min:.2f}); "
            f"naive whole-volume {1e3 * n_med:7.2f} ms; speed-up x{n_med / f_med:.1f}; "
            f"target < 20 ms: {'met' if f_med < 0.020 else 'MISSED'}"
        )
    ijk = np.nonzero(roi)
    k_med, _ = _time(lambda: facts_from_voxels(ijk, GRID, **maps))
    print(f"facts_from_voxels (indices kept from the last edit): {1e3 * k_med:.2f} ms")

    many = np.zeros(GRID.shape, np.int16)
    for k in range(1, 11):
        many[_shift_roi(roi, 4 * (k - 5))] = k
    t_med, _ = _time(lambda: roi_facts_table(many, GRID, **maps), repeat=10)
    one_by_one, _ = _time(
        lambda: [roi_facts(many, GRID, k, **maps) for k in range(1, 11)], repeat=10
    )
    print(
        f"table of 10 ROIs in one pass: {1e3 * t_med:.2f} ms; "
        f"label by label {1e3 * one_by_one:.2f} ms (x{one_by_one / t_med:.1f})"
    )
    s_med, _ = _time(lambda: seed_roi("PAG", GRID, assume_mni=True), repeat=10)
    d_med, _ = _time(lambda: dilate_mm(roi, GRID, 3.0), repeat=10)
    c_med, _ = _time(lambda: largest_component(roi), repeat=10)
    print(
        f"other interactive steps: PAG seed {1e3 * s_med:.1f} ms, dilate 3 mm "
        f"{1e3 * d_med:.1f} ms, largest component {1e3 * c_med:.1f} ms"
    )


def _shift_roi(roi, dx):
    return np.roll(roi, dx, axis=0)


if __name__ == "__main__":
    main()
