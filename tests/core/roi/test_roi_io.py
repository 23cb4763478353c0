import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.roi.io import (
    bids_roi_path,
    load_roi,
    read_dseg_tsv,
    save_roi_labels,
    save_roi_mask,
)

REF_NAME = "sub-01_task-pain_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"


def _oblique_las_affine():
    theta = np.deg2rad(15)
    rot = np.array(
        [[1, 0, 0], [0, np.cos(theta), -np.sin(theta)], [0, np.sin(theta), np.cos(theta)]]
    )
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag([-2.5, 2.5, 3.0])  # LAS, tilted about x
    aff[:3, 3] = [30.0, -55.0, -40.0]
    return aff


def _reference(path, affine, shape=(24, 26, 20), sform_code=4, qform_code=1):
    data = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    img = nib.Nifti1Image(data, affine)
    img.header.set_sform(affine, sform_code)
    img.header.set_qform(affine, qform_code)
    img.header["descrip"] = b"SPM{T_[20.0]} - pain"
    img.header.set_intent("t test", (20.0,))
    nib.save(img, path)
    return path


def _roi(shape, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=shape) > 0.8


@pytest.mark.parametrize("oblique", [True, False], ids=["oblique-LAS", "RAS"])
def test_mask_round_trip_is_voxel_exact_with_source_header(tmp_path, oblique):
    affine = _oblique_las_affine() if oblique else np.diag([2.5, 2.5, 3.0, 1.0])
    ref = _reference(tmp_path / "spmT_0001.nii", affine)
    roi = _roi((24, 26, 20))
    out = save_roi_mask(roi, ref, tmp_path / "sub-01_desc-PAG_mask.nii.gz", name="PAG")
    img = nib.load(out)
    ref_img = nib.load(ref)
    assert img.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), roi.astype(np.uint8))
    np.testing.assert_allclose(img.affine, ref_img.affine, atol=1e-6)
    np.testing.assert_allclose(img.get_sform(), ref_img.get_sform(), atol=1e-6)
    np.testing.assert_allclose(img.get_qform(), ref_img.get_qform(), atol=1e-5)
    assert int(img.header["sform_code"]) == 4 and int(img.header["qform_code"]) == 1
    assert img.header.get_intent()[0] == "none"
    back = load_roi(out, reference=ref)
    assert back.kind == "mask" and back.names == {1: "PAG"} and back.name == "PAG"
    np.testing.assert_array_equal(back.mask(), roi)
    assert back.resampled_from is None


def test_directory_target_gets_a_bids_derivative_name(tmp_path):
    ref = _reference(tmp_path / REF_NAME, np.diag([2.5, 2.5, 3.0, 1.0]))
    out = save_roi_mask(_roi((24, 26, 20)), ref, tmp_path, name="PAG")
    assert out.name == "sub-01_task-pain_space-MNI152NLin2009cAsym_desc-PAG_mask.nii.gz"
    assert bids_roi_path(ref, tmp_path, dseg=True).name == (
        "sub-01_task-pain_space-MNI152NLin2009cAsym_dseg.nii.gz"
    )


def test_no_silent_overwrite(tmp_path):
    ref = _reference(tmp_path / "ref.nii.gz", np.diag([2.5, 2.5, 3.0, 1.0]))
    target = tmp_path / "desc-PAG_mask.nii.gz"
    save_roi_mask(_roi((24, 26, 20), 1), ref, target)
    with pytest.raises(MilnaInputError, match="already exists"):
        save_roi_mask(_roi((24, 26, 20), 2), ref, target)
    np.testing.assert_array_equal(load_roi(target).mask(), _roi((24, 26, 20), 1))
    save_roi_mask(_roi((24, 26, 20), 2), ref, target, overwrite=True)
    np.testing.assert_array_equal(load_roi(target).mask(), _roi((24, 26, 20), 2))


def test_labels_round_trip_with_dseg_tsv_on_oblique_grid(tmp_path):
    ref = _reference(tmp_path / REF_NAME, _oblique_las_affine())
    labels = np.zeros((24, 26, 20), np.int32)
    labels[_roi(labels.shape, 3)] = 1
    labels[2:5, 3:6, 4:7] = 2
    nii, tsv = save_roi_labels(labels, {1: "PAG", 2: "RVM", 3: "LC"}, ref, tmp_path)
    assert nii.name.endswith("_dseg.nii.gz") and tsv.name.endswith("_dseg.tsv")
    assert tsv.read_text() == "index\tname\n1\tPAG\n2\tRVM\n3\tLC\n"
    img = nib.load(nii)
    assert img.get_data_dtype() == np.uint8
    assert img.header.get_intent()[0] == "label"
    np.testing.assert_allclose(img.affine, nib.load(ref).affine, atol=1e-6)
    back = load_roi(nii, reference=ref)
    assert back.kind == "dseg" and back.names == {1: "PAG", 2: "RVM", 3: "LC"}
    np.testing.assert_array_equal(back.labels, labels)
    with pytest.raises(MilnaInputError, match="already exists"):
        save_roi_labels(labels, {1: "PAG"}, ref, nii)


def test_many_labels_are_saved_as_int16(tmp_path):
    ref = _reference(tmp_path / "ref.nii.gz", np.diag([2.5, 2.5, 3.0, 1.0]))
    labels = np.zeros((24, 26, 20), np.int32)
    labels[1, 1, 1], labels[3, 3, 3] = 300, 7
    nii, _ = save_roi_labels(labels, {300: "far", 7: "near"}, ref, tmp_path / "all_dseg")
    assert nii.name == "all_dseg.nii.gz"
    assert nib.load(nii).get_data_dtype() == np.int16
    back = load_roi(nii)
    assert back.names == {7: "near", 300: "far"}
    np.testing.assert_array_equal(back.labels, labels)


def test_dseg_tsv_with_extra_columns_and_a_missing_tsv_is_refused(tmp_path):
    ref = _reference(tmp_path / "ref.nii.gz", np.diag([2.5, 2.5, 3.0, 1.0]))
    nii = tmp_path / "x_dseg.nii.gz"
    table = "index\tname\tabbreviation\n1\tPeriaqueductal gray\tPAG\n"
    (tmp_path / "x_dseg.tsv").write_text(table)
    with pytest.raises(MilnaInputError, match="already exists"):
        save_roi_labels(np.ones((24, 26, 20), int), {1: "PAG"}, ref, nii)
    assert not nii.exists()
    assert read_dseg_tsv(tmp_path / "x_dseg.tsv") == {1: "Periaqueductal gray"}
    (tmp_path / "bad.tsv").write_text("id\tlabel\n1\tPAG\n")
    with pytest.raises(MilnaInputError, match="index and name"):
        read_dseg_tsv(tmp_path / "bad.tsv")


def test_mismatched_grid_names_both_files_and_resampling_is_explicit(tmp_path):
    ref = _reference(tmp_path / "ref_epi.nii.gz", np.diag([2.5, 2.5, 3.0, 1.0]))
    fine = np.diag([1.25, 1.25, 1.5, 1.0])
    other = _reference(tmp_path / "other_t1w.nii.gz", fine, (48, 52, 40))
    roi = np.zeros((48, 52, 40), bool)
    roi[10:14, 10:14, 10:12] = True  # 5 x 5 x 3 mm box from 11.875 / 14.25 mm
    path = save_roi_mask(roi, other, tmp_path / "desc-PAG_mask.nii.gz")
    with pytest.raises(MilnaInputError) as info:
        load_roi(path, reference=ref)
    message = str(info.value)
    assert "desc-PAG_mask.nii.gz" in message and "ref_epi.nii.gz" in message
    assert "resample" in message and message.count(".") >= 1
    moved = load_roi(path, reference=open_nifti(ref), resample="fraction")
    assert moved.resampled_from is not None and moved.grid.matches(open_nifti(ref).grid)
    # in-plane the box covers EPI voxel 5 (11.25..13.75 mm) by 75%, voxel 6 fully, voxel 7 by
    # 25%; along z it covers slice 5 (13.5..16.5 mm) by 75% and slice 6 by 25%
    assert np.argwhere(moved.labels).tolist() == [[i, j, 5] for i in (5, 6) for j in (5, 6)]


def test_non_integer_or_4d_files_are_not_rois(tmp_path):
    aff = np.diag([2.5, 2.5, 3.0, 1.0])
    half = np.zeros((4, 4, 4), np.float32)
    half[1, 1, 1] = 0.5
    nib.save(nib.Nifti1Image(half, aff), tmp_path / "half.nii.gz")
    with pytest.raises(MilnaInputError, match="non-integer"):
        load_roi(tmp_path / "half.nii.gz")
    ones = np.zeros((4, 4, 4), np.float32)
    ones[1, 1, 1] = 1.0
    nib.save(nib.Nifti1Image(ones, aff), tmp_path / "fsl_mask.nii.gz")
    loaded = load_roi(tmp_path / "fsl_mask.nii.gz")
    assert loaded.kind == "mask" and loaded.name == "fsl_mask" and loaded.labels.sum() == 1
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4, 3), np.uint8), aff), tmp_path / "run.nii.gz")
    with pytest.raises(MilnaInputError, match="4D"):
        load_roi(tmp_path / "run.nii.gz")


def test_reference_as_grid_is_accepted(tmp_path):
    ref = _reference(tmp_path / "ref.nii.gz", np.diag([2.5, 2.5, 3.0, 1.0]))
    path = save_roi_mask(_roi((24, 26, 20)), ref, tmp_path / "m.nii.gz")
    grid = Grid((24, 26, 20), np.diag([2.5, 2.5, 3.0, 1.0]))
    assert load_roi(path, reference=grid).grid.matches(grid)
