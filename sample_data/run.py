"""The sample pressure-pain run of sub-01: a realistic, fully known 4D EPI time series.

Design: TR 2.0 s, 180 volumes, 6 cycles of 15 s pain / 15 s rest / 15 s sensory
(non-painful touch) / 15 s rest. 53 axial slices (k) acquired interleaved
(0, 2, 4, ..., 52, then 1, 3, ..., 51), equally spaced over the TR; the data are
NOT slice-timing corrected, so every voxel is sampled at ``volume * TR + SliceTiming[k]``.

Each voxel's noiseless signal is ``S0 * D * (1 + (bold + physio + drift + spike) / 100)``:

* ``S0``: tissue-mix baseline with a coil bias field (:mod:`.anatomy`);
* ``D``: multiplicative susceptibility dropout (ventral brainstem near the RVM and the
  orbitofrontal cortex, Gaussian blobs, :data:`DROPOUT`);
* ``bold``: amplitude (percent) x block boxcar convolved with nilearn's Glover HRF of
  unit integral (the regressor nilearn and SPM build, so a GLM beta estimates the
  amplitude; a 15 s block peaks at :func:`block_peak_gain` = 1.56 x the amplitude and
  undershoots after), times each region's coverage;
* ``physio``: the RETROICOR model (3 cardiac, 4 respiratory, 1 interaction order)
  evaluated with the phases of the saved physio traces at each voxel's slice time,
  voxel coefficients with smoothly varying phases and an amplitude map concentrated on
  the brainstem, the aqueduct / fourth ventricle, the basilar artery and CSF;
* ``drift``: a linear and a half-cosine trend with smooth spatial weights;
* ``spike``: intensity artifacts in the motion-spike volumes (spin history in the
  second half of the interleaved slices, edge changes).

Thermal noise is complex Gaussian (sd :data:`NOISE_SD` per channel) and the magnitude
is stored (Rician; Rayleigh outside the brain), as int16 without scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from nilearn.glm.first_level import glover_hrf
from scipy import ndimage

from .anatomy import Anatomy
from .motion import SPIKE_VOLUMES, framewise_displacement, simulate_motion
from .physio import PhysioTraces, phases_at, retroicor_regressors

TR = 2.0
N_VOLUMES = 180
N_CYCLES = 6
BLOCK_S = 15.0
#: Onset of each condition within a 60 s cycle.
CYCLE_ONSETS_S = {"pain": 0.0, "sensory": 30.0}
#: Pain response amplitude (percent signal change per unit of the unit-integral HRF
#: regressor, i.e. the GLM beta) at full coverage. The PAG covers at most 70 % of a voxel.
PAIN_PSC = {
    "PAG": 1.5, "RVM": 0.8, "pINS_L": 1.2, "pINS_R": 1.2,
    "THAL_L": 1.0, "THAL_R": 1.0, "ACC": 1.0,
}
#: Sensory (touch) response: smaller, insula and thalamus only.
SENSORY_PSC = {"pINS_L": 0.5, "pINS_R": 0.5, "THAL_L": 0.4, "THAL_R": 0.4}
#: Thermal noise sd per complex channel, scanner units (GM baseline is about 780).
NOISE_SD = 8.0
#: Susceptibility dropout: factor = prod(1 - depth * exp(-0.5 * |(x - centre) / sigma|^2)).
DROPOUT = (
    {"name": "ventral_brainstem", "centre_mm": (0.0, -33.0, -48.0),
     "sigma_mm": (7.0, 4.0, 5.0), "depth": 0.75,
     "note": "ventral medulla / pons next to the sphenoid sinus and oral cavity; "
             "covers the ventral part of the RVM"},
    {"name": "orbitofrontal", "centre_mm": (0.0, 38.0, -22.0),
     "sigma_mm": (16.0, 8.0, 6.0), "depth": 0.8,
     "note": "gyrus rectus / medial orbitofrontal cortex above the frontal sinus"},
)
#: Physiological noise sd (percent of the local signal) = sum of weight * pattern.
#: Patterns: 1 (everywhere in the brain), csf (CSF probability), brainstem (Gaussian
#: blob), aqueduct (Gaussian tube along the aqueduct into the 4th ventricle),
#: basilar (Gaussian tube along the basilar artery on the ventral pons).
PHYSIO_WEIGHTS = {
    "cardiac": {"1": 0.15, "csf": 1.2, "brainstem": 1.0, "aqueduct": 1.6, "basilar": 2.5},
    "respiratory": {"1": 0.25, "csf": 0.5, "brainstem": 0.8, "aqueduct": 0.6, "basilar": 0.0},
}
#: Interaction-term sd relative to the cardiac sd.
INTERACTION_RATIO = 0.35
#: Relative weights of the Fourier orders inside each physio part.
ORDER_WEIGHTS = {"cardiac": (1.0, 0.6, 0.3), "respiratory": (1.0, 0.4, 0.2, 0.1),
                 "interaction": (1.0, 1.0)}
PHYSIO_PATTERNS = {
    "brainstem": {"centre_mm": (0.0, -30.0, -28.0), "sigma_mm": (7.0, 9.0, 14.0)},
    "aqueduct": {"axis_mm": ((0.0, -25.0, -3.0), (0.0, -44.0, -28.0)), "sigma_mm": 3.5},
    "basilar": {"axis_mm": ((0.0, -14.0, -45.0), (0.0, -17.0, -12.0)), "sigma_mm": 4.0},
}
#: Smoothness (Gaussian sigma, mm) of the voxel phases of the physio coefficients.
PHYSIO_PHASE_SIGMA_MM = 5.0
#: Drift: percent signal change of the linear trend (mean, spatial sd) and half cosine.
DRIFT_LINEAR = (1.0, 0.4)
DRIFT_COSINE = (0.5, 0.3)
#: Spike-volume artifacts: percent drop of the slices acquired in the second half of the
#: TR (spin history) and the edge change (percent at the steepest edge).
SPIKE_SPIN_HISTORY_PSC = 4.0
SPIKE_EDGE_PSC = 6.0


def slice_timing(n_slices: int, tr: float = TR) -> np.ndarray:
    """Interleaved acquisition times (s) of slices 0..n-1: even slices first, then odd."""
    order = list(range(0, n_slices, 2)) + list(range(1, n_slices, 2))
    times = np.empty(n_slices)
    times[order] = np.arange(n_slices) * tr / n_slices
    return np.round(times, 6)


def events_table() -> pd.DataFrame:
    """BIDS events: onset, duration, trial_type (pain | sensory)."""
    rows = []
    for cycle in range(N_CYCLES):
        for name, offset in CYCLE_ONSETS_S.items():
            rows.append((cycle * 60.0 + offset, BLOCK_S, name))
    rows.sort()
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type"])


def block_response(onsets, duration: float, times: np.ndarray) -> np.ndarray:
    """Boxcar of blocks convolved with the Glover HRF (unit integral) at ``times`` (s)."""
    dt = 0.02
    hrf = glover_hrf(TR, oversampling=int(round(TR / dt)), time_length=32.0)
    grid = np.arange(-40.0, times.max() + 40.0, dt)
    box = np.zeros_like(grid)
    for onset in onsets:
        box[(grid >= onset) & (grid < onset + duration)] = 1.0
    conv = np.convolve(box, hrf)[: grid.size]
    return np.interp(times, grid, conv)


def block_peak_gain() -> float:
    """Peak of the response to one isolated block per unit amplitude (about 1.56 for 15 s)."""
    t = np.arange(0.0, 60.0, 0.02)
    return float(block_response([0.0], BLOCK_S, t).max())


def _gaussian_blob(xyz, centre, sigma) -> np.ndarray:
    d = (xyz - np.asarray(centre)) / np.asarray(sigma)
    return np.exp(-0.5 * (d**2).sum(axis=-1))


def _gaussian_tube(xyz, axis, sigma) -> np.ndarray:
    a, b = (np.asarray(p, dtype=float) for p in axis)
    u = b - a
    t = np.clip(((xyz - a) @ u) / (u @ u), 0.0, 1.0)
    dist2 = ((xyz - (a + t[..., None] * u)) ** 2).sum(axis=-1)
    return np.exp(-0.5 * dist2 / sigma**2)


def dropout_factor(xyz: np.ndarray) -> np.ndarray:
    """Multiplicative signal retention (1 = none lost) at world points ``xyz``."""
    factor = np.ones(xyz.shape[:-1])
    for d in DROPOUT:
        factor *= 1.0 - d["depth"] * _gaussian_blob(xyz, d["centre_mm"], d["sigma_mm"])
    return factor


def physio_patterns(anat: Anatomy) -> dict[str, np.ndarray]:
    """The spatial patterns the physio amplitude maps are built from (inside the brain)."""
    xyz = anat.grid.voxel_centres_mm()
    bs = PHYSIO_PATTERNS["brainstem"]
    pats = {
        "1": np.ones(anat.grid.shape),
        "csf": anat.csf,
        "brainstem": _gaussian_blob(xyz, bs["centre_mm"], bs["sigma_mm"]),
        "aqueduct": _gaussian_tube(xyz, PHYSIO_PATTERNS["aqueduct"]["axis_mm"],
                                   PHYSIO_PATTERNS["aqueduct"]["sigma_mm"]),
        "basilar": _gaussian_tube(xyz, PHYSIO_PATTERNS["basilar"]["axis_mm"],
                                  PHYSIO_PATTERNS["basilar"]["sigma_mm"]),
    }
    return {k: v * anat.brain for k, v in pats.items()}


def physio_sd_maps(anat: Anatomy) -> dict[str, np.ndarray]:
    """Cardiac, respiratory and interaction noise sd (percent), and their total."""
    pats = physio_patterns(anat)
    out = {
        part: sum(w * pats[name] for name, w in weights.items())
        for part, weights in PHYSIO_WEIGHTS.items()
    }
    out["interaction"] = INTERACTION_RATIO * out["cardiac"]
    out["total"] = np.sqrt(out["cardiac"] ** 2 + out["respiratory"] ** 2 + out["interaction"] ** 2)
    return out


def _smooth_phase(rng, shape, sigma_vox) -> np.ndarray:
    re = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_vox, mode="wrap")
    im = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_vox, mode="wrap")
    return np.arctan2(im, re)


def physio_coefficients(rng, anat: Anatomy, sd_maps: dict[str, np.ndarray]) -> np.ndarray:
    """Voxel coefficients (percent) of the 18 RETROICOR regressors, shape grid + (18,).

    Within each part the order weights are normalised so that, for uniformly distributed
    phases, the part's sd equals its map in ``sd_maps``.
    """
    sigma_vox = PHYSIO_PHASE_SIGMA_MM / anat.grid.zooms
    coef = np.zeros(anat.grid.shape + (18,))
    col = 0
    for part in ("cardiac", "respiratory", "interaction"):
        weights = np.asarray(ORDER_WEIGHTS[part])
        weights = weights / np.sqrt((weights**2).sum() / 2.0)
        for w in weights:
            psi = _smooth_phase(rng, anat.grid.shape, sigma_vox)
            # w * cos(m phi - psi) = w cos(psi) cos(m phi) + w sin(psi) sin(m phi)
            coef[..., col] = w * np.cos(psi) * sd_maps[part]
            coef[..., col + 1] = w * np.sin(psi) * sd_maps[part]
            col += 2
    return coef


@dataclass
class RunTruth:
    """What the run generator planted, for ``truth.json`` and the tests."""

    data: np.ndarray
    motion: np.ndarray
    framewise_displacement: np.ndarray
    slice_times: np.ndarray
    events: pd.DataFrame
    pain_regressor: np.ndarray
    sensory_regressor: np.ndarray
    dropout: np.ndarray
    physio_sd: dict
    phases_slice0: tuple[np.ndarray, np.ndarray]


def simulate_run(rng_fields, rng_motion, rng_noise, anat: Anatomy, coverages: dict,
                 traces: PhysioTraces) -> RunTruth:
    """Simulate the preprocessed run (int16, shape grid + (N_VOLUMES,)).

    Parameters
    ----------
    rng_fields, rng_motion, rng_noise : numpy.random.Generator
        Streams for the spatial fields, the head motion and the thermal noise.
    anat : Anatomy
    coverages : dict of ndarray
        Region coverage maps by name.
    traces : PhysioTraces
        The saved physio recording (its phases drive the physio noise).

    Returns
    -------
    RunTruth
    """
    grid = anat.grid
    n_slices = grid.shape[2]
    st = slice_timing(n_slices)
    vol_times = np.arange(N_VOLUMES) * TR
    acq = vol_times[:, None] + st[None, :]  # (t, k)
    events = events_table()
    regs = {}
    for cond in ("pain", "sensory"):
        ev = events[events.trial_type == cond]
        regs[cond] = block_response(ev.onset.to_numpy(), BLOCK_S, acq.ravel()).reshape(acq.shape)
    amp = {
        "pain": sum(PAIN_PSC[n] * coverages[n] for n in PAIN_PSC),
        "sensory": sum(SENSORY_PSC[n] * coverages[n] for n in SENSORY_PSC),
    }
    xyz = grid.voxel_centres_mm()
    dropout = dropout_factor(xyz)
    s0 = anat.epi_baseline() * dropout
    sd_maps = physio_sd_maps(anat)
    coef = physio_coefficients(rng_fields, anat, sd_maps)
    phi_c, phi_r = phases_at(traces, acq.ravel())
    x_phys = retroicor_regressors(phi_c, phi_r).reshape(N_VOLUMES, n_slices, 18)
    # Drift: smooth spatial weights of a linear and a half-cosine trend.
    smooth = 12.0 / grid.zooms
    fields = []
    for mean, sd in (DRIFT_LINEAR, DRIFT_COSINE):
        f = ndimage.gaussian_filter(rng_fields.standard_normal(grid.shape), smooth, mode="wrap")
        fields.append(mean + sd * f / f.std())
    frac = acq / (N_VOLUMES * TR)
    trends = (2.0 * frac - 1.0, np.cos(np.pi * frac))
    # Motion and spike-volume artifacts.
    pain_box = np.zeros(N_VOLUMES)
    for onset in events[events.trial_type == "pain"].onset:
        pain_box[(vol_times >= onset) & (vol_times < onset + BLOCK_S)] = 1.0
    motion = simulate_motion(rng_motion, N_VOLUMES, pain_box)
    fd = framewise_displacement(motion)
    base = anat.epi_baseline()
    edge = np.sqrt(sum(g**2 for g in np.gradient(ndimage.gaussian_filter(base, 1.0))))
    edge = edge / edge.max()
    second_half = st >= TR / 2
    spike_sign = rng_motion.choice([-1.0, 1.0], size=len(SPIKE_VOLUMES))

    data = np.empty(grid.shape + (N_VOLUMES,), dtype=np.int16)
    for k in range(n_slices):
        psc = amp["pain"][:, :, k, None] * regs["pain"][None, None, :, k]
        psc += amp["sensory"][:, :, k, None] * regs["sensory"][None, None, :, k]
        psc += coef[:, :, k, :] @ x_phys[:, k, :].T
        for field, trend in zip(fields, trends):
            psc += field[:, :, k, None] * trend[None, None, :, k]
        for sign, vol in zip(spike_sign, SPIKE_VOLUMES):
            psc[:, :, vol] += sign * SPIKE_EDGE_PSC * edge[:, :, k]
            if second_half[k]:
                psc[:, :, vol] -= SPIKE_SPIN_HISTORY_PSC
        signal = s0[:, :, k, None] * (1.0 + psc / 100.0)
        noise = rng_noise.standard_normal((2,) + signal.shape, dtype=np.float32)
        mag = np.hypot(signal + NOISE_SD * noise[0], NOISE_SD * noise[1])
        data[:, :, k, :] = np.clip(np.rint(mag), 0, np.iinfo(np.int16).max)
    slice0 = int(np.argmin(st))
    return RunTruth(
        data=data,
        motion=motion,
        framewise_displacement=fd,
        slice_times=st,
        events=events,
        pain_regressor=regs["pain"],
        sensory_regressor=regs["sensory"],
        dropout=dropout * anat.brain,
        physio_sd=sd_maps,
        phases_slice0=(phi_c.reshape(acq.shape)[:, slice0], phi_r.reshape(acq.shape)[:, slice0]),
    )


def confounds_table(data: np.ndarray, anat: Anatomy, motion: np.ndarray,
                    fd: np.ndarray) -> pd.DataFrame:
    """fMRIPrep-style confounds: tissue signals from the written run, motion, FD.

    ``csf`` and ``white_matter`` are the mean signal of voxels with tissue probability
    >= 0.9; ``global_signal`` the mean over the brain mask. ``framewise_displacement``
    is ``n/a`` in row 0.
    """
    flat = data.reshape(-1, data.shape[-1])
    cols = {}
    for name, mask in (
        ("global_signal", anat.brain),
        ("csf", anat.csf >= 0.9),
        ("white_matter", anat.wm >= 0.9),
    ):
        cols[name] = flat[mask.ravel()].astype(np.float64).mean(axis=0)
    for i, name in enumerate(("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")):
        cols[name] = motion[:, i]
    fd_col = fd.astype(float).copy()
    fd_col[0] = np.nan
    cols["framewise_displacement"] = fd_col
    return pd.DataFrame(cols)

