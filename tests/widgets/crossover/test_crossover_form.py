"""The crossover tab's magicgui form and its ties to the study session, on a small study.

Driven as a user would inside the milna panel: values set in the form's widgets, rows
clicked, buttons pressed. Expected numbers come from scipy on the synthetic maps.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from qtpy.QtCore import Qt
from scipy import stats

from napari_milna._napari.layers import source_of
from napari_milna._napari.session import StudySession
from napari_milna.widgets.crossover.form import BIDS
from napari_milna.widgets.panel.panel import open_panel
from tests.synth.crossover import AFFINE, SHAPE, make_maps, save_map, write_bids, write_table

TIMEOUT_MS = 30_000
#: Label images on the synthetic grid: value -> (name, voxels).
REGIONS = {1: ("PAG", (slice(1, 3), slice(1, 3), slice(1, 3))),
           2: ("RVM", (slice(3, 5), slice(2, 4), slice(2, 4)))}


@pytest.fixture
def study(tmp_path):
    maps, periods = make_maps(n=7, conditions=("pain", "baseline", "sensory"), seed=5,
                              effect=np.full(SHAPE, 0.8, np.float32))
    table = write_table(tmp_path / "study", maps, periods)
    labels = np.zeros(SHAPE, np.int16)
    for value, (_, box) in REGIONS.items():
        labels[box] = value
    dseg = tmp_path / "rois" / "space-synth_desc-regions_dseg.nii.gz"
    save_map(dseg, labels)
    img = nib.load(dseg)  # integer labels as dseg files hold them
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj, np.int16), AFFINE, img.header), dseg)
    dseg.with_name("space-synth_desc-regions_dseg.tsv").write_text(
        "index\tname\n" + "".join(f"{v}\t{n}\n" for v, (n, _) in REGIONS.items()))
    v1 = np.zeros(SHAPE, np.int16)
    v1[4:6, 0:2, 0:2] = 1
    v1_path = tmp_path / "rois" / "space-synth_desc-V1_mask.nii.gz"
    nib.save(nib.Nifti1Image(v1, AFFINE), v1_path)
    return table, maps, periods, dseg, v1_path


def _tab(viewer):
    return open_panel(viewer, tab="Crossover").tab("Crossover")


def _wait(qtbot, dock, old=None):
    """Until a new analysis is shown and no job runs."""
    qtbot.waitUntil(lambda: not dock.runner.running and dock.analysis is not old
                    and dock.analysis is not None, timeout=TIMEOUT_MS)


def _stack(maps, fn):
    return np.stack([fn(m) for _, m in sorted(maps.items())]).astype(np.float64)


def _roi_means(maps, mask, treatment, control="baseline"):
    return [float(np.mean((m[treatment]["pain"].astype(float) - m[treatment][control])[mask]))
            for _, m in sorted(maps.items())]


def _click_row(qtbot, table, row):
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_contrast_condition_and_control_choices(make_napari_viewer, qtbot, study):
    table, maps, _, _, _ = study
    viewer = make_napari_viewer()
    dock = _tab(viewer)
    form = dock.study_form
    form.study.value = table
    _wait(qtbot, dock)
    mask = dock.result.maps.mask
    # the pickers offer the table's conditions, as milna crossover --condition / --control
    assert set(form.condition.choices) == {None, "pain", "baseline", "sensory"}
    assert set(form.control.choices) == {None, "pain", "baseline", "sensory"}

    def group_t():
        return np.asarray(source_of(dock.display_layer).source.volume())[mask]

    # auto: (drug - placebo) x (pain - baseline)
    interaction = _stack(maps, lambda m: (m["drug"]["pain"].astype(float) - m["drug"]["baseline"])
                         - (m["placebo"]["pain"].astype(float) - m["placebo"]["baseline"]))
    ref = stats.ttest_1samp(interaction[:, mask], 0.0, axis=0).statistic
    np.testing.assert_allclose(group_t(), ref, rtol=1e-4, atol=1e-5)

    # Pain > Sensory: the control picked in the form
    old = dock.analysis
    form.control.value = "sensory"
    _wait(qtbot, dock, old)
    contrast = dock.result.study.contrast
    assert (contrast.kind, contrast.active, contrast.control) == ("interaction", "pain", "sensory")
    sensory = _stack(maps, lambda m: (m["drug"]["pain"].astype(float) - m["drug"]["sensory"])
                     - (m["placebo"]["pain"].astype(float) - m["placebo"]["sensory"]))
    ref = stats.ttest_1samp(sensory[:, mask], 0.0, axis=0).statistic
    np.testing.assert_allclose(group_t(), ref, rtol=1e-4, atol=1e-5)
    assert "pain - sensory" in dock.status.text()

    # the drug - placebo difference of the condition picked
    old = dock.analysis
    with form.control.changed.blocked():
        form.control.value = None
    with form.contrast.changed.blocked():
        form.contrast.value = "difference"
    form.condition.value = "sensory"
    _wait(qtbot, dock, old)
    assert dock.result.main == "difference"
    assert "interaction" not in dock.map_form.view.choices
    diff = _stack(maps, lambda m: m["drug"]["sensory"].astype(float) - m["placebo"]["sensory"])
    ref = stats.ttest_1samp(diff[:, mask], 0.0, axis=0).statistic
    np.testing.assert_allclose(group_t(), ref, rtol=1e-4, atol=1e-5)

    # an impossible choice: one sentence, the viewer lives on, the last maps stay
    old = dock.analysis
    before = len(dock.messages)
    form.contrast.value = "interaction"
    form.control.value = "sensory"
    qtbot.waitUntil(lambda: len(dock.messages) > before and not dock.runner.running,
                    timeout=TIMEOUT_MS)
    assert "two different conditions" in dock.messages[-1] and "\n" not in dock.messages[-1]
    assert dock.analysis is old and form.compute.enabled


def test_bids_folder_source(make_napari_viewer, qtbot, study, tmp_path):
    _, maps, periods, _, _ = study
    deriv = write_bids(tmp_path / "bids", maps, periods)
    viewer = make_napari_viewer()
    dock = _tab(viewer)
    form = dock.study_form
    form.source.value = BIDS
    assert form.study.mode.value == "d"  # the picker asks for a folder
    form.period.value = True
    form.study.value = deriv
    _wait(qtbot, dock)
    assert dock.result.study.n_subjects == 7 and dock.result.df == 5.0  # N - 2 with period
    assert "period" in dock.map_form.view.choices


def test_rois_come_from_the_session(make_napari_viewer, qtbot, study):
    table, maps, _, dseg, v1_path = study
    viewer = make_napari_viewer()
    dock = _tab(viewer)
    form = dock.study_form
    session = StudySession.of(viewer)
    layer = viewer.open(str(dseg), plugin="napari-milna")[0]
    assert form.roi_layer.value is None and "No ROI chosen" in dock.roi_label.text()
    # another tab chooses the ROI layer and its RVM: the crossover tab follows
    session.set_roi(layer, 2)
    assert form.roi_layer.value is layer
    assert "PAG, RVM" in dock.roi_label.text() and layer.name in dock.roi_label.text()

    form.study.value = table
    _wait(qtbot, dock)
    rows = [dock.roi_table.item(r, 0).text() for r in range(dock.roi_table.rowCount())]
    assert rows == ["PAG", "RVM"]
    assert dock.roi_label.text().startswith(f"Testing 2 ROIs: PAG, RVM (layer {layer.name})")
    assert dock.current_roi == "RVM"  # the session's ROI is the one selected
    pag = np.zeros(SHAPE, bool)
    pag[REGIONS[1][1]] = True
    ref = stats.ttest_rel(_roi_means(maps, pag, "drug"), _roi_means(maps, pag, "placebo"))
    assert dock.roi_stats("PAG").t == pytest.approx(ref.statistic, rel=1e-5)
    assert dock.roi_stats("PAG").p == pytest.approx(ref.pvalue, rel=1e-4)

    # a row clicked here becomes the session's ROI; the session's choice selects the row
    _click_row(qtbot, dock.roi_table, 0)
    assert (session.roi_layer, session.roi_label) == (layer, 1)
    assert dock.plot.shown["roi"] == "PAG"
    session.set_roi(layer, 2)
    assert dock.current_roi == "RVM" and dock.plot.shown["roi"] == "RVM"

    # an ROI file added: only the ROI statistics are computed again, the maps are kept
    maps_before = dock.result.maps
    form.roi_files.value = (v1_path,)
    qtbot.waitUntil(lambda: not dock.runner.running and len(dock.result.rois) == 3,
                    timeout=TIMEOUT_MS)
    assert dock.result.maps is maps_before
    assert "V1 (file space-synth_desc-V1_mask.nii.gz)" in dock.roi_label.text()
    v1 = np.asarray(nib.load(v1_path).dataobj) > 0
    ref = stats.ttest_rel(_roi_means(maps, v1, "drug"), _roi_means(maps, v1, "placebo"))
    assert dock.roi_stats("V1").t == pytest.approx(ref.statistic, rel=1e-5)
    # Holm across the three ROIs, by hand
    p = sorted(dock.roi_stats(n).p for n in ("PAG", "RVM", "V1"))
    holm = np.maximum.accumulate([min(1.0, (3 - i) * v) for i, v in enumerate(p)])
    assert sorted(dock.roi_stats(n).p_holm for n in ("PAG", "RVM", "V1")) == pytest.approx(holm)

    # "(none)" picked here: the session has no ROI layer; only the file is tested
    form.roi_layer.value = None
    assert session.roi_layer is None
    qtbot.waitUntil(lambda: not dock.runner.running and len(dock.result.rois) == 1,
                    timeout=TIMEOUT_MS)
    assert dock.roi_label.text().startswith("Testing 1 ROI: V1")
    assert dock.roi_stats("V1").p_holm == pytest.approx(dock.roi_stats("V1").p)


def test_subject_and_mean_maps_are_translucent_and_replaced(make_napari_viewer, qtbot, study):
    table, maps, _, _, _ = study
    viewer = make_napari_viewer()
    dock = _tab(viewer)
    dock.study_form.study.value = table
    _wait(qtbot, dock)
    dock.set_p_threshold(0.05)
    subjects = sorted(maps)
    interaction = _stack(maps, lambda m: (m["drug"]["pain"].astype(float) - m["drug"]["baseline"])
                         - (m["placebo"]["pain"].astype(float) - m["placebo"]["baseline"]))
    t = np.nan_to_num(stats.ttest_1samp(interaction, 0.0, axis=0).statistic)
    t = t * dock.result.maps.mask
    keep = np.abs(t) >= stats.t.isf(0.05, 6)
    assert keep.any() and not keep.all()
    for row in range(len(subjects)):
        _click_row(qtbot, dock.subject_table, row)
        for view in ("drug", "interaction"):
            dock.map_form.view.value = view
    milna_results = [lay for lay in viewer.layers if source_of(lay).result_of is not None]
    assert len(milna_results) == 2  # the group map and the last subject's, never more
    layer = dock.subject_layer
    assert layer.name == f"{subjects[-1]} interaction"
    shown = np.asarray(layer.data)
    np.testing.assert_allclose(shown[keep], interaction[-1][keep], atol=1e-5)
    assert np.all(shown[~keep] == 0)
    # the stat ramp: transparent at 0 (outside the group's voxels), opaque at the values
    assert layer.blending == "translucent" and layer.opacity == 1.0

    def alpha(lay, value):
        lo, hi = lay.contrast_limits
        return float(lay.colormap.map(np.array([(value - lo) / (hi - lo)]))[0, 3])

    assert alpha(layer, 0.0) == 0.0
    assert alpha(layer, float(np.abs(shown[keep]).max())) == pytest.approx(1.0)
    # the group mean likewise
    dock.map_form.statistic.value = "mean"
    group = dock.display_layer
    assert group.name == "crossover map: interaction mean" and group.blending == "translucent"
    assert alpha(group, 0.0) == 0.0
    mean = np.asarray(group.data)
    np.testing.assert_allclose(mean[keep], interaction.mean(0)[keep], atol=1e-5)
    assert np.all(mean[~keep] == 0)
    # the group t: transparent below the t of p, opaque above
    dock.map_form.statistic.value = "t"
    t_thr = stats.t.isf(0.05, 6)
    assert alpha(dock.display_layer, 0.99 * t_thr) == 0.0
    assert alpha(dock.display_layer, -1.01 * t_thr) == pytest.approx(1.0)


def test_left_out_voxels_draw_nothing_on_the_canvas(make_napari_viewer, qtbot, study):
    """What the GPU draws: the subject's map on the group's voxels only, nothing elsewhere."""
    table, maps, _, _, _ = study
    viewer = make_napari_viewer(show=True)
    dock = _tab(viewer)
    dock.study_form.study.value = table
    _wait(qtbot, dock)
    _click_row(qtbot, dock.subject_table, 0)
    layer = dock.subject_layer
    for other in viewer.layers:
        other.visible = other is layer
    interaction = _stack(maps, lambda m: (m["drug"]["pain"].astype(float) - m["drug"]["baseline"])
                         - (m["placebo"]["pain"].astype(float) - m["placebo"]["baseline"]))
    t = np.nan_to_num(stats.ttest_1samp(interaction, 0.0, axis=0).statistic)
    t = t * dock.result.maps.mask
    keep = np.abs(t) >= stats.t.isf(0.05, 6)
    ijk = np.argwhere(keep & (np.abs(interaction[0]) > 0.1))[0]
    dock.state.go_to_world(dock.result.study.grid.to_world(ijk.astype(float)))
    viewer.reset_view()

    def canvas():
        qtbot.wait(50)
        return np.asarray(viewer.screenshot(canvas_only=True, flash=False))[..., :3]

    layer.visible = False
    empty = canvas()
    layer.visible = True
    dock.set_p_threshold(1e-6)  # no voxel passes with df 6 (t > 20): nothing is drawn
    assert not (np.abs(t) >= stats.t.isf(1e-6, 6)).any()
    np.testing.assert_array_equal(canvas(), empty)
    dock.set_p_threshold(0.05)  # the voxel at the cursor passes: it is drawn
    assert (canvas() != empty).any()
