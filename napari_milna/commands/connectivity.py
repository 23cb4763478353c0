"""``milna connectivity BOLD [BOLD ...]``: insula -> DMN resting-state connectivity.

Insula seeds and DMN nodes from the Seitzman 2020 / Power 2011 coordinates bundled with
nilearn; per run a Fisher z map per seed and the mean z with the DMN; per subject with
ses-drug and ses-placebo runs, the difference maps.
"""

from __future__ import annotations

from ..core.protocol import CONNECTIVITY_HIGH_PASS_HZ, CONNECTIVITY_LOW_PASS_HZ
from . import options
from .values import check_band, coordinate_mm, frequency_hz, length_mm

HELP = "insula -> default-mode network seed connectivity (Fisher z maps)"
OVERWRITE = "replace existing maps"


def add_arguments(parser) -> None:
    """The arguments of ``milna connectivity``."""
    parser.add_argument("bold", nargs="+", help="resting-state runs in MNI space")
    options.confounds(parser, files="one confounds TSV per run (fMRIPrep: 6 motion + csf + "
                      "white_matter, and FD scrubbing)",
                      columns="columns to take from --confounds")
    options.fd_threshold(parser)
    parser.add_argument("--seed", nargs=4, action="append", metavar=("NAME", "X", "Y", "Z"),
                        help="a seed of your own (MNI mm, 5 mm sphere); repeat for more")
    options.brain_mask(parser)
    parser.add_argument("--high-pass", type=frequency_hz, default=CONNECTIVITY_HIGH_PASS_HZ,
                        help="Hz (default %(default)s; 0: none)")
    parser.add_argument("--low-pass", type=frequency_hz, default=CONNECTIVITY_LOW_PASS_HZ,
                        help="Hz (default %(default)s; 0: none)")
    parser.add_argument("--smoothing", type=length_mm, default=0.0,
                        help="FWHM in mm (default none)")
    parser.add_argument("--drug", default="drug", help="ses- label of the drug session")
    parser.add_argument("--placebo", default="placebo",
                        help="ses- label of the placebo session")
    options.out(parser)


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
