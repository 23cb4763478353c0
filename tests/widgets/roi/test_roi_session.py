"""The ROIs tab on the study session, driven as a user would (real napari under Xvfb).

Which ROI the SVC, QC and Crossover tabs use, pickers bound both ways to the session,
the reference following the session's map, CSF exclusion while seeding, and ROI
outlines that leave the statistic visible. Expected voxels and numbers come from
nibabel, numpy and scipy in the test, and from napari's own rendering.
"""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt
from scipy import ndimage

from napari_milna._napari.compat import camera
from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import add_roi_layer, roi_data, roi_names
from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.roi.session import is_unsaved
from tests.widgets.roi.conftest import RAS_AFFINE, RAS_NAME, RAS_SHAPE, load, seed, world_of

STAT = RAS_NAME.split(".")[0]


def click_row(qtbot, table, row: int) -> None:
    """A mouse click on a row of a table (its first cell)."""
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def label_of(layer, name: str) -> int:
    return {v: k for k, v in roi_names(layer).items()}[name]


def cell(facts, name: str, column: str) -> str:
    from napari_milna.widgets.roi.facts_panel import COLUMNS

    return facts.table.item(facts.row_of(name), COLUMNS.index(column)).text()


# ----------------------------------------------------------------------------- the ROI in use
def test_seeding_rvm_leaves_the_session_on_the_roi_the_user_selected(
    make_napari_viewer, ras_study, qtbot
):
    viewer = make_napari_viewer(show=True)
    panel = open_panel(viewer, tab="ROIs")
    viewer.open(str(ras_study["stat"]), plugin="napari-milna")
    dock = panel.tab("ROIs")
    study = StudySession.of(viewer)
    assert study.roi_layer is None and "no ROI" in dock.in_use.value
    seed(dock, "PAG")
    layer = dock.session.roi_layer
    pag = label_of(layer, "PAG")
    # the first ROI seeded while the session has none becomes the session's ROI
    assert (study.roi_layer, study.roi_label) == (layer, pag)
    # the user selects the PAG (a click on its row), then seeds the RVM
    click_row(qtbot, dock.facts.table, dock.facts.row_of("PAG"))
    seed(dock, "RVM")
    rvm = label_of(layer, "RVM")
    assert rvm != pag and (roi_data(layer) == rvm).sum() > 0
    assert (study.roi_layer, study.roi_label) == (layer, pag)  # the RVM did not take over
    assert "ROI: PAG" in study.describe()
    assert "PAG" in dock.in_use.value and "RVM" not in dock.in_use.value
    assert f"label {pag} of {layer.name}" in dock.in_use.value
    assert "still use PAG" in dock.session.messages[-1]
    assert layer.selected_label == pag and "PAG" in dock.refine.target_label.value
    # the SVC tab searches the PAG
    svc = panel.show_tab("SVC")
    assert svc.form.roi_label.value == pag
    # selecting the RVM (the ROI picker) makes it the session's ROI, and the tab says so
    panel.show_tab("ROIs")
    dock.roi.value = rvm
    assert (study.roi_layer, study.roi_label) == (layer, rvm)
    assert "RVM" in dock.in_use.value and "PAG" not in dock.in_use.value
    assert svc.form.roi_label.value == rvm
    # a click on the PAG row, then napari's own label control, select as well
    click_row(qtbot, dock.facts.table, dock.facts.row_of("PAG"))
    assert study.roi_label == pag and dock.roi.value == pag
    layer.selected_label = rvm
    assert study.roi_label == rvm and dock.roi.value == rvm
    # a further seed does not take the RVM's place either
    dock.seed.name.value = "PAG sphere"
    seed(dock, "PAG", "sphere")
    assert label_of(layer, "PAG sphere") not in (pag, rvm)
    assert (study.roi_layer, study.roi_label) == (layer, rvm)


def test_a_choice_made_in_another_tab_shows_in_the_rois_tab(workbench, ras_study):
    viewer, dock = workbench(
        ras_study["stat"], ras_study["csf"], ras_study["csf_2mm"], ras_study["brain"],
        ras_study["coverage"],
    )
    study, facts = StudySession.of(viewer), dock.facts
    seed(dock, "PAG")
    seed(dock, "RVM")
    layer = dock.session.roi_layer
    pag, rvm = label_of(layer, "PAG"), label_of(layer, "RVM")
    # another tab (the SVC tab) chooses the RVM: picker, table row, tools and header follow
    study.set_roi(layer, rvm)
    assert dock.roi.value == rvm and layer.selected_label == rvm
    assert [c.text() for c in facts.table.selectedItems()][0] == "RVM"
    assert "RVM" in dock.in_use.value and "RVM" in dock.refine.target_label.value
    before = roi_data(layer).copy()
    dock.refine.distance.value = 2.5
    dock.refine.dilate_button.native.click()
    after = roi_data(layer)
    np.testing.assert_array_equal(after == pag, before == pag)
    assert (after == rvm).sum() > (before == rvm).sum() and np.all(after[before == rvm] == rvm)
    # another tab chooses the 2 mm CSF map: the picker and the CSF column follow
    csf_2mm = next(lay for lay in viewer.layers if "res-2_label-CSF" in lay.name)
    study.set_mask("csf", csf_2mm)
    assert facts.csf.widget.value is csf_2mm
    img = ras_study["csf_2mm"]
    import nibabel as nib

    image = nib.load(str(img))
    voxels = world_of(RAS_AFFINE, np.argwhere(after == pag))
    on_2mm = nib.affines.apply_affine(np.linalg.inv(image.affine), voxels)
    values = ndimage.map_coordinates(np.asarray(image.dataobj, float), on_2mm.T, order=1)
    assert float(cell(facts, "PAG", "CSF")) == pytest.approx(values.mean(), abs=0.005)
    # choices in the tab go to the session
    facts.brain.widget.value = None
    assert study.masks["brain"] is None and cell(facts, "PAG", "brain") == "-"
    brain = next(lay for lay in viewer.layers if "desc-brain_mask" in lay.name)
    facts.coverage.widget.value = brain
    assert study.masks["analysis"] is brain
    inside = load(ras_study["brain"])[after == pag] > 0
    assert float(cell(facts, "PAG", "cover")) == pytest.approx(inside.mean(), abs=0.005)
    facts.stat.widget.value = None
    assert study.stat_map is None and cell(facts, "PAG", "mean") == "-"


def test_the_reference_follows_the_sessions_map_until_the_user_picks_one(
    workbench, ras_study, spm_tmap
):
    viewer, dock = workbench(ras_study["stat"], spm_tmap)
    study = StudySession.of(viewer)
    ras, spm = viewer.layers[STAT], viewer.layers["spmT_0001"]
    assert study.stat_map is ras and dock.reference.value is ras
    # another tab chooses the SPM map: no ROI is drawn yet, so the reference follows
    study.set_stat_map(spm)
    assert dock.reference.value is spm and dock.facts.stat.widget.value is spm
    assert "61x73x61" in dock.grid_label.value  # the SPM grid's shape (the fixture's)
    # the user picks the RAS map as reference; the session keeps its map
    dock.reference.value = ras
    assert study.stat_map is spm and dock.session.reference_layer is ras
    study.set_stat_map(ras)
    study.set_stat_map(spm)
    assert dock.reference.value is ras  # picked: no longer follows
    seed(dock, "PAG")
    assert roi_data(dock.session.roi_layer).shape == RAS_SHAPE
    # an ROI on the SPM grid chosen in another tab brings its grid with it
    src = source_of(spm)
    other = add_roi_layer(
        viewer, src.grid, src.source, spm.name,
        labels=(np.asarray(spm.data) > 8).astype(np.uint8), names={1: "blob"},
    )
    study.set_roi(other, 1)
    assert dock.session.roi_layer is other and dock.reference.value is spm
    assert dock.roi.value == 1 and "blob" in dock.in_use.value


# ----------------------------------------------------------------------------- seeding
def test_seeding_can_leave_out_csf(workbench, ras_study):
    viewer, dock = workbench(ras_study["stat"], ras_study["csf"])
    seed(dock, "PAG")
    layer = dock.session.roi_layer
    full = roi_data(layer) == label_of(layer, "PAG")
    dock.facts.delete_button.native.click()
    assert not roi_data(layer).any()
    dock.seed.exclude_csf.value = True
    dock.seed.csf_level.value = 0.3
    seed(dock, "PAG")
    csf = load(ras_study["csf"])
    expected = full & ~(csf > 0.3)
    assert 0 < expected.sum() < full.sum()
    np.testing.assert_array_equal(roi_data(layer) == label_of(layer, "PAG"), expected)
    assert f"{int(full.sum() - expected.sum())} CSF voxels left out" in dock.session.messages[-1]


# ----------------------------------------------------------------------------- outlines
def unit_edges(plane: np.ndarray) -> set:
    """Midpoints of the pixel edges between a mask and the rest, by brute force."""
    edges = set()
    rows, cols = plane.shape
    for i in range(rows):
        for j in range(cols):
            if not plane[i, j]:
                continue
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                ni, nj = i + di, j + dj
                if not (0 <= ni < rows and 0 <= nj < cols and plane[ni, nj]):
                    edges.add((i + di / 2, j + dj / 2))
    return edges


def drawn_edges(vectors: np.ndarray, axis: int) -> set:
    """Midpoints of the unit edges the outline layer's segments cover."""
    in_plane = [a for a in range(3) if a != axis]
    edges = set()
    for start, step in vectors:
        length = int(round(np.abs(step).sum()))
        unit = step / length
        for t in range(length):
            mid = start + (t + 0.5) * unit
            edges.add(tuple(float(mid[a]) for a in in_plane))
    return edges


def centre_pixel(viewer) -> np.ndarray:
    shot = viewer.screenshot(canvas_only=True, flash=False)
    h, w = shot.shape[:2]
    return shot[h // 2, w // 2, :3].astype(int)


def test_rois_are_outlined_and_the_statistic_shows_inside(workbench, ras_study, qtbot):
    viewer, dock = workbench(ras_study["stat"], ras_study["brain"], show=True)
    brain = next(lay for lay in viewer.layers if "desc-brain_mask" in lay.name)
    study = StudySession.of(viewer)
    seed(dock, "PAG")
    layer = dock.session.roi_layer
    outlines = dock.session.outlines
    pag = roi_data(layer) == label_of(layer, "PAG")
    # an axial slice through the PAG, centred on a PAG voxel
    state = ViewerState.of(viewer)
    state.set_plane("axial")
    k = int(np.argmax(pag.sum(axis=(0, 1))))
    voxel = np.argwhere(pag[:, :, k])[0]
    camera(viewer).zoom = 20.0
    state.go_to_world(world_of(RAS_AFFINE, [voxel[0], voxel[1], k]))
    qtbot.waitUntil(
        lambda: outlines.companion(layer) is not None and len(outlines.companion(layer).data) > 0,
        timeout=3000,
    )
    outline = outlines.companion(layer)
    assert layer.opacity == 0 and outline.visible
    # the outline follows the voxel edges of the PAG in the slice shown
    vectors = np.asarray(outline.data)
    assert np.all(vectors[:, 0, 2] == k)
    assert drawn_edges(vectors, 2) == unit_edges(pag[:, :, k])
    # a mask the reader shows keeps its own display
    assert outlines.companion(brain) is None and brain.opacity > 0 and brain.contour == 0
    # not data: the session, the pickers and the guard leave the outline layer alone
    assert source_of(outline) is None and outline not in study.roi_layers()
    assert not is_unsaved(outline) and outline not in dock.session.layer_choices()
    # the statistic shows inside the outlined PAG as if there were no ROI; filled, it does not
    cursor = study.cursor_mm.copy()
    qtbot.wait(100)
    outlined = centre_pixel(viewer)
    layer.visible = False
    qtbot.waitUntil(lambda: not outline.visible, timeout=3000)
    bare = centre_pixel(viewer)
    layer.visible = True
    dock.outline.value = False
    assert outlines.companion(layer) is None and outline not in viewer.layers
    assert layer.opacity == pytest.approx(0.75) and layer.contour == 0
    filled = centre_pixel(viewer)
    assert np.abs(outlined - bare).max() <= 2
    assert np.abs(filled - bare).max() > 20
    np.testing.assert_allclose(study.cursor_mm, cursor)  # the toggle did not move the cursor
    # outlined again; a brush stroke shows in the outline
    dock.outline.value = True
    outline = outlines.companion(layer)
    assert outline is not None and layer.opacity == 0
    layer.paint((int(voxel[0]) + 6, int(voxel[1]), k), label_of(layer, "PAG"))
    qtbot.waitUntil(
        lambda: drawn_edges(np.asarray(outline.data), 2)
        == unit_edges(roi_data(layer)[:, :, k] == label_of(layer, "PAG")),
        timeout=3000,
    )
    # removing the ROI layer removes its outline
    viewer.layers.remove(layer)
    assert outline not in viewer.layers
