"""`milna view`: the command behind `./run sample`, with napari's event loop stubbed."""

import napari
import numpy as np
import pytest

from napari_milna._napari.viewer_state import ViewerState
from napari_milna.cli import main
from napari_milna.widgets.panel.panel import MilnaPanel


@pytest.fixture
def captured_viewer(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    monkeypatch.setattr(napari, "Viewer", lambda *a, **k: viewer)
    monkeypatch.setattr(napari, "run", lambda *a, **k: None)
    return viewer


def test_view_sample_study_opens_on_the_pag(captured_viewer):
    assert main(["view", "--sample", "--plane", "sagittal"]) == 0
    viewer = captured_viewer
    names = [layer.name for layer in viewer.layers]
    assert "drug x pain interaction (T, df 14)" in names and "pain run (sub-01)" in names
    # the one milna panel (its Viewer tab holds the brainstem viewer's controls)
    assert any(isinstance(w, MilnaPanel) for w in viewer.window.dock_widgets.values())
    state = ViewerState.of(viewer)
    assert state.plane == "sagittal"
    # the cursor sits on the PAG centroid (to the grid step)
    np.testing.assert_allclose(state.world_point(viewer.dims.point), (0.5, -31, -9), atol=1.6)


def test_view_refuses_bad_file_before_opening(captured_viewer, bad_files, capsys):
    assert main(["view", str(bad_files["two_d"])]) == 2
    assert "2D" in capsys.readouterr().err
    assert len(captured_viewer.layers) == 0
