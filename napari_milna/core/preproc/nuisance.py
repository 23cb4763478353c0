"""CSF nuisance regressor from a conservative CSF mask, with a task-correlation check.

The protocol regresses the CSF signal out of the pain run. In the brainstem the CSF
of the aqueduct and the fourth ventricle pulsates next to the PAG and the RVM, and a
generous CSF mask picks up partial-volume tissue: its mean can then follow the task,
and regressing it would remove pain signal. So the mask is conservative:

1. CSF probability above a high level (default 0.9; fMRIPrep ``*_label-CSF_probseg``,
   FSL ``*_pve_0``), resampled trilinearly to the BOLD grid when it lies on another;
2. eroded by one voxel (6-connected structuring element) to drop partial-volume edges;
3. optionally restricted to a ventricle mask given by the user.

The mean signal over the mask is read from the run a few volumes at a time. When a
task regressor is given, its correlation with the CSF signal is reported and a
warning sentence is set when |r| exceeds a level (default 0.3).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..errors import input_error
from ..io.geometry import Grid
from ..jobs import Progress
from ..protocol import CSF_EROSION, CSF_LEVEL, TASK_CORRELATION_LEVEL


def conservative_csf_mask(
    probability: np.ndarray,
    level: float = CSF_LEVEL,
    erosion: int = CSF_EROSION,
    restrict: np.ndarray | None = None,
) -> np.ndarray:
    """Voxels surely in CSF: probability above ``level``, eroded, optionally restricted.

    Parameters
    ----------
    probability : ndarray, shape (i, j, k)
        CSF probability (0..1) on the BOLD grid.
    level : float
        Keep voxels with probability strictly above it.
    erosion : int
        Erosion iterations with the 6-connected structuring element (0: none).
    restrict : ndarray of bool, optional
        Ventricle (or other) mask on the same grid; the result is intersected with it.

    Returns
    -------
    ndarray of bool
    """
    if not 0 <= level < 1:
        raise ValueError(f"the CSF level must lie in [0, 1), got {level}")
    mask = np.asarray(probability, dtype=float) > level
    if erosion > 0:
        structure = ndimage.generate_binary_structure(3, 1)
        mask = ndimage.binary_erosion(mask, structure=structure, iterations=int(erosion))
    if restrict is not None:
        restrict = np.asarray(restrict, dtype=bool)
        if restrict.shape != mask.shape:
            raise ValueError(f"restrict mask {restrict.shape} is not on the grid {mask.shape}")
        mask &= restrict
    return mask


def region_mean_signal(
    run,
    mask: np.ndarray,
    chunk_volumes: int = 32,
    progress: Progress | None = None,
) -> np.ndarray:
    """Mean over ``mask`` of every volume of a run, reading ``chunk_volumes`` at a time."""
    n_t = run.shape[0]
    mask = np.asarray(mask, dtype=bool)
    out = np.empty(n_t)
    for start, stop, block in run.iter_chunks(chunk_volumes):
        out[start:stop] = block[mask].mean(axis=0)
        if progress is not None:
            progress(stop, n_t)
    return out


def task_correlations(signal, task, sample_mask=None) -> dict[str, float]:
    """Pearson r of ``signal`` with each task column, over the kept volumes.

    Parameters
    ----------
    signal : array-like, shape (n,)
    task : pandas DataFrame or ndarray, shape (n,) or (n, k)
    sample_mask : array of int, optional
        Volumes kept (scrubbed volumes excluded).
    """
    import pandas as pd

    if isinstance(task, pd.DataFrame):
        names, values = list(task.columns), task.to_numpy(dtype=float)
    else:
        values = np.asarray(task, dtype=float).reshape(len(signal), -1)
        names = [f"task{j}" for j in range(values.shape[1])] if values.shape[1] > 1 else ["task"]
    y = np.asarray(signal, dtype=float)
    if sample_mask is not None:
        y, values = y[sample_mask], values[sample_mask]
    out = {}
    for name, col in zip(names, values.T):
        if np.ptp(col) > 0 and np.ptp(y) > 0:
            out[str(name)] = float(np.corrcoef(y, col)[0, 1])
        else:
            out[str(name)] = float("nan")
    return out


def task_correlation_warning(
    correlations: dict[str, float], level: float = TASK_CORRELATION_LEVEL
) -> str | None:
    """A sentence when the CSF signal follows a task regressor (|r| > level), else None."""
    high = {k: r for k, r in correlations.items() if np.isfinite(r) and abs(r) > level}
    if not high:
        return None
    parts = ", ".join(f"{k} (r = {r:+.2f})" for k, r in high.items())
    return (
        f"The CSF signal correlates with the task regressor {parts}, above |r| = {level:g}: "
        "regressing it out would remove task (pain) signal; check the CSF mask or leave "
        "the CSF regressor out."
    )


@dataclass
class CsfRegressor:
    """The CSF nuisance signal of a run.

    Attributes
    ----------
    signal : ndarray, shape (n_volumes,)
        Mean over the conservative CSF mask.
    mask : ndarray of bool
    level, erosion : settings used.
    correlations : dict
        Pearson r with each task regressor (empty without a task).
    warning : str or None
        A sentence when a correlation exceeds ``warn_level``.
    notes : list of str
        Resampling notes.
    """

    signal: np.ndarray
    mask: np.ndarray
    level: float
    erosion: int
    correlations: dict[str, float] = field(default_factory=dict)
    warning: str | None = None
    warn_level: float = TASK_CORRELATION_LEVEL
    notes: list[str] = field(default_factory=list)

    @property
    def n_voxels(self) -> int:
        """Voxels in the CSF mask."""
        return int(self.mask.sum())

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "n_voxels": self.n_voxels,
            "level": float(self.level),
            "erosion": int(self.erosion),
            "correlations": {k: (v if np.isfinite(v) else None)
                             for k, v in self.correlations.items()},
            "warn_level": float(self.warn_level),
            "warning": self.warning,
            "notes": list(self.notes),
        }


def load_probability(path: str | os.PathLike, grid: Grid, notes: list[str]) -> np.ndarray:
    """A CSF probability map (or binary mask) on ``grid``, resampled when needed."""
    from ..qc.coverage import load_csf

    return load_csf(path, grid, notes)


def csf_regressor(
    run,
    csf_path: str | os.PathLike,
    *,
    level: float = CSF_LEVEL,
    erosion: int = CSF_EROSION,
    restrict_path: str | os.PathLike | None = None,
    task=None,
    sample_mask=None,
    warn_level: float = TASK_CORRELATION_LEVEL,
    chunk_volumes: int = 32,
    progress: Progress | None = None,
) -> CsfRegressor:
    """CSF signal of a run from a conservative mask, checked against the task.

    Parameters
    ----------
    run : LazyRun
    csf_path : path-like
        CSF probability map (or binary mask), any grid.
    level, erosion : see :func:`conservative_csf_mask`.
    restrict_path : path-like, optional
        Ventricle mask (voxels > 0), resampled by nearest neighbour when needed.
    task : DataFrame or ndarray, optional
        HRF-convolved task regressors, one row per volume.
    sample_mask : array of int, optional
        Volumes kept, for the correlations.
    warn_level : float
    chunk_volumes : int
    progress : callable(done, total), optional

    Returns
    -------
    CsfRegressor

    Raises
    ------
    MilnaInputError
        The mask is empty after thresholding, erosion and restriction.
    """
    from ..qc.coverage import load_brain_mask

    grid = run.source.grid
    notes: list[str] = []
    prob = load_probability(csf_path, grid, notes)
    restrict = load_brain_mask(restrict_path, grid, notes) if restrict_path else None
    mask = conservative_csf_mask(prob, level, erosion, restrict)
    if not mask.any():
        raise input_error(
            csf_path,
            f"leaves no CSF voxel above probability {level:g} after {erosion} voxel(s) of "
            "erosion" + (" inside the ventricle mask" if restrict is not None else "")
            + "; lower the level or the erosion",
        )
    signal = region_mean_signal(run, mask, chunk_volumes, progress)
    correlations: dict[str, float] = {}
    warning = None
    if task is not None:
        correlations = task_correlations(signal, task, sample_mask)
        warning = task_correlation_warning(correlations, warn_level)
    return CsfRegressor(signal, mask, level, erosion, correlations, warning, warn_level, notes)
