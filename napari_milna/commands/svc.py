"""``milna svc STAT ROI``: small-volume correction of a statistic map, as SPM12 does it.

Peak and cluster statistics of a T or Z map inside an ROI with family-wise error correction
over the ROI only, exactly as SPM12's SVC: min(random field theory, Bonferroni over the ROI
voxels that have data). When STAT lies in an SPM, FEAT, randomise or BIDS analysis folder
(or is that folder, with --contrast), its degrees of freedom, smoothness, analysis mask and
SPM's RPV image come from the folder unless an option gives them; a FEAT T map with voxelwise
df (stats/tdof_tN) is converted to z voxel by voxel as FSL does. The JSON adds SPM's set- and
cluster-level results (set_level, and k, k_resels, p_fwe, p_uncorrected, q_fdr and peak per
cluster) at the cluster-forming height --height-p and extent --extent. With --atlas (a
label or 4D probabilistic atlas file, or a built-in name such as harvard-oxford-subcortical)
every peak and cluster gains atlas_label (and atlas_probability), and the CSV a column.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import input_error
from ..core.protocol import SVC_ALPHA, SVC_CONNECTIVITY, SVC_HEIGHT_P, SVC_MIN_DISTANCE_MM
from . import options
from .values import count, degrees_of_freedom, length_mm, level, positive_count, positive_mm

HELP = "small-volume correction (SPM12 RFT + Bonferroni, FDR) of a T/Z map in an ROI"
OVERWRITE = "replace an existing --csv file"


def add_arguments(parser) -> None:
    """The arguments of ``milna svc``."""
    parser.add_argument("stat", help="statistic map (spmT_0001.nii, zstat1.nii.gz, ...) or an "
                        "analysis folder (with --contrast)")
    parser.add_argument("roi", help="ROI mask or label image on the map's grid")
    parser.add_argument("--type", dest="stat_type", choices=["t", "z", "f"], type=str.lower,
                        help="statistic type (default: from the file name / SPM header)")
    parser.add_argument("--df", type=degrees_of_freedom, nargs="+", metavar="DF",
                        help="degrees of freedom (T: one value; F: two); default from the file")
    options.contrast_number(parser, "contrast number when STAT is an analysis folder "
                            "(default 1)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--fwhm", type=positive_mm, nargs="+", metavar="MM",
                        help="smoothness FWHM in mm: one value or three (voxel axes i, j, k)")
    source.add_argument("--smoothness", metavar="FILE",
                        help="FSL stats/smoothness file (DLH, VOLUME, RESELS)")
    source.add_argument("--residuals", nargs="+", metavar="FILE",
                        help="residual images: one 4D file (FSL res4d) or SPM ResI_*.nii files")
    parser.add_argument("--mask",
                        help="analysis mask (default: the map's non-zero, non-NaN voxels)")
    parser.add_argument("--alpha", type=level, default=SVC_ALPHA,
                        help="FWE level (default %(default)s)")
    parser.add_argument("--two-sided", action="store_true",
                        help="search both tails (alpha/2 per tail); peaks report their sign")
    options.roi_label(parser)
    parser.add_argument("--height-p", type=level, default=SVC_HEIGHT_P,
                        help="uncorrected p defining clusters and listed peaks (default "
                        "%(default)s)")
    parser.add_argument("--min-distance", type=length_mm, default=SVC_MIN_DISTANCE_MM,
                        metavar="MM", help="minimum distance between listed peaks of a cluster "
                        "(SPM SVC: 4 mm)")
    options.cluster_connectivity(parser, "--connectivity", SVC_CONNECTIVITY,
                                 "cluster connectivity (SPM: 18)")
    parser.add_argument("--resels-in-mask", action="store_true",
                        help="count resels over ROI voxels with data instead of the whole ROI")
    options.resample(parser, "--resample-roi", "an ROI", "the map's grid")
    options.resample(parser, "--resample-mask", "a mask", "the map's grid")
    parser.add_argument("--extent", type=count, default=0, metavar="K",
                        help="cluster extent threshold in voxels for the results table "
                        "(default 0)")
    parser.add_argument("--rpv", metavar="FILE",
                        help="SPM resels-per-voxel image: non-stationary cluster extents "
                        "(default: the folder's RPV.nii)")
    parser.add_argument("--stationary", action="store_true",
                        help="stationary cluster extents (k x V2R) even when the folder has "
                        "RPV.nii")
    parser.add_argument("--table-peaks", type=positive_count, default=3, metavar="N",
                        help="maxima per cluster in the results table (SPM: 3)")
    parser.add_argument("--table-distance", type=length_mm, default=8.0, metavar="MM",
                        help="their minimum distance (SPM: 8 mm)")
    parser.add_argument("--atlas", metavar="FILE",
                        help="atlas for a label per peak: a label image or 4D probabilistic "
                        "atlas (lookup table beside it: FSL XML, FreeSurfer LUT, dseg.tsv), or "
                        "a built-in name (harvard-oxford-subcortical, harvard-oxford-cortical, "
                        "harvard-oxford)")
    parser.add_argument("--atlas-lut", metavar="FILE",
                        help="the atlas's lookup table when it does not sit beside the atlas")
    parser.add_argument("--csv", metavar="OUT", help="also write the table of peaks and "
                        "clusters as CSV (the SVC tab's export)")


def run(args: argparse.Namespace) -> dict:
    """Read the inputs (and the analysis folder STAT lies in), run the SVC, return its summary."""
    from ..core.svc.correction import (
        analysis_mask_of,
        check_search_volume,
        small_volume_correction,
    )
    from ..core.svc.inputs import read_mask, read_roi
    from ..core.svc.smoothness import (
        estimate_smoothness,
        read_fsl_smoothness,
        smoothness_from_fwhm_mm,
    )

    if args.fwhm is not None and len(args.fwhm) not in (1, 3):
        raise input_error(None, f"--fwhm takes one FWHM in mm or three (voxel axes i, j, k), "
                                f"not {len(args.fwhm)} values")
    if args.df is not None and len(args.df) > 2:
        raise input_error(None, f"--df takes one value (T) or two (F), not {len(args.df)}")
    if args.csv:
        from ..core.io.atomic import check_writable

        check_writable(Path(args.csv), args.overwrite)  # before the work, not after it
    folder, stat = _stat_map(args)
    atlas = _atlas(args, stat)  # before the work, so that a bad atlas costs nothing
    grid = stat.grid
    stat_path = str(folder.path) if folder is not None else args.stat
    owner = f"the statistic map {stat_path}"
    roi = read_roi(args.roi, grid, args.label, args.resample_roi, owner)
    mask, mask_path = None, None
    if args.mask:
        mask, mask_path = read_mask(args.mask, grid, args.resample_mask, owner), args.mask
    elif folder is not None and folder.mask is not None:
        mask, mask_path = folder.mask, str(folder.mask_path)
    check_search_volume(roi, analysis_mask_of(stat.data, mask), args.roi, mask_path)
    if args.fwhm is not None:
        smoothness = smoothness_from_fwhm_mm(args.fwhm, grid)
    elif args.smoothness is not None:
        smoothness = read_fsl_smoothness(args.smoothness, grid)
    elif args.residuals is not None:
        smoothness = estimate_smoothness(args.residuals, grid, mask)
    else:
        smoothness = _folder_smoothness(folder, stat_path)
    if stat.stat_type == "F" and args.two_sided:
        raise input_error(stat_path, "is an F map, which has one tail only; drop --two-sided")
    rpv, rpv_path = _rpv(args, folder, grid, owner)
    result = small_volume_correction(
        stat.data, roi, grid, smoothness, stat.stat_type, stat.df,
        analysis_mask=mask, alpha=args.alpha, two_sided=args.two_sided, height_p=args.height_p,
        min_distance_mm=args.min_distance, connectivity=args.connectivity,
        resels_in_mask=args.resels_in_mask, extent_voxels=args.extent, rpv=rpv,
        table_peaks=(args.table_peaks, args.table_distance),
    )
    out = result.to_dict()
    out["cluster_level"]["rpv"] = rpv_path
    out["files"] = {"stat": stat_path, "roi": args.roi, "mask": mask_path, "label": args.label}
    if folder is not None:
        out["analysis"] = folder.describe()
        explicit_df = args.df is not None or args.stat_type is not None
        out["df_source"] = "option" if explicit_df else (folder.df_source or None)
        if folder.converted is not None and not explicit_df:
            out["df"] = "voxelwise"
            out["df_min"] = folder.converted["df_min"]
            out["df_max"] = folder.converted["df_max"]
            out["converted_from"] = "T"
    if atlas is not None:
        from ..core.atlas import label_summary

        label_summary(out, atlas)
    if args.csv:
        inputs = {"stat_map": stat_path, "roi": _roi_text(args.roi, args.label)}
        out["csv"] = str(_write_csv(result, args, inputs, atlas))
    return out


def _atlas(args, stat):
    """The atlas of --atlas (a file or a built-in name), in the map's space, or None."""
    if not args.atlas:
        if args.atlas_lut:
            raise input_error(None, "--atlas-lut needs --atlas")
        return None
    from ..core.atlas import check_same_space, resolve_atlas

    atlas = resolve_atlas(args.atlas, args.atlas_lut)
    check_same_space(atlas, stat.source)
    return atlas


def _write_csv(result, args, inputs, atlas):
    """The SVC tab's CSV; with an atlas, its labels after the coordinates."""
    from ..core.svc.export import write_csv

    return write_csv(result.to_dict(), args.csv, inputs, atlas=atlas, overwrite=args.overwrite)


def _roi_text(roi: str, label: int | None) -> str:
    return roi if label is None else f"{roi} (label {label})"


def _stat_map(args):
    """The analysis folder STAT belongs to (or None) and the map with its type and df."""
    from ..core.analysis import folder_stat_map
    from ..core.svc.inputs import StatMap, read_stat_map

    keep_t = args.stat_type == "t" and args.df is None
    folder = folder_stat_map(args.stat, args.contrast, keep_t=keep_t)
    if folder is None:
        if args.contrast is not None:
            raise input_error(args.stat, "lies in no analysis folder, so --contrast does not "
                              "apply")
        return None, read_stat_map(args.stat, args.stat_type, args.df)
    explicit = args.stat_type is not None or args.df is not None
    if explicit or folder.stat_type not in ("T", "Z", "F") or (
        folder.stat_type != "Z" and folder.df is None
    ):
        return folder, read_stat_map(folder.path, args.stat_type, args.df)
    source = _source_of(folder.path)
    if not (folder.data != 0).any():
        return folder, read_stat_map(folder.path)  # says "nothing to test"
    return folder, StatMap(source, folder.data, folder.stat_type, folder.df)


def _source_of(path):
    from ..core.io.nifti import load_volume

    return load_volume(path)


def _folder_smoothness(folder, stat_path):
    if folder is None:
        raise input_error(
            stat_path, "lies in no SPM or FEAT folder that records its smoothness; give "
            "--fwhm, --smoothness or --residuals"
        )
    if folder.smoothness is not None:
        return folder.smoothness
    analysis = folder.analysis
    if analysis.kind == "feat":
        feat = folder.contrast.details.get("feat", str(analysis.folder))
        raise input_error(
            f"{feat}/stats/smoothness", "does not exist, so the FEAT folder gives no "
            "smoothness for random field theory; give --fwhm, --smoothness or --residuals"
        )
    if analysis.kind == "spm":
        raise input_error(
            analysis.key_file, "has no xVol.FWHM (the model was not estimated?), so it gives "
            "no smoothness; give --fwhm, --smoothness or --residuals"
        )
    raise input_error(
        stat_path, f"lies in a {analysis.kind} folder, which records no smoothness; give "
        "--fwhm, --smoothness or --residuals"
    )


def _rpv(args, folder, grid, owner):
    """SPM's resels-per-voxel image on the map's grid, or (None, None)."""
    import numpy as np

    from ..core.io.nifti import load_volume

    if args.stationary:
        return None, None
    if args.rpv:
        source = load_volume(args.rpv)
        if not source.grid.matches(grid):
            raise input_error(args.rpv, f"lies on another voxel grid than {owner}")
        data = np.asarray(source.volume(), dtype=float)
        return np.where(np.isfinite(data) & (data > 0), data, np.nan), args.rpv
    if folder is not None and folder.rpv is not None:
        return folder.rpv, str(folder.rpv_path)
    return None, None
