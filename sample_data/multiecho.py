"""The sample multi-echo run of sub-01: three echoes generated from known S0 and T2* maps.

Same grid, TR, slice timing and pain blocks as the single-echo run (:mod:`.run`), but
:data:`N_VOLUMES` volumes (2 min: the three echoes of the full 6 min run would triple
the sample's size and generation time for nothing the T2* fit needs). Echo times
13 / 30 / 47 ms, written as fMRIPrep writes per-echo runs
(``*_acq-multiecho_echo-<n>_space-..._desc-preproc_bold.nii.gz``) with ``EchoTime`` in
seconds in each JSON sidecar.

Signal model per voxel, mono-exponential (so the truth is one T2* per voxel)::

    S(TE, t) = S0 * (1 + physio(t) / 100) * exp(-TE * (R2* + dR2*(t)))

* ``R2* = sum_tissue p_tissue / T2*_tissue + R2'``: tissue-weighted relaxation rate
  (:data:`TISSUE_T2STAR_MS`) plus the susceptibility term ``R2' = -ln(D) / 30 ms`` of the
  single-echo run's dropout factor ``D`` (:func:`.run.dropout_factor`): ventral
  brainstem next to the sinuses and the orbitofrontal cortex get a short T2*, and at
  TE 30 ms the signal loss equals the single-echo run's;
* ``S0 = B * exp(30 ms / T2*_tissue)`` with ``B`` the single-echo baseline
  (:meth:`.anatomy.Anatomy.epi_baseline`): without dropout, echo 2 matches the
  single-echo run;
* ``dR2*(t) = -psc(t) / 100 / 30 ms``: the pain response as a change of R2* (BOLD), the
  planted percent signal change at TE 30 ms, with the block regressor demeaned over the
  run so the temporal mean of R2* is the truth;
* ``physio(t)``: an S0-like (TE-independent) pulsation of :data:`PHYSIO_PSC` percent in
  the brainstem pattern of :mod:`.run`, at the cardiac rate;
* thermal noise: complex Gaussian (sd :data:`.run.NOISE_SD` per channel), magnitude
  stored as int16.

Truth: ``truth/..._desc-multiecho_T2starmap.nii.gz`` (seconds, as BIDS and tedana) and
``..._desc-multiecho_S0map.nii.gz``, 0 outside the brain, and ``truth.json``'s
``multiecho`` section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import run as run_mod
from .anatomy import Anatomy
from .layout import PATHS, TASK
from .writing import write_json, write_nifti

#: Echo times (ms).
ECHO_TIMES_MS = (13.0, 30.0, 47.0)
#: Volumes of the multi-echo run (the single-echo run has 180).
N_VOLUMES = 60
#: T2* of pure tissue at 3 T (ms).
TISSUE_T2STAR_MS = {"gm": 50.0, "wm": 45.0, "csf": 100.0}
#: Echo time (ms) at which the dropout factor of the single-echo run applies.
REFERENCE_TE_MS = 30.0
#: Amplitude (percent, TE-independent) of the pulsation in the brainstem pattern.
PHYSIO_PSC = 1.0
#: Pulsation frequency (Hz).
PULSE_HZ = 1.1


def echo_key(n: int, kind: str = "bold") -> str:
    """Key of echo ``n`` (1-based) in :data:`.layout.PATHS` (``kind`` "bold" or "json")."""
    return f"me_{kind}_echo{n}"


def truth_maps(anat: Anatomy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T2* in ms, S0, R2' in 1/ms) on the sample grid; T2* and S0 are 0 outside the brain."""
    brain = anat.brain
    r2_tissue = sum(getattr(anat, t) / TISSUE_T2STAR_MS[t] for t in TISSUE_T2STAR_MS)
    dropout = run_mod.dropout_factor(anat.grid.voxel_centres_mm())
    r2_prime = -np.log(dropout) / REFERENCE_TE_MS
    r2 = r2_tissue + r2_prime
    with np.errstate(divide="ignore"):
        t2star = np.where(brain, 1.0 / r2, 0.0)
        s0 = np.where(brain, anat.epi_baseline() * np.exp(REFERENCE_TE_MS * r2_tissue), 0.0)
    return t2star, s0, r2_prime * brain


def simulate_multiecho(rng: np.random.Generator, anat: Anatomy, coverages: dict):
    """The three echoes (int16, grid + (N_VOLUMES,)) and the truth maps.

    Returns
    -------
    (list of ndarray, ndarray, ndarray, ndarray)
        Echo data, T2* (ms), S0, slice times (s).
    """
    grid = anat.grid
    n_slices = grid.shape[2]
    st = run_mod.slice_timing(n_slices)
    acq = np.arange(N_VOLUMES)[:, None] * run_mod.TR + st[None, :]  # (t, k)
    events = run_mod.events_table()
    pain = events[events.trial_type == "pain"]
    reg = run_mod.block_response(pain.onset.to_numpy(), run_mod.BLOCK_S, acq.ravel())
    reg = reg.reshape(acq.shape)
    reg -= reg.mean(axis=0, keepdims=True)
    amp = sum(run_mod.PAIN_PSC[n] * coverages[n] for n in run_mod.PAIN_PSC)
    pulse_map = run_mod.physio_patterns(anat)["brainstem"] * PHYSIO_PSC
    pulse = np.sin(2 * np.pi * PULSE_HZ * acq)
    t2star, s0, _ = truth_maps(anat)
    with np.errstate(divide="ignore"):
        r2 = np.where(t2star > 0, 1.0 / np.where(t2star > 0, t2star, 1.0), 0.0)
    echoes = [np.empty(grid.shape + (N_VOLUMES,), dtype=np.int16) for _ in ECHO_TIMES_MS]
    for k in range(n_slices):
        d_r2 = -(amp[:, :, k, None] * reg[None, None, :, k]) / 100.0 / REFERENCE_TE_MS
        scale = s0[:, :, k, None] * (1.0 + pulse_map[:, :, k, None] * pulse[None, None, :, k]
                                     / 100.0)
        for e, te in enumerate(ECHO_TIMES_MS):
            signal = scale * np.exp(-te * (r2[:, :, k, None] + d_r2))
            noise = rng.standard_normal((2,) + signal.shape, dtype=np.float32)
            mag = np.hypot(signal + run_mod.NOISE_SD * noise[0], run_mod.NOISE_SD * noise[1])
            echoes[e][:, :, k, :] = np.clip(np.rint(mag), 0, np.iinfo(np.int16).max)
    return echoes, t2star, s0, st


def write_multiecho(folder: Path, anat: Anatomy, coverages: dict,
                    rng: np.random.Generator) -> dict:
    """Write the echoes, their sidecars and the truth maps; return ``truth.json``'s section."""
    echoes, t2star, s0, st = simulate_multiecho(rng, anat, coverages)
    affine = anat.grid.affine
    paths = {key: folder / rel for key, rel in PATHS.items()}
    for n, (data, te) in enumerate(zip(echoes, ECHO_TIMES_MS), start=1):
        write_nifti(data, paths[echo_key(n)], affine, tr=run_mod.TR, slice_times=st,
                    description=f"sample multi-echo run, echo {n} (TE {te:g} ms, synthetic)")
        write_json({
            "TaskName": TASK,
            "RepetitionTime": run_mod.TR,
            "EchoTime": round(te / 1000.0, 6),
            "SliceTiming": [float(v) for v in st],
            "SliceEncodingDirection": "k",
            "SliceTimingCorrected": False,
            "MagneticFieldStrength": 3,
            "SkullStripped": False,
        }, paths[echo_key(n, "json")])
    write_nifti((t2star / 1000.0).astype(np.float32), paths["me_t2star_truth"], affine,
                description="planted T2* (s) of the multi-echo run")
    write_nifti(s0.astype(np.float32), paths["me_s0_truth"], affine,
                description="planted S0 of the multi-echo run")
    brain = anat.brain
    dropout = run_mod.dropout_factor(anat.grid.voxel_centres_mm())
    deep = brain & (dropout < 0.5)
    return {
        "echo_times_ms": list(ECHO_TIMES_MS),
        "n_volumes": N_VOLUMES,
        "tr": run_mod.TR,
        "files": [PATHS[echo_key(n)] for n in range(1, len(ECHO_TIMES_MS) + 1)],
        "t2star_truth": PATHS["me_t2star_truth"],
        "s0_truth": PATHS["me_s0_truth"],
        "t2star_units_in_truth_file": "s",
        "tissue_t2star_ms": dict(TISSUE_T2STAR_MS),
        "signal_model": "S0 (1 + physio/100) exp(-TE (R2* + dR2*(t))), R2* = sum_tissue "
                        "p / T2*_tissue - ln(dropout) / 30 ms, dR2* = -pain psc / 100 / 30 ms "
                        "(demeaned block regressor); magnitude of complex Gaussian noise "
                        "(sd noise_sd per channel), int16",
        "noise_sd": run_mod.NOISE_SD,
        "physio_psc": PHYSIO_PSC,
        "t2star_ms_median_brain": float(np.median(t2star[brain])),
        "t2star_ms_min_brain": float(t2star[brain].min()),
        "t2star_ms_median_dropout": float(np.median(t2star[deep])) if deep.any() else None,
        "n_voxels_dropout_below_half": int(deep.sum()),
    }
