"""``milna multiecho`` on 3 echoes of 96 x 96 x 44 x 300 int16: memory and time against tedana.

Writes three synthetic echoes (``.nii.gz``, int16, TE 13 / 30 / 47 ms, a two-compartment
phantom with Rician noise) to a temporary folder, then runs, each in a fresh process:

* ``milna multiecho`` (this package: streamed temporal means, tedana's fit on them,
  ``make_optcom`` chunk by chunk, the combined run written as it is computed, QC);
* tedana's ``t2smap`` workflow on the same files (loads the echoes whole, fits every
  volume, writes its maps and the combined run);
* a baseline process that only imports what ``milna multiecho`` imports.

Printed: peak resident memory of each (``ru_maxrss``), the part above the import
baseline, and both against one echo loaded whole as float32; the wall times and their
ratio; and how far the two T2* maps agree. Run: ``python benchmarks/bench_multiecho.py``
(``--volumes 60`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (96, 96, 44)
TE_MS = (13.0, 30.0, 47.0)

WORKER = r"""
import json, resource, sys, time
kind, args = sys.argv[1], json.loads(sys.argv[2])
start = time.perf_counter()
if kind == "baseline":
    import tedana.combine, tedana.decay, tedana.utils  # noqa: F401
    import nilearn.masking  # noqa: F401
    from napari_milna.cli import main  # noqa: F401
    from napari_milna.core.multiecho import combine  # noqa: F401
    from napari_milna.core.qc import coverage  # noqa: F401
elif kind == "milna":
    from napari_milna.cli import main
    status = main(["multiecho", *args["echoes"], "--out", args["out"], "--json"])
    assert status == 0
elif kind == "tedana":
    import logging
    logging.disable(logging.WARNING)
    from tedana.workflows import t2smap_workflow
    t2smap_workflow(args["echoes"], args["te"], out_dir=args["out"])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_echoes(folder: Path, n_volumes: int) -> list[str]:
    """Three int16 echoes written volume chunk by volume chunk (never held whole)."""
    import nibabel as nib

    from napari_milna.core.io.nifti_write import save_run_like

    rng = np.random.default_rng(0)
    i, j, k = np.indices(SHAPE)
    brain = ((i - 48) / 40) ** 2 + ((j - 48) / 44) ** 2 + ((k - 22) / 20) ** 2 < 1
    t2s = np.where(j < 30, 20.0, 48.0)
    s0 = np.where(brain, 1600.0, 0.0)
    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    template = nib.Nifti1Image(np.zeros(SHAPE, np.int16), affine)
    template.header.set_xyzt_units("mm", "sec")
    template.header.set_zooms((2.5, 2.5, 3.0))
    paths = []
    for e, te in enumerate(TE_MS, start=1):
        signal = (s0 * np.exp(-te / t2s)).astype(np.float32)

        def chunks(signal=signal):
            for start in range(0, n_volumes, 10):
                n = min(10, n_volumes - start)
                re = signal[..., None] + rng.normal(0, 8, SHAPE + (n,)).astype(np.float32)
                im = rng.normal(0, 8, SHAPE + (n,)).astype(np.float32)
                yield np.rint(np.hypot(re, im)).astype(np.int16)

        img4d = nib.Nifti1Image(np.zeros(SHAPE + (1,), np.int16), affine,
                                header=template.header)
        img4d.header["pixdim"][4] = 2.0
        path = folder / f"sub-01_task-rest_echo-{e}_bold.nii.gz"
        save_run_like(chunks(), img4d, path, n_volumes=n_volumes, dtype=np.int16)
        (folder / f"sub-01_task-rest_echo-{e}_bold.json").write_text(
            json.dumps({"EchoTime": te / 1000.0, "RepetitionTime": 2.0}))
        paths.append(str(path))
    return paths


def run(kind: str, args: dict, extra_path: str | None = None) -> dict:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra_path, env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", WORKER, kind, json.dumps(args)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="milna multiecho vs tedana t2smap")
    parser.add_argument("--volumes", type=int, default=300)
    parser.add_argument("--extra-path", help="folder added to tedana's PYTHONPATH: its report "
                        "step imports six (pybtex-apa-style's undeclared dependency), e.g. "
                        "after pip install --target DIR six")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="milna-bench-me-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        echoes = write_echoes(tmp, options.volumes)
        print(f"wrote 3 echoes of {'x'.join(map(str, SHAPE))}x{options.volumes} int16 in "
              f"{time.perf_counter() - start:.1f} s")
        (tmp / "milna").mkdir()
        (tmp / "tedana").mkdir()
        base = run("baseline", {})
        ours = run("milna", {"echoes": echoes, "out": str(tmp / "milna")})
        theirs = run("tedana", {"echoes": echoes, "te": list(TE_MS), "out": str(tmp / "tedana")},
                     options.extra_path)
        one_echo_mb = np.prod(SHAPE) * options.volumes * 4 / 2**20
        print(f"one echo loaded whole as float32: {one_echo_mb:.0f} MiB")
        print(f"import baseline: peak RSS {base['maxrss_mb']:.0f} MiB")
        for name, r in (("milna multiecho", ours), ("tedana t2smap", theirs)):
            extra = r["maxrss_mb"] - base["maxrss_mb"]
            print(f"{name}: {r['seconds']:.1f} s, peak RSS {r['maxrss_mb']:.0f} MiB "
                  f"({r['maxrss_mb'] / one_echo_mb:.2f} x one echo), above imports {extra:.0f} "
                  f"MiB ({extra / one_echo_mb:.2f} x one echo)")
        print(f"time ratio milna / tedana: {ours['seconds'] / theirs['seconds']:.2f}")
        print(f"peak memory ratio milna / tedana: {ours['maxrss_mb'] / theirs['maxrss_mb']:.2f}")
        import nibabel as nib

        mine = nib.load(next((tmp / "milna").glob("*_T2starmap.nii.gz"))).get_fdata()
        ted = nib.load(next((tmp / "tedana").glob("*T2starmap.nii.gz"))).get_fdata()
        both = (mine > 0) & (ted > 0)
        rel = np.abs(mine[both] / ted[both] - 1)
        print(f"T2* (time-mean fit) vs tedana (all-volume fit): median |rel diff| "
              f"{np.median(rel):.2e}, 99th percentile {np.percentile(rel, 99):.2e} over "
              f"{both.sum()} voxels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
