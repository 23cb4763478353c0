"""The preprocessing tab reads and writes the study session (real napari under Xvfb).

The run and the brain / CSF masks shown by the tab are the session's, both ways; the
PAG is the session's ROI when that is a PAG. Expected values come from the sample
loader's layer names, nibabel affines, numpy and nilearn's resampling.
"""

from __future__ import annotations

import contextlib
import json

import nibabel as nib
import numpy as np
from nilearn.image import resample_to_img

from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna._napari.session import StudySession
from tests.widgets.preproc.driving import file_of, wait_for


def test_pickers_show_the_session_and_write_to_it(panel_on, study, qtbot):
    viewer, panel, dock = panel_on()
    session = StudySession.of(viewer)
    form = dock.run_form
    csf = dock.csf.form.csf
    # the sample loader gave the session its run and masks: the tab shows them
    assert form.run.widget.value is session.run is viewer.layers["pain run (sub-01)"]
    assert form.brain.picker.widget.value is viewer.layers["brain mask"]
    assert csf.picker.widget.value is viewer.layers["CSF probability"]
    assert form.info.value == "180 volumes, TR 2 s, grid 61 x 75 x 53"
    # another tab changes the session's brain mask: the picker follows
    analysis = viewer.layers["analysis mask (second level)"]
    session.set_mask("brain", analysis)
    assert form.brain.picker.widget.value is analysis
    # a pick here goes to the session; the tab then uses that mask, resampled to the run
    form.brain.picker.widget.value = viewer.layers["brain mask"]
    assert session.masks["brain"] is viewer.layers["brain mask"]
    form.brain.picker.widget.value = analysis
    assert session.masks["brain"] is analysis
    grid = source_of(session.run).source.grid
    expected = resample_to_img(nib.load(file_of(analysis)), nib.load(study.bold).slicer[..., 0],
                               interpolation="nearest", force_resample=True,
                               copy_header=True).get_fdata() > 0
    np.testing.assert_array_equal(dock.ctx.brain_mask(grid), expected)
    # "(none)" in the CSF picker clears the session's CSF map; the CSF step then says so
    csf.picker.widget.value = None
    assert session.masks["csf"] is None
    dock.csf.compute_button.click()
    assert "Choose a CSF probability map" in dock.csf.status.text()
    # the session's run goes: the tab says what to open
    viewer.layers.remove(session.run)
    assert form.run.widget.value is None and session.run is None
    assert form.info.value.startswith("Open a 4D run")


def test_the_csf_step_says_which_map_it_used(panel_on, qtbot):
    viewer, panel, dock = panel_on()
    dock.csf.compute_button.click()
    wait_for(qtbot, dock.csf)
    assert "CSF mask from CSF probability:" in dock.csf.summary.text()


def test_masks_found_next_to_the_run_are_offered_then_used(dock_on, study, qtbot):
    viewer, dock = dock_on(study.bold)
    session = dock.session
    form = dock.run_form
    assert session.masks["brain"] is None and session.masks["csf"] is None
    assert not form.found_row.native.isHidden()
    assert study.brain_mask.name in form.found.value and study.csf_probseg.name in form.found.value
    n = len(viewer.layers)
    form.open_found.native.click()
    assert len(viewer.layers) == n + 2
    assert file_of(session.masks["brain"]) == study.brain_mask
    assert file_of(session.masks["csf"]) == study.csf_probseg
    assert not session.masks["brain"].visible and not session.masks["csf"].visible
    assert form.brain.picker.widget.value is session.masks["brain"]
    assert form.found_row.native.isHidden()


def box_roi(viewer, study, name, centre_ijk, half=(2, 2, 1)):
    """An ROI layer on the run grid: a box of voxels around ``centre_ijk``, label 1."""
    run = source_of(viewer.layers[study.bold.name.split(".")[0]]).source
    labels = np.zeros(run.grid.shape, np.uint8)
    labels[tuple(slice(c - h, c + h + 1) for c, h in zip(centre_ijk, half))] = 1
    return add_roi_layer(viewer, run.grid, run, run.name, labels=labels, names={1: name},
                         name=f"{name} ROI"), labels


def test_the_pag_is_the_sessions_roi_when_it_is_one(dock_on, study, qtbot):
    viewer, dock = dock_on()
    physio = dock.physio
    timing = json.loads(study.bold_json.read_text())["SliceTiming"]
    assert physio.form.slice_index.value == 21  # the literature PAG (z = -9 mm)
    assert "PAG: PAG seed (Satpute et al. 2013)" in physio.form.where.value
    # an ROI named PAG, drawn higher up, becomes the session's ROI: its slice samples
    layer, labels = box_roi(viewer, study, "PAG", (30, 40, 35))
    dock.session.set_roi(layer, 1)
    k = int(round(np.argwhere(labels).mean(axis=0)[2]))
    assert physio.form.slice_index.value == k == 35
    where = physio.form.where.value
    assert f"slice 35, {timing[35]:.3f} s" in where and "session ROI 'PAG' (PAG ROI)" in where
    # the GLM reports the PAG peak in that ROI: a mask file on the run grid named PAG
    with contextlib.ExitStack() as stack:
        (path,) = dock.ctx.report_rois(stack)
        img = nib.load(path)
        assert path.endswith("PAG.nii.gz")
        np.testing.assert_array_equal(np.asarray(img.dataobj) > 0, labels > 0)
        np.testing.assert_allclose(img.affine, nib.load(study.bold).affine)
    # an ROI with another name is not taken for the PAG
    rvm, _ = box_roi(viewer, study, "RVM", (30, 40, 10))
    dock.session.set_roi(rvm, 1)
    assert physio.form.slice_index.value == 21
    assert "PAG seed (Satpute et al. 2013)" in physio.form.where.value
    with contextlib.ExitStack() as stack:
        assert dock.ctx.report_rois(stack) == ("PAG",)
