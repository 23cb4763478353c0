"""The one milna panel, driven as a user would: tabs, the cursor strip, the canvas width,
one cursor for every read-out, and the crossover's hand-off to the SVC tab."""

from __future__ import annotations

import re

import nibabel as nib
import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication

from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.crossover.dock import CrossoverDock
from napari_milna.widgets.crossover.svc_handoff import find_svc_dock, send_to_svc
from napari_milna.widgets.panel.panel import TAB_TITLES, MilnaPanel, find_panel, open_panel
from napari_milna.widgets.preproc.dock import PreprocessingDock
from napari_milna.widgets.qc.dock import QCDock
from napari_milna.widgets.roi.dock import RoiWorkbench
from napari_milna.widgets.svc.dock import SvcDock
from napari_milna.widgets.viewer.controls import ViewerControls
from napari_milna.widgets.viewer.cursor_overlay import OVERLAY_NAME

PAG = (0.5, -31.0, -9.0)
WORLD_TEXT = re.compile(r"x (-?\d+\.\d)\s+y (-?\d+\.\d)\s+z (-?\d+\.\d) mm")


def world_in(text: str) -> tuple[float, float, float]:
    """The world mm a read-out's text shows."""
    match = WORLD_TEXT.search(text)
    assert match is not None, text
    return tuple(float(v) for v in match.groups())


def crosshair_world(viewer) -> np.ndarray:
    """World mm at the centre of the crosshair as drawn on the canvas (its vispy line)."""
    overlay = viewer.scene.overlays[OVERLAY_NAME]
    visuals = viewer.window._qt_viewer.canvas._viewer_overlay_to_visual[overlay]
    visual = visuals[0] if isinstance(visuals, list) else visuals
    pos = np.asarray(visual.node.pos)
    left_end, right_start = pos[1], pos[2]  # the horizontal line stops either side of the gap
    col, row = (left_end[0] + right_start[0]) / 2, left_end[1]
    point = list(viewer.dims.point)
    row_axis, col_axis = viewer.dims.displayed[-2], viewer.dims.displayed[-1]
    point[row_axis], point[col_axis] = row, col
    return ViewerState.of(viewer).world_point(point)


def test_six_tabs_over_a_permanent_cursor_strip(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    panel = open_panel(viewer)
    assert find_panel(viewer) is panel and isinstance(panel, MilnaPanel)
    titles = [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
    assert titles == list(TAB_TITLES) == [
        "Viewer", "ROIs", "SVC", "QC", "Crossover", "Preprocessing"]
    # feature tabs are built when first shown, from the feature docks' classes
    assert all(panel.built_tab(title) is None for title in TAB_TITLES[1:])
    kinds = [ViewerControls, RoiWorkbench, SvcDock, QCDock, CrossoverDock, PreprocessingDock]
    for index, (title, kind) in enumerate(zip(TAB_TITLES, kinds)):
        panel.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        assert isinstance(panel.built_tab(title), kind)
        # the cursor read-out and the time series stay visible under every tab
        assert panel.strip.isVisible() and panel.cursor.isVisible()
        assert panel.timeseries.isVisible() and panel.cursor.goto_button.isVisible()
        assert panel.strip.parentWidget() is panel.splitter
    # opening it again (as the hand-off does) brings a tab forward in the same panel
    assert open_panel(viewer, tab="QC") is panel
    assert panel.tabs.tabText(panel.tabs.currentIndex()) == "QC"


@pytest.mark.parametrize("opened_by", ["milna view", "Plugins menu"])
def test_canvas_keeps_two_thirds_of_a_1600_px_window(make_napari_viewer, spm_tmap, qtbot,
                                                     opened_by):
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1600, 1000)
    if opened_by == "milna view":
        panel = open_panel(viewer)
    else:
        dock_widget, panel = viewer.window.add_plugin_dock_widget("napari-milna", "milna panel")
        qtbot.waitUntil(lambda: dock_widget in window.tabifiedDockWidgets(
            viewer.window._qt_viewer.dockLayerControls))
    viewer.open(str(spm_tmap), plugin="napari-milna")  # napari's image controls: their widest
    canvas = viewer.window._qt_viewer.canvas.native
    for index in range(panel.tabs.count()):  # the widest tab decides
        panel.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        qtbot.wait(20)
        assert window.width() == 1600
        assert canvas.width() >= 2 / 3 * window.width(), (panel.tabs.tabText(index),
                                                          canvas.width())
        assert panel.isVisible()


def test_go_to_and_a_plane_switch_leave_every_readout_on_one_cursor(
    make_napari_viewer, spm_tmap, epi_run, qtbot
):
    viewer = make_napari_viewer(show=True)
    panel = open_panel(viewer)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    viewer.open(str(epi_run), plugin="napari-milna")
    session = StudySession.of(viewer)
    viewer.mouse_over_canvas = False  # the user's mouse is on the panel, not on the canvas
    panel.cursor.goto_edit.setText("0.5, -31, -9")
    qtbot.mouseClick(panel.cursor.goto_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.controls.display.plane_buttons["sagittal"], Qt.MouseButton.LeftButton)
    assert ViewerState.of(viewer).plane == "sagittal" and viewer.dims.order == (0, 1, 3, 2)
    qtbot.waitUntil(lambda: "tSNR" in panel.timeseries.status.text(), timeout=15000)
    QApplication.processEvents()

    np.testing.assert_allclose(session.cursor_mm, PAG, atol=1e-9)
    readouts = {
        "cursor panel": world_in(panel.cursor.world_label.text()),
        "crosshair": crosshair_world(viewer),
        "time series": world_in(panel.timeseries.status.text()),
        "status bar": world_in(str(viewer.status)),
        "dims point": ViewerState.of(viewer).world_point(viewer.dims.point),
    }
    for name, world in readouts.items():
        np.testing.assert_allclose(world, PAG, atol=0.05, err_msg=name)
    np.testing.assert_allclose(panel.timeseries.last_world, PAG, atol=1e-9)
    # ... and the voxels read there are the ones under that world point (by nibabel)
    rows = {panel.cursor.table.item(r, 0).text(): panel.cursor.table.item(r, 1).text()
            for r in range(panel.cursor.table.rowCount())}
    for path, name in ((spm_tmap, "spmT_0001"), (epi_run, "sub-01_task-pain_desc-preproc_bold")):
        affine = nib.load(str(path)).affine
        ijk = np.rint(nib.affines.apply_affine(np.linalg.inv(affine), PAG)).astype(int)
        assert rows[name] == ", ".join(map(str, ijk))
    run = nib.load(str(epi_run)).dataobj
    ijk = np.rint(nib.affines.apply_affine(np.linalg.inv(nib.load(str(epi_run)).affine), PAG))
    np.testing.assert_array_equal(panel.timeseries.last_series, run[tuple(ijk.astype(int))])


def test_the_session_cursor_moves_the_viewer_and_the_readouts(make_napari_viewer, spm_tmap,
                                                              qtbot):
    """A tab that sets the session cursor (a peak in a table) moves everything with it."""
    viewer = make_napari_viewer(show=True)
    panel = open_panel(viewer)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    viewer.mouse_over_canvas = False
    StudySession.of(viewer).set_cursor((12.0, -40.5, 3.0))
    np.testing.assert_allclose(ViewerState.of(viewer).world_point(viewer.dims.point),
                               (12.0, -40.5, 3.0), atol=1e-9)
    assert world_in(panel.cursor.world_label.text()) == (12.0, -40.5, 3.0)
    np.testing.assert_allclose(crosshair_world(viewer), (12.0, -40.5, 3.0), atol=0.05)
    assert world_in(str(viewer.status)) == (12.0, -40.5, 3.0)
    # napari's own slider moves the session cursor too (axial: the slider is z)
    ViewerState.of(viewer).set_plane("axial")
    step = list(viewer.dims.current_step)
    step[viewer.dims.order[0]] += 2
    viewer.dims.current_step = tuple(step)
    z = ViewerState.of(viewer).world_point(viewer.dims.point)[2]
    assert StudySession.of(viewer).cursor_mm[2] == pytest.approx(z)
    assert world_in(panel.cursor.world_label.text())[2] == pytest.approx(z, abs=0.05)


def test_send_group_t_to_svc_sets_the_session_stat_map(make_napari_viewer, spm_tmap, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    session = StudySession.of(viewer)
    first = session.stat_map
    assert first is not None and first.name == "spmT_0001"
    seen = []
    session.stat_map_changed.connect(seen.append)
    assert find_svc_dock(viewer) is None
    layer, message = send_to_svc(viewer, spm_tmap, "crossover group T: interaction")
    assert session.stat_map is layer is not first and seen == [layer]
    assert layer.metadata["milna"].df == 20.0
    panel = find_panel(viewer)  # opened on its SVC tab
    assert panel.tabs.tabText(panel.tabs.currentIndex()) == "SVC"
    assert isinstance(find_svc_dock(viewer), SvcDock)
    assert message == ("crossover group T: interaction (T, df 20) selected as the "
                       "statistical map of the SVC tab.")
    # a second hand-off reuses the layer and the panel
    again, _ = send_to_svc(viewer, spm_tmap, "crossover group T: interaction")
    assert again is layer and find_panel(viewer) is panel
    assert sum(lay.name == "crossover group T: interaction" for lay in viewer.layers) == 1


def test_a_tab_that_cannot_be_built_says_so_and_the_others_work(make_napari_viewer, qtbot,
                                                                monkeypatch):
    import napari_milna.widgets.panel.panel as panel_module

    def broken(viewer):
        raise ImportError("cannot import name 'x' from 'napari_milna.widgets.qc'")

    tabs = tuple((title, broken if title == "QC" else build)
                 for title, build in panel_module.FEATURE_TABS)
    monkeypatch.setattr(panel_module, "FEATURE_TABS", tabs)
    viewer = make_napari_viewer(show=True)
    panel = open_panel(viewer)
    assert panel.show_tab("QC") is None
    assert "The QC tab could not be opened: ImportError" in panel.pages["QC"].error
    assert isinstance(panel.show_tab("SVC"), SvcDock) and panel.strip.isVisible()
