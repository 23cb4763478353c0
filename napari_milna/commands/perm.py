"""``milna perm ROI IMAGE...``: sign-flip permutation test of subject images, max t over an ROI.

One-sample t of subject images (contrasts, or paired differences such as drug minus placebo
computed beforehand) with FWE correction over the ROI by sign flipping: all 2^N flips when
there are at most 2^20, else random flips. --tfce adds threshold-free cluster enhancement
(E 0.5, H 2, 26-connectivity as FSL randomise -T) with max-TFCE FWE p. With --whole-brain the
flips are spread over dask workers: local processes by default, or a running dask.distributed
scheduler given with --scheduler; the result is the same as in one process for the same seed.
"""

from __future__ import annotations

import argparse

from ..core.errors import input_error
from . import options
from .values import permutations, random_seed, tfce_steps

HELP = "sign-flip permutation test of subject images, FWE over an ROI (max t)"


def add_arguments(parser) -> None:
    """The arguments of ``milna perm``."""
    parser.add_argument("roi", help="ROI mask or label image (with --whole-brain: the first "
                        "image)")
    parser.add_argument("images", nargs="+", help="subject images (3D each, or one 4D file)")
    parser.add_argument("--n-perm", type=permutations, default=0, metavar="N",
                        help="0 (default): all 2^N flips if 2^N <= 2^20, else 10000 random "
                        "flips; N: all flips if 2^N <= N, else N random flips")
    parser.add_argument("--seed", type=random_seed, default=0,
                        help="seed of the random flips (default 0)")
    parser.add_argument("--two-sided", action="store_true", help="max |t| instead of max t")
    options.roi_label(parser)
    parser.add_argument("--whole-brain", action="store_true",
                        help="search every voxel with data in all subjects (or in --mask); "
                        "every positional argument is then a subject image")
    parser.add_argument("--mask", help="with --whole-brain: restrict the search to this mask")
    options.resample(parser, "--resample-roi", "an ROI", "the images' grid")
    parser.add_argument("--tfce", action="store_true",
                        help="also TFCE inside the search voxels, FWE p from the max TFCE of "
                        "every flip (all flips up to 2^15, else 10000 random ones)")
    options.cluster_connectivity(parser, "--tfce-connectivity", 26,
                                 "TFCE cluster connectivity (FSL randomise -T: 26)")
    parser.add_argument("--tfce-steps", type=tfce_steps, default=100, metavar="N",
                        help="TFCE heights per map, up to its maximum (fslmaths: 100)")
    options.dask_workers(
        parser,
        scheduler="address of a dask.distributed scheduler for the flips (default with "
                  "--whole-brain: local processes)",
        workers="local worker processes (default: the CPU count; 1: this process)",
        workers_metavar="N",
    )


def run(args: argparse.Namespace) -> dict:
    """Read the images, run the sign-flip test and summarise the peak."""
    import numpy as np

    from ..core.svc.inputs import read_mask, read_roi, read_subject_images
    from ..core.svc.permutation import (
        MIN_SUBJECTS,
        check_subject_variance,
        sign_flip_test,
        subject_matrix,
    )

    paths = ([args.roi] if args.whole_brain else []) + list(args.images)
    volumes, grid, first = read_subject_images(paths)
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
    check_subject_variance(data, f"{first} and the {len(volumes) - 1} other subject images")
    distributed = args.scheduler is not None or (args.whole_brain and args.workers != 1)
    if distributed:
        from ..core.svc.perm_distributed import distributed_sign_flip_test

        result = distributed_sign_flip_test(data, n_perm=args.n_perm, seed=args.seed,
                                            two_sided=args.two_sided,
                                            scheduler=args.scheduler, n_workers=args.workers)
    else:
        result = sign_flip_test(data, n_perm=args.n_perm, seed=args.seed,
                                two_sided=args.two_sided)
    out = result.to_dict()
    out["workers"] = {"scheduler": args.scheduler or ("processes" if distributed else None),
                      "n_workers": args.workers}
    ijk = np.argwhere(kept)[out["peak"].pop("index")]
    out["peak"]["ijk"] = [int(v) for v in ijk]
    out["peak"]["xyz_mm"] = [float(v) for v in grid.to_world(ijk)]
    out["n_search_voxels"] = int(search.sum())
    if args.tfce:
        out["tfce"] = _tfce(args, data, kept, grid)
    out["files"] = {"roi": None if args.whole_brain else args.roi, "images": paths}
    return out


def _tfce(args, data, kept, grid) -> dict:
    """TFCE inside the search voxels and its max-TFCE FWE p (peak voxel in mm)."""
    import numpy as np

    from ..core.svc.tfce import tfce_sign_flip_test

    res = tfce_sign_flip_test(data, kept, n_perm=args.n_perm, seed=args.seed,
                              two_sided=args.two_sided, connectivity=args.tfce_connectivity,
                              n_steps=args.tfce_steps)
    out = res.to_dict()
    ijk = np.argwhere(kept)[out.pop("index")]
    out["ijk"] = [int(v) for v in ijk]
    out["xyz_mm"] = [float(v) for v in grid.to_world(ijk)]
    return out
