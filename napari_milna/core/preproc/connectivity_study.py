"""Insula -> DMN connectivity over several resting-state runs, and drug - placebo changes.

The CLI (``milna connectivity``) and the napari dock call :func:`resting_connectivity`:
per run, confounds and FD scrubbing from its confounds file, seed connectivity
(:mod:`.connectivity`), Fisher z maps written with BIDS-like names; then, per subject
with a drug and a placebo session, the difference maps the crossover explorer reads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.nifti import open_nifti
from ..jobs import Progress
from .connectivity import (
    HIGH_PASS_HZ,
    LOW_PASS_HZ,
    CrossoverChange,
    Seed,
    SeedConnectivity,
    connectivity_prefix,
    crossover_changes,
    read_confounds_table,
    seed_connectivity,
    write_z_maps,
    z_map_name,
)
from .motion import FD_THRESHOLD_MM, assess_motion, read_motion


@dataclass
class ConnectivityStudy:
    """Connectivity of several runs and the per-subject drug - placebo changes."""

    runs: list[SeedConnectivity]
    changes: list[CrossoverChange] = field(default_factory=list)
    scrubbed: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        runs = []
        for r in self.runs:
            d = r.to_dict()
            d["scrubbed_volumes"] = self.scrubbed.get(str(r.bold), [])
            runs.append(d)
        return {"runs": runs, "drug_minus_placebo": [c.to_dict() for c in self.changes]}


def _confounds_and_scrub(path, n: int, fd_threshold: float, columns):
    table = read_confounds_table(path, columns)
    if len(table) != n:
        raise input_error(path, f"holds {len(table)} rows for a run of {n} volumes")
    sample_mask, scrubbed = None, []
    try:
        motion = assess_motion(read_motion(path, "fmriprep"), fd_threshold)
    except MilnaInputError:  # not an fMRIPrep table: no motion columns, no scrubbing
        motion = None
    if motion is not None and motion.n_scrubbed:
        sample_mask = motion.sample_mask
        scrubbed = [int(v) for v in np.flatnonzero(motion.scrub)]
    return table, sample_mask, scrubbed


def resting_connectivity(
    bolds: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    confounds: Sequence[str | os.PathLike] | None = None,
    confound_columns: Sequence[str] | None = None,
    fd_threshold: float = FD_THRESHOLD_MM,
    seeds: Sequence[Seed] | None = None,
    mask: str | os.PathLike | None = None,
    high_pass: float | None = HIGH_PASS_HZ,
    low_pass: float | None = LOW_PASS_HZ,
    smoothing_fwhm: float | None = None,
    drug: str = "drug",
    placebo: str = "placebo",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ConnectivityStudy:
    """Seed connectivity of every run, written z maps and drug - placebo differences.

    Parameters
    ----------
    bolds : sequence of path-like
        Resting-state runs in MNI space (BIDS names with ``sub-`` and ``ses-``
        entities pair drug and placebo sessions).
    out_dir : path-like
        Existing output folder.
    confounds : sequence of path-like, optional
        One confounds TSV per run, in the same order. From an fMRIPrep file the six
        motion parameters, ``csf`` and ``white_matter`` are regressed and volumes with
        FD above ``fd_threshold`` scrubbed.
    confound_columns : sequence of str, optional
    fd_threshold : float
    seeds : sequence of Seed, optional
        Default: the documented insula seeds.
    mask : path-like, optional
        Brain mask for every run (nilearn's EPI mask otherwise).
    high_pass, low_pass, smoothing_fwhm
        Cleaning (band-pass 0.01-0.1 Hz, no smoothing).
    drug, placebo : str
        ``ses-`` labels of the two treatments.
    overwrite : bool
    progress : callable(done, total), optional
        Called after each run.

    Returns
    -------
    ConnectivityStudy
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise input_error(out_dir, "is not an existing folder")
    if not (np.isfinite(fd_threshold) and fd_threshold > 0):
        raise input_error(None, f"the FD threshold must be a positive number of mm, not "
                                f"{fd_threshold}")
    bolds = list(bolds)
    if confounds is not None and len(confounds) not in (0, len(bolds)):
        raise input_error(None, f"{len(confounds)} confound files for {len(bolds)} runs; give "
                                "one per run, in the same order")
    sources = [open_nifti(b) for b in bolds]
    if not overwrite:
        from ..io.atomic import remove_stale

        remove_stale(out_dir)  # a killed run's half-moved set is undone first
        names = [s.name for s in (seeds or [])] or None
        for src in sources:
            ent = connectivity_prefix(src.path.name)
            for name in names or ("aInsL", "aInsR", "pInsL", "pInsR"):
                target = out_dir / z_map_name(ent, name)
                if target.exists():
                    raise input_error(target, "already exists; choose another folder or allow "
                                              "overwriting")
    from ..io.atomic import output_set

    study = ConnectivityStudy([])
    pairs = []
    with output_set():  # every map appears at the end, and only when every run succeeded
        for k, source in enumerate(sources):
            table = sample_mask = None
            scrubbed: list[int] = []
            if confounds:
                table, sample_mask, scrubbed = _confounds_and_scrub(
                    confounds[k], source.n_volumes, fd_threshold, confound_columns)
            result = seed_connectivity(
                source, seeds=list(seeds) if seeds else None, confounds=table,
                sample_mask=sample_mask, mask_img=str(mask) if mask else None,
                high_pass=high_pass, low_pass=low_pass, smoothing_fwhm=smoothing_fwhm,
            )
            write_z_maps(result, source, out_dir, overwrite=overwrite)
            study.runs.append(result)
            study.scrubbed[str(result.bold)] = scrubbed
            pairs.append((result, source))
            if progress is not None:
                progress(k + 1, len(sources))
        study.changes = crossover_changes(pairs, out_dir, drug, placebo, overwrite=overwrite)
    return study
