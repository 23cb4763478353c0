"""``milna perm ROI IMAGE...``: sign-flip permutation test of subject images, max t over an ROI.

One-sample t of subject images (contrasts, or paired differences such as drug minus placebo
computed beforehand) with FWE correction over the ROI by sign flipping: all 2^N flips when
there are at most 2^20, else random flips.
"""

from __future__ import annotations

import argparse

from ..core.errors import input_error
from . import description

HELP = "sign-flip permutation test of subject images, FWE over an ROI (max t)"


def add_parser(subparsers) -> None:
    """Register ``milna perm``."""
    p = subparsers.add_parser("perm", help=HELP, description=description(__doc__))
    p.add_argument("roi", help="ROI mask or label image (with --whole-brain: the first image)")
    p.add_argument("images", nargs="+", help="subject images (3D each, or one 4D file)")
    p.add_argument("--n-perm", type=int, default=0, metavar="N",
                   help="0 (default): all 2^N flips if 2^N <= 2^20, else 10000 random flips; "
                   "N: all flips if 2^N <= N, else N random flips")
    p.add_argument("--seed", type=int, default=0, help="seed of the random flips (default 0)")
    p.add_argument("--two-sided", action="store_true", help="max |t| instead of max t")
    p.add_argument("--label", type=int, help="use only this label of a label-image ROI")
    p.add_argument("--whole-brain", action="store_true",
                   help="search every voxel with data in all subjects (or in --mask); every "
                   "positional argument is then a subject image")
    p.add_argument("--mask", help="with --whole-brain: restrict the search to this mask")
    p.add_argument("--resample-roi", action="store_true",
                   help="resample an ROI on another grid onto the images' grid "
                   "(nearest neighbour)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _read_subjects(paths):
    """Subject volumes (3D files, or the volumes of 4D files) on one grid."""
    import numpy as np

    from ..core.io.nifti import open_nifti

    volumes, grid, first = [], None, None
    for path in paths:
        src = open_nifti(path)
        if grid is None:
            grid, first = src.grid, path
        elif not src.grid.matches(grid):
            raise input_error(
                path, f"lies on a different voxel grid ({src.grid.describe()}) than {first} "
                f"({grid.describe()}); subject images must share one grid"
            )
        if src.is_run:
            run = src.run()
            volumes.extend(np.asarray(run.volume(t), dtype=np.float64)
                           for t in range(src.n_volumes))
        else:
            volumes.append(np.asarray(src.volume(), dtype=np.float64))
    return volumes, grid, first


def run(args: argparse.Namespace) -> dict:
    """Read the images, run the sign-flip test and summarise the peak."""
    import numpy as np

    from ..core.svc.inputs import read_mask, read_roi
    from ..core.svc.permutation import MIN_SUBJECTS, sign_flip_test, subject_matrix

    if args.n_perm < 0:
        raise input_error(None, f"--n-perm must be 0 (all flips) or positive, got {args.n_perm}")
    paths = ([args.roi] if args.whole_brain else []) + list(args.images)
    volumes, grid, first = _read_subjects(paths)
    if len(volumes) < MIN_SUBJECTS:
        raise input_error(
            None, f"a sign-flip permutation test needs at least {MIN_SUBJECTS} subject images, "
            f"got {len(volumes)} ({', '.join(paths)})"
        )
    owner = f"the subject image {first}"
    if args.whole_brain:
        search = read_mask(args.mask, grid, False, owner) if args.mask else np.ones(grid.shape,
                                                                                     bool)
        roi_name = args.mask
    else:
        search = read_roi(args.roi, grid, args.label, args.resample_roi, owner)
        roi_name = args.roi
    data, kept = subject_matrix(volumes, search)
    if data.shape[1] == 0:
        raise input_error(
            roi_name, "none of the search voxels has data (finite, not all zero) in every "
            "subject image"
        )
    result = sign_flip_test(data, n_perm=args.n_perm, seed=args.seed, two_sided=args.two_sided)
    out = result.to_dict()
    ijk = np.argwhere(kept)[out["peak"].pop("index")]
    out["peak"]["ijk"] = [int(v) for v in ijk]
    out["peak"]["xyz_mm"] = [float(v) for v in grid.to_world(ijk)]
    out["n_search_voxels"] = int(search.sum())
    out["files"] = {"roi": None if args.whole_brain else args.roi, "images": paths}
    return out
