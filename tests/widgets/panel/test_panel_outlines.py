"""ROIs are outlined as soon as the panel is open, whichever tab the user works in.

The outline setting belongs to the viewer, not to the ROIs tab: an ROI painted in
napari's own "New labels" on the statistical map, with only the SVC tab ever shown, is
outlined along its voxel edges, and the ROIs tab, opened later, shows that same setting.
"""

from __future__ import annotations

import numpy as np

from napari_milna._napari.roi_layers import is_roi_layer
from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.roi.outlines import RoiOutlines


def test_a_painted_roi_is_outlined_before_the_rois_tab_is_shown(make_napari_viewer,
                                                                 spm_tmap, qtbot):
    viewer = make_napari_viewer()
    viewer.open(str(spm_tmap), plugin="napari-milna")
    panel = open_panel(viewer, tab="SVC")
    assert panel.pages["ROIs"].widget is None  # never shown, never built
    stat = StudySession.of(viewer).stat_map
    labels = np.zeros(stat.data.shape, np.uint8)
    labels[4:7, 5:8, 6] = 1  # a 3 x 3 patch in axial slice k = 6
    layer = viewer.add_labels(labels, name="PAG by hand", scale=stat.scale,
                              translate=stat.translate, affine=stat.affine, units=stat.units)
    assert is_roi_layer(layer)  # adopted onto the map's grid
    state = ViewerState.of(viewer)
    state.set_plane("axial")
    [outlines] = viewer.window._qt_window.findChildren(RoiOutlines)  # the panel made them
    state.go_to_world(layer.data_to_world([5, 6, 6])[-3:])
    qtbot.waitUntil(lambda: outlines.companion(layer) is not None
                    and len(outlines.companion(layer).data) > 0, timeout=5000)
    vectors = np.asarray(outlines.companion(layer).data)
    # the patch's four sides, along voxel edges (i 3.5 .. 6.5, j 4.5 .. 7.5), in slice k = 6
    sides = {(tuple(start), tuple(step)) for start, step in vectors.tolist()}
    assert sides == {((3.5, 4.5, 6.0), (0.0, 3.0, 0.0)), ((6.5, 4.5, 6.0), (0.0, 3.0, 0.0)),
                     ((3.5, 4.5, 6.0), (3.0, 0.0, 0.0)), ((3.5, 7.5, 6.0), (3.0, 0.0, 0.0))}
    assert layer.opacity == 0  # the T colours show inside
    rois = panel.show_tab("ROIs")
    assert rois.session.outlines is outlines and rois.outline.value is True
