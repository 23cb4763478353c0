"""fMRIPrep + nilearn statistic maps named as BIDS: ``stat-t``, ``stat-z``, ``stat-effect``.

Maps of one contrast share every entity but ``stat`` (``sub-01_task-pain_contrast-pain_
stat-t_statmap.nii.gz`` and its ``stat-z`` / ``stat-effect`` siblings). Degrees of freedom
come from a JSON sidecar (``DegreesOfFreedom``, ``dof`` or ``df``): the map's own sidecar,
else the folder's ``*_statmap.json``. Such folders record no smoothness estimate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..io.bids import bids_entities
from ..io.nifti import nifti_stem
from .model import Analysis, Contrast

#: Sidecar keys read as degrees of freedom, in order.
DF_KEYS = ("DegreesOfFreedom", "dof", "df")
STAT_TYPES = {"t": "T", "z": "Z", "f": "F"}


def bids_stat_maps(folder: str | os.PathLike) -> list[Path]:
    """Files of ``folder`` named like BIDS statistic maps (``*_stat-<x>_statmap.nii*``)."""
    return sorted(p for p in Path(folder).glob("*stat-*_statmap.nii*"))


def is_bids_folder(folder: str | os.PathLike) -> bool:
    """True when the folder holds ``stat-t`` / ``stat-z`` / ``stat-effect`` maps."""
    return bool(bids_stat_maps(folder))


def _sidecar_df(path: Path, folder_meta: dict):
    for meta_path in (path.parent / f"{nifti_stem(path)}.json",):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            for key in DF_KEYS:
                value = meta.get(key)
                if isinstance(value, (int, float)) and value > 0:
                    return float(value), f"sidecar {meta_path.name} {key}"
    for key in DF_KEYS:
        value = folder_meta.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return float(value), f"sidecar {folder_meta['_file']} {key}"
    return None, ""


def open_bids(folder: str | os.PathLike) -> Analysis:
    """Open a folder of BIDS statistic maps: one contrast per entity set (minus ``stat``)."""
    folder = Path(folder)
    folder_meta: dict = {}
    for candidate in sorted(folder.glob("*statmap.json")):
        try:
            meta = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and not (folder / (candidate.stem + ".nii.gz")).exists():
            folder_meta = dict(meta, _file=candidate.name)
            break
    groups: dict[tuple, dict[str, Path]] = {}
    for path in bids_stat_maps(folder):
        ent = bids_entities(path.name)
        stat = ent.pop("stat", "").lower()
        groups.setdefault(tuple(ent.items()), {})[stat] = path
    contrasts = []
    notes = []
    for key, maps in groups.items():
        ent = dict(key)
        name = ent.get("contrast") or "_".join(f"{k}-{v}" for k, v in key)
        stat = "t" if "t" in maps else "z" if "z" in maps else "f" if "f" in maps else None
        path = maps.get(stat) if stat else None
        df, source = (None, "")
        if stat == "t":
            df, source = _sidecar_df(path, folder_meta)
            if df is None:
                notes.append(f"{path.name}: no sidecar gives its degrees of freedom")
        contrasts.append(Contrast(
            index=len(contrasts) + 1,
            name=name,
            stat_type=STAT_TYPES.get(stat) if stat else None,
            path=path,
            df=df,
            df_source=source,
            effect=maps.get("effect"),
            z_path=maps.get("z"),
            details={"entities": ent},
        ))
    mask = next(iter(sorted(folder.glob("*_mask.nii*"))), None)
    notes.append("BIDS statistic maps record no smoothness estimate: give the FWHM or "
                 "the residuals")
    return Analysis(kind="bids", folder=folder, contrasts=contrasts, mask=mask, notes=notes)
