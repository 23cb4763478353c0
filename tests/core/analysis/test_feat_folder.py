"""FEAT folders: contrast names, df (stats/dof or voxelwise tdof_t), smoothness, t -> z as FSL."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy import stats

from napari_milna.core.analysis import folder_stat_map, open_analysis, t_to_z_voxelwise
from napari_milna.core.errors import MilnaInputError
from tests.conftest import write_nifti
from tests.core.analysis.folders import FWHM_MM, N_SUBJECTS, feat_folder

DATA = Path(__file__).parents[2] / "data" / "fslpy_feat"
REAL = DATA / "2ndlevel_realdata.gfeat" / "cope1.feat"


def test_synthetic_feat_folder(tmp_path):
    info = feat_folder(tmp_path / "group.gfeat" / "cope1.feat")
    a = open_analysis(tmp_path / "group.gfeat")
    assert a.kind == "feat"
    (c,) = a.contrasts
    assert c.name == "cope1: drug x pain" and c.stat_type == "T"
    assert c.voxelwise_df and c.df_range == (N_SUBJECTS - 1, N_SUBJECTS - 1)
    assert c.to_dict()["df"] == "voxelwise"
    # RESELS is FWHMx FWHMy FWHMz in voxels; FSL keeps no per-axis FWHM: geometric mean
    vox = FWHM_MM / np.array([2.5, 2.5, 3.0])
    np.testing.assert_allclose(c.fwhm_voxels, [np.prod(vox) ** (1 / 3)] * 3, rtol=1e-5)
    assert c.smoothness_source == "FEAT stats/smoothness"
    assert c.mask.name == "mask.nii.gz" and c.z_path.name == "zstat1.nii.gz"
    assert a.error_df == N_SUBJECTS - 1
    assert info["folder"].exists()


def test_t_to_z_voxelwise_matches_scipy():
    t = np.array([-4.0, 0.0, 2.5, 9.0, 30.0])
    df = np.array([5.0, 10.0, 10.0, 122.0, 40.0])
    want = stats.norm.isf(stats.t.sf(t[:4], df[:4]))
    np.testing.assert_allclose(t_to_z_voxelwise(t, df)[:4], want, rtol=1e-9, atol=1e-12)
    # far tail: log-scale tail probabilities, still finite and increasing
    z = t_to_z_voxelwise(t, df)
    assert np.isfinite(z[4]) and z[4] > z[3]
    assert np.isnan(t_to_z_voxelwise([2.0], [0.0])[0])


def test_real_fixed_effects_feat_z_equals_fsl_zstat():
    """fslpy's test FEAT: FSL's zstat1 from tstat1 with tdof_t1 (122), voxel by voxel."""
    fs = folder_stat_map(REAL / "stats" / "tstat1.nii.gz")
    assert fs.stat_type == "Z" and fs.converted["df_min"] == 122.0
    fsl_z = np.asarray(nib.load(REAL / "stats" / "zstat1.nii.gz").get_fdata())
    mask = np.asarray(nib.load(REAL / "mask.nii.gz").get_fdata()) > 0
    assert np.abs(fs.data[mask] - fsl_z[mask]).max() < 1e-4
    assert fs.smoothness.source == "FEAT stats/smoothness"
    # the naive reading of stats/dof (2) would give a far smaller z at the peak
    t = np.asarray(nib.load(REAL / "stats" / "tstat1.nii.gz").get_fdata())
    peak = np.unravel_index(np.argmax(t), t.shape)
    assert fsl_z[peak] == pytest.approx(fs.data[peak], abs=1e-4)
    assert stats.norm.isf(stats.t.sf(t[peak], 2)) < 3.0 < fs.data[peak]


def test_the_original_fslpy_folder_when_downloaded():
    """The whole fslpy test folder (pip download fslpy into /tmp), when it is there."""
    tail = "fsl/tests/testdata/test_feat/2ndlevel_realdata.gfeat"
    roots = sorted(p for depth in ("*", "*/*", "*/*/*") for p in Path("/tmp").glob(
        f"{depth}/{tail}"))
    if not roots:
        pytest.skip("fslpy's test data not downloaded (pip download fslpy --no-deps)")
    a = open_analysis(roots[0])
    assert [c.name for c in a.contrasts] == ["cope1: group mean", "cope2: group mean"]
    for c in a.contrasts:
        fs = folder_stat_map(c.path)
        fsl_z = np.asarray(nib.load(c.z_path).get_fdata())
        mask = fs.mask
        assert np.abs(fs.data[mask] - fsl_z[mask]).max() < 1e-4


def test_voxelwise_df_on_a_t_map_kept_as_t_is_refused():
    with pytest.raises(MilnaInputError, match="voxelwise degrees of freedom.*zstat1"):
        folder_stat_map(REAL / "stats" / "tstat1.nii.gz", keep_t=True)


def test_feat_folder_without_stats_or_smoothness(tmp_path):
    feat = tmp_path / "run.feat"
    feat.mkdir()
    with pytest.raises(MilnaInputError, match="run.feat: looks like a FEAT folder but has no "
                       "stats/ folder"):
        open_analysis(feat)
    copy = tmp_path / "copy.feat"
    shutil.copytree(REAL, copy)
    (copy / "stats" / "smoothness").unlink()
    a = open_analysis(copy)
    assert a.contrasts[0].fwhm_mm is None
    assert any("no stats/smoothness" in n for n in a.notes)
    empty = tmp_path / "empty.gfeat"
    empty.mkdir()
    with pytest.raises(MilnaInputError, match="holds no copeN.feat"):
        open_analysis(empty)


def test_first_level_dof(tmp_path):
    feat = tmp_path / "run1.feat"
    (feat / "stats").mkdir(parents=True)
    aff = np.diag([3.0, 3.0, 3.0, 1.0])
    rng = np.random.default_rng(1)
    write_nifti(feat / "stats" / "tstat1.nii.gz", rng.normal(size=(6, 6, 6)).astype("f4"), aff)
    write_nifti(feat / "stats" / "tstat2.nii.gz", rng.normal(size=(6, 6, 6)).astype("f4"), aff)
    (feat / "stats" / "dof").write_text("97\n")
    (feat / "stats" / "smoothness").write_text("DLH 0.5\nVOLUME 216\nRESELS 8\n")
    (feat / "design.con").write_text("/ContrastName1\tpain\n/ContrastName2\ttouch\n")
    a = open_analysis(feat)
    assert [(c.name, c.df, c.df_source) for c in a.contrasts] == [
        ("pain", 97.0, "FEAT stats/dof"), ("touch", 97.0, "FEAT stats/dof")]
    np.testing.assert_allclose(a.contrasts[0].fwhm_mm, [6.0] * 3)  # RESELS 8 = 2^3 voxels
