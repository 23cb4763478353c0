"""Physiological recordings: BIDS physio files, cardiac peaks and respiratory phase.

A BIDS physio file (``*_physio.tsv.gz``) holds one column per signal and no header;
its JSON sidecar gives ``SamplingFrequency`` (Hz), ``StartTime`` (s, time of the
first sample relative to the first volume of the run, negative when recording
started before the scan) and ``Columns`` (``cardiac``, ``respiratory``,
``trigger``, ...). All times here are seconds in the run's frame: t = 0 is the start
of the first volume.

Siemens PMU logs (``*.puls``, ``*.resp``) are not read: no maintained Python parser
fits (convert them to BIDS physio first, e.g. with ``bidsphysio``).

Cardiac peaks come from neurokit2 (``ppg_clean`` + ``ppg_peaks`` for a pulse
oximeter, ``ecg_clean`` + ``ecg_peaks`` for an ECG). Beats whose inter-beat interval
(IBI) is far from the local median are flagged so the user can see and correct
them; a corrected list of peak times can replace the detected one.

Phases follow Glover et al. 2000 (Magn Reson Med 44:162):

* cardiac phase ``2 pi (t - t1) / (t2 - t1)`` with t1 < t <= t2 the surrounding beats;
* respiratory phase ``pi * C(R(t)) * sign(dR/dt)`` with ``C`` the cumulative
  histogram (100 bins) of the belt amplitude normalised to [0, 1].
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.bids import sidecar_number
from ..io.tables import read_json_object
from ..results import FieldsToDict

#: Names accepted for each signal in a BIDS ``Columns`` list (first match wins).
CARDIAC_NAMES = ("cardiac", "pulse", "ppg", "ecg")
RESPIRATORY_NAMES = ("respiratory", "respiration", "resp")
TRIGGER_NAMES = ("trigger",)

#: Number of histogram bins of the respiratory phase (Glover 2000).
RESP_HISTOGRAM_BINS = 100

#: Window (s) of the Savitzky-Golay fit whose slope gives sign(dR/dt).
RESP_DERIVATIVE_WINDOW_S = 1.0

#: An IBI above HIGH x or below LOW x the local median flags a missed / extra beat.
IBI_HIGH = 1.5
IBI_LOW = 0.6
#: Number of IBIs in the running median.
IBI_MEDIAN_WINDOW = 9

#: Half-width (s) of the window in which a detected peak moves to the raw trace's maximum.
PEAK_REFINE_S = 0.05


def sidecar_path(physio_path: str | os.PathLike) -> Path:
    """The JSON sidecar of a BIDS physio file (``x_physio.tsv.gz`` -> ``x_physio.json``)."""
    path = Path(physio_path)
    name = path.name
    for suffix in (".tsv.gz", ".tsv", ".txt.gz", ".txt"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".json")
    return path.with_suffix(".json")


@dataclass
class PhysioRecording:
    """Physiological signals sampled at one rate, on the run's time axis.

    Attributes
    ----------
    signals : dict of str -> ndarray
        One 1D array per column, keyed by the sidecar's column names.
    sampling_frequency : float
        Hz.
    start_time : float
        Time (s) of the first sample relative to the start of the run.
    path : Path or None
        The physio file (for messages).
    """

    signals: dict[str, np.ndarray]
    sampling_frequency: float
    start_time: float = 0.0
    path: Path | None = None

    @property
    def columns(self) -> list[str]:
        """Column names, in file order."""
        return list(self.signals)

    @property
    def n_samples(self) -> int:
        """Samples per signal."""
        return int(next(iter(self.signals.values())).size) if self.signals else 0

    @property
    def times(self) -> np.ndarray:
        """Time (s) of every sample on the run's time axis."""
        return self.start_time + np.arange(self.n_samples) / self.sampling_frequency

    @property
    def end_time(self) -> float:
        """Time (s) of the last sample."""
        return self.start_time + (self.n_samples - 1) / self.sampling_frequency

    def _find(self, names: tuple[str, ...], what: str) -> str:
        lower = {c.lower(): c for c in self.signals}
        for name in names:
            if name in lower:
                return lower[name]
        raise input_error(
            self.path,
            f"has no {what} column (columns: {', '.join(self.columns) or 'none'}; "
            f"expected one of {', '.join(names)})",
        )

    def cardiac_column(self) -> str:
        """Name of the cardiac column."""
        return self._find(CARDIAC_NAMES, "cardiac")

    def respiratory_column(self) -> str:
        """Name of the respiratory column."""
        return self._find(RESPIRATORY_NAMES, "respiratory")

    @property
    def cardiac(self) -> np.ndarray:
        """The cardiac (pulse oximeter or ECG) trace."""
        return self.signals[self.cardiac_column()]

    @property
    def respiratory(self) -> np.ndarray:
        """The respiratory belt trace."""
        return self.signals[self.respiratory_column()]

    def check_covers(self, first: float, last: float) -> None:
        """Raise unless the recording spans the times ``first`` .. ``last`` (s).

        Raises
        ------
        MilnaInputError
            Naming the file: the recording starts too late or stops too early.
        """
        tol = 0.5 / self.sampling_frequency
        if self.start_time > first + tol:
            raise input_error(
                self.path,
                f"starts at {self.start_time:.3f} s, after the first sample time "
                f"{first:.3f} s of the run",
            )
        if self.end_time < last - tol:
            raise input_error(
                self.path,
                f"is shorter than the run: it ends at {self.end_time:.3f} s but the last "
                f"volume is sampled at {last:.3f} s",
            )


def _read_sidecar(path: Path) -> dict:
    return read_json_object(path, "a BIDS physio file needs its JSON sidecar")


def _read_lines(path: Path) -> list[str]:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
                return fh.read().splitlines()
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, EOFError, zlib.error) as exc:
        raise input_error(path, f"could not be read ({exc})") from None


def _parse_table(path: Path, lines: list[str], n_columns: int) -> np.ndarray:
    """Parse tab- or space-separated numeric rows, naming the first bad line."""
    from io import StringIO

    import pandas as pd

    body = "\n".join(lines)
    try:
        table = pd.read_csv(
            StringIO(body), sep=r"\s+", header=None, dtype=float, engine="c",
            skip_blank_lines=True, na_filter=False,
        )
        values = table.to_numpy(dtype=float)
        if values.ndim == 2 and values.shape[1] == n_columns and np.isfinite(values).all():
            return values
    except (ValueError, pd.errors.ParserError):
        pass
    # Slow path: find the first offending line for the message.
    for lineno, line in enumerate(lines, start=1):
        cells = line.split()
        if not cells:
            continue
        if len(cells) != n_columns:
            raise input_error(
                path,
                f"line {lineno} has {len(cells)} columns but the sidecar's Columns lists "
                f"{n_columns}",
            )
        for cell in cells:
            try:
                ok = np.isfinite(float(cell))
            except ValueError:
                ok = False
            if not ok:
                raise input_error(path, f"line {lineno} holds a non-numeric cell {cell!r}")
    raise input_error(path, "could not be parsed as a numeric table")


def read_bids_physio(
    path: str | os.PathLike, sidecar: str | os.PathLike | None = None
) -> PhysioRecording:
    """Read a BIDS ``*_physio.tsv.gz`` and its JSON sidecar.

    Parameters
    ----------
    path : str or path-like
        The physio table (gzipped or plain TSV, no header).
    sidecar : str or path-like, optional
        The JSON sidecar; by default the file next to ``path`` with ``.json``.

    Returns
    -------
    PhysioRecording

    Raises
    ------
    MilnaInputError
        One sentence naming the file: missing file or sidecar, no or non-positive
        ``SamplingFrequency``, ``Columns`` missing or not matching the table, a
        non-numeric cell (with its line), an empty table.
    """
    path = Path(path)
    if not path.is_file():
        raise input_error(path, "does not exist")
    side = Path(sidecar) if sidecar is not None else sidecar_path(path)
    meta = _read_sidecar(side)
    fs = sidecar_number(meta, "SamplingFrequency", side, "the physio sampling rate is needed")
    if not (np.isfinite(fs) and fs > 0):
        raise input_error(side, f"has a SamplingFrequency of {fs}, which is not positive")
    start = sidecar_number(meta, "StartTime", side, default=0.0)
    columns = meta.get("Columns")
    if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise input_error(side, "has no Columns list naming the physio columns")
    lines = _read_lines(path)
    table = _parse_table(path, lines, len(columns))
    if table.shape[0] < 2:
        raise input_error(path, "holds fewer than two samples")
    signals = {name: np.ascontiguousarray(table[:, j]) for j, name in enumerate(columns)}
    return PhysioRecording(signals, fs, start, path)


# --------------------------------------------------------------------------- cardiac


@dataclass(frozen=True)
class BeatFlag(FieldsToDict):
    """An inter-beat interval far from the local median.

    ``kind`` is ``"missed"`` (interval too long: a beat was probably not detected)
    or ``"extra"`` (interval too short: a spurious peak).
    """

    interval: int
    start: float
    end: float
    ibi: float
    local_median: float
    kind: str


@dataclass
class CardiacPeaks:
    """Heart beats on the run's time axis.

    Attributes
    ----------
    times : ndarray
        Peak times in seconds, increasing.
    flagged : list of BeatFlag
        Suspicious intervals (missed or extra beats).
    source : str
        ``"neurokit2 ppg (elgendi)"``, ``"neurokit2 ecg (neurokit)"`` or ``"user"``.
    """

    times: np.ndarray
    flagged: list[BeatFlag] = field(default_factory=list)
    source: str = "user"

    @property
    def ibi(self) -> np.ndarray:
        """Inter-beat intervals (s)."""
        return np.diff(self.times)

    @property
    def heart_rate_bpm(self) -> float:
        """Median heart rate in beats per minute."""
        return float(60.0 / np.median(self.ibi)) if self.times.size > 1 else float("nan")

    def to_dict(self) -> dict:
        """JSON-ready summary (peak times included)."""
        return {
            "source": self.source,
            "n_peaks": int(self.times.size),
            "heart_rate_bpm": self.heart_rate_bpm,
            "n_flagged": len(self.flagged),
            "flagged": [f.to_dict() for f in self.flagged],
            "times": [float(t) for t in self.times],
        }


def flag_beats(
    peak_times: np.ndarray,
    high: float = IBI_HIGH,
    low: float = IBI_LOW,
    window: int = IBI_MEDIAN_WINDOW,
) -> list[BeatFlag]:
    """Flag inter-beat intervals far from their running median.

    Parameters
    ----------
    peak_times : ndarray
        Beat times (s), increasing.
    high, low : float
        An interval longer than ``high`` x the local median is a ``"missed"`` beat,
        shorter than ``low`` x the median an ``"extra"`` one.
    window : int
        Number of intervals in the centred running median.

    Returns
    -------
    list of BeatFlag
    """
    from scipy.ndimage import median_filter

    t = np.asarray(peak_times, dtype=float)
    ibi = np.diff(t)
    if ibi.size < 3:
        return []
    local = median_filter(ibi, size=min(window, ibi.size), mode="nearest")
    flags = []
    for i in np.flatnonzero((ibi > high * local) | (ibi < low * local)):
        kind = "missed" if ibi[i] > high * local[i] else "extra"
        flags.append(BeatFlag(int(i), t[i], t[i + 1], ibi[i], local[i], kind))
    return flags


def refine_peaks(signal: np.ndarray, peaks: np.ndarray, half_width: int) -> np.ndarray:
    """Move each peak index to the maximum of ``signal`` within +/- ``half_width`` samples."""
    if half_width < 1:
        return peaks
    out = np.empty_like(peaks)
    n = signal.size
    for k, i in enumerate(peaks):
        lo, hi = max(0, i - half_width), min(n, i + half_width + 1)
        out[k] = lo + int(np.argmax(signal[lo:hi]))
    return np.unique(out)


def detect_cardiac_peaks(
    recording: PhysioRecording,
    kind: str = "auto",
    high: float = IBI_HIGH,
    low: float = IBI_LOW,
    refine_s: float = PEAK_REFINE_S,
) -> CardiacPeaks:
    """Find heart beats in the cardiac trace with neurokit2 and flag doubtful ones.

    neurokit2 finds the peaks in its band-pass filtered trace; the filter moves the
    maximum of an asymmetric pulse wave (steep upstroke, slow decay) later by one or
    two samples, so each peak is then moved to the raw trace's maximum within
    ``refine_s`` seconds: the systolic peak, or the ECG R wave. (Any smoothing
    before that search shifts an asymmetric peak again; on a noisy flat-topped
    pulse the raw maximum jitters by a sample or two, which is 0.1-0.2 rad of
    cardiac phase.)

    Parameters
    ----------
    recording : PhysioRecording
    kind : {"auto", "ppg", "ecg"}
        Pulse oximeter or ECG. ``"auto"`` reads ECG when the column is called ``ecg``.
    high, low : float
        IBI ratios to the local median that flag a missed / extra beat.
    refine_s : float
        Half-width of the refinement window in seconds (0: keep neurokit2's peaks).

    Returns
    -------
    CardiacPeaks

    Raises
    ------
    MilnaInputError
        No cardiac column, a flat trace, or fewer than two peaks found.
    """
    import neurokit2 as nk

    column = recording.cardiac_column()
    signal = np.asarray(recording.signals[column], dtype=float)
    fs = recording.sampling_frequency
    if kind == "auto":
        kind = "ecg" if column.lower() == "ecg" else "ppg"
    if kind not in ("ppg", "ecg"):
        raise ValueError(f"unknown cardiac trace kind {kind!r}")
    if not np.ptp(signal) > 0:
        raise input_error(recording.path, f"has a flat {column} trace; no heart beat to find")
    try:
        if kind == "ppg":
            cleaned = nk.ppg_clean(signal, sampling_rate=fs)
            _, info = nk.ppg_peaks(cleaned, sampling_rate=fs)
            peaks, source = info["PPG_Peaks"], "neurokit2 ppg (elgendi)"
        else:
            cleaned = nk.ecg_clean(signal, sampling_rate=fs)
            _, info = nk.ecg_peaks(cleaned, sampling_rate=fs)
            peaks, source = info["ECG_R_Peaks"], "neurokit2 ecg (neurokit)"
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        raise input_error(
            recording.path, f"gave no usable heart beats in its {column} trace ({exc})"
        ) from None
    peaks = np.unique(np.asarray(peaks, dtype=int))
    peaks = refine_peaks(signal, peaks, int(round(refine_s * fs)))
    if peaks.size < 2:
        raise input_error(
            recording.path,
            f"gave {peaks.size} heart beat(s) in its {column} trace; check the signal or "
            "give corrected peak times",
        )
    times = recording.start_time + peaks / fs
    return CardiacPeaks(times, flag_beats(times, high, low), source)


def peaks_from_times(times, high: float = IBI_HIGH, low: float = IBI_LOW) -> CardiacPeaks:
    """Wrap user-given (corrected) peak times, sorted, and flag them again."""
    t = np.unique(np.asarray(times, dtype=float))
    if t.size < 2:
        raise input_error(None, "at least two cardiac peak times are needed")
    return CardiacPeaks(t, flag_beats(t, high, low), "user")


def read_peak_times(path: str | os.PathLike) -> CardiacPeaks:
    """Read corrected cardiac peak times (s): one per line, or a TSV with a ``time`` column.

    Raises
    ------
    MilnaInputError
        Non-numeric line (named), fewer than two peaks.
    """
    path = Path(path)
    if not path.is_file():
        raise input_error(path, "does not exist")
    values = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        cell = line.split("\t")[0].strip()
        if not cell or (lineno == 1 and cell.lower() in ("time", "onset", "peak", "times")):
            continue
        try:
            values.append(float(cell))
        except ValueError:
            raise input_error(
                path, f"line {lineno} holds a non-numeric peak time {cell!r}"
            ) from None
    if len(values) < 2:
        raise input_error(path, "holds fewer than two peak times")
    times = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(times)):
        raise input_error(path, "holds a NaN or infinite peak time")
    steps = np.diff(times)
    if (steps <= 0).any():
        k = int(np.flatnonzero(steps <= 0)[0])
        raise input_error(path, f"holds peak times that do not increase ({times[k]:g} s, then "
                                f"{times[k + 1]:g} s); give them in order, each once")
    return peaks_from_times(values)


def write_peak_times(
    peaks: CardiacPeaks, path: str | os.PathLike, overwrite: bool = False
) -> Path:
    """Write peak times as a one-column TSV (``time``) the user can edit and read back."""
    from ..io.tables import atomic_write_text

    text = "time\n" + "".join(f"{t:.6f}\n" for t in peaks.times)
    return atomic_write_text(path, text, overwrite=overwrite)


def cardiac_phase(times, peak_times, max_extrapolation: float = 1.5) -> np.ndarray:
    """Cardiac phase 2 pi (t - t1) / (t2 - t1) between the surrounding beats (Glover 2000).

    Times before the first or after the last beat use the first / last interval.

    Parameters
    ----------
    times : array-like
        Times (s) at which the phase is wanted.
    peak_times : array-like
        Beat times (s), increasing, at least two.
    max_extrapolation : float
        Refuse times farther than this many intervals outside the beats.

    Returns
    -------
    ndarray
        Phase in [0, 2 pi).

    Raises
    ------
    MilnaInputError
        A time lies too far outside the detected beats.
    """
    t = np.asarray(times, dtype=float)
    p = np.asarray(peak_times, dtype=float)
    if p.size < 2 or np.any(np.diff(p) <= 0):
        raise ValueError("peak times must be at least two strictly increasing values")
    k = np.clip(np.searchsorted(p, t, side="right") - 1, 0, p.size - 2)
    t1, t2 = p[k], p[k + 1]
    frac = (t - t1) / (t2 - t1)
    if np.any(frac < -max_extrapolation) or np.any(frac > 1 + max_extrapolation):
        raise input_error(
            None,
            f"times from {t.min():.2f} s to {t.max():.2f} s reach beyond the cardiac peaks "
            f"({p[0]:.2f} s to {p[-1]:.2f} s); the cardiac trace does not cover the run",
        )
    return np.mod(2 * np.pi * frac, 2 * np.pi)


# ---------------------------------------------------------------------- respiratory


def _derivative_sign(signal: np.ndarray, fs: float, window_s: float) -> np.ndarray:
    """sign(dR/dt) from the slope of a local quadratic fit (Savitzky-Golay).

    The window is ``window_s`` seconds (odd number of samples, at least 5): a
    symmetric fit that removes sample-to-sample noise without shifting the signal in
    time. A zero slope counts as positive (inspiration).
    """
    from scipy.signal import savgol_filter

    n = signal.size
    width = int(round(window_s * fs)) | 1
    width = max(5, min(width, n if n % 2 else n - 1))
    if width < 5:
        slope = np.gradient(signal)
    else:
        slope = savgol_filter(signal, width, polyorder=2, deriv=1, mode="interp")
    return np.where(slope >= 0, 1.0, -1.0)


def respiratory_phase(
    signal,
    sampling_frequency: float,
    bins: int = RESP_HISTOGRAM_BINS,
    derivative_window_s: float = RESP_DERIVATIVE_WINDOW_S,
) -> np.ndarray:
    """Respiratory phase of every sample by histogram equalisation (Glover 2000).

    ``phi_r(t) = pi * sum_{b <= round(bins * R(t))} H(b) / sum_b H(b) * sign(dR/dt)``
    where ``R`` is the belt amplitude normalised to [0, 1] over the recording and
    ``H`` its histogram in ``bins`` bins. The sign of dR/dt comes from the slope of a
    Savitzky-Golay quadratic fit over ``derivative_window_s`` seconds (see
    :func:`_derivative_sign`); the amplitude itself is not smoothed.

    Parameters
    ----------
    signal : array-like
        Respiratory belt trace.
    sampling_frequency : float
        Hz.
    bins : int
    derivative_window_s : float

    Returns
    -------
    ndarray
        Phase in [-pi, pi], positive while breathing in (R rising).
    """
    r = np.asarray(signal, dtype=float)
    lo, hi = float(r.min()), float(r.max())
    if not hi > lo:
        raise ValueError("the respiratory trace is flat")
    rn = (r - lo) / (hi - lo)
    hist, _ = np.histogram(rn, bins=bins, range=(0.0, 1.0))
    cum = np.concatenate([[0.0], np.cumsum(hist)]) / hist.sum()
    level = cum[np.rint(rn * bins).astype(int)]
    return np.pi * level * _derivative_sign(r, sampling_frequency, derivative_window_s)


def sample_at(recording: PhysioRecording, values: np.ndarray, times) -> np.ndarray:
    """Values of a per-sample series at ``times`` (nearest sample; phases are not interpolated)."""
    idx = np.rint((np.asarray(times, float) - recording.start_time) * recording.sampling_frequency)
    idx = np.clip(idx.astype(int), 0, values.size - 1)
    return values[idx]
