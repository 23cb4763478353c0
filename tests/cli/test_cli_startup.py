"""``milna --help`` builds every sub-parser without the scientific stack (start-up time)."""

import subprocess
import sys

HEAVY = ("numpy", "scipy", "pandas", "nibabel", "nilearn", "skimage", "dask", "napari", "qtpy")

PROBE = """
import sys
from napari_milna.cli import build_parser
import napari_milna
build_parser().format_help()
heavy = {heavy!r}
print(",".join(m for m in heavy if m in sys.modules))
"""


def test_parser_and_package_import_no_scientific_stack():
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        check=True, capture_output=True, text=True,
    )
    assert out.stdout.strip() == ""


def test_help_lists_every_subcommand():
    out = subprocess.run(
        [sys.executable, "-m", "napari_milna.cli", "--help"],
        check=True, capture_output=True, text=True,
    )
    for name in ("connectivity", "crossover", "glm", "info", "motion", "perm", "qc",
                 "retroicor", "roi", "sample", "svc", "view"):
        assert name in out.stdout
