"""Synthetic physiological recordings with known beats and breathing, for tests."""

import gzip
import json

import numpy as np


def beat_times(n, start=0.3, ibi=(0.75, 1.05), seed=0):
    rng = np.random.default_rng(seed)
    return start + np.concatenate([[0.0], np.cumsum(rng.uniform(*ibi, n - 1))])


def pulse_trace(t, beats, width=0.07):
    """A pulse-oximeter-like trace: one Gaussian bump peaking at each beat."""
    sig = np.zeros_like(t)
    for b in beats:
        near = np.abs(t - b) < 6 * width
        sig[near] += np.exp(-0.5 * ((t[near] - b) / width) ** 2)
    return sig


def belt_trace(t, freq=0.27):
    """A respiratory belt: slowly frequency-modulated sine (breathing in = rising)."""
    drift = 0.03 * np.sin(2 * np.pi * t / 97.0)
    theta = 2 * np.pi * np.cumsum(freq + drift) * (t[1] - t[0])
    return np.sin(theta), theta


def write_bids_physio(
    folder, fs=100.0, duration=200.0, start_time=-5.0, seed=0,
    name="sub-01_task-pain_physio", columns=("cardiac", "respiratory", "trigger"),
):
    """Write a BIDS physio pair; returns (tsv path, beats, theta_resp, times)."""
    t = start_time + np.arange(int(round(duration * fs))) / fs
    beats = beat_times(int(duration / 0.75) + 2, start=start_time + 0.4, seed=seed)
    beats = beats[beats < t[-1] - 0.3]
    rng = np.random.default_rng(seed + 10)
    cardiac = pulse_trace(t, beats) + rng.normal(0, 0.01, t.size)
    resp, theta = belt_trace(t)
    trigger = np.zeros_like(t)
    data = {"cardiac": cardiac, "respiratory": resp, "trigger": trigger}
    table = np.column_stack([data[c] for c in columns])
    path = folder / f"{name}.tsv.gz"
    with gzip.open(path, "wt") as fh:
        for row in table:
            fh.write("\t".join(f"{v:.6f}" for v in row) + "\n")
    meta = {"SamplingFrequency": fs, "StartTime": start_time, "Columns": list(columns)}
    (folder / f"{name}.json").write_text(json.dumps(meta))
    return path, beats, theta, t
