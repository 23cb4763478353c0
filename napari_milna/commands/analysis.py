"""``milna analysis DIR``: what an SPM, FEAT, randomise or BIDS analysis folder holds.

Opens an analysis folder as one unit and lists its contrasts: name, statistic type, map,
degrees of freedom (a number, or "voxelwise" with min and max for FEAT's tdof_t images),
smoothness (FWHM in mm and where it came from: "SPM.mat xVol.FWHM", "FEAT stats/smoothness")
and analysis mask. Fields a given SPM version lacks, or MATLAB objects that cannot be read,
are listed under notes.
"""

from __future__ import annotations

import argparse

from . import description
from .values import contrast_number

HELP = "list the contrasts, df, smoothness and masks of an SPM / FEAT / randomise / BIDS folder"


def add_parser(subparsers) -> None:
    """Register ``milna analysis``."""
    p = subparsers.add_parser("analysis", help=HELP, description=description(__doc__))
    p.add_argument("folder", help="analysis folder (with SPM.mat, a .feat / .gfeat, randomise "
                   "outputs, or BIDS stat- maps)")
    p.add_argument("--contrast", type=contrast_number, metavar="N",
                   help="show only contrast N")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> dict:
    """Open the folder and return its summary."""
    from ..core.analysis import open_analysis

    analysis = open_analysis(args.folder)
    out = analysis.to_dict()
    if args.contrast is not None:
        out["contrasts"] = [analysis.contrast(args.contrast).to_dict()]
    return out
