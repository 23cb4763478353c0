"""Analysis folders in the SVC tab: the sample's SPM and FEAT folders, SPM's three levels.

Opening a folder gives the tab the folder's df and smoothness with their source; the
expected values are read here from the folder's own files (``SPM.mat`` with scipy,
FEAT's ``stats/smoothness`` and FSL's ``zstat1`` with nibabel). SPM's set / cluster /
peak table in the tab equals the core on the same files, the set-level p equals DESIGN.md's
EC densities computed with scipy, and the tab's CSV equals ``milna svc --csv`` on the
same folder and ROI file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from napari_milna.sample_data import ensure_sample_study
from scipy import io as sio
from scipy import stats

from napari_milna._napari import reader as milna_reader
from napari_milna._napari.sample import ATLAS_NAME as SAMPLE_ATLAS_NAME
from napari_milna._napari.sample import SAMPLE_ATLAS
from napari_milna._napari.session import StudySession
from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.svc import export as svc_export
from tests.cli.cli_run import run_json
from tests.conftest import write_nifti
from tests.core.svc.test_svc import t_p_rft_by_hand

PAG_MNI = (0.5, -31.0, -9.0)
TIMEOUT = 15000


@pytest.fixture(scope="module")
def study():
    return ensure_sample_study()


def sphere_roi(path, reference, centre, radius_mm):
    """A ball ROI on the grid of ``reference``, written as a mask NIfTI (nibabel only)."""
    img = nib.load(str(reference))
    ijk = np.indices(img.shape[:3]).reshape(3, -1).T
    xyz = nib.affines.apply_affine(img.affine, ijk)
    ball = (np.linalg.norm(xyz - np.asarray(centre), axis=1) <= radius_mm).reshape(img.shape[:3])
    return write_nifti(path, ball.astype(np.uint8), img.affine), ball


def ec_by_hand(u, v, resels):
    """E[EC] = sum R_d rho_d(u) with DESIGN.md's T EC densities: -log(1 - P_RF)."""
    return -np.log1p(-t_p_rft_by_hand(u, v, resels)) - np.finfo(float).eps


def expected_levels(levels) -> list[dict]:
    """The rows the tab should show, from the core's results table."""
    rows = [{"level": "set", "k": levels.n_clusters, "p": levels.set_p}]
    for c in levels.clusters:
        rows.append({"level": "cluster", "k": c.k, "k_resels": c.k_resels, "p_fwe": c.p_fwe,
                     "q_fdr": c.q_fdr, "p_uncorrected": c.p_uncorrected,
                     "xyz_mm": tuple(c.peak.xyz_mm)})
        rows += [{"level": "peak", "value": p.value, "z": p.z, "p_fwe": p.p_fwe,
                  "q_fdr": p.q_fdr, "p_uncorrected": p.p_uncorrected,
                  "xyz_mm": tuple(p.xyz_mm)} for p in c.peaks]
    return rows


def wait_for(qtbot, dock, condition):
    qtbot.waitUntil(lambda: dock.result is not None and condition(dock.result),
                    timeout=TIMEOUT)
    return dock.result


def test_sample_spm_folder_levels_and_csv_equal_core_and_cli(make_napari_viewer, qtbot,
                                                            tmp_path, monkeypatch, study,
                                                            capsys):
    folder = study.group_tmap.parent
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-milna", "sample_study")  # opens the SPM folder
    roi_path, ball = sphere_roi(tmp_path / "pag_ball_mask.nii.gz", study.group_tmap, PAG_MNI,
                                8.0)
    viewer.open(str(roi_path), plugin="napari-milna")
    panel = open_panel(viewer, tab="SVC")
    dock = panel.tab("SVC")
    session = StudySession.of(viewer)
    dock.form.roi_layer.value = viewer.layers["pag_ball_mask"]  # the user picks the ROI
    dock.form.height_p.value = 0.01
    res = wait_for(qtbot, dock, lambda r: r.height_p == 0.01 and r.n_roi_voxels == ball.sum())

    # df and smoothness come from SPM.mat (read here with scipy), and the tab says so
    spm = sio.loadmat(str(folder / "SPM.mat"), squeeze_me=True, struct_as_record=False)["SPM"]
    zooms = np.sqrt((np.asarray(spm.xVol.M)[:3, :3] ** 2).sum(0))
    assert dock.form.df.value == f"{spm.xX.erdf:g}" == "14"
    assert dock.form.df_source.value == "SPM.mat xX.erdf"
    assert dock.smoothness.source.value == "analysis"
    np.testing.assert_allclose(res.smoothness.fwhm_mm, np.asarray(spm.xVol.FWHM) * zooms)
    np.testing.assert_allclose(res.smoothness.fwhm_mm, (6.0, 6.0, 6.0))  # the generator's
    assert res.smoothness.source == "SPM.mat xVol.FWHM" and res.df == spm.xX.erdf
    assert session.smoothness.describe() == "FWHM 6 x 6 x 6 mm (SPM.mat xVol.FWHM)"
    assert dock.results.summary_text().splitlines()[0] == (
        "SVC in label 1 of pag_ball_mask on drug x pain interaction (T, df 14), mask: "
        "analysis mask (second level)")

    # SPM's three levels in the tab equal the core on the same files (nibabel), RPV used
    img = nib.load(str(study.group_tmap))
    grid = Grid(img.shape, img.affine)
    mask = np.asarray(nib.load(str(folder / "mask.nii")).dataobj) > 0
    rpv = np.asarray(nib.load(str(folder / "RPV.nii")).dataobj, float)
    rpv = np.where(np.isfinite(rpv) & (rpv > 0), rpv, np.nan)
    smooth = smoothness_from_fwhm_mm(np.asarray(spm.xVol.FWHM) * zooms, grid)
    core = small_volume_correction(np.asarray(img.dataobj), ball, grid, smooth, "T", 14.0,
                                   analysis_mask=mask, rpv=rpv, height_p=0.01)
    levels = dock.results.levels
    shown = [levels.values(i) for i in range(len(levels.rows))]
    assert shown == expected_levels(core.levels)
    assert core.levels.n_clusters == 2 and core.levels.extent_method == "non-stationary"
    assert [levels.item_of(i).parent() is not None for i in range(len(shown))] == [
        row["level"] == "peak" for row in shown]  # peaks grouped under their cluster
    # the set level from DESIGN.md's formulas: P(at least c clusters) = Poisson sf(c - 1; Ec)
    ec = ec_by_hand(res.height_threshold, 14.0, res.resels)
    assert shown[0]["p"] == pytest.approx(stats.poisson.sf(1, ec), rel=1e-6)
    # stationary extents (RPV off): K = k / prod(FWHM in voxels)
    dock.form.rpv.value = False
    res = wait_for(qtbot, dock, lambda r: r.levels.extent_method == "stationary")
    v2r = 1.0 / np.prod(spm.xVol.FWHM)
    for row in (levels.values(i) for i in range(len(levels.rows))):
        if row["level"] == "cluster":
            assert row["k_resels"] == pytest.approx(row["k"] * v2r, rel=1e-12)
    dock.form.rpv.value = True
    wait_for(qtbot, dock, lambda r: r.levels.extent_method == "non-stationary")

    # the tab's CSV and JSON are milna svc --csv / --json on the same folder and ROI file
    # (inputs named aside), with the session's atlas (the sample's Harvard-Oxford) as --atlas
    assert session.atlas is not None and session.atlas.name == SAMPLE_ATLAS_NAME
    monkeypatch.setattr(svc_export, "ask_save_path",
                        lambda parent, kind, start="": str(tmp_path / f"tab.{kind}"))
    tab_csv, tab_json = dock.export("csv"), dock.export("json")
    capsys.readouterr()  # the viewer's notifications so far
    cli_csv = tmp_path / "cli.csv"
    cli_json = run_json(capsys, ["svc", str(study.group_tmap), str(roi_path), "--height-p",
                                 "0.01", "--atlas", SAMPLE_ATLAS, "--csv", str(cli_csv)])
    tab, cli = pd.read_csv(tab_csv), pd.read_csv(cli_csv)
    assert list(tab.columns) == list(cli.columns)
    assert list(tab.columns).index("atlas_label") == list(tab.columns).index("z_mm") + 1
    named = ["stat_map", "roi"]
    pd.testing.assert_frame_equal(tab.drop(columns=named), cli.drop(columns=named))
    assert tab["stat_map"].iloc[0] == cli["stat_map"].iloc[0] == str(study.group_tmap)
    # the PAG ball's peak lies in Harvard-Oxford's brain stem
    assert tab["atlas_label"].iloc[0] == cli_json["peak"]["atlas_label"]
    assert tab["atlas_label"].iloc[0].startswith("Brain-Stem")
    exported = json.loads(Path(tab_json).read_text())
    assert exported["peak"]["atlas_label"] == cli_json["peak"]["atlas_label"]
    assert exported["atlas"] == cli_json["atlas"]
    assert [c["atlas_label"] for c in exported["clusters"]] == [
        c["atlas_label"] for c in cli_json["clusters"]]


def test_feat_folder_gives_fsl_z_df_and_smoothness(make_napari_viewer, qtbot, tmp_path,
                                                   monkeypatch, study):
    feat = study.group_feat_dir
    told = []
    monkeypatch.setattr(milna_reader, "show_info", told.append)
    viewer = make_napari_viewer(show=True)
    viewer.open(str(feat), plugin="napari-milna")
    session = StudySession.of(viewer)
    layer = session.stat_map
    assert layer.name == "drug x pain interaction (FSL z of t, df 14)"
    assert session.masks["analysis"].name == "analysis mask (cope1.feat)"
    assert told == [
        "Opened the FEAT folder cope1.feat: drug x pain interaction (FSL z of t, df 14 from "
        "FEAT stats/tdof_t1.nii.gz); mask.nii.gz as the analysis mask; FWHM 5.65 x 5.65 x "
        "6.78 mm from FEAT stats/smoothness."]
    tstat = feat / "stats" / "tstat1.nii.gz"
    roi_path, ball = sphere_roi(tmp_path / "pag_ball_mask.nii.gz", tstat, PAG_MNI, 8.0)
    viewer.open(str(roi_path), plugin="napari-milna")
    dock = open_panel(viewer, tab="SVC").tab("SVC")
    dock.form.roi_layer.value = viewer.layers["pag_ball_mask"]
    res = wait_for(qtbot, dock, lambda r: r.n_roi_voxels == ball.sum())
    assert (dock.form.stat_type.value, dock.form.df.value) == ("Z", "")
    assert dock.form.df_source.value == "voxelwise df 14: FSL's z"
    assert dock.smoothness.source.value == "analysis" and res.stat_type == "Z"
    # FEAT's stats/smoothness, read here: RESELS = FWHM^3 in voxels
    lines = dict(line.split() for line in (feat / "stats" / "smoothness").read_text()
                 .splitlines() if line.strip())
    np.testing.assert_allclose(res.smoothness.fwhm_voxels, [float(lines["RESELS"]) ** (1 / 3)] * 3)
    assert res.smoothness.source == "FEAT stats/smoothness"
    # the peak Z is FSL's own zstat1 at that voxel
    zstat = np.asarray(nib.load(str(feat / "stats" / "zstat1.nii.gz")).dataobj)
    assert res.peak.value == pytest.approx(float(zstat[res.peak.ijk]), abs=1e-3)
    assert "FEAT stats/smoothness" in dock.results.summary_text()


def test_bad_folder_one_sentence_and_its_maps_open(make_napari_viewer, tmp_path, monkeypatch,
                                                   study):
    folder = tmp_path / "no_spm_mat"
    folder.mkdir()
    for name in ("spmT_0001.nii", "mask.nii", "con_0001.nii"):
        shutil.copy(study.group_tmap.parent / name, folder / name)
    said = []
    monkeypatch.setattr(milna_reader, "show_error", said.append)
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="napari-milna")
    assert said == [f"{folder}: has no SPM.mat although it holds spmT_0001.nii, con_0001.nii; "
                    "SPM's results need the SPM.mat written when the model was estimated."]
    # what could be opened is kept: the T map (df from its header) and the mask
    assert sorted(lay.name for lay in viewer.layers) == ["mask", "spmT_0001"]
    assert viewer.layers["spmT_0001"].metadata["milna"].df == 14.0


def test_unreadable_spm_mat_next_to_a_map_is_said_once(make_napari_viewer, qtbot, tmp_path,
                                                       study):
    shutil.copy(study.group_tmap, tmp_path / "spmT_0001.nii")
    (tmp_path / "SPM.mat").write_text("not a MAT file\n")
    roi_path, _ = sphere_roi(tmp_path / "pag_ball_mask.nii.gz", study.group_tmap, PAG_MNI, 8.0)
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "spmT_0001.nii"), plugin="napari-milna")
    viewer.open(str(roi_path), plugin="napari-milna")
    dock = open_panel(viewer, tab="SVC").tab("SVC")
    qtbot.waitUntil(lambda: bool(dock.messages), timeout=TIMEOUT)
    assert dock.messages == [f"{tmp_path / 'SPM.mat'}: is not a MATLAB MAT file (no MAT v4, "
                             "v5, v7 or v7.3 header)."]
    dock.form.height_p.value = 0.01  # recomputes: the same sentence is not said again
    qtbot.wait(300)
    assert len(dock.messages) == 1 and dock.result is None
