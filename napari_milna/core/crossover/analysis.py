"""Drug-vs-placebo crossover: per-subject contrasts, paired group maps and ROI statistics.

Per subject (:func:`subject_views`), from a validated
:class:`~napari_milna.core.crossover.study_table.CrossoverStudy`:

* interaction contrast: ``drug = Drug_active - Drug_control``,
  ``placebo = Placebo_active - Placebo_control``, ``difference = Drug_active -
  Placebo_active`` and ``interaction = drug - placebo``, i.e.
  ``(Drug_Pain - Drug_Baseline) - (Placebo_Pain - Placebo_Baseline)`` (or Pain > Sensory);
* difference of a ready contrast: ``drug``, ``placebo`` and ``difference = drug - placebo``.

Group (:func:`paired_group_map`): the paired t is the one-sample t of the per-subject
contrasts, ``mean / (sd(ddof=1) / sqrt(N))`` with df = N - 1. With the period
covariate (:func:`period_model`) the second-level design is ``[1, s]`` with ``s = +1``
when the subject had the drug in period 2 and ``-1`` in period 1: the intercept is the
treatment effect (the mean of the two sequence means, as in Grizzle's crossover
analysis), the slope the period effect (period 2 - period 1), both with df = N - 2.

Per ROI (:func:`paired_statistics`): the per-subject mean over the ROI's voxels with
data, the mean difference (drug - placebo) with its 95 % CI, paired t and two-sided p,
Cohen's dz (mean / sd with ddof 1), the Wilcoxon signed-rank p (scipy), the exact
sign-flip p (every one of the 2^N flips, identity included, two-sided on |t|, through
:func:`~napari_milna.core.svc.permutation.sign_flip_test`) and, across ROIs, Holm's
step-down correction (:func:`holm`) of the paired-t p values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from ..errors import MilnaInputError, input_error
from ..io.geometry import Grid
from ..io.nifti_write import build_image, save_image
from ..io.tables import write_table
from ..jobs import Cancelled, Progress
from ..roi.io import load_roi
from ..svc.permutation import MIN_SUBJECTS as PERM_MIN_SUBJECTS
from ..svc.permutation import sign_flip_test
from .study_table import CrossoverStudy

#: Map views per subject, in display order.
VIEWS = ("drug", "placebo", "difference", "interaction")



def available_views(study: CrossoverStudy) -> tuple[str, ...]:
    """Views a study gives: the interaction only with an interaction contrast."""
    return VIEWS if study.contrast.kind == "interaction" else VIEWS[:3]


def main_view(study: CrossoverStudy) -> str:
    """The per-subject contrast tested at the group level (drug - placebo of ``within``)."""
    return "interaction" if study.contrast.kind == "interaction" else "difference"


def view_label(study: CrossoverStudy, view: str) -> str:
    """Human description of a view: ``drug: pain - baseline``."""
    c = study.contrast
    if view in ("drug", "placebo"):
        return f"{view}: {c.within}"
    if view == "difference":
        return f"drug - placebo: {c.active}"
    return c.label


# ------------------------------------------------------------------- per-subject maps
def subject_views(study: CrossoverStudy, subject: str) -> dict[str, np.ndarray]:
    """The maps of one subject for every view (float64, study grid).

    Parameters
    ----------
    study : CrossoverStudy
    subject : str

    Returns
    -------
    dict of str to ndarray
        Keys :func:`available_views`.
    """
    c = study.contrast
    if c.kind == "interaction":
        dp = study.load_map(subject, "drug", c.active)
        dc = study.load_map(subject, "drug", c.control)
        pp = study.load_map(subject, "placebo", c.active)
        pc = study.load_map(subject, "placebo", c.control)
        drug, placebo = dp - dc, pp - pc
        return {"drug": drug, "placebo": placebo, "difference": dp - pp,
                "interaction": drug - placebo}
    drug = study.load_map(subject, "drug", c.active)
    placebo = study.load_map(subject, "placebo", c.active)
    return {"drug": drug, "placebo": placebo, "difference": drug - placebo}


@dataclass
class SubjectMaps:
    """Every subject's maps, stacked per view.

    Attributes
    ----------
    subjects : list of str
    views : dict of str to ndarray
        ``(n_subjects, i, j, k)`` float32 per view.
    mask : ndarray of bool
        Analysis mask: finite in every subject and view, and not zero in every subject
        (zero everywhere is "outside the brain" for SPM and FSL).
    main : str
        The view tested at the group level.
    grid : Grid
    """

    subjects: list[str]
    views: dict[str, np.ndarray] = field(repr=False)
    mask: np.ndarray = field(repr=False)
    main: str
    grid: Grid

    @property
    def contrasts(self) -> np.ndarray:
        """The per-subject contrasts tested: ``views[main]``."""
        return self.views[self.main]

    @classmethod
    def from_views(cls, subjects, per_subject: Sequence[dict], main: str, grid: Grid):
        """Stack per-subject view dictionaries (as :func:`subject_views` gives)."""
        names = list(per_subject[0])
        views = {v: np.stack([np.asarray(d[v], np.float32) for d in per_subject])
                 for v in names}
        finite = np.ones(grid.shape, bool)
        nonzero = np.zeros(grid.shape, bool)
        for stack in views.values():
            finite &= np.all(np.isfinite(stack), axis=0)
            nonzero |= np.any(stack != 0, axis=0)
        return cls(list(subjects), views, finite & nonzero, main, grid)


def build_subject_maps(
    study: CrossoverStudy, progress: Progress | None = None
) -> SubjectMaps:
    """Read every subject's maps and compute the views.

    Parameters
    ----------
    study : CrossoverStudy
    progress : callable, optional
        ``progress(done, total)`` after each subject; a true return value stops with
        :class:`Cancelled`.

    Returns
    -------
    SubjectMaps
    """
    per_subject = []
    total = study.n_subjects
    for i, subject in enumerate(study.subjects):
        per_subject.append(subject_views(study, subject))
        if progress is not None and progress(i + 1, total):
            raise Cancelled(f"stopped after {i + 1} of {total} subjects")
    return SubjectMaps.from_views(study.subjects, per_subject, main_view(study), study.grid)


# ----------------------------------------------------------------------- group maps
@dataclass
class GroupMap:
    """Paired group map of one view: mean and one-sample t, 0 outside the mask.

    Attributes
    ----------
    view : str
    mean, t : ndarray (grid shape, float32)
    df : float
        N - 1.
    n : int
    """

    view: str
    mean: np.ndarray = field(repr=False)
    t: np.ndarray = field(repr=False)
    df: float
    n: int


def paired_group_map(stack: np.ndarray, mask: np.ndarray, view: str = "") -> GroupMap:
    """One-sample t over subjects (axis 0): ``mean / (sd(ddof=1) / sqrt(N))``.

    Parameters
    ----------
    stack : ndarray, (n_subjects, i, j, k)
        Per-subject contrasts (paired differences).
    mask : ndarray of bool
        Voxels tested; 0 elsewhere and where the sd is 0.
    view : str

    Returns
    -------
    GroupMap
    """
    n = stack.shape[0]
    idx = np.flatnonzero(mask)
    x = stack.reshape(n, -1)[:, idx].astype(np.float64)
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    t = np.zeros_like(mean)
    ok = sd > 0
    t[ok] = mean[ok] / (sd[ok] / np.sqrt(n))
    return GroupMap(view, _scatter(mean, idx, mask.shape), _scatter(t, idx, mask.shape),
                    float(n - 1), n)


def _scatter(values: np.ndarray, idx: np.ndarray, shape) -> np.ndarray:
    out = np.zeros(int(np.prod(shape)), np.float32)
    out[idx] = values
    return out.reshape(shape)


def period_covariate(drug_period: Sequence[int]) -> np.ndarray:
    """``+1`` when the drug came in period 2, ``-1`` when in period 1."""
    periods = np.asarray(drug_period, dtype=float)
    if not np.all(np.isin(periods, (1, 2))):
        raise input_error(None, "the period covariate needs the drug period (1 or 2) of "
                          "every subject")
    return np.where(periods == 2, 1.0, -1.0)


def ols_t(y: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Ordinary least squares of every column of ``y`` on ``design``.

    Parameters
    ----------
    y : ndarray (n, V)
    design : ndarray (n, p)

    Returns
    -------
    beta, t : ndarray (p, V)
        Estimates and their t (0 where the residual variance is 0).
    df : float
        ``n - rank(design)``.
    """
    x = np.asarray(design, dtype=float)
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        raise input_error(None, "the second-level design is rank deficient (every subject has "
                          "the same sequence, so the period cannot be told from the drug)")
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    df = float(x.shape[0] - rank)
    sigma2 = (resid * resid).sum(axis=0) / df
    se = np.sqrt(np.outer(np.diag(xtx_inv), sigma2))
    t = np.divide(beta, se, out=np.zeros_like(beta), where=se > 0)
    return beta, t, df


@dataclass
class PeriodModel:
    """Treatment with the period (sequence) as a second-level covariate.

    Attributes
    ----------
    treatment_effect, treatment_t : ndarray (grid shape, float32)
        Intercept: drug - placebo with the period effect removed.
    period_effect, period_t : ndarray (grid shape, float32)
        Period 2 - period 1 effect on the within-session contrast.
    df : float
        N - 2.
    covariate : ndarray (N,)
    """

    treatment_effect: np.ndarray = field(repr=False)
    treatment_t: np.ndarray = field(repr=False)
    period_effect: np.ndarray = field(repr=False)
    period_t: np.ndarray = field(repr=False)
    df: float
    covariate: np.ndarray = field(repr=False)


def period_model(stack: np.ndarray, mask: np.ndarray, drug_period: Sequence[int]) -> PeriodModel:
    """Voxelwise OLS of the per-subject contrasts on ``[1, s]`` (s: period covariate)."""
    s = period_covariate(drug_period)
    n = stack.shape[0]
    if len(s) != n:
        raise ValueError(f"{len(s)} periods for {n} subjects")
    idx = np.flatnonzero(mask)
    y = stack.reshape(n, -1)[:, idx].astype(np.float64)
    design = np.column_stack([np.ones(n), s])
    beta, t, df = ols_t(y, design)
    shape = mask.shape
    return PeriodModel(_scatter(beta[0], idx, shape), _scatter(t[0], idx, shape),
                       _scatter(beta[1], idx, shape), _scatter(t[1], idx, shape), df, s)


# --------------------------------------------------------------------- ROI statistics
@dataclass
class Roi:
    """A region on the study grid."""

    name: str
    mask: np.ndarray = field(repr=False)
    source: str = ""


def rois_from_labels(labels: np.ndarray, names: dict[int, str], source: str = "") -> list[Roi]:
    """One :class:`Roi` per non-zero label present in ``labels`` (named from ``names``)."""
    labels = np.asarray(labels)
    out = []
    for value in sorted(int(v) for v in np.unique(labels) if v != 0):
        out.append(Roi(str(names.get(value, f"label {value}")), labels == value, source))
    return out


def rois_from_files(paths: Sequence, grid: Grid, *, resample: bool = False) -> list[Roi]:
    """ROIs from mask or dseg files (names from the dseg ``.tsv`` or ``desc-``).

    Parameters
    ----------
    paths : sequence of path-like
    grid : Grid
        The study grid the ROIs must lie on.
    resample : bool
        Resample ROIs on another grid (nearest neighbour) instead of refusing them.

    Returns
    -------
    list of Roi
        Names made unique by appending the file name when two files share one.
    """
    out: list[Roi] = []
    for path in paths:
        roi = load_roi(path, reference=grid, resample="nearest" if resample else None)
        found = rois_from_labels(roi.labels, roi.names, str(roi.path))
        if not found:
            raise input_error(roi.path, "holds no ROI voxel")
        out.extend(found)
    names = [r.name for r in out]
    for r in out:
        if names.count(r.name) > 1:
            r.name = f"{r.name} ({Path(r.source).name})"
    return out


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p values (None stays None).

    Sorted ascending, ``p_adj(i) = max_{j <= i} min(1, (m - j) p(j))`` with ``j``
    counting from 0 and ``m`` the number of p values given.
    """
    values = [(i, float(p)) for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    m = len(values)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (i, p) in enumerate(sorted(values, key=lambda v: v[1])):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def _ci95(x: np.ndarray) -> tuple[float, float]:
    n = x.size
    if n < 2:
        return (float("nan"), float("nan"))
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return (float(x.mean() - half), float(x.mean() + half))


def _float(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


@dataclass
class RoiStats:
    """Paired drug-vs-placebo statistics of one ROI.

    Attributes
    ----------
    name : str
    n : int
        Subjects.
    n_voxels : int
        ROI voxels with data in every subject (averaged per subject).
    subjects : list of str
    drug, placebo, difference : ndarray (n,)
        Per-subject ROI means; ``difference = drug - placebo``.
    mean_difference, sd_difference, t, p, dz : float
        Paired t (df n - 1), two-sided p, Cohen's dz = mean / sd (ddof 1).
    ci95 : (float, float)
        95 % CI of the mean difference.
    p_wilcoxon : float or None
    p_perm : float or None
        Exact (all 2^n flips) or, above 2^20 flips, random sign-flip p; None for fewer
        than 5 subjects.
    n_perm : int
    p_holm : float or None
        Holm-adjusted p across the ROIs analysed together.
    period : dict or None
        With a period covariate: treatment effect and t / p (df n - 2) and the period
        effect (period 2 - period 1) with its t / p.
    """

    name: str
    n: int
    n_voxels: int
    subjects: list[str]
    drug: np.ndarray = field(repr=False)
    placebo: np.ndarray = field(repr=False)
    difference: np.ndarray = field(repr=False)
    mean_difference: float = float("nan")
    sd_difference: float = float("nan")
    t: float = float("nan")
    p: float = float("nan")
    dz: float = float("nan")
    ci95: tuple[float, float] = (float("nan"), float("nan"))
    p_wilcoxon: float | None = None
    p_perm: float | None = None
    n_perm: int = 0
    p_holm: float | None = None
    period: dict | None = None

    @property
    def df(self) -> int:
        """Degrees of freedom of the paired t."""
        return self.n - 1

    def mean_ci(self, which: str) -> tuple[float, tuple[float, float]]:
        """Mean and 95 % CI of ``drug``, ``placebo`` or ``difference``."""
        x = np.asarray(getattr(self, which), dtype=float)
        return float(x.mean()), _ci95(x)

    def to_dict(self, per_subject: bool = True) -> dict:
        """JSON-ready form (the keys the CLI prints, then details)."""
        out = {
            "name": self.name,
            "n": int(self.n),
            "mean_difference": _float(self.mean_difference),
            "t": _float(self.t),
            "p": _float(self.p),
            "dz": _float(self.dz),
            "p_wilcoxon": self.p_wilcoxon,
            "p_perm": self.p_perm,
            "p_holm": self.p_holm,
            "df": int(self.df),
            "n_voxels": int(self.n_voxels),
            "sd_difference": _float(self.sd_difference),
            "ci95": [_float(v) for v in self.ci95],
            "n_perm": int(self.n_perm),
            "drug_mean": _float(np.mean(self.drug)),
            "placebo_mean": _float(np.mean(self.placebo)),
        }
        if self.period is not None:
            out["period"] = dict(self.period)
        if per_subject:
            out["subjects"] = [
                {"subject": s, "drug": float(d), "placebo": float(p), "difference": float(x)}
                for s, d, p, x in zip(self.subjects, self.drug, self.placebo, self.difference)
            ]
        return out


def sign_flip_p(difference: np.ndarray) -> tuple[float | None, int]:
    """Two-sided sign-flip p of the one-sample t of ``difference`` (|t|), and the flips used.

    All ``2^N`` flips (identity included) when ``2^N <= 2^20``, else 10000 seeded random
    flips (:func:`~napari_milna.core.svc.permutation.sign_flip_test`). None for fewer than
    5 subjects or a difference without variance.
    """
    d = np.asarray(difference, dtype=float)
    if d.size < PERM_MIN_SUBJECTS or not np.any(d != 0):
        return None, 0
    result = sign_flip_test(d[:, None], two_sided=True, uncorrected=False)
    return float(result.p_fwe[0]), int(result.n_perm)


def wilcoxon_p(difference: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p (scipy; zero differences dropped), or None."""
    d = np.asarray(difference, dtype=float)
    if not np.any(d != 0):
        return None
    try:
        return _float(stats.wilcoxon(d).pvalue)
    except ValueError:
        return None


def paired_statistics(
    name: str,
    drug: Sequence[float],
    placebo: Sequence[float],
    subjects: Sequence[str] | None = None,
    n_voxels: int = 0,
    drug_period: Sequence[int] | None = None,
) -> RoiStats:
    """Paired statistics of per-subject drug and placebo values (see the module text).

    Parameters
    ----------
    name : str
    drug, placebo : sequence of float
        One value per subject, in the same order.
    subjects : sequence of str, optional
    n_voxels : int
    drug_period : sequence of int, optional
        Drug period (1 / 2) per subject: adds the period-covariate analysis.

    Returns
    -------
    RoiStats
    """
    drug = np.asarray(drug, dtype=float)
    placebo = np.asarray(placebo, dtype=float)
    if drug.shape != placebo.shape or drug.ndim != 1:
        raise ValueError("drug and placebo need one value per subject each")
    d = drug - placebo
    n = d.size
    subjects = list(subjects) if subjects is not None else [str(i + 1) for i in range(n)]
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        dz = mean / sd if sd > 0 else float("nan")
        t = dz * np.sqrt(n)
    p = float(2.0 * stats.t.sf(abs(t), n - 1)) if np.isfinite(t) else float("nan")
    p_perm, n_perm = sign_flip_p(d)
    result = RoiStats(
        name=name, n=n, n_voxels=int(n_voxels), subjects=subjects, drug=drug, placebo=placebo,
        difference=d, mean_difference=mean, sd_difference=sd, t=float(t), p=p, dz=float(dz),
        ci95=_ci95(d), p_wilcoxon=wilcoxon_p(d), p_perm=p_perm, n_perm=n_perm,
    )
    if drug_period is not None:
        beta, tt, df = ols_t(d[:, None], np.column_stack([np.ones(n), period_covariate(
            drug_period)]))
        ps = 2.0 * stats.t.sf(np.abs(tt[:, 0]), df)
        result.period = {
            "df": df,
            "treatment_effect": float(beta[0, 0]),
            "treatment_t": float(tt[0, 0]),
            "treatment_p": float(ps[0]),
            "period_effect": float(beta[1, 0]),
            "period_t": float(tt[1, 0]),
            "period_p": float(ps[1]),
        }
    return result


def roi_values(stack: np.ndarray, roi: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-subject mean over the ROI voxels inside ``mask`` and the number of voxels."""
    voxels = np.asarray(roi, bool) & mask
    k = int(voxels.sum())
    if k == 0:
        return np.full(stack.shape[0], np.nan), 0
    return stack[:, voxels].astype(np.float64).mean(axis=1), k


def roi_statistics(
    maps: SubjectMaps, rois: Sequence[Roi], drug_period: Sequence[int] | None = None
) -> list[RoiStats]:
    """Paired statistics per ROI (drug vs placebo views) with Holm across the ROIs.

    Raises
    ------
    MilnaInputError
        An ROI of another shape, or one without a voxel with data in every subject.
    """
    out = []
    for roi in rois:
        if roi.mask.shape != maps.grid.shape:
            raise input_error(roi.source or None, f"ROI {roi.name} has shape {roi.mask.shape}, "
                              f"not the study grid {maps.grid.shape}")
        drug, k = roi_values(maps.views["drug"], roi.mask, maps.mask)
        if k == 0:
            raise input_error(
                roi.source or None, f"ROI {roi.name} has no voxel with data in every "
                "subject's maps (is it on the study grid, inside the brain?)"
            )
        placebo, _ = roi_values(maps.views["placebo"], roi.mask, maps.mask)
        out.append(paired_statistics(roi.name, drug, placebo, maps.subjects, k, drug_period))
    for stat, adjusted in zip(out, holm([s.p for s in out])):
        stat.p_holm = adjusted
    return out


# ---------------------------------------------------------------------------- the run
@dataclass
class CrossoverResult:
    """Everything one crossover analysis gives.

    Attributes
    ----------
    study : CrossoverStudy
    maps : SubjectMaps
    group : dict of str to GroupMap
        One paired map per view.
    period : PeriodModel or None
    rois : list of RoiStats
    """

    study: CrossoverStudy
    maps: SubjectMaps
    group: dict[str, GroupMap]
    period: PeriodModel | None = None
    rois: list[RoiStats] = field(default_factory=list)

    @property
    def main(self) -> str:
        """The view tested."""
        return self.maps.main

    @property
    def df(self) -> float:
        """df of the group t map: N - 1, or N - 2 with the period covariate."""
        return self.period.df if self.period is not None else self.group[self.main].df

    def main_t(self) -> np.ndarray:
        """The group t map of the tested contrast (period-adjusted when asked)."""
        return self.period.treatment_t if self.period is not None else self.group[self.main].t

    def to_dict(self) -> dict:
        """JSON-ready summary (maps not included)."""
        return {
            "n_subjects": self.study.n_subjects,
            "contrast": self.study.contrast.to_dict(),
            "df": self.df,
            "period_covariate": self.period is not None,
            "n_mask_voxels": int(self.maps.mask.sum()),
            "rois": [r.to_dict(per_subject=False) for r in self.rois],
        }


def check_subject_contrasts(maps: SubjectMaps, study: CrossoverStudy) -> None:
    """Refuse subject contrasts that give no paired t: none with data, or all the same.

    A voxel enters the group map when every subject has a finite, not-all-zero contrast
    there; when no voxel does (every drug map equals its placebo map, say), or every such
    voxel has the same value in every subject (identical maps), the paired t is 0 / 0:
    the analysis is refused with the reason instead of writing a meaningless T map.

    Raises
    ------
    MilnaInputError
    """
    label = study.contrast.label
    if not maps.mask.any():
        raise input_error(study.table.source, f"gives no voxel where every subject's {label} "
                                              "contrast is finite and not zero (are the drug "
                                              "and placebo maps identical?), so there is "
                                              "nothing to test")
    values = np.asarray(maps.contrasts)[:, maps.mask]
    if not (np.ptp(values, axis=0) > 0).any():
        raise input_error(study.table.source, f"gives every subject the same {label} contrast "
                                              "in every voxel (zero variance across subjects: "
                                              "identical maps?), so the paired t is undefined")


def run_crossover(
    study: CrossoverStudy,
    rois: Sequence[Roi] = (),
    *,
    period: bool = False,
    progress: Progress | None = None,
    maps: SubjectMaps | None = None,
) -> CrossoverResult:
    """Per-subject maps, paired group maps of every view, the period model and ROI statistics.

    Parameters
    ----------
    study : CrossoverStudy
    rois : sequence of Roi
    period : bool
        Add the period covariate (needs every subject's period).
    progress : callable, optional
        As in :func:`build_subject_maps`.
    maps : SubjectMaps, optional
        Maps already built (skips reading).

    Returns
    -------
    CrossoverResult
    """
    drug_period = None
    if period:
        if not study.has_periods:
            lacking = [s for s in study.subjects if study.drug_period.get(s) is None]
            raise input_error(
                study.table.source, f"gives no period for {', '.join(lacking[:3])}"
                f"{' and others' if len(lacking) > 3 else ''}; the period covariate needs a "
                "period column (1 / 2) or a participants.tsv sequence"
            )
        drug_period = [study.drug_period[s] for s in study.subjects]
        if len(set(drug_period)) < 2:
            raise input_error(
                study.table.source, "has every subject in the same sequence; the period "
                "effect cannot be told from the drug effect"
            )
    if maps is None:
        maps = build_subject_maps(study, progress)
    check_subject_contrasts(maps, study)
    group = {view: paired_group_map(stack, maps.mask, view) for view, stack in maps.views.items()}
    model = period_model(maps.contrasts, maps.mask, drug_period) if period else None
    stats_ = roi_statistics(maps, rois, drug_period) if rois else []
    return CrossoverResult(study, maps, group, model, stats_)


# ---------------------------------------------------------------------------- writing
def spm_t_description(df: float, what: str) -> str:
    """``SPM{T_[14.0]} - crossover ...`` as SPM writes it (read back by the SVC tools)."""
    return f"SPM{{T_[{float(df):.1f}]}} - crossover {what}"


def output_names(result: CrossoverResult) -> dict[str, str]:
    """File names of every output, keyed by role."""
    name = result.study.contrast.name
    names = {f"subject:{s}": f"{s}_contrast-{name}_stat-effect_statmap.nii.gz"
             for s in result.study.subjects}
    names["group_t"] = f"group_contrast-{name}_stat-t_statmap.nii.gz"
    names["group_mean"] = f"group_contrast-{name}_stat-effect_statmap.nii.gz"
    if result.period is not None:
        names["group_t_period_adjusted"] = (
            f"group_contrast-{name}_desc-periodadjusted_stat-t_statmap.nii.gz")
        names["period_t"] = "group_contrast-period_stat-t_statmap.nii.gz"
        names["period_effect"] = "group_contrast-period_stat-effect_statmap.nii.gz"
    if result.rois:
        names["roi_table"] = "crossover_rois.tsv"
        names["subject_table"] = "crossover_subjects.tsv"
    return names


def _t_image(data, source_image, df: float, what: str):
    img = build_image(np.asarray(data, np.float32), source=source_image,
                      description=spm_t_description(df, what))
    img.header.set_intent("t test", (float(df),))
    return img


def _plain_image(data, source_image, what: str):
    img = build_image(np.asarray(data, np.float32), source=source_image, description=what[:79])
    img.header.set_intent("none")
    return img


def write_crossover(
    result: CrossoverResult, out_dir: str | os.PathLike, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write the per-subject contrasts, group maps and ROI tables into ``out_dir``.

    Every map keeps the header and grid of the study's first map; T maps carry
    ``SPM{T_[df]} - crossover ...`` in the description and a NIfTI t-test intent.
    Each file is written atomically; nothing is written when any output exists and
    ``overwrite`` is False.

    Returns
    -------
    dict of str to Path
        Keys as :func:`output_names` (``group_t``, ``group_mean``, ``subject:<id>``, ...).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise input_error(out, "is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    names = output_names(result)
    paths = {role: out / name for role, name in names.items()}
    if not overwrite:
        from ..io.atomic import remove_stale

        remove_stale(out)  # a killed run's half-moved set is undone first
        existing = [p for p in paths.values() if p.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise input_error(existing[0], f"already exists{more}; choose another folder or "
                              "allow overwriting")
    from ..io.atomic import output_set

    with output_set():  # every map and table appears at the end, or none
        _write_outputs(result, paths, overwrite)
    return paths


def _write_outputs(result: CrossoverResult, paths: dict[str, Path], overwrite: bool) -> None:
    study = result.study
    ref = study.reference.image
    label = study.contrast.label
    for i, subject in enumerate(study.subjects):
        img = _plain_image(result.maps.contrasts[i], ref, f"crossover {subject} {label}")
        save_image(img, paths[f"subject:{subject}"], overwrite=overwrite)
    main = result.group[result.main]
    save_image(_t_image(main.t, ref, main.df, label), paths["group_t"], overwrite=overwrite)
    save_image(_plain_image(main.mean, ref, f"crossover mean {label}"), paths["group_mean"],
               overwrite=overwrite)
    if result.period is not None:
        pm = result.period
        save_image(_t_image(pm.treatment_t, ref, pm.df, f"{label} | period"),
                   paths["group_t_period_adjusted"], overwrite=overwrite)
        save_image(_t_image(pm.period_t, ref, pm.df, "period 2 - period 1"),
                   paths["period_t"], overwrite=overwrite)
        save_image(_plain_image(pm.period_effect, ref, "crossover period 2 - period 1"),
                   paths["period_effect"], overwrite=overwrite)
    if result.rois:
        write_table(roi_table(result.rois), paths["roi_table"], overwrite=overwrite,
                    float_format=TABLE_FLOAT_FORMAT)
        write_table(subject_table(result), paths["subject_table"], overwrite=overwrite,
                    float_format=TABLE_FLOAT_FORMAT)


def view_map_names(result: CrossoverResult) -> dict[tuple[str, str], str]:
    """File names of the group maps of every view: ``(view, "mean" | "t") -> name``.

    With the period covariate the tested view's t is the period-adjusted one, and the
    ``period`` view (period 2 - period 1) is added.
    """
    names = {}
    for view in result.group:
        for stat in ("mean", "t"):
            kind = "t" if stat == "t" else "effect"
            names[(view, stat)] = f"group_contrast-{view}_stat-{kind}_statmap.nii"
    if result.period is not None:
        names[(result.main, "t")] = (
            f"group_contrast-{result.main}_desc-periodadjusted_stat-t_statmap.nii")
        names[(result.main, "mean")] = (
            f"group_contrast-{result.main}_desc-periodadjusted_stat-effect_statmap.nii")
        names[("period", "mean")] = "group_contrast-period_stat-effect_statmap.nii"
        names[("period", "t")] = "group_contrast-period_stat-t_statmap.nii"
    return names


def view_map(result: CrossoverResult, view: str, stat: str) -> tuple[np.ndarray, float]:
    """The group ``mean`` or ``t`` of a view and its df (period-adjusted for the tested view)."""
    pm = result.period
    if pm is not None and view in (result.main, "period"):
        if view == "period":
            return (pm.period_t if stat == "t" else pm.period_effect), pm.df
        return (pm.treatment_t if stat == "t" else pm.treatment_effect), pm.df
    group = result.group[view]
    return (group.t if stat == "t" else group.mean), group.df


def write_view_maps(
    result: CrossoverResult, folder: str | os.PathLike, *, overwrite: bool = False
) -> dict[tuple[str, str], Path]:
    """Write the group mean and t of every view (:func:`view_map_names`) into ``folder``.

    T maps carry ``SPM{T_[df]}`` in the description, as in :func:`write_crossover`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ref = result.study.reference.image
    out = {}
    for (view, stat), name in view_map_names(result).items():
        data, df = view_map(result, view, stat)
        what = view_label(result.study, view) if view != "period" else "period 2 - period 1"
        if stat == "t":
            img = _t_image(data, ref, df, what)
        else:
            img = _plain_image(data, ref, f"crossover mean {what}")
        out[(view, stat)] = save_image(img, folder / name, overwrite=overwrite)
    return out


def write_subject_maps(
    result: CrossoverResult, subject: str, folder: str | os.PathLike, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write one subject's maps of every view into ``folder`` (``view -> path``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    i = result.study.subjects.index(subject)
    ref = result.study.reference.image
    out = {}
    for view, stack in result.maps.views.items():
        what = f"crossover {subject} {view_label(result.study, view)}"
        path = folder / f"{subject}_contrast-{view}_stat-effect_statmap.nii"
        out[view] = save_image(_plain_image(stack[i], ref, what), path, overwrite=overwrite)
    return out


#: Float format of the crossover tables (six significant digits).
TABLE_FLOAT_FORMAT = "%.6g"


def roi_table(rois: Sequence[RoiStats]):
    """The ROI statistics as a DataFrame (one row per ROI), as written to the TSV."""
    import pandas as pd

    cols = ["name", "n", "n_voxels", "mean_difference", "ci95_low", "ci95_high", "t", "df",
            "p", "dz", "p_wilcoxon", "p_perm", "n_perm", "p_holm"]
    rows = []
    for r in rois:
        d = r.to_dict(per_subject=False)
        d["ci95_low"], d["ci95_high"] = r.ci95
        rows.append({c: d[c] for c in cols})
    return pd.DataFrame(rows, columns=cols, dtype=object)


def subject_table(result: CrossoverResult):
    """Per-subject ROI values: subject, sequence, drug / placebo / difference per ROI."""
    import pandas as pd

    table = {
        "subject": list(result.study.subjects),
        "sequence": [result.study.sequence(s) for s in result.study.subjects],
    }
    for r in result.rois:
        table[f"{r.name}_drug"] = [float(v) for v in r.drug]
        table[f"{r.name}_placebo"] = [float(v) for v in r.placebo]
        table[f"{r.name}_difference"] = [float(v) for v in r.difference]
    return pd.DataFrame(table, dtype=object)


__all__ = [
    "VIEWS",
    "CrossoverResult",
    "GroupMap",
    "MilnaInputError",
    "PeriodModel",
    "Roi",
    "RoiStats",
    "SubjectMaps",
    "available_views",
    "build_subject_maps",
    "holm",
    "main_view",
    "ols_t",
    "paired_group_map",
    "paired_statistics",
    "period_covariate",
    "period_model",
    "roi_statistics",
    "roi_table",
    "roi_values",
    "rois_from_files",
    "rois_from_labels",
    "run_crossover",
    "sign_flip_p",
    "spm_t_description",
    "subject_table",
    "subject_views",
    "view_label",
    "view_map",
    "view_map_names",
    "wilcoxon_p",
    "write_crossover",
    "write_subject_maps",
    "write_view_maps",
]
