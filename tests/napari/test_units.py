"""Every layer napari-milna makes carries mm on its spatial axes: napari never warns of units."""

from __future__ import annotations

import numpy as np
from napari.utils.notifications import notification_manager

from napari_milna._napari.layers import SPATIAL_UNITS, source_of
from napari_milna._napari.roi_layers import add_roi_layer

T_MAP = "drug x pain interaction (T, df 14)"


def test_the_sample_and_a_new_roi_layer_bring_no_units_warning(make_napari_viewer, qtbot):
    said = []

    def record(notification):
        said.append(str(getattr(notification, "message", notification)))

    notification_manager.notification_ready.connect(record)
    try:
        viewer = make_napari_viewer(show=True)
        viewer.open_sample("napari-milna", "sample_study")
        qtbot.wait(200)  # napari checks the units when it next draws the canvas
        tmap = viewer.layers[T_MAP]
        src = source_of(tmap)
        roi = add_roi_layer(viewer, src.grid, src.source, tmap.name,
                            labels=np.zeros(src.grid.shape, np.uint8), names={})
        qtbot.wait(200)
    finally:
        notification_manager.notification_ready.disconnect(record)
    assert not [text for text in said if "units" in text.lower()], said
    assert viewer.layers.extent.units is not None  # napari found one set of units
    for layer in viewer.layers:
        assert tuple(str(u) for u in layer.units)[-3:] == ("millimeter",) * 3, layer.name
    assert tuple(roi.units) == tuple(viewer.layers[T_MAP].units) and len(SPATIAL_UNITS) == 3
