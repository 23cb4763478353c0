"""An atlas is an input, never an ROI: closing the sample writes no recovery copy of it.

The sample opens Harvard-Oxford as a built-in atlas (a labels layer that comes from no
file of the user's); the unsaved-edits guard must leave it alone, as it leaves masks
read from files alone, while it still guards an ROI drawn in the same viewer.
"""

from __future__ import annotations

from napari_milna._napari.roi_layers import is_roi_layer
from napari_milna._napari.session import StudySession
from napari_milna.widgets.roi.guard import UnsavedGuard
from napari_milna.widgets.roi.session import is_unsaved


def test_the_sample_atlas_is_not_guarded_as_an_roi(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-milna", "sample_study")
    guard = UnsavedGuard.install(viewer)
    atlas = StudySession.of(viewer).atlas
    assert atlas is not None and atlas.name == "Harvard-Oxford atlas"
    assert not is_roi_layer(atlas) and not is_unsaved(atlas)
    assert guard.unsaved_layers() == []
    viewer.layers.remove(atlas)  # removing it keeps no recovery copy
    assert guard.recovered == [] and not (tmp_path / "recovery").exists()
