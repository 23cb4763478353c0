"""The fuller physiological noise model in the preprocessing tab (real napari under Xvfb).

RETROICOR + RVT + HR: the traces the tab plots and the table it saves equal what
``milna retroicor --model retroicor+rvt+hr`` writes for the same run, slice and beats;
after a beat is removed by hand the heart rate is 60 / mean inter-beat interval of the
corrected beats in each volume's 6 s window, computed here by hand. The GLM table's
PAG peak t of each model equals ``milna glm --model retroicor+rvt+hr --json``.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from tests.cli.cli_run import run_json
from tests.widgets.preproc.driving import click_plot, wait_for, wait_for_rebuild

FULLER = "retroicor+rvt+hr"
EXTRA_COLUMNS = ["rvt", "rvt_rrf", "hr", "hr_crf"]


def milna(capsys, argv) -> dict:
    """``milna ARGV --json`` in-process (napari's own prints before it dropped)."""
    capsys.readouterr()
    return run_json(capsys, argv)


def hr_by_hand(beats, times, window=6.0) -> np.ndarray:
    """60 / mean IBI of the beats within +-window/2 of each time (the interval around it
    when fewer than two beats fall inside)."""
    out = []
    for t in times:
        inside = [b for b in beats if t - window / 2 <= b <= t + window / 2]
        if len(inside) >= 2:
            out.append(60.0 * (len(inside) - 1) / (inside[-1] - inside[0]))
        else:
            before = max(b for b in beats if b <= t)
            after = min(b for b in beats if b > t)
            out.append(60.0 / (after - before))
    return np.array(out)


def test_fuller_model_regressors_equal_the_cli_and_follow_corrected_beats(
        dock_on, study, qtbot, tmp_path, monkeypatch, capsys):
    viewer, dock = dock_on()
    physio = dock.physio
    physio.form.model.value = FULLER
    assert physio.form.slice_index.value == 21
    physio.compute_button.click()
    wait_for(qtbot, physio)
    assert physio.result is not None, physio.status.text()
    assert physio.rvt_plot.isVisibleTo(physio)
    # the R^2 map says which run and brain mask of the session it used
    session = dock.session
    assert (f"run: {session.run.name}; brain mask: {session.masks['brain'].name}"
            in physio.status.text())

    # milna retroicor on the same run and slice (its own reading and peak detection)
    cli = tmp_path / "cli.tsv"
    milna(capsys, ["retroicor", study.physio, "--bold", study.bold, "--slice", 21,
                   "--model", FULLER, "--out", cli])
    theirs = pd.read_csv(cli, sep="\t")
    assert list(theirs.columns[-4:]) == EXTRA_COLUMNS
    # the plotted traces are the CLI's columns, against each volume's slice time
    timing = json.loads(study.bold_json.read_text())["SliceTiming"]
    times = np.arange(180) * 2.0 + timing[21]
    for column in EXTRA_COLUMNS:
        line = physio.rvt_plot.lines[column]
        np.testing.assert_allclose(line.get_xdata(), times, atol=1e-9)
        np.testing.assert_allclose(line.get_ydata(), theirs[column], rtol=1e-9, atol=1e-9)
    # the saved table is the CLI's, column for column
    saved = tmp_path / "tab.tsv"
    monkeypatch.setattr(dock.ctx, "ask_save_path", lambda *a: saved)
    physio.save_button.click()
    ours = pd.read_csv(saved, sep="\t")
    assert list(ours.columns) == list(theirs.columns)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours["hr"], hr_by_hand(physio.editor.peaks.times, times),
                               rtol=1e-9)

    # a beat removed by hand: the regressors are rebuilt from the corrected beats
    beats = np.asarray(study.truth["physio"]["beat_times"])
    target = float(beats[100])
    click_plot(qtbot, physio.editor.plot, target + 0.05)
    wait_for_rebuild(qtbot, physio)
    corrected = physio.editor.peaks.times
    assert corrected.size == physio.editor.detected.times.size - 1
    assert physio.result.peaks is physio.editor.peaks
    assert "R\u00b2 map was computed before this change" in physio.status.text()
    hr = hr_by_hand(corrected, times)
    np.testing.assert_allclose(physio.result.rvt_hr.hr, hr, rtol=1e-9)
    np.testing.assert_allclose(physio.rvt_plot.lines["hr"].get_ydata(), hr, rtol=1e-9)
    # the volumes whose window held the removed beat see a slower heart
    near = np.abs(times - target) <= 3.0
    assert np.all(hr[near] < ours["hr"].to_numpy()[near])
    np.testing.assert_allclose(hr[~near], ours["hr"].to_numpy()[~near], rtol=1e-9)
    # ... and the table equals milna retroicor given the corrected beats
    peaks_file = tmp_path / "corrected.tsv"
    monkeypatch.setattr(dock.ctx, "ask_save_path", lambda *a: peaks_file)
    physio.editor.save_peaks_button.click()
    cli_corrected = tmp_path / "cli_corrected.tsv"
    milna(capsys, ["retroicor", study.physio, "--bold", study.bold, "--slice", 21,
                   "--model", FULLER, "--peaks", peaks_file, "--out", cli_corrected])
    monkeypatch.setattr(dock.ctx, "ask_save_path", lambda *a: saved)
    monkeypatch.setattr(dock.ctx, "confirm", lambda *a: True)
    physio.save_button.click()
    np.testing.assert_allclose(pd.read_csv(saved, sep="\t").to_numpy(),
                               pd.read_csv(cli_corrected, sep="\t").to_numpy(),
                               rtol=1e-9, atol=1e-9)
    # back to RETROICOR alone: 18 columns, no RVT / HR plot
    physio.form.model.value = "retroicor"
    wait_for_rebuild(qtbot, physio)
    assert physio.result.to_frame().shape == (180, 18)
    assert not physio.rvt_plot.isVisibleTo(physio)


@pytest.fixture
def brainstem_box(study, tmp_path):
    """The brain mask cut to 30 x 30 x 24 mm around the PAG (keeps the GLMs short)."""
    img = nib.load(study.brain_mask)
    xyz = nib.affines.apply_affine(img.affine, np.indices(img.shape).reshape(3, -1).T)
    near = np.all(np.abs(xyz - [0.5, -31.0, -9.0]) <= [15, 15, 12], axis=1).reshape(img.shape)
    path = tmp_path / "box_mask.nii.gz"
    nib.save(nib.Nifti1Image(((img.get_fdata() > 0) & near).astype(np.uint8), img.affine), path)
    return path


def test_glm_pag_t_of_each_model_equals_milna_glm(dock_on, study, qtbot, tmp_path, capsys,
                                                  brainstem_box):
    viewer, dock = dock_on()
    dock.run_form.brain.open(brainstem_box)
    dock.physio.form.model.value = FULLER
    glm = dock.glm
    glm.form.smoothing.value = 0  # no smoothing (shorter fits), as milna glm --smoothing 0
    glm.run_button.click()
    wait_for(qtbot, glm)
    assert glm.result is not None, glm.status.text()

    cli_out = tmp_path / "cli_glm"
    cli_out.mkdir()
    d = milna(capsys, ["glm", study.bold, "--events", study.events, "--physio", study.physio,
                       "--slice", 21, "--motion", study.confounds, "--motion-format", "fmriprep",
                       "--csf", study.csf_probseg, "--mask", brainstem_box, "--smoothing", 0,
                       "--model", FULLER, "--out", cli_out])
    assert d["physio_model"] == FULLER
    table = glm.model_table()
    assert table["contrast"] == ["pain > baseline", "pain > sensory"]
    for header, model in (("no physio", "none"), ("RETROICOR", "retroicor"),
                          ("+RVT+HR", FULLER)):
        peaks = d["roi_peaks_by_model"][model]
        assert [p["roi"] for p in peaks] == ["PAG", "PAG"]
        assert table[header] == [f"{p['peak_t']:.2f}" for p in peaks]
    assert table["PAG peak (mm)"] == [", ".join(f"{v:.1f}" for v in p["peak_mm"])
                                      for p in d["roi_peaks"]]
    # the maps written are the fuller model's; the table says so in bold
    assert glm.table.item(0, 3).font().bold() and not glm.table.item(0, 2).font().bold()
    assert f"df <b>{d['df']:g}</b>" in glm.status.text()
    dfs = d["df_by_model"]
    assert (f"df of the other fits: no physio {dfs['none']:g}, RETROICOR {dfs['retroicor']:g}."
            in glm.status.text())
    assert "brain mask: box_mask; PAG: PAG seed (Satpute et al. 2013)" in glm.status.text()
    assert "smoothing none" in glm.status.text()
    # the model's own rows as before: t with the model used, t without physio
    rows = glm.peak_table()
    assert [r[1] for r in rows] == table["+RVT+HR"] and [r[2] for r in rows] == table["no physio"]
