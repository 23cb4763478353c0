"""Sessions in the viewer: "Save session..." and "Open session..." give the same view and SVC.

The panel's buttons are pressed as a user would; only the file dialogs answer with a
path. The SVC of the reopened session is computed by the core from what the session
holds and compared with the one before saving, and with ``milna svc`` on the files the
session wrote.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from napari_milna._napari.layers import grid_data, source_of
from napari_milna._napari.roi_layers import add_roi_layer, roi_names
from napari_milna._napari.session import Smoothness, StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.cli import main
from napari_milna.core.roi.seeds import seed_roi
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm
from napari_milna.widgets.panel import session_bar
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.roi.session import is_unsaved
from tests.conftest import write_nifti

T_MAP = "drug x pain interaction (T, df 14)"


def svc_of(viewer) -> dict:
    """The SVC of the session's map, ROI, analysis mask, df and smoothness (the core's).

    With the map's folder: its RPV image for cluster extents, as ``milna svc`` does.
    """
    s = StudySession.of(viewer)
    src = source_of(s.stat_map)
    data = np.asarray(src.source.volume(), dtype=float)
    roi = np.asarray(grid_data(s.roi_layer)) == s.roi_label
    mask_layer = s.masks["analysis"]
    mask = None if mask_layer is None else np.asarray(grid_data(mask_layer)) != 0
    folder = s.folder_map(s.stat_map)
    fwhm = tuple(s.smoothness.fwhm_mm)
    if folder is not None and folder.smoothness is not None and \
            tuple(folder.smoothness.fwhm_mm) == fwhm:
        smoothness = folder.smoothness
    else:
        smoothness = smoothness_from_fwhm_mm(fwhm, src.grid)
    rpv = folder.rpv if folder is not None else None  # SPM's RPV.nii, as milna svc
    return small_volume_correction(data, roi, src.grid, smoothness, src.info.stat_type,
                                   src.df, analysis_mask=mask, rpv=rpv).to_dict()


def view_of(viewer) -> dict:
    """What the view shows: layers in order with their display, the choices, cursor, plane."""
    s = StudySession.of(viewer)
    state = ViewerState.of(viewer)
    layers = []
    for layer in viewer.layers:
        src = source_of(layer)
        item = {"name": layer.name, "type": type(layer).__name__, "opacity": layer.opacity,
                "visible": layer.visible, "blending": str(layer.blending)}
        if hasattr(layer, "contrast_limits"):
            item["limits"] = [round(float(v), 9) for v in layer.contrast_limits]
            # napari numbers colour maps made at run time ("milna-stat (2)"): not a display
            item["colormap"] = re.sub(r" \(\d+\)$", "", layer.colormap.name)
            item["colors"] = np.asarray(layer.colormap.colors).round(9).tolist()
            item["interpolation"] = str(layer.interpolation2d)
        if src is not None and src.info.stat_type is not None and not src.is_run:
            item["stat"] = (src.threshold, src.vmax, src.df)
        if src is not None and src.roi is not None:
            item["labels"] = np.asarray(grid_data(layer)).tolist()
            item["names"] = roi_names(layer)
        layers.append(item)
    return {
        "layers": layers,
        "choices": [getattr(s.stat_map, "name", None), getattr(s.roi_layer, "name", None),
                    s.roi_label, getattr(s.run, "name", None), getattr(s.atlas, "name", None),
                    {r: getattr(m, "name", None) for r, m in s.masks.items()}],
        "smoothness": s.smoothness,
        "cursor": np.asarray(s.cursor_mm).tolist(),
        "plane": state.plane, "radiological": state.radiological,
        "space": None if state.space.is_world else state.space.reference,
    }


def _answer(monkeypatch, name, path):
    monkeypatch.setattr(session_bar, name, lambda *args: path)


def test_sample_session_reopens_the_same_view_and_svc(make_napari_viewer, monkeypatch,
                                                      tmp_path, capsys):
    viewer = make_napari_viewer()
    panel = open_panel(viewer)
    viewer.open_sample("napari-milna", "sample_study")
    s = StudySession.of(viewer)
    tmap = viewer.layers[T_MAP]
    src = source_of(tmap)
    seed = seed_roi("PAG", src.source)
    labels = seed.mask.astype(np.uint8)
    roi = add_roi_layer(viewer, src.grid, src.source, tmap.name, labels, {1: "PAG"},
                        name="PAG")
    s.set_roi(roi, 1)
    # an edit after seeding: one more voxel, never saved
    extra = tuple(np.argwhere(seed.mask)[0] + (0, 0, 1))
    roi.data_setitem(tuple(np.array([v]) for v in extra), 1)
    assert is_unsaved(roi)
    # the user's display: a p threshold, a colour map, opacity, order, plane, convention
    stats = panel.controls.stats
    stats.layer_combo.setCurrentText(T_MAP)
    stats.unit_combo.setCurrentIndex(0)
    stats.value_spin.setValue(0.005)
    viewer.layers["T1w template"].colormap = "viridis"
    viewer.layers["CSF probability"].opacity = 0.25
    viewer.layers["CSF probability"].visible = True
    viewer.layers.move(viewer.layers.index("Harvard-Oxford atlas"), len(viewer.layers))
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    state.set_radiological(True)
    state.go_to_world((2.5, -32.5, -9.0))
    before_view, before_svc = view_of(viewer), svc_of(viewer)
    assert before_svc["n_voxels"] == int(seed.mask.sum()) + 1

    path = tmp_path / "study" / "pag.milna-session.json"
    path.parent.mkdir()
    _answer(monkeypatch, "ask_session_to_save", path)
    panel.session_bar.save_button.click()
    assert path.is_file()
    (roi_file,) = path.parent.glob("*_dseg.nii.gz")
    assert roi_file.name == "pag_desc-PAG_dseg.nii.gz"
    assert not is_unsaved(roi)  # the edit is saved with the session
    data = json.loads(path.read_text())
    assert data["view"]["cursor_mm"] == [2.5, -32.5, -9.0]

    other = make_napari_viewer()
    panel2 = open_panel(other)
    _answer(monkeypatch, "ask_session_to_open", path)
    panel2.session_bar.open_button.click()
    after_view = view_of(other)
    assert [layer["name"] for layer in after_view["layers"]] == [
        layer["name"] for layer in before_view["layers"]]
    for a, b in zip(after_view["layers"], before_view["layers"]):
        assert a == b, a["name"]
    for key in ("choices", "smoothness", "plane", "radiological", "space"):
        assert after_view[key] == before_view[key], key
    np.testing.assert_allclose(after_view["cursor"], before_view["cursor"], atol=1e-9)
    assert svc_of(other) == before_svc
    # the p threshold came back as its T (scipy: t with 14 df, one-sided 0.005)
    from scipy import stats as sps

    threshold = source_of(other.layers[T_MAP]).threshold
    assert threshold == pytest.approx(sps.t.isf(0.005, 14), rel=1e-9)
    # milna svc on the files the session names gives the same numbers
    capsys.readouterr()
    status = main(["svc", str(src.source.path), str(roi_file), "--label", "1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    for key in ("n_voxels", "resels", "peak", "threshold_fwe", "clusters", "set_level"):
        assert out[key] == before_svc[key], key


@pytest.fixture
def small_study(tmp_path):
    """A T map (df 14 in its header), a T1w and a brain mask on a small MNI grid."""
    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    affine[:3, 3] = (-25.0, -45.0, -30.0)
    rng = np.random.default_rng(3)
    tmap = rng.normal(size=(20, 20, 16)).astype(np.float32)
    tmap[10, 9, 7] = 6.0
    tmap[11, 9, 7] = 4.5
    folder = tmp_path / "data"
    folder.mkdir()
    paths = {
        "tmap": write_nifti(folder / "spmT_0001.nii", tmap, affine, 4,
                            "SPM{T_[14.0]} - contrast 1: pain"),
        "t1w": write_nifti(folder / "sub-01_desc-preproc_T1w.nii.gz",
                           rng.uniform(0, 1, (20, 20, 16)).astype(np.float32), affine, 4),
    }
    return paths


def _open_small(make_napari_viewer, small_study):
    viewer = make_napari_viewer()
    panel = open_panel(viewer)
    viewer.open([str(small_study["t1w"]), str(small_study["tmap"])], plugin="napari-milna")
    s = StudySession.of(viewer)
    src = source_of(s.stat_map)
    labels = np.zeros(src.grid.shape, np.uint8)
    labels[9:12, 8:11, 6:9] = 1
    roi = add_roi_layer(viewer, src.grid, src.source, s.stat_map.name, labels, {1: "blob"},
                        name="blob ROI")
    s.set_roi(roi, 1)
    s.set_smoothness(Smoothness((6.0, 6.0, 6.0), "typed"))
    return viewer, panel


def test_a_missing_file_is_said_and_the_rest_opens(make_napari_viewer, small_study,
                                                  monkeypatch, tmp_path):
    viewer, panel = _open_small(make_napari_viewer, small_study)
    before = svc_of(viewer)
    path = tmp_path / "s.milna-session.json"
    assert panel.session_bar.save(path) == path
    said = []
    monkeypatch.setattr(session_bar, "notify", lambda level, text: said.append((level, text)))
    # never over an existing session without asking
    assert panel.session_bar.save(path) is None
    assert said[-1][0] == "error" and "already exists" in said[-1][1]
    small_study["t1w"].unlink()
    other = make_napari_viewer()
    panel2 = open_panel(other)
    restored = panel2.session_bar.open(path)
    assert [layer.name for layer in other.layers] == ["spmT_0001", "blob ROI"]
    level, text = said[-1]
    assert level == "warning" and str(small_study["t1w"]) in text and "does not exist" in text
    assert restored.missing and svc_of(other) == before
    # a file that is not a session: one sentence, the viewer unchanged
    bad = tmp_path / "bad.json"
    bad.write_text('{"Columns": []}')
    monkeypatch.setattr(session_bar, "ask_replace", lambda *a: "open")
    assert panel2.session_bar.open(bad) is None
    assert said[-1][0] == "error" and "is not a napari-milna session file" in said[-1][1]
    assert [layer.name for layer in other.layers] == ["spmT_0001", "blob ROI"]


def test_report_button_writes_the_page_of_the_viewer(make_napari_viewer, small_study,
                                                     monkeypatch, tmp_path, qtbot):
    from tests.cli.report_tables import key_values, read_report

    viewer, panel = _open_small(make_napari_viewer, small_study)
    expected = svc_of(viewer)
    out = tmp_path / "report.html"
    _answer(monkeypatch, "ask_report_path", out)
    bar = panel.session_bar
    with qtbot.waitSignal(bar.runner.finished, timeout=120_000) as blocker:
        bar.report_button.click()
    assert blocker.args[0] == "ok", blocker.args
    page = read_report(out.read_text(encoding="utf-8"))
    peak = page.tables["svc-peak:0"][0]
    for key in ("value", "z", "p_fwe", "p_uncorrected", "q_fdr"):
        assert peak[key] == expected["peak"][key], key
    search = key_values(page.tables["svc-search:0"])
    assert [search[f"resels_r{d}"] for d in range(4)] == expected["resels"]
    assert search["smoothness_source"] == "typed"
    assert bar._report_folder is None  # the temporary session is gone
    assert is_unsaved(viewer.layers["blob ROI"])  # a report saves nothing


def test_milna_view_session_opens_it(make_napari_viewer, small_study, monkeypatch, tmp_path,
                                     capsys):
    import napari

    viewer, panel = _open_small(make_napari_viewer, small_study)
    ViewerState.of(viewer).set_plane("coronal")
    path = tmp_path / "s.milna-session.json"
    panel.session_bar.save(path)
    before = svc_of(viewer)
    shown = make_napari_viewer()
    monkeypatch.setattr(napari, "Viewer", lambda *a, **k: shown)
    monkeypatch.setattr(napari, "run", lambda *a, **k: None)
    assert main(["view", "--session", str(path)]) == 0
    assert [layer.name for layer in shown.layers] == [layer.name for layer in viewer.layers]
    assert ViewerState.of(shown).plane == "coronal" and svc_of(shown) == before
    # a file that is not a session, or a session with other layers: one line, exit 2
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    capsys.readouterr()
    assert main(["view", "--session", str(bad)]) == 2
    assert "does not hold a JSON object" in capsys.readouterr().err
    assert main(["view", "--session", str(path), "--sample"]) == 2
    assert "--session opens a saved session" in capsys.readouterr().err
