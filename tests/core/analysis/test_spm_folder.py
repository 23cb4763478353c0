"""SPM folders: SPM.mat read through scipy (v5) and pymatreader (v7.3), missing fields noted."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import io as sio

from napari_milna.core.analysis import analysis_kind, folder_stat_map, open_analysis
from napari_milna.core.errors import MilnaInputError
from napari_milna.core.svc.resels import resel_counts
from tests.core.analysis.folders import AFFINE, FWHM_MM, N_SUBJECTS, spm_folder


def test_spm_folder_contrast_df_smoothness_and_images(tmp_path):
    info = spm_folder(tmp_path / "spm")
    a = open_analysis(tmp_path / "spm")
    assert a.kind == "spm" and analysis_kind(tmp_path / "spm") == "spm"
    assert a.error_df == N_SUBJECTS - 1
    np.testing.assert_allclose(a.fwhm_voxels, FWHM_MM / np.array([2.5, 2.5, 3.0]))
    np.testing.assert_allclose(a.resels, resel_counts(info["mask"], a.fwhm_voxels))
    assert a.search_voxels == int(info["mask"].sum())
    # xVol.M is 1-based: M @ [1, 1, 1, 1] is the first voxel's centre
    np.testing.assert_allclose(np.asarray(a.affine) @ [1, 1, 1, 1], AFFINE @ [0, 0, 0, 1])
    assert a.mask.name == "mask.nii" and a.rpv.name == "RPV.nii" and a.resms.name == "ResMS.nii"
    (c,) = a.contrasts
    d = c.to_dict()
    assert d["name"] == "drug x pain" and d["stat_type"] == "T" and d["df"] == 11.0
    assert d["path"].endswith("spmT_0001.nii") and d["effect"].endswith("con_0001.nii")
    np.testing.assert_allclose(d["fwhm_mm"], [FWHM_MM] * 3)
    assert d["smoothness_source"] == "SPM.mat xVol.FWHM"
    assert a.notes == []


def test_folder_stat_map_of_spmT(tmp_path):
    info = spm_folder(tmp_path / "spm")
    fs = folder_stat_map(tmp_path / "spm" / "spmT_0001.nii")
    assert fs.stat_type == "T" and fs.df == 11.0
    np.testing.assert_allclose(fs.smoothness.fwhm_mm, [FWHM_MM] * 3)
    assert fs.smoothness.source == "SPM.mat xVol.FWHM"
    np.testing.assert_array_equal(fs.mask, info["mask"])
    # SPM's RPV for a stationary field is 1 / prod(FWHM in voxels)
    np.testing.assert_allclose(np.nanmax(fs.rpv), 1 / np.prod(FWHM_MM / np.array([2.5, 2.5, 3])),
                               rtol=1e-6)
    # the folder itself with a contrast number gives the same map
    same = folder_stat_map(tmp_path / "spm", 1)
    np.testing.assert_array_equal(same.data, fs.data)
    with pytest.raises(MilnaInputError, match="has no contrast 3"):
        folder_stat_map(tmp_path / "spm", 3)


def _strip(spm_mat, drop_vol=(), drop_top=()):
    m = sio.loadmat(str(spm_mat), squeeze_me=False, struct_as_record=True)
    spm = m["SPM"][0, 0]
    names = [n for n in spm.dtype.names if n not in drop_top]
    out = {n: spm[n] for n in names}
    if drop_vol:
        vol = out["xVol"][0, 0]
        out["xVol"] = {n: vol[n] for n in vol.dtype.names if n not in drop_vol}
    sio.savemat(str(spm_mat), {"SPM": out}, long_field_names=True)


def test_missing_fields_are_reported_not_fatal(tmp_path):
    spm_folder(tmp_path / "spm")
    _strip(tmp_path / "spm" / "SPM.mat", drop_vol=("FWHM", "R"), drop_top=("xCon",))
    a = open_analysis(tmp_path / "spm")
    assert a.fwhm_voxels is None and a.resels is None and a.error_df == 11.0
    assert "SPM.mat has no xVol.FWHM" in a.notes
    assert "SPM.mat has no xVol.R" in a.notes
    assert any("no contrast" in n for n in a.notes)


def test_matlab_objects_scipy_cannot_read_are_reported(tmp_path):
    spm_folder(tmp_path / "spm")
    path = tmp_path / "spm" / "SPM.mat"
    m = sio.loadmat(str(path), squeeze_me=False, struct_as_record=True)
    spm = m["SPM"][0, 0]
    out = {n: spm[n] for n in spm.dtype.names}
    x_x = out["xX"][0, 0]
    out["xX"] = {n: x_x[n] for n in x_x.dtype.names}
    record = np.zeros((1, 1), dtype=[("value", "O")])
    record[0, 0]["value"] = 3.0
    out["xX"]["erdf"] = sio.matlab.MatlabObject(record, "spm_object")
    sio.savemat(str(path), {"SPM": out}, long_field_names=True)
    a = open_analysis(tmp_path / "spm")
    assert a.error_df is None
    assert any("xX.erdf is a MATLAB object" in n for n in a.notes)


def test_not_an_spm_mat(tmp_path):
    folder = tmp_path / "spm"
    folder.mkdir()
    (folder / "SPM.mat").write_text("this is not MATLAB")
    with pytest.raises(MilnaInputError, match=r"SPM\.mat: is not a MATLAB MAT file"):
        open_analysis(folder)
    sio.savemat(str(folder / "SPM.mat"), {"SPM": {"foo": 1.0}})
    with pytest.raises(MilnaInputError, match="is not an SPM.mat"):
        open_analysis(folder)
    sio.savemat(str(folder / "SPM.mat"), {"other": 1.0})
    with pytest.raises(MilnaInputError, match="without a variable named SPM"):
        open_analysis(folder)


def test_spm_images_without_spm_mat(tmp_path):
    spm_folder(tmp_path / "spm")
    (tmp_path / "spm" / "SPM.mat").unlink()
    with pytest.raises(MilnaInputError, match="has no SPM.mat although it holds"):
        open_analysis(tmp_path / "spm")
    # the map alone still opens as a plain file (no folder to read)
    assert folder_stat_map(tmp_path / "spm" / "spmT_0001.nii") is None


def test_spm_mat_is_read_once_per_unchanged_file(tmp_path, monkeypatch):
    from napari_milna.core.analysis import matfile

    spm_folder(tmp_path / "spm")
    reads = []
    real = sio.loadmat
    monkeypatch.setattr(sio, "loadmat", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    monkeypatch.setattr(matfile, "_kept", type(matfile._kept)())
    a = open_analysis(tmp_path / "spm")
    for c in a.contrasts:  # as the napari reader does: the folder, then each contrast
        folder_stat_map(tmp_path / "spm", c.index)
    folder_stat_map(tmp_path / "spm" / "spmT_0001.nii")
    assert len(reads) == 1
    # a changed SPM.mat is read again
    _strip(tmp_path / "spm" / "SPM.mat", drop_vol=("R",))
    assert "xVol.R" in " ".join(open_analysis(tmp_path / "spm").notes)
    assert len(reads) == 3  # _strip's own read, then ours
