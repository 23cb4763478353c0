"""The panel's "Open analysis..." button: an analysis folder as a unit, bad folders in a sentence.

napari's File > Open Folder asks which plugin reads a folder (its own reader claims every
folder too); the panel's button opens it with napari-milna's reader directly. The sample's
SPM folder gives the session its T map (df 14 from SPM.mat, read here with scipy) and its
analysis mask; a folder that is no analysis, or whose SPM.mat is not a MAT file, gives
one error notification naming the folder and adds no layer.
"""

from __future__ import annotations

import pytest
from napari_milna.sample_data import ensure_sample_study
from qtpy.QtCore import Qt
from scipy import io as sio

from napari_milna._napari.session import StudySession
from napari_milna.widgets.panel import session_bar
from napari_milna.widgets.panel.panel import open_panel


@pytest.fixture
def said(monkeypatch):
    told = []
    monkeypatch.setattr(session_bar, "notify", lambda level, text: told.append((level, text)))
    return told


def test_the_sample_spm_folder_opens_as_a_unit(make_napari_viewer, qtbot, monkeypatch, said):
    folder = ensure_sample_study().group_tmap.parent
    viewer = make_napari_viewer()
    panel = open_panel(viewer)
    monkeypatch.setattr(session_bar, "ask_analysis_folder", lambda parent, start="": folder)
    qtbot.mouseClick(panel.session_bar.analysis_button, Qt.MouseButton.LeftButton)
    session = StudySession.of(viewer)
    spm = sio.loadmat(str(folder / "SPM.mat"), squeeze_me=True, struct_as_record=False)["SPM"]
    assert session.stat_map is not None and session.stat_map.name.endswith(
        f"(T, df {spm.xX.erdf:g})")
    assert session.masks["analysis"] is not None
    assert session.analysis is not None
    assert said == []
    assert panel.session_bar.status.text().endswith(str(folder))


@pytest.mark.parametrize("kind", ["empty", "bad SPM.mat"])
def test_a_folder_that_is_no_analysis_is_one_notification(make_napari_viewer, tmp_path, said,
                                                          kind, monkeypatch):
    from napari_milna._napari import reader

    monkeypatch.setattr(reader, "show_error", lambda text: said.append(("error", text)))
    folder = tmp_path / "first_level"
    folder.mkdir()
    if kind == "bad SPM.mat":
        (folder / "SPM.mat").write_bytes(b"not a MATLAB file at all")
    viewer = make_napari_viewer()
    panel = open_panel(viewer)
    assert panel.session_bar.open_analysis(folder) == []
    assert len(viewer.layers) == 0
    assert len(said) == 1 and said[0][0] == "error" and str(folder) in said[0][1]


def test_the_message_of_a_bad_folder(make_napari_viewer, tmp_path, said):
    viewer = make_napari_viewer()
    panel = open_panel(viewer)
    panel.session_bar.open_analysis(tmp_path)
    [(level, text)] = said
    assert text == (f"{tmp_path}: is not an analysis folder (no SPM.mat, FEAT stats/, "
                    "randomise outputs or BIDS stat- maps found).")
