"""Multi-echo in the QC tab, driven as a user would (real napari under Xvfb).

Expected numbers come from the core (``multiecho_combine`` with its own QC of the
combination, called directly on the same files), from plain numpy on the echo files,
and from the T2* planted by the generators (tests/synth/multiecho.py: 45 ms, 18 ms in
the "dropout" slab; the sample study's truth maps), never from the tab.
"""

from __future__ import annotations

import threading

import nibabel as nib
import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_milna._napari.layers import source_of
from napari_milna._napari.session import StudySession
from napari_milna.core.multiecho.combine import multiecho_combine
from napari_milna.core.qc.coverage import RoiMask
from napari_milna.widgets.qc import multiecho as qc_multiecho
from napari_milna.widgets.viewer.colorbar_overlay import CanvasColorBar
from tests.synth.multiecho import SHAPE, TE, write_echoes
from tests.widgets.qc.conftest import add_rois, qc_layers

#: ROI boxes on the synthetic echo grid: PAG in the 45 ms part, RVM in the 18 ms slab.
PAG = (slice(4, 8), slice(6, 10), slice(2, 6))
RVM = (slice(4, 8), slice(1, 4), slice(2, 6))
T2STAR_TRUTH = {"PAG": 45.0, "RVM": 18.0}


def box(sl) -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    mask[sl] = True
    return mask


@pytest.fixture
def echoes(tmp_path):
    paths, mask = write_echoes(tmp_path)
    labels = np.zeros(SHAPE, np.uint8)
    labels[PAG] = 1
    labels[RVM] = 2
    return {"paths": paths, "mask": mask, "labels": labels, "tmp": tmp_path}


@pytest.fixture
def me_tab(open_dock, echoes):
    """The QC tab in the panel with echo 1 as the run, the brain mask and PAG / RVM."""
    viewer, dock = open_dock(echoes["paths"][0], echoes["mask"], panel=True)
    add_rois(viewer, echoes["labels"], {1: "PAG", 2: "RVM"})
    return viewer, dock


def press_fit(dock, qtbot, timeout=30000) -> str:
    with qtbot.waitSignal(dock.multiecho_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def numpy_echo_qc(path, brain, threshold=0.5):
    """Voxel tSNR (mean / population std) and dropout (mean below threshold x brain median)."""
    x = nib.load(path).get_fdata()
    mean, std = x.mean(-1), x.std(-1)
    tsnr = np.where(std > 0, mean / np.where(std > 0, std, 1), 0)
    low = mean / np.median(mean[brain & (mean != 0)]) < threshold
    return tsnr, low


def roi_masks(labels):
    return [RoiMask(name, labels == value, np.argwhere(labels == value).astype(float))
            for value, name in ((1, "PAG"), (2, "RVM"))]


def test_echoes_next_to_the_combination_per_roi(me_tab, echoes, qtbot, tmp_path):
    viewer, dock = me_tab
    form = dock.echo.form
    # the echo set is found next to the run; BIDS sidecars give the echo times
    assert form.echo_set.current_choice == "sub-01_task-rest (3 echoes)"
    assert list(form.echo_files.value) == echoes["paths"]
    assert form.echo_times.value == "13, 30, 47"
    n_layers = len(viewer.layers)
    assert press_fit(dock, qtbot) == "done"
    table = dock.echo.table

    # the core on the same files, with its own QC of the combination
    out = tmp_path / "core"
    out.mkdir()
    core = multiecho_combine(echoes["paths"], out, mask=echoes["mask"],
                             rois=roi_masks(echoes["labels"]))
    brain = nib.load(echoes["mask"]).get_fdata() > 0
    plain = [numpy_echo_qc(p, brain) for p in echoes["paths"]]
    optcom = numpy_echo_qc(dock.comparison.me.paths["optcom"], brain)
    for roi in core.rois:
        mask = box(PAG if roi.name == "PAG" else RVM)
        for e, te in enumerate(TE):
            series = f"TE {te:g} ms"
            tsnr = table.value(roi.name, "tsnr_median", series)
            assert tsnr == pytest.approx(roi.tsnr_echoes[e], rel=1e-5)
            assert tsnr == pytest.approx(np.median(plain[e][0][mask]), rel=1e-5)
            assert table.value(roi.name, "dropout_fraction", series) == pytest.approx(
                plain[e][1][mask].mean())
        assert table.value(roi.name, "tsnr_median", "combined") == pytest.approx(
            roi.tsnr_optcom, rel=1e-9)
        assert table.value(roi.name, "tsnr_median", "combined") == pytest.approx(
            np.median(optcom[0][mask]), rel=1e-5)
        assert table.value(roi.name, "dropout_fraction", "combined") == pytest.approx(
            optcom[1][mask].mean())
        assert table.value(roi.name, "verdict", "combined") == roi.qc_verdict
    # the last echo drops out in the short-T2* slab; the combination recovers it
    assert table.value("RVM", "dropout_fraction", "TE 47 ms") == 1.0
    assert table.value("RVM", "dropout_fraction", "combined") == 0.0
    assert table.value("PAG", "dropout_fraction", "TE 47 ms") == 0.0

    # the T2* map: a translucent layer in ms with a colour bar, the core's values, the truth
    t2s = viewer.layers["QC T2* (ms) · sub-01_task-rest"]
    assert len(viewer.layers) == n_layers + 1 and t2s in qc_layers(viewer)
    np.testing.assert_allclose(np.asarray(t2s.data), core.t2star_ms, rtol=1e-6)
    for name, truth in T2STAR_TRUTH.items():
        fitted = np.median(np.asarray(t2s.data)[box(PAG if name == "PAG" else RVM)])
        assert fitted == pytest.approx(truth, rel=0.05)
    assert t2s.opacity < 1 and t2s.blending == "translucent"
    # the canvas colour bar (no statistical map shown) is the T2* map's, titled in ms, and
    # its top colour is the layer's colour map at its upper limit
    bar = CanvasColorBar.install(viewer)
    qtbot.waitUntil(lambda: bar.layer is t2s and not bar.label.isHidden(), timeout=5000)
    assert bar.text == "T2* (ms)" and not t2s.colorbar.visible
    image = bar.label.pixmap().toImage()
    column = [image.pixelColor(int(0.4 * image.width()), y) for y in range(image.height())]
    coloured = [c for c in column if c.alpha() == 255 and (c.red() + c.green()) > 0]
    top = np.array(coloured[3].getRgbF()[:3])  # just below the frame at the bar's top
    np.testing.assert_allclose(top, t2s.colormap.map(np.array([1.0]))[0, :3], atol=0.05)
    assert [str(u) for u in t2s.units] == ["millimeter"] * 3  # as every placed layer
    assert t2s.contrast_limits[0] == 0 and t2s.contrast_limits[1] >= 45
    assert t2s.colormap.map(np.array([0.0]))[0, 3] == 0  # no fit: the anatomy shows
    assert source_of(t2s).grid.matches(source_of(viewer.layers[0]).grid)


def test_single_echo_named_by_each_rule(me_tab, echoes, qtbot):
    viewer, dock = me_tab
    assert press_fit(dock, qtbot) == "done"
    union = box(PAG) | box(RVM)
    brain = nib.load(echoes["mask"]).get_fdata() > 0
    medians = [np.median(numpy_echo_qc(p, brain)[0][union]) for p in echoes["paths"]]
    by_tsnr = int(np.argmax(medians)) + 1
    table, summary = dock.echo.table, dock.echo.summary
    assert f"TE {TE[by_tsnr - 1]:g} ms *" in [r.series for r in table.rows]
    assert f"echo {by_tsnr} (TE {TE[by_tsnr - 1]:g} ms), by the best median tSNR over the " \
        "ROIs" in summary.text()
    assert f"single-echo run would have used echo {by_tsnr}" in dock.messages[-1]
    # TE closest to the planted T2* over the ROIs (45 ms in 64 voxels, 18 ms in 48)
    truth = np.where(np.arange(SHAPE[1])[None, :, None] < 4, 18.0, 45.0) * np.ones(SHAPE)
    by_t2 = int(np.argmin([abs(te - np.median(truth[union])) for te in TE])) + 1
    dock.echo.form.rule.value = "t2star"
    assert f"TE {TE[by_t2 - 1]:g} ms *" in [r.series for r in table.rows]
    assert f"echo {by_t2} (TE {TE[by_t2 - 1]:g} ms), by the TE closest to the median T2*" \
        in summary.text()
    # does the combination recover the RVM? its numbers against the echo named
    single = table.value("RVM", "tsnr_median", f"TE {TE[by_t2 - 1]:g} ms")
    both = table.value("RVM", "tsnr_median", "combined")
    assert "RVM: T2* " in summary.text()
    assert f"tSNR {both:.0f} combined vs {single:.0f} at echo {by_t2} (x{both / single:.2f})" \
        in summary.text()


def test_outputs_replaced_only_when_asked_and_layer_replaced(me_tab, echoes, qtbot, tmp_path):
    viewer, dock = me_tab
    form = dock.echo.form
    out = tmp_path / "derivatives"
    out.mkdir()
    form.out_dir.value = out
    assert press_fit(dock, qtbot) == "done"
    first = viewer.layers["QC T2* (ms) · sub-01_task-rest"]
    written = sorted(p.name for p in out.iterdir())
    assert "sub-01_task-rest_T2starmap.nii.gz" in written
    np.testing.assert_allclose(
        nib.load(out / "sub-01_task-rest_T2starmap.nii.gz").get_fdata() * 1000,
        np.asarray(first.data), rtol=1e-6)
    assert press_fit(dock, qtbot) == "error"
    assert "already exists; choose another folder or allow overwriting" in dock.messages[-1]
    assert viewer.layers["QC T2* (ms) · sub-01_task-rest"] is first
    form.overwrite.value = True
    index = viewer.layers.index(first)
    assert press_fit(dock, qtbot) == "done"
    again = [lay for lay in viewer.layers if lay.name.startswith("QC T2*")]
    assert len(again) == 1 and again[0] is not first and viewer.layers.index(again[0]) == index


def test_bad_echoes_refused_in_one_sentence(me_tab, echoes, qtbot, tmp_path):
    viewer, dock = me_tab
    form = dock.echo.form
    n_layers = len(viewer.layers)
    form.echo_times.value = "13, 30"
    qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
    assert not dock.running
    assert "2 echo times were given for 3 echo files" in dock.messages[-1]
    form.echo_times.value = "13, thirty, 47"
    qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
    assert "The echo times '13, thirty, 47' are not numbers in ms" in dock.messages[-1]
    form.echo_files.value = None
    qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
    assert dock.messages[-1] == "Multi-echo not started: choose the echoes of a multi-echo " \
        "run (BIDS *_echo-<n>_bold.nii.gz, one 4D file per echo)."
    form.choose_files(echoes["paths"][:1])
    assert form.echo_set.current_choice == "(the files below)"
    qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
    assert "sub-01_task-rest_echo-1_bold.nii.gz: is a single echo" in dock.messages[-1]
    # echoes without sidecars: the times must be typed
    bare = tmp_path / "bare"
    bare.mkdir()
    paths, _ = write_echoes(bare, sidecars=False)
    form.choose_files(paths)
    form.echo_times.value = ""
    qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
    assert "sub-01_task-rest_echo-1_bold.json" in dock.messages[-1]
    assert len(viewer.layers) == n_layers and dock.echo.run_button.isEnabled()
    form.echo_times.value = "13 30 47"
    assert press_fit(dock, qtbot) == "done"
    assert "47 ms typed" in dock.echo.summary.text()


def test_cancel_leaves_the_viewer_unchanged(me_tab, qtbot, monkeypatch):
    viewer, dock = me_tab
    gate = threading.Event()
    real = qc_multiecho.multiecho_combine

    def gated(*args, progress, **kwargs):
        def slow(done, total):
            gate.wait(10)
            return progress(done, total)

        return real(*args, progress=slow, **kwargs)

    monkeypatch.setattr(qc_multiecho, "multiecho_combine", gated)
    n_layers = len(viewer.layers)
    with qtbot.waitSignal(dock.multiecho_finished, timeout=20000) as blocker:
        qtbot.mouseClick(dock.echo.run_button, Qt.MouseButton.LeftButton)
        assert dock.running and not dock.run_button.isEnabled()
        qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
    assert blocker.args == ["cancelled"]
    assert "cancelled; nothing was written" in dock.messages[-1]
    assert len(viewer.layers) == n_layers and dock.comparison is None
    assert StudySession.of(viewer).run is viewer.layers["sub-01_task-rest_echo-1_bold"]


@pytest.mark.slow
def test_sample_study_echoes_in_the_panel(make_napari_viewer, qtbot, tmp_path):
    from napari_milna.sample_data import ensure_sample_study

    from napari_milna.core.roi.seeds import seed_roi
    from napari_milna.widgets.panel.panel import open_panel

    study = ensure_sample_study()
    viewer = make_napari_viewer()
    dock = open_panel(viewer, tab="QC").tab("QC")
    viewer.open_sample("napari-milna", "sample_study")
    session = StudySession.of(viewer)
    src = source_of(session.run)
    labels = np.zeros(src.grid.shape, np.uint8)
    masks = [seed_roi(name, src.source).mask for name in ("PAG", "RVM")]
    labels[masks[0]], labels[masks[1]] = 1, 2
    add_rois(viewer, labels, {1: "PAG", 2: "RVM"})
    form = dock.echo.form
    # the sample's 3-echo run is found next to the pain run; BIDS sidecars give the TEs
    assert "acq-multiecho" in form.echo_set.current_choice
    assert list(form.echo_files.value) == list(study.me_echoes)
    assert form.echo_times.value == ", ".join(f"{t:g}" for t in
                                              study.truth["multiecho"]["echo_times_ms"])
    assert press_fit(dock, qtbot, timeout=120000) == "done"
    out = tmp_path / "core"
    out.mkdir()
    core = multiecho_combine(study.me_echoes, out, mask=study.brain_mask, rois=[
        RoiMask("PAG", masks[0], np.zeros((1, 3))), RoiMask("RVM", masks[1], np.zeros((1, 3)))])
    table = dock.echo.table
    for roi in core.rois:
        for e, te in enumerate(study.truth["multiecho"]["echo_times_ms"]):
            assert table.value(roi.name, "tsnr_median", f"TE {te:g} ms") == pytest.approx(
                roi.tsnr_echoes[e], rel=1e-5)
        assert table.value(roi.name, "tsnr_median", "combined") == pytest.approx(
            roi.tsnr_optcom, rel=1e-9)
    # the T2* layer against the planted T2* in the ROIs (voxels with >= 2 usable echoes)
    t2s = np.asarray(dock.t2star_layer.data)
    truth = nib.load(study.me_t2star_truth).get_fdata() * 1000.0
    usable = dock.comparison.me.adaptive >= 2
    for mask in masks:
        inside = mask & usable
        assert inside.sum() == mask.sum()
        assert np.abs(t2s[inside] / truth[inside] - 1).max() < 0.05
    # the planted ventral dropout: the RVM's T2* is shorter than the PAG's
    assert np.median(truth[masks[1]]) < np.median(truth[masks[0]])
    assert "RVM: T2* " in dock.echo.summary.text()
