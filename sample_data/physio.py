"""Synthetic pulse-oximeter and respiratory-belt traces, and their RETROICOR phases.

The traces are what the sample study saves as BIDS physio (100 Hz, recording starts
10 s before the first volume, one trigger sample per volume onset). The physiological
noise planted in the run is computed from THESE traces with the RETROICOR model
(Glover et al. 2000, MRM 44:162; interaction terms of Harvey et al. 2008, JMRI
28:1337), so a correct RETROICOR implementation run on the saved files recovers it.

* Cardiac: heart rate about 60-75 bpm, modulated by a 0.09 Hz (Mayer wave)
  oscillation, respiratory sinus arrhythmia and a slow random wander. Beats lie on
  the sample grid; the pulse waveform has its systolic peak (its maximum) exactly at
  each beat, a steep upstroke before it, a dicrotic notch after it.
  Cardiac phase: ``2 pi (t - t1) / (t2 - t1)`` between the surrounding beats.
* Respiration: belt at about 0.25 Hz (rate wandering +/- 10 %) with slowly varying
  depth. Respiratory phase (Glover 2000): ``pi * H(R(t)) * sign(dR/dt)`` where ``H``
  is the cumulative histogram (100 bins over [min, max] of the whole saved trace) of
  the belt amplitude, evaluated at bin ``round(100 * (R - min) / (max - min))``, and
  the sign comes from a Savitzky-Golay derivative (0.51 s window, order 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, signal

#: Physio sampling frequency in Hz.
SAMPLING_HZ = 100.0
#: Recording start relative to the first volume onset (s).
START_TIME_S = -10.0
#: Recording continues this long after the end of the last volume (s).
TAIL_S = 5.0
#: Mean heart rate (bpm) and its modulations.
HEART_RATE_BPM = 67.0
MAYER_HZ, MAYER_BPM = 0.09, 3.0
RSA_BPM = 2.0
#: Mean respiratory rate (Hz).
RESP_RATE_HZ = 0.25
#: Beats closer than this to either end of the recording are not listed (s).
EDGE_S = 0.3
#: Saved precision (decimals) of the cardiac and respiratory columns.
DECIMALS = 5
#: Fourier orders of the RETROICOR model: cardiac, respiratory, interaction.
ORDERS = (3, 4, 1)
#: Histogram bins of the respiratory phase.
RESP_BINS = 100
#: Savitzky-Golay window (samples) for the sign of dR/dt.
RESP_DERIV_WINDOW = 51


@dataclass(frozen=True)
class PhysioTraces:
    """The saved physiological recording and what generated it.

    Attributes
    ----------
    time : ndarray
        Sample times in s relative to the first volume onset.
    cardiac, respiratory : ndarray
        Saved columns (rounded to :data:`DECIMALS`).
    trigger : ndarray of int
        1 at each volume onset sample.
    beat_times : ndarray
        Systolic peak times (s), all on the sample grid, at least :data:`EDGE_S` inside
        the recording.
    all_beats : ndarray
        The waveform's beats: ``beat_times`` plus one beat before and after them.
    heart_rate_bpm : ndarray
        Instantaneous heart rate per sample.
    resp_rate_hz : ndarray
        Instantaneous respiratory rate per sample.
    """

    time: np.ndarray
    cardiac: np.ndarray
    respiratory: np.ndarray
    trigger: np.ndarray
    beat_times: np.ndarray
    all_beats: np.ndarray
    heart_rate_bpm: np.ndarray
    resp_rate_hz: np.ndarray

    @property
    def start_time(self) -> float:
        """Time of the first sample relative to the first volume (s)."""
        return float(self.time[0])

    def sample_index(self, times) -> np.ndarray:
        """Index of the sample nearest to each of ``times`` (s)."""
        idx = np.rint((np.asarray(times, dtype=float) - self.time[0]) * SAMPLING_HZ)
        return np.clip(idx.astype(int), 0, self.time.size - 1)


def _slow_noise(rng, time: np.ndarray, sigma_s: float) -> np.ndarray:
    """Unit-variance Gaussian noise low-passed with a Gaussian of ``sigma_s`` seconds.

    Drawn on a 0.5 s grid and interpolated to ``time`` (the content is far below 1 Hz).
    """
    step = 0.5
    coarse = np.arange(time[0] - step, time[-1] + 2 * step, step)
    x = ndimage.gaussian_filter1d(rng.standard_normal(coarse.size), sigma_s / step, mode="reflect")
    x = np.interp(time, coarse, x)
    return x / x.std()


def _pulse_shape(u: np.ndarray) -> np.ndarray:
    """Pulse-oximeter waveform over one beat (u in [0, 1)), maximum 1 exactly at u = 0."""
    tau = 0.22
    decay = (np.exp(-u / tau) - np.exp(-1.0 / tau)) / (1.0 - np.exp(-1.0 / tau))
    upstroke = np.exp(-0.5 * ((1.0 - u) / 0.04) ** 2)
    dicrotic = 0.22 * np.exp(-0.5 * ((u - 0.42) / 0.07) ** 2)
    return decay + upstroke + dicrotic * (1.0 - upstroke)


def cardiac_phase(beats: np.ndarray, times) -> np.ndarray:
    """Glover's cardiac phase in [0, 2 pi) at ``times`` from sorted beat times."""
    times = np.asarray(times, dtype=float)
    k = np.searchsorted(beats, times, side="right") - 1
    k = np.clip(k, 0, beats.size - 2)
    t1, t2 = beats[k], beats[k + 1]
    return 2.0 * np.pi * np.clip((times - t1) / (t2 - t1), 0.0, 1.0 - 1e-12)


def respiratory_phase(belt: np.ndarray) -> np.ndarray:
    """Glover's respiratory phase in [-pi, pi] at every sample of ``belt``."""
    belt = np.asarray(belt, dtype=float)
    lo, hi = float(belt.min()), float(belt.max())
    norm = (belt - lo) / (hi - lo)
    hist, _ = np.histogram(norm, bins=RESP_BINS, range=(0.0, 1.0))
    cum = np.concatenate([[0.0], np.cumsum(hist) / hist.sum()])
    level = cum[np.rint(norm * RESP_BINS).astype(int)]
    slope = signal.savgol_filter(belt, RESP_DERIV_WINDOW, 2, deriv=1)
    return np.pi * level * np.where(slope >= 0, 1.0, -1.0)


def simulate_physio(rng, n_volumes: int, tr: float) -> PhysioTraces:
    """Simulate the recording for a run of ``n_volumes`` volumes of ``tr`` seconds.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    tr : float

    Returns
    -------
    PhysioTraces
    """
    fs = SAMPLING_HZ
    n = int(round((n_volumes * tr + TAIL_S - START_TIME_S) * fs))
    time = START_TIME_S + np.arange(n) / fs
    # Respiration: wandering rate and depth, -cos so the trough (end-expiration) is phase 0.
    resp_rate = RESP_RATE_HZ * (1.0 + 0.08 * _slow_noise(rng, time, 15.0))
    theta = 2.0 * np.pi * np.cumsum(resp_rate) / fs + rng.uniform(0, 2 * np.pi)
    depth = np.clip(1.0 + 0.22 * _slow_noise(rng, time, 8.0), 0.45, 1.8)
    wander = 0.08 * _slow_noise(rng, time, 30.0)
    belt = 2.0 + 0.6 * depth * -np.cos(theta) + wander + 0.004 * rng.standard_normal(n)
    # Heart rate: Mayer wave, respiratory sinus arrhythmia (faster on inspiration), wander.
    hr = (
        HEART_RATE_BPM
        + MAYER_BPM * np.sin(2 * np.pi * MAYER_HZ * time + rng.uniform(0, 2 * np.pi))
        + RSA_BPM * np.sin(theta)
        + 2.0 * _slow_noise(rng, time, 20.0)
    )
    hr = np.clip(hr, 61.0, 76.0)
    beat_count = np.cumsum(hr / 60.0) / fs + rng.uniform(0.0, 1.0)
    crossings = np.flatnonzero(np.diff(np.floor(beat_count)) > 0) + 1
    beats_in = time[crossings]
    # A beat within EDGE_S of either end of the recording has no full peak to detect.
    beats_in = beats_in[(beats_in >= time[0] + EDGE_S) & (beats_in <= time[-1] - EDGE_S)]
    mean_ibi = 60.0 / HEART_RATE_BPM
    all_beats = np.concatenate(
        [[beats_in[0] - mean_ibi], beats_in, [beats_in[-1] + mean_ibi]]
    )
    u = cardiac_phase(all_beats, time) / (2 * np.pi)
    amplitude = 1.0 + 0.06 * np.sin(theta)
    ppg = 0.5 + 0.4 * amplitude * _pulse_shape(u) + 0.03 * np.sin(theta)
    ppg = ppg + 0.001 * rng.standard_normal(n)
    trigger = np.zeros(n, dtype=np.int64)
    onsets = np.rint((np.arange(n_volumes) * tr - START_TIME_S) * fs).astype(int)
    trigger[onsets] = 1
    return PhysioTraces(
        time=time,
        cardiac=np.round(ppg, DECIMALS),
        respiratory=np.round(belt, DECIMALS),
        trigger=trigger,
        beat_times=np.round(beats_in, 6),
        all_beats=all_beats,
        heart_rate_bpm=hr,
        resp_rate_hz=resp_rate,
    )


def retroicor_regressors(phase_c: np.ndarray, phase_r: np.ndarray) -> np.ndarray:
    """The 18 RETROICOR regressors (Glover 2000 + Harvey 2008) of given phases.

    Columns: cos/sin(m phi_c) for m = 1..3, cos/sin(m phi_r) for m = 1..4, then
    cos/sin(phi_c + phi_r) and cos/sin(phi_c - phi_r).

    Returns
    -------
    ndarray, shape ``phase_c.shape + (18,)``
    """
    cols = []
    for m in range(1, ORDERS[0] + 1):
        cols += [np.cos(m * phase_c), np.sin(m * phase_c)]
    for m in range(1, ORDERS[1] + 1):
        cols += [np.cos(m * phase_r), np.sin(m * phase_r)]
    for s in (1.0, -1.0):
        cols += [np.cos(phase_c + s * phase_r), np.sin(phase_c + s * phase_r)]
    return np.stack(cols, axis=-1)


def phases_at(traces: PhysioTraces, times) -> tuple[np.ndarray, np.ndarray]:
    """Cardiac (exact, from the beats) and respiratory (nearest sample) phases at ``times``."""
    phi_r_all = respiratory_phase(traces.respiratory)
    phi_c = cardiac_phase(traces.all_beats, times)
    phi_r = phi_r_all[traces.sample_index(times)]
    return phi_c, phi_r
