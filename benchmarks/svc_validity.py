"""FWE validity of the small-volume correction on null Gaussian random fields.

For PAG-sized and brainstem-sized search volumes on 2.5 x 2.5 x 3 mm voxels,
simulate null fields of known smoothness (Z fields, and T fields made from N
smooth subject fields), run the reported SVC procedure on each and count fields
whose peak has p_FWE <= alpha. Prints the empirical FWE rate with its 95%
Clopper-Pearson interval, the rate of the RFT-only and Bonferroni-only p values,
and how conservative the used threshold is compared with the simulated 95th
percentile of the maximum.

    .venv/bin/python benchmarks/svc_validity.py [--fields 2000] [--subjects 15]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage, stats

from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm

VOXEL = (2.5, 2.5, 3.0)
SHAPE = (28, 28, 24)


def regions() -> dict[str, np.ndarray]:
    """Search volumes: a solid PAG-sized cylinder, a hollow PAG-like tube, a brainstem."""
    ii = np.indices(SHAPE).astype(float)
    x, y, z = ((ii[d] - SHAPE[d] / 2) * VOXEL[d] for d in range(3))
    rad = np.sqrt(x**2 + y**2)
    pag = (rad <= 7.5) & (np.abs(z) < 9)
    hollow = (rad <= 8.0) & (rad > 3.0) & (np.abs(z) < 9)
    brainstem = ((x / 14) ** 2 + (y / 14) ** 2 + (z / 30) ** 2) <= 1
    return {"PAG cylinder": pag, "PAG hollow tube": hollow, "brainstem": brainstem}


def field_maker(rng, fwhm_vox):
    sigma = np.asarray(fwhm_vox) / np.sqrt(8 * np.log(2))
    delta = np.zeros(SHAPE)
    delta[0, 0, 0] = 1
    sd = np.sqrt((ndimage.gaussian_filter(delta, sigma, mode="wrap") ** 2).sum())

    def make():
        return ndimage.gaussian_filter(rng.standard_normal(SHAPE), sigma, mode="wrap") / sd

    return make


def t_field(make, n):
    x = np.stack([make() for _ in range(n)])
    return x.mean(0) / (x.std(0, ddof=1) / np.sqrt(n))


def study(name, roi, kind, n_fields, fwhm_mm, n_subjects, alpha, seed):
    grid = Grid(SHAPE, np.diag(VOXEL + (1.0,)))
    smooth = smoothness_from_fwhm_mm(fwhm_mm, grid)
    make = field_maker(np.random.default_rng(seed), smooth.fwhm_voxels)
    df = n_subjects - 1 if kind == "T" else None
    hits = rft_hits = bonf_hits = 0
    maxima = []
    t0 = time.perf_counter()
    for _ in range(n_fields):
        field = t_field(make, n_subjects) if kind == "T" else make()
        res = small_volume_correction(field, roi, grid, smooth, kind, df)
        hits += res.peak.p_fwe <= alpha
        rft_hits += res.peak.p_fwe_rft <= alpha
        bonf_hits += res.peak.p_fwe_bonferroni <= alpha
        maxima.append(res.peak.value)
    elapsed = time.perf_counter() - t0
    ci = stats.binomtest(hits, n_fields).proportion_ci(0.95, method="exact")
    th = res.threshold_fwe
    u_sim = np.quantile(maxima, 1 - alpha)
    print(f"{name:16s} {kind}{'' if df is None else f'({df})':5s} S={res.n_voxels:4d} "
          f"R={np.round(res.resels, 2).tolist()}")
    print(f"    FWE rate {hits / n_fields:.4f}  95% CI [{ci.low:.4f}, {ci.high:.4f}]  "
          f"(alpha {alpha}; rate/alpha = {hits / n_fields / alpha:.2f})  "
          f"RFT-only {rft_hits / n_fields:.4f}  Bonferroni-only {bonf_hits / n_fields:.4f}")
    print(f"    thresholds: RFT {th.rft:.3f}  Bonferroni {th.bonferroni:.3f}  used {th.used:.3f}"
          f"  simulated {1 - alpha:.0%} quantile of the max {u_sim:.3f}  "
          f"[{n_fields} fields, {elapsed:.1f} s]")
    return hits / n_fields, ci


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=2000)
    parser.add_argument("--fwhm", type=float, default=6.0, help="FWHM in mm (default 6)")
    parser.add_argument("--subjects", type=int, default=15, help="subjects per T field")
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args()
    print(f"voxels {VOXEL} mm, FWHM {args.fwhm} mm, alpha {args.alpha}")
    valid = True
    for i, (name, roi) in enumerate(regions().items()):
        for kind in ("Z", "T"):
            n = args.fields if kind == "Z" else max(args.fields // 2, 200)
            rate, ci = study(name, roi, kind, n, args.fwhm, args.subjects, args.alpha, 100 + i)
            valid &= ci.low <= args.alpha
    print("valid (alpha inside or above every CI's lower bound):", valid)


if __name__ == "__main__":
    main()
