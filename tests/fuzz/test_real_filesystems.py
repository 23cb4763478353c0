"""Writes onto a real read-only file system and a real full disk (tmpfs in a private mount
namespace, so nothing is mounted for anyone else). Skipped where mounting is not allowed;
the emulated faults of ``test_cli_fuzz.py`` cover every writing command everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _in_namespace(mount: str, folder: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """Mount a tmpfs on ``folder`` (``mount`` is its options plus set-up commands), run
    ``milna ARGV`` there, then list what is left on the tmpfs (after a ``--`` line)."""
    script = (f"{mount} && {sys.executable} -m napari_milna.cli \"$@\"; status=$?; "
              f"echo --; ls -A {folder}; exit $status")
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "milna", *map(str, argv)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory):
    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    probe = tmp_path_factory.mktemp("probe")
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs tmpfs {probe}"],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here")


@pytest.mark.parametrize("fs", ["read-only", "full"])
def test_writing_on_a_real_file_system(fs, can_mount, good, tmp_path):
    folder = tmp_path / "mnt"
    folder.mkdir()
    if fs == "read-only":
        mount = f"mount -t tmpfs -o ro tmpfs {folder}"
        words = "read-only file system"
    else:
        mount = (f"mount -t tmpfs -o size=64k tmpfs {folder} && "
                 f"(head -c 1000000 /dev/zero > {folder}/filler 2>/dev/null; true)")
        words = "disk full"
    # a NIfTI writer on one, a table writer on the other (both go through core.io.atomic)
    argv = (["roi", "seed", "--region", "PAG", "--ref", good.ref, "--assume-mni", "--out",
             folder / "pag_mask.nii.gz"] if fs == "read-only" else
            ["retroicor", good.physio, "--tr", "2", "--n-volumes", "40", "--out",
             folder / "retro.tsv"])
    done = _in_namespace(mount, folder, argv)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and words in lines[0] and str(folder) in lines[0], lines
    left = done.stdout.split("--\n", 1)[1].split()
    assert left == ([] if fs == "read-only" else ["filler"]), left
