"""The QC tab inside the milna panel reads and writes the study session.

The pickers show the session's run, masks and ROI layer, follow changes made by
another tab, and write the user's choice back; the tab says which run and ROIs it
checks; a click on a row makes that ROI the session's.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from qtpy.QtCore import Qt

from napari_milna._napari.session import StudySession
from napari_milna.widgets.panel.panel import find_panel
from tests.synth.qc import PAG_BOX, affine, box_mask, make_run, save
from tests.widgets.qc.conftest import RUN_NAME, add_rois, press_run


def click_row(table, row, qtbot):
    item = table.item(row, 0)
    table.scrollToItem(item)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(item).center())


def test_pickers_follow_the_session_both_ways(open_dock, synth, qtbot):
    second = save(synth["tmp"] / "sub-02_task-pain_bold.nii.gz", make_run(40, seed=3))
    viewer, dock = open_dock(synth["bold"], synth["mask"], synth["csf"], second, panel=True)
    session = StudySession.of(viewer)
    panel = find_panel(viewer)
    assert panel.tab("QC") is dock
    run, mask, csf = (viewer.layers[n] for n in (
        RUN_NAME, "sub-01_desc-brain_mask", "sub-01_label-CSF_probseg"))
    # the session took the first run; the tab proposed the brain mask and the CSF map
    assert session.run is run and dock.form.run.value is run
    assert session.masks["brain"] is mask and dock.form.brain.value is mask
    assert session.masks["csf"] is csf and dock.form.csf.value is csf

    # another tab changes the session: the pickers follow
    session.set_mask("brain", None)
    assert dock.form.brain.current_choice == "compute (nilearn)"
    session.set_run(viewer.layers["sub-02_task-pain_bold"])
    assert dock.form.run.current_choice == "sub-02_task-pain_bold"
    pag_layer = add_rois(viewer, synth["labels"] * (synth["labels"] == 1), {1: "PAG"})
    rvm_layer = add_rois(viewer, synth["labels"] * (synth["labels"] == 2), {2: "RVM"})
    rvm_layer.name = "RVM layer"
    assert session.roi_layer is pag_layer  # proposed: the first layer that looks like ROIs
    session.set_roi(rvm_layer, 2)
    assert dock.form.roi.value is rvm_layer and dock.form.roi.current_choice == "RVM layer"
    # the session's masks and ROI layer are not offered again as "other ROIs"
    offered = list(dock.form.other_rois.choices)
    assert pag_layer in offered and rvm_layer not in offered and mask not in offered

    # a choice in the form goes to the session (and so to the time series of the strip)
    dock.form.run.value = run
    assert session.run is run and panel.timeseries.run_layer() is run
    dock.form.brain.value = mask
    assert session.masks["brain"] is mask
    dock.form.roi.value = pag_layer
    assert session.roi_layer is pag_layer and session.roi_label == 1
    dock.form.csf.value = None
    assert session.masks["csf"] is None
    # the user chose "(none)": a new CSF map is not forced on the session
    viewer.open(str(synth["csf"]), plugin="napari-milna")
    assert session.masks["csf"] is None


def test_message_names_run_and_rois_and_rows_choose_the_session_roi(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"], panel=True)
    session = StudySession.of(viewer)
    layer = add_rois(viewer, synth["labels"], {1: "PAG", 2: "RVM"})
    session.set_roi(layer, 2)
    assert press_run(dock, qtbot) == "done"
    assert dock.messages[-1].startswith(
        f"QC of {RUN_NAME} in PAG, RVM (labels 1, 2 of ROIs on run) done: tSNR median"
    )
    assert "with brain mask" not in dock.messages[-1]
    table = dock.table
    # the session's current ROI (RVM, label 2) is the selected row
    assert [table.rows[i.row()].name for i in table.selectionModel().selectedRows()] == ["RVM"]
    # a click on the PAG row makes PAG the session's ROI and moves the cursor there
    click_row(table, 0, qtbot)
    assert session.roi_layer is layer and session.roi_label == 1
    centre = nib.affines.apply_affine(affine(), np.argwhere(box_mask(PAG_BOX)).mean(axis=0))
    np.testing.assert_allclose(session.cursor_mm, centre, atol=1e-6)
    # another tab picks RVM: the table follows
    session.set_roi(layer, 2)
    assert [table.rows[i.row()].name for i in table.selectionModel().selectedRows()] == ["RVM"]


def test_roi_file_and_other_layer_are_checked_with_the_session_roi(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"], panel=True)
    first = add_rois(viewer, synth["labels"] * (synth["labels"] == 1), {1: "PAG"})
    other = add_rois(viewer, synth["labels"] * (synth["labels"] == 2), {2: "RVM"})
    other.name = "RVM layer"
    dock.add_roi_files([synth["dseg"]])
    dock.form.other_rois.value = list(dock.form.other_rois.value) + [other]
    assert StudySession.of(viewer).roi_layer is first
    assert press_run(dock, qtbot) == "done"
    # session ROI first, then the other layer, then the file (names made unique)
    assert [r.name for r in dock.table.rows] == ["PAG", "RVM", "PAG (2)", "RVM (2)"]
    assert "PAG (label 1 of ROIs on run); RVM (label 2 of RVM layer); " \
        "sub-01_desc-rois_dseg.nii.gz (file)" in dock.messages[-1]
    assert dock.table.value("PAG (2)", "tsnr_median") == dock.table.value("PAG", "tsnr_median")
    # removing the file leaves the layers
    dock.form.other_rois.value = [synth["dseg"].as_posix()]
    dock.form.remove_selected_files()
    assert synth["dseg"].as_posix() not in dock.form.other_rois.choices
    assert other in dock.form.other_rois.choices


def test_painted_roi_is_checked_as_painted(open_dock, synth, qtbot):
    viewer, dock = open_dock(synth["bold"], synth["mask"], synth["dseg"], panel=True)
    layer = viewer.layers["sub-01_desc-rois_dseg"]
    assert StudySession.of(viewer).roi_layer is layer  # a dseg file looks like ROIs
    assert press_run(dock, qtbot) == "done"
    assert dock.table.value("PAG", "n_voxels") == box_mask(PAG_BOX).sum()
    # the user paints three more PAG voxels with a one-voxel brush
    layer.brush_size = 1
    layer.selected_label = 1
    painted = [(9, 10, 13), (10, 10, 13), (11, 10, 13)]
    for ijk in painted:
        layer.paint(ijk, 1)
    expected = box_mask(PAG_BOX)
    for ijk in painted:
        expected[ijk] = True
    assert press_run(dock, qtbot) == "done"
    assert dock.table.value("PAG", "n_voxels") == expected.sum() == 30
    assert "PAG, RVM (labels 1, 2 of sub-01_desc-rois_dseg)" in dock.messages[-1]
