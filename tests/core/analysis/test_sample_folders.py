"""The sample study's second level as an SPM folder and a FEAT folder, opened offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from napari_milna.sample_data import ensure_sample_study
from scipy import io as sio

from napari_milna.cli import main
from napari_milna.core.svc.resels import resel_counts


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    env = os.environ.get("MILNA_SAMPLE_DIR")
    root = Path(env) if env else tmp_path_factory.getbasetemp() / "milna-sample-study"
    return ensure_sample_study(root)


def run_json(capsys, argv):
    status = main(argv + ["--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def pag_label(study) -> int:
    return next(r["label"] for r in study.truth["regions"] if r["name"] == "PAG")


def test_spm_mat_has_spm12_structure(study):
    m = sio.loadmat(str(study.group_spm_mat), squeeze_me=True, struct_as_record=False)
    spm = m["SPM"]
    zooms = np.array(study.truth["grid"]["voxel_size_mm"])
    fwhm_mm = np.array(study.truth["crossover"]["fwhm_mm"])
    np.testing.assert_allclose(spm.xVol.FWHM, fwhm_mm / zooms)
    assert spm.xX.erdf == study.truth["crossover"]["df"]
    assert spm.xCon.name == "drug x pain interaction" and spm.xCon.STAT == "T"
    assert spm.xCon.Vspm.fname == "spmT_0001.nii" and spm.xCon.Vcon.fname == "con_0001.nii"
    mask = nib.load(study.group_mask).get_fdata() > 0
    assert spm.xVol.S == mask.sum()
    np.testing.assert_allclose(spm.xVol.R, resel_counts(mask, fwhm_mm / zooms))
    aff = np.array(study.truth["grid"]["affine"])
    np.testing.assert_allclose(spm.xVol.M @ [1, 1, 1, 1], aff @ [0, 0, 0, 1])
    # RPV of a stationary field, NaN outside the mask as SPM writes it
    rpv = nib.load(study.group_rpv).get_fdata()
    np.testing.assert_allclose(rpv[mask], 1 / np.prod(fwhm_mm / zooms), rtol=1e-6)
    assert np.isnan(rpv[~mask]).all()
    # ResMS is the residual variance: t = con / sqrt(ResMS / n) with the generator's t map
    n = study.truth["crossover"]["n_subjects"]
    t = nib.load(study.group_tmap).get_fdata()
    con = nib.load(study.group_con).get_fdata()
    resms = nib.load(study.group_resms).get_fdata()
    ok = mask & (resms > 0)
    np.testing.assert_allclose(t[ok], con[ok] / np.sqrt(resms[ok] / n), rtol=2e-5, atol=1e-5)


def test_milna_analysis_on_both_folders(study, capsys):
    spm = run_json(capsys, ["analysis", str(study.group_spm_mat.parent)])
    assert spm["kind"] == "spm"
    (c,) = spm["contrasts"]
    np.testing.assert_allclose(c["fwhm_mm"], study.truth["crossover"]["fwhm_mm"])
    assert c["smoothness_source"] == "SPM.mat xVol.FWHM" and c["df"] == 14.0
    assert spm["rpv"].endswith("RPV.nii") and spm["resms"].endswith("ResMS.nii")
    feat = run_json(capsys, ["analysis", str(study.group_feat_dir)])
    assert feat["kind"] == "feat"
    (f,) = feat["contrasts"]
    assert f["df"] == "voxelwise" and f["df_min"] == f["df_max"] == 14.0
    assert f["smoothness_source"] == "FEAT stats/smoothness"


def test_svc_on_the_sample_spmT_without_fwhm(study, capsys):
    args = ["svc", str(study.group_tmap), str(study.regions_dseg), "--label",
            str(pag_label(study))]
    out = run_json(capsys, args)
    np.testing.assert_allclose(out["fwhm_mm"], study.truth["crossover"]["fwhm_mm"])
    assert out["smoothness_source"] == "SPM.mat xVol.FWHM"
    assert out["df"] == 14.0 and out["files"]["mask"].endswith("mask.nii")
    # the same numbers as typing what SPM.mat holds
    typed = run_json(capsys, args + ["--fwhm", "6", "--df", "14", "--mask",
                                     str(study.group_mask), "--rpv", str(study.group_rpv)])
    assert typed["peak"] == out["peak"]
    assert typed["set_level"] == out["set_level"]


def test_svc_on_the_sample_feat_tstat_is_its_zstat(study, capsys):
    stats_dir = study.group_feat_dir / "stats"
    out = run_json(capsys, ["svc", str(stats_dir / "tstat1.nii.gz"), str(study.regions_dseg),
                            "--label", str(pag_label(study))])
    z = nib.load(stats_dir / "zstat1.nii.gz").get_fdata()
    assert out["peak"]["z"] == pytest.approx(z[tuple(out["peak"]["ijk"])], abs=1e-3)
    assert out["df"] == "voxelwise" and out["smoothness_source"] == "FEAT stats/smoothness"
