"""Fixtures of the ROIs tab tests: a small MNI study on a 2.5 x 2.5 x 3 mm grid, no dialogs."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from napari_milna.widgets.roi import dialogs as roi_dialogs
from napari_milna.widgets.roi.dock import RoiWorkbench
from tests.conftest import make_affine, write_nifti

#: 2.5 x 2.5 x 3 mm RAS MNI grid over the brainstem; x = 0 is the centre of i = 20.
RAS_AFFINE = make_affine((2.5, 2.5, 3.0), (-50.0, -80.0, -70.0))
RAS_SHAPE = (41, 36, 28)
RAS_NAME = "sub-01_space-MNI152NLin2009cSym_stat-t_statmap.nii.gz"
VOXEL_MM3 = 2.5 * 2.5 * 3.0


def world_of(affine, ijk):
    return nib.affines.apply_affine(affine, np.asarray(ijk, dtype=float))


def centres(affine, shape):
    ijk = np.indices(shape).reshape(3, -1).T
    return world_of(affine, ijk).reshape(tuple(shape) + (3,))


def load(path):
    return np.asarray(nib.load(str(path)).dataobj)


@pytest.fixture(autouse=True)
def _dialogs_and_recovery(monkeypatch, tmp_path):
    """No modal dialog unless a test provides the answer; recovery copies in tmp_path."""
    monkeypatch.setenv("MILNA_RECOVERY_DIR", str(tmp_path / "recovery"))

    def unexpected(*args, **kwargs):
        raise AssertionError(f"unexpected dialog: {args[1:2]}")

    for name in ("ask_folder", "ask_save_file", "ask_open_files", "ask_overwrite"):
        monkeypatch.setattr(roi_dialogs, name, unexpected)
    monkeypatch.setattr(roi_dialogs, "ask_grid_mismatch", unexpected)
    monkeypatch.setattr(roi_dialogs, "ask_unsaved", lambda *a: "discard")


@pytest.fixture
def ras_study(tmp_path):
    """Stat map, CSF (same grid and a 2 mm grid), brain and coverage masks on the RAS grid."""
    world = centres(RAS_AFFINE, RAS_SHAPE)
    rng = np.random.default_rng(1)
    d_pag = np.linalg.norm(world - [0.5, -31.0, -9.0], axis=-1)
    stat = 8 * np.exp(-(d_pag**2) / (2 * 5.0**2)) + 0.3 * rng.normal(size=RAS_SHAPE)
    files = {
        "stat": write_nifti(
            tmp_path / RAS_NAME, stat.astype(np.float32), RAS_AFFINE, 4, "SPM{T_[14.0]} - pain"
        ),
        "csf": write_nifti(
            tmp_path / "sub-01_space-MNI152NLin2009cSym_label-CSF_probseg.nii.gz",
            rng.uniform(0, 0.7, RAS_SHAPE).astype(np.float32),
            RAS_AFFINE,
        ),
        "brain": write_nifti(
            tmp_path / "sub-01_space-MNI152NLin2009cSym_desc-brain_mask.nii.gz",
            (world[..., 0] <= 1.0).astype(np.uint8),
            RAS_AFFINE,
        ),
        "coverage": write_nifti(
            tmp_path / "mask.nii", (world[..., 2] > -41.5).astype(np.uint8), RAS_AFFINE
        ),
    }
    affine_2mm = make_affine((2.0, 2.0, 2.0), (-50.0, -80.0, -70.0))
    files["csf_2mm"] = write_nifti(
        tmp_path / "sub-01_space-MNI152NLin2009cSym_res-2_label-CSF_probseg.nii.gz",
        rng.uniform(0, 1, (51, 45, 42)).astype(np.float32),
        affine_2mm,
    )
    return files


@pytest.fixture
def workbench(make_napari_viewer):
    def make(*paths, show=False):
        viewer = make_napari_viewer(show=show)
        dock = RoiWorkbench(viewer)
        viewer.window.add_dock_widget(dock, name="ROI workbench")
        for path in paths:
            viewer.open(str(path), plugin="napari-milna")
        return viewer, dock

    return make


def seed(dock, region, variant=None):
    """Seed ``region`` as a user would: pick it in the seeding form, press Seed."""
    dock.seed.region.value = region
    if variant is not None:
        dock.seed.variant.value = variant
    dock.seed.seed_button.native.click()
