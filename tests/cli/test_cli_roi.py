import json

import nibabel as nib
import numpy as np
import pytest

from napari_milna.cli import main

# 2.5 x 2.5 x 3 mm RAS grid around the brainstem (x -30..30, y -60..0, z -60..15)
EPI_AFFINE = np.array(
    [[2.5, 0, 0, -30], [0, 2.5, 0, -60], [0, 0, 3, -60], [0, 0, 0, 1]], dtype=float
)
EPI_SHAPE = (25, 25, 26)
MNI_NAME = "sub-01_task-pain_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"


def _save(path, data, affine=EPI_AFFINE, code=4):
    img = nib.Nifti1Image(np.asarray(data), affine)
    img.header.set_sform(affine, code)
    img.header.set_qform(affine, code)
    nib.save(img, path)
    return path


def _world(affine=EPI_AFFINE, shape=EPI_SHAPE):
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    return ijk @ affine[:3, :3].T + affine[:3, 3]


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 and "--json" in argv else out), err


@pytest.fixture
def study(tmp_path):
    ref = _save(tmp_path / "spmT_0001.nii", np.zeros(EPI_SHAPE, np.float32))
    out = tmp_path / "rois"
    out.mkdir()
    return tmp_path, ref, out


def test_seed_pag_writes_the_roi_and_prints_its_facts(capsys, study):
    tmp_path, ref, out = study
    status, result, err = _run(
        capsys, "roi", "seed", "--region", "PAG", "--ref", str(ref), "--out", str(out), "--json"
    )
    assert status == 0, err
    path = out / "desc-PAG_mask.nii.gz"
    assert result["out"] == str(path)
    img = nib.load(path)
    mask = np.asanyarray(img.dataobj) > 0
    np.testing.assert_allclose(img.affine, EPI_AFFINE)
    assert result["n_voxels"] == int(mask.sum())
    assert result["volume_mm3"] == pytest.approx(mask.sum() * 2.5 * 2.5 * 3)
    centroid = _world()[mask].mean(axis=0)
    np.testing.assert_allclose(result["centroid_mm"], centroid, atol=1e-9)
    assert -37 <= centroid[1] <= -26 and -12 <= centroid[2] <= -5
    assert result["csf_fraction"] is None
    assert result["shape"] == "cylinder" and "Satpute" in result["citation"]
    assert result["mni_evidence"].startswith("sform_code 4")


def test_seed_rvm_with_csf_on_another_grid_drops_csf_voxels(capsys, study):
    tmp_path, ref, out = study
    # CSF map on a 1.25 mm grid: probability 0.9 for y > -36 mm (the anterior RVM half)
    fine_affine = np.array(
        [[1.25, 0, 0, -30.625], [0, 1.25, 0, -60.625], [0, 0, 1.5, -60.75], [0, 0, 0, 1]]
    )
    fine_shape = (50, 50, 52)
    csf = np.where(_world(fine_affine, fine_shape)[..., 1] > -36.0, 0.9, 0.05)
    csf_path = _save(
        tmp_path / "sub-01_label-CSF_probseg.nii.gz", csf.astype(np.float32), fine_affine
    )
    argv = ["roi", "seed", "--region", "RVM", "--ref", str(ref), "--out", str(out)]
    status, plain, _ = _run(capsys, *argv, "--name", "RVMall", "--json")
    assert status == 0
    status, result, err = _run(capsys, *argv, "--csf", str(csf_path), "--csf-max", "0.5", "--json")
    assert status == 0, err
    assert result["csf_resampled"] is True and "resampled" in result["csf_note"]
    mask = np.asanyarray(nib.load(out / "desc-RVM_mask.nii.gz").dataobj) > 0
    full = np.asanyarray(nib.load(out / "desc-RVMall_mask.nii.gz").dataobj) > 0
    y = _world()[..., 1]
    # trilinear CSF > 0.5 exactly where the EPI voxel centre lies anterior of y = -36
    np.testing.assert_array_equal(mask, full & ~(y > -36.0 + 1e-9))
    assert result["csf_removed"] == int(full.sum() - mask.sum()) > 0
    assert result["csf_fraction"] == pytest.approx(0.05, abs=1e-6)
    assert result["n_voxels"] == int(mask.sum())


def test_reference_without_mni_information_is_refused_then_confirmed(capsys, tmp_path):
    ref = _save(tmp_path / "sub-01_bold_mean.nii.gz", np.zeros(EPI_SHAPE, np.float32), code=1)
    out = tmp_path / "pag.nii.gz"
    argv = ["roi", "seed", "--region", "PAG", "--ref", str(ref), "--out", str(out), "--json"]
    status, _, err = _run(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and "sub-01_bold_mean.nii.gz" in err and "--assume-mni" in err
    assert not out.exists()
    status, result, _ = _run(capsys, *argv, "--assume-mni")
    assert status == 0 and out.exists()
    assert "confirmed by the user" in result["mni_evidence"]


def test_seed_outside_the_field_of_view_writes_nothing(capsys, tmp_path):
    slab = EPI_AFFINE.copy()
    slab[2, 3] = 30.0  # z 30..105 mm: far above the brainstem
    ref = _save(tmp_path / "wmeanfunc.nii", np.zeros(EPI_SHAPE, np.float32), slab, code=2)
    out = tmp_path / "rvm.nii.gz"
    status, _, err = _run(
        capsys, "roi", "seed", "--region", "RVM", "--ref", str(ref), "--out", str(out)
    )
    assert status == 2 and "outside the field of view" in err and err.count("\n") == 1
    assert not out.exists()


def test_no_silent_overwrite_and_csf_max_needs_csf(capsys, study):
    tmp_path, ref, out = study
    argv = ["roi", "seed", "--region", "PAG", "--ref", str(ref), "--out", str(out / "p.nii.gz")]
    assert _run(capsys, *argv)[0] == 0
    status, _, err = _run(capsys, *argv, "--shape", "sphere")
    assert status == 2 and "already exists" in err
    assert _run(capsys, *argv, "--shape", "sphere", "--overwrite")[0] == 0
    status, _, err = _run(capsys, *argv, "--csf-max", "0.3", "--overwrite")
    assert status == 2 and "--csf" in err
    status, _, err = _run(capsys, *argv, "--shape", "nrm", "--overwrite")
    assert status == 2 and "choose one of" in err


def test_info_on_a_mask_with_stat_and_csf(capsys, study):
    tmp_path, ref, out = study
    argv = ["roi", "seed", "--region", "PAG", "--ref", str(ref), "--out", str(out), "--json"]
    _, seeded, _ = _run(capsys, *argv)
    rng = np.random.default_rng(0)
    stat = rng.normal(size=EPI_SHAPE).astype(np.float32)
    csf = rng.uniform(size=EPI_SHAPE).astype(np.float32)
    stat_path = _save(tmp_path / "spmT_0002.nii", stat)
    csf_path = _save(tmp_path / "c3anat.nii", csf)
    status, info, err = _run(
        capsys,
        "roi",
        "info",
        seeded["out"],
        "--ref",
        str(ref),
        "--stat",
        str(stat_path),
        "--csf",
        str(csf_path),
        "--json",
    )
    assert status == 0, err
    mask = np.asanyarray(nib.load(seeded["out"]).dataobj) > 0
    assert info["kind"] == "mask" and info["name"] == "PAG"
    assert info["n_voxels"] == seeded["n_voxels"] == int(mask.sum())
    assert info["centroid_mm"] == seeded["centroid_mm"]
    assert info["csf_fraction"] == pytest.approx(float(csf[mask].mean()), rel=1e-6)
    assert info["csf_resampled"] is False
    assert info["stat_peak"] == pytest.approx(float(stat[mask].max()))
    peak = np.argwhere(mask & (stat == stat[mask].max()))[0]
    np.testing.assert_allclose(info["stat_peak_mm"], _world()[tuple(peak)])
    assert info["rois"][0]["name"] == "PAG" and len(info["rois"]) == 1


def test_info_on_a_dseg_lists_every_named_roi(capsys, study):
    tmp_path, ref, out = study
    labels = np.zeros(EPI_SHAPE, np.uint8)
    labels[10:12, 10:12, 10:12] = 1
    labels[3, 4, 5] = 2
    _save(tmp_path / "rois_dseg.nii.gz", labels)
    (tmp_path / "rois_dseg.tsv").write_text("index\tname\n1\tPAG\n2\tRVM\n3\tLC\n")
    status, info, err = _run(capsys, "roi", "info", str(tmp_path / "rois_dseg.nii.gz"), "--json")
    assert status == 0, err
    assert [r["name"] for r in info["rois"]] == ["PAG", "RVM", "LC"]
    assert [r["n_voxels"] for r in info["rois"]] == [8, 1, 0]
    assert info["rois"][2]["empty"] is True
    assert "n_voxels" not in info  # top-level facts only for a single mask


def test_info_mismatched_grid_empty_roi_and_stat_on_other_grid(capsys, study):
    tmp_path, ref, out = study
    fine = np.diag([1.25, 1.25, 1.5, 1.0])
    other = _save(tmp_path / "desc-PAG_mask.nii.gz", np.ones((8, 8, 8), np.uint8), fine)
    status, _, err = _run(capsys, "roi", "info", str(other), "--ref", str(ref))
    assert status == 2 and err.count("\n") == 1
    assert "desc-PAG_mask.nii.gz" in err and "spmT_0001.nii" in err and "resample" in err
    empty = _save(tmp_path / "desc-empty_mask.nii.gz", np.zeros(EPI_SHAPE, np.uint8))
    status, _, err = _run(capsys, "roi", "info", str(empty))
    assert status == 2 and "empty" in err
    mask = np.zeros(EPI_SHAPE, np.uint8)
    mask[5, 5, 5] = 1
    roi = _save(tmp_path / "desc-one_mask.nii.gz", mask)
    status, _, err = _run(capsys, "roi", "info", str(roi), "--stat", str(other))
    assert status == 2 and "statistical map" in err


def test_resample_moves_a_mask_onto_the_reference(capsys, study):
    tmp_path, ref, out = study
    fine_affine = np.array(
        [[1.25, 0, 0, -30.625], [0, 1.25, 0, -60.625], [0, 0, 1.5, -60.75], [0, 0, 0, 1]]
    )
    roi = np.zeros((50, 50, 52), np.uint8)
    roi[20:24, 20:24, 20:22] = 1  # exactly EPI voxels 10..11 x 10..11 x 10
    src = _save(tmp_path / "sub-01_desc-PAG_mask.nii.gz", roi, fine_affine)
    target = out / "moved_desc-PAG_mask.nii.gz"
    status, result, err = _run(
        capsys,
        "roi",
        "resample",
        str(src),
        "--ref",
        str(ref),
        "--out",
        str(target),
        "--method",
        "fraction",
        "--json",
    )
    assert status == 0, err
    assert result["resampled"] is True and result["rois"][0]["n_voxels"] == 4
    moved = np.asanyarray(nib.load(target).dataobj)
    assert np.argwhere(moved).tolist() == [[i, j, 10] for i in (10, 11) for j in (10, 11)]
    status, info, _ = _run(capsys, "roi", "info", str(target), "--ref", str(ref), "--json")
    assert status == 0 and info["name"] == "PAG"
