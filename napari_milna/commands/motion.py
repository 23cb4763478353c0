"""``milna motion PARAMS``: framewise displacement and scrubbing of a run.

Read SPM rp_*.txt, FSL .par, AFNI 3dvolreg 1D or fMRIPrep confounds and print FD per volume,
mean FD and the volumes to scrub.
"""

from __future__ import annotations

from ..core.protocol import FD_THRESHOLD_MM, HEAD_RADIUS_MM, MOTION_FORMATS
from .values import count, positive_mm

HELP = "framewise displacement (Power 2012) and the FD scrub mask"


def add_arguments(parser) -> None:
    """The arguments of ``milna motion``."""
    parser.add_argument("params", help="motion parameter file")
    parser.add_argument("--format", required=True, choices=MOTION_FORMATS, dest="fmt",
                        help="spm (x y z pitch roll yaw), fsl (rx ry rz tx ty tz), afni (roll "
                        "pitch yaw dS dL dP, degrees), fmriprep (confounds TSV)")
    parser.add_argument("--threshold", type=positive_mm, default=FD_THRESHOLD_MM,
                        help="scrub volumes with FD above this many mm (default 0.5)")
    parser.add_argument("--before", type=count, default=0,
                        help="also scrub this many volumes before each one above threshold")
    parser.add_argument("--after", type=count, default=0,
                        help="also scrub this many volumes after (Power 2014: --before 1 "
                        "--after 2)")
    parser.add_argument("--radius", type=positive_mm, default=HEAD_RADIUS_MM,
                        help="head radius in mm for rotations (default 50)")


def run(args) -> dict:
    """FD and scrubbing as a dict."""
    from ..core.preproc.motion import assess_motion, read_motion

    params = read_motion(args.params, args.fmt)
    return assess_motion(params, args.threshold, args.before, args.after, args.radius).to_dict()
