"""``milna svc`` and ``milna perm`` end to end on small synthetic NIfTI files."""

from __future__ import annotations

import itertools
from math import gamma, sqrt

import numpy as np
import pytest
from scipy import stats

from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.permutation import sign_flip_test
from napari_milna.core.svc.smoothness import estimate_smoothness
from tests.cli.cli_run import run_error, run_json
from tests.conftest import write_nifti
from tests.synth.svc import AFF, SHAPE, box, stat_map, write_spm_t

A = 4 * np.log(2)


@pytest.fixture
def spm(tmp_path):
    stat = write_spm_t(tmp_path, stat_map())
    roi = write_nifti(tmp_path / "pag_mask.nii.gz", box(), AFF)
    return {"stat": stat, "roi": roi, "tmp": tmp_path}


def p_rft_t_by_hand(t, v, resels):
    c = (1 + t * t / v) ** ((1 - v) / 2)
    b = gamma((v + 1) / 2) / gamma(v / 2)
    rho = [stats.t.sf(t, v), sqrt(A) / (2 * np.pi) * c,
           A / (2 * np.pi) ** 1.5 * c * t * b / sqrt(v / 2),
           A**1.5 / (2 * np.pi) ** 2 * c * ((v - 1) * t * t / v - 1)]
    ec = sum(r * max(p, np.finfo(float).eps) for r, p in zip(resels, rho))
    return 1 - np.exp(-(ec + np.finfo(float).eps))


def test_svc_spm_t_map_with_fwhm(spm, capsys):
    # FWHM 5, 5, 6 mm = 2 voxels on every axis: the 5-voxel box has resels [1, 6, 12, 8]
    out = run_json(capsys, ["svc", str(spm["stat"]), str(spm["roi"]), "--fwhm", "5", "5", "6"])
    assert out["stat_type"] == "T" and out["df"] == 20.0
    assert out["n_voxels"] == 125
    np.testing.assert_allclose(out["resels"], [1, 6, 12, 8])
    np.testing.assert_allclose(out["fwhm_mm"], [5, 5, 6])
    assert out["smoothness_source"] == "fwhm_mm"
    pk = out["peak"]
    assert pk["ijk"] == [6, 7, 6]
    np.testing.assert_allclose(pk["xyz_mm"], [20 - 15, -50 + 17.5, -40 + 18])
    t = float(np.float32(4.4))
    assert pk["value"] == pytest.approx(t)
    assert pk["p_uncorrected"] == pytest.approx(stats.t.sf(t, 20), rel=1e-9)
    assert pk["p_fwe_bonferroni"] == pytest.approx(125 * stats.t.sf(t, 20), rel=1e-9)
    assert pk["p_fwe_rft"] == pytest.approx(p_rft_t_by_hand(t, 20, [1, 6, 12, 8]), rel=1e-9)
    assert pk["p_fwe"] == min(pk["p_fwe_rft"], pk["p_fwe_bonferroni"])
    assert pk["z"] == pytest.approx(stats.norm.isf(stats.t.sf(t, 20)), rel=1e-9)
    ps = stats.t.sf(stat_map()[3:8, 3:8, 3:8].astype(float).ravel(), 20)
    assert pk["q_fdr"] == pytest.approx(stats.false_discovery_control(ps).min(), rel=1e-9)
    assert out["threshold_fwe"]["bonferroni"] == pytest.approx(stats.t.isf(0.05 / 125, 20))
    assert out["threshold_fwe"]["used"] == min(out["threshold_fwe"]["rft"],
                                               out["threshold_fwe"]["bonferroni"])
    assert out["peaks"][0]["ijk"] == [6, 7, 6] and out["clusters"][0]["n_voxels"] == 1
    assert out["clusters"][0]["volume_mm3"] == pytest.approx(2.5 * 2.5 * 3)


def test_svc_two_sided_mask_and_label(spm, capsys):
    out = run_json(capsys, ["svc", str(spm["stat"]), str(spm["roi"]), "--fwhm", "6",
                            "--two-sided"])
    assert out["peak"]["ijk"] == [4, 4, 4] and out["peak"]["sign"] == -1
    assert out["peak"]["p_uncorrected"] == pytest.approx(
        2 * stats.t.sf(float(np.float32(4.9)), 20), rel=1e-9)
    mask = box(lo=(3, 3, 3), hi=(8, 8, 6))
    write_nifti(spm["tmp"] / "mask.nii", mask, AFF)
    out = run_json(capsys, ["svc", str(spm["stat"]), str(spm["roi"]), "--fwhm", "6",
                            "--mask", str(spm["tmp"] / "mask.nii")])
    assert out["n_voxels"] == 75 and out["n_roi_voxels"] == 125
    labels = box().astype(np.int16) * 3
    labels[0:2, 0:2, 0:2] = 7
    write_nifti(spm["tmp"] / "atlas_dseg.nii.gz", labels, AFF)
    out = run_json(capsys, ["svc", str(spm["stat"]), str(spm["tmp"] / "atlas_dseg.nii.gz"),
                            "--fwhm", "6", "--label", "3"])
    assert out["n_voxels"] == 125


def test_svc_fsl_zstat_with_smoothness_file(tmp_path, capsys):
    z = stat_map()
    stats_dir = tmp_path / "stats"
    stats_dir.mkdir()
    write_nifti(stats_dir / "zstat1.nii.gz", z, AFF)
    roi = write_nifti(tmp_path / "roi.nii.gz", box(), AFF)
    (stats_dir / "smoothness").write_text("DLH 0.577\nVOLUME 2352\nRESELS 8\n")
    out = run_json(capsys, ["svc", str(stats_dir / "zstat1.nii.gz"), str(roi),
                            "--smoothness", str(stats_dir / "smoothness")])
    assert out["stat_type"] == "Z" and out["df"] is None
    assert out["smoothness_source"] == "fsl_smoothness"
    np.testing.assert_allclose(out["resels"], [1, 6, 12, 8])  # RESELS 8 -> FWHM 2 voxels
    np.testing.assert_allclose(out["fwhm_mm"], [5, 5, 6])
    zmax = float(np.float32(4.4))
    assert out["peak"]["p_uncorrected"] == pytest.approx(stats.norm.sf(zmax), rel=1e-9)


def test_svc_residuals(spm, capsys):
    rng = np.random.default_rng(3)
    res = rng.standard_normal(SHAPE + (8,)).astype(np.float32)
    path = write_nifti(spm["tmp"] / "res4d.nii.gz", res, AFF)
    out = run_json(capsys, ["svc", str(spm["stat"]), str(spm["roi"]), "--residuals", str(path)])
    direct = estimate_smoothness([path], Grid(SHAPE, AFF))
    assert out["smoothness_source"] == "residuals"
    np.testing.assert_allclose(out["fwhm_mm"], direct.fwhm_mm, rtol=1e-12)


def test_svc_bad_inputs(spm, capsys):
    stat, roi, tmp = str(spm["stat"]), str(spm["roi"]), spm["tmp"]
    aff2 = np.array([[-2.0, 0, 0, 20.0], [0, 2, 0, -50], [0, 0, 2, -40], [0, 0, 0, 1]])
    other = write_nifti(tmp / "roi_2mm.nii.gz", box(lo=(4, 4, 4), hi=(10, 10, 10)), aff2)
    line = run_error(capsys, ["svc", stat, str(other), "--fwhm", "6"])
    assert "roi_2mm.nii.gz" in line and "--resample-roi" in line
    assert "different voxel grid" in line
    out = run_json(capsys, ["svc", stat, str(other), "--fwhm", "6", "--resample-roi"])
    # ROI spans x 2..12, y -42..-32, z -32..-22 mm: nearest map voxels i 3..7, j 3..7, k 3..6
    assert out["n_roi_voxels"] == 100

    empty = write_nifti(tmp / "empty.nii.gz", np.zeros(SHAPE, np.uint8), AFF)
    line = run_error(capsys, ["svc", stat, str(empty), "--fwhm", "6"])
    assert "empty.nii.gz" in line and "empty" in line

    holed = stat_map()
    holed[box().astype(bool)] = np.nan
    dropout = write_nifti(tmp / "spmT_0002.nii", holed, AFF, description="SPM{T_[20.0]} - x")
    line = run_error(capsys, ["svc", str(dropout), roi, "--fwhm", "6"])
    assert "pag_mask.nii.gz" in line and "analysis mask" in line

    no_df = write_nifti(tmp / "tstat1.nii.gz", stat_map(), AFF)
    line = run_error(capsys, ["svc", str(no_df), roi, "--fwhm", "6"])
    assert "tstat1.nii.gz" in line and "--df" in line
    run_json(capsys, ["svc", str(no_df), roi, "--fwhm", "6", "--df", "20"])

    nan_map = write_nifti(tmp / "spmT_0003.nii", np.full(SHAPE, np.nan, np.float32), AFF,
                          description="SPM{T_[20.0]} - x")
    line = run_error(capsys, ["svc", str(nan_map), roi, "--fwhm", "6"])
    assert "spmT_0003.nii" in line and "no finite values" in line

    line = run_error(capsys, ["svc", stat, roi, "--fwhm", "6", "6"])
    assert "FWHM" in line
    line = run_error(capsys, ["svc", stat, roi, "--fwhm", "6", "--label", "9"])
    assert "label 9" in line and "pag_mask.nii.gz" in line


# ---------------------------------------------------------------- milna perm


def subjects(tmp_path, n, seed=0, shape=(6, 6, 5)):
    rng = np.random.default_rng(seed)
    paths, data = [], []
    for i in range(n):
        d = (rng.standard_normal(shape) + 0.6).astype(np.float32)
        d[0, 0, 0] = 0.0  # outside every subject's mask: never tested
        data.append(d)
        paths.append(str(write_nifti(tmp_path / f"con_{i + 1:04d}.nii", d, AFF)))
    return paths, np.stack(data)


def test_perm_exhaustive_against_brute_force(tmp_path, capsys):
    paths, data = subjects(tmp_path, 6)
    roi = np.zeros((6, 6, 5), np.uint8)
    roi[1:4, 1:4, 1:3] = 1
    roi[0, 0, 0] = 1
    roi_path = write_nifti(tmp_path / "roi.nii.gz", roi, AFF)
    out = run_json(capsys, ["perm", str(roi_path)] + paths)
    assert out["n_subjects"] == 6 and out["n_perm"] == 64 and out["exhaustive"] is True
    x = data[:, roi.astype(bool)].astype(float)[:, 1:]  # drop the all-zero voxel (0,0,0)
    t_obs = stats.ttest_1samp(x, 0).statistic
    maxima = [stats.ttest_1samp(x * np.array(s)[:, None], 0).statistic.max()
              for s in itertools.product((1, -1), repeat=6)]
    i = int(np.argmax(t_obs))
    assert out["peak"]["t"] == pytest.approx(t_obs[i], rel=1e-6)
    assert out["peak"]["p_fwe"] == np.mean(np.array(maxima) >= t_obs[i] - 1e-9)
    ijk = np.argwhere(roi.astype(bool))[1:][i]
    assert out["peak"]["ijk"] == ijk.tolist()
    np.testing.assert_allclose(out["peak"]["xyz_mm"], Grid((6, 6, 5), AFF).to_world(ijk))
    assert out["n_voxels"] == 18


def test_perm_random_flips_match_the_core(tmp_path, capsys):
    paths, data = subjects(tmp_path, 9, seed=2)
    roi = np.ones((6, 6, 5), np.uint8)
    roi_path = write_nifti(tmp_path / "roi.nii.gz", roi, AFF)
    out = run_json(capsys, ["perm", str(roi_path)] + paths + ["--n-perm", "100", "--seed", "7",
                                                             "--two-sided"])
    assert out["exhaustive"] is False and out["n_perm"] == 100
    x = data.reshape(9, -1)[:, 1:].astype(float)
    core = sign_flip_test(x, n_perm=100, seed=7, two_sided=True)
    assert out["peak"]["p_fwe"] == core.p_fwe[core.peak_index]
    whole = run_json(capsys, ["perm", "--whole-brain"] + paths)
    assert whole["n_subjects"] == 9 and whole["n_voxels"] == 6 * 6 * 5 - 1


def test_perm_bad_inputs(tmp_path, capsys):
    paths, _ = subjects(tmp_path, 4)
    roi_path = write_nifti(tmp_path / "roi.nii.gz", np.ones((6, 6, 5), np.uint8), AFF)
    line = run_error(capsys, ["perm", str(roi_path)] + paths)
    assert "at least 5" in line
    odd = write_nifti(tmp_path / "con_odd.nii", np.ones((6, 6, 4), np.float32), AFF)
    line = run_error(capsys, ["perm", str(roi_path)] + paths + [str(odd)])
    assert "con_odd.nii" in line and "grid" in line
