"""Orthogonal views: built once, then shown and hidden; no side-plugin control tabs."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QApplication

from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.viewer.dock import ViewerDock
from napari_milna.widgets.viewer.ortho_views import OrthoViews, side_viewer_models


def test_built_once_then_shown_and_hidden(make_napari_viewer, spm_tmap, qtbot):
    viewer = make_napari_viewer(show=True)
    dock = ViewerDock(viewer)
    viewer.window.add_dock_widget(dock)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    state = ViewerState.of(viewer)
    state.go_to_world((0.5, -31.0, -9.0))
    views = OrthoViews.of(viewer)
    assert not views.built and side_viewer_models(viewer) == []

    dock.ortho.setChecked(True)
    QApplication.processEvents()
    assert views.built and views.shown and views.side.isVisible()
    first = views.models()
    assert len(first) == 2 and side_viewer_models(viewer) == first
    # the side plugin's "Controls | Screen Recorder" tabs are not shown
    assert not views.manager.controls_tab.isVisible()
    # the build kept the cursor where it was, and the side views share it
    np.testing.assert_allclose(StudySession.of(viewer).cursor_mm, (0.5, -31.0, -9.0),
                               atol=1e-9)
    # axial main view: sagittal above (slice x), coronal below (slice y)
    assert [m.dims.order[0] for m in first] == [0, 1]
    for model in first:
        np.testing.assert_allclose(model.dims.point, viewer.dims.point)

    dock.ortho.setChecked(False)
    QApplication.processEvents()
    assert views.built and not views.shown and not views.side.isVisible()
    assert side_viewer_models(viewer) == []

    dock.ortho.setChecked(True)
    QApplication.processEvents()
    assert views.shown and views.side.isVisible()
    again = views.models()
    assert all(a is b for a, b in zip(again, first))  # the same side viewers, not rebuilt
    # the plane switch re-orients the kept side views: coronal main -> sagittal, axial
    state.set_plane("coronal")
    assert [m.dims.order[0] for m in again] == [0, 2]
    # the crosshair switch reaches the side views
    dock.crosshair.setChecked(False)
    assert all(not m.scene.overlays["milna_cursor"].visible for m in again)


def test_hidden_side_views_follow_plane_and_crosshair(make_napari_viewer, spm_tmap, qtbot):
    viewer = make_napari_viewer(show=True)
    dock = ViewerDock(viewer)
    viewer.window.add_dock_widget(dock)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    dock.ortho.setChecked(True)
    dock.ortho.setChecked(False)
    views = OrthoViews.of(viewer)
    models = views.models()
    # while hidden: a plane switch and the crosshair switch still reach the side views
    ViewerState.of(viewer).set_plane("sagittal")
    dock.crosshair.setChecked(False)
    dock.ortho.setChecked(True)
    assert [m.dims.order[0] for m in models] == [1, 2]  # sagittal main: coronal, axial
    assert all(not m.scene.overlays["milna_cursor"].visible for m in models)


def test_closing_the_window_with_side_views_shown(make_napari_viewer, spm_tmap):
    """Closing gives napari-orthogonal-views its layout back without painting a closing
    canvas (that painting crashed the process: 'milna view --ortho', then close)."""
    viewer = make_napari_viewer(show=True)
    dock = ViewerDock(viewer)
    viewer.window.add_dock_widget(dock)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    dock.ortho.setChecked(True)
    QApplication.processEvents()
    views = OrthoViews.of(viewer)
    assert views.shown
    viewer.close()
    assert views.side is None and not views.shown
