"""First-level block-design GLM of the pain run, through nilearn's FirstLevelModel.

The model is the protocol's: pain and sensory (non-painful touch) blocks from the
BIDS ``*_events.tsv`` (rest is the implicit baseline), convolved with SPM's canonical
HRF; confounds RETROICOR + six motion parameters + CSF; scrubbed volumes left out
through nilearn's ``sample_masks``; smoothing 5 mm FWHM by default (the protocol asks
4-5 mm for the brainstem, not the usual 8); cosine drift with a 128 s cut-off;
AR(1) noise model (as SPM) unless asked otherwise.

Contrasts Pain > Baseline (``pain``) and Pain > Sensory (``pain - sensory``) are
written as T maps with the degrees of freedom in the header description as SPM does
(``SPM{T_[df]} - pain > baseline``), so the SVC tools read them, plus the effect
(contrast) maps. ``df`` is nilearn's residual df: kept scans minus the rank of the
design. Voxels outside the GLM mask are NaN, as in SPM's ``spmT`` / ``con`` images.
nilearn scales each voxel to percent of its mean (``signal_scaling=0``), so effect
maps are in percent signal change; t values do not depend on that scaling. With AR(1)
the df is still n - rank (nilearn applies no effective-df correction, unlike SPM).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.tables import read_table
from ..jobs import Progress
from ..protocol import GLM_HIGH_PASS_HZ, GLM_SMOOTHING_FWHM_MM
from ..results import FieldsToDict

#: trial_type values read as the implicit baseline (not modelled).
BASELINE_TRIAL_TYPES = ("rest", "baseline", "fixation")

#: (file label, nilearn definition, SPM-style title) of the protocol's contrasts.
PROTOCOL_CONTRASTS = (
    ("pain", "pain", "pain > baseline"),
    ("painMinusSensory", "pain - sensory", "pain > sensory"),
)

SMOOTHING_FWHM_MM = GLM_SMOOTHING_FWHM_MM
HIGH_PASS_HZ = GLM_HIGH_PASS_HZ


def read_events(path: str | os.PathLike, n_volumes: int, tr: float):
    """Read a BIDS events file and check every event lies inside the run.

    Parameters
    ----------
    path : path-like
        ``*_events.tsv`` with ``onset``, ``duration`` and ``trial_type`` columns.
    n_volumes : int
    tr : float

    Returns
    -------
    pandas.DataFrame
        ``onset``, ``duration``, ``trial_type`` of the modelled events (rest /
        baseline / fixation rows are dropped: the baseline is implicit).

    Raises
    ------
    MilnaInputError
        Missing columns, non-numeric onset or duration (line named), negative
        duration, an event starting before 0 s or ending after the run.
    """
    import pandas as pd

    path = Path(path)
    table = read_table(path, sep="\t", as_text=True)
    missing = [c for c in ("onset", "duration", "trial_type") if c not in table.columns]
    if missing:
        raise input_error(path, f"has no {', '.join(missing)} column (BIDS events need "
                                "onset, duration and trial_type)")
    run_end = n_volumes * tr
    rows = []
    for i, row in table.iterrows():
        line = i + 2
        try:
            onset, duration = float(row["onset"]), float(row["duration"])
        except ValueError:
            raise input_error(path, f"line {line} holds a non-numeric onset or duration") from None
        if not (np.isfinite(onset) and np.isfinite(duration)) or duration < 0:
            raise input_error(path, f"line {line} holds an invalid onset or duration")
        kind = str(row["trial_type"]).strip()
        if not kind or kind == "n/a":
            raise input_error(path, f"line {line} has no trial_type")
        if kind.lower() in BASELINE_TRIAL_TYPES:
            continue
        if onset < 0 or onset + duration > run_end + 1e-6:
            raise input_error(
                path,
                f"line {line}: the {kind} event from {onset:g} s to {onset + duration:g} s "
                f"lies outside the run (0 to {run_end:g} s: {n_volumes} volumes x {tr:g} s)",
            )
        rows.append((onset, duration, kind))
    if not rows:
        raise input_error(path, "holds no task event (only rest / baseline rows)")
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type"])


def task_design(events, n_volumes: int, tr: float, slice_time_ref: float = 0.0,
                hrf_model: str = "spm"):
    """HRF-convolved task regressors (one column per trial type), nilearn's design."""
    from nilearn.glm.first_level import make_first_level_design_matrix

    frame_times = (np.arange(n_volumes) + slice_time_ref) * tr
    dm = make_first_level_design_matrix(frame_times, events, hrf_model=hrf_model,
                                        drift_model=None)
    return dm.drop(columns=["constant"])


def build_confounds(n_volumes: int, *parts) -> object:
    """Join confound tables (DataFrames, MotionParameters, named 1D arrays) column-wise.

    Parameters
    ----------
    n_volumes : int
    *parts : DataFrame, MotionParameters, (name, ndarray) or None
        ``None`` parts are skipped.

    Returns
    -------
    pandas.DataFrame or None
        One row per volume; missing values (fMRIPrep's first-row ``n/a`` of
        derivative columns) set to 0.
    """
    import pandas as pd

    from .motion import MotionParameters

    frames = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, MotionParameters):
            part = part.to_frame()
        elif isinstance(part, tuple):
            name, values = part
            part = pd.DataFrame({name: np.asarray(values, dtype=float)})
        part = part.reset_index(drop=True)
        if len(part) != n_volumes:
            raise input_error(None, f"a confound table has {len(part)} rows for a run of "
                                    f"{n_volumes} volumes")
        frames.append(part)
    if not frames:
        return None
    out = pd.concat(frames, axis=1)
    dup = out.columns[out.columns.duplicated()].tolist()
    if dup:
        raise input_error(None, f"confound column names repeat: {', '.join(map(str, dup))}")
    return out.astype(float).fillna(0.0)


@dataclass
class ContrastMaps:
    """One contrast of a fitted first-level model."""

    name: str
    definition: str
    title: str
    t: np.ndarray = field(repr=False)
    effect: np.ndarray = field(repr=False)
    t_path: Path | None = None
    effect_path: Path | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        finite = self.t[np.isfinite(self.t)]
        return {
            "name": self.name,
            "definition": self.definition,
            "title": self.title,
            "t_map": str(self.t_path) if self.t_path else None,
            "effect_map": str(self.effect_path) if self.effect_path else None,
            "max_t": float(finite.max()) if finite.size else None,
        }


@dataclass
class FirstLevelFit:
    """A fitted first-level model and its contrasts.

    Attributes
    ----------
    contrasts : list of ContrastMaps
    df : float
        Residual degrees of freedom reported by nilearn (kept scans - design rank).
    n_scans, n_scans_kept, rank : int
    design_columns, confound_columns : list of str
    mask : ndarray of bool
        The GLM mask on the BOLD grid.
    """

    contrasts: list[ContrastMaps]
    df: float
    n_scans: int
    n_scans_kept: int
    rank: int
    design_columns: list[str]
    confound_columns: list[str]
    mask: np.ndarray = field(repr=False)
    smoothing_fwhm: float | None = SMOOTHING_FWHM_MM
    noise_model: str = "ar1"
    high_pass: float = HIGH_PASS_HZ
    slice_time_ref: float = 0.0
    model: object = field(default=None, repr=False)
    design: object = field(default=None, repr=False)
    mask_path: Path | None = None

    def contrast(self, name: str) -> ContrastMaps:
        """The contrast called ``name``."""
        for c in self.contrasts:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "df": float(self.df),
            "n_scans": int(self.n_scans),
            "n_scans_kept": int(self.n_scans_kept),
            "rank": int(self.rank),
            "smoothing_fwhm": self.smoothing_fwhm,
            "noise_model": self.noise_model,
            "high_pass_hz": float(self.high_pass),
            "slice_time_ref": float(self.slice_time_ref),
            "design_columns": list(self.design_columns),
            "confound_columns": list(self.confound_columns),
            "mask": str(self.mask_path) if self.mask_path else None,
            "contrasts": [c.to_dict() for c in self.contrasts],
        }


def _contrasts_for(trial_types) -> list[tuple[str, str, str]]:
    have = set(trial_types)
    out = []
    for name, definition, title in PROTOCOL_CONTRASTS:
        needed = {w for w in definition.replace("-", " ").split()}
        if needed <= have:
            out.append((name, definition, title))
    return out


def check_model_settings(source, tr: float, high_pass: float, smoothing_fwhm) -> None:
    """Refuse a high-pass cut-off or a smoothing the model cannot use, in one sentence.

    Raises
    ------
    MilnaInputError
        A negative or non-finite cut-off, one at or above the run's Nyquist frequency
        (1 / 2 TR), a negative, non-finite or absurd (> 1 m) smoothing FWHM.
    """
    if high_pass is None or not np.isfinite(high_pass) or high_pass < 0:
        raise input_error(None, f"the high-pass cut-off must be 0 Hz or more, not {high_pass}")
    check_below_nyquist(source, tr, "high-pass", high_pass)
    check_smoothing_fwhm(smoothing_fwhm)


def open_run_and_tr(bold, tr: float | None, needs: str,
                    no_tr: str = "has no TR in its header") -> tuple:
    """The 4D run ``bold`` opened, and its TR (``tr`` when given, else its header's).

    Parameters
    ----------
    bold : path-like, NiftiSource or nibabel image
    tr : float or None
    needs : str
        Who needs the run, in the sentence (``"the GLM"``, ``"connectivity"``).
    no_tr : str
        The sentence when neither ``tr`` nor the header gives a TR.

    Returns
    -------
    (NiftiSource, float)

    Raises
    ------
    MilnaInputError
        A 3D image, or no TR.
    """
    from ..io.nifti import open_nifti

    source = open_nifti(bold)  # a path, an opened source or a nibabel image
    if not source.is_run:
        raise input_error(source.path, f"is a 3D image; {needs} needs a 4D run")
    tr = tr or source.tr
    if not tr:
        raise input_error(source.path, no_tr)
    return source, tr


def check_below_nyquist(source, tr: float, what: str, cutoff: float) -> None:
    """Refuse a ``what`` (``"high-pass"``) cut-off at or above the run's Nyquist frequency.

    Raises
    ------
    MilnaInputError
        Naming the run, its TR and its Nyquist frequency 1 / (2 TR).
    """
    nyquist = 0.5 / tr
    if cutoff >= nyquist:
        raise input_error(source.path, f"has a TR of {tr:g} s, so a {what} cut-off of "
                                       f"{cutoff:g} Hz lies at or above its Nyquist "
                                       f"frequency {nyquist:g} Hz")


def check_smoothing_fwhm(smoothing_fwhm) -> None:
    """Refuse a negative, non-finite or absurd (> 1 m) smoothing FWHM (None: no smoothing).

    Raises
    ------
    MilnaInputError
    """
    if smoothing_fwhm is not None and not (np.isfinite(smoothing_fwhm)
                                           and 0 <= smoothing_fwhm <= 1000):
        raise input_error(None, f"the smoothing FWHM must lie between 0 and 1000 mm, not "
                                f"{smoothing_fwhm}")


def check_degrees_of_freedom(source, events, tr: float, kept, *, confounds=None,
                             high_pass: float = HIGH_PASS_HZ, hrf_model: str = "spm",
                             slice_time_ref: float = 0.0, owner=None) -> int:
    """Residual degrees of freedom of the model on the volumes kept; refuse fewer than 1.

    The design is nilearn's (task regressors, cosine drifts, confounds, constant) on the
    run's frame times, built without reading any voxel: a run too short for its model is
    refused before the fit, with the numbers. ``owner`` is the file named (default the
    run; the motion file when scrubbing took the volumes).

    Returns
    -------
    int
        Volumes kept minus the rank of the design.
    """
    from nilearn.glm.first_level import make_first_level_design_matrix

    n_scans = source.n_volumes
    kept = np.asarray(kept, dtype=int)
    if kept.size == 0:
        raise input_error(owner or source.path, "leaves no volume for the model (every "
                                                "volume is scrubbed)")
    frame_times = np.linspace(slice_time_ref * tr, (n_scans - 1 + slice_time_ref) * tr, n_scans)
    add = None if confounds is None else np.asarray(confounds, dtype=float)
    names = None if confounds is None else [str(c) for c in confounds.columns]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design = make_first_level_design_matrix(frame_times, events, hrf_model=hrf_model,
                                                drift_model="cosine", high_pass=high_pass,
                                                add_regs=add, add_reg_names=names)
    rows = design.to_numpy()[kept]
    rank = int(np.linalg.matrix_rank(rows)) if rows.size else 0
    df = int(kept.size) - rank
    if df < 1:
        scrubbed = n_scans - int(kept.size)
        why = f" ({scrubbed} scrubbed)" if scrubbed else ""
        raise input_error(owner or source.path,
                          f"leaves {kept.size} volumes{why} for a model of {rank} independent "
                          "regressors (task, cosine drifts, confounds): no residual degrees of "
                          "freedom; give a longer run, fewer confounds, a lower high-pass "
                          "cut-off or a higher FD threshold")
    return df


def fit_first_level(
    bold,
    events,
    *,
    confounds=None,
    sample_mask=None,
    smoothing_fwhm: float | None = SMOOTHING_FWHM_MM,
    high_pass: float = HIGH_PASS_HZ,
    hrf_model: str = "spm",
    noise_model: str = "ar1",
    mask_img=None,
    slice_time_ref: float = 0.0,
    tr: float | None = None,
    contrasts=None,
    progress: Progress | None = None,
) -> FirstLevelFit:
    """Fit the block-design GLM with nilearn and compute the protocol's contrasts.

    Parameters
    ----------
    bold : path-like or NiftiSource
        The 4D run.
    events : pandas.DataFrame
        From :func:`read_events`.
    confounds : pandas.DataFrame, optional
        One row per volume (all volumes; scrubbed rows are dropped by ``sample_mask``).
    sample_mask : array of int, optional
        Indices of the volumes kept.
    smoothing_fwhm : float or None
        Gaussian smoothing in mm (default 5).
    high_pass : float
        Cosine drift cut-off in Hz (1/128).
    hrf_model : str
        nilearn HRF model (``"spm"``: SPM's canonical HRF).
    noise_model : {"ar1", "ols"}
    mask_img : path-like, nibabel image, False or None
        GLM mask; None lets nilearn compute an EPI mask; False fits every voxel.
    slice_time_ref : float
        Fraction of the TR at which the frames are referenced (nilearn); after
        fMRIPrep slice-timing correction use ``StartTime / TR`` of the BOLD sidecar.
    tr : float, optional
        Read from the header when not given.
    contrasts : list of (name, definition, title), optional
        Default: ``pain`` and ``pain - sensory`` when the events have those types.
    progress : callable(done, total), optional
        Coarse: called after each stage (fit, each contrast).

    Returns
    -------
    FirstLevelFit
    """
    from nilearn.glm.first_level import FirstLevelModel

    source, tr = open_run_and_tr(bold, tr, "the GLM", "has no TR in its header; give the TR")
    n_scans = source.n_volumes
    kept = np.arange(n_scans) if sample_mask is None else np.asarray(sample_mask, dtype=int)
    contrasts = list(contrasts) if contrasts is not None else _contrasts_for(
        events["trial_type"].unique()
    )
    if not contrasts:
        raise input_error(None, "the events hold no 'pain' trial type, so no protocol contrast "
                                "can be computed")
    total = 1 + len(contrasts)
    if confounds is not None and len(confounds) != n_scans:
        raise input_error(None, f"the confounds have {len(confounds)} rows for a run of "
                                f"{n_scans} volumes")
    check_model_settings(source, tr, high_pass, smoothing_fwhm)
    check_degrees_of_freedom(source, events, tr, kept, confounds=confounds,
                             high_pass=high_pass, hrf_model=hrf_model,
                             slice_time_ref=slice_time_ref)
    model = FirstLevelModel(
        t_r=tr, slice_time_ref=slice_time_ref, hrf_model=hrf_model, drift_model="cosine",
        high_pass=high_pass, smoothing_fwhm=smoothing_fwhm, noise_model=noise_model,
        mask_img=mask_img, minimize_memory=True, signal_scaling=0,
    )
    with warnings.catch_warnings():
        # nilearn notes that it uses the given mask instead of computing one: expected.
        warnings.filterwarnings("ignore", message=".*Generation of a mask has been requested")
        model.fit(source.image, events=events, confounds=confounds,
                  sample_masks=None if sample_mask is None else kept)
    if progress is not None:
        progress(1, total)
    design = model.design_matrices_[0]
    rank = int(np.linalg.matrix_rank(design.to_numpy()))
    results = model.results_[0]
    dfs = {float(r.df_residuals) for r in results.values()}
    if len(dfs) != 1:
        raise RuntimeError(f"nilearn reports several residual df: {sorted(dfs)}")
    df = dfs.pop()
    mask = np.asarray(model.masker_.mask_img_.dataobj) > 0
    maps = []
    for i, (name, definition, title) in enumerate(contrasts, start=2):
        out = model.compute_contrast(definition, stat_type="t", output_type="all")
        t = np.asarray(out["stat"].dataobj, dtype=np.float32).copy()
        effect = np.asarray(out["effect_size"].dataobj, dtype=np.float32).copy()
        t[~mask] = np.nan
        effect[~mask] = np.nan
        maps.append(ContrastMaps(name, definition, title, t, effect))
        if progress is not None:
            progress(i, total)
    confound_columns = [] if confounds is None else [str(c) for c in confounds.columns]
    return FirstLevelFit(
        maps, df, n_scans, int(kept.size), rank, [str(c) for c in design.columns],
        confound_columns, mask, smoothing_fwhm, noise_model, high_pass, slice_time_ref,
        model, design,
    )


def spm_t_description(df: float, title: str) -> str:
    """SPM's header description of a T map: ``SPM{T_[df]} - title``."""
    return f"SPM{{T_[{float(df):.1f}]}} - {title}"


def write_first_level(
    fit: FirstLevelFit,
    source,
    out_dir: str | os.PathLike,
    prefix: str,
    overwrite: bool = False,
) -> list[Path]:
    """Write the T and effect maps (and the GLM mask) next to each other.

    Names follow BIDS statistical derivatives:
    ``<prefix>_contrast-<name>_stat-t_statmap.nii.gz``,
    ``<prefix>_contrast-<name>_stat-effect_statmap.nii.gz`` and
    ``<prefix>_desc-glm_mask.nii.gz``. Every file is checked for existence before
    anything is written.
    """
    from ..io.nifti_write import save_like

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise input_error(out_dir, "is not an existing folder")
    plan = []
    for c in fit.contrasts:
        c.t_path = out_dir / f"{prefix}_contrast-{c.name}_stat-t_statmap.nii.gz"
        c.effect_path = out_dir / f"{prefix}_contrast-{c.name}_stat-effect_statmap.nii.gz"
        plan.append((c.t, c.t_path, spm_t_description(fit.df, c.title)))
        plan.append((c.effect, c.effect_path, f"con - {c.title}"))
    fit.mask_path = out_dir / f"{prefix}_desc-glm_mask.nii.gz"
    plan.append((fit.mask.astype(np.uint8), fit.mask_path, "GLM mask"))
    if not overwrite:
        from ..io.atomic import remove_stale

        remove_stale(out_dir)  # a killed run's half-moved set is undone first
        for _, path, _ in plan:
            if path.exists():
                raise input_error(path, "already exists; choose another folder or allow "
                                        "overwriting")
    image = source.image
    return [save_like(data, image, path, overwrite=overwrite, description=desc)
            for data, path, desc in plan]


@dataclass
class RoiPeak(FieldsToDict):
    """Largest t inside an ROI."""

    roi: str
    contrast: str
    peak_t: float | None
    peak_mm: list[float] | None
    n_voxels: int


def roi_peak(t_map: np.ndarray, roi: np.ndarray, grid, roi_name: str, contrast: str) -> RoiPeak:
    """The maximum finite t in ``roi`` and its world position."""
    values = np.where(roi & np.isfinite(t_map), t_map, -np.inf)
    n = int(np.count_nonzero(roi & np.isfinite(t_map)))
    if n == 0:
        return RoiPeak(roi_name, contrast, None, None, 0)
    ijk = np.unravel_index(int(np.argmax(values)), values.shape)
    xyz = grid.to_world(np.asarray(ijk, dtype=float))
    return RoiPeak(roi_name, contrast, float(values[ijk]), [float(v) for v in xyz], n)
