"""Physiological noise beyond RETROICOR: RVT and heart rate, and their response functions.

The standard fuller model of TAPAS PhysIO and AFNI's RetroTS adds, to the RETROICOR
phases, the slow changes of breathing and heart rate, which act on the BOLD signal
through their own response functions (Birn et al. 2006, 2008; Chang et al. 2009):

* **RVT**, respiratory volume per time: breath amplitude (max - min of the belt) over
  breath period (Birn et al. 2006), computed by ``neurokit2.rsp_rvt`` with Harrison et
  al. 2021's Hilbert method (TAPAS PhysIO's: 2 x low-passed analytic amplitude x
  instantaneous breathing rate, the same quantity without peak picking) on the belt
  trace after removing its slow drift (zero-phase Butterworth high-pass at
  :data:`BELT_HIGH_PASS_HZ`: the Hilbert phase only turns for a belt that oscillates
  around 0). Units: belt units per second.
* **HR**, heart rate from the (corrected) beat list: at time ``t``, ``60 / mean IBI``
  of the inter-beat intervals whose two beats fall in ``[t - w/2, t + w/2]``
  (``w`` = :data:`HR_WINDOW_S`, PhysIO's 6 s), i.e. ``60 (n - 1) / (b_last - b_first)``
  for the ``n >= 2`` beats in the window; with fewer than two beats in the window, the
  interval around ``t``. Units: beats per minute.
* Both are sampled at each volume's acquisition time of the chosen slice (columns
  ``rvt`` and ``hr``), and convolved with their response function (columns
  ``rvt_rrf`` and ``hr_crf``): the trace minus its mean over the recording, on a grid of
  :data:`RESPONSE_DT_S`, convolved with the response (``sum * dt``, zero before the
  recording starts), then sampled at the same times::

      RRF(t) = 0.6 t^2.1 e^(-t/1.6) - 0.0023 t^3.54 e^(-t/4.25)     (Birn 2008)
      CRF(t) = 0.6 t^2.7 e^(-t/1.6) - 16 / sqrt(2 pi 9) e^(-(t - 12)^2 / 18)   (Chang 2009)

The GLM takes the convolved columns (:data:`GLM_COLUMNS`) next to RETROICOR's, as
PhysIO does; the unconvolved traces are there to look at.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import input_error
from ..protocol import HR_WINDOW_S
from .physio import PhysioRecording

__all__ = [
    "BELT_HIGH_PASS_HZ", "COLUMNS", "GLM_COLUMNS", "HR_WINDOW_S", "RVT_METHODS",
    "Breathing", "RvtHrRegressors", "belt_without_drift", "breathing",
    "cardiac_response_function", "compute_rvt_hr", "convolve_response", "count_breaths",
    "heart_rate", "respiration_response_function", "respiratory_volume_per_time",
]

#: RVT methods of ``neurokit2.rsp_rvt`` offered here. neurokit2's ``"birn2006"`` (0.2.13)
#: z-scores the belt (no belt units) and finds breaths with a minimum distance counted in
#: samples of a 1000 Hz recording (0.8 s at 1000 Hz is 8 s at 100 Hz: every other breath
#: missed), so it is not offered.
RVT_METHODS = ("harrison2021",)
#: Step (s) of the grid on which the traces are convolved with their response function.
RESPONSE_DT_S = 0.1
#: Length (s) of the sampled response functions.
RESPONSE_LENGTH_S = 40.0
#: High-pass (Hz) removing the belt's drift before RVT.
BELT_HIGH_PASS_HZ = 0.02
#: Breathing band (Hz) used to tell a breathing trace from a flat or noisy one.
BREATHING_BAND_HZ = (0.05, 1.0)
#: A trace with less of its (drift-free) variance in the breathing band has no breaths.
BREATHING_BAND_FRACTION = 0.3
#: Windows (s) in which :func:`count_breaths` looks for breathing.
BREATHING_WINDOW_S = 30.0
#: In a breathing window, breaths are counted where the breathing-band envelope reaches
#: this fraction of the window's 90th percentile.
BREATHING_ENVELOPE_FRACTION = 0.05
#: Below this share of the recording breathing, the RVT result carries a note: across
#: the still or disconnected rest, RVT is interpolated from the breaths around it.
BREATHING_COVERAGE_NOTE = 0.8
#: Fewest breaths a recording needs for RVT.
MIN_BREATHS = 2
#: Columns added to the RETROICOR table, in order.
COLUMNS = ("rvt", "rvt_rrf", "hr", "hr_crf")
#: Columns that enter the GLM (the convolved traces).
GLM_COLUMNS = ("rvt_rrf", "hr_crf")


def respiration_response_function(t) -> np.ndarray:
    """Birn et al. 2008's respiration response function at times ``t`` (s).

    ``RRF(t) = 0.6 t^2.1 e^(-t/1.6) - 0.0023 t^3.54 e^(-t/4.25)``, 0 before ``t = 0``.
    """
    t = np.clip(np.asarray(t, dtype=float), 0.0, None)
    return 0.6 * t**2.1 * np.exp(-t / 1.6) - 0.0023 * t**3.54 * np.exp(-t / 4.25)


def cardiac_response_function(t) -> np.ndarray:
    """Chang et al. 2009's cardiac response function at times ``t`` (s).

    ``CRF(t) = 0.6 t^2.7 e^(-t/1.6) - 16 / sqrt(2 pi 9) e^(-(t - 12)^2 / 18)``.
    """
    t = np.clip(np.asarray(t, dtype=float), 0.0, None)
    return 0.6 * t**2.7 * np.exp(-t / 1.6) - 16.0 / np.sqrt(2 * np.pi * 9) * np.exp(
        -((t - 12.0) ** 2) / 18.0
    )


def _sos(kind: str, cutoff, fs: float, order: int = 2):
    from scipy.signal import butter

    return butter(order, cutoff, btype=kind, fs=fs, output="sos")


def belt_without_drift(signal, fs: float) -> np.ndarray:
    """The belt trace high-passed at :data:`BELT_HIGH_PASS_HZ` (Butterworth 2, zero phase)."""
    from scipy.signal import sosfiltfilt

    x = np.asarray(signal, dtype=float)
    return sosfiltfilt(_sos("highpass", BELT_HIGH_PASS_HZ, fs), x - x.mean())


@dataclass(frozen=True)
class Breathing:
    """How much a belt trace breathes.

    Attributes
    ----------
    n_breaths : int
        Whole turns of the breathing-band phase where the belt breathes.
    coverage : float
        Share of the recording (by samples) in :data:`BREATHING_WINDOW_S` windows whose
        drift-free variance is mostly breathing; 0 for a flat or noise-only belt.
    """

    n_breaths: int
    coverage: float


def breathing(signal, fs: float) -> Breathing:
    """Breaths in a belt trace and the share of the recording that breathes.

    The trace is high-passed (:func:`belt_without_drift`) and band-passed to
    :data:`BREATHING_BAND_HZ`; when the band holds less than
    :data:`BREATHING_BAND_FRACTION` of the drift-free variance (a flat, disconnected or
    noise-only belt) the trace has no breaths. Otherwise the breaths are the whole turns
    of the band-passed trace's analytic phase, counted where the belt breathes
    (:func:`_breathing_samples`), so that the phase of the sensor noise of a belt lying
    still (one breath, then nothing) is not counted as breathing.
    """
    from scipy.signal import hilbert, sosfiltfilt

    x = np.asarray(signal, dtype=float)
    if x.size < 3 or not np.ptp(x) > 0:
        return Breathing(0, 0.0)
    free = belt_without_drift(x, fs)
    total = float(np.var(free))
    high = min(BREATHING_BAND_HZ[1], 0.45 * fs)
    band = sosfiltfilt(_sos("bandpass", (BREATHING_BAND_HZ[0], high), fs), free)
    if not total > 0 or np.var(band) < BREATHING_BAND_FRACTION * total:
        return Breathing(0, 0.0)
    analytic = hilbert(band)
    windows, samples = _breathing_samples(free, band, np.abs(analytic), fs)
    turns = np.diff(np.unwrap(np.angle(analytic)))[samples[1:]].sum()
    return Breathing(int(np.floor(abs(turns) / (2 * np.pi))), float(windows.mean()))


def count_breaths(signal, fs: float) -> int:
    """Breaths in a belt trace (:func:`breathing`), 0 for a flat or noise-only belt."""
    return breathing(signal, fs).n_breaths


def _breathing_samples(free: np.ndarray, band: np.ndarray, envelope: np.ndarray,
                       fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Samples where the belt breathes: in its breathing windows, and there in breaths.

    Windows of :data:`BREATHING_WINDOW_S` whose drift-free variance is mostly in the
    breathing band (first array), and in them the samples whose envelope reaches
    :data:`BREATHING_ENVELOPE_FRACTION` of the window's strong breaths (second array; a
    belt lying still between breaths holds only sensor noise, whose phase is no
    breathing).
    """
    n = free.size
    step = max(int(round(BREATHING_WINDOW_S * fs)), 1)
    windows = np.zeros(n, dtype=bool)
    samples = np.zeros(n, dtype=bool)
    for start in range(0, n, step):
        w = slice(start, min(start + step, n))
        total = float(np.var(free[w]))
        if total > 0 and np.var(band[w]) >= BREATHING_BAND_FRACTION * total:
            env = envelope[w]
            windows[w] = True
            samples[w] = env >= BREATHING_ENVELOPE_FRACTION * np.percentile(env, 90)
    return windows, samples


def respiratory_volume_per_time(
    recording: PhysioRecording, method: str = "harrison2021"
) -> np.ndarray:
    """RVT (belt units per second) at every sample of the recording, via ``neurokit2.rsp_rvt``.

    Parameters
    ----------
    recording : PhysioRecording
    method : {"harrison2021"}

    Returns
    -------
    ndarray
        One value per sample (gaps at the edges filled with the nearest value).

    Raises
    ------
    MilnaInputError
        No respiratory column, a trace with no breaths, or neurokit2 finding no RVT.
    """
    return _rvt(recording, method)[0]


def _rvt(recording: PhysioRecording, method: str) -> tuple[np.ndarray, Breathing]:
    """RVT at every sample and the belt's :class:`Breathing` (computed once for both)."""
    import neurokit2 as nk

    if method not in RVT_METHODS:
        raise ValueError(f"unknown RVT method {method!r}; known: {', '.join(RVT_METHODS)}")
    column = recording.respiratory_column()
    raw = np.asarray(recording.signals[column], dtype=float)
    fs = recording.sampling_frequency
    breaths = breathing(raw, fs)
    if breaths.n_breaths < MIN_BREATHS:
        raise input_error(
            recording.path,
            f"has no breathing in its {column} trace ({breaths.n_breaths} breaths found: "
            "flat, disconnected or noise only); RVT needs a respiratory belt recording",
        )
    belt = belt_without_drift(raw, fs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rvt = np.asarray(nk.rsp_rvt(belt, sampling_rate=fs, method=method, silent=True),
                             dtype=float)
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        raise input_error(
            recording.path, f"gave no usable RVT from its {column} trace ({exc})"
        ) from None
    good = np.isfinite(rvt)
    if not good.any():
        raise input_error(recording.path, f"gave no usable RVT from its {column} trace")
    if not good.all():
        idx = np.arange(rvt.size)
        rvt = np.interp(idx, idx[good], rvt[good])
    return rvt, breaths


def heart_rate(peak_times, times, window_s: float = HR_WINDOW_S) -> np.ndarray:
    """Heart rate (bpm) at ``times``: 60 / mean inter-beat interval in a window around each.

    Parameters
    ----------
    peak_times : array-like
        Beat times (s), increasing, at least two.
    times : array-like
        Where the rate is wanted (s).
    window_s : float
        Window width (s), centred on each time.

    Returns
    -------
    ndarray
        ``60 (n - 1) / (b_last - b_first)`` over the ``n >= 2`` beats inside
        ``[t - w/2, t + w/2]``; with fewer, ``60 / IBI`` of the interval around ``t``
        (the first or last interval beyond the beats).
    """
    beats = np.asarray(peak_times, dtype=float)
    t = np.asarray(times, dtype=float)
    if beats.size < 2 or np.any(np.diff(beats) <= 0):
        raise ValueError("beat times must be at least two strictly increasing values")
    lo = np.searchsorted(beats, t - window_s / 2, side="left")
    hi = np.searchsorted(beats, t + window_s / 2, side="right") - 1
    n_ibi = hi - lo
    k = np.clip(np.searchsorted(beats, t, side="right") - 1, 0, beats.size - 2)
    around = beats[k + 1] - beats[k]
    with np.errstate(invalid="ignore", divide="ignore"):
        windowed = (beats[np.clip(hi, 0, beats.size - 1)] - beats[np.clip(lo, 0, beats.size - 1)]
                    ) / np.maximum(n_ibi, 1)
    mean_ibi = np.where(n_ibi >= 1, windowed, around)
    return 60.0 / mean_ibi


def convolve_response(times, values, response, sample_times, dt: float = RESPONSE_DT_S):
    """``values`` at ``times``, minus their mean, convolved with ``response``, at ``sample_times``.

    The trace is interpolated linearly to a grid of step ``dt`` from ``times[0]``,
    convolved with ``response(0, dt, ..., RESPONSE_LENGTH_S)`` as ``sum * dt`` (zero
    before the first time) and interpolated at ``sample_times``.
    """
    times = np.asarray(times, dtype=float)
    grid = np.arange(times[0], max(times[-1], np.max(sample_times)) + dt, dt)
    x = np.interp(grid, times, np.asarray(values, dtype=float))
    x -= x.mean()
    kernel = response(np.arange(0.0, RESPONSE_LENGTH_S + dt / 2, dt))
    out = np.convolve(x, kernel)[: grid.size] * dt
    return np.interp(np.asarray(sample_times, dtype=float), grid, out)


@dataclass
class RvtHrRegressors:
    """RVT and heart rate at the volumes' sample times, raw and convolved.

    Attributes
    ----------
    rvt, rvt_rrf : ndarray
        RVT (belt units / s) and its convolution with the RRF.
    hr, hr_crf : ndarray
        Heart rate (bpm) and its convolution with the CRF.
    sample_times : ndarray
    method : str
        RVT method.
    window_s : float
        Heart-rate window.
    n_breaths : int
    breathing_coverage : float
        Share of the recording in which the belt breathes (:func:`breathing`).
    notes : list of str
        What the user should know (a belt that breathes in only part of the recording).
    """

    rvt: np.ndarray
    rvt_rrf: np.ndarray
    hr: np.ndarray
    hr_crf: np.ndarray
    sample_times: np.ndarray
    method: str
    window_s: float
    n_breaths: int
    breathing_coverage: float = 1.0
    notes: list = field(default_factory=list)

    def to_frame(self):
        """The four columns (:data:`COLUMNS`) as a DataFrame."""
        import pandas as pd

        return pd.DataFrame({c: getattr(self, c) for c in COLUMNS})

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "rvt_method": self.method,
            "rvt_units": "belt units per second",
            "rvt_mean": float(np.mean(self.rvt)),
            "n_breaths": int(self.n_breaths),
            "breathing_coverage": float(self.breathing_coverage),
            "hr_window_s": float(self.window_s),
            "hr_units": "beats per minute",
            "hr_mean_bpm": float(np.mean(self.hr)),
            "hr_min_bpm": float(np.min(self.hr)),
            "hr_max_bpm": float(np.max(self.hr)),
            "response_functions": "RRF Birn 2008, CRF Chang 2009",
            "glm_columns": list(GLM_COLUMNS),
            "notes": list(self.notes),
        }


def compute_rvt_hr(
    recording: PhysioRecording,
    peak_times,
    sample_times,
    *,
    method: str = "harrison2021",
    window_s: float = HR_WINDOW_S,
) -> RvtHrRegressors:
    """RVT and heart-rate regressors of a run (see the module notes).

    Parameters
    ----------
    recording : PhysioRecording
    peak_times : array-like
        The (corrected) beat times (s, run frame).
    sample_times : array-like
        Each volume's acquisition time of the chosen slice (s).
    method : {"harrison2021"}
    window_s : float

    Returns
    -------
    RvtHrRegressors
    """
    times = recording.times
    rvt_samples, belt = _rvt(recording, method)
    sample_times = np.asarray(sample_times, dtype=float)
    beats = np.asarray(peak_times, dtype=float)
    rvt = np.interp(sample_times, times, rvt_samples)
    rvt_rrf = convolve_response(times, rvt_samples, respiration_response_function, sample_times)
    hr = heart_rate(beats, sample_times, window_s)
    grid = np.arange(times[0], max(times[-1], sample_times.max()) + RESPONSE_DT_S,
                     RESPONSE_DT_S)
    hr_crf = convolve_response(grid, heart_rate(beats, grid, window_s),
                               cardiac_response_function, sample_times)
    notes = []
    if belt.coverage < BREATHING_COVERAGE_NOTE:
        notes.append(
            f"the respiratory belt breathes in only {100 * belt.coverage:.0f}% of the "
            f"recording ({BREATHING_WINDOW_S:g} s windows); across the rest RVT is "
            "interpolated from the breaths around it")
    return RvtHrRegressors(rvt, rvt_rrf, hr, hr_crf, sample_times, method, float(window_s),
                           belt.n_breaths, belt.coverage, notes)
