"""Shared fixtures: small synthetic NIfTI files with known geometry."""

from __future__ import annotations

import gc
import gzip

import nibabel as nib
import numpy as np
import pytest
from scipy.spatial.transform import Rotation


@pytest.fixture(autouse=True)
def _freeze_what_survives_a_viewer_test(request):
    """After a test with a napari viewer: collect, then freeze what survives.

    napari's ``make_napari_viewer`` ends each test with a full garbage collection (the
    closed viewer's Qt objects live in reference cycles), and a full collection walks
    every object alive: the modules and caches of napari, vispy, nilearn, scikit-learn.
    Frozen (``gc.freeze``), those survivors are left out of the next tests' collections,
    which then walk only what a test made. Nothing a test checks changes; garbage is
    collected before it could be frozen.
    """
    yield
    if "make_napari_viewer" in request.fixturenames:
        gc.collect()
        gc.freeze()


def make_affine(zooms, origin, flip_x=False, rotation_deg=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Voxel -> world affine from voxel sizes, origin, optional x flip and Euler rotation."""
    scale = np.diag(np.asarray(zooms, dtype=float) * np.array([-1 if flip_x else 1, 1, 1]))
    rot = Rotation.from_euler("xyz", rotation_deg, degrees=True).as_matrix()
    affine = np.eye(4)
    affine[:3, :3] = rot @ scale
    affine[:3, 3] = origin
    return affine


def write_nifti(path, data, affine, code=4, description=None, tr=None):
    """Write a NIfTI-1 image with sform and qform set to ``affine`` and ``code``."""
    img = nib.Nifti1Image(np.asarray(data), affine)
    img.header.set_sform(affine, code)
    img.header.set_qform(affine, code)
    img.header.set_xyzt_units("mm", "sec")
    if tr is not None:
        zooms = list(img.header.get_zooms())
        zooms[3] = tr
        img.header.set_zooms(zooms)
    if description:
        img.header["descrip"] = description.encode()
    nib.save(img, str(path))
    return path


@pytest.fixture
def las_mni_affine():
    """3 mm LAS MNI grid, as SPM writes (x flipped)."""
    return make_affine((3, 3, 3), (90.0, -126.0, -72.0), flip_x=True)


@pytest.fixture
def oblique_las_affine():
    """An oblique LAS EPI slab: 2.5 x 2.5 x 3 mm tilted 15 deg about x and 5 deg about z."""
    return make_affine((2.5, 2.5, 3.0), (80.0, -95.0, -30.0), flip_x=True, rotation_deg=(15, 0, 5))


@pytest.fixture
def spm_tmap(tmp_path, las_mni_affine):
    """An SPM T map (df 20 in the header) on a 3 mm LAS grid with a blob at voxel (30, 30, 26)."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(61, 73, 61)).astype(np.float32)
    data[30, 30, 26] = 9.0
    data[0, 0, 0] = np.nan
    return write_nifti(
        tmp_path / "spmT_0001.nii", data, las_mni_affine, 4, "SPM{T_[20.0]} - contrast 1: pain"
    )


@pytest.fixture
def epi_run(tmp_path):
    """A 4D int16 run (2.5 x 2.5 x 3 mm RAS, 12 volumes) as .nii.gz; value = 100 * t + k."""
    affine = make_affine((2.5, 2.5, 3.0), (-40.0, -50.0, -30.0))
    t = np.arange(12)
    data = np.zeros((32, 40, 20, 12), np.int16)
    data += (100 * t)[None, None, None, :].astype(np.int16)
    data += np.arange(20, dtype=np.int16)[None, None, :, None]
    return write_nifti(
        tmp_path / "sub-01_task-pain_desc-preproc_bold.nii.gz", data, affine, 4, tr=2.0
    )


@pytest.fixture
def oblique_epi(tmp_path, oblique_las_affine):
    """A 4D oblique LAS EPI (.nii) with scanner sform code 1; value = i + 10 j + 100 k."""
    i, j, k = np.indices((24, 28, 16))
    vol = (i + 10 * j + 100 * k).astype(np.int16)
    data = np.repeat(vol[..., None], 5, axis=3)
    return write_nifti(tmp_path / "sub-01_task-rest_bold.nii", data, oblique_las_affine, 1, tr=2.5)


@pytest.fixture
def bad_files(tmp_path):
    """A dict of files that must be refused with one clear sentence."""
    files = {}
    text = tmp_path / "notes.nii"
    text.write_text("this is not an image\n")
    files["not_nifti"] = text
    good = tmp_path / "good.nii.gz"
    write_nifti(good, np.ones((20, 20, 20, 4), np.float32), np.eye(4))
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.nii.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    files["truncated_gz"] = truncated
    # A header that claims an absurd size: 30000^3 float32 voxels, in a tiny file.
    absurd = tmp_path / "absurd.nii"
    img = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    hdr = img.header.copy()
    hdr.set_data_shape((30000, 30000, 30000))
    with open(absurd, "wb") as fh:
        fh.write(hdr.binaryblock)
        fh.write(b"\x00" * (352 - len(hdr.binaryblock)))
        fh.write(b"\x00" * 64)
    files["absurd_dims"] = absurd
    absurd_gz = tmp_path / "absurd.nii.gz"
    absurd_gz.write_bytes(gzip.compress(absurd.read_bytes()))
    files["absurd_dims_gz"] = absurd_gz
    two_d = tmp_path / "slice.nii"
    write_nifti(two_d, np.ones((10, 10), np.float32), np.eye(4))
    files["two_d"] = two_d
    five_d = tmp_path / "field.nii"
    write_nifti(five_d, np.ones((4, 4, 4, 2, 3), np.float32), np.eye(4))
    files["five_d"] = five_d
    nan_map = tmp_path / "zstat1.nii.gz"
    write_nifti(nan_map, np.full((8, 8, 8), np.nan, np.float32), np.eye(4))
    files["all_nan"] = nan_map
    short = tmp_path / "short.nii"
    write_nifti(short, np.ones((20, 20, 20), np.float32), np.eye(4))
    short.write_bytes(short.read_bytes()[:1000])
    files["truncated_nii"] = short
    return files
