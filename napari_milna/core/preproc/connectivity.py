"""Resting-state insula -> default-mode network seed connectivity.

Fibromyalgia patients show stronger resting connectivity between the insula and the
default-mode network (DMN), tracking clinical pain (Napadow et al. 2010, Arthritis
Rheum 62:2545; Ichesco et al. 2014, J Pain 15:815). The protocol measures it under
drug and placebo; this module gives, per run, the voxelwise Fisher z map of every
insula seed and the mean z between each seed and the DMN nodes, and per subject the
drug - placebo difference of the z maps.

Coordinates come from files nilearn ships (no download):

* Seitzman et al. 2020 (NeuroImage 206:116290) 300 ROIs,
  ``nilearn.datasets.fetch_coords_seitzman_2018`` (bundled
  ``seitzman_2018_ROIs_300inVol_MNI_allInfo.txt``): its cortical ROIs are the Power
  et al. 2011 (Neuron 72:665) nodes, each with a network label. The DMN is the set of
  its ``DefaultMode`` nodes (5 mm spheres, Seitzman's cortical radius).
* Insula seeds are Seitzman / Power nodes lying in the insula (each within 1 mm of a
  Power 2011 node, ``fetch_coords_power_2011``, bundled ``power_2011.csv``):

  ======  ===========================  ======================================
  seed    MNI (mm)                     Seitzman network / region
  ======  ===========================  ======================================
  aInsL   (-35.44, 20.03, 0.07)        Salience: left anterior insula
  aInsR   (33.56, 16.45, -7.58)        Salience: right anterior insula
  pInsL   (-38.43, -33.34, 16.98)      Auditory: left posterior insula /
                                       parietal operculum
  pInsR   (43.45, -22.93, 19.85)       Auditory: right posterior insula /
                                       parietal operculum
  ======  ===========================  ======================================

  Any other seed can be given as (name, x, y, z).

Time series are cleaned the same way for seeds and voxels (nilearn maskers): linear
detrend, confound regression, band-pass 0.01-0.1 Hz, z-scoring, scrubbed volumes
dropped through ``sample_mask``. Correlations r become Fisher z = arctanh(r).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..jobs import Progress
from ..protocol import CONNECTIVITY_HIGH_PASS_HZ, CONNECTIVITY_LOW_PASS_HZ
from ..results import FieldsToDict
from .first_level import check_below_nyquist, check_smoothing_fwhm, open_run_and_tr

#: Documented insula seeds: name -> (MNI mm, Seitzman network, description).
INSULA_SEEDS = {
    "aInsL": ((-35.44, 20.03, 0.07), "Salience", "left anterior insula"),
    "aInsR": ((33.56, 16.45, -7.58), "Salience", "right anterior insula"),
    "pInsL": ((-38.43, -33.34, 16.98), "Auditory", "left posterior insula / parietal operculum"),
    "pInsR": ((43.45, -22.93, 19.85), "Auditory", "right posterior insula / parietal operculum"),
}
SEED_RADIUS_MM = 5.0
DMN_NETWORK = "DefaultMode"
HIGH_PASS_HZ = CONNECTIVITY_HIGH_PASS_HZ
LOW_PASS_HZ = CONNECTIVITY_LOW_PASS_HZ


@dataclass(frozen=True)
class Seed(FieldsToDict):
    """A sphere seed in MNI mm."""

    name: str
    xyz: tuple[float, float, float]
    radius: float = SEED_RADIUS_MM
    network: str = ""
    description: str = ""


def seitzman_nodes():
    """The Seitzman 2020 ROIs with network labels (bundled with nilearn, read offline).

    Returns
    -------
    pandas.DataFrame
        ``x``, ``y``, ``z`` (MNI mm), ``radius`` (mm) and ``network``.
    """
    from nilearn import datasets

    bunch = datasets.fetch_coords_seitzman_2018(ordered_regions=False)
    table = bunch.rois.reset_index(drop=True).copy()
    table["radius"] = np.asarray(bunch.radius, dtype=float)
    table["network"] = np.asarray(bunch.networks, dtype=str)
    return table


def default_insula_seeds(nodes=None, tolerance_mm: float = 1.0) -> list[Seed]:
    """The documented insula seeds, checked against the bundled Seitzman table.

    Each seed's coordinate and network are looked up in the table (the nearest node
    within ``tolerance_mm``), so a changed nilearn file is noticed, not silently used.
    """
    nodes = seitzman_nodes() if nodes is None else nodes
    xyz = nodes[["x", "y", "z"]].to_numpy(dtype=float)
    seeds = []
    for name, (coord, network, text) in INSULA_SEEDS.items():
        d = np.linalg.norm(xyz - np.asarray(coord), axis=1)
        i = int(np.argmin(d))
        if d[i] > tolerance_mm or nodes["network"].iloc[i] != network:
            raise RuntimeError(
                f"nilearn's Seitzman table has no {network} node at {coord}; seed {name} "
                "cannot be checked"
            )
        seeds.append(Seed(name, tuple(float(v) for v in xyz[i]), SEED_RADIUS_MM, network, text))
    return seeds


def dmn_nodes(nodes=None) -> list[Seed]:
    """The Seitzman ``DefaultMode`` nodes as 5 mm seeds."""
    nodes = seitzman_nodes() if nodes is None else nodes
    dmn = nodes[nodes["network"] == DMN_NETWORK]
    return [Seed(f"DMN{i:02d}", (float(r.x), float(r.y), float(r.z)), float(r.radius),
                 DMN_NETWORK) for i, r in enumerate(dmn.itertuples(index=False), start=1)]


def fisher_z(r) -> np.ndarray:
    """arctanh(r), with |r| clipped just below 1 so perfect correlations stay finite."""
    r = np.asarray(r, dtype=float)
    return np.arctanh(np.clip(r, -1 + 1e-7, 1 - 1e-7))


def correlate(seed_series: np.ndarray, voxel_series: np.ndarray) -> np.ndarray:
    """Pearson r between every seed column and every voxel column.

    Parameters
    ----------
    seed_series : ndarray, shape (n, s)
    voxel_series : ndarray, shape (n, v)

    Returns
    -------
    ndarray, shape (s, v)
        NaN where a series is constant.
    """
    a = np.asarray(seed_series, dtype=float)
    b = np.asarray(voxel_series, dtype=float)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    na = np.sqrt((a * a).sum(axis=0))
    nb = np.sqrt((b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a.T @ b) / np.outer(na, nb)


@dataclass
class SeedConnectivity:
    """Insula seed connectivity of one run.

    Attributes
    ----------
    seeds : list of Seed
    z_maps : ndarray, shape (n_seeds, i, j, k)
        Fisher z per voxel (NaN outside the mask).
    dmn_mean_z : dict
        Seed name -> mean Fisher z over the DMN nodes inside the field of view.
    n_dmn_nodes : int
        DMN nodes with data.
    n_volumes_kept : int
    paths : dict
        Seed name -> written z map.
    """

    seeds: list[Seed]
    z_maps: np.ndarray = field(repr=False)
    dmn_mean_z: dict[str, float]
    n_dmn_nodes: int
    n_volumes: int
    n_volumes_kept: int
    bold: Path | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "bold": str(self.bold) if self.bold else None,
            "seeds": [s.to_dict() for s in self.seeds],
            "dmn_mean_z": {k: (float(v) if np.isfinite(v) else None)
                           for k, v in self.dmn_mean_z.items()},
            "n_dmn_nodes": int(self.n_dmn_nodes),
            "n_volumes": int(self.n_volumes),
            "n_volumes_kept": int(self.n_volumes_kept),
            "z_maps": {k: str(v) for k, v in self.paths.items()},
            "notes": list(self.notes),
        }


def _sphere_maskers(seeds, mask_img, clean):
    from nilearn.maskers import NiftiSpheresMasker

    groups: dict[float, list[int]] = {}
    for i, s in enumerate(seeds):
        groups.setdefault(float(s.radius), []).append(i)
    return [(idx, NiftiSpheresMasker([seeds[i].xyz for i in idx], radius=r, mask_img=mask_img,
                                     allow_overlap=True, **clean))
            for r, idx in groups.items()]


def _sphere_series(img, seeds, mask_img, clean, confounds, sample_mask, n_kept):
    out = np.full((n_kept, len(seeds)), np.nan)
    for idx, masker in _sphere_maskers(seeds, mask_img, clean):
        out[:, idx] = masker.fit_transform(img, confounds=confounds, sample_mask=sample_mask)
    return out


def _in_field_of_view(seeds, grid, data_mask) -> np.ndarray:
    ijk = grid.to_index(np.array([s.xyz for s in seeds]))
    inside = grid.contains_index(ijk)
    ok = np.zeros(len(seeds), bool)
    for n, (p, good) in enumerate(zip(ijk, inside)):
        ok[n] = bool(good) and bool(data_mask[tuple(p)])
    return ok


def filter_padding(high_pass: float | None, low_pass: float | None, tr: float) -> int:
    """Volumes nilearn's order-5 Butterworth filter pads on each side (scipy ``sosfiltfilt``).

    A run must keep more volumes than this for the band-pass to run at all.
    """
    from scipy import signal as sp_signal

    high, low = high_pass or 0.0, low_pass or 0.0
    if high and low:
        wn, btype = [high, low], "bandpass"
    elif high:
        wn, btype = high, "highpass"
    elif low:
        wn, btype = low, "lowpass"
    else:
        return 0
    sos = sp_signal.butter(5, wn, btype=btype, output="sos", fs=1.0 / tr)
    zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * (2 * sos.shape[0] + 1 - zeros)


def check_cleaning(source, tr: float, high_pass, low_pass, smoothing_fwhm, n_kept: int) -> None:
    """Refuse a band-pass or smoothing the run cannot take, in one sentence.

    Raises
    ------
    MilnaInputError
        A negative or non-finite cut-off, a high-pass at or above the low-pass, a cut-off
        at or above Nyquist (1 / 2 TR), a negative or absurd smoothing, or a run too short
        for the filter (scipy's padding).
    """
    for what, value in (("high-pass", high_pass), ("low-pass", low_pass)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise input_error(None, f"the {what} cut-off must be 0 Hz or more, not {value}")
    high, low = high_pass or 0.0, low_pass or 0.0
    if high and low and high >= low:
        raise input_error(None, f"the high-pass cut-off {high:g} Hz must lie below the "
                                f"low-pass cut-off {low:g} Hz")
    for what, value in (("high-pass", high), ("low-pass", low)):
        if value:
            check_below_nyquist(source, tr, what, value)
    check_smoothing_fwhm(smoothing_fwhm)
    padding = filter_padding(high, low, tr)
    if padding and n_kept <= padding:
        raise input_error(source.path, f"keeps {n_kept} volumes, too few for the band-pass "
                                       f"filter ({high or 'no'} - {low or 'no'} Hz), which "
                                       f"needs more than {padding}")


def seed_connectivity(
    bold,
    *,
    seeds: list[Seed] | None = None,
    confounds=None,
    sample_mask=None,
    mask_img=None,
    high_pass: float | None = HIGH_PASS_HZ,
    low_pass: float | None = LOW_PASS_HZ,
    detrend: bool = True,
    smoothing_fwhm: float | None = None,
    tr: float | None = None,
    progress: Progress | None = None,
) -> SeedConnectivity:
    """Fisher z maps of insula seeds and their mean z with the DMN nodes.

    Parameters
    ----------
    bold : path-like or NiftiSource
        Resting-state run in MNI space.
    seeds : list of Seed, optional
        Default: :func:`default_insula_seeds`.
    confounds : pandas.DataFrame, optional
        One row per volume.
    sample_mask : array of int, optional
        Volumes kept (scrubbing).
    mask_img : path-like or image, optional
        Brain mask; nilearn computes an EPI mask when not given.
    high_pass, low_pass : float or None
        Band-pass edges in Hz (None: no filter).
    detrend : bool
    smoothing_fwhm : float or None
        Smoothing of the voxel series (mm).
    tr : float, optional
        Read from the header when not given.
    progress : callable(done, total), optional
        Called after the voxel series, the seed series and the DMN series (3 steps).

    Returns
    -------
    SeedConnectivity

    Raises
    ------
    MilnaInputError
        A 3D image, no TR, or no seed inside the data.
    """
    from nilearn.maskers import NiftiMasker

    source, tr = open_run_and_tr(bold, tr, "connectivity")
    seeds = default_insula_seeds() if seeds is None else list(seeds)
    for seed in seeds:
        if not np.all(np.isfinite(seed.xyz)):
            raise input_error(None, f"seed {seed.name}: its coordinates {seed.xyz} are not all "
                                    "finite numbers")
    n = source.n_volumes
    kept = np.arange(n) if sample_mask is None else np.asarray(sample_mask, dtype=int)
    check_cleaning(source, tr, high_pass, low_pass, smoothing_fwhm, int(kept.size))
    mask_voxels = None
    if isinstance(mask_img, (str, os.PathLike)):
        from ..io.nifti import load_mask

        on_grid = load_mask(mask_img, source.grid, f"the run {source.path.name}")
        mask_voxels = np.flatnonzero(np.reshape(on_grid.volume() != 0, -1, order="F"))
    from ..qc.tsnr import check_run_signal

    check_run_signal(source, mask_voxels)  # all NaN, all zero, constant: no correlation
    # butterworth__copy: nilearn otherwise filters in place one voxel at a time (about
    # 70 s for 100,000 voxels); the vectorised copy gives the same numbers in a second.
    clean = {"standardize": "zscore_sample", "detrend": detrend, "high_pass": high_pass,
             "low_pass": low_pass, "t_r": tr, "clean_args": {"butterworth__copy": True}}
    notes: list[str] = []
    img = source.image
    masker = NiftiMasker(mask_img=mask_img, smoothing_fwhm=smoothing_fwhm, **clean)
    voxels = masker.fit_transform(img, confounds=confounds,
                                  sample_mask=None if sample_mask is None else kept)
    mask = np.asarray(masker.mask_img_.dataobj) > 0
    if progress is not None:
        progress(1, 3)
    inside = _in_field_of_view(seeds, source.grid, mask)
    if not inside.any():
        raise input_error(source.path, "holds none of the seeds inside its brain mask; is it "
                                       "in MNI space?")
    for s, ok in zip(seeds, inside):
        if not ok:
            notes.append(f"seed {s.name} at {s.xyz} lies outside the data and was skipped")
    seeds = [s for s, ok in zip(seeds, inside) if ok]
    sm = None if sample_mask is None else kept
    mask_image = masker.mask_img_
    seed_ts = _sphere_series(img, seeds, mask_image, clean, confounds, sm, kept.size)
    if progress is not None:
        progress(2, 3)
    z = fisher_z(correlate(seed_ts, voxels))
    z_maps = np.full((len(seeds),) + mask.shape, np.nan, dtype=np.float32)
    for i in range(len(seeds)):
        z_maps[i][mask] = z[i]
    dmn = dmn_nodes()
    dmn_ok = _in_field_of_view(dmn, source.grid, mask)
    dmn = [d for d, ok in zip(dmn, dmn_ok) if ok]
    if dmn:
        dmn_ts = _sphere_series(img, dmn, mask_image, clean, confounds, sm, kept.size)
        dmn_z = fisher_z(correlate(seed_ts, dmn_ts))
        dmn_mean = {s.name: float(np.nanmean(dmn_z[i])) for i, s in enumerate(seeds)}
    else:
        notes.append("no DMN node lies inside the data (brainstem-only coverage?)")
        dmn_mean = {s.name: float("nan") for s in seeds}
    if progress is not None:
        progress(3, 3)
    return SeedConnectivity(seeds, z_maps, dmn_mean, len(dmn), n, int(kept.size),
                            source.path, notes=notes)


def connectivity_prefix(bold_name: str) -> dict[str, str]:
    """BIDS entities of the output: the run's entities without ``desc``."""
    from ..io.bids import bids_entities

    ent = bids_entities(bold_name)
    ent.pop("desc", None)
    return ent


def z_map_name(entities: dict[str, str], seed: str) -> str:
    """``<entities>_seed-<seed>_stat-fisherz_statmap.nii.gz``."""
    from ..io.bids import bids_name

    return bids_name({**entities, "seed": seed, "stat": "fisherz"}, "statmap")


def write_z_maps(result: SeedConnectivity, source, out_dir, overwrite: bool = False):
    """Write one Fisher z map per seed with BIDS-like names; checks all names first."""
    from ..io.nifti_write import save_like

    out_dir = Path(out_dir)
    ent = connectivity_prefix(source.path.name)
    plan = [(i, s, out_dir / z_map_name(ent, s.name)) for i, s in enumerate(result.seeds)]
    if not overwrite:
        for _, _, path in plan:
            if path.exists():
                raise input_error(path, "already exists; choose another folder or allow "
                                        "overwriting")
    for i, s, path in plan:
        result.paths[s.name] = save_like(
            result.z_maps[i], source.image, path, overwrite=overwrite,
            description=f"Fisher z, seed {s.name}",
        )
    return result.paths


@dataclass
class CrossoverChange:
    """Drug - placebo change of one subject's insula connectivity."""

    subject: str
    dmn_change: dict[str, float]
    paths: dict[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"subject": self.subject,
                "dmn_mean_z_change": {k: (float(v) if np.isfinite(v) else None)
                                      for k, v in self.dmn_change.items()},
                "maps": {k: str(v) for k, v in self.paths.items()}}


def crossover_changes(
    runs: list[tuple[SeedConnectivity, object]],
    out_dir,
    drug: str = "drug",
    placebo: str = "placebo",
    overwrite: bool = False,
) -> list[CrossoverChange]:
    """Per subject, drug - placebo difference of the z maps and of the seed-DMN mean z.

    Runs are paired by the ``sub`` entity and told apart by the ``ses`` entity
    (``ses-drug`` / ``ses-placebo``). Written as
    ``sub-XX[_task-..][_space-..]_seed-<seed>_contrast-drugMinusPlacebo_stat-fisherz_statmap``.
    """
    from ..io.bids import bids_name
    from ..io.nifti_write import save_like

    by_subject: dict[str, dict[str, tuple]] = {}
    for result, source in runs:
        ent = connectivity_prefix(source.path.name)
        if "sub" in ent and ent.get("ses") in (drug, placebo):
            by_subject.setdefault(ent["sub"], {})[ent["ses"]] = (result, source, ent)
    changes = []
    for sub, sessions in sorted(by_subject.items()):
        if drug not in sessions or placebo not in sessions:
            continue
        (rd, sd, ent), (rp, sp, _) = sessions[drug], sessions[placebo]
        if not sd.grid.matches(sp.grid):
            raise input_error(sp.path, f"is not on the grid of {sd.path.name}; the drug and "
                                       "placebo z maps cannot be subtracted")
        base = {k: v for k, v in ent.items() if k not in ("ses", "run")}
        change = CrossoverChange(f"sub-{sub}", {})
        names_p = {s.name: i for i, s in enumerate(rp.seeds)}
        for i, seed in enumerate(rd.seeds):
            if seed.name not in names_p:
                continue
            j = names_p[seed.name]
            change.dmn_change[seed.name] = rd.dmn_mean_z[seed.name] - rp.dmn_mean_z[seed.name]
            diff = rd.z_maps[i] - rp.z_maps[j]
            name = bids_name({**base, "seed": seed.name, "contrast": f"{drug}Minus"
                              f"{placebo[:1].upper()}{placebo[1:]}", "stat": "fisherz"},
                             "statmap")
            change.paths[seed.name] = save_like(
                diff, sd.image, Path(out_dir) / name, overwrite=overwrite,
                description=f"Fisher z {drug} - {placebo}, seed {seed.name}",
            )
        changes.append(change)
    return changes


def read_confounds_table(path: str | os.PathLike, columns=None):
    """Confounds for connectivity or the GLM from a TSV with a header.

    From an fMRIPrep confounds file (it has ``trans_x``) the six motion parameters
    plus ``csf`` and ``white_matter`` (when present) are taken, unless ``columns``
    names others; from any other TSV all columns (or ``columns``). Missing values
    (fMRIPrep's first-row ``n/a``) become 0.

    Raises
    ------
    MilnaInputError
        Unreadable file, a named column missing, a non-numeric cell.
    """
    import pandas as pd

    from ..io.tables import read_table

    path = Path(path)
    table = read_table(path, sep="\t")
    if columns is None and "trans_x" in table.columns:
        columns = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
        columns += [c for c in ("csf", "white_matter") if c in table.columns]
    if columns is not None:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise input_error(path, f"has no column {', '.join(missing)}")
        table = table[list(columns)]
    for name in table.columns:
        if not pd.api.types.is_numeric_dtype(table[name]):
            bad = pd.to_numeric(table[name], errors="coerce").isna() & table[name].notna()
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise input_error(path, f"line {line} holds a non-numeric {name} value")
    values = table.astype(float)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row, col = (int(v[0]) for v in np.nonzero(infinite))
        raise input_error(path, f"line {row + 2} holds an infinite {values.columns[col]} value")
    return values.fillna(0.0)
