"""Analysis folders users bring: SPM, FSL FEAT, FSL randomise, fMRIPrep + nilearn (BIDS).

:func:`open_analysis` opens a folder as one unit (its contrasts, df, smoothness, masks);
:func:`find_analysis` finds the folder a statistic map belongs to;
:func:`folder_stat_map` reads a map with everything its folder says about it.
"""

from .folders import KINDS, analysis_kind, find_analysis, open_analysis
from .model import Analysis, Contrast, OneMinusPMap
from .stat_inputs import FolderStatMap, folder_stat_map, t_to_z_voxelwise

__all__ = [
    "KINDS",
    "Analysis",
    "Contrast",
    "FolderStatMap",
    "OneMinusPMap",
    "analysis_kind",
    "find_analysis",
    "folder_stat_map",
    "open_analysis",
    "t_to_z_voxelwise",
]
