"""Streaming tSNR against loading the whole run: time and peak memory.

Generates a 96 x 96 x 44 x 300 int16 ``.nii.gz`` run (an ellipsoid "brain" with noise
and a slow drift, zero background) in a temporary folder, then runs each variant in
its own subprocess:

* ``numpy``: ``nibabel`` loads the whole run as float32 (``get_fdata(dtype=float32)``)
  and numpy computes mean and std over time (the baseline);
* ``stream``: :func:`napari_milna.core.qc.tsnr.temporal_stats` (one streamed pass);
* ``stream_prefetch``: the same with the next chunk read in a background thread;
* ``stream_qc``: every QC accumulator in the same pass (moments with a degree-2
  Legendre detrend, SPM implicit mask, CSF coupling, ROI series), as ``run_qc`` does;
* ``imports``: the same imports and nothing else (the interpreter's own footprint).

Variants run interleaved ``--repeat`` times; best and median wall times are shown.
Peak memory is the child's peak resident set (``VmHWM``, whole process) and, in a
second run of each variant, the ``tracemalloc`` peak (numpy reports its buffers to
tracemalloc). Prints wall times, peaks and ratios ``stream / numpy``. Goal: time
ratio <= 1 and memory ratio <= 0.2.

Usage: ``python benchmarks/bench_qc_streaming.py [--repeat N] [--volumes T]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (96, 96, 44)

CHILD = r"""
import json, resource, sys, time, tracemalloc
variant, path, trace = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
import numpy as np
import nibabel as nib
from napari_milna.core import tsnr as T
from napari_milna.core.io.nifti import open_nifti
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
if variant == "numpy":
    data = nib.load(path).get_fdata(dtype=np.float32)
    mean = data.mean(axis=-1)
    std = data.std(axis=-1)
    value = float(np.median(mean[std > 0] / std[std > 0]))
elif variant == "stream":
    stats = T.temporal_stats(path)
    value = float(np.median(stats.tsnr[stats.std > 0]))
elif variant == "stream_prefetch":
    run = open_nifti(path).run()
    mom = T.TemporalMoments(int(np.prod(run.shape[1:])), run.shape[0], 0)
    T.stream_run(run, [mom], prefetch=True)
    stats = mom.result()
    value = float(np.median(stats.tsnr[stats.std > 0]))
elif variant == "stream_qc":
    run = open_nifti(path).run()
    n_vox = int(np.prod(run.shape[1:]))
    n_vol = run.shape[0]
    mom = T.TemporalMoments(n_vox, n_vol, 2)
    spm = T.SpmImplicitMask(n_vox, n_vol)
    csf = T.CsfCoupling(np.arange(n_vox // 2, n_vox // 2 + 500), n_vox, n_vol)
    roi = T.RegionSeries([np.arange(1000, 1100), np.arange(5000, 5050)], n_vol)
    T.stream_run(run, [mom, spm, csf, roi])
    stats = mom.result()
    corr = csf.correlation(mom)
    value = float(np.median(stats.tsnr[stats.std > 0]))
else:
    value = 0.0
elapsed = time.perf_counter() - t0
peak_trace = tracemalloc.get_traced_memory()[1] if trace else None
# VmHWM (this process image's peak RSS): ru_maxrss would carry over the parent's
# peak across fork + exec on Linux.
with open("/proc/self/status") as fh:
    hwm = [line for line in fh if line.startswith("VmHWM:")]
if hwm:
    rss = int(hwm[0].split()[1]) * 1024
else:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"time": elapsed, "maxrss": rss, "traced": peak_trace, "value": value}))
"""


def make_run(path: Path, n_volumes: int) -> None:
    """Write a brain-like int16 run (zero background) to ``path``."""
    import nibabel as nib

    rng = np.random.default_rng(0)
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij"), axis=-1)
    centre = (np.array(SHAPE) - 1) / 2
    radius = np.array(SHAPE) * 0.42
    inside = (((ijk - centre) / radius) ** 2).sum(-1) <= 1
    base = np.where(inside, 800 + 200 * rng.random(SHAPE), 0).astype(np.float32)
    data = np.empty(SHAPE + (n_volumes,), dtype=np.int16)
    for t in range(n_volumes):
        vol = base * (1 + 0.0002 * t) + inside * rng.normal(0, 15, SHAPE).astype(np.float32)
        data[..., t] = np.round(vol).astype(np.int16)
    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    affine[:3, 3] = -(np.array(SHAPE) - 1) / 2 * np.array([2.5, 2.5, 3.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    nib.save(img, str(path))


def run_variant(variant: str, path: Path, trace: bool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, variant, str(path), "1" if trace else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant (best kept)")
    parser.add_argument("--volumes", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sub-bench_task-rest_bold.nii.gz"
        t0 = time.perf_counter()
        make_run(path, args.volumes)
        print(
            f"run {SHAPE + (args.volumes,)} int16, {path.stat().st_size / 2**20:.0f} MiB "
            f"compressed, generated in {time.perf_counter() - t0:.1f} s"
        )
        variants = ("imports", "numpy", "stream", "stream_prefetch", "stream_qc")
        timed = {v: [] for v in variants}
        # interleaved, so that other load on the machine hits every variant alike
        for _ in range(args.repeat):
            for variant in variants:
                timed[variant].append(run_variant(variant, path, False))
        results = {}
        for variant in variants:
            runs = timed[variant]
            results[variant] = {
                "time": min(r["time"] for r in runs),
                "median_time": float(np.median([r["time"] for r in runs])),
                "maxrss": max(r["maxrss"] for r in runs),
                "traced": run_variant(variant, path, True)["traced"],
                "value": runs[0]["value"],
            }
    base_rss = results["imports"]["maxrss"]
    mib = 2**20
    print(
        f"{'variant':<16} {'best s':>7} {'median s':>9} {'maxrss MiB':>11} "
        f"{'above imports':>14} {'traced MiB':>11}"
    )
    for name, r in results.items():
        print(
            f"{name:<16} {r['time']:7.2f} {r['median_time']:9.2f} {r['maxrss'] / mib:11.0f} "
            f"{(r['maxrss'] - base_rss) / mib:14.0f} {r['traced'] / mib:11.1f}"
        )
    ref = results["numpy"]
    for name in ("stream", "stream_prefetch", "stream_qc"):
        r = results[name]
        print(
            f"{name} / numpy: time {r['time'] / ref['time']:.2f}x best, "
            f"{r['median_time'] / ref['median_time']:.2f}x median; "
            f"peak RSS {r['maxrss'] / ref['maxrss']:.3f}x "
            f"({(r['maxrss'] - base_rss) / (ref['maxrss'] - base_rss):.3f}x above imports), "
            f"tracemalloc peak {r['traced'] / ref['traced']:.3f}x"
        )
    print(
        f"median tSNR: numpy {ref['value']:.4f}, stream {results['stream']['value']:.4f} "
        "(float32 vs float64 accumulation)"
    )


if __name__ == "__main__":
    main()
