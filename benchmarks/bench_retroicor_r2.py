"""Streamed RETROICOR partial R^2 map against a whole-run numpy lstsq: time and peak memory.

Generates a 64 x 64 x 36 x 200 int16 ``.nii.gz`` run (an ellipsoid "brain" with noise
and physiological fluctuations from random phases) in a temporary folder, then runs each
variant in its own subprocess:

* ``numpy``: nibabel loads the whole run as float64, and ``np.linalg.lstsq`` fits the
  base model (cosine drift + constant) and the full model (+ 18 RETROICOR columns) to
  every in-mask voxel. This is the baseline.
* ``stream``: :func:`napari_milna.core.preproc.retroicor.retroicor_variance_map`, which reads
  32 volumes at a time and accumulates projections.

Prints best wall times, peak resident memory (``VmHWM``), the ratios ``stream / numpy``
and the largest difference between the two maps.

Usage: ``python benchmarks/bench_retroicor_r2.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SHAPE = (64, 64, 36)
N_VOLUMES = 200
TR = 2.0

CHILD = r"""
import json, sys, time
import numpy as np
import nibabel as nib
variant, path, regs_path, out_path = sys.argv[1:5]
from napari_milna.core.preproc.retroicor import drift_design, retroicor_variance_map
from napari_milna.core.io.nifti import open_nifti
regs = np.load(regs_path)
t0 = time.perf_counter()
if variant == "numpy":
    data = nib.load(path).get_fdata(dtype=np.float64)
    mask = data[..., 0] != 0
    y = data[mask].T
    xb = drift_design(y.shape[0], 2.0)
    xf = np.hstack([xb, regs])
    rss = [np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2, axis=0) for x in (xb, xf)]
    r2 = np.full(mask.shape, np.nan)
    r2[mask] = (rss[0] - rss[1]) / rss[0]
else:
    r2 = retroicor_variance_map(open_nifti(path).run(), regs, tr=2.0).partial_r2
elapsed = time.perf_counter() - t0
np.save(out_path, r2)
with open("/proc/self/status") as fh:
    hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
print(json.dumps({"seconds": elapsed, "peak_mb": hwm / 1024}))
"""


def make_run(folder: Path) -> tuple[Path, Path]:
    import nibabel as nib

    from napari_milna.core.preproc.retroicor import retroicor_regressors

    rng = np.random.default_rng(0)
    regs = retroicor_regressors(rng.uniform(0, 2 * np.pi, N_VOLUMES),
                                rng.uniform(-np.pi, np.pi, N_VOLUMES))
    grid = np.indices(SHAPE).transpose(1, 2, 3, 0) - (np.array(SHAPE) - 1) / 2
    brain = np.sum((grid / (np.array(SHAPE) * 0.45)) ** 2, axis=-1) <= 1
    weights = rng.normal(0, 3, (18,) + SHAPE).astype(np.float32)
    data = np.zeros(SHAPE + (N_VOLUMES,), np.float32)
    for t in range(N_VOLUMES):
        vol = 1000 + rng.normal(0, 10, SHAPE) + np.tensordot(regs[t], weights, axes=1)
        data[..., t] = np.where(brain, vol, 0)
    img = nib.Nifti1Image(np.rint(data).astype(np.int16), np.diag([3.0, 3.0, 3.5, 1.0]))
    img.header["pixdim"][4] = TR
    img.header.set_xyzt_units("mm", "sec")
    path = folder / "run_bold.nii.gz"
    nib.save(img, path)
    regs_path = folder / "regs.npy"
    np.save(regs_path, regs)
    return path, regs_path


def main() -> None:
    """Run the comparison and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, regs = make_run(folder)
        results: dict[str, list[dict]] = {"numpy": [], "stream": []}
        for _ in range(args.repeat):
            for variant in results:
                out = folder / f"{variant}.npy"
                proc = subprocess.run(
                    [sys.executable, "-c", CHILD, variant, str(path), str(regs), str(out)],
                    capture_output=True, text=True, check=True,
                )
                results[variant].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        maps = {v: np.load(folder / f"{v}.npy") for v in results}
    best = {v: min(r["seconds"] for r in rs) for v, rs in results.items()}
    peak = {v: max(r["peak_mb"] for r in rs) for v, rs in results.items()}
    diff = np.nanmax(np.abs(maps["stream"] - maps["numpy"]))
    print(f"run {SHAPE} x {N_VOLUMES} int16, 18 regressors, {args.repeat} repeats")
    for v in results:
        print(f"  {v:7s} best {best[v]:6.2f} s   peak {peak[v]:7.1f} MB")
    print(f"  ratio stream / numpy: time {best['stream'] / best['numpy']:.2f}, "
          f"memory {peak['stream'] / peak['numpy']:.2f}")
    print(f"  largest |R2 difference|: {diff:.2e}")


if __name__ == "__main__":
    main()
