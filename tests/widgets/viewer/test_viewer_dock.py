"""The brainstem viewer dock, driven as a user would."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from scipy import stats

from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import MilnaPanel
from napari_milna.widgets.viewer.controls import ViewerControls
from napari_milna.widgets.viewer.dock import ViewerDock


@pytest.fixture
def dock_with(make_napari_viewer, qtbot):
    def make(*paths):
        viewer = make_napari_viewer()
        dock = ViewerDock(viewer)
        viewer.window.add_dock_widget(dock)
        for p in paths:
            viewer.open(p, plugin="napari-milna")
        return viewer, dock

    return make


def test_threshold_in_p_t_and_z(dock_with, spm_tmap):
    viewer, dock = dock_with(spm_tmap)
    stats_widget = dock.stats
    assert stats_widget.layer_combo.currentText() == "spmT_0001"
    assert stats_widget.df_spin.value() == 20.0
    layer = viewer.layers["spmT_0001"]
    src = layer.metadata["milna"]
    # p
    stats_widget.unit_combo.setCurrentIndex(0)
    stats_widget.value_spin.setValue(0.01)
    assert src.threshold == pytest.approx(stats.t.isf(0.01, 20), rel=1e-6)
    # Z 3.09 -> T with the same p at df 20
    stats_widget.unit_combo.setCurrentIndex(2)
    stats_widget.value_spin.setValue(3.09)
    assert src.threshold == pytest.approx(stats.t.isf(stats.norm.sf(3.09), 20), rel=1e-6)
    # changing df changes the threshold for the same Z
    stats_widget.df_spin.setValue(10)
    assert src.threshold == pytest.approx(stats.t.isf(stats.norm.sf(3.09), 10), rel=1e-6)
    # T directly
    stats_widget.unit_combo.setCurrentIndex(1)
    stats_widget.value_spin.setValue(4.5)
    assert src.threshold == pytest.approx(4.5)
    lo, hi = layer.contrast_limits
    alpha = layer.colormap.map(np.array([(4.4 - lo) / (hi - lo), (4.6 - lo) / (hi - lo)]))[:, 3]
    assert alpha[0] == pytest.approx(0, abs=1e-3) and alpha[1] == pytest.approx(1)
    assert "4.500" in stats_widget.result_label.text()


def test_cursor_readout_shows_world_voxel_and_value(dock_with, spm_tmap, epi_run):
    viewer, dock = dock_with(spm_tmap, epi_run)
    affine = nib.load(str(spm_tmap)).affine
    world = nib.affines.apply_affine(affine, [30, 30, 26])
    ViewerState.of(viewer).go_to_world(world)
    dock.cursor.show_at(world)
    rows = {
        dock.cursor.table.item(r, 0).text(): (
            dock.cursor.table.item(r, 1).text(),
            dock.cursor.table.item(r, 2).text(),
        )
        for r in range(dock.cursor.table.rowCount())
    }
    assert rows["spmT_0001"] == ("30, 30, 26", "9")
    # the run's own voxel for the same world point, and its value (100 t + k at volume 0)
    run_affine = nib.load(str(epi_run)).affine
    ijk = np.rint(nib.affines.apply_affine(np.linalg.inv(run_affine), world)).astype(int)
    run_row = rows["sub-01_task-pain_desc-preproc_bold"]
    if all(0 <= v < n for v, n in zip(ijk, (32, 40, 20))):
        assert run_row == (", ".join(map(str, ijk)), str(ijk[2]))
    else:
        assert run_row[0] == "outside"
    assert f"x {world[0]:.1f}" in dock.cursor.world_label.text()


def test_nan_voxel_reads_nan(dock_with, spm_tmap):
    viewer, dock = dock_with(spm_tmap)
    world = nib.affines.apply_affine(nib.load(str(spm_tmap)).affine, [0, 0, 0])
    dock.cursor.show_at(world)
    assert dock.cursor.table.item(0, 2).text() == "NaN"


def test_plane_buttons_and_radiological(dock_with, spm_tmap):
    viewer, dock = dock_with(spm_tmap)
    camera = viewer.scene.camera
    dock.display.plane_buttons["coronal"].click()
    assert viewer.dims.order == (1, 2, 0)  # slice y; rows z (S up); cols x
    assert tuple(camera.orientation2d) == ("up", "right")
    dock.display.plane_buttons["sagittal"].click()
    assert viewer.dims.order == (0, 2, 1)
    assert tuple(camera.orientation2d) == ("up", "left")  # anterior on the left
    dock.display.plane_buttons["axial"].click()
    dock.display.radiological.setChecked(True)
    assert tuple(camera.orientation2d) == ("up", "left")
    assert dock.orientation.text()["left"] == "R"
    dock.display.neurological.setChecked(True)
    assert tuple(camera.orientation2d) == ("up", "right")
    assert dock.orientation.text() == {"top": "A", "bottom": "P", "left": "L", "right": "R"}


def test_time_series_at_cursor(dock_with, epi_run, qtbot):
    viewer, dock = dock_with(epi_run)
    affine = nib.load(str(epi_run)).affine
    ijk = (10, 12, 7)
    ViewerState.of(viewer).go_to_world(nib.affines.apply_affine(affine, ijk))
    dock.timeseries.update_plot()
    qtbot.waitUntil(lambda: "tSNR" in dock.timeseries.status.text(), timeout=15000)
    expected = np.asarray(nib.load(str(epi_run)).dataobj)[ijk]
    np.testing.assert_array_equal(dock.timeseries.last_series, expected)
    assert f"voxel {ijk}" in dock.timeseries.status.text()


def test_click_moves_the_cursor(dock_with, spm_tmap):
    from napari.utils.interactions import (
        mouse_press_callbacks,
        mouse_release_callbacks,
    )

    viewer, dock = dock_with(spm_tmap)
    layer = viewer.layers["spmT_0001"]
    layer.mode = "pan_zoom"
    before = list(viewer.dims.point)
    target = list(before)
    target[0], target[1] = 12.0, -40.0

    class Event:
        type = "mouse_press"
        button = 1
        position = tuple(target)
        modifiers = ()
        is_dragging = False
        dims_displayed = list(viewer.dims.displayed)
        view_direction = None
        handled = False

    event = Event()
    mouse_press_callbacks(viewer, event)
    event.type = "mouse_release"
    mouse_release_callbacks(viewer, event)
    assert viewer.dims.point[0] == pytest.approx(12.0, abs=1.5)
    assert viewer.dims.point[1] == pytest.approx(-40.0, abs=1.5)
    # the click moved the session's cursor, and the cursor panel shows it
    world = ViewerState.of(viewer).world_point(viewer.dims.point)
    np.testing.assert_allclose(StudySession.of(viewer).cursor_mm, world)
    assert f"x {world[0]:.1f}  y {world[1]:.1f}" in dock.cursor.world_label.text()


def test_display_space_switch(dock_with, oblique_epi, spm_tmap):
    viewer, dock = dock_with(oblique_epi, spm_tmap)
    combo = dock.display.space_combo
    assert "sub-01_task-rest_bold" in combo.currentText()
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert ViewerState.of(viewer).space.is_world
    assert "world mm" in dock.display.space_note.text()


def test_plugin_dock_opens_by_plugin_name(make_napari_viewer):
    """What `napari -w napari-milna` does: the plugin's first dock is the milna panel, whose
    Viewer tab holds the brainstem viewer's controls (the dock stays in the Plugins menu)."""
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-milna")
    assert isinstance(widget, MilnaPanel)
    assert isinstance(widget.tab("Viewer"), ViewerControls)
    _, dock = viewer.window.add_plugin_dock_widget("napari-milna", "Brainstem viewer")
    assert isinstance(dock, ViewerDock)


def test_crosshair_follows_the_cursor(dock_with, spm_tmap):
    from napari_milna.widgets.viewer.cursor_overlay import OVERLAY_NAME, crosshair_segments

    viewer, dock = dock_with(spm_tmap)
    assert viewer.scene.overlays[OVERLAY_NAME].visible
    ViewerState.of(viewer).go_to_world((12.0, -30.0, 0.0))
    segments = crosshair_segments(viewer.dims.point, viewer.dims.displayed, gap=3.0)
    # axial: displayed (y, x): horizontal line at y, vertical line at x, gap of 3 mm around
    x, y = viewer.dims.point[0], viewer.dims.point[1]
    assert segments[1].tolist() == [x - 3.0, y] and segments[2].tolist() == [x + 3.0, y]
    assert segments[5].tolist() == [x, y - 3.0] and segments[6].tolist() == [x, y + 3.0]
    dock.crosshair.setChecked(False)
    assert not viewer.scene.overlays[OVERLAY_NAME].visible


def test_plugin_menu_dock_shares_the_viewer_state(make_napari_viewer, spm_tmap):
    """napari gives plugin docks a proxy viewer: one state per viewer all the same."""
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-milna", "Brainstem viewer")
    assert widget.state is ViewerState.of(viewer)
    n_states = len(ViewerState._registry)
    viewer.open(spm_tmap, plugin="napari-milna")
    assert len(ViewerState._registry) == n_states
    assert widget.stats.layer_combo.currentText() == "spmT_0001"


def test_a_run_shorter_than_the_volume_shown_reads_a_dash(dock_with, epi_run, tmp_path, qtbot):
    """At volume 9 of a 12-volume run, a second 5-volume run has no value: "—", no error."""
    from tests.conftest import write_nifti

    img = nib.load(str(epi_run))
    short = write_nifti(tmp_path / "sub-02_task-pain_desc-preproc_bold.nii.gz",
                        np.asarray(img.dataobj)[..., :5], img.affine, tr=2.0)
    viewer, dock = dock_with(epi_run, short)
    ijk = (10, 12, 7)
    world = nib.affines.apply_affine(img.affine, ijk)
    ViewerState.of(viewer).go_to_world(world)
    point = list(viewer.dims.point)
    point[0] = 9
    viewer.dims.point = point
    dock.cursor.show_at(world)
    rows = {dock.cursor.table.item(r, 0).text(): dock.cursor.table.item(r, 2).text()
            for r in range(dock.cursor.table.rowCount())}
    long_name, short_name = (p.name.split(".")[0] for p in (epi_run, short))
    assert rows[long_name] == str(int(np.asarray(img.dataobj)[ijk + (9,)]))
    assert rows[short_name] == "—"
    # the time series of the shorter run: its 5 volumes, no marker past its end, no error
    StudySession.of(viewer).set_run(viewer.layers[short_name])
    dock.timeseries.update_plot()
    qtbot.waitUntil(lambda: dock.timeseries.last_series is not None
                    and dock.timeseries.last_series.size == 5, timeout=15000)
    np.testing.assert_array_equal(dock.timeseries.last_series,
                                  np.asarray(img.dataobj)[ijk][:5])
