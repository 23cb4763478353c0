"""The study session: one per viewer, shared through napari's plugin proxy, follows layers."""

from __future__ import annotations

import numpy as np
import pytest
from napari.utils._proxies import PublicOnlyProxy

from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna._napari.session import Smoothness, StudySession
from napari_milna.core.io.nifti import open_nifti


def test_one_session_per_viewer_also_behind_the_plugin_proxy(make_napari_viewer):
    viewer = make_napari_viewer()
    proxy = PublicOnlyProxy(viewer)
    assert StudySession.of(proxy) is StudySession.of(viewer)
    assert StudySession.of(make_napari_viewer()) is not StudySession.of(viewer)


def test_first_stat_map_and_run_are_chosen_and_removal_clears(
    make_napari_viewer, spm_tmap, epi_run
):
    viewer = make_napari_viewer()
    session = StudySession.of(viewer)
    seen = []
    session.stat_map_changed.connect(seen.append)
    viewer.open(str(spm_tmap), plugin="napari-milna")
    viewer.open(str(epi_run), plugin="napari-milna")
    tmap = viewer.layers["spmT_0001"]
    assert session.stat_map is tmap and seen == [tmap]
    (run,) = [lay for lay in viewer.layers if lay.data.ndim == 4]
    assert session.run is run
    viewer.layers.remove(tmap)
    assert session.stat_map is None and seen == [tmap, None]


def test_roi_choice_names_the_label_and_follows_removal(make_napari_viewer, spm_tmap):
    viewer = make_napari_viewer()
    viewer.open(str(spm_tmap), plugin="napari-milna")
    source = open_nifti(spm_tmap)
    labels = np.zeros(source.grid.shape, np.uint8)
    labels[30, 30, 26] = 1
    labels[30, 30, 10] = 2
    layer = add_roi_layer(viewer, source.grid, source, "spmT_0001", labels=labels,
                          names={1: "PAG", 2: "RVM"})
    session = StudySession.of(viewer)
    changes = []
    session.roi_changed.connect(lambda lay, lab: changes.append((lay, lab)))
    session.set_roi(layer, 2)
    session.set_roi(layer, 2)  # no change, no signal
    assert changes == [(layer, 2)]
    assert "ROI: RVM" in session.describe()
    viewer.layers.remove(layer)
    assert session.roi_layer is None and session.roi_label == 0


def test_masks_smoothness_and_cursor(make_napari_viewer):
    session = StudySession.of(make_napari_viewer())
    with pytest.raises(ValueError):
        session.set_mask("grey", None)
    got = []
    session.cursor_changed.connect(got.append)
    session.set_cursor((0.5, -31.0, -9.0))
    session.set_cursor((0.5, -31.0, -9.0))
    assert len(got) == 1 and np.allclose(got[0], (0.5, -31.0, -9.0))
    smooth = Smoothness((6.0, 6.0, 7.5), "typed")
    session.set_smoothness(smooth)
    assert session.smoothness.describe() == "FWHM 6 x 6 x 7.5 mm (typed)"
