"""``milna roi seed|info|resample``: literature seeds, ROI facts, explicit resampling."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import input_error
from ..core.protocol import SEED_FRACTION, SEED_VARIANTS
from . import finish, options
from .values import fraction, probability

HELP = "seed brainstem ROIs, describe and resample ROI files"

_FACT_KEYS = ("n_voxels", "volume_mm3", "centroid_mm", "csf_fraction")


def add_arguments(parser) -> None:
    """The actions of ``milna roi``, each closed with its own ``run_*``."""
    actions = parser.add_subparsers(dest="roi_command", metavar="ACTION", required=True)

    variants = sorted({v for region in SEED_VARIANTS.values() for v in region})
    seed = actions.add_parser(
        "seed",
        help="write a literature seed (PAG, RVM) on the grid of a reference image",
        description="Seeds are MNI coordinates from the literature (Satpute 2013 PAG, CANlab "
        "RVM, Baer 2016 NRM, Nash 2009 medullary raphe), placed on REF's own grid by voxel "
        "coverage fraction.",
    )
    seed.add_argument("--region", required=True, type=str.upper, choices=sorted(SEED_VARIANTS))
    seed.add_argument("--ref", required=True, help="reference image (its grid and header)")
    options.out(seed, "output file, or a folder (BIDS name)")
    seed.add_argument(
        "--shape",
        choices=variants,
        help="PAG: cylinder (default) or sphere; RVM: canlab (default), nrm or raphe",
    )
    seed.add_argument("--csf", help="CSF probability map (probseg, pve_0, c3)")
    seed.add_argument(
        "--csf-max",
        type=probability,
        metavar="P",
        help="drop seed voxels whose CSF probability is above P",
    )
    seed.add_argument(
        "--fraction",
        type=fraction,
        default=SEED_FRACTION,
        metavar="F",
        help="keep voxels covered by at least this fraction of their volume (default 0.5)",
    )
    seed.add_argument("--name", help="ROI name in the file name (default: the region)")
    seed.add_argument("--assume-mni", action="store_true", help="confirm that REF is in MNI space")
    finish(seed, run_seed, overwrite="replace an existing file")

    info = actions.add_parser("info", help="facts of an ROI file (mask or dseg)")
    info.add_argument("roi", help="ROI file: *_mask.nii.gz or *_dseg.nii.gz (+ .tsv)")
    info.add_argument("--ref", help="reference image the ROI must lie on")
    info.add_argument("--stat", help="statistical map on the ROI grid (mean, peak)")
    info.add_argument("--csf", help="CSF probability map (resampled if on another grid)")
    info.add_argument("--brain", help="brain mask on the ROI grid")
    info.add_argument("--coverage", help="coverage / analysis mask on the ROI grid")
    finish(info, run_info)

    move = actions.add_parser("resample", help="move an ROI file onto a reference grid")
    move.add_argument("roi", help="ROI file: mask or dseg")
    move.add_argument("--ref", required=True, help="reference image whose grid to use")
    options.out(move, "output file, or a folder (BIDS name)")
    move.add_argument("--method", choices=("nearest", "fraction"), default="nearest")
    move.add_argument(
        "--fraction", type=fraction, default=0.5, help="threshold for --method fraction"
    )
    finish(move, run_resample, overwrite="replace an existing file")


def _csf_on(path, grid):
    from ..core.io.nifti import load_volume
    from ..core.roi.refine import map_on_grid

    source = load_volume(path)
    return map_on_grid(source.volume(), source.grid, grid, name=str(source.path))


def run_seed(args) -> dict:
    """Seed, optionally drop CSF voxels, write, and report the facts."""
    from ..core.io.nifti import open_nifti
    from ..core.roi.facts import roi_facts
    from ..core.roi.io import save_roi_mask
    from ..core.roi.refine import exclude_csf
    from ..core.roi.seeds import seed_roi

    if args.csf_max is not None and not args.csf:
        raise input_error(None, "--csf-max needs a CSF probability map (--csf)")
    ref = open_nifti(args.ref)
    seed = seed_roi(
        args.region, ref, variant=args.shape, fraction=args.fraction, assume_mni=args.assume_mni
    )
    mask, csf, extra = seed.mask, None, {"csf_resampled": None}
    if args.csf:
        on_grid = _csf_on(args.csf, ref.grid)
        csf = on_grid.data
        extra = {"csf_resampled": on_grid.resampled, "csf_note": on_grid.note}
        if args.csf_max is not None:
            exclusion = exclude_csf(mask, ref.grid, csf, max_probability=args.csf_max)
            mask = exclusion.mask
            extra.update(csf_max=args.csf_max, csf_removed=exclusion.n_removed)
            if not mask.any():
                raise input_error(
                    args.csf,
                    f"every voxel of the {seed.spec.region} seed has a CSF probability above "
                    f"{args.csf_max:g}; nothing was written",
                )
    name = args.name or seed.spec.region
    facts = roi_facts(mask, ref.grid, csf=csf, name=name).to_dict()
    out = save_roi_mask(mask, ref, args.out, name=name, overwrite=args.overwrite)
    summary = seed.to_dict()
    return {
        "out": str(out),
        "reference": str(ref.path),
        "region": summary["region"],
        "shape": summary["variant"],
        **{k: facts[k] for k in _FACT_KEYS},
        **extra,
        "fraction_threshold": summary["fraction_threshold"],
        "seed_voxels": summary["n_voxels"],
        "fov_fraction": summary["fov_fraction"],
        "mni_evidence": summary["mni_evidence"],
        "citation": summary["citation"],
        "geometry": summary["shape"],
        "warnings": summary["warnings"],
    }


def _same_grid(path, grid, roi_path, what: str):
    import numpy as np

    from ..core.io.nifti import load_volume

    source = load_volume(path)
    if not source.grid.matches(grid):
        raise input_error(
            roi_path,
            f"lies on a {grid.describe()} grid that does not match the {what} {source.path} "
            f"({source.grid.describe()}); resample the ROI onto it explicitly "
            "(milna roi resample)",
        )
    data = source.volume()
    if what.endswith("mask") and not (np.isfinite(data) & (data != 0)).any():
        raise input_error(source.path, f"is an empty {what}: it has no non-zero voxel")
    return data


def run_info(args) -> dict:
    """Facts of every ROI in a mask or dseg file."""
    from ..core.io.nifti import open_nifti
    from ..core.roi.facts import roi_facts_table
    from ..core.roi.io import load_roi

    roi = load_roi(args.roi, reference=open_nifti(args.ref) if args.ref else None,
                   require_voxels=True)
    maps, extra = {}, {}
    if args.stat:
        maps["stat"] = _same_grid(args.stat, roi.grid, roi.path, "statistical map")
    if args.brain:
        maps["brain"] = _same_grid(args.brain, roi.grid, roi.path, "brain mask")
    if args.coverage:
        maps["coverage"] = _same_grid(args.coverage, roi.grid, roi.path, "coverage mask")
    if args.csf:
        on_grid = _csf_on(args.csf, roi.grid)
        maps["csf"] = on_grid.data
        extra = {"csf_resampled": on_grid.resampled, "csf_note": on_grid.note}
    table = roi_facts_table(roi.labels, roi.grid, roi.names, **maps)
    if all(f.empty for f in table):
        raise input_error(roi.path, "holds no ROI voxel (the ROI is empty)")
    result = {
        "roi": str(roi.path),
        "kind": roi.kind,
        "grid": roi.grid.describe(),
        **extra,
        "rois": [f.to_dict() for f in table],
    }
    if roi.kind == "mask":
        result.update(table[0].to_dict())
    return result


def run_resample(args) -> dict:
    """Resample an ROI file onto REF's grid and write it (mask or dseg)."""
    from ..core.io.nifti import open_nifti
    from ..core.roi.facts import roi_facts_table
    from ..core.roi.io import load_roi, save_roi_labels, save_roi_mask

    ref = open_nifti(args.ref)
    roi = load_roi(args.roi, reference=ref, resample=args.method, threshold=args.fraction)
    table = roi_facts_table(roi.labels, roi.grid, roi.names)
    if all(f.empty for f in table):
        raise input_error(
            roi.path,
            f"keeps no voxel on the grid of {ref.path} (outside its field of view, or too "
            "small for the fraction threshold); nothing was written",
        )
    if roi.kind == "mask":
        out = save_roi_mask(roi.mask(), ref, args.out, name=roi.name, overwrite=args.overwrite)
        written = {"out": str(out)}
    else:
        target = Path(args.out)
        nii, tsv = save_roi_labels(roi.labels, roi.names, ref, target, overwrite=args.overwrite)
        written = {"out": str(nii), "tsv": str(tsv)}
    return {
        **written,
        "reference": str(ref.path),
        "resampled": roi.resampled_from is not None,
        "resampled_from": roi.resampled_from.describe() if roi.resampled_from else None,
        "method": args.method,
        "rois": [f.to_dict() for f in table],
    }
