"""Cardiac peaks and breaths on real recordings that packages ship, against independent detectors.

The recordings are not copied into the repository (systole and heartpy are GPL-3.0,
this project is BSD-3-Clause): fetch the packages' own files with the ordinary client,
then point this script at them. Everything runs offline once they are there::

    pip download systole --no-deps --no-binary :all: -d /tmp/real
    pip download heartpy --no-deps -d /tmp/real
    tar xzf /tmp/real/systole-*.tar.gz -C /tmp/real
    python -m zipfile -e /tmp/real/heartpy-*.whl /tmp/real/heartpy
    pip install --no-deps --target /tmp/real/pylib /tmp/real/heartpy-*.whl   # reference only
    python benchmarks/real_recordings.py --systole /tmp/real/systole-*/src/systole/datasets \
        --heartpy /tmp/real/heartpy/heartpy/data --reference-path /tmp/real/pylib

Recordings: systole's ``ppg.npy`` (pulse oximeter, 75 Hz, 5 min), ``Task1_ECG.npy`` and
``Task1_Respiration.npy`` (1000 Hz, 20 min; Legrand et al. 2020), heartpy's
``data.csv`` (PPG, 100 Hz), ``data2.csv`` (PPG, ms timer) and ``data3.csv`` (PPG,
date-time stamps).

Our beats: :func:`napari_milna.core.preproc.physio.detect_cardiac_peaks` (neurokit2
Elgendi / neurokit detection, then each peak moved to the raw maximum within 50 ms).
References: heartpy's ``process`` (its accepted peaks) for every trace, and for the ECG
also neurokit2's Pan-Tompkins detector (a different algorithm from the one we use).
A reference beat is matched by the nearest of our beats within the tolerance (150 ms
for PPG, 100 ms for ECG: neurokit2's Pan-Tompkins puts one R peak in ten 40-100 ms
off the R wave's maximum); unmatched reference beats are misses, unmatched beats of ours
extras; the timing error is the median |our time - reference time| of the matches.
Breaths: :func:`napari_milna.core.preproc.rvt_hr.count_breaths` against neurokit2's
``rsp_peaks``, and the RVT (Harrison 2021) range.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from napari_milna.core.preproc.physio import PhysioRecording, detect_cardiac_peaks


def match(ours: np.ndarray, ref: np.ndarray, tol: float) -> dict:
    """Counts, misses, extras and median timing error (ms) of ``ours`` against ``ref`` (s)."""
    ours, ref = np.sort(ours), np.sort(ref)
    used = np.zeros(ours.size, bool)
    errors = []
    misses = 0
    for r in ref:
        k = int(np.searchsorted(ours, r))
        best = None
        for j in (k - 1, k):
            if 0 <= j < ours.size and not used[j] and abs(ours[j] - r) <= tol:
                if best is None or abs(ours[j] - r) < abs(ours[best] - r):
                    best = j
        if best is None:
            misses += 1
        else:
            used[best] = True
            errors.append(ours[best] - r)
    errors = np.asarray(errors)
    return {"ours": int(ours.size), "reference_beats": int(ref.size),
            "matched": int(used.sum()),
            "misses": misses, "extras": int((~used).sum()),
            "median_abs_error_ms": float(np.median(np.abs(errors)) * 1000) if errors.size
            else float("nan"),
            "median_signed_error_ms": float(np.median(errors) * 1000) if errors.size
            else float("nan"),
            "p90_abs_error_ms": float(np.percentile(np.abs(errors), 90) * 1000) if errors.size
            else float("nan")}


def heartpy_peaks(signal: np.ndarray, fs: float, ecg: bool = False, accepted: bool = True):
    """Peak times (s) from heartpy's ``process``: the accepted ones, or all it found."""
    import heartpy as hp

    x = np.asarray(signal, dtype=float)
    if ecg:
        x = hp.filter_signal(x, cutoff=0.05, sample_rate=fs, filtertype="notch")
    wd, _ = hp.process(hp.scale_data(x), sample_rate=fs)
    peaks = np.asarray(wd["peaklist"])
    ok = np.asarray(wd["binary_peaklist"]).astype(bool)
    return (peaks[ok] if accepted else peaks) / fs


def neurokit_pantompkins(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks (s) from neurokit2's Pan-Tompkins 1985 detector."""
    import neurokit2 as nk

    cleaned = nk.ecg_clean(signal, sampling_rate=fs, method="pantompkins1985")
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs, method="pantompkins1985")
    return np.asarray(info["ECG_R_Peaks"]) / fs


def ours(signal: np.ndarray, fs: float, kind: str):
    rec = PhysioRecording({kind: np.asarray(signal, dtype=float)}, fs)
    start = time.perf_counter()
    peaks = detect_cardiac_peaks(rec, kind=kind)
    return peaks, time.perf_counter() - start


def heartpy_csv(path: Path) -> tuple[np.ndarray, float]:
    """(PPG, sampling rate) of one of heartpy's CSV files."""
    import pandas as pd

    table = pd.read_csv(path, header=None if path.name == "data.csv" else 0)
    if path.name == "data.csv":
        return table.iloc[:, 0].to_numpy(float), 100.0  # heartpy's docs: 100 Hz
    if "timer" in table.columns:
        t = table["timer"].to_numpy(float) / 1000.0
    else:
        t = pd.to_datetime(table["datetime"], format="ISO8601").astype("int64").to_numpy() / 1e9
    return table["hr"].to_numpy(float), float(1.0 / np.median(np.diff(t)))


def report_cardiac(name: str, signal, fs: float, kind: str, tol: float) -> list[dict]:
    peaks, seconds = ours(signal, fs, kind)
    rows = []
    refs = [("heartpy accepted", lambda: heartpy_peaks(signal, fs, ecg=kind == "ecg")),
            ("heartpy all", lambda: heartpy_peaks(signal, fs, kind == "ecg", accepted=False))]
    if kind == "ecg":
        refs.append(("neurokit2 pantompkins1985", lambda: neurokit_pantompkins(signal, fs)))
    for ref_name, ref in refs:
        try:
            ref_times = ref()
        except Exception as exc:  # noqa: BLE001 - a reference failing is reported, not fatal
            print(f"{name}: {ref_name} failed ({exc})")
            continue
        row = {"recording": name, "fs_hz": round(fs, 2),
               "minutes": round(len(signal) / fs / 60, 1), "reference": ref_name,
               **match(peaks.times, ref_times, tol),
               "flagged_intervals": len(peaks.flagged), "our_seconds": round(seconds, 2)}
        rows.append(row)
    return rows


def report_breaths(name: str, belt, fs: float) -> dict:
    import neurokit2 as nk

    from napari_milna.core.preproc.rvt_hr import count_breaths, respiratory_volume_per_time

    cleaned = nk.rsp_clean(belt, sampling_rate=fs)
    _, info = nk.rsp_peaks(cleaned, sampling_rate=fs)
    rvt = respiratory_volume_per_time(PhysioRecording({"respiratory": belt}, fs))
    return {"recording": name, "breaths_ours": count_breaths(belt, fs),
            "breaths_neurokit2_rsp_peaks": int(len(info["RSP_Peaks"])),
            "rvt_median": float(np.median(rvt)), "rvt_p5_p95": [float(np.percentile(rvt, 5)),
                                                               float(np.percentile(rvt, 95))]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systole", type=Path, help="systole's datasets folder")
    parser.add_argument("--heartpy", type=Path, help="heartpy's data folder")
    parser.add_argument("--reference-path", type=Path,
                        help="folder with heartpy installed (added to sys.path)")
    args = parser.parse_args(argv)
    if args.reference_path:
        sys.path.insert(0, str(args.reference_path))
    rows, breaths = [], []
    if args.systole and args.systole.is_dir():
        ppg = np.load(args.systole / "ppg.npy", allow_pickle=True).astype(float)
        rows += report_cardiac("systole ppg.npy", ppg, 75.0, "ppg", 0.15)
        ecg = np.load(args.systole / "Task1_ECG.npy", allow_pickle=True).astype(float)
        rows += report_cardiac("systole Task1_ECG.npy", ecg, 1000.0, "ecg", 0.1)
        resp = np.load(args.systole / "Task1_Respiration.npy", allow_pickle=True).astype(float)
        breaths.append(report_breaths("systole Task1_Respiration.npy", resp, 1000.0))
    else:
        print("systole datasets not given or missing: skipped")
    if args.heartpy and args.heartpy.is_dir():
        for name in ("data.csv", "data2.csv", "data3.csv"):
            signal, fs = heartpy_csv(args.heartpy / name)
            rows += report_cardiac(f"heartpy {name}", signal, fs, "ppg", 0.15)
    else:
        print("heartpy data not given or missing: skipped")
    keys = ["recording", "fs_hz", "minutes", "reference", "ours", "reference_beats", "matched",
            "misses", "extras", "median_abs_error_ms", "median_signed_error_ms",
            "p90_abs_error_ms", "flagged_intervals", "our_seconds"]
    print("\t".join(keys))
    for row in rows:
        print("\t".join(str(row.get(k, "")) if not isinstance(row.get(k), float)
                        else f"{row[k]:.1f}" for k in keys))
    for b in breaths:
        print(b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
