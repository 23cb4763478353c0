"""``milna analysis DIR``: what an SPM, FEAT, randomise or BIDS analysis folder holds.

Opens an analysis folder as one unit and lists its contrasts: name, statistic type, map,
degrees of freedom (a number, or "voxelwise" with min and max for FEAT's tdof_t images),
smoothness (FWHM in mm and where it came from: "SPM.mat xVol.FWHM", "FEAT stats/smoothness")
and analysis mask. Fields a given SPM version lacks, or MATLAB objects that cannot be read,
are listed under notes.
"""

from __future__ import annotations

import argparse

from . import options

HELP = "list the contrasts, df, smoothness and masks of an SPM / FEAT / randomise / BIDS folder"


def add_arguments(parser) -> None:
    """The arguments of ``milna analysis``."""
    parser.add_argument("folder", help="analysis folder (with SPM.mat, a .feat / .gfeat, "
                        "randomise outputs, or BIDS stat- maps)")
    options.contrast_number(parser, "show only contrast N")


def run(args: argparse.Namespace) -> dict:
    """Open the folder and return its summary."""
    from ..core.analysis import open_analysis

    analysis = open_analysis(args.folder)
    out = analysis.to_dict()
    if args.contrast is not None:
        out["contrasts"] = [analysis.contrast(args.contrast).to_dict()]
    return out
