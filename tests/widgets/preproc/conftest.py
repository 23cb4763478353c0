"""Shared set-up of the preprocessing tab tests: the sample study, the tab, its messages."""

from __future__ import annotations

import pytest

from napari_milna.widgets.panel import status as panel_status
from napari_milna.widgets.preproc.dock import PreprocessingDock

sample_data = pytest.importorskip("napari_milna.sample_data")


@pytest.fixture(scope="module")
def study():
    return sample_data.ensure_sample_study()


@pytest.fixture
def messages(monkeypatch):
    """Every notification the tab sends, as (level, text), still shown by napari."""
    sent = []
    for level, show in list(panel_status._NOTIFY.items()):
        def record(text, level=level, show=show):
            sent.append((level, text))
            show(text)
        monkeypatch.setitem(panel_status._NOTIFY, level, record)
    return sent


@pytest.fixture
def no_dialogs(monkeypatch):
    """Fail on any modal question the test did not answer."""
    from napari_milna.widgets.preproc.context import PreprocContext

    def unexpected(self, *args, **kwargs):
        raise AssertionError(f"unexpected dialog: {args[:1]}")

    monkeypatch.setattr(PreprocContext, "confirm", unexpected)
    monkeypatch.setattr(PreprocContext, "ask_save_path", unexpected)


@pytest.fixture
def dock_on(make_napari_viewer, study, tmp_path, no_dialogs, messages):
    """The dock with the sample run (and T1, CSF probability, brain mask) open."""
    def make(*paths):
        viewer = make_napari_viewer()
        dock = PreprocessingDock(viewer)
        viewer.window.add_dock_widget(dock, name="Preprocessing")
        for path in paths or (study.anat_t1w, study.bold, study.csf_probseg, study.brain_mask):
            viewer.open(path, plugin="napari-milna")
        dock.run_form.output.value = tmp_path / "out"
        return viewer, dock

    return make


@pytest.fixture
def panel_on(make_napari_viewer, study, tmp_path, no_dialogs, messages):
    """The milna panel on the sample study (napari's sample loader), Preprocessing in front."""
    from napari_milna.widgets.panel.panel import open_panel

    def make():
        viewer = make_napari_viewer()
        viewer.open_sample("napari-milna", "sample_study")
        panel = open_panel(viewer, tab="Preprocessing")
        dock = panel.tab("Preprocessing")
        dock.run_form.output.value = tmp_path / "out"
        return viewer, panel, dock

    return make
