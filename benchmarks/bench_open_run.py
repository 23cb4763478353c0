"""Open a 96 x 96 x 44 x 300 int16 run and show volume 0: lazy vs eager nibabel load.

Prints, for .nii and .nii.gz, the time and peak memory of
  * eager: ``np.asarray(nib.load(path, mmap=False).dataobj)`` (the whole run read into
           memory as stored, int16: the cheapest eager load), and
  * lazy:  napari-milna's reader path (open, validate, classify, read volume 0 and
           build the napari layer tuple),
their ratios (goal: <= 0.05x the time, <= 0.1x the memory), and the time of random
volume access after the first (goal: < 50 ms for .nii.gz).

Peak memory is measured with tracemalloc (numpy and Python buffers), the same way for
both variants. Usage: ``python benchmarks/bench_open_run.py [--volumes 300]``.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import nibabel as nib
import numpy as np


def make_run(folder: Path, n_volumes: int) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    shape = (96, 96, 44)
    base = (rng.random(shape) * 800 + 200).astype(np.float32)
    data = np.empty(shape + (n_volumes,), np.int16)
    for t in range(n_volumes):
        data[..., t] = base + rng.normal(scale=20, size=shape)
    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    paths = {}
    for suffix in (".nii", ".nii.gz"):
        path = folder / f"sub-01_task-pain_bold{suffix}"
        nib.save(img, str(path))
        paths[suffix] = path
    return paths


def measure(fn):
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak


def eager(path: Path):
    return np.asarray(nib.load(str(path), mmap=False).dataobj)


def lazy(path: Path):
    from napari_milna._napari.layers import layer_tuple
    from napari_milna.core.io.geometry import DisplaySpace
    from napari_milna.core.io.nifti import load_volume

    data, kwargs, _ = layer_tuple(load_volume(path, allow_run=True), DisplaySpace.world())
    return data, np.asarray(data[0])


def random_access(path: Path, n: int = 25) -> tuple[float, float, float]:
    from napari_milna.core.io.nifti import open_nifti

    run = open_nifti(path).run()
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    run.volume(int(rng.integers(run.shape[0])))
    first = time.perf_counter() - t0
    # the viewer completes the gzip index in the background right after opening
    run.start_indexing()
    run.indexed.wait()
    times = []
    for t in rng.integers(run.shape[0], size=n):
        run._cache.clear()
        t0 = time.perf_counter()
        run.volume(int(t))
        times.append(time.perf_counter() - t0)
    return first, float(np.mean(times)), float(np.max(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=300)
    args = parser.parse_args()
    import napari_milna._napari.layers  # noqa: F401  (imports outside the timed region)

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_run(Path(tmp), args.volumes)
        print(f"run: 96 x 96 x 44 x {args.volumes} int16")
        print(f"{'file':8} {'eager s':>9} {'eager MB':>9} {'lazy s':>8} {'lazy MB':>8} "
              f"{'time ratio':>10} {'mem ratio':>9}")
        for suffix, path in paths.items():
            _, t_eager, m_eager = measure(lambda p=path: eager(p))
            _, t_lazy, m_lazy = measure(lambda p=path: lazy(p))
            print(
                f"{suffix:8} {t_eager:9.3f} {m_eager / 2**20:9.1f} {t_lazy:8.3f} "
                f"{m_lazy / 2**20:8.1f} {t_lazy / t_eager:10.4f} {m_lazy / m_eager:9.4f}"
            )
        for suffix, path in paths.items():
            first, mean, worst = random_access(path)
            print(
                f"random volume {suffix}: first {first * 1e3:.1f} ms; after the background "
                f"index, mean {mean * 1e3:.1f} ms, max {worst * 1e3:.1f} ms (uncached)"
            )


if __name__ == "__main__":
    main()
