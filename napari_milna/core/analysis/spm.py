"""SPM first- and second-level folders: ``SPM.mat`` and the images beside it.

Read from ``SPM.mat`` (MAT v5 / v7 through scipy, v7.3 through pymatreader):

* contrasts ``xCon(i)``: ``name``, ``STAT`` (``'T'`` / ``'F'``), ``Vspm.fname`` (the
  statistic map), ``Vcon.fname`` (con / ess image), ``eidf`` (F's effective interest df);
* ``xX.erdf``: the error degrees of freedom (T df; F df are ``[eidf, erdf]``);
* ``xVol.FWHM`` (smoothness in voxels), ``xVol.R`` (resel counts of the whole search
  volume), ``xVol.S`` (its voxels), ``xVol.M`` (voxel -> world, 1-based MATLAB indices);
* the mask (``VM``, else ``mask.nii``), resels per voxel (``xVol.VRpv``, else
  ``RPV.nii``) and residual variance (``VResMS``, else ``ResMS.nii``).

A field missing from a given SPM version, or a MATLAB object scipy cannot read, is
recorded in :attr:`Analysis.notes`; it never stops the folder from opening. File names
stored in SPM.mat are looked up in the folder itself (SPM's ``swd`` may be another
machine's path).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import input_error
from .matfile import Unreadable, load_mat, struct_list
from .model import Analysis, Contrast

#: The SPM structure must have one of these fields to count as one.
SPM_FIELDS = ("xX", "xVol", "xCon", "SPMid", "swd", "xY")
#: Image extensions SPM has written (SPM12 .nii; SPM5 / SPM8 Analyze pairs).
IMAGE_SUFFIXES = (".nii", ".img", ".nii.gz")


def _field(struct, name: str, where: str, notes: list[str]):
    """``struct[name]``, or None with a note when it is missing or unreadable."""
    if not isinstance(struct, dict):
        return None
    if name not in struct:
        notes.append(f"SPM.mat has no {where}{name}")
        return None
    value = struct[name]
    if isinstance(value, Unreadable):
        notes.append(f"SPM.mat {where}{name} is a MATLAB object that cannot be read ({value})")
        return None
    return value


def _numbers(value, n: int | None = None) -> np.ndarray | None:
    try:
        arr = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    if arr.size == 0 or (n is not None and arr.size != n) or not np.all(np.isfinite(arr)):
        return None
    return arr


def _fname(vol) -> str | None:
    """File name of an SPM volume structure (``Vspm``, ``Vcon``, ``VM``...)."""
    if isinstance(vol, dict):
        name = vol.get("fname")
        if isinstance(name, str) and name.strip():
            return name.strip()
    if isinstance(vol, str) and vol.strip():
        return vol.strip()
    return None


def _local(folder: Path, name: str | None) -> Path | None:
    """The file ``name`` (SPM-stored, possibly from another machine) inside ``folder``."""
    if not name:
        return None
    base = name.replace("\\", "/").split("/")[-1].split(",")[0]
    candidate = folder / base
    return candidate if candidate.exists() else None


def _find_image(folder: Path, stem: str) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def is_spm_folder(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds an ``SPM.mat``."""
    return (Path(folder) / "SPM.mat").is_file()


def looks_like_spm(folder: str | os.PathLike) -> list[str]:
    """SPM output names in ``folder`` (spmT, con, beta, ResMS) for a missing-SPM.mat message."""
    folder = Path(folder)
    found = []
    for pattern in ("spmT_*.nii", "spmF_*.nii", "con_*.nii", "beta_*.nii", "ResMS.nii",
                    "spmT_*.img", "beta_*.img"):
        found.extend(sorted(p.name for p in folder.glob(pattern))[:2])
    return found


def open_spm(folder: str | os.PathLike) -> Analysis:
    """Open an SPM first- or second-level folder.

    Parameters
    ----------
    folder : path-like
        The folder with ``SPM.mat``.

    Returns
    -------
    Analysis
        ``kind="spm"``; contrasts in SPM's order (``index`` 1, 2, ...).

    Raises
    ------
    MilnaInputError
        No SPM.mat, or an SPM.mat that is not a MAT file or holds no SPM structure.
    """
    folder = Path(folder)
    spm_mat = folder / "SPM.mat"
    if not spm_mat.is_file():
        seen = looks_like_spm(folder)
        hint = f" although it holds {', '.join(seen)}" if seen else ""
        raise input_error(folder, f"has no SPM.mat{hint}; SPM's results need the SPM.mat "
                          "written when the model was estimated")
    spm, version = load_mat(spm_mat, "SPM")
    if not isinstance(spm, dict) or not any(k in spm for k in SPM_FIELDS):
        raise input_error(spm_mat, "is not an SPM.mat: its SPM variable has none of the fields "
                          "SPM writes (xX, xVol, xCon, SPMid)")
    notes: list[str] = []
    details = {"mat_version": version}
    spm_id = spm.get("SPMid")
    if isinstance(spm_id, str):
        details["SPMid"] = spm_id

    x_x = _field(spm, "xX", "", notes)
    erdf = _numbers(_field(x_x, "erdf", "xX.", notes), 1) if x_x is not None else None
    error_df = float(erdf[0]) if erdf is not None else None
    x_vol = _field(spm, "xVol", "", notes)
    fwhm = resels = affine = None
    search = None
    if x_vol is not None:
        fwhm = _numbers(_field(x_vol, "FWHM", "xVol.", notes), 3)
        resels = _numbers(_field(x_vol, "R", "xVol.", notes))
        s = _numbers(_field(x_vol, "S", "xVol.", notes), 1)
        search = int(s[0]) if s is not None else None
        m = _numbers(_field(x_vol, "M", "xVol.", notes), 16)
        affine = None if m is None else np.asarray(m).reshape(4, 4, order="F")
        if affine is not None and not np.allclose(affine[3], [0, 0, 0, 1]):
            affine = np.asarray(m).reshape(4, 4)  # a reader that kept C order
    voxel_mm = None
    if affine is not None:
        voxel_mm = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))

    mask = _local(folder, _fname(spm.get("VM"))) or _find_image(folder, "mask")
    rpv_vol = x_vol.get("VRpv") if isinstance(x_vol, dict) else None
    rpv = _local(folder, _fname(rpv_vol)) or _find_image(folder, "RPV")
    resms = _local(folder, _fname(spm.get("VResMS"))) or _find_image(folder, "ResMS")
    for what, path in (("mask", mask), ("RPV", rpv), ("ResMS", resms)):
        if path is None:
            notes.append(f"no {what} image in the folder")

    fwhm_mm = None
    if fwhm is not None:
        if voxel_mm is None:
            voxel_mm = _voxel_sizes_of(mask)
        if voxel_mm is not None:
            fwhm_mm = tuple(float(v) for v in fwhm * voxel_mm)
    smoothness_source = "SPM.mat xVol.FWHM" if fwhm is not None else None

    contrasts = []
    x_con = spm.get("xCon")
    if isinstance(x_con, Unreadable):
        notes.append(f"SPM.mat xCon cannot be read ({x_con})")
    entries = struct_list(x_con)
    if not entries:
        notes.append("SPM.mat defines no contrast (xCon is empty)")
    for i, con in enumerate(entries, start=1):
        contrasts.append(_contrast(folder, i, con, error_df, fwhm, fwhm_mm, smoothness_source,
                                   mask, notes))
    return Analysis(
        kind="spm",
        folder=folder,
        contrasts=contrasts,
        mask=mask,
        rpv=rpv,
        resms=resms,
        fwhm_voxels=None if fwhm is None else tuple(float(v) for v in fwhm),
        resels=None if resels is None else tuple(float(v) for v in resels),
        search_voxels=search,
        affine=None if affine is None else affine.tolist(),
        error_df=error_df,
        notes=notes,
        details=details,
    )


def _voxel_sizes_of(path: Path | None) -> np.ndarray | None:
    if path is None:
        return None
    from ..io.nifti import open_nifti

    try:
        return np.asarray(open_nifti(path).grid.zooms, dtype=float)
    except ValueError:
        return None


def _contrast(folder, i, con, error_df, fwhm, fwhm_mm, smoothness_source, mask, notes):
    name = con.get("name")
    name = name if isinstance(name, str) else f"contrast {i}"
    stat = con.get("STAT")
    stat = stat.strip().upper() if isinstance(stat, str) and stat.strip() else None
    details = {}
    spm_name = _fname(con.get("Vspm"))
    path = _local(folder, spm_name)
    if spm_name is None:
        notes.append(f"contrast {i} ({name}) has no statistic image yet (xCon({i}).Vspm empty)")
    elif path is None:
        notes.append(f"contrast {i} ({name}): {spm_name} is not in the folder")
    effect = _local(folder, _fname(con.get("Vcon")))
    eidf = _numbers(con.get("eidf"), 1)
    if eidf is not None:
        details["eidf"] = float(eidf[0])
    df = None
    df_source = ""
    if stat == "T" and error_df is not None:
        df, df_source = error_df, "SPM.mat xX.erdf"
    elif stat == "F" and error_df is not None and eidf is not None:
        df, df_source = (float(eidf[0]), error_df), "SPM.mat xCon.eidf, xX.erdf"
    return Contrast(
        index=i,
        name=name,
        stat_type=stat if stat in ("T", "F") else None,
        path=path,
        df=df,
        df_source=df_source,
        fwhm_mm=fwhm_mm,
        fwhm_voxels=None if fwhm is None else tuple(float(v) for v in fwhm),
        smoothness_source=smoothness_source if fwhm_mm is not None else None,
        mask=mask,
        effect=effect,
        details=details,
    )
