"""Head motion of the sample run: smooth drift, a task-locked nudge and a few sudden jerks.

Parameters are in fMRIPrep order (trans_x, trans_y, trans_z in mm; rot_x, rot_y,
rot_z in radians), relative to the first volume (row 0 is zero), which is also SPM's
``rp_*.txt`` order (x, y, z, pitch, roll, yaw). Framewise displacement follows Power
et al. 2012 (NeuroImage 59:2142): ``|dx| + |dy| + |dz| + 50 mm * (|drx| + |dry| + |drz|)``.

The jerks are step changes (the head moves and stays), so each one gives exactly one
volume with FD > 0.5 mm. The preprocessed run is already realigned: motion shows in
the data only as intensity artifacts (spin history, edges) in the jerk volumes.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Head radius of the FD rotation term (mm), Power et al. 2012.
FD_RADIUS_MM = 50.0
#: Volumes (0-based) with a sudden head jerk, and the FD threshold they exceed.
SPIKE_VOLUMES = (37, 83, 122, 158)
FD_THRESHOLD_MM = 0.5
#: Jerk sizes: translation step (mm) and rotation step (rad) per spike, per axis.
SPIKE_STEPS = (
    (0.35, -0.20, 0.45, 0.004, -0.002, 0.001),
    (-0.25, 0.30, -0.40, -0.003, 0.003, -0.002),
    (0.20, 0.15, 0.55, 0.006, 0.001, 0.002),
    (-0.30, -0.35, -0.30, -0.002, -0.004, 0.003),
)
#: Task-locked displacement during pain blocks (trans_z mm, rot_x rad).
PAIN_NUDGE = (0.08, 0.0006)


def framewise_displacement(params: np.ndarray, radius_mm: float = FD_RADIUS_MM) -> np.ndarray:
    """Power 2012 FD of (n, 6) parameters (mm, mm, mm, rad, rad, rad); FD[0] is 0."""
    params = np.asarray(params, dtype=float)
    d = np.abs(np.diff(params, axis=0))
    fd = d[:, :3].sum(axis=1) + radius_mm * d[:, 3:].sum(axis=1)
    return np.concatenate([[0.0], fd])


def rp_round(params: np.ndarray) -> np.ndarray:
    """Parameters rounded as SPM writes them (``%16.7e``), so files and truth agree exactly."""
    return np.array([[float(f"{v:.7e}") for v in row] for row in params])


def simulate_motion(rng, n_volumes: int, pain_box: np.ndarray) -> np.ndarray:
    """Realignment parameters of the run, shape (n_volumes, 6).

    Parameters
    ----------
    rng : numpy.random.Generator
    n_volumes : int
    pain_box : ndarray
        Boxcar (0/1) of the pain blocks at the volume onsets.

    Returns
    -------
    ndarray
        trans_x, trans_y, trans_z (mm), rot_x, rot_y, rot_z (rad), rounded like SPM.
    """
    scale = np.array([0.12, 0.18, 0.25, 0.0015, 0.001, 0.001])
    walk = np.cumsum(rng.standard_normal((n_volumes, 6)), axis=0)
    walk = ndimage.gaussian_filter1d(walk, 4.0, axis=0, mode="nearest")
    walk = walk / np.maximum(walk.std(axis=0), 1e-12) * scale
    smooth_box = ndimage.gaussian_filter1d(pain_box.astype(float), 1.0, mode="nearest")
    walk[:, 2] += PAIN_NUDGE[0] * smooth_box
    walk[:, 3] += PAIN_NUDGE[1] * smooth_box
    for volume, step in zip(SPIKE_VOLUMES, SPIKE_STEPS):
        walk[volume:] += np.asarray(step)
    params = rp_round(walk - walk[0])
    fd = framewise_displacement(params)
    spikes = set(np.flatnonzero(fd > FD_THRESHOLD_MM).tolist())
    if spikes != set(SPIKE_VOLUMES):  # pragma: no cover - guards the constants above
        raise RuntimeError(f"motion spikes at {sorted(spikes)}, expected {SPIKE_VOLUMES}")
    return params
