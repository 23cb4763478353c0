"""FSL randomise outputs: ``<out>_tstatN`` with its ``1 - p`` images.

randomise writes, per contrast N, the statistic ``<out>_tstatN`` (``_fstatN``) and p
images stored as ``1 - p`` so that brighter is more significant:
``_vox_p_tstatN`` (uncorrected), ``_vox_corrp_tstatN`` (FWE, max statistic),
``_tfce_p_tstatN`` / ``_tfce_corrp_tstatN`` (TFCE), ``_clustere_corrp_tstatN`` /
``_clusterm_corrp_tstatN`` (cluster extent / mass). A voxel is significant at alpha
when its value is above ``1 - alpha``. randomise keeps no degrees of freedom or
smoothness: these maps are permutation results, not for random field theory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..io.nifti import nifti_stem
from .model import Analysis, Contrast, OneMinusPMap

#: ``1 - p`` image kinds and whether they are FWE-corrected.
P_KINDS = {
    "vox_p": False, "vox_corrp": True, "tfce_p": False, "tfce_corrp": True,
    "clustere_corrp": True, "clusterm_corrp": True, "vox_fdrp": False,
}
_STAT = re.compile(r"^(?P<prefix>.*?)_?(?P<kind>" + "|".join(P_KINDS) + r")?_?"
                   r"(?P<stat>tstat|fstat)(?P<n>\d+)$")


def randomise_files(folder: str | os.PathLike) -> list[tuple[str, str | None, str, int, Path]]:
    """``(prefix, p_kind or None, "tstat"/"fstat", N, path)`` of randomise-named images."""
    out = []
    for path in sorted(Path(folder).glob("*stat*.nii*")):
        stem = nifti_stem(path)
        m = _STAT.match(stem)
        if not m or "_" not in stem:
            continue
        out.append((m.group("prefix"), m.group("kind"), m.group("stat"), int(m.group("n")),
                    path))
    return out


def is_randomise_folder(folder: str | os.PathLike) -> bool:
    """True when the folder holds randomise p images (``*_vox_p_tstat1``, ``*_tfce_corrp_*``)."""
    return any(kind is not None for _, kind, _, _, _ in randomise_files(folder))


def open_randomise(folder: str | os.PathLike) -> Analysis:
    """Open a folder of randomise outputs: one contrast per statistic image."""
    folder = Path(folder)
    files = randomise_files(folder)
    stats = {(pre, st, n): p for pre, kind, st, n, p in files if kind is None}
    p_maps: dict[tuple, dict] = {}
    for pre, kind, st, n, p in files:
        if kind is not None:
            p_maps.setdefault((pre, st, n), {})[kind] = OneMinusPMap(p, kind, P_KINDS[kind])
    keys = sorted(set(stats) | set(p_maps), key=lambda k: (k[0], k[1] != "tstat", k[2]))
    notes = []
    contrasts = []
    for i, key in enumerate(keys, start=1):
        pre, st, n = key
        path = stats.get(key)
        if path is None:
            notes.append(f"{pre}_{st}{n} is missing; only its p images are there")
        contrasts.append(Contrast(
            index=i,
            name=f"{pre}_{st}{n}" if pre else f"{st}{n}",
            stat_type="T" if st == "tstat" else "F",
            path=path,
            df_source="randomise (permutation: no df)",
            mask=None,
            p_maps=p_maps.get(key, {}),
        ))
    mask = next((p for p in folder.glob("*mask*.nii*")), None)
    return Analysis(kind="randomise", folder=folder, contrasts=contrasts, mask=mask,
                    notes=notes + ["randomise results carry no smoothness: use their "
                                   "permutation p images, not random field theory"])
