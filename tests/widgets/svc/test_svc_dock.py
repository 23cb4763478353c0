"""The small-volume correction dock, driven as a user would in a real napari viewer.

Numbers in the table are checked against the core's ``small_volume_correction`` on
the same inputs AND against values computed here from the EC density formulas of
DESIGN.md with scipy (a 5 x 5 x 5 box at FWHM 2 voxels has resels [1, 6, 12, 8]).
The permutation panel is checked against a brute-force loop over all sign flips with
scipy's one-sample t-test.
"""

from __future__ import annotations

import itertools
import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QMessageBox
from scipy import optimize, stats

from napari_milna._napari.layers import find_result_layer, source_of
from napari_milna._napari.roi_layers import set_roi_names
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.core.io.geometry import Grid
from napari_milna.core.roi.transfer import resample_roi
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.permutation import sign_flip_test
from napari_milna.core.svc.smoothness import estimate_smoothness, smoothness_from_fwhm_mm
from napari_milna.core.svc.tfce import tfce_sign_flip_test
from napari_milna.widgets.svc import export as svc_export
from napari_milna.widgets.svc.dock import SvcDock
from napari_milna.widgets.svc.layer_io import is_svc_layer
from napari_milna.widgets.svc.results_table import format_p, format_stat
from tests.conftest import make_affine, write_nifti
from tests.core.svc.test_svc import t_p_rft_by_hand

SHAPE = (16, 18, 16)
AFFINE = make_affine((2, 2, 2), (20.0, -30.0, -20.0), flip_x=True)  # LAS 2 mm
BOX = (slice(6, 11), slice(7, 12), slice(6, 11))  # 5 x 5 x 5 voxels
PEAK1, PEAK2 = (7, 8, 7), (10, 11, 10)
DF = 20.0
TIMEOUT = 10000


def t_map_data(seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.uniform(-1.0, 1.0, SHAPE).astype(np.float32)
    data[PEAK1] = 5.0
    data[PEAK2] = 4.6
    data[0, 0, :] = np.nan
    return data


@pytest.fixture
def tmap(tmp_path):
    return write_nifti(tmp_path / "spmT_0001.nii", t_map_data(), AFFINE, 4,
                       "SPM{T_[20.0]} - contrast 1: pain")


@pytest.fixture
def viewer_dock(make_napari_viewer, qtbot):
    def make(*paths):
        viewer = make_napari_viewer()
        for p in paths:
            viewer.open(str(p), plugin="napari-milna")
        dock = SvcDock(viewer)
        viewer.window.add_dock_widget(dock)
        return viewer, dock

    return make


def new_labels_on(viewer, image_layer, name="ROI"):
    """napari's "New labels" on an image: the viewer state adopts the image's grid."""
    layer = viewer.add_labels(
        np.zeros(image_layer.data.shape, np.uint8), name=name, scale=image_layer.scale,
        translate=image_layer.translate, affine=image_layer.affine,
    )
    assert source_of(layer) is not None, "new labels were not adopted onto the map's grid"
    layer.brush_size = 1
    return layer


def paint_voxels(layer, voxels, label=1):
    for ijk in voxels:
        layer.paint(ijk, label)


def box_voxels():
    return list(itertools.product(*(range(s.start, s.stop) for s in BOX)))


def p_rft_by_hand(t, v, resels):
    """P_RF = 1 - exp(-sum R_d rho_d(t)) from DESIGN.md's T EC densities (scipy for rho0)."""
    return t_p_rft_by_hand(t, v, resels)


def wait_for(qtbot, dock, condition):
    qtbot.waitUntil(lambda: dock.result is not None and condition(dock.result), timeout=TIMEOUT)
    return dock.result


def set_fwhm(dock, text):
    dock.smoothness.source.value = "fwhm_mm"
    dock.smoothness.fwhm.value = text


# ---------------------------------------------------------------------- numbers
def test_table_equals_core_and_ec_density_formulas(viewer_dock, tmap, qtbot):
    viewer, dock = viewer_dock(tmap)
    tlayer = viewer.layers["spmT_0001"]
    assert dock.stat_combo.layer() is tlayer
    assert dock.form.stat_type.value == "T" and dock.form.df.value == "20"
    roi_layer = new_labels_on(viewer, tlayer)
    set_roi_names(roi_layer, {1: "PAG"})
    paint_voxels(roi_layer, box_voxels())
    set_fwhm(dock, "4")  # 2 voxels of 2 mm
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 125)
    assert dock.form.roi_layer.value is roi_layer
    assert dock.form.roi_label.current_choice == "PAG (1)"

    # the core on the same inputs, read independently from the file
    stat = np.asarray(nib.load(str(tmap)).dataobj)
    grid = Grid(SHAPE, nib.load(str(tmap)).affine)
    roi = np.zeros(SHAPE, bool)
    roi[BOX] = True
    core = small_volume_correction(stat, roi, grid, smoothness_from_fwhm_mm(4.0, grid), "T", DF)
    assert res.to_dict() == core.to_dict()
    table = dock.results
    assert table.table.rowCount() == 2  # the peak and the second maximum
    for row, peak in enumerate(core.peaks):
        values = table.values(row)
        for attr in ("value", "z", "p_uncorrected", "p_fwe_rft", "p_fwe_bonferroni", "p_fwe",
                     "q_fdr", "cluster"):
            assert values[attr] == getattr(peak, attr), attr
        assert tuple(values["xyz_mm"]) == peak.xyz_mm and tuple(values["ijk"]) == peak.ijk
        assert table.table.item(row, 3).text() == format_p(peak.p_uncorrected)
        assert table.table.item(row, 1).text() == format_stat(peak.value)
    assert table.table.horizontalHeaderItem(1).text() == "T"

    # independent: DESIGN.md resels of a 5^3 box, EC densities and Bonferroni with scipy
    np.testing.assert_allclose(res.resels, [1, 6, 12, 8], rtol=1e-12)
    pk = table.values(0)
    assert tuple(pk["ijk"]) == PEAK1
    p_unc = stats.t.sf(5.0, DF)
    assert pk["p_uncorrected"] == pytest.approx(p_unc, rel=1e-9)
    assert pk["z"] == pytest.approx(stats.norm.isf(p_unc), rel=1e-9)
    assert pk["p_fwe_bonferroni"] == pytest.approx(125 * p_unc, rel=1e-9)
    assert pk["p_fwe_rft"] == pytest.approx(p_rft_by_hand(5.0, DF, [1, 6, 12, 8]), rel=1e-6)
    assert pk["p_fwe"] == min(pk["p_fwe_rft"], pk["p_fwe_bonferroni"])
    box_p = stats.t.sf(stat[BOX].ravel(), DF)
    assert pk["q_fdr"] == pytest.approx(stats.false_discovery_control(box_p).min(), rel=1e-9)
    u_rft = optimize.brentq(lambda u: p_rft_by_hand(u, DF, [1, 6, 12, 8]) - 0.05, 2, 8,
                            xtol=1e-12)
    assert res.threshold_fwe.rft == pytest.approx(u_rft, rel=1e-6)
    assert res.threshold_fwe.bonferroni == pytest.approx(stats.t.isf(0.05 / 125, DF), rel=1e-9)
    summary = table.summary.text()
    assert "S = 125" in summary and "1, 6, 12, 8" in summary
    assert "FWHM 4 x 4 x 4 mm (2.00 x 2.00 x 2.00 voxels), given in mm" in summary
    assert f"RFT {format_stat(u_rft)}" in summary
    assert "#1: 1 vox" in summary and "#2: 1 vox" in summary
    assert dock.results.summary_text().splitlines()[3].endswith("given in mm")
    assert dock.messages == []
    # two-sided: alpha / 2 per tail, every p doubled (the core on the same inputs)
    dock.form.two_sided.value = True
    res2 = wait_for(qtbot, dock, lambda r: r.two_sided)
    core2 = small_volume_correction(stat, roi, grid, smoothness_from_fwhm_mm(4.0, grid), "T",
                                    DF, two_sided=True)
    assert res2.to_dict() == core2.to_dict()
    assert table.values(0)["p_uncorrected"] == pytest.approx(2 * p_unc, rel=1e-9)
    assert "FWE 0.05 (two-sided)" in table.summary.text()


def test_live_update_debounced_while_painting(viewer_dock, tmap, qtbot):
    viewer, dock = viewer_dock(tmap)
    tlayer = viewer.layers["spmT_0001"]
    roi_layer = new_labels_on(viewer, tlayer)
    set_fwhm(dock, "4")
    paint_voxels(roi_layer, box_voxels())
    wait_for(qtbot, dock, lambda r: r.n_voxels == 125)
    results = []
    dock.computed.connect(results.append)
    # three strokes in quick succession: one recomputation after the last
    extra = [(11, 9, 8), (11, 9, 9), (11, 10, 8)]
    paint_voxels(roi_layer, extra)
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 128)
    qtbot.wait(2 * 100 + 50)
    assert len(results) == 1
    stat = np.asarray(nib.load(str(tmap)).dataobj)
    roi = np.zeros(SHAPE, bool)
    roi[BOX] = True
    for v in extra:
        roi[v] = True
    grid = Grid(SHAPE, AFFINE)
    core = small_volume_correction(stat, roi, grid, smoothness_from_fwhm_mm(4.0, grid), "T", DF)
    assert res.to_dict() == core.to_dict()
    assert res.resels != (1.0, 6.0, 12.0, 8.0)
    assert "S = 128" in dock.results.summary.text()
    # erasing brings the box back
    paint_voxels(roi_layer, extra, label=0)
    wait_for(qtbot, dock, lambda r: r.n_voxels == 125)
    np.testing.assert_allclose(dock.result.resels, [1, 6, 12, 8])


def test_click_on_peak_row_moves_the_cursor(viewer_dock, tmap, qtbot):
    viewer, dock = viewer_dock(tmap)
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0001"])
    paint_voxels(roi_layer, box_voxels())
    set_fwhm(dock, "4")
    wait_for(qtbot, dock, lambda r: len(r.peaks) == 2)
    dock.results.tabs.setCurrentWidget(dock.results.table)
    table = dock.results.table
    state = ViewerState.of(viewer)
    for row, ijk in ((1, PEAK2), (0, PEAK1)):
        item = table.item(row, 0)
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                         pos=table.visualItemRect(item).center())
        expected = nib.affines.apply_affine(AFFINE, ijk)
        np.testing.assert_allclose(state.world_point(viewer.dims.point), expected, atol=1e-6)


def test_fwe_overlay_is_replaced_never_duplicated(viewer_dock, tmap, qtbot):
    viewer, dock = viewer_dock(tmap)
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0001"])
    viewer.layers.selection.active = roi_layer
    roi_layer.mode = "paint"
    paint_voxels(roi_layer, box_voxels())
    set_fwhm(dock, "4")
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 125)

    def overlays():
        return [lay for lay in viewer.layers
                if is_svc_layer(lay)]

    assert len(overlays()) == 1
    overlay = overlays()[0]
    # translucent over the T map: the stat colours stay visible under the survivors
    assert overlay.blending == "translucent" and overlay.opacity <= 0.5
    assert viewer.layers.index(overlay) > viewer.layers.index(viewer.layers["spmT_0001"])
    # painting goes on: the new layer did not take the selection from the ROI layer
    assert viewer.layers.selection.active is roi_layer and roi_layer.mode == "paint"
    survivors = {tuple(v) for v in np.argwhere(np.asarray(overlay.data) > 0)}
    expected = {tuple(v) for v in res.voxel_ijk[res.voxel_p_fwe <= 0.05]}
    assert survivors == expected == {PEAK1, PEAK2}
    np.testing.assert_allclose(
        np.asarray(overlay.data)[PEAK1], -np.log10(res.peak.p_fwe), rtol=1e-6
    )
    assert source_of(overlay).grid.matches(source_of(viewer.layers["spmT_0001"]).grid)
    paint_voxels(roi_layer, [(11, 9, 8)])
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 126)
    assert overlays() == [overlay]  # updated in place
    np.testing.assert_allclose(
        np.asarray(overlay.data)[PEAK1], -np.log10(res.peak.p_fwe), rtol=1e-6
    )
    assert np.count_nonzero(np.asarray(overlay.data)) == res.n_voxels_fwe
    dock.show_overlay.setChecked(False)
    assert overlays() == []
    dock.show_overlay.setChecked(True)
    assert len(overlays()) == 1
    # an empty ROI removes the (now stale) overlay
    roi_layer.data = np.zeros(SHAPE, np.uint8)
    qtbot.waitUntil(lambda: dock.result is None and not overlays(), timeout=TIMEOUT)


# ---------------------------------------------------------------------- exports
def test_exports_atomic_and_never_overwrite_silently(viewer_dock, tmap, qtbot, tmp_path,
                                                     monkeypatch):
    viewer, dock = viewer_dock(tmap)
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0001"])
    paint_voxels(roi_layer, box_voxels())
    set_fwhm(dock, "4")
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 125)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(svc_export, "ask_save_path", lambda parent, kind, start="": str(
        out / f"svc.{kind}"))
    written = dock.export("json")
    data = json.loads(written.read_text())
    expected = res.to_dict()
    assert {k: data[k] for k in expected} == json.loads(json.dumps(expected))
    assert data["inputs"]["stat_map"] == str(tmap) and data["inputs"]["label"] == 1
    csv = dock.export("csv")
    table = pd.read_csv(csv)
    assert list(table["row"]) == ["peak", "max", "cluster", "cluster"]
    assert table.loc[0, "p_fwe"] == pytest.approx(res.peak.p_fwe, rel=1e-9)
    assert table.loc[0, "resels_r3"] == pytest.approx(8.0)
    assert (table.loc[0, "i"], table.loc[0, "j"], table.loc[0, "k"]) == PEAK1
    # the file exists: "No" keeps it, "Yes" replaces it; no temporary file is left behind
    asked = []

    def answer(reply):
        def question(*args, **kwargs):
            asked.append(args[2])
            return reply
        return question

    before = written.read_text()
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    dock.form.alpha.value = 0.01
    wait_for(qtbot, dock, lambda r: r.alpha == 0.01)
    assert dock.export("json") is None
    assert written.read_text() == before and "already exists" in asked[-1]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert dock.export("json") == written
    assert json.loads(written.read_text())["alpha"] == 0.01
    assert sorted(p.name for p in out.iterdir()) == ["svc.csv", "svc.json"]


# ---------------------------------------------------------------------- smoothness sources
def test_smoothness_sources_are_used_and_reported(viewer_dock, tmap, qtbot, tmp_path,
                                                  monkeypatch):
    viewer, dock = viewer_dock(tmap)
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0001"])
    paint_voxels(roi_layer, box_voxels())
    set_fwhm(dock, "4 4 6")  # per axis: 2, 2, 3 voxels
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 125)
    assert res.smoothness.fwhm_voxels == (2.0, 2.0, 3.0)
    # FSL smoothness file: RESELS 8 -> isotropic FWHM of 2 voxels
    fsl = tmp_path / "smoothness"
    fsl.write_text("DLH 0.577\nVOLUME 2352\nRESELS 8\n")
    dock.smoothness.source.value = "fsl_smoothness"
    dock.smoothness.fsl_file.value = str(fsl)
    res = wait_for(qtbot, dock, lambda r: r.smoothness.source == "fsl_smoothness")
    np.testing.assert_allclose(res.resels, [1, 6, 12, 8], rtol=1e-9)
    assert "from FSL's smoothness file smoothness (RESELS)" in dock.results.summary_text()
    # residual images, read in a worker thread
    rng = np.random.default_rng(3)
    from scipy import ndimage

    res4d = np.stack([ndimage.gaussian_filter(rng.standard_normal(SHAPE), 1.0)
                      for _ in range(6)], axis=-1).astype(np.float32)
    path = write_nifti(tmp_path / "res4d.nii.gz", res4d, AFFINE)
    dock.smoothness.source.value = "residuals"
    dock.smoothness.residuals.value = [str(path)]
    res = wait_for(qtbot, dock, lambda r: r.smoothness.source == "residuals")
    direct = estimate_smoothness([path], Grid(SHAPE, AFFINE))
    assert res.smoothness.fwhm_mm == direct.fwhm_mm
    assert "estimated from 6 residual images" in dock.results.summary_text()
    # a bad FWHM is one clear message
    dock.smoothness.source.value = "fwhm_mm"
    dock.smoothness.fwhm.value = "4 4"
    qtbot.waitUntil(lambda: dock.result is None, timeout=TIMEOUT)
    assert "one value or three" in dock.messages[-1]


# ---------------------------------------------------------------------- bad inputs
def test_df_missing_for_a_t_map(viewer_dock, tmp_path, qtbot):
    path = write_nifti(tmp_path / "tstat1.nii.gz", t_map_data(), AFFINE)  # FSL name, no dof
    viewer, dock = viewer_dock(path)
    roi_layer = new_labels_on(viewer, viewer.layers["tstat1"])
    paint_voxels(roi_layer, box_voxels())
    qtbot.waitUntil(lambda: len(dock.messages) == 1, timeout=TIMEOUT)
    assert dock.messages[0].startswith("tstat1: is a T map whose degrees of freedom are unknown")
    assert dock.result is None and "df box" in dock.results.summary.text()
    qtbot.wait(300)
    assert len(dock.messages) == 1  # said once, not at every recomputation
    dock.form.df.value = "20"
    res = wait_for(qtbot, dock, lambda r: r.n_voxels == 125)
    assert res.df == 20.0


def test_map_without_data_is_refused(viewer_dock, tmp_path, qtbot):
    data = np.zeros(SHAPE, np.float32)
    data[:4] = np.nan
    path = write_nifti(tmp_path / "spmT_0003.nii", data, AFFINE, 4, "SPM{T_[20.0]} - empty")
    viewer, dock = viewer_dock(path)
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0003"])
    paint_voxels(roi_layer, box_voxels())
    qtbot.waitUntil(lambda: len(dock.messages) == 1, timeout=TIMEOUT)
    assert dock.messages[0] == ("spmT_0003: has no non-zero finite voxel (it is empty or all "
                                "NaN), so there is nothing to test.")
    assert dock.result is None and find_result_layer(viewer, "svc", "fwe") is None


def test_roi_on_another_grid_is_resampled_only_on_request(viewer_dock, tmap, tmp_path, qtbot):
    # an ROI saved on a 3 mm grid covering the box
    affine3 = make_affine((3, 3, 3), (21.0, -31.0, -21.0), flip_x=True)
    labels = np.zeros((11, 12, 11), np.uint8)
    labels[3:7, 4:8, 3:7] = 1
    roi_path = write_nifti(tmp_path / "roi_mask.nii.gz", labels, affine3)
    viewer, dock = viewer_dock(tmap, roi_path)
    roi_layer = viewer.layers["roi_mask"]
    assert dock.form.roi_layer.value is roi_layer
    set_fwhm(dock, "4")
    qtbot.waitUntil(lambda: len(dock.messages) == 1, timeout=TIMEOUT)
    assert dock.messages[0].startswith("roi_mask: the ROI lies on a different voxel grid")
    assert "not resampled silently" in dock.messages[0]
    assert not dock.form.resample.native.isHidden() and dock.result is None
    dock.form.resample.native.click()
    new = dock.form.roi_layer.value
    assert new is not roi_layer and new.name == "roi_mask on spmT_0001"
    expected = resample_roi(labels, Grid(labels.shape, affine3), Grid(SHAPE, AFFINE)) == 1
    np.testing.assert_array_equal(np.asarray(new.data) == 1, expected)
    res = wait_for(qtbot, dock, lambda r: r.n_roi_voxels == int(expected.sum()))
    grid = Grid(SHAPE, AFFINE)
    core = small_volume_correction(np.asarray(nib.load(str(tmap)).dataobj), expected, grid,
                                   smoothness_from_fwhm_mm(4.0, grid), "T", DF)
    assert res.to_dict() == core.to_dict()
    assert dock.form.resample.native.isHidden()
    np.testing.assert_array_equal(np.asarray(roi_layer.data), labels)  # original untouched


def test_empty_roi_nan_region_and_mask(viewer_dock, tmp_path, qtbot):
    data = t_map_data()
    data[:, :, 12:] = np.nan  # signal dropout: no data for k >= 12
    tmap = write_nifti(tmp_path / "spmT_0002.nii", data, AFFINE, 4, "SPM{T_[20.0]} - c2")
    mask = np.zeros(SHAPE, np.uint8)
    mask[:, :, :6] = 1
    mask_path = write_nifti(tmp_path / "mask.nii", mask, AFFINE)
    viewer, dock = viewer_dock(tmap, mask_path)
    set_fwhm(dock, "4")
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0002"])
    dock.form.roi_layer.value = roi_layer
    qtbot.waitUntil(lambda: len(dock.messages) == 1, timeout=TIMEOUT)
    assert dock.messages[-1] == "ROI: the ROI layer is empty (no voxel painted and no ROI named)."
    # an ROI entirely in the NaN region
    paint_voxels(roi_layer, [(8, 9, 13), (8, 9, 14)])
    qtbot.waitUntil(lambda: len(dock.messages) == 2, timeout=TIMEOUT)
    assert dock.messages[-1].startswith("ROI (label 1): none of the ROI's 2 voxels lies inside "
                                        "the analysis mask")
    # partly in the NaN region: S counts only voxels with data
    paint_voxels(roi_layer, [(8, 9, 10), (8, 9, 11)])
    res = wait_for(qtbot, dock, lambda r: r.n_roi_voxels == 4)
    assert res.n_voxels == 2 and "2 without data" in dock.results.summary.text()
    # a mask that misses the ROI
    dock.form.mask.value = viewer.layers["mask"]
    qtbot.waitUntil(lambda: len(dock.messages) == 3, timeout=TIMEOUT)
    assert "inside the mask mask" in dock.messages[-1] and dock.result is None


# ---------------------------------------------------------------------- permutation
def write_subjects(folder, n, effect=1.0, seed=0, shape=SHAPE, affine=AFFINE, prefix="sub"):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for s in range(n):
        data = rng.standard_normal(shape).astype(np.float32)
        data[BOX] += effect
        paths.append(write_nifti(folder / f"{prefix}-{s:02d}_con.nii.gz", data, affine))
    return [str(p) for p in paths]


def brute_force_p_fwe(x):
    """Exact p FWE of every voxel: all 2^N flips, scipy one-sample t, max over voxels."""
    t_obs = stats.ttest_1samp(x, 0.0).statistic
    maxima = np.array([
        stats.ttest_1samp(x * np.array(s)[:, None], 0.0).statistic.max()
        for s in itertools.product((1.0, -1.0), repeat=x.shape[0])
    ])
    return t_obs, np.array([(maxima >= t - 1e-9).mean() for t in t_obs])


def roi_box_layer(viewer, tmap_layer):
    roi_layer = new_labels_on(viewer, tmap_layer)
    labels = np.zeros(SHAPE, np.uint8)
    labels[BOX] = 1
    roi_layer.data = labels
    return roi_layer


def test_permutation_in_worker_matches_exhaustive_enumeration(viewer_dock, tmap, tmp_path,
                                                              qtbot):
    viewer, dock = viewer_dock(tmap)
    roi_box_layer(viewer, viewer.layers["spmT_0001"])
    qtbot.waitUntil(lambda: dock.form.roi_label.value == 1, timeout=TIMEOUT)
    panel = dock.permutation
    paths = write_subjects(tmp_path / "one", 6, effect=0.8)
    panel.images.glob_edit.setText(str(tmp_path / "one" / "*_con.nii.gz"))
    panel.images.add_glob()
    assert panel.images.paths() == paths
    progress = []
    panel.progress_changed.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(panel.job_finished, timeout=TIMEOUT) as blocker:
        assert panel.run()
    assert blocker.args[0][0] == "ok"
    x = np.stack([np.asarray(nib.load(p).dataobj, float)[BOX].ravel() for p in paths])
    t_obs, p_exact = brute_force_p_fwe(x)
    res = panel.result
    assert res.exhaustive and res.n_perm == 64 and res.n_subjects == 6
    np.testing.assert_allclose(res.t, t_obs, rtol=1e-10)
    np.testing.assert_array_equal(res.p_fwe, p_exact)
    assert progress[-1] == (64, 64) and panel.progress.value() == 1000
    i = int(np.argmax(t_obs))
    box = np.zeros(SHAPE, bool)
    box[BOX] = True
    peak_ijk = np.argwhere(box)[i]
    xyz = nib.affines.apply_affine(AFFINE, peak_ijk)
    assert panel.summary["peak"]["xyz_mm"] == pytest.approx(list(xyz))
    assert f"p FWE {p_exact[i]:.4g}" in panel.status.text()
    layer = find_result_layer(viewer, "svc", "perm")
    np.testing.assert_allclose(np.asarray(layer.data)[BOX].ravel(), -np.log10(p_exact),
                               rtol=1e-6)
    # paired design: drug - placebo per subject, random flips with a seed
    drug = write_subjects(tmp_path / "drug", 12, effect=1.0, seed=1, prefix="drug")
    placebo = write_subjects(tmp_path / "placebo", 12, effect=0.2, seed=2, prefix="placebo")
    panel.design.value = "paired"
    assert not panel.placebo.isHidden()
    panel.images.set_paths(drug)
    panel.placebo.set_paths(placebo)
    panel.n_perm.value = 500
    panel.seed.value = 7
    with qtbot.waitSignal(panel.job_finished, timeout=TIMEOUT):
        assert panel.run()
    diff = np.stack([np.asarray(nib.load(a).dataobj, float)[BOX].ravel()
                     - np.asarray(nib.load(b).dataobj, float)[BOX].ravel()
                     for a, b in zip(drug, placebo)])
    core = sign_flip_test(diff, n_perm=500, seed=7)
    assert not panel.result.exhaustive and panel.result.n_perm == 500
    np.testing.assert_array_equal(panel.result.p_fwe, core.p_fwe)
    assert len([lay for lay in viewer.layers if "permutation" in lay.name]) == 1


def test_tfce_in_the_tab_equals_core_on_the_same_inputs(viewer_dock, tmap, tmp_path, qtbot):
    viewer, dock = viewer_dock(tmap)
    roi_box_layer(viewer, viewer.layers["spmT_0001"])
    qtbot.waitUntil(lambda: dock.form.roi_label.value == 1, timeout=TIMEOUT)
    panel = dock.permutation
    paths = write_subjects(tmp_path / "one", 6, effect=0.8)
    panel.images.set_paths(paths)
    panel.tfce.value = True
    with qtbot.waitSignal(panel.job_finished, timeout=TIMEOUT) as blocker:
        assert panel.run()
    assert blocker.args[0][0] == "ok"
    # the core on the subject values read here with nibabel (64 flips, every one)
    x = np.stack([np.asarray(nib.load(p).dataobj, float)[BOX].ravel() for p in paths])
    kept = np.zeros(SHAPE, bool)
    kept[BOX] = True
    core = tfce_sign_flip_test(x, kept)
    got = panel.tfce_result
    assert got.exhaustive and got.n_perm == 64
    np.testing.assert_array_equal(got.tfce, core.tfce)
    np.testing.assert_array_equal(got.p_fwe, core.p_fwe)
    i = core.peak_index
    peak_ijk = tuple(np.argwhere(kept)[i])
    tf = panel.summary["tfce"]
    assert (tf["peak_value"], tf["p_fwe"]) == (core.tfce[i], core.p_fwe[i])
    assert tf["xyz_mm"] == pytest.approx(list(nib.affines.apply_affine(AFFINE, peak_ijk)))
    assert f"p FWE {core.p_fwe[i]:.4g}" in panel.status.text().split("TFCE")[1]
    layer = find_result_layer(viewer, "svc", "tfce")
    np.testing.assert_allclose(np.asarray(layer.data)[BOX].ravel(), core.tfce, rtol=1e-6)
    # the max-t test ran on the same flips
    np.testing.assert_array_equal(panel.result.p_fwe, sign_flip_test(x).p_fwe)


def test_permutation_cancel(viewer_dock, tmap, tmp_path, qtbot):
    viewer, dock = viewer_dock(tmap)
    # an ROI of several voxel chunks: the flips report after each chunk of voxels
    roi_layer = new_labels_on(viewer, viewer.layers["spmT_0001"])
    roi_layer.data = np.ones(SHAPE, np.uint8)
    qtbot.waitUntil(lambda: dock.form.roi_label.value == 1, timeout=TIMEOUT)
    panel = dock.permutation
    panel.images.set_paths(write_subjects(tmp_path / "many", 20, effect=0.3))  # 2^20 flips
    panel.progress_changed.connect(
        lambda done, total: total == 2**20 and panel.cancel_button.click())
    with qtbot.waitSignal(panel.job_finished, timeout=60000) as blocker:
        assert panel.run()
    assert blocker.args[0][0] == "cancelled"
    assert panel.status.text().startswith("Cancelled: stopped after")
    assert "of 1048576 sign flips" in panel.status.text()
    assert panel.result is None and panel.run_button.isEnabled()
    assert dock.messages == []


def test_permutation_bad_inputs(viewer_dock, tmap, tmp_path, qtbot):
    viewer, dock = viewer_dock(tmap)
    roi_box_layer(viewer, viewer.layers["spmT_0001"])
    qtbot.waitUntil(lambda: dock.form.roi_label.value == 1, timeout=TIMEOUT)
    panel = dock.permutation
    panel.images.set_paths(write_subjects(tmp_path / "few", 4))
    assert not panel.run()
    assert dock.messages[-1] == ("A sign-flip permutation test needs at least 5 subject images, "
                                 "got 4.")
    other = write_subjects(tmp_path / "other", 1, shape=(10, 10, 10), prefix="odd")
    panel.images.add_paths(other)
    assert not panel.run()
    assert dock.messages[-1].startswith(f"{other[0]}: this subject image lies on a different "
                                        "voxel grid")
    nan_paths = write_subjects(tmp_path / "nan", 5, prefix="nan")
    for p in nan_paths[:1]:
        img = nib.load(p)
        data = np.asarray(img.dataobj)
        data[BOX] = np.nan
        write_nifti(p, data, AFFINE)
    panel.images.set_paths(nan_paths)
    with qtbot.waitSignal(panel.job_finished, timeout=TIMEOUT) as blocker:
        assert panel.run()
    assert blocker.args[0][0] == "error"
    assert "none of the ROI's voxels has data" in dock.messages[-1]
    panel.design.value = "paired"
    panel.placebo.set_paths(nan_paths[:3])
    assert not panel.run()
    assert "one placebo image per drug image" in dock.messages[-1]


# ---------------------------------------------------------------------- plugin and sample
def test_plugin_widget_by_name_on_the_sample_pag(make_napari_viewer, qtbot):
    from napari_milna.sample_data import ensure_sample_study

    from napari_milna.core.roi.seeds import seed_roi

    study = ensure_sample_study()
    viewer = make_napari_viewer()
    viewer.open(str(study.group_tmap), plugin="napari-milna")
    _, dock = viewer.window.add_plugin_dock_widget("napari-milna", "Small-volume correction")
    assert isinstance(dock, SvcDock)
    tlayer = viewer.layers["spmT_0001"]
    assert dock.form.df.value == "14"  # SPM{T_[14.0]} in the header
    seed = seed_roi("PAG", study.group_tmap)
    roi_layer = new_labels_on(viewer, tlayer, name="PAG")
    roi_layer.data = seed.mask.astype(np.uint8)
    set_fwhm(dock, "6")
    res = wait_for(qtbot, dock, lambda r: r.n_roi_voxels == seed.n_voxels)
    source = source_of(tlayer).source
    # the map lies in its SPM folder: its mask.nii and RPV.nii are used, as milna svc does
    folder = study.group_tmap.parent
    mask = np.asarray(nib.load(folder / "mask.nii").dataobj) > 0
    rpv = np.asarray(nib.load(folder / "RPV.nii").dataobj, float)
    rpv = np.where(np.isfinite(rpv) & (rpv > 0), rpv, np.nan)
    core = small_volume_correction(source.volume(), seed.mask, source.grid,
                                   smoothness_from_fwhm_mm(6.0, source.grid), "T", 14.0,
                                   analysis_mask=mask, rpv=rpv)
    assert res.to_dict() == core.to_dict()
    # the planted PAG effect survives SVC; the peak lies in the PAG seed
    assert res.peak.p_fwe < 0.05 and seed.mask[res.peak.ijk]
