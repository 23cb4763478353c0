"""RVT against neurokit2 and Birn's definition, heart rate by hand, the response functions,
the no-breath refusal, and the fuller GLM model's regressors equal to the TSV's."""

import gzip
import json

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest
from scipy.signal import butter, sosfiltfilt

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.preproc.physio import PhysioRecording, read_bids_physio
from napari_milna.core.preproc.retroicor import compute_retroicor, write_regressors
from napari_milna.core.preproc.rvt_hr import (
    Breathing,
    breathing,
    cardiac_response_function,
    compute_rvt_hr,
    convolve_response,
    count_breaths,
    heart_rate,
    respiration_response_function,
    respiratory_volume_per_time,
)
from tests.synth.physio import write_bids_physio


def test_rvt_is_neurokit2_harrison_on_the_drift_free_belt(tmp_path):
    path, *_ = write_bids_physio(tmp_path, duration=150.0, start_time=-5.0)
    rec = read_bids_physio(path)
    belt = rec.respiratory
    sos = butter(2, 0.02, btype="highpass", fs=100.0, output="sos")
    expected = nk.rsp_rvt(sosfiltfilt(sos, belt - belt.mean()), sampling_rate=100.0,
                          method="harrison2021", silent=True)
    np.testing.assert_allclose(respiratory_volume_per_time(rec), expected, rtol=1e-12)


def test_rvt_of_a_sine_belt_is_twice_the_amplitude_times_the_rate():
    # Birn 2006: (max - min) / period = 2 A f for a belt A sin(2 pi f t) on a drifting base
    fs, amp, freq = 50.0, 3.0, 0.25
    t = np.arange(0, 240, 1 / fs)
    belt = 7.0 + 0.5 * t / 240 + amp * np.sin(2 * np.pi * freq * t)
    rvt = respiratory_volume_per_time(PhysioRecording({"respiratory": belt}, fs))
    middle = rvt[(t > 30) & (t < 210)]
    np.testing.assert_allclose(middle, 2 * amp * freq, rtol=0.03)


def test_heart_rate_per_volume_by_hand(tmp_path):
    path, beats, *_ = write_bids_physio(tmp_path, duration=130.0, start_time=-5.0, seed=4)
    rec = read_bids_physio(path)
    times = np.arange(60) * 2.0 + 0.7
    reg = compute_rvt_hr(rec, beats, times)
    for v, t in enumerate(times):
        inside = [b for b in beats if t - 3.0 <= b <= t + 3.0]
        ibis = [b2 - b1 for b1, b2 in zip(inside[:-1], inside[1:])]
        assert reg.hr[v] == pytest.approx(60.0 / (sum(ibis) / len(ibis)), rel=1e-12)
    # fewer than two beats in a narrow window: the interval around the time
    k = int(np.searchsorted(beats, 20.0)) - 1
    narrow = heart_rate(beats, [20.0], window_s=0.05)
    assert narrow[0] == pytest.approx(60.0 / (beats[k + 1] - beats[k]))


def test_response_functions_and_convolution():
    # Birn 2008 RRF and Chang 2009 CRF, evaluated from their formulas at t = 4 s
    rrf = 0.6 * 4**2.1 * np.exp(-4 / 1.6) - 0.0023 * 4**3.54 * np.exp(-4 / 4.25)
    crf = 0.6 * 4**2.7 * np.exp(-4 / 1.6) - 16 / np.sqrt(2 * np.pi * 9) * np.exp(-64 / 18)
    assert respiration_response_function(4.0) == pytest.approx(rrf)
    assert cardiac_response_function(4.0) == pytest.approx(crf)
    # an impulse of area 1 at 10 s gives the response 10 s later (minus the mean's share)
    times = np.arange(0, 100, 0.1)
    values = np.zeros_like(times)
    values[100] = 10.0  # 1 / dt at t = 10 s
    out = convolve_response(times, values, respiration_response_function, [13.4, 22.0])
    kernel = respiration_response_function(np.arange(0, 40.05, 0.1))
    # the demeaned trace: each output also loses mean * dt * (kernel summed up to its lag)
    shift = values.mean() * 0.1 * np.array([kernel[:135].sum(), kernel[:221].sum()])
    np.testing.assert_allclose(out + shift, respiration_response_function([3.4, 12.0]),
                               atol=1e-9)


def _physio_with_resp(folder, resp):
    t = -5.0 + np.arange(20000) / 100.0
    cardiac = np.sin(2 * np.pi * 1.1 * t) ** 8
    path = folder / "sub-01_physio.tsv.gz"
    with gzip.open(path, "wt") as fh:
        for c, r in zip(cardiac, resp):
            fh.write(f"{c:.6f}\t{r:.6f}\n")
    (folder / "sub-01_physio.json").write_text(json.dumps(
        {"SamplingFrequency": 100.0, "StartTime": -5.0, "Columns": ["cardiac", "respiratory"]}))
    return read_bids_physio(path)


def _breaths_then_still(t, n_breaths, period=4.0, start=60.0):
    """``n_breaths`` sine breaths from ``start`` s, then a still belt (sensor noise only)."""
    on = (t >= start) & (t < start + n_breaths * period)
    belt = np.where(on, np.sin(2 * np.pi * (t - start) / period), 0.0)
    return belt + np.random.default_rng(1).normal(0, 1e-3, t.size)


@pytest.mark.parametrize("n_breaths", [1, 2, 3, 5, 12])
def test_breaths_of_a_mostly_still_belt_are_counted_not_its_noise(n_breaths):
    # the noise of a still belt has a phase too: it must not be counted as breathing
    t = np.arange(36000) / 100.0
    assert count_breaths(_breaths_then_still(t, n_breaths), 100.0) == n_breaths


def test_a_steady_belt_counts_its_cycles():
    t = np.arange(36000) / 100.0  # 6 min at 15 breaths per minute: 90 breaths
    belt = np.sin(2 * np.pi * 0.25 * t) + np.random.default_rng(2).normal(0, 0.05, t.size)
    assert abs(count_breaths(belt, 100.0) - 90) <= 1


@pytest.mark.parametrize("kind", ["flat", "noise", "one breath"])
def test_a_belt_without_breaths_is_refused(tmp_path, kind):
    t = np.arange(20000) / 100.0
    resp = {"flat": np.full(t.size, 2.0),
            "noise": np.random.default_rng(0).normal(0, 1, t.size),
            "one breath": _breaths_then_still(t, 1)}[kind]
    rec = _physio_with_resp(tmp_path, resp)
    with pytest.raises(MilnaInputError, match="has no breathing in its respiratory trace") as e:
        respiratory_volume_per_time(rec)
    assert "sub-01_physio.tsv.gz" in str(e.value)


def test_fuller_glm_model_uses_the_tsv_columns(tmp_path):
    import nibabel as nib

    from napari_milna.core.preproc.pain_glm import pain_glm

    n, tr = 80, 2.0
    physio, *_ = write_bids_physio(tmp_path, duration=n * tr + 10, start_time=-5.0)
    rec = read_bids_physio(physio)
    rng = np.random.default_rng(1)
    img = nib.Nifti1Image((800 + rng.normal(0, 5, (5, 4, 3, n))).astype(np.float32),
                          np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = tr
    bold = tmp_path / "sub-01_task-pain_bold.nii.gz"
    nib.save(img, bold)
    mask = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((5, 4, 3), np.uint8), img.affine), mask)
    events = tmp_path / "events.tsv"
    events.write_text("onset\tduration\ttrial_type\n0\t15\tpain\n60\t15\tpain\n"
                      "30\t15\tsensory\n90\t15\tsensory\n")
    out = tmp_path / "glm"
    out.mkdir()
    result = pain_glm(bold, events, out, physio=physio, slice_time=0.5, mask=mask,
                      smoothing_fwhm=None, report_rois=[str(mask)],
                      physio_model="retroicor+rvt+hr")
    retro = compute_retroicor(rec, n, tr, slice_time=0.5, model="retroicor+rvt+hr")
    tsv = tmp_path / "regressors.tsv"
    write_regressors(retro, tsv)
    table = pd.read_csv(tsv, sep="\t")
    assert list(table.columns[-4:]) == ["rvt", "rvt_rrf", "hr", "hr_crf"]
    physio_columns = list(table.columns[:18]) + ["rvt_rrf", "hr_crf"]
    design = result.fit.design
    assert [c for c in result.fit.confound_columns] == physio_columns
    np.testing.assert_allclose(design[physio_columns].to_numpy(),
                               table[physio_columns].to_numpy(), rtol=1e-8, atol=1e-10)
    d = result.to_dict()
    assert set(d["roi_peaks_by_model"]) == {"none", "retroicor", "retroicor+rvt+hr"}
    assert d["df_by_model"]["retroicor"] == d["df_by_model"]["retroicor+rvt+hr"] + 2
    assert d["df_by_model"]["none"] == d["df_without_retroicor"] == d["df"] + 20


def test_breathing_coverage_by_30_s_windows():
    t = np.arange(36000) / 100.0  # 6 min: twelve 30 s windows
    steady = np.sin(2 * np.pi * 0.25 * t) + np.random.default_rng(3).normal(0, 0.05, t.size)
    assert breathing(steady, 100.0).coverage == 1.0
    # breathing for the first 3 of 6 minutes, then a still belt: 6 windows of 12 (7: the
    # band-pass filter's ringing after the last breath can fill the next window)
    half = np.where(t < 180.0, steady, np.random.default_rng(4).normal(0, 1e-3, t.size))
    belt = breathing(half, 100.0)
    assert 6 / 12 <= belt.coverage <= 7 / 12
    assert abs(belt.n_breaths - 45) <= 1  # 3 min at 15 per minute
    assert breathing(np.full(t.size, 2.0), 100.0) == Breathing(0, 0.0)


def test_a_belt_breathing_in_part_of_the_run_gets_a_note(tmp_path):
    t = -5.0 + np.arange(20000) / 100.0  # 200 s
    steady = np.sin(2 * np.pi * 0.25 * t)
    half = np.where(t < 95.0, steady, np.random.default_rng(5).normal(0, 1e-3, t.size))
    beats = np.arange(0.0, 190.0, 60 / 66)
    volumes = np.arange(0.0, 190.0, 2.0)
    full = compute_rvt_hr(_physio_with_resp(tmp_path, steady), beats, volumes)
    assert full.notes == [] and full.to_dict()["breathing_coverage"] == 1.0
    (tmp_path / "part").mkdir()
    part = compute_rvt_hr(_physio_with_resp(tmp_path / "part", half), beats, volumes)
    coverage = part.to_dict()["breathing_coverage"]
    assert coverage < 0.8
    assert part.to_dict()["notes"] == [
        f"the respiratory belt breathes in only {100 * coverage:.0f}% of the recording "
        "(30 s windows); across the rest RVT is interpolated from the breaths around it"]
