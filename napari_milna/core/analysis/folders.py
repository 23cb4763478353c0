"""Recognise an analysis folder, open it, and find the folder a statistic map belongs to.

Kinds, tried in this order:

* ``spm``: the folder holds ``SPM.mat``;
* ``feat``: a ``*.feat`` / ``*.gfeat`` folder, or one with ``design.fsf`` and ``stats/``;
* ``randomise``: ``<out>_tstatN`` with ``_vox_p_`` / ``_tfce_corrp_`` ... images;
* ``bids``: ``*_stat-t_statmap`` / ``stat-z`` / ``stat-effect`` maps (fMRIPrep + nilearn).

A folder of SPM output images without its ``SPM.mat`` is refused with a sentence that
says so, as is a FEAT folder without ``stats/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import input_error
from .bids_maps import is_bids_folder, open_bids
from .feat import is_feat_folder, open_feat
from .model import Analysis, Contrast
from .randomise import is_randomise_folder, open_randomise
from .spm import is_spm_folder, looks_like_spm, open_spm

KINDS = ("spm", "feat", "randomise", "bids")


def analysis_kind(folder: str | os.PathLike) -> str | None:
    """``"spm"``, ``"feat"``, ``"randomise"``, ``"bids"`` or None for a plain folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    if is_spm_folder(folder):
        return "spm"
    if is_feat_folder(folder):
        return "feat"
    if is_randomise_folder(folder):
        return "randomise"
    if is_bids_folder(folder):
        return "bids"
    return None


def open_analysis(folder: str | os.PathLike) -> Analysis:
    """Open an SPM, FEAT, randomise or BIDS statistics folder.

    Raises
    ------
    MilnaInputError
        Not a folder, not an analysis folder, or one that lacks its key file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise input_error(folder, "does not exist")
    if not folder.is_dir():
        raise input_error(folder, "is a file, not an analysis folder (SPM, FEAT, randomise "
                          "or BIDS statistics)")
    kind = analysis_kind(folder)
    if kind == "spm":
        return open_spm(folder)
    if kind == "feat":
        return open_feat(folder)
    if kind == "randomise":
        return open_randomise(folder)
    if kind == "bids":
        return open_bids(folder)
    if looks_like_spm(folder):
        return open_spm(folder)  # raises: SPM images without SPM.mat
    if (folder / "stats").is_dir() or (folder / "design.fsf").is_file():
        return open_feat(folder)  # raises when stats/ lacks what FEAT writes
    raise input_error(folder, "is not an analysis folder: it has no SPM.mat, FEAT stats/, "
                      "randomise p images or BIDS stat- maps")


def _containing_folders(path: Path) -> list[Path]:
    """The folders a statistic map may belong to, nearest first."""
    parent = path.parent
    out = [parent]
    if parent.name == "stats":
        out.insert(0, parent.parent)
    return out


def find_analysis(path: str | os.PathLike) -> tuple[Analysis, Contrast] | None:
    """The analysis folder a statistic map lies in and its contrast, or None.

    Parameters
    ----------
    path : path-like
        A statistic map (``spmT_0001.nii``, ``stats/tstat1.nii.gz``, ``..._stat-t_statmap``).

    Returns
    -------
    (Analysis, Contrast) or None
        None when the map lies in no recognisable analysis folder, or the folder
        lists no contrast with this map.
    """
    path = Path(path)
    for folder in _containing_folders(path):
        kind = analysis_kind(folder)
        if kind is None:
            continue
        analysis = open_analysis(folder)
        target = path.resolve()
        for c in analysis.contrasts:
            for candidate in (c.path, c.z_path):
                if candidate is not None and Path(candidate).resolve() == target:
                    return analysis, c
        return None
    return None
