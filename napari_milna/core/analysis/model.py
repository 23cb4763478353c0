"""What an analysis folder holds: its contrasts and what random field theory needs of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _path(p) -> str | None:
    return None if p is None else str(p)


@dataclass(frozen=True)
class Contrast:
    """One contrast of an analysis and its statistic map.

    Attributes
    ----------
    index : int
        1-based position in the analysis (SPM's contrast number, FSL's N of tstatN).
    name : str
        The contrast's name (SPM ``xCon(i).name``, FSL ``/ContrastNameN``, BIDS ``contrast-``).
    stat_type : {"T", "Z", "F"} or None
        Statistic of ``path`` (None when the contrast has no statistic map yet).
    path : Path or None
        The statistic map.
    df : float, (float, float) or None
        Degrees of freedom when one number (pair for F) holds for every voxel.
    df_range : (float, float) or None
        Smallest and largest voxelwise df (FSL ``stats/tdof_tN``); ``df`` is None then.
    df_path : Path or None
        The voxelwise df image.
    df_source : str
        Where the df came from (``"SPM.mat xX.erdf"``, ``"FEAT stats/dof"`` ...).
    fwhm_mm, fwhm_voxels : tuple of 3 float or None
        Smoothness along the voxel axes, when the analysis recorded it.
    smoothness_source : str or None
        ``"SPM.mat xVol.FWHM"``, ``"FEAT stats/smoothness"`` or None.
    mask : Path or None
        The analysis mask.
    effect : Path or None
        The contrast's effect image (SPM ``con_*``, FSL ``cope*``, BIDS ``stat-effect``).
    z_path : Path or None
        The matching Z map (FSL ``zstat*``, BIDS ``stat-z``).
    p_maps : dict
        randomise's ``1 - p`` images by kind (``"tfce_corrp"``, ``"vox_p"``, ...).
    details : dict
        Anything else worth showing (SPM ``eidf``, the sidecar read, ...).
    """

    index: int
    name: str
    stat_type: str | None
    path: Path | None
    df: float | tuple[float, float] | None = None
    df_range: tuple[float, float] | None = None
    df_path: Path | None = None
    df_source: str = ""
    fwhm_mm: tuple[float, float, float] | None = None
    fwhm_voxels: tuple[float, float, float] | None = None
    smoothness_source: str | None = None
    mask: Path | None = None
    effect: Path | None = None
    z_path: Path | None = None
    p_maps: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    @property
    def voxelwise_df(self) -> bool:
        """True when the degrees of freedom vary by voxel (FEAT ``tdof_t``)."""
        return self.df_range is not None

    def to_dict(self) -> dict:
        """JSON-ready form (``df`` is a number, a pair, ``"voxelwise"`` or None)."""
        if self.df_range is not None:
            df = "voxelwise"
        elif isinstance(self.df, tuple):
            df = [float(v) for v in self.df]
        else:
            df = None if self.df is None else float(self.df)
        out = {
            "index": int(self.index),
            "name": self.name,
            "stat_type": self.stat_type,
            "path": _path(self.path),
            "df": df,
        }
        if self.df_range is not None:
            out["df_min"] = float(self.df_range[0])
            out["df_max"] = float(self.df_range[1])
            out["df_path"] = _path(self.df_path)
        out.update({
            "df_source": self.df_source or None,
            "fwhm_mm": None if self.fwhm_mm is None else [float(v) for v in self.fwhm_mm],
            "fwhm_voxels": (None if self.fwhm_voxels is None
                            else [float(v) for v in self.fwhm_voxels]),
            "smoothness_source": self.smoothness_source,
            "mask": _path(self.mask),
            "effect": _path(self.effect),
            "z_path": _path(self.z_path),
        })
        if self.p_maps:
            out["p_maps"] = {k: v.to_dict() for k, v in self.p_maps.items()}
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True)
class OneMinusPMap:
    """A randomise p image, stored as ``1 - p``: higher is more significant.

    A voxel is significant at level ``alpha`` when its value exceeds ``1 - alpha``
    (``> 0.95`` for p < 0.05); the p value itself is ``1 - value``.
    """

    path: Path
    kind: str
    corrected: bool

    @staticmethod
    def threshold(alpha: float = 0.05) -> float:
        """The value above which voxels are significant at ``alpha``."""
        return 1.0 - float(alpha)

    @staticmethod
    def p_values(values):
        """p values of ``1 - p`` values."""
        import numpy as np

        return 1.0 - np.asarray(values, dtype=float)

    def to_dict(self) -> dict:
        """JSON-ready form, with the threshold direction spelled out."""
        return {
            "path": str(self.path),
            "kind": self.kind,
            "corrected": bool(self.corrected),
            "stores": "1 - p",
            "significant_when": "value > 1 - alpha (0.95 for p < 0.05)",
        }


@dataclass(frozen=True)
class Analysis:
    """An opened analysis folder.

    Attributes
    ----------
    kind : {"spm", "feat", "randomise", "bids"}
    folder : Path
    contrasts : list of Contrast
    mask, rpv, resms, standard : Path or None
        Analysis mask, SPM resels-per-voxel and residual variance images, FSL
        ``reg/standard``.
    fwhm_voxels : tuple of 3 float or None
        Smoothness of the analysis (SPM ``xVol.FWHM``; FSL from ``stats/smoothness``).
    resels : tuple of 4 float or None
        SPM ``xVol.R`` (whole search volume).
    search_voxels : int or None
        SPM ``xVol.S``.
    affine : list or None
        SPM ``xVol.M`` (voxel -> world, 1-based voxel indices as MATLAB's).
    error_df : float or None
        SPM ``xX.erdf``; FSL ``stats/dof``.
    notes : list of str
        Fields missing from this analysis or unreadable, said in words.
    details : dict
        Source specifics (MAT version, SPM version, ...).
    """

    kind: str
    folder: Path
    contrasts: list[Contrast]
    mask: Path | None = None
    rpv: Path | None = None
    resms: Path | None = None
    standard: Path | None = None
    fwhm_voxels: tuple[float, float, float] | None = None
    resels: tuple[float, ...] | None = None
    search_voxels: int | None = None
    affine: list | None = None
    error_df: float | None = None
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def contrast(self, index: int) -> Contrast:
        """Contrast number ``index`` (1-based).

        Raises
        ------
        MilnaInputError
            No such contrast.
        """
        from ..errors import input_error

        for c in self.contrasts:
            if c.index == index:
                return c
        have = ", ".join(str(c.index) for c in self.contrasts) or "none"
        raise input_error(
            self.key_file, f"has no contrast {index} (contrasts: {have})"
        )

    @property
    def key_file(self) -> Path:
        """The file that defines the analysis (SPM.mat, design.fsf, the folder itself)."""
        if self.kind == "spm":
            return self.folder / "SPM.mat"
        return self.folder

    def to_dict(self) -> dict:
        """JSON-ready form (``milna analysis --json``)."""
        return {
            "kind": self.kind,
            "folder": str(self.folder),
            "contrasts": [c.to_dict() for c in self.contrasts],
            "mask": _path(self.mask),
            "rpv": _path(self.rpv),
            "resms": _path(self.resms),
            "standard": _path(self.standard),
            "fwhm_voxels": None if self.fwhm_voxels is None else list(self.fwhm_voxels),
            "resels": None if self.resels is None else list(self.resels),
            "search_voxels": self.search_voxels,
            "affine": self.affine,
            "error_df": self.error_df,
            "notes": list(self.notes),
            "details": dict(self.details),
        }
