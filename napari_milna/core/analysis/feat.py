"""FSL FEAT folders: ``*.feat`` (first level or one cope of a ``*.gfeat``) and ``*.gfeat``.

Per contrast N (``stats/tstatN``, ``stats/zstatN``, ``stats/copeN``; F tests
``stats/fstatN`` / ``stats/zfstatN``):

* name: ``/ContrastNameN`` of ``design.con`` (F tests: ``F N``);
* degrees of freedom: ``stats/tdof_tN`` when FEAT wrote it (FLAME and fixed effects: the
  df differ by voxel, and FSL's ``zstatN`` is ``tstatN`` converted to z voxel by voxel
  with them), else the single number in ``stats/dof`` (first-level OLS);
* smoothness: ``stats/smoothness`` (DLH, VOLUME, RESELS; see
  :func:`napari_milna.core.svc.smoothness.read_fsl_smoothness`);
* mask: ``mask.nii.gz``; ``reg/standard`` when registration ran.

A ``*.gfeat`` is opened as its ``copeN.feat`` folders in order, contrasts named
``copeN: <name>`` and numbered on.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.nifti import nifti_stem
from .model import Analysis, Contrast


def _image(folder: Path, stem: str) -> Path | None:
    for suffix in (".nii.gz", ".nii", ".hdr", ".img"):
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def is_feat_folder(folder: str | os.PathLike) -> bool:
    """True for a ``*.feat`` / ``*.gfeat`` folder, or one with ``design.fsf`` and ``stats/``."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    if folder.suffix in (".feat", ".gfeat"):
        return True
    return (folder / "design.fsf").is_file() and (folder / "stats").is_dir()


def contrast_names(design_con: Path) -> dict[int, str]:
    """``/ContrastNameN`` entries of an FSL ``design.con`` (empty when unreadable)."""
    names = {}
    try:
        text = design_con.read_text(errors="replace")
    except OSError:
        return names
    for line in text.splitlines():
        m = re.match(r"/ContrastName(\d+)\s+(.*)$", line.strip())
        if m:
            names[int(m.group(1))] = m.group(2).strip()
    return names


def _dof(stats: Path) -> float | None:
    try:
        return float((stats / "dof").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _voxelwise_df_range(path: Path, mask: Path | None) -> tuple[float, float] | None:
    from ..io.nifti import load_volume

    try:
        data = np.asarray(load_volume(path).volume(), dtype=float)
    except ValueError:
        return None
    use = np.isfinite(data) & (data > 0)
    if mask is not None:
        try:
            m = np.asarray(load_volume(mask).volume())
            if m.shape == data.shape:
                use &= m != 0
        except ValueError:
            pass
    if not use.any():
        return None
    return float(data[use].min()), float(data[use].max())


def open_feat(folder: str | os.PathLike) -> Analysis:
    """Open a FEAT folder (``*.feat``) or a group FEAT folder (``*.gfeat``).

    Raises
    ------
    MilnaInputError
        A ``*.feat`` without ``stats/`` (or without any statistic map there), a
        ``*.gfeat`` without ``copeN.feat`` folders.
    """
    folder = Path(folder)
    if folder.suffix == ".gfeat" or (
        not (folder / "stats").is_dir() and any(folder.glob("cope*.feat"))
    ):
        return _open_gfeat(folder)
    notes: list[str] = []
    contrasts = _feat_contrasts(folder, notes, 0, "")
    return _analysis(folder, contrasts, notes)


def _open_gfeat(folder: Path) -> Analysis:
    copes = sorted(folder.glob("cope*.feat"),
                   key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    if not copes:
        raise input_error(folder, "looks like a group FEAT folder (.gfeat) but holds no "
                          "copeN.feat folder; FEAT's higher-level statistics did not run")
    notes: list[str] = []
    contrasts: list[Contrast] = []
    for cope in copes:
        sub = _feat_contrasts(cope, notes, len(contrasts), f"{cope.stem}: ")
        contrasts.extend(sub)
    return _analysis(folder, contrasts, notes, first=copes[0])


def _analysis(folder: Path, contrasts, notes, first: Path | None = None) -> Analysis:
    base = first or folder
    fwhm = next((c.fwhm_voxels for c in contrasts if c.fwhm_voxels is not None), None)
    standard = _image(base / "reg", "standard") or _image(folder / "reg", "standard")
    return Analysis(
        kind="feat",
        folder=folder,
        contrasts=contrasts,
        mask=_image(folder, "mask") or _image(base, "mask"),
        standard=standard,
        fwhm_voxels=fwhm,
        error_df=_dof(base / "stats"),
        notes=notes,
    )


def _feat_contrasts(feat: Path, notes: list[str], start: int, prefix: str) -> list[Contrast]:
    stats = feat / "stats"
    if not stats.is_dir():
        raise input_error(feat, "looks like a FEAT folder but has no stats/ folder; FEAT's "
                          "statistics did not run (or the folder was copied without them)")
    names = contrast_names(feat / "design.con")
    mask = _image(feat, "mask")
    if mask is None:
        notes.append(f"{feat.name}: no mask.nii.gz")
    smoothness_file = stats / "smoothness"
    fwhm_vox = fwhm_mm = None
    if smoothness_file.is_file():
        fwhm_vox, fwhm_mm = _fsl_fwhm(smoothness_file, stats, notes)
    else:
        notes.append(f"{feat.name}: no stats/smoothness (random field theory needs it)")
    dof = _dof(stats)
    found = []
    for kind, stat_type in (("tstat", "T"), ("fstat", "F")):
        for path in stats.glob(f"{kind}*.nii*"):
            m = re.fullmatch(rf"{kind}(\d+)", nifti_stem(path))
            if m:
                found.append((stat_type, int(m.group(1)), path))
    if not found:
        zs = [p for p in stats.glob("zstat*.nii*") if re.fullmatch(r"zstat\d+", nifti_stem(p))]
        found = [("Z", int(nifti_stem(p)[5:]), p) for p in zs]
    if not found:
        raise input_error(stats, "holds no tstatN, fstatN or zstatN image; FEAT's statistics "
                          "did not finish")
    found.sort(key=lambda t: (t[0] != "T", t[0] != "Z", t[1]))
    out = []
    for stat_type, n, path in found:
        letter = "t" if stat_type in ("T", "Z") else "f"
        z_path = _image(stats, f"zstat{n}" if letter == "t" else f"zfstat{n}")
        tdof = _image(stats, f"tdof_t{n}") if stat_type == "T" else None
        df: float | tuple | None = None
        df_range = None
        df_source = ""
        if tdof is not None:
            df_range = _voxelwise_df_range(tdof, mask)
            if df_range is None:
                notes.append(f"{feat.name}: {tdof.name} has no positive value")
                tdof = None
            else:
                df_source = f"FEAT stats/{tdof.name}"
        if tdof is None and stat_type == "T" and dof is not None:
            df, df_source = dof, "FEAT stats/dof"
        elif stat_type == "F":
            notes.append(f"{feat.name}: fstat{n} needs two df, which FEAT does not store; "
                         f"use zfstat{n}")
        name = names.get(n, f"contrast {n}") if letter == "t" else f"F {n}"
        out.append(Contrast(
            index=start + len(out) + 1,
            name=f"{prefix}{name}",
            stat_type=stat_type,
            path=path,
            df=df,
            df_range=df_range,
            df_path=tdof,
            df_source=df_source,
            fwhm_mm=fwhm_mm,
            fwhm_voxels=fwhm_vox,
            smoothness_source="FEAT stats/smoothness" if fwhm_mm is not None else None,
            mask=mask,
            effect=_image(stats, f"cope{n}") if letter == "t" else None,
            z_path=z_path,
            details={"feat": str(feat), "contrast": n},
        ))
    return out


def _fsl_fwhm(path: Path, stats: Path, notes: list[str]):
    """FWHM (voxels, mm) from stats/smoothness on the grid of the first statistic image."""
    from ..io.nifti import open_nifti
    from ..svc.smoothness import read_fsl_smoothness

    ref = next(iter(sorted(stats.glob("*stat*.nii*"))), None)
    if ref is None:
        return None, None
    try:
        sm = read_fsl_smoothness(path, open_nifti(ref).grid)
    except ValueError as exc:
        notes.append(str(exc))
        return None, None
    return sm.fwhm_voxels, sm.fwhm_mm
