"""The one picker of the tabs follows the study session: its choice, new layers and renames."""

from __future__ import annotations

from napari_milna._napari.session import StudySession
from napari_milna.widgets.panel.session_picker import SessionPicker


def test_a_renamed_layer_shows_its_new_name_in_the_picker(make_napari_viewer, spm_tmap):
    viewer = make_napari_viewer()
    viewer.open(str(spm_tmap), plugin="napari-milna")
    session = StudySession.of(viewer)
    picker = SessionPicker(session, "stat_map", "Map")
    tmap = viewer.layers["spmT_0001"]
    assert picker.widget.value is tmap and picker.widget.current_choice == "spmT_0001"
    announced = []
    session.layers_changed.connect(lambda: announced.append(True))
    tmap.name = "pain T"
    assert announced, "a rename is a change of the layers"
    assert picker.widget.value is tmap and picker.widget.current_choice == "pain T"
    assert [picker.widget.native.itemText(i) for i in range(picker.widget.native.count())] == [
        "(none)", "pain T"]
    viewer.layers.remove(tmap)
    tmap.name = "gone"  # a removed layer no longer speaks for the session
    assert session.stat_map is None and picker.widget.value is None
    assert len(announced) == 2  # the rename and the removal
