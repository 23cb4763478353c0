"""The preprocessing dock, driven as a user would (real napari under Xvfb).

The dock runs on the sample study: files are chosen (or found next to the run),
buttons pressed, workers waited for. Expected numbers come from the study's truth
(beat times, phases, motion spikes), from the rp file by hand, from nibabel affines,
scipy and nilearn, not from the code under test.
"""

from __future__ import annotations

import gzip
import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from qtpy.QtCore import Qt
from scipy import ndimage, stats

from napari_milna._napari.layers import source_of
from napari_milna.core.io.kinds import ImageKind, parse_spm_description
from napari_milna.widgets.preproc.context import default_output_dir
from napari_milna.widgets.preproc.dock import PreprocessingDock
from napari_milna.widgets.preproc.layers import find_result, null_r2_quantile
from tests.conftest import make_affine, write_nifti
from tests.widgets.preproc.driving import WAIT_MS, click_plot, errors, file_of, wait_for

#: The columns the issue asks for, in its order.
RETROICOR_COLUMNS = (
    [f"cardiac_cos{k}" for k in (1, 2, 3)] + [f"cardiac_sin{k}" for k in (1, 2, 3)]
    + [f"resp_cos{k}" for k in (1, 2, 3, 4)] + [f"resp_sin{k}" for k in (1, 2, 3, 4)]
    + ["inter_cos_plus", "inter_sin_plus", "inter_cos_minus", "inter_sin_minus"]
)


# ----------------------------------------------------------------------------- files


def test_files_next_to_the_run_are_found(dock_on, study):
    viewer, dock = dock_on()
    assert dock.run_form.run.value.name == nib.load(study.bold).get_filename().split("/")[-1][:-7]
    assert dock.run_form.events.path() == study.events
    assert dock.physio.form.physio.path() == study.physio
    assert dock.physio.form.sidecar.path() == study.physio_json
    assert dock.motion.form.file.path() == study.confounds
    assert dock.motion.motion_format() == "fmriprep"
    assert file_of(dock.csf.form.csf.layer) == study.csf_probseg
    assert file_of(dock.run_form.brain.layer) == study.brain_mask
    root = study.root
    assert default_output_dir(study.bold) == root / "derivatives" / "milna" / "sub-01" / "func"
    # the default slice is the one through the PAG: z = -9 mm on a grid starting at -72, 3 mm
    affine = nib.load(study.bold).affine
    k = int(round(np.linalg.solve(affine, [0.5, -31.0, -9.0, 1.0])[2]))
    assert dock.physio.form.slice_index.value == k == 21
    timing = json.loads(study.bold_json.read_text())["SliceTiming"]
    assert f"{timing[k]:.3f} s" in dock.physio.form.where.value


# ----------------------------------------------------------------------------- motion


def fd_by_hand(rp: np.ndarray) -> np.ndarray:
    """Power 2012 from SPM's x y z (mm) pitch roll yaw (rad), 50 mm head radius."""
    d = np.abs(np.diff(rp, axis=0))
    return np.r_[0.0, d[:, :3].sum(1) + 50.0 * d[:, 3:].sum(1)]


def test_fd_plot_and_scrubbing_from_the_spm_rp_file(dock_on, study, qtbot):
    viewer, dock = dock_on()
    panel = dock.motion
    panel.form.file.value = study.spm_rp
    assert "SPM" in panel.form.format.native.currentText()  # guessed from rp_*.txt
    panel.compute_button.click()
    wait_for(qtbot, panel)
    fd = fd_by_hand(np.loadtxt(study.spm_rp))
    np.testing.assert_allclose(panel.result.fd, fd, rtol=1e-9, atol=1e-12)
    spikes = study.truth["motion"]["spike_volumes"]
    assert np.flatnonzero(panel.result.scrub).tolist() == spikes == [37, 83, 122, 158]
    assert np.flatnonzero(fd > 0.5).tolist() == spikes
    text = panel.summary.text()
    assert f"{fd[1:].mean():.3f}" in text and "<b>4</b> of 180" in text
    assert "37, 83, 122, 158" in text
    # the plot: FD line, the threshold line at 0.5 mm, markers on the scrubbed volumes
    lines = {line.get_label(): line for line in panel.plot.axes.get_lines()}
    np.testing.assert_allclose(lines["FD"].get_ydata(), fd)
    assert lines["threshold 0.5 mm"].get_ydata()[0] == pytest.approx(0.5)
    assert list(lines["scrubbed (4)"].get_xdata()) == spikes
    # a stricter threshold and neighbours recompute at once (hand computation again)
    panel.form.threshold.value = 1.35
    panel.form.after.value = 1
    above = np.flatnonzero(fd > 1.35)
    expected = sorted(set(above) | {v + 1 for v in above if v + 1 < fd.size})
    assert np.flatnonzero(panel.result.scrub).tolist() == expected
    assert f"<b>{len(expected)}</b> of 180" in panel.summary.text()


# ----------------------------------------------------------------------------- physio


def test_cardiac_peaks_match_the_truth_and_can_be_corrected(dock_on, study, qtbot, tmp_path,
                                                             monkeypatch):
    viewer, dock = dock_on()
    physio = dock.physio
    panel = physio.editor
    panel.detect_button.click()
    wait_for(qtbot, physio)
    beats = np.asarray(study.truth["physio"]["beat_times"])
    found = panel.peaks.times
    # every planted beat is found on its sample; any other peak lies outside the planted span
    nearest = np.abs(found[:, None] - beats[None, :]).min(axis=0)
    assert nearest.max() < 1e-6
    others = found[np.abs(found[:, None] - beats[None, :]).min(axis=1) > 1e-6]
    assert np.all((others < beats[0]) | (others > beats[-1]))
    assert panel.peaks.flagged == []
    assert f"<b>{found.size}</b> beats" in panel.peaks_label.text()
    ax = panel.plot.axes
    plotted = [line for line in ax.get_lines() if line.get_label().startswith("beats")][0]
    np.testing.assert_allclose(plotted.get_xdata(), found)

    # a click on a beat removes it: its interval doubles and is flagged as a missed beat
    target = float(beats[100])
    click_plot(qtbot, panel.plot, target + 0.05)
    assert panel.peaks.times.size == found.size - 1
    assert np.abs(panel.peaks.times - target).min() > 0.3
    (flag,) = panel.peaks.flagged
    assert flag.kind == "missed"
    assert (flag.start, flag.end) == pytest.approx((beats[99], beats[101]), abs=1e-6)
    assert "1 missed" in panel.peaks_label.text()
    assert "1 removed" in panel.peaks_label.text()
    spans = [p for p in ax.patches]
    assert len(spans) == 1
    # "next flagged beat" centres the plot on it
    panel.plot.set_window(0)
    panel.flag_button.click()
    centre = panel.plot.start + panel.plot.window_s / 2
    assert centre == pytest.approx((beats[99] + beats[101]) / 2)
    # a click near where it was adds it back on the pulse maximum (the planted beat)
    click_plot(qtbot, panel.plot, target - 0.1)
    np.testing.assert_allclose(panel.peaks.times, found)
    assert panel.peaks.flagged == [] and panel.peaks.source == "user"

    # save the corrected list, change it, load it back
    saved = tmp_path / "peaks.tsv"
    monkeypatch.setattr(dock.ctx, "ask_save_path", lambda *a: saved)
    panel.save_peaks_button.click()
    table = pd.read_csv(saved, sep="\t")
    np.testing.assert_allclose(table["time"], found, atol=1e-6)
    panel.remove_peak(target)
    assert panel.load_peaks(saved)
    np.testing.assert_allclose(panel.peaks.times, found, atol=1e-6)
    assert "peaks.tsv" in panel.peaks_label.text()
    panel.revert_button.click()
    assert panel.peaks is panel.detected


def test_retroicor_tsv_and_partial_r2_layer_on_the_run_grid(dock_on, study, qtbot, tmp_path,
                                                             monkeypatch):
    viewer, dock = dock_on()
    panel = dock.physio
    truth = study.truth["physio"]
    # sample the phases at the slice the truth lists them for (k = 0)
    panel.form.slice_mode.value = "index"
    panel.form.slice_index.value = truth["phase_reference_slice"]
    assert "slice 0, 0.000 s" in panel.form.where.value
    panel.compute_button.click()
    wait_for(qtbot, panel)
    assert panel.result is not None, panel.status.text()

    # the TSV: the columns in its order, one row per volume, the truth's phases
    out = tmp_path / "retroicor.tsv"
    monkeypatch.setattr(dock.ctx, "ask_save_path", lambda *a: out)
    panel.save_button.click()
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == RETROICOR_COLUMNS
    assert len(table) == 180
    phi_c = np.asarray(truth["cardiac_phase_at_volumes"])
    phi_r = np.asarray(truth["respiratory_phase_at_volumes"])
    np.testing.assert_allclose(table["cardiac_cos1"], np.cos(phi_c), atol=1e-6)
    np.testing.assert_allclose(table["cardiac_sin3"], np.sin(3 * phi_c), atol=1e-5)
    np.testing.assert_allclose(table["resp_cos4"], np.cos(4 * phi_r), atol=1e-4)
    np.testing.assert_allclose(table["inter_sin_minus"], np.sin(phi_c - phi_r), atol=1e-4)
    # an existing file: declined -> untouched; accepted -> replaced (atomically)
    out.write_text("keep me\n")
    monkeypatch.setattr(dock.ctx, "confirm", lambda *a: False)
    panel.save_button.click()
    assert out.read_text() == "keep me\n"
    monkeypatch.setattr(dock.ctx, "confirm", lambda *a: True)
    panel.save_button.click()
    assert list(pd.read_csv(out, sep="\t").columns) == RETROICOR_COLUMNS
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    # the partial R^2 layer lies on the run grid, placed by the run's affine
    layer = find_result(viewer, "retroicor_r2")
    src = source_of(layer)
    run_img = nib.load(study.bold)
    assert src.grid.matches(source_of(dock.session.run).grid)
    assert src.grid_source.path == study.bold
    assert src.quantity == "partial R\u00b2"  # the canvas colour bar's title, no stat map shown
    assert layer.data.shape == run_img.shape[:3]
    for ijk in ([0, 0, 0], [30, 37, 21], [60, 74, 52]):
        np.testing.assert_allclose(layer.data_to_world(ijk)[-3:],
                                   nib.affines.apply_affine(run_img.affine, ijk), atol=1e-6)
    # values: R^2 in [0, 1] inside the brain mask, 0 (shown empty) outside, and high where
    # the study planted physiological noise
    brain = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    r2 = np.asarray(layer.data)
    assert np.all(r2[~brain] == 0) and 0 <= r2[brain].min() and r2[brain].max() <= 1
    sd = np.asarray(nib.load(study.physio_sd_map).dataobj)
    assert stats.spearmanr(r2[brain], sd[brain])[0] > 0.5
    # warm colormap, transparent below the white-noise level for the whole map
    low, high = layer.contrast_limits
    n_vox = int(brain.sum())
    d = 180 - src_rank_full(panel)
    f_crit = stats.f.isf(0.05 / n_vox, 18, d)
    assert low == pytest.approx(18 * f_crit / (18 * f_crit + d), rel=1e-6)
    assert high == pytest.approx(np.percentile(r2[brain], 99), rel=1e-6)
    assert layer.colormap.map(np.array([0.0]))[0, 3] == 0
    assert "regressors" in panel.status.text()


def src_rank_full(panel) -> int:
    """Rank of drift + task + RETROICOR: checked with numpy on the regressors and nilearn."""
    from nilearn.glm.first_level import make_first_level_design_matrix

    events = pd.read_csv(panel.ctx.events_path(), sep="\t")
    frame_times = np.arange(180) * 2.0
    design = make_first_level_design_matrix(frame_times, events[events.trial_type != "rest"],
                                            hrf_model="spm", drift_model="cosine",
                                            high_pass=1 / 128)
    full = np.hstack([design.to_numpy(), panel.result.regressors])
    return int(np.linalg.matrix_rank(full))


def test_null_r2_quantile_is_the_f_test_threshold():
    # partial R^2 = p F / (p F + d) for the F test of p added columns with d residual df
    for p, d, q in ((18, 156, 0.99), (4, 30, 0.95), (1, 10, 0.5)):
        f = stats.f.ppf(q, p, d)
        assert null_r2_quantile(p, d, q) == pytest.approx(p * f / (p * f + d), rel=1e-9)


# ----------------------------------------------------------------------------- CSF


def pain_regressor(events_path, n=180, tr=2.0) -> np.ndarray:
    """SPM-HRF pain regressor from nilearn's design (rest rows dropped: implicit baseline)."""
    from nilearn.glm.first_level import make_first_level_design_matrix

    events = pd.read_csv(events_path, sep="\t")
    design = make_first_level_design_matrix(np.arange(n) * tr,
                                            events[events.trial_type != "rest"],
                                            hrf_model="spm", drift_model=None)
    return design["pain"].to_numpy()


def test_csf_signal_mask_and_task_correlation_warning(dock_on, study, qtbot, tmp_path,
                                                      messages):
    viewer, dock = dock_on()
    panel = dock.csf
    panel.compute_button.click()
    wait_for(qtbot, panel)
    # conservative mask by hand: probability > 0.9, eroded once (6-connected)
    prob = np.asarray(nib.load(study.csf_probseg).dataobj)
    mask = ndimage.binary_erosion(prob > 0.9, ndimage.generate_binary_structure(3, 1))
    np.testing.assert_array_equal(panel.result.mask, mask)
    run = np.asarray(nib.load(study.bold).dataobj)
    np.testing.assert_allclose(panel.result.signal, run[mask].mean(axis=0), rtol=1e-9)
    layer = find_result(viewer, "csf_mask")
    np.testing.assert_array_equal(np.asarray(layer.data) > 0, mask)
    pain = pain_regressor(study.events)
    r = np.corrcoef(run[mask].mean(axis=0), pain)[0, 1]
    assert panel.result.correlations["pain"] == pytest.approx(r, abs=1e-9)
    assert f"pain {r:+.2f}" in panel.summary.text()
    assert panel.warning_label.text() == "" and abs(r) < 0.3

    # a "CSF" mask drawn over pain-active cortex (ACC): the CSF signal follows the task
    dseg = np.asarray(nib.load(study.regions_dseg).dataobj)
    acc = tmp_path / "acc_as_csf_mask.nii.gz"
    nib.save(nib.Nifti1Image((dseg == 7).astype(np.uint8), nib.load(study.bold).affine), acc)
    panel.form.csf.open(acc)
    panel.form.erosion.value = 0
    panel.compute_button.click()
    wait_for(qtbot, panel)
    r_acc = np.corrcoef(run[dseg == 7].mean(axis=0), pain)[0, 1]
    assert r_acc > 0.3
    assert f"pain (r = {r_acc:+.2f})" in panel.warning_label.text()
    warnings = [text for level, text in messages if level == "warning"]
    assert len(warnings) == 1 and "would remove task (pain) signal" in warnings[0]


# ----------------------------------------------------------------------------- GLM


def test_glm_t_maps_with_df_and_the_pag_t_with_and_without_retroicor(dock_on, study, qtbot,
                                                                     tmp_path):
    from nilearn.glm.first_level import make_first_level_design_matrix

    viewer, dock = dock_on()
    dock.motion.compute_button.click()  # FD scrubbing from the fMRIPrep confounds
    wait_for(qtbot, dock.motion)
    panel = dock.glm
    assert panel.form.smoothing.value == 5.0
    panel.run_button.click()
    wait_for(qtbot, panel)
    assert panel.result is not None, panel.status.text()

    # df = kept volumes - design columns: drift + constant (nilearn), pain, sensory,
    # 18 RETROICOR, 6 motion, 1 CSF
    drift = make_first_level_design_matrix(np.arange(180) * 2.0, drift_model="cosine",
                                           high_pass=1 / 128).shape[1]
    df = (180 - 4) - (drift + 2 + 18 + 6 + 1)
    out = tmp_path / "out"
    prefix = "sub-01_task-pain_space-MNI152NLin2009cSym"
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(
        [f"{prefix}_contrast-{c}_stat-{s}_statmap.nii.gz"
         for c in ("pain", "painMinusSensory") for s in ("t", "effect")]
        + [f"{prefix}_desc-glm_mask.nii.gz"])
    for name, title in (("pain", "Pain > baseline"), ("painMinusSensory", "Pain > sensory")):
        path = out / f"{prefix}_contrast-{name}_stat-t_statmap.nii.gz"
        header_df = parse_spm_description(nib.load(path).header["descrip"].tobytes().decode()
                                          .rstrip("\x00"))[1]
        assert header_df == df
        layer = viewer.layers[f"{title} (T, df {df:g})"]
        src = source_of(layer)
        assert src.info.kind == ImageKind.STAT and src.info.stat_type == "T"
        assert src.info.df == df and src.df == df and src.source.path == path
        img = nib.load(path)
        np.testing.assert_array_equal(np.asarray(layer.data),
                                      np.nan_to_num(np.asarray(img.dataobj)))
        np.testing.assert_allclose(layer.data_to_world([30, 37, 21])[-3:],
                                   nib.affines.apply_affine(img.affine, [30, 37, 21]))

    # the PAG: peak t with RETROICOR above the peak without (the study plants physio noise
    # of about twice the PAG's BOLD amplitude)
    rows = panel.peak_table()
    assert [r[0] for r in rows] == ["pain > baseline", "pain > sensory"]
    with_r, without = float(rows[0][1]), float(rows[0][2])
    assert with_r > 5.0 > 3.5 > without
    peak_mm = np.array([float(v) for v in rows[0][3].split(",")])
    assert np.linalg.norm(peak_mm - [0.5, -31.0, -9.0]) < 6.0
    t_map = np.asarray(nib.load(out / f"{prefix}_contrast-pain_stat-t_statmap.nii.gz").dataobj)
    ijk = np.rint(nib.affines.apply_affine(np.linalg.inv(nib.load(study.bold).affine),
                                           peak_mm)).astype(int)
    assert t_map[tuple(ijk)] == pytest.approx(with_r, abs=0.005)
    assert f"df <b>{df}</b>" in panel.status.text()
    assert "176 of 180 volumes kept" in panel.status.text()


# ----------------------------------------------------------------------------- bad input


def write_physio(folder, name, seconds, fs=100.0, cardiac=None, meta=None, bad_line=None):
    """A BIDS physio file (+ sidecar) starting at the first volume; pulse at 70 bpm."""
    t = np.arange(int(seconds * fs)) / fs
    pulse = np.sin(2 * np.pi * 70 / 60 * t) ** 16 if cardiac is None else cardiac(t)
    resp = np.sin(2 * np.pi * 0.25 * t)
    lines = [f"{a:.5f}\t{b:.5f}\t0" for a, b in zip(pulse, resp)]
    if bad_line is not None:
        lines[bad_line - 1] = "0.1\tx\t0"
    path = folder / f"{name}_physio.tsv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    sidecar = {"SamplingFrequency": fs, "StartTime": 0.0,
               "Columns": ["cardiac", "respiratory", "trigger"]}
    sidecar.update(meta or {})
    sidecar = {k: v for k, v in sidecar.items() if v is not None}
    (folder / f"{name}_physio.json").write_text(json.dumps(sidecar))
    return path


def press_and_wait(qtbot, panel, button, messages):
    del messages[:]
    button.click()
    wait_for(qtbot, panel)
    return errors(messages)


def test_bad_inputs_give_one_notification_naming_the_file(dock_on, study, qtbot, tmp_path,
                                                          messages):
    viewer, dock = dock_on()
    physio, motion, glm = dock.physio, dock.motion, dock.glm
    n_layers = len(viewer.layers)

    # physio shorter than the run (60 s for a 360 s run)
    short = write_physio(tmp_path, "short", 60)
    physio.form.physio.value = short
    (err,) = press_and_wait(qtbot, physio, physio.compute_button, messages)
    assert err.startswith(str(short)) and "shorter than the run" in err
    # no heart beat to find (flat pulse trace)
    flat = write_physio(tmp_path, "flat", 400, cardiac=lambda t: np.zeros_like(t))
    physio.form.physio.value = flat
    (err,) = press_and_wait(qtbot, physio, physio.editor.detect_button, messages)
    assert err.startswith(str(flat)) and "flat cardiac trace" in err
    # sampling rate missing from the sidecar
    no_rate = write_physio(tmp_path, "norate", 400, meta={"SamplingFrequency": None})
    physio.form.physio.value = no_rate
    (err,) = press_and_wait(qtbot, physio, physio.editor.detect_button, messages)
    assert err.startswith(str(tmp_path / "norate_physio.json"))
    assert "has no SamplingFrequency" in err
    # a non-numeric cell in the physio table
    cell = write_physio(tmp_path, "cell", 400, bad_line=7)
    physio.form.physio.value = cell
    (err,) = press_and_wait(qtbot, physio, physio.editor.detect_button, messages)
    assert err == f"{cell}: line 7 holds a non-numeric cell 'x'."
    assert find_result(viewer, "retroicor_r2") is None

    # motion: five columns, non-numeric fMRIPrep cell, rows that do not match the run
    rp = np.loadtxt(study.spm_rp)
    five = tmp_path / "rp_five.txt"
    np.savetxt(five, rp[:, :5])
    motion.form.file.value = five
    (err,) = press_and_wait(qtbot, motion, motion.compute_button, messages)
    assert err == f"{five}: line 1 has 5 columns where 6 are expected."
    confounds = pd.read_csv(study.confounds, sep="\t", dtype=str, keep_default_na=False)
    confounds.loc[1, "trans_x"] = "abc"
    bad_tsv = tmp_path / "sub-01_task-pain_desc-confounds_timeseries.tsv"
    confounds.to_csv(bad_tsv, sep="\t", index=False)
    motion.form.file.value = bad_tsv
    (err,) = press_and_wait(qtbot, motion, motion.compute_button, messages)
    assert err == f"{bad_tsv}: line 3 holds a non-numeric trans_x value 'abc'."
    short_rp = tmp_path / "rp_short.txt"
    np.savetxt(short_rp, rp[:100])
    motion.form.file.value = short_rp
    (err,) = press_and_wait(qtbot, motion, motion.compute_button, messages)
    assert err.startswith(str(short_rp)) and "100 rows" in err and "180 volumes" in err
    assert motion.result is None

    # events outside the run (360 s): nothing is written
    events = tmp_path / "late_events.tsv"
    events.write_text("onset\tduration\ttrial_type\n0\t15\tpain\n355\t15\tpain\n")
    dock.run_form.events.value = events
    glm.form.physio.value = False
    glm.form.motion.value = False
    (err,) = press_and_wait(qtbot, glm, glm.run_button, messages)
    assert err.startswith(f"{events}: line 3") and "outside the run" in err
    out = tmp_path / "out"
    assert not any(out.iterdir())
    assert len(viewer.layers) == n_layers


def test_cancel_stops_before_anything_is_shown_or_written(dock_on, qtbot, tmp_path, messages):
    viewer, dock = dock_on()
    physio, glm = dock.physio, dock.glm
    physio.compute_button.click()
    physio.cancel_button.click()
    wait_for(qtbot, physio)
    assert physio.status.text().startswith("Cancelled")
    assert find_result(viewer, "retroicor_r2") is None
    glm.run_button.click()
    glm.cancel_button.click()
    wait_for(qtbot, glm)
    assert glm.status.text().startswith("Cancelled") and glm.result is None
    assert not any((tmp_path / "out").iterdir())
    assert errors(messages) == []
    # the panel runs again afterwards
    assert physio.compute_button.isEnabled() and glm.run_button.isEnabled()


# ----------------------------------------------------------------------------- connectivity


def test_seed_connectivity_z_map_of_a_seed_at_the_cursor(dock_on, qtbot, tmp_path):
    from napari_milna._napari.viewer_state import ViewerState

    rng = np.random.default_rng(7)
    shape, n = (14, 14, 12), 120
    affine = make_affine((4.0, 4.0, 4.0), (-28.0, -28.0, -24.0))
    shared = np.convolve(rng.normal(size=n + 20), np.ones(8) / 8, "same")[10:-10]  # slow signal
    data = 1000 + 5 * rng.normal(size=shape + (n,))
    seed_ijk, far_ijk = (4, 4, 4), (10, 10, 8)
    for c in (seed_ijk, far_ijk):
        block = tuple(slice(v - 1, v + 2) for v in c)
        data[block] += 40 * shared
    bold = write_nifti(tmp_path / "sub-01_task-rest_space-MNI152NLin2009cSym_desc-preproc_bold"
                       ".nii.gz", data.astype(np.float32), affine, tr=2.0)
    brain = write_nifti(tmp_path / "brain_mask.nii.gz", np.ones(shape, np.uint8), affine)
    viewer, dock = dock_on(bold)
    dock.run_form.brain.open(brain)
    panel = dock.connectivity
    panel.add_dock_run()
    panel.confounds.value = False
    for i in range(panel.seeds.count()):
        panel.seeds.item(i).setCheckState(Qt.CheckState.Unchecked)
    seed_mm = nib.affines.apply_affine(affine, seed_ijk)
    ViewerState.of(viewer).go_to_world(seed_mm)
    seed = panel.add_cursor_seed()
    np.testing.assert_allclose(seed.xyz, seed_mm)
    panel.run_button.click()
    wait_for(qtbot, panel)
    (layer,) = panel.layers
    src = source_of(layer)
    assert src.info.kind == ImageKind.CONTRAST and src.source.path.parent == tmp_path / "out"
    z = np.asarray(nib.load(src.source.path).dataobj)
    np.testing.assert_allclose(layer.data_to_world(far_ijk)[-3:],
                               nib.affines.apply_affine(affine, far_ijk))
    # the far block shares the seed's signal: z far above the rest of the volume
    r_far = np.corrcoef(data[seed_ijk], data[far_ijk])[0, 1]
    assert r_far > 0.8 and z[far_ijk] > 1.0
    others = np.ones(shape, bool)
    for c in (seed_ijk, far_ijk):
        others[tuple(slice(v - 2, v + 3) for v in c)] = False
    assert abs(np.median(z[others])) < 0.1 and np.percentile(np.abs(z[others]), 99) < 0.5
    # the DMN nodes of nilearn's Seitzman table that fall inside this small box
    from nilearn.datasets import fetch_coords_seitzman_2018

    atlas = fetch_coords_seitzman_2018(ordered_regions=False)
    xyz = atlas.rois[["x", "y", "z"]].to_numpy(float)[np.asarray(atlas.networks) == "DefaultMode"]
    ijk = np.rint(nib.affines.apply_affine(np.linalg.inv(affine), xyz))
    inside = int(np.all((ijk >= 0) & (ijk < np.array(shape)), axis=1).sum())
    assert f"mean z with {inside} DMN nodes" in panel.status.text()


def test_plugin_dock_by_name_and_closing_while_a_job_runs(make_napari_viewer, study, qtbot):
    viewer = make_napari_viewer()
    widget, dock = viewer.window.add_plugin_dock_widget("napari-milna", "Preprocessing")
    assert isinstance(dock, PreprocessingDock)
    viewer.open(study.bold, plugin="napari-milna")
    assert dock.run_form.run.widget.native.currentText() == viewer.layers[-1].name
    assert dock.physio.compute()
    finished = []
    dock.physio.runner.worker.finished.connect(lambda: finished.append(True))
    viewer.window.remove_dock_widget(widget)
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert find_result(viewer, "retroicor_r2") is None
    viewer.open(study.csf_probseg, plugin="napari-milna")  # layer events after the close: fine
