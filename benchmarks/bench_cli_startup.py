"""Start-up of the ``milna`` command against ``python -c "import numpy, nibabel"``.

Target (issue 10): ``milna --help`` within 2x the time of importing numpy and nibabel,
because the parser imports only argparse, the standard library and
``napari_milna.core.protocol``; ``milna info FILE`` imports nibabel and the NIfTI
reader only. Every command runs in a fresh interpreter (subprocess); the best of
several runs is reported. Run:

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _milna() -> list[str]:
    script = Path(sys.executable).with_name("milna")
    return [str(script)] if script.exists() else [sys.executable, "-m", "napari_milna.cli"]


def _best(cmd: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def _tiny_nifti(folder: Path) -> Path:
    import nibabel as nib
    import numpy as np

    path = folder / "sub-01_bold.nii.gz"
    data = np.zeros((8, 8, 6, 4), np.float32)
    nib.save(nib.Nifti1Image(data, np.diag([2.5, 2.5, 3.0, 1.0])), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (best is kept)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        image = _tiny_nifti(Path(tmp))
        baseline = _best([sys.executable, "-c", "import numpy, nibabel"], runs)
        bare = _best([sys.executable, "-c", "pass"], runs)
        help_s = _best(_milna() + ["--help"], runs)
        info_s = _best(_milna() + ["info", str(image), "--json"], runs)
    print(f"python -c pass               {bare * 1e3:7.1f} ms")
    print(f"import numpy, nibabel        {baseline * 1e3:7.1f} ms   (baseline)")
    print(f"milna --help                 {help_s * 1e3:7.1f} ms   ratio {help_s / baseline:.2f}"
          "   (target <= 2)")
    print(f"milna info FILE --json       {info_s * 1e3:7.1f} ms   ratio {info_s / baseline:.2f}")


if __name__ == "__main__":
    main()
