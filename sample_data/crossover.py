"""The 15-subject drug / placebo crossover: first-level effect maps and the group t map.

Randomised, double-blind, placebo-controlled crossover: each subject (sub-01..sub-15)
is scanned once on drug and once on placebo (8 drug first, 7 placebo first, order
drawn at random). Per subject and treatment there is one first-level effect map per
condition (``pain``, ``baseline``), in percent signal change, float32, zero outside
the brain mask. A map is::

    subject effect (shared by all four maps of a subject)
    + session effect (shared by both conditions of a treatment session)
    + [pain] gain_s * main pain effect
    + [drug, pain] planted interaction
    + smooth noise

All random maps are smoothed white noise (Gaussian kernel, FWHM :data:`FWHM_MM` mm
isotropic, drawn on a padded grid so that every voxel sees the whole kernel) scaled to
unit variance, so the noise FWHM in the RFT sense equals the kernel FWHM. Subject and
session effects and the gain cancel in the interaction
``(Drug_Pain - Drug_Baseline) - (Placebo_Pain - Placebo_Baseline)``, whose noise is
the sum of four independent noise maps: sd ``2 * NOISE_SD`` per voxel. No period or
carry-over effect is planted.

The group map is the one-sample t of the per-subject interaction maps, computed with
plain numpy (mean / (sd with ddof 1 / sqrt(15))), df = 14, zero outside the mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

N_SUBJECTS = 15
TREATMENTS = ("drug", "placebo")
CONDITIONS = ("pain", "baseline")
#: Kernel FWHM (mm, isotropic) of every noise map.
FWHM_MM = 6.0
#: Noise sd of one first-level map (percent signal change).
NOISE_SD = 0.5
#: Subject random effect sd and session (treatment) offset sd.
SUBJECT_SD = 0.4
SESSION_SD = 0.3
#: Between-subject sd of the gain of the pain response (mean 1).
GAIN_SD = 0.3
#: Main pain effect (both treatments), percent signal change at full coverage.
PAIN_EFFECT = {"PAG": 0.6, "RVM": 0.4, "pINS_L": 1.5, "pINS_R": 1.5,
               "THAL_L": 1.0, "THAL_R": 1.0, "ACC": 1.2}
#: Planted interaction as Cohen's dz at each region's most covered voxel: PAG up under
#: drug (restored descending inhibition), posterior insula and thalamus down.
INTERACTION_DZ = {"PAG": 1.0, "pINS_L": -0.8, "pINS_R": -0.8, "THAL_L": -0.8, "THAL_R": -0.8}
#: The control region: nothing planted there.
CONTROL_REGION = "V1"
#: ROI voxels used for the expected ROI-mean values in the truth: coverage >= this.
ROI_COVERAGE = 0.5
#: Voxels of padding around the grid when drawing smooth noise.
PAD = 6


def sigma_voxels(zooms) -> np.ndarray:
    """Gaussian sigma (voxels) of the FWHM_MM kernel on a grid with voxel size ``zooms``."""
    return FWHM_MM / np.sqrt(8.0 * np.log(2.0)) / np.asarray(zooms, dtype=float)


class SmoothNoise:
    """Unit-variance smoothed white noise on a grid (stationary: full kernel everywhere)."""

    def __init__(self, shape, zooms):
        self.shape = tuple(shape)
        self.sigma = sigma_voxels(zooms)
        padded = tuple(n + 2 * PAD for n in self.shape)
        delta = np.zeros(padded)
        delta[tuple(n // 2 for n in padded)] = 1.0
        self.kernel_ss = float((self._filter(delta) ** 2).sum())
        self._padded = padded

    def _filter(self, x):
        return ndimage.gaussian_filter(x, self.sigma, mode="constant", truncate=4.0)

    def draw(self, rng) -> np.ndarray:
        """One field, float64, shape ``self.shape``, unit variance at every voxel."""
        field = self._filter(rng.standard_normal(self._padded)) / np.sqrt(self.kernel_ss)
        return field[PAD:-PAD, PAD:-PAD, PAD:-PAD]

    def mean_variance(self, weights: np.ndarray) -> float:
        """Exact variance of ``sum(weights * field)`` for a unit-variance field."""
        w = np.pad(weights, PAD)
        return float((self._filter(w) ** 2).sum() / self.kernel_ss)


@dataclass
class Crossover:
    """The generated crossover study."""

    participants: pd.DataFrame
    maps: np.ndarray  # (subject, treatment, condition, i, j, k) float32
    interaction: np.ndarray  # (subject, i, j, k) float64
    group_t: np.ndarray
    group_con: np.ndarray
    amplitudes: dict
    expected: dict
    realised_fwhm_mm: list


def participants_table(rng) -> pd.DataFrame:
    """participants.tsv: id, treatment sequence, age, sex (fibromyalgia cohort)."""
    drug_first = np.zeros(N_SUBJECTS, dtype=bool)
    drug_first[rng.permutation(N_SUBJECTS)[: (N_SUBJECTS + 1) // 2]] = True
    age = rng.integers(28, 62, size=N_SUBJECTS)
    sex = np.where(rng.random(N_SUBJECTS) < 0.8, "F", "M")
    return pd.DataFrame({
        "participant_id": [f"sub-{i + 1:02d}" for i in range(N_SUBJECTS)],
        "sequence": np.where(drug_first, "drug-placebo", "placebo-drug"),
        "age": age,
        "sex": sex,
    })


def period_of(sequence: str, treatment: str) -> int:
    """Scan period (1 or 2) of ``treatment`` for a subject with ``sequence``."""
    return 1 if sequence.split("-")[0] == treatment else 2


def paired_t(diff: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-sample t over axis 0 (mean / (sd ddof 1 / sqrt n)) inside ``mask``; 0 outside."""
    n = diff.shape[0]
    mean = diff.mean(axis=0)
    sd = diff.std(axis=0, ddof=1)
    ok = mask & (sd > 0)
    t = np.zeros(mean.shape)
    t[ok] = mean[ok] / (sd[ok] / np.sqrt(n))
    return t, np.where(mask, mean, 0.0)


def realised_fwhm(residuals: np.ndarray, mask: np.ndarray, zooms) -> list[float]:
    """FWHM (mm) per axis from lag-1 correlations of residual fields inside ``mask``.

    For Gaussian-smoothed white noise the correlation at lag one voxel ``v`` is
    ``rho = exp(-v^2 / (4 sigma^2))``, so ``FWHM = v sqrt(-2 ln 2 / ln rho)``.
    """
    out = []
    for axis, v in enumerate(zooms):
        a = [slice(None)] * 4
        b = [slice(None)] * 4
        a[axis + 1] = slice(0, -1)
        b[axis + 1] = slice(1, None)
        ma = [slice(None)] * 3
        mb = [slice(None)] * 3
        ma[axis] = slice(0, -1)
        mb[axis] = slice(1, None)
        both = mask[tuple(ma)] & mask[tuple(mb)]
        x = residuals[tuple(a)][:, both]
        y = residuals[tuple(b)][:, both]
        rho = (x * y).sum() / np.sqrt((x**2).sum() * (y**2).sum())
        out.append(float(v * np.sqrt(-2.0 * np.log(2.0) / np.log(rho))))
    return out


def simulate_crossover(rng, rng_participants, grid, brain: np.ndarray,
                       coverages: dict) -> Crossover:
    """Simulate the crossover maps and the group t map.

    Parameters
    ----------
    rng, rng_participants : numpy.random.Generator
    grid : Grid
    brain : ndarray of bool
    coverages : dict of ndarray
        Region coverage maps by name.

    Returns
    -------
    Crossover
    """
    participants = participants_table(rng_participants)
    noise = SmoothNoise(grid.shape, grid.zooms)
    pain_main = sum(PAIN_EFFECT[n] * coverages[n] for n in PAIN_EFFECT)
    amplitudes = {}
    interaction = np.zeros(grid.shape)
    for name, dz in INTERACTION_DZ.items():
        peak = float(coverages[name].max())
        amplitudes[name] = dz * 2.0 * NOISE_SD / peak
        interaction += amplitudes[name] * coverages[name]
    maps = np.zeros((N_SUBJECTS, len(TREATMENTS), len(CONDITIONS)) + grid.shape, np.float32)
    gains = 1.0 + GAIN_SD * rng.standard_normal(N_SUBJECTS)
    for s in range(N_SUBJECTS):
        subject = SUBJECT_SD * noise.draw(rng)
        for ti, treatment in enumerate(TREATMENTS):
            session = SESSION_SD * noise.draw(rng)
            for ci, condition in enumerate(CONDITIONS):
                m = subject + session + NOISE_SD * noise.draw(rng)
                if condition == "pain":
                    m = m + gains[s] * pain_main
                    if treatment == "drug":
                        m = m + interaction
                maps[s, ti, ci] = (m * brain).astype(np.float32)
    m64 = maps.astype(np.float64)
    diff = (m64[:, 0, 0] - m64[:, 0, 1]) - (m64[:, 1, 0] - m64[:, 1, 1])
    group_t, group_con = paired_t(diff, brain)
    resid = diff - diff.mean(axis=0)
    fwhm = realised_fwhm(resid, brain, grid.zooms)
    expected = {}
    for name in [*INTERACTION_DZ, "RVM", "ACC", CONTROL_REGION]:
        cov = coverages[name]
        roi = cov >= ROI_COVERAGE
        w = roi / roi.sum()
        mean = float((interaction * w).sum())
        sd = 2.0 * NOISE_SD * np.sqrt(noise.mean_variance(w))
        peak = float(cov.max())
        expected[name] = {
            "amplitude_full_coverage": float(amplitudes.get(name, 0.0)),
            "peak_coverage": round(peak, 6),
            "expected_interaction_peak_voxel": float(amplitudes.get(name, 0.0) * peak),
            "expected_dz_peak_voxel": float(INTERACTION_DZ.get(name, 0.0)),
            "roi_n_voxels": int(roi.sum()),
            "expected_interaction_roi_mean": mean,
            "interaction_sd_roi_mean": float(sd),
            "expected_dz_roi_mean": mean / float(sd),
            "realised_dz_roi_mean": _dz(diff[:, roi].mean(axis=1)),
            "pain_main_effect_full_coverage": float(PAIN_EFFECT.get(name, 0.0)),
        }
    return Crossover(participants, maps, diff, group_t, group_con, amplitudes, expected, fwhm)


def _dz(x: np.ndarray) -> float:
    return float(x.mean() / x.std(ddof=1))
