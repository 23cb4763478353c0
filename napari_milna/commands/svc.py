"""``milna svc STAT ROI``: small-volume correction of a statistic map, as SPM12 does it.

Peak and cluster statistics of a T or Z map inside an ROI with family-wise error correction
over the ROI only, exactly as SPM12's SVC: min(random field theory, Bonferroni over the ROI
voxels that have data).
"""

from __future__ import annotations

import argparse

from ..core.errors import input_error
from ..core.protocol import SVC_ALPHA, SVC_CONNECTIVITY, SVC_HEIGHT_P, SVC_MIN_DISTANCE_MM
from . import description

HELP = "small-volume correction (SPM12 RFT + Bonferroni, FDR) of a T/Z map in an ROI"


def add_parser(subparsers) -> None:
    """Register ``milna svc``."""
    p = subparsers.add_parser("svc", help=HELP, description=description(__doc__))
    p.add_argument("stat", help="statistic map (spmT_0001.nii, zstat1.nii.gz, ...)")
    p.add_argument("roi", help="ROI mask or label image on the map's grid")
    p.add_argument("--type", dest="stat_type", choices=["t", "z", "f"], type=str.lower,
                   help="statistic type (default: from the file name / SPM header)")
    p.add_argument("--df", type=float, nargs="+", metavar="DF",
                   help="degrees of freedom (T: one value; F: two); default from the file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--fwhm", type=float, nargs="+", metavar="MM",
                        help="smoothness FWHM in mm: one value or three (voxel axes i, j, k)")
    source.add_argument("--smoothness", metavar="FILE",
                        help="FSL stats/smoothness file (DLH, VOLUME, RESELS)")
    source.add_argument("--residuals", nargs="+", metavar="FILE",
                        help="residual images: one 4D file (FSL res4d) or SPM ResI_*.nii files")
    p.add_argument("--mask", help="analysis mask (default: the map's non-zero, non-NaN voxels)")
    p.add_argument("--alpha", type=float, default=SVC_ALPHA,
                   help="FWE level (default %(default)s)")
    p.add_argument("--two-sided", action="store_true",
                   help="search both tails (alpha/2 per tail); peaks report their sign")
    p.add_argument("--label", type=int, help="use only this label of a label-image ROI")
    p.add_argument("--height-p", type=float, default=SVC_HEIGHT_P,
                   help="uncorrected p defining clusters and listed peaks (default %(default)s)")
    p.add_argument("--min-distance", type=float, default=SVC_MIN_DISTANCE_MM, metavar="MM",
                   help="minimum distance between listed peaks of a cluster (SPM SVC: 4 mm)")
    p.add_argument("--connectivity", type=int, choices=[6, 18, 26], default=SVC_CONNECTIVITY,
                   help="cluster connectivity (SPM: 18)")
    p.add_argument("--resels-in-mask", action="store_true",
                   help="count resels over ROI voxels with data instead of the whole ROI")
    p.add_argument("--resample-roi", action="store_true",
                   help="resample an ROI on another grid onto the map's grid (nearest neighbour)")
    p.add_argument("--resample-mask", action="store_true",
                   help="resample a mask on another grid onto the map's grid (nearest neighbour)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _check_level(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise input_error(None, f"{name} must lie strictly between 0 and 1, got {value:g}")


def run(args: argparse.Namespace) -> dict:
    """Read the inputs, run the SVC and return its summary."""
    from ..core.svc.correction import (
        analysis_mask_of,
        check_search_volume,
        small_volume_correction,
    )
    from ..core.svc.inputs import read_mask, read_roi, read_stat_map
    from ..core.svc.smoothness import (
        estimate_smoothness,
        read_fsl_smoothness,
        smoothness_from_fwhm_mm,
    )

    _check_level("--alpha", args.alpha)
    _check_level("--height-p", args.height_p)
    stat = read_stat_map(args.stat, args.stat_type, args.df)
    grid = stat.grid
    owner = f"the statistic map {args.stat}"
    roi = read_roi(args.roi, grid, args.label, args.resample_roi, owner)
    mask = read_mask(args.mask, grid, args.resample_mask, owner) if args.mask else None
    check_search_volume(roi, analysis_mask_of(stat.data, mask), args.roi, args.mask)
    if args.fwhm is not None:
        smoothness = smoothness_from_fwhm_mm(args.fwhm, grid)
    elif args.smoothness is not None:
        smoothness = read_fsl_smoothness(args.smoothness, grid)
    else:
        smoothness = estimate_smoothness(args.residuals, grid, mask)
    if stat.stat_type == "F" and args.two_sided:
        raise input_error(args.stat, "is an F map, which has one tail only; drop --two-sided")
    result = small_volume_correction(
        stat.data, roi, grid, smoothness, stat.stat_type, stat.df,
        analysis_mask=mask, alpha=args.alpha, two_sided=args.two_sided, height_p=args.height_p,
        min_distance_mm=args.min_distance, connectivity=args.connectivity,
        resels_in_mask=args.resels_in_mask,
    )
    out = result.to_dict()
    out["files"] = {"stat": args.stat, "roi": args.roi, "mask": args.mask, "label": args.label}
    return out
