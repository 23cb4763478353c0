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


def test_opening_the_sample_sets_map_masks_and_run(make_napari_viewer):
    from napari_milna.sample_data import ensure_sample_study

    study = ensure_sample_study()
    viewer = make_napari_viewer()
    viewer.open_sample("napari-milna", "sample_study")
    session = StudySession.of(viewer)

    def path_of(layer):
        return layer.metadata["milna"].source.path

    # SPM's second-level mask.nii next to the group T map is the analysis mask
    assert path_of(session.masks["analysis"]) == study.group_mask
    assert study.group_mask.parent == study.group_tmap.parent
    assert path_of(session.stat_map) == study.group_tmap
    assert path_of(session.masks["brain"]) == study.brain_mask
    assert path_of(session.masks["csf"]) == study.csf_probseg
    assert path_of(session.run) == study.bold
    assert "analysis mask: analysis mask (second level)" in session.describe()
    # the roles were taken once: the metadata does not carry them any more
    assert all(lay.metadata["milna"].session_role is None for lay in viewer.layers)


def test_the_cursor_follows_the_dims_point_and_moves_it(make_napari_viewer, spm_tmap):
    from napari_milna._napari.viewer_state import ViewerState

    viewer = make_napari_viewer()
    viewer.open(str(spm_tmap), plugin="napari-milna")
    session, state = StudySession.of(viewer), ViewerState.of(viewer)
    state.go_to_world((0.5, -31.0, -9.0))
    np.testing.assert_allclose(session.cursor_mm, (0.5, -31.0, -9.0), atol=1e-9)
    np.testing.assert_allclose(state.world_point(viewer.dims.point), (0.5, -31.0, -9.0),
                               atol=1e-9)
    session.set_cursor((10.0, -20.0, 5.0))
    np.testing.assert_allclose(state.world_point(viewer.dims.point), (10.0, -20.0, 5.0),
                               atol=1e-9)
    viewer.dims.point = (3.0, -21.0, 6.0)  # LAS grid: world x = display x
    np.testing.assert_allclose(session.cursor_mm, state.world_point(viewer.dims.point))
    # a plane switch keeps the cursor where it is
    state.set_plane("coronal")
    np.testing.assert_allclose(session.cursor_mm, state.world_point(viewer.dims.point))
