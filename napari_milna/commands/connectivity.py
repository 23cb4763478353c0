"""``milna connectivity BOLD [BOLD ...]``: insula -> DMN resting-state connectivity.

Insula seeds and DMN nodes from the Seitzman 2020 / Power 2011 coordinates bundled with
nilearn; per run a Fisher z map per seed and the mean z with the DMN; per subject with
ses-drug and ses-placebo runs, the difference maps.
"""

from __future__ import annotations

from ..core.protocol import (
    CONNECTIVITY_HIGH_PASS_HZ,
    CONNECTIVITY_LOW_PASS_HZ,
    FD_THRESHOLD_MM,
)
from . import description, finish
from .values import check_band, coordinate_mm, frequency_hz, length_mm, positive_mm

HELP = "insula -> default-mode network seed connectivity (Fisher z maps)"


def add_parser(subparsers) -> None:
    """Register ``milna connectivity``."""
    p = subparsers.add_parser("connectivity", help=HELP, description=description(__doc__))
    p.add_argument("bold", nargs="+", help="resting-state runs in MNI space")
    p.add_argument("--confounds", nargs="+",
                   help="one confounds TSV per run (fMRIPrep: 6 motion + csf + white_matter, "
                        "and FD scrubbing)")
    p.add_argument("--confound-columns", nargs="+", help="columns to take from --confounds")
    p.add_argument("--fd-threshold", type=positive_mm, default=FD_THRESHOLD_MM,
                   help="scrub volumes with FD above this (mm, default 0.5)")
    p.add_argument("--seed", nargs=4, action="append", metavar=("NAME", "X", "Y", "Z"),
                   help="a seed of your own (MNI mm, 5 mm sphere); repeat for more")
    p.add_argument("--mask", help="brain mask (default: nilearn's EPI mask)")
    p.add_argument("--high-pass", type=frequency_hz, default=CONNECTIVITY_HIGH_PASS_HZ,
                   help="Hz (default %(default)s; 0: none)")
    p.add_argument("--low-pass", type=frequency_hz, default=CONNECTIVITY_LOW_PASS_HZ,
                   help="Hz (default %(default)s; 0: none)")
    p.add_argument("--smoothing", type=length_mm, default=0.0,
                   help="FWHM in mm (default none)")
    p.add_argument("--drug", default="drug", help="ses- label of the drug session")
    p.add_argument("--placebo", default="placebo", help="ses- label of the placebo session")
    p.add_argument("--out", required=True, help="existing output folder")
    finish(p, run, overwrite="replace existing maps")


def run(args) -> dict:
    """Compute, write and summarise."""
    import argparse

    from ..core.errors import input_error
    from ..core.preproc.connectivity import Seed
    from ..core.preproc.connectivity_study import resting_connectivity

    check_band(args.high_pass, args.low_pass)
    seeds = None
    if args.seed:
        seeds = []
        for name, *xyz in args.seed:
            try:
                seeds.append(Seed(name, tuple(coordinate_mm(v) for v in xyz)))
            except argparse.ArgumentTypeError as exc:
                raise input_error(None, f"--seed {name}: each coordinate {exc}") from None
    study = resting_connectivity(
        args.bold, args.out, confounds=args.confounds, confound_columns=args.confound_columns,
        fd_threshold=args.fd_threshold, seeds=seeds, mask=args.mask,
        high_pass=args.high_pass if args.high_pass > 0 else None,
        low_pass=args.low_pass if args.low_pass > 0 else None,
        smoothing_fwhm=args.smoothing if args.smoothing > 0 else None,
        drug=args.drug, placebo=args.placebo, overwrite=args.overwrite,
    )
    return study.to_dict()
