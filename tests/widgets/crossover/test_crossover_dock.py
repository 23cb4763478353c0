"""The crossover tab on the sample study, driven as a user would inside the milna panel."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from napari_milna.sample_data import ensure_sample_study
from qtpy.QtCore import Qt
from scipy import stats

from napari_milna import api
from napari_milna._napari.layers import source_of
from napari_milna._napari.session import StudySession
from napari_milna.core.crossover.analysis import rois_from_files, run_crossover
from napari_milna.core.crossover.study_table import (
    choose_contrast,
    read_study_table,
    validate_study,
)
from napari_milna.core.io.kinds import ImageKind
from napari_milna.widgets.crossover.dock import CrossoverDock
from napari_milna.widgets.crossover.svc_handoff import find_svc_dock
from napari_milna.widgets.panel.panel import open_panel

TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def sample():
    return ensure_sample_study()


@pytest.fixture(scope="module")
def core_result(sample):
    """The public API's crossover of the sample (the planted regions as ROIs)."""
    return api.crossover(sample.crossover_table, rois=[sample.regions_dseg])


@pytest.fixture(scope="module")
def input_maps(sample):
    """The 60 first-level maps read with nibabel: (subject, treatment, condition) -> array."""
    table = pd.read_csv(sample.crossover_table, sep="\t")
    folder = sample.crossover_table.parent
    return {
        (r.subject, r.treatment, r.condition): np.asarray(nib.load(folder / r.path).dataobj,
                                                          dtype=np.float64)
        for r in table.itertuples()
    }


@pytest.fixture
def loaded(make_napari_viewer, qtbot, sample):
    viewer = make_napari_viewer()
    dock = open_panel(viewer, tab="Crossover").tab("Crossover")
    assert isinstance(dock, CrossoverDock)
    progress = []
    # as a user would: ROI file first, then the study table (which starts the job)
    dock.study_form.roi_files.value = (sample.regions_dseg,)
    dock.study_form.study.value = sample.crossover_table
    dock.runner.worker.yielded.connect(progress.append)
    qtbot.waitUntil(lambda: dock.result is not None or bool(dock.messages), timeout=TIMEOUT_MS)
    assert dock.result is not None, dock.messages
    return viewer, dock, progress


def _click_row(qtbot, table, row):
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_maps_switch_and_threshold(loaded, qtbot, sample, input_maps):
    viewer, dock, progress = loaded
    assert progress and (progress[-1].done, progress[-1].total) == (15, 15)
    layer = dock.display_layer
    src = source_of(layer)
    assert (src.info.kind, src.info.stat_type, src.df) == (ImageKind.STAT, "T", 14.0)
    # the interaction t shown is the generator's group map
    theirs = np.asarray(nib.load(sample.group_tmap).dataobj, dtype=np.float64)
    np.testing.assert_allclose(src.source.volume(), theirs, atol=1e-4)
    # placed by the affine: voxel size as scale, origin as translate
    affine = nib.load(sample.group_tmap).affine
    np.testing.assert_allclose(layer.scale[-3:], np.abs(np.diag(affine)[:3]))
    np.testing.assert_allclose(layer.translate[-3:], affine[:3, 3])

    subjects = [f"sub-{i:02d}" for i in range(1, 16)]
    m = input_maps
    drug = np.stack([m[s, "drug", "pain"] - m[s, "drug", "baseline"] for s in subjects])
    placebo = np.stack([m[s, "placebo", "pain"] - m[s, "placebo", "baseline"] for s in subjects])
    pain_diff = np.stack([m[s, "drug", "pain"] - m[s, "placebo", "pain"] for s in subjects])
    expected = {"drug": drug, "placebo": placebo, "difference": pain_diff,
                "interaction": drug - placebo}
    mask = dock.result.maps.mask
    for view, values in expected.items():
        dock.map_form.view.value = view
        dock.map_form.statistic.value = "t"
        t = source_of(dock.display_layer).source.volume()
        ref = stats.ttest_1samp(values[:, mask], 0.0, axis=0).statistic
        np.testing.assert_allclose(t[mask], ref, rtol=1e-3, atol=1e-4)
        assert dock.display_layer.name == f"crossover map: {view} t"
        dock.map_form.statistic.value = "mean"
        mean = source_of(dock.display_layer).source.volume()
        np.testing.assert_allclose(mean[mask], values[:, mask].mean(0), atol=1e-5)
    assert len(viewer.layers) == 1  # one display layer, switched in place

    # the p slider: mean shown only where |t| passes; t map thresholded at t(p, 14)
    dock.set_view("interaction", "mean")
    dock.set_p_threshold(0.01)
    p = dock.p_threshold()
    assert p == pytest.approx(0.01, rel=1e-9)
    t_thr = stats.t.isf(p, 14)
    t_map = dock.result.group["interaction"].t
    shown = np.asarray(dock.display_layer.data)
    keep = np.abs(t_map) >= t_thr
    np.testing.assert_allclose(shown[keep], dock.result.group["interaction"].mean[keep])
    assert np.all(shown[~keep] == 0)
    dock.map_form.statistic.value = "t"
    assert source_of(dock.display_layer).threshold == pytest.approx(t_thr, rel=1e-6)
    dock.map_form.p.value = dock.map_form.p.value / 10  # ten times smaller p
    assert source_of(dock.display_layer).threshold == pytest.approx(stats.t.isf(0.001, 14),
                                                                    rel=1e-6)
    assert "3.79" in dock.p_label.text()


def test_roi_stats_plot_subjects_and_svc(loaded, qtbot, sample, core_result, input_maps):
    viewer, dock, _ = loaded
    # ROI statistics: the table shows the core's numbers
    table = dock.roi_table
    assert table.rowCount() == len(core_result.rois) == 8
    # every row shows: the section opens to the table's full height
    assert dock.sections["rois"].content().maximumHeight() >= table.height()
    assert table.height() >= 8 * table.rowHeight(0)
    header = [table.horizontalHeaderItem(c).text().replace("\n", " ")
              for c in range(table.columnCount())]
    for row, core in enumerate(core_result.rois):
        cells = dict(zip(header, table.row_texts(row)))
        assert cells["ROI"] == core.name
        assert cells["t"] == f"{core.t:.2f}" and cells["dz"] == f"{core.dz:+.2f}"
        for col, value in (("Δ", core.mean_difference), ("t", core.t), ("dz", core.dz),
                           ("p", core.p), ("p perm", core.p_perm), ("p Holm", core.p_holm),
                           ("p Wilc.", core.p_wilcoxon)):
            stored = table.item(row, header.index(col)).data(Qt.ItemDataRole.UserRole)
            assert stored == pytest.approx(value, rel=1e-9)
    # ... and the PAG row agrees with scipy on ROI means read here with nibabel
    labels = np.asarray(nib.load(sample.regions_dseg).dataobj)
    pag = labels == 1
    subjects = core_result.study.subjects
    m = input_maps
    drug = [np.mean((m[s, "drug", "pain"] - m[s, "drug", "baseline"])[pag]) for s in subjects]
    placebo = [np.mean((m[s, "placebo", "pain"] - m[s, "placebo", "baseline"])[pag])
               for s in subjects]
    ref = stats.ttest_rel(drug, placebo)
    pag_row = dock.roi_stats("PAG")
    assert pag_row.t == pytest.approx(ref.statistic, rel=1e-5)
    assert pag_row.p == pytest.approx(ref.pvalue, rel=1e-4)

    # clicking an ROI row plots its paired lines and moves the cursor into the ROI
    _click_row(qtbot, table, 2)
    assert dock.plot.shown["roi"] == "pINS_L"
    lines = dock.plot.shown["lines"]
    core = core_result.rois[2]
    assert [s for s, _, _ in lines] == subjects
    np.testing.assert_allclose([d for _, _, d in lines], core.drug)
    np.testing.assert_allclose([p for _, p, _ in lines], core.placebo)
    mean, lo, hi = dock.plot.shown["means"]["drug"]
    ci = stats.t.interval(0.95, 14, loc=np.mean(core.drug), scale=stats.sem(core.drug))
    assert (lo, hi) == pytest.approx(ci, rel=1e-9)
    world = dock.state.world_point(viewer.dims.point)
    ijk = tuple(int(v) for v in core_result.study.grid.to_index(world))
    assert labels[ijk] == 3  # pINS_L

    # the per-subject table holds each subject's drug - placebo per ROI
    subj = dock.subject_table
    assert subj.rowCount() == 15 and subj.item(4, 0).text() == "sub-05"
    assert subj.item(4, 1).text() == core_result.study.sequence("sub-05")
    for j, core in enumerate(core_result.rois):
        values = [subj.value(r, j) for r in range(15)]
        np.testing.assert_allclose(values, core.difference, rtol=1e-12)

    # clicking a subject shows that subject's map of the shown view as one layer, placed by
    # the affine, on the voxels where the group t passes (what the generator's t map passes)
    p = dock.p_threshold()
    t_thr = stats.t.isf(p, 14)
    group_t = np.asarray(nib.load(sample.group_tmap).dataobj, dtype=np.float64)
    clear = np.abs(np.abs(group_t) - t_thr) > 1e-3  # voxels not on the threshold's edge
    keep = np.abs(group_t) >= t_thr
    before = len(viewer.layers)
    _click_row(qtbot, subj, 2)
    names = [lay.name for lay in viewer.layers]
    assert "sub-03 interaction" in names and len(viewer.layers) == before + 1
    inter = viewer.layers["sub-03 interaction"]
    assert inter.visible and source_of(inter).result_of == ("crossover", "subject")
    expected = (m["sub-03", "drug", "pain"] - m["sub-03", "drug", "baseline"]) - (
        m["sub-03", "placebo", "pain"] - m["sub-03", "placebo", "baseline"])
    shown = np.asarray(inter.data)
    np.testing.assert_allclose(shown[keep & clear], expected[keep & clear], atol=1e-5)
    assert np.all(shown[~keep & clear] == 0)
    affine = nib.load(sample.group_tmap).affine
    np.testing.assert_allclose(inter.translate[-3:], affine[:3, 3])
    # the view switch changes the subject's layer in place: placebo = pain - baseline
    dock.map_form.view.value = "placebo"
    placebo_t = stats.ttest_1samp(
        np.stack([m[s, "placebo", "pain"] - m[s, "placebo", "baseline"] for s in subjects]),
        0.0, axis=0).statistic
    placebo_t = np.nan_to_num(placebo_t) * dock.result.maps.mask
    keep = np.abs(placebo_t) >= t_thr
    clear = np.abs(np.abs(placebo_t) - t_thr) > 1e-3
    raw = viewer.layers["sub-03 placebo"]
    assert raw is dock.subject_layer and "sub-03 interaction" not in viewer.layers
    shown = np.asarray(raw.data)
    sub03 = m["sub-03", "placebo", "pain"] - m["sub-03", "placebo", "baseline"]
    np.testing.assert_allclose(shown[keep & clear], sub03[keep & clear], atol=1e-5)
    assert np.all(shown[~keep & clear] == 0)
    assert dock.plot.shown["highlight"] == "sub-03"
    dock.map_form.view.value = "interaction"
    _click_row(qtbot, subj, 5)
    names = [lay.name for lay in viewer.layers]
    assert "sub-06 interaction" in names and not any(n.startswith("sub-03") for n in names)
    assert len(viewer.layers) == before + 1

    # send the group T to the SVC tab (built by the button when it is not yet)
    assert find_svc_dock(viewer) is None
    qtbot.mouseClick(dock.map_form.send.native, Qt.MouseButton.LeftButton)
    layer = viewer.layers["crossover group T: interaction"]
    src = source_of(layer)
    assert (src.info.kind, src.info.stat_type, src.df) == (ImageKind.STAT, "T", 14.0)
    np.testing.assert_allclose(src.source.volume(), core_result.group["interaction"].t)
    assert StudySession.of(viewer).stat_map is layer
    svc = find_svc_dock(viewer)  # the panel's SVC tab
    assert svc is not None and svc.stat_combo.layer() is layer
    assert "selected" in dock.messages[-1] and "df 14" in dock.messages[-1]
    # a second click reuses the layer
    qtbot.mouseClick(dock.map_form.send.native, Qt.MouseButton.LeftButton)
    assert sum(lay.name == "crossover group T: interaction" for lay in viewer.layers) == 1


def test_period_covariate_and_bad_inputs(make_napari_viewer, qtbot, sample, tmp_path):
    viewer = make_napari_viewer()
    dock = open_panel(viewer, tab="Crossover").tab("Crossover")
    # Cancel stops the reading of the maps: nothing shown, the tab says so
    dock.study_form.study.value = sample.crossover_table
    assert dock.runner.running
    qtbot.mouseClick(dock.study_form.cancel.native, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.runner.running, timeout=TIMEOUT_MS)
    assert dock.result is None and dock.display_layer is None
    assert "Cancelled" in dock.status.text() and dock.study_form.compute.enabled

    dock.study_form.period.value = True
    dock.load_table(sample.crossover_table)
    qtbot.waitUntil(lambda: dock.result is not None or bool(dock.messages), timeout=TIMEOUT_MS)
    assert dock.result is not None, dock.messages
    assert "period" in dock.map_form.view.choices
    dock.set_view("interaction", "t")
    assert source_of(dock.display_layer).df == 13.0
    dock.set_view("period", "t")
    assert source_of(dock.display_layer).df == 13.0
    assert "ROI" in dock.plot.canvas.figure.axes[0].texts[0].get_text()

    # ROIs from a labels layer (names from its dseg.tsv) give the same statistics as the file
    viewer.open(str(sample.regions_dseg), plugin="napari-milna")
    dseg_layer = [lay for lay in viewer.layers if lay.name.endswith("planted_dseg")][0]
    dock.study_form.roi_layer.value = dseg_layer
    dock.study_form.period.value = False
    dock.result = None
    dock.recompute()
    qtbot.waitUntil(lambda: dock.result is not None, timeout=TIMEOUT_MS)
    from_layer = {r.name: r for r in dock.result.rois}
    table = read_study_table(sample.crossover_table)
    study = validate_study(table, choose_contrast(table))
    from_file = run_crossover(study, rois_from_files([sample.regions_dseg], study.grid)).rois
    assert [r.name for r in from_file] == list(from_layer)
    for r in from_file:
        assert from_layer[r.name].t == pytest.approx(r.t, rel=1e-12)
        assert from_layer[r.name].p_holm == pytest.approx(r.p_holm, rel=1e-12)

    # the drug - placebo difference (of pain, the table having pain and baseline)
    dock.study_form.contrast.value = "difference"
    dock.study_form.roi_layer.value = None
    dock.result = None
    dock.recompute()
    qtbot.waitUntil(lambda: dock.result is not None, timeout=TIMEOUT_MS)
    assert dock.result.main == "difference" and "interaction" not in dock.map_form.view.choices
    assert source_of(dock.display_layer).df == 14.0
    np.testing.assert_allclose(source_of(dock.display_layer).source.volume(),
                               dock.result.group["difference"].t)

    # a missing file: one sentence naming the table, row and file; the viewer lives on
    lines = sample.crossover_table.read_text().splitlines()
    folder = sample.crossover_table.parent
    broken = tmp_path / "broken.tsv"
    rows = [lines[0]] + [
        "\t".join(c if i != 3 else str(folder / c) for i, c in enumerate(line.split("\t")))
        for line in lines[1:]
    ]
    rows[5] = rows[5].replace("contrast-pain", "contrast-missing")
    broken.write_text("\n".join(rows) + "\n")
    before = len(dock.messages)
    dock.result = None
    dock.load_table(broken)
    qtbot.waitUntil(lambda: len(dock.messages) > before, timeout=TIMEOUT_MS)
    message = dock.messages[-1]
    assert "broken.tsv" in message and "line 6" in message and "does not exist" in message
    assert "\n" not in message and dock.result is None
    dock.load_table(tmp_path / "nothing.tsv")
    qtbot.waitUntil(lambda: "nothing.tsv" in dock.messages[-1], timeout=TIMEOUT_MS)
    assert "does not exist" in dock.messages[-1]
    assert viewer.layers is not None and dock.study_form.compute.enabled
