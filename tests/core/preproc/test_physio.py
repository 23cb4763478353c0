"""BIDS physio reading, cardiac peaks (neurokit2) and Glover 2000 phases."""

import json

import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.preproc.physio import (
    PhysioRecording,
    cardiac_phase,
    detect_cardiac_peaks,
    flag_beats,
    read_bids_physio,
    read_peak_times,
    respiratory_phase,
    write_peak_times,
)
from tests.synth.physio import beat_times, belt_trace, pulse_trace, write_bids_physio


def test_read_bids_physio_and_sidecar(tmp_path):
    path, _, _, t = write_bids_physio(tmp_path, duration=20.0, start_time=-2.5)
    rec = read_bids_physio(path)
    assert rec.columns == ["cardiac", "respiratory", "trigger"]
    assert rec.sampling_frequency == 100.0 and rec.start_time == -2.5
    assert rec.n_samples == t.size
    np.testing.assert_allclose(rec.times, t)
    assert rec.cardiac is rec.signals["cardiac"]


def test_bad_physio_inputs_name_the_file(tmp_path):
    path, *_ = write_bids_physio(tmp_path, duration=5.0)
    side = tmp_path / "sub-01_task-pain_physio.json"
    meta = json.loads(side.read_text())
    side.write_text(json.dumps({k: v for k, v in meta.items() if k != "SamplingFrequency"}))
    with pytest.raises(MilnaInputError, match=r"physio\.json: has no SamplingFrequency"):
        read_bids_physio(path)
    side.write_text(json.dumps({**meta, "Columns": ["cardiac", "respiratory"]}))
    with pytest.raises(MilnaInputError, match=r"physio\.tsv\.gz: line 1 has 3 columns"):
        read_bids_physio(path)
    side.write_text(json.dumps({**meta, "Columns": ["a", "b", "c"]}))
    rec = read_bids_physio(path)
    with pytest.raises(MilnaInputError, match="has no cardiac column .columns: a, b, c"):
        rec.cardiac_column()
    plain = tmp_path / "x_physio.tsv"
    plain.write_text("1\t2\n3\tabc\n")
    (tmp_path / "x_physio.json").write_text(
        json.dumps({"SamplingFrequency": 10, "Columns": ["cardiac", "respiratory"]})
    )
    with pytest.raises(MilnaInputError, match=r"x_physio\.tsv: line 2 holds a non-numeric cell"):
        read_bids_physio(plain)


def test_physio_shorter_than_run(tmp_path):
    path, *_ = write_bids_physio(tmp_path, duration=30.0, start_time=0.0)
    rec = read_bids_physio(path)
    rec.check_covers(0.0, 29.0)
    with pytest.raises(MilnaInputError, match="is shorter than the run"):
        rec.check_covers(0.0, 40.0)


def test_cardiac_phase_linear_between_known_beats():
    beats = np.array([0.0, 0.8, 1.8, 2.7])
    t = np.array([0.2, 0.4, 0.8, 1.3, 1.8 - 1e-9, 2.25])
    expected = 2 * np.pi * np.array([0.25, 0.5, 0.0, 0.5, 1.0 - 1e-9, 0.5])
    np.testing.assert_allclose(cardiac_phase(t, beats), np.mod(expected, 2 * np.pi), atol=1e-6)
    # Exactly linear inside one interval: constant increments.
    inside = np.linspace(0.85, 1.75, 10)
    steps = np.diff(cardiac_phase(inside, beats))
    np.testing.assert_allclose(steps, 2 * np.pi * 0.1 / 1.0)
    with pytest.raises(MilnaInputError, match="does not cover the run"):
        cardiac_phase([10.0], beats)


def test_neurokit_peaks_match_known_beats():
    fs = 100.0
    beats = beat_times(120, start=0.5, seed=4)
    t = np.arange(0, beats[-1] + 1.0, 1 / fs)
    sig = pulse_trace(t, beats) + np.random.default_rng(0).normal(0, 0.02, t.size)
    rec = PhysioRecording({"cardiac": sig, "respiratory": np.sin(t)}, fs, 0.0)
    peaks = detect_cardiac_peaks(rec)
    assert peaks.times.size == beats.size
    # Beats off the sample grid, a flat-topped bump and noise: within 2.5 samples.
    assert np.max(np.abs(peaks.times - beats)) <= 2.5 / fs
    assert np.mean(np.abs(peaks.times - beats)) <= 0.75 / fs
    assert peaks.flagged == []
    # Phases at volume times from detected peaks agree with the truth to ~2 samples.
    vt = np.arange(2.0, beats[-1] - 1, 2.0)
    dphi = np.angle(np.exp(1j * (cardiac_phase(vt, peaks.times) - cardiac_phase(vt, beats))))
    assert np.max(np.abs(dphi)) < 2 * np.pi * 4 / fs / 0.75


def test_missed_and_extra_beats_are_flagged():
    beats = beat_times(60, start=0.5, ibi=(0.85, 0.95), seed=2)
    missed = np.delete(beats, 20)
    flags = flag_beats(missed)
    assert [(f.kind, f.interval) for f in flags] == [("missed", 19)]
    assert flags[0].start == beats[19] and flags[0].end == beats[21]
    extra = np.sort(np.append(beats, beats[30] + 0.25))
    kinds = {(f.kind, f.interval) for f in flag_beats(extra)}
    assert ("extra", 30) in kinds


def test_detection_flags_a_dropped_beat():
    fs = 100.0
    beats = beat_times(80, start=0.5, ibi=(0.85, 0.95), seed=5)
    t = np.arange(0, beats[-1] + 1.0, 1 / fs)
    sig = pulse_trace(t, np.delete(beats, 40))
    rec = PhysioRecording({"cardiac": sig, "respiratory": np.sin(t)}, fs, 0.0)
    peaks = detect_cardiac_peaks(rec)
    assert any(f.kind == "missed" and abs(f.start - beats[39]) < 0.02 for f in peaks.flagged)


def test_asymmetric_pulse_peak_is_the_raw_maximum():
    """A steep upstroke and slow decay: neurokit2's filtered peak lags; the refined one
    sits on the raw maximum (beats on the sample grid)."""
    fs = 100.0
    beats = np.round(beat_times(60, start=0.5, seed=8) * fs) / fs
    t = np.arange(0, beats[-1] + 1.0, 1 / fs)
    sig = np.zeros_like(t)
    for b in beats:
        u = t - b
        sig += np.where(u < 0, np.exp(-0.5 * (u / 0.04) ** 2), np.exp(-0.5 * (u / 0.18) ** 2))
    rec = PhysioRecording({"cardiac": sig, "respiratory": np.sin(t)}, fs, 0.0)
    np.testing.assert_allclose(detect_cardiac_peaks(rec).times, beats, atol=1e-9)


def test_flat_cardiac_trace_is_refused():
    rec = PhysioRecording({"cardiac": np.zeros(1000), "respiratory": np.ones(1000)}, 100.0)
    with pytest.raises(MilnaInputError, match="flat cardiac trace"):
        detect_cardiac_peaks(rec)


def test_corrected_peak_list_round_trip(tmp_path):
    beats = beat_times(10, seed=1)
    from napari_milna.core.preproc.physio import peaks_from_times

    path = write_peak_times(peaks_from_times(beats), tmp_path / "peaks.tsv")
    back = read_peak_times(path)
    np.testing.assert_allclose(back.times, beats, atol=1e-6)
    assert back.source == "user"
    path.write_text("time\n1.0\nx\n")
    with pytest.raises(MilnaInputError, match="line 3 holds a non-numeric peak time"):
        read_peak_times(path)


def test_respiratory_phase_matches_arcsine_law_on_a_sine():
    """For R = sin(theta) the amplitude CDF is 1/2 + arcsin(2r - 1)/pi (arcsine law), so
    Glover's phase is (pi/2 + arcsin(sin theta)) * sign(cos theta)."""
    fs = 50.0
    t = np.arange(0, 400, 1 / fs)
    theta = 2 * np.pi * 0.25 * t
    phase = respiratory_phase(np.sin(theta), fs)
    expected = (np.pi / 2 + np.arcsin(np.sin(theta))) * np.where(np.cos(theta) >= 0, 1, -1)
    away = np.abs(np.cos(theta)) > 0.2  # away from the turning points
    # Histogram of 100 bins: the lookup is within one bin (about pi / 100 near mid-range)
    err = np.abs(phase - expected)[away]
    assert np.max(err) < 0.06


def test_respiratory_phase_is_uniform_and_signed_like_the_derivative():
    fs = 50.0
    t = np.arange(0, 600, 1 / fs)
    belt, theta = belt_trace(t)
    belt = belt + np.random.default_rng(7).normal(0, 0.01, t.size)
    phase = respiratory_phase(belt, fs)
    # Histogram equalisation: |phase| / pi is uniform on [0, 1], up to the 100-bin
    # quantisation (at most the mass of the fullest bin, the belt's extremes).
    from scipy.stats import kstest

    hist, _ = np.histogram((belt - belt.min()) / np.ptp(belt), bins=100, range=(0, 1))
    fullest = hist.max() / hist.sum()
    assert kstest(np.abs(phase) / np.pi, "uniform").statistic <= fullest + 0.005
    assert abs(np.mean(np.abs(phase)) / np.pi - 0.5) < 0.01
    rising = np.cos(theta)  # d sin(theta)/dt has the sign of cos(theta)
    # Away from turning points, from the belt minimum (phase 0 has no sign) and from the
    # last second (the slope fit there is one-sided).
    clear = (np.abs(rising) > 0.1) & (phase != 0) & (t < t[-1] - 1.0)
    assert np.all(np.sign(phase[clear]) == np.sign(rising[clear]))
