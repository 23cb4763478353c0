"""``milna analysis`` and folder-backed ``milna svc`` on SPM and FEAT folders, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from napari_milna.cli import main
from tests.core.analysis.folders import FWHM_MM, N_SUBJECTS, spm_folder

REAL = Path(__file__).parents[1] / "data" / "fslpy_feat" / "2ndlevel_realdata.gfeat"
COPE1 = REAL / "cope1.feat"


def run_json(capsys, argv):
    status = main(argv + ["--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def run_error(capsys, argv):
    status = main(argv + ["--json"])
    captured = capsys.readouterr()
    assert status == 2, captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.fixture
def spm(tmp_path):
    info = spm_folder(tmp_path / "spm")
    box = np.zeros(info["mask"].shape, np.uint8)
    box[4:12, 4:14, 3:11] = 1
    nib.save(nib.Nifti1Image(box, nib.load(tmp_path / "spm" / "mask.nii").affine),
             tmp_path / "roi.nii.gz")
    return dict(info, roi=tmp_path / "roi.nii.gz")


def test_analysis_spm_json(spm, capsys):
    out = run_json(capsys, ["analysis", str(spm["folder"])])
    assert out["kind"] == "spm"
    (c,) = out["contrasts"]
    assert c["name"] == "drug x pain" and c["stat_type"] == "T" and c["df"] == N_SUBJECTS - 1
    assert c["path"].endswith("spmT_0001.nii") and c["mask"].endswith("mask.nii")
    np.testing.assert_allclose(c["fwhm_mm"], [FWHM_MM] * 3)
    assert c["smoothness_source"] == "SPM.mat xVol.FWHM"


def test_analysis_feat_json_voxelwise_df(capsys):
    out = run_json(capsys, ["analysis", str(REAL)])
    assert out["kind"] == "feat"
    (c,) = out["contrasts"]
    assert c["df"] == "voxelwise" and c["df_min"] == 122.0 and c["df_max"] == 122.0
    assert c["smoothness_source"] == "FEAT stats/smoothness"
    assert c["name"] == "cope1: group mean"


def test_svc_spm_folder_without_fwhm(spm, capsys):
    out = run_json(capsys, ["svc", str(spm["folder"] / "spmT_0001.nii"), str(spm["roi"])])
    np.testing.assert_allclose(out["fwhm_mm"], [FWHM_MM] * 3)
    assert out["smoothness_source"] == "SPM.mat xVol.FWHM"
    assert out["df"] == N_SUBJECTS - 1 and out["df_source"] == "SPM.mat xX.erdf"
    assert out["files"]["mask"].endswith("mask.nii")
    assert out["cluster_level"]["extent_method"] == "non-stationary"  # the folder's RPV.nii
    assert set(out["set_level"]) == {"c", "p"}
    # an explicit option wins; the folder then does not give the smoothness
    typed = run_json(capsys, ["svc", str(spm["folder"] / "spmT_0001.nii"), str(spm["roi"]),
                              "--fwhm", "8", "--stationary"])
    np.testing.assert_allclose(typed["fwhm_mm"], [8.0] * 3)
    assert typed["smoothness_source"] == "fwhm_mm"
    assert typed["cluster_level"]["extent_method"] == "stationary"
    # the folder itself with a contrast number is the same map
    same = run_json(capsys, ["svc", str(spm["folder"]), str(spm["roi"]), "--contrast", "1"])
    assert same["peak"] == out["peak"]


def test_svc_real_feat_tstat_peak_z_equals_fsl_zstat(capsys):
    """fslpy's fixed-effects FEAT: t 15.43 with tdof_t1 = 122 is FSL's z 11.47, not 2.87."""
    out = run_json(capsys, ["svc", str(COPE1 / "stats" / "tstat1.nii.gz"),
                            str(COPE1 / "mask.nii.gz")])
    fsl_z = nib.load(COPE1 / "stats" / "zstat1.nii.gz").get_fdata()
    ijk = tuple(out["peak"]["ijk"])
    assert out["peak"]["z"] == pytest.approx(fsl_z[ijk], abs=1e-3)
    assert out["peak"]["z"] > 11.4
    assert out["df"] == "voxelwise" and out["df_min"] == 122.0
    assert out["smoothness_source"] == "FEAT stats/smoothness"
    assert out["converted_from"] == "T" and out["stat_type"] == "Z"
    # SPM's table: up to 3 maxima per cluster, strongest first, more than 8 mm apart, each a
    # local maximum of FSL's z map over its 18 neighbours (scipy, not the code under test)
    from scipy import ndimage

    inside = nib.load(COPE1 / "mask.nii.gz").get_fdata() > 0
    zz = np.where(inside, fsl_z, -np.inf)
    footprint = ndimage.generate_binary_structure(3, 2)
    local_max = zz >= ndimage.maximum_filter(zz, footprint=footprint, mode="constant",
                                             cval=-np.inf)
    first = out["clusters"][0]
    maxima = first["maxima"]
    assert len(maxima) == 3 and maxima[0] == first["peak"]
    assert [m["z"] for m in maxima] == sorted((m["z"] for m in maxima), reverse=True)
    xyz = np.array([m["xyz_mm"] for m in maxima])
    gaps = np.sqrt(((xyz[:, None] - xyz[None]) ** 2).sum(-1))[np.triu_indices(3, 1)]
    assert gaps.min() > 8.0
    for m in maxima:
        assert local_max[tuple(m["ijk"])]
        assert m["z"] == pytest.approx(fsl_z[tuple(m["ijk"])], abs=1e-3)
    zs = run_json(capsys, ["svc", str(COPE1 / "stats" / "zstat1.nii.gz"),
                           str(COPE1 / "mask.nii.gz")])
    assert zs["peak"]["z"] == pytest.approx(out["peak"]["z"], abs=1e-3)
    assert zs["peak"]["p_fwe"] == pytest.approx(out["peak"]["p_fwe"], rel=1e-2)


def test_bad_inputs(spm, tmp_path, capsys):
    # a folder that looks like SPM's but lacks SPM.mat
    copy = tmp_path / "nospm"
    shutil.copytree(spm["folder"], copy)
    (copy / "SPM.mat").unlink()
    msg = run_error(capsys, ["analysis", str(copy)])
    assert "has no SPM.mat although it holds" in msg and str(copy) in msg
    # an SPM.mat that is not one
    (copy / "SPM.mat").write_text("not matlab")
    msg = run_error(capsys, ["analysis", str(copy)])
    assert "SPM.mat: is not a MATLAB MAT file" in msg
    # a FEAT folder without stats/
    (tmp_path / "run.feat").mkdir()
    assert "has no stats/ folder" in run_error(capsys, ["analysis", str(tmp_path / "run.feat")])
    # a contrast index out of range
    msg = run_error(capsys, ["analysis", str(spm["folder"]), "--contrast", "7"])
    assert "SPM.mat: has no contrast 7 (contrasts: 1)" in msg
    msg = run_error(capsys, ["svc", str(spm["folder"]), str(spm["roi"]), "--contrast", "2"])
    assert "has no contrast 2" in msg
    # a FEAT folder without smoothness
    feat = tmp_path / "copy.feat"
    shutil.copytree(COPE1, feat)
    (feat / "stats" / "smoothness").unlink()
    msg = run_error(capsys, ["svc", str(feat / "stats" / "tstat1.nii.gz"),
                             str(feat / "mask.nii.gz")])
    assert "stats/smoothness: does not exist" in msg and "--fwhm" in msg
    # voxelwise df on a T map given to RFT as a T map, without its z map
    msg = run_error(capsys, ["svc", str(COPE1 / "stats" / "tstat1.nii.gz"),
                             str(COPE1 / "mask.nii.gz"), "--type", "t"])
    assert "voxelwise degrees of freedom" in msg and "zstat1" in msg
    # a plain map with no folder and no smoothness option
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(spm["folder"] / "spmT_0001.nii", plain / "spmT_0001.nii")
    msg = run_error(capsys, ["svc", str(plain / "spmT_0001.nii"), str(spm["roi"])])
    assert "lies in no SPM or FEAT folder" in msg and "--fwhm" in msg
