"""What an analysis folder gives a statistic map for random field theory.

:func:`folder_stat_map` opens the map a user names (a file inside an analysis folder,
or the folder itself with a contrast number) and settles, from the folder:

* the statistic and its degrees of freedom (SPM ``xX.erdf``; FEAT ``stats/dof``; a BIDS
  sidecar). A FEAT T map with voxelwise df (``stats/tdof_tN``) is converted to z voxel by
  voxel with those df, as FSL makes its ``zstatN``; random field theory then runs on
  the z map, as on FEAT output;
* the smoothness (SPM ``xVol.FWHM``; FEAT ``stats/smoothness``);
* the analysis mask and, for SPM, the resels-per-voxel image ``RPV``.

Explicit choices of the user win over all of these (the CLI decides which to use).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.geometry import Grid
from ..io.nifti import load_volume
from .folders import find_analysis, open_analysis
from .model import Analysis, Contrast


@dataclass(frozen=True)
class FolderStatMap:
    """A statistic map with what its analysis folder says about it.

    Attributes
    ----------
    analysis, contrast : Analysis, Contrast
    path : Path
        The map read (the T map, or the Z map the user named).
    data : ndarray
        The values to test (z values when a T map with voxelwise df was converted).
    stat_type : {"T", "Z", "F"}
    df : float, (float, float) or None
    grid : Grid
    smoothness : Smoothness or None
        From the folder, with ``source`` ``"SPM.mat xVol.FWHM"`` / ``"FEAT stats/smoothness"``.
    mask, rpv : ndarray or None
        Analysis mask and resels-per-voxel image on ``grid``.
    mask_path, rpv_path : Path or None
    df_source : str
    converted : dict or None
        ``{"from": "T", "df_path", "df_min", "df_max"}`` when t was converted to z.
    """

    analysis: Analysis
    contrast: Contrast
    path: Path
    data: np.ndarray = field(repr=False)
    stat_type: str
    df: float | tuple[float, float] | None
    grid: Grid
    smoothness: object | None
    mask: np.ndarray | None = field(repr=False)
    rpv: np.ndarray | None = field(repr=False)
    mask_path: Path | None
    rpv_path: Path | None
    df_source: str
    converted: dict | None = None

    def describe(self) -> dict:
        """JSON-ready account of what came from the folder."""
        return {
            "kind": self.analysis.kind,
            "folder": str(self.analysis.folder),
            "contrast": {"index": self.contrast.index, "name": self.contrast.name},
            "stat": str(self.path),
            "df_source": self.df_source or None,
            "t_to_z": self.converted,
            "smoothness_source": None if self.smoothness is None else self.smoothness.source,
            "mask": None if self.mask_path is None else str(self.mask_path),
            "rpv": None if self.rpv_path is None else str(self.rpv_path),
        }


def t_to_z_voxelwise(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Z with the same tail probability as ``t`` on ``df`` degrees of freedom, voxel by voxel.

    What FSL's ``ttoz`` does to make FEAT's ``zstat`` from ``tstat`` and ``tdof_t``;
    voxels with a non-positive or non-finite df become NaN.
    """
    from ..svc.stat_values import equivalent_z

    t = np.asarray(t, dtype=float)
    df = np.asarray(df, dtype=float)
    z = np.full(t.shape, np.nan)
    ok = np.isfinite(t) & np.isfinite(df) & (df > 0)
    for value in np.unique(df[ok]):
        sel = ok & (df == value)
        z[sel] = equivalent_z(t[sel], "T", float(value))
    return z


def _contrast_of(stat: Path, contrast: int | None) -> tuple[Analysis, Contrast, Path] | None:
    if stat.is_dir():
        analysis = open_analysis(stat)
        chosen = analysis.contrast(1 if contrast is None else int(contrast))
        if chosen.path is None:
            raise input_error(
                analysis.key_file, f"contrast {chosen.index} ({chosen.name}) has no "
                "statistic image in the folder"
            )
        return analysis, chosen, Path(chosen.path)
    found = find_analysis(stat)
    if found is None:
        return None
    analysis, chosen = found
    if contrast is not None and int(contrast) != chosen.index:
        analysis.contrast(int(contrast))  # out of range -> one sentence
        raise input_error(stat, f"is contrast {chosen.index} of its folder, not {contrast}")
    return analysis, chosen, stat


def folder_stat_map(
    stat: str | os.PathLike,
    contrast: int | None = None,
    *,
    keep_t: bool = False,
) -> FolderStatMap | None:
    """Open a statistic map with the df, smoothness, mask and RPV its folder records.

    Parameters
    ----------
    stat : path-like
        A statistic map inside an SPM / FEAT / randomise / BIDS folder, or the folder.
    contrast : int, optional
        With a folder: the contrast number (default 1). With a file: checked against it.
    keep_t : bool
        Refuse to convert a T map with voxelwise df to z (the user asked for a T map):
        random field theory then has no single df, which is an error.

    Returns
    -------
    FolderStatMap or None
        None when ``stat`` is a file in no analysis folder.

    Raises
    ------
    MilnaInputError
        Contrast out of range, missing statistic image, voxelwise df with ``keep_t``.
    """
    from ..svc.smoothness import Smoothness

    stat = Path(stat)
    found = _contrast_of(stat, contrast)
    if found is None:
        return None
    analysis, chosen, path = found
    source = load_volume(path)
    grid = source.grid
    data = np.asarray(source.volume(), dtype=np.float64)
    is_z_file = chosen.z_path is not None and Path(chosen.z_path).resolve() == path.resolve()
    stat_type = "Z" if is_z_file else chosen.stat_type
    df = None if is_z_file else chosen.df
    df_source = "" if is_z_file else chosen.df_source
    converted = None
    if not is_z_file and stat_type == "T" and chosen.voxelwise_df:
        if keep_t:
            z_hint = (f"use its z map {chosen.z_path}" if chosen.z_path else
                      "give the z map")
            raise input_error(
                path, f"is a T map with voxelwise degrees of freedom ({chosen.df_path}: "
                f"{chosen.df_range[0]:g} to {chosen.df_range[1]:g}) and random field theory "
                f"needs one df; {z_hint}, or drop --type t to convert t to z as FSL does"
            )
        df_img = load_volume(chosen.df_path)
        if not df_img.grid.matches(grid):
            raise input_error(chosen.df_path, f"lies on another grid than {path}")
        data = t_to_z_voxelwise(data, np.asarray(df_img.volume(), dtype=float))
        data = np.where(np.isfinite(data), data, 0.0)
        converted = {"from": "T", "df_path": str(chosen.df_path),
                     "df_min": chosen.df_range[0], "df_max": chosen.df_range[1]}
        stat_type, df = "Z", None
    smoothness = None
    if chosen.fwhm_voxels is not None:
        vox = np.asarray(chosen.fwhm_voxels, dtype=float)
        if analysis.kind == "spm" and analysis.affine is not None:
            # xVol.FWHM is in voxels of the analysis grid: express it on this map's grid
            spm_zooms = np.sqrt((np.asarray(analysis.affine)[:3, :3] ** 2).sum(axis=0))
            vox = vox * spm_zooms / grid.zooms
        smoothness = Smoothness(
            tuple(float(v) for v in vox * grid.zooms), tuple(float(v) for v in vox),
            chosen.smoothness_source or "", _smoothness_details(analysis, chosen),
        )
    mask_path = chosen.mask or analysis.mask
    mask = _on_grid(mask_path, grid, path, "mask") if mask_path is not None else None
    rpv_path = analysis.rpv
    rpv = _on_grid(rpv_path, grid, path, "RPV", binary=False) if rpv_path else None
    return FolderStatMap(
        analysis=analysis, contrast=chosen, path=path, data=data, stat_type=stat_type or "",
        df=df, grid=grid, smoothness=smoothness, mask=mask, rpv=rpv,
        mask_path=mask_path, rpv_path=rpv_path, df_source=df_source, converted=converted,
    )


def _smoothness_details(analysis: Analysis, contrast: Contrast) -> dict:
    out = {"folder": str(analysis.folder)}
    if analysis.kind == "spm":
        out["file"] = str(analysis.folder / "SPM.mat")
        if analysis.resels is not None:
            out["xVol_R"] = list(analysis.resels)
        if analysis.search_voxels is not None:
            out["xVol_S"] = analysis.search_voxels
    elif analysis.kind == "feat":
        feat = Path(contrast.details.get("feat", analysis.folder))
        out["file"] = str(feat / "stats" / "smoothness")
    return out


def _on_grid(path: Path, grid: Grid, owner: Path, what: str, binary: bool = True):
    source = load_volume(path)
    if not source.grid.matches(grid):
        raise input_error(path, f"the analysis {what} lies on another voxel grid "
                          f"({source.grid.describe()}) than {owner} ({grid.describe()})")
    data = np.asarray(source.volume(), dtype=np.float64)
    if binary:
        return np.isfinite(data) & (data != 0)
    return np.where(np.isfinite(data) & (data > 0), data, np.nan)
