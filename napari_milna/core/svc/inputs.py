"""Read the files an SVC or a permutation test needs, with one clear sentence per problem.

A statistic map brings its type and degrees of freedom (SPM header
``SPM{T_[20.0]}``, FSL ``zstat`` / ``tstat`` with ``stats/dof``, a BIDS sidecar, via
:func:`napari_milna.core.io.kinds.classify`) unless the user gives them. ROIs and masks
must lie on the map's voxel grid: they are never resampled silently, only when the
caller asks (nearest neighbour, through :func:`napari_milna.core.io.resample.resample_to_grid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import input_error
from ..io.geometry import Grid
from ..io.kinds import classify
from ..io.nifti import NiftiSource, load_volume
from ..io.resample import resample_to_grid


@dataclass(frozen=True)
class StatMap:
    """A statistic map read from a file, with its type and degrees of freedom."""

    source: NiftiSource
    data: np.ndarray
    stat_type: str
    df: float | tuple[float, float] | None

    @property
    def grid(self) -> Grid:
        """The map's voxel grid."""
        return self.source.grid


def stat_type_and_df(
    owner,
    stat_type: str | None,
    df_values,
    *,
    type_hint: str = "give its type with --type",
    df_hint: str = "give them with --df",
    f_df_hint: str = "--df DF1 DF2",
) -> tuple[str, float | tuple[float, float] | None]:
    """Check a statistic type and its degrees of freedom: one df for T, two for F, none for Z.

    Parameters
    ----------
    owner : str or path-like
        The map, named in messages.
    stat_type : str or None
        ``"T"``, ``"Z"`` or ``"F"`` (any case); None when nothing says it.
    df_values : sequence of float
        The degrees of freedom given or read (empty when none).
    type_hint, df_hint, f_df_hint : str
        How the user gives a missing type or df (the CLI's options, the panel's boxes).

    Returns
    -------
    stat_type : {"T", "Z", "F"}
    df : float, (float, float) or None

    Raises
    ------
    MilnaInputError
        Unknown type, or missing / non-positive degrees of freedom.
    """
    stat = (stat_type or "").upper()
    if stat not in ("T", "Z", "F"):
        raise input_error(
            owner, f"is not recognisably a T, Z or F map (name and header say nothing); "
            f"{type_hint}"
        )
    values = [float(v) for v in df_values]
    good = all(np.isfinite(v) and v > 0 for v in values)
    if stat == "T":
        if len(values) != 1 or not good:
            raise input_error(
                owner, "is a T map whose degrees of freedom are unknown (no SPM header, FSL dof "
                f"file or sidecar says them); {df_hint}"
            )
        return stat, values[0]
    if stat == "F":
        if len(values) != 2 or not good:
            raise input_error(owner, f"is an F map that needs two degrees of freedom: {f_df_hint}")
        return stat, (values[0], values[1])
    return stat, None


def check_stat_data(owner, data: np.ndarray) -> None:
    """Refuse a statistic map without a non-zero finite voxel (nothing to test).

    Raises
    ------
    MilnaInputError
    """
    if not np.any(np.isfinite(data) & (data != 0)):
        raise input_error(
            owner, "has no non-zero finite voxel (it is empty or all NaN), so there is nothing "
            "to test"
        )


def nonzero_mask(owner, data: np.ndarray, what: str = "mask", extra: str = "") -> np.ndarray:
    """The non-zero finite voxels of a mask; an empty one is refused.

    Parameters
    ----------
    owner : str or path-like
        The mask's file or layer, named in messages.
    data : ndarray
    what : str
        What the mask is for (``"mask"``, ``"analysis mask"``, ``"ROI"``).
    extra : str
        Said after ``"is empty"`` (``" after resampling onto the map's grid"``).

    Returns
    -------
    mask : ndarray of bool
        Refused (:class:`MilnaInputError`) when it holds no non-zero finite voxel.
    """
    mask = np.isfinite(data) & (data != 0)
    if not mask.any():
        raise input_error(owner, f"the {what} is empty{extra}: it has no non-zero voxel")
    return mask


def read_stat_map(path, stat_type: str | None = None, df=None) -> StatMap:
    """Open a statistic map and settle its type and df (given values win over the file's).

    Parameters
    ----------
    path : str, path-like, NiftiSource or nibabel image
    stat_type : {"T", "Z", "F"}, optional
        Overrides what the file name / header says.
    df : float or sequence, optional
        Overrides the df the header gives; one value for T, two for F.

    Raises
    ------
    MilnaInputError
        Unreadable or all-NaN map, unknown type, T or F map without degrees of freedom,
        map without a single non-zero value.
    """
    source = load_volume(path)
    path = source.path  # names an in-memory image too
    data = np.asarray(source.volume(), dtype=np.float64)
    info = classify(source, data)
    stat = (stat_type or info.stat_type or "").upper()
    if df is not None:
        values = np.atleast_1d(df)
    elif info.df is not None and stat == info.stat_type:
        values = np.atleast_1d(info.df)
    else:
        values = []
    stat, dfs = stat_type_and_df(path, stat, values)
    check_stat_data(path, data)
    return StatMap(source, data, stat, dfs)


def _on_grid(source: NiftiSource, grid: Grid, grid_owner, resample: bool, hint: str,
             what: str) -> np.ndarray:
    data = np.asarray(source.volume())
    if source.grid.matches(grid):
        return data
    if not resample:
        raise input_error(
            source.path,
            f"the {what} lies on a different voxel grid ({source.grid.describe()}) than "
            f"{grid_owner} ({grid.describe()}) and is not resampled silently; resample it "
            f"explicitly with {hint} (nearest neighbour)",
        )
    values = np.where(np.isfinite(data), data, 0)
    return resample_to_grid(values, source.grid, grid, order=0)


def read_roi(
    path,
    grid: Grid,
    label: int | None = None,
    resample: bool = False,
    grid_owner: str = "the statistic map",
    resample_hint: str = "--resample-roi",
) -> np.ndarray:
    """ROI voxels from a mask or a label image, on ``grid``.

    Parameters
    ----------
    path : str, path-like, NiftiSource or nibabel image
        Mask (non-zero voxels) or label image.
    grid : Grid
        The grid the ROI must lie on.
    label : int, optional
        Keep only voxels with this label (default: every non-zero voxel).
    resample : bool
        Resample an ROI on another grid onto ``grid`` (nearest neighbour).
    grid_owner : str
        Names ``grid`` in messages (``"the statistic map spmT_0001.nii"``).
    resample_hint : str
        The option that asks for resampling, named in the message.

    Returns
    -------
    ndarray of bool
    """
    from ..roi.io import load_roi

    source = load_volume(path)
    path = source.path  # names an in-memory image too
    load_roi(source)  # the one ROI reader: integer labels >= 0, a readable dseg table
    data = _on_grid(source, grid, grid_owner, resample, resample_hint, "ROI")
    finite = np.isfinite(data)
    if label is None:
        extra = " after resampling onto the map's grid" if resample else ""
        return nonzero_mask(path, data, "ROI", extra)
    roi = finite & (data == label)
    if not roi.any():
        present = np.unique(data[finite & (data != 0)])
        shown = ", ".join(f"{v:g}" for v in present[:12]) + (" ..." if present.size > 12 else "")
        raise input_error(
            path, f"has no voxel with label {label} (labels present: {shown or 'none'})"
        )
    return roi


def read_mask(
    path,
    grid: Grid,
    resample: bool = False,
    grid_owner: str = "the statistic map",
    resample_hint: str = "--resample-mask",
) -> np.ndarray:
    """An analysis mask (non-zero finite voxels) on ``grid``."""
    source = load_volume(path)
    path = source.path  # names an in-memory image too
    data = _on_grid(source, grid, grid_owner, resample, resample_hint, "mask")
    return nonzero_mask(path, data, "mask")


def read_subject_images(images) -> tuple[list[np.ndarray], Grid, str]:
    """Subject volumes (3D images, or the volumes of 4D ones) that share one grid.

    Parameters
    ----------
    images : sequence of str, path-like, NiftiSource or nibabel image

    Returns
    -------
    volumes : list of ndarray (float64)
    grid : Grid
    first : str
        The first image's name (for messages).

    Raises
    ------
    MilnaInputError
        An unreadable image, one without a finite value, or one on another grid than the
        first.
    """
    from ..io.nifti import open_nifti

    volumes, grid, first = [], None, None
    for image in images:
        src = open_nifti(image)
        if grid is None:
            grid, first = src.grid, str(src.path)
        elif not src.grid.matches(grid):
            raise input_error(
                src.path, f"lies on a different voxel grid ({src.grid.describe()}) than "
                f"{first} ({grid.describe()}); subject images must share one grid"
            )
        if src.is_run:
            run = src.run()
            for t in range(src.n_volumes):
                volume = np.asarray(run.volume(t), dtype=np.float64)
                if not np.isfinite(volume).any():
                    raise input_error(src.path, f"volume {t + 1} holds no finite value (all NaN "
                                                "or infinite); a subject needs a map")
                volumes.append(volume)
        else:
            volumes.append(np.asarray(load_volume(src).volume(), dtype=np.float64))
    if grid is None:
        raise input_error(None, "no subject image was given")
    return volumes, grid, first
