"""Timing shared by the benchmarks: every run of a call, so each script reports what it needs."""

from __future__ import annotations

import time

import numpy as np


def run_times(fn, repeats: int) -> np.ndarray:
    """Seconds taken by each of ``repeats`` calls of ``fn()``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return np.asarray(times)
