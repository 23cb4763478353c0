"""The coverage & dropout QC dock, driven as a user would (real napari under Xvfb).

Expected numbers come from :func:`run_qc` called directly on the same files and from
plain numpy on the synthetic data (tests/synth/qc.py), not from the dock.
"""

from __future__ import annotations

import threading

import nibabel as nib
import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna.core.qc.coverage import run_qc
from napari_milna.core.roi.seeds import seed_roi
from napari_milna.widgets.qc import dock as qc_dock
from napari_milna.widgets.qc.dock import QCDock
from napari_milna.widgets.qc.table import VERDICT_COLOURS
from tests.synth.qc import affine, box_mask
from tests.widgets.qc.conftest import (  # the synthetic run's boxes and the tab's set-up
    CSF_BOX,
    DROPOUT_BOX,
    PAG_BOX,
    RUN_NAME,
    SHAPE,
    add_rois,
    brain,
    make_run,
    plain,
    press_run,
    qc_layers,
    run_layer,
    save,
)

ATTRS = (
    "n_voxels", "coverage", "dropout_fraction", "spm_drop_fraction", "tsnr_median",
    "signal_ratio", "csf_fraction", "csf_correlation", "verdict", "reason",
)


def numpy_qc(x, inside, threshold=0.5):
    """Temporal mean / std / tSNR and the signal ratio, in plain numpy."""
    mean, std = x.mean(-1), x.std(-1)
    tsnr = np.where(std > 0, mean / np.where(std > 0, std, 1), 0)
    ratio = mean / np.median(mean[inside & (mean != 0)])
    return mean, tsnr, ratio, ratio < threshold


# --------------------------------------------------------------------------- results


def test_table_equals_run_qc_and_numpy(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"], synth["csf"])
    add_rois(viewer, synth["labels"], {1: "PAG", 2: "RVM"})
    # the dock picked the run, the brain mask and the CSF map by their names / kinds
    assert dock.form.run.current_choice == RUN_NAME
    assert dock.form.brain.current_choice == "sub-01_desc-brain_mask"
    assert dock.form.csf.current_choice == "sub-01_label-CSF_probseg"
    assert press_run(dock, qtbot) == "done"

    direct = run_qc(synth["bold"], brain_mask=synth["mask"], csf=synth["csf"],
                    rois=[synth["dseg"]])
    assert [r.name for r in dock.table.rows] == ["PAG", "RVM"]
    for roi in direct.rois:
        for attr in ATTRS:
            expected = getattr(roi, attr)
            got = dock.table.value(roi.name, attr)
            if isinstance(expected, float):
                assert got == pytest.approx(expected, rel=1e-9), (roi.name, attr)
            else:
                assert got == expected, (roi.name, attr)

    # independent numpy numbers on the synthetic run
    x, inside = synth["x"], brain()
    mean, tsnr, ratio, low = numpy_qc(x, inside)
    assert dock.result.tsnr_median == pytest.approx(np.median(tsnr[inside]), rel=1e-6)
    assert f"tSNR median <b>{np.median(tsnr[inside]):.1f}</b>" in plain(dock.summary)
    assert "40 volumes" in plain(dock.summary)
    pag, rvm = box_mask(PAG_BOX), box_mask(DROPOUT_BOX)
    assert dock.table.value("RVM", "dropout_fraction") == pytest.approx(low[rvm].mean())
    assert dock.table.value("RVM", "dropout_fraction") == 1.0  # the whole box at 0.3 x level
    assert dock.table.value("PAG", "dropout_fraction") == pytest.approx(low[pag].mean()) == 0
    assert dock.table.value("PAG", "tsnr_median") == pytest.approx(np.median(tsnr[pag]), rel=1e-6)
    assert dock.table.text("PAG", "tsnr_median") == f"{np.median(tsnr[pag]):.1f}"
    assert dock.table.text("RVM", "dropout_fraction") == "100%"
    # CSF fraction: the PAG box is 0.2 CSF probability
    assert dock.table.value("PAG", "csf_fraction") == pytest.approx(0.2)

    # verdict colours and the reason, readable on the dark theme
    col = dock.table.column("verdict")
    for row, name in enumerate(["PAG", "RVM"]):
        verdict = dock.table.value(name, "verdict")
        cell = dock.table.item(row, col)
        assert cell.background().color().name() == VERDICT_COLOURS[verdict][0]
        assert cell.foreground().color().name() == VERDICT_COLOURS[verdict][1]
        assert dock.table.value(name, "reason") in cell.toolTip()
    assert dock.table.value("RVM", "verdict") == "fail"
    assert "100% of RVM voxels below half the brain median signal" in plain(dock.detail)

    # the plot: ROI means and the CSF mean, z-scored (numpy), with a legend
    def z(v):
        return (v - v.mean()) / v.std()

    csf_mean = x[box_mask(CSF_BOX)].mean(axis=0)
    np.testing.assert_allclose(dock.plot.lines["CSF mean"], z(csf_mean), atol=1e-9)
    np.testing.assert_allclose(dock.plot.lines["PAG"], z(x[pag].mean(axis=0)), atol=1e-9)
    np.testing.assert_allclose(dock.plot.lines["RVM"], z(x[rvm].mean(axis=0)), atol=1e-9)
    legend = [t.get_text() for t in dock.plot.axes.get_legend().get_texts()]
    r_pag = np.corrcoef(x[pag].mean(axis=0), csf_mean)[0, 1]
    assert legend[0] == "CSF mean" and f"PAG (r={r_pag:.2f})" in legend
    assert r_pag > 0.5  # the shared pulsation


def test_layers_on_the_epi_grid_and_rerun_replaces_them(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"])
    add_rois(viewer, synth["labels"], {1: "PAG", 2: "RVM"})
    assert press_run(dock, qtbot) == "done"
    first = qc_layers(viewer)
    names = [lay.name for lay in first]
    assert names == [
        "QC mean EPI · sub-01_task-pain", "QC tSNR · sub-01_task-pain",
        "QC signal ratio · sub-01_task-pain", "QC SPM implicit-mask drop · sub-01_task-pain",
        "QC dropout · sub-01_task-pain",
    ]
    x, inside = synth["x"], brain()
    mean, tsnr, ratio, low = numpy_qc(x, inside)
    shown = inside | box_mask(PAG_BOX) | box_mask(DROPOUT_BOX)
    dropout = viewer.layers["QC dropout · sub-01_task-pain"]
    np.testing.assert_array_equal(np.asarray(dropout.data) > 0, low & shown)
    tsnr_layer = viewer.layers["QC tSNR · sub-01_task-pain"]
    np.testing.assert_allclose(np.asarray(tsnr_layer.data)[inside], tsnr[inside], rtol=1e-5)
    # red overlay over the mean EPI: 0 transparent, 1 red
    rgba = dropout.colormap.map(np.array([0.0, 1.0]))
    assert rgba[0, 3] == 0 and rgba[1, 0] == 1 and rgba[1, 1] < 0.2
    spm = viewer.layers["QC SPM implicit-mask drop · sub-01_task-pain"]
    assert spm.colormap.map(np.array([1.0]))[0, 1] > 0.8  # yellow, not red
    # grid, source and world placement: voxel (i, j, k) sits at affine @ (i, j, k)
    aff = affine()
    run_grid = source_of(run_layer(viewer)).grid
    for lay in first:
        src = source_of(lay)
        assert src.grid.matches(run_grid) and src.source is None
        assert src.grid_source is source_of(run_layer(viewer)).source
        for ijk in ([0, 0, 0], [9, 10, 11], [19, 21, 17]):
            np.testing.assert_allclose(
                lay.data_to_world(ijk), nib.affines.apply_affine(aff, ijk), atol=1e-6
            )
    # dropout and SPM drop overlays above the mean EPI, ROI layer on top
    order = [lay.name for lay in viewer.layers]
    assert order.index(names[0]) < order.index(names[3]) < order.index(names[4])
    assert order[-1] == "ROIs on run"

    # re-run with another threshold: the same layers, replaced (no duplicates)
    dock.form.dropout_threshold.value = 0.2
    assert press_run(dock, qtbot) == "done"
    second = qc_layers(viewer)
    assert [lay.name for lay in second] == names
    assert not any(a is b for a, b in zip(first, second))
    assert len(viewer.layers) == 2 + len(names) + 1  # run, mask, QC maps, ROIs
    dropout = viewer.layers["QC dropout · sub-01_task-pain"]
    np.testing.assert_array_equal(np.asarray(dropout.data) > 0, (ratio < 0.2) & shown)
    assert not (np.asarray(dropout.data) > 0)[DROPOUT_BOX].any()  # 0.3 x level is above 0.2


def test_click_row_moves_cursor_to_roi_centroid(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"])
    add_rois(viewer, synth["labels"], {1: "PAG", 2: "RVM"})
    assert press_run(dock, qtbot) == "done"
    for row, box in ((1, DROPOUT_BOX), (0, PAG_BOX)):
        item = dock.table.item(row, 0)
        dock.table.scrollToItem(item)
        qtbot.mouseClick(
            dock.table.viewport(), Qt.MouseButton.LeftButton,
            pos=dock.table.visualItemRect(item).center(),
        )
        centre = nib.affines.apply_affine(affine(), np.argwhere(box_mask(box)).mean(axis=0))
        np.testing.assert_allclose(viewer.dims.point[-3:], centre, atol=1e-6)


def test_cancel_leaves_the_viewer_unchanged(open_dock, synth, qtbot, monkeypatch):
    gate = threading.Event()
    calls = []

    def gated_run_qc(*args, progress, **kwargs):
        def slow(done, total):
            calls.append(done)
            gate.wait(10)
            return progress(done, total)

        return run_qc(*args, progress=slow, **kwargs)

    monkeypatch.setattr(qc_dock, "run_qc", gated_run_qc)
    viewer, dock = open_dock(synth["bold"], synth["mask"])
    n_layers = len(viewer.layers)
    with qtbot.waitSignal(dock.qc_finished, timeout=20000) as blocker:
        qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
        assert dock.running and not dock.run_button.isEnabled()
        qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
    assert blocker.args == ["cancelled"]
    assert calls == [0]  # stopped at the first progress report
    assert "cancelled" in dock.messages[-1]
    assert len(viewer.layers) == n_layers and dock.result is None
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()
    # and it runs again afterwards
    gate.set()
    assert press_run(dock, qtbot) == "done"
    assert dock.progress.value() == dock.progress.maximum() == 40


def test_computed_brain_mask_and_roi_file(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"])
    dock.add_roi_files([synth["dseg"]])
    assert dock.form.brain.current_choice == "compute (nilearn)"
    assert press_run(dock, qtbot) == "done"
    direct = run_qc(synth["bold"], rois=[synth["dseg"]])
    assert dock.result.tsnr_median == pytest.approx(direct.tsnr_median, rel=1e-12)
    assert [r.name for r in dock.table.rows] == ["PAG", "RVM"]
    assert dock.table.value("RVM", "tsnr_median") == pytest.approx(direct.rois[1].tsnr_median)
    assert "computed with nilearn" in plain(dock.summary)
    computed = viewer.layers["QC brain mask (computed) · sub-01_task-pain"]
    np.testing.assert_array_equal(np.asarray(computed.data) > 0, direct.maps.brain_mask)


# --------------------------------------------------------------------------- bad inputs


def test_3d_image_and_short_run_are_refused_in_one_sentence(open_dock, synth, qtbot):
    ref = save(synth["tmp"] / "sub-01_boldref.nii.gz", synth["x"][..., 0].astype(np.float32))
    short = save(synth["tmp"] / "sub-02_task-pain_bold.nii.gz", make_run(6))
    viewer, dock = open_dock(synth["bold"], ref, short)
    n_layers = len(viewer.layers)
    assert dock.form.run.native.findText("sub-01_boldref (3D)") >= 0
    dock.form.run.value = viewer.layers["sub-01_boldref"]
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    assert not dock.running
    assert "sub-01_boldref.nii.gz" in dock.messages[-1]
    assert "is a 3D image; QC needs a 4D run" in dock.messages[-1]
    dock.form.run.value = viewer.layers["sub-02_task-pain_bold"]
    qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    assert "sub-02_task-pain_bold.nii.gz" in dock.messages[-1]
    assert "has only 6 volumes; QC needs a run of at least 10" in dock.messages[-1]
    assert len(viewer.layers) == n_layers and dock.run_button.isEnabled()


def test_mask_on_another_grid_is_resampled_and_said(open_dock, synth, qtbot):
    fine = np.diag([2.0, 2.0, 2.0, 1.0])
    fine[:3, 3] = affine()[:3, 3] - 1.0
    shape = (26, 29, 28)
    centres = nib.affines.apply_affine(fine, np.indices(shape).reshape(3, -1).T)
    ijk = np.rint(nib.affines.apply_affine(np.linalg.inv(affine()), centres)).astype(int)
    ok = np.all((ijk >= 0) & (ijk < np.array(SHAPE)), axis=1)
    values = np.zeros(len(ijk), np.uint8)
    values[ok] = brain()[tuple(ijk[ok].T)]
    mask2 = save(synth["tmp"] / "sub-01_res-2_desc-brain_mask.nii.gz",
                 values.reshape(shape), fine)
    viewer, dock = open_dock(synth["bold"], mask2)
    assert press_run(dock, qtbot) == "done"
    text = dock.messages[-1]
    assert "sub-01_res-2_desc-brain_mask.nii.gz" in text and "resampled to the EPI grid" in text
    assert "Note: brain mask sub-01_res-2_desc-brain_mask.nii.gz" in plain(dock.summary)
    direct = run_qc(synth["bold"], brain_mask=mask2)
    assert dock.result.tsnr_median == pytest.approx(direct.tsnr_median, rel=1e-12)


def test_empty_brain_mask_is_refused(open_dock, synth, qtbot):
    empty = save(synth["tmp"] / "sub-01_desc-brain_mask.nii.gz", np.zeros(SHAPE, np.uint8))
    viewer, dock = open_dock(synth["bold"], empty)
    n_layers = len(viewer.layers)
    assert press_run(dock, qtbot) == "error"
    assert "sub-01_desc-brain_mask.nii.gz" in dock.messages[-1]
    assert "is an empty brain mask" in dock.messages[-1]
    assert len(viewer.layers) == n_layers


def test_edited_brain_mask_layer_is_used_as_shown(open_dock, synth, qtbot, tmp_path):
    viewer, dock = open_dock(synth["bold"], synth["mask"])
    layer = viewer.layers["sub-01_desc-brain_mask"]
    edited = np.asarray(layer.data).copy()
    edited[:, :11, :] = 0  # the user erased the posterior half
    layer.data = edited
    assert press_run(dock, qtbot) == "done"
    saved = save(tmp_path / "edited.nii.gz", edited.astype(np.uint8))
    direct = run_qc(synth["bold"], brain_mask=saved)
    assert dock.result.brain_voxels == int(edited.sum()) == direct.brain_voxels
    assert dock.result.tsnr_median == pytest.approx(direct.tsnr_median, rel=1e-12)


def test_roi_outside_the_field_of_view_fails_and_is_shown(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"])
    corner = np.zeros(SHAPE, np.uint8)
    corner[:2, :2, :2] = 1  # on the grid, outside the brain ellipsoid (no signal)
    add_rois(viewer, corner, {1: "corner"})
    far = np.diag([2.5, 2.5, 3.0, 1.0])
    far[:3, 3] = [200.0, 200.0, 200.0]
    from napari_milna.core.io.geometry import Grid

    away = np.zeros((4, 4, 4), np.uint8)
    away[1:3, 1:3, 1:3] = 1
    add_roi_layer(viewer, Grid((4, 4, 4), far), None, "elsewhere", away, {1: "away"},
                  name="ROIs elsewhere")
    add_rois(viewer, np.zeros(SHAPE, np.uint8), {}).name = "empty ROIs"
    # the session's ROI layer is the first; the other two are checked as well
    assert dock.form.roi.value is viewer.layers["ROIs on run"]
    dock.form.other_rois.value = [viewer.layers["ROIs elsewhere"], viewer.layers["empty ROIs"]]
    assert press_run(dock, qtbot) == "done"
    assert "ROI layer empty ROIs holds no ROI voxel and was left out" in dock.messages[-1]
    assert [r.name for r in dock.table.rows] == ["corner", "away"]
    for name in ("corner", "away"):
        assert dock.table.value(name, "coverage") == 0.0
        assert dock.table.value(name, "verdict") == "fail"
    assert dock.table.value("away", "n_voxels") == 0
    assert "outside the EPI field of view" in dock.table.value("away", "reason")
    assert "only 0% of corner voxels inside the field of view" in dock.table.value(
        "corner", "reason"
    )
    assert any("ROI away of layer ROIs elsewhere lies on another grid" in n
               for n in dock.result.notes)
    # a click on the ROI with no EPI voxel still moves to its own centroid (napari puts
    # the cursor on the nearest slice of its 2.5 x 2.5 x 3 mm steps)
    dock.go_to_roi("away")
    np.testing.assert_allclose(viewer.dims.point[-3:], [203.75, 203.75, 204.5], atol=1.5)


# --------------------------------------------------------------------------- plugin, sample


def test_dock_from_the_plugin_menu(make_napari_viewer):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-milna", "Coverage & dropout QC")
    assert isinstance(widget, QCDock)


@pytest.mark.slow
def test_sample_study_pag_ok_rvm_flagged(open_dock, qtbot):
    from napari_milna.sample_data import ensure_sample_study

    study = ensure_sample_study()
    viewer, dock = open_dock(study.bold, study.brain_mask, study.csf_probseg)
    src = source_of(run_layer(viewer))
    labels = np.zeros(src.grid.shape, np.uint8)
    pag, rvm = seed_roi("PAG", src.source).mask, seed_roi("RVM", src.source).mask
    labels[pag] = 1
    labels[rvm] = 2
    add_rois(viewer, labels, {1: "PAG", 2: "RVM"})
    assert press_run(dock, qtbot, timeout=60000) == "done"
    assert dock.table.value("PAG", "verdict") == "ok"
    assert dock.table.value("RVM", "verdict") in ("warn", "fail")
    assert dock.table.value("RVM", "signal_ratio") < dock.table.value("PAG", "signal_ratio")
    # the planted ventral dropout shows in the overlays inside the RVM
    drop = np.asarray(viewer.layers["QC dropout · sub-01_task-pain"].data) > 0
    spm = np.asarray(viewer.layers["QC SPM implicit-mask drop · sub-01_task-pain"].data) > 0
    assert (drop | spm)[rvm].mean() > 0.5 and not (drop | spm)[pag].any()


def test_oblique_run_layers_sit_on_its_voxels(open_dock, tmp_path, qtbot):
    from napari_milna._napari.viewer_state import ViewerState
    from tests.conftest import make_affine

    oblique = make_affine((2.5, 2.5, 3.0), (-25.0, -30.0, -25.0), flip_x=True,
                          rotation_deg=(15, 0, 5))
    bold = save(tmp_path / "sub-01_task-rest_bold.nii.gz", make_run(12), oblique)
    viewer, dock = open_dock(bold)
    assert press_run(dock, qtbot) == "done"
    state = ViewerState.of(viewer)
    assert not state.space.is_world  # the viewer shows the oblique run's voxel grid
    for lay in qc_layers(viewer):
        assert not source_of(lay).resampled_for_display
        for ijk in ([0, 0, 0], [10, 11, 9]):
            world = state.world_point(lay.data_to_world(ijk))
            np.testing.assert_allclose(world, nib.affines.apply_affine(oblique, ijk), atol=1e-6)
