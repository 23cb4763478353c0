"""``milna crossover TABLE --out DIR``: drug-vs-placebo crossover maps and ROI statistics.

Reads a study table (TSV / CSV: subject, treatment drug|placebo, condition, path, optional
period) or a BIDS-derivatives folder (sub-, ses-/acq- drug|placebo, contrast- entities),
computes each subject's contrast -- the interaction (Drug_Pain - Drug_Baseline) -
(Placebo_Pain - Placebo_Baseline), or Drug - Placebo of a ready contrast -- and writes the
per-subject maps and the paired group t map (df = N - 1; N - 2 with --period) into DIR. With
ROIs: per-subject ROI means, paired t, Cohen's dz, Wilcoxon, exact sign-flip p and Holm
correction across ROIs.
"""

from __future__ import annotations

import argparse

from ..core.errors import input_error
from ..core.protocol import CONTRAST_KINDS
from . import options

HELP = (
    "drug-vs-placebo crossover: per-subject interaction maps, paired group t map "
    "(SPM df in the header) and per-ROI paired statistics"
)
OVERWRITE = "replace existing outputs"


def add_arguments(parser) -> None:
    """The arguments of ``milna crossover``."""
    parser.add_argument("table", help="study table (.tsv / .csv) or BIDS-derivatives folder")
    options.out(parser, "output folder", metavar="DIR")
    options.roi_files(parser, "ROI mask(s) or dseg label image(s) (names from the dseg .tsv)")
    parser.add_argument("--contrast", choices=CONTRAST_KINDS,
                        help="interaction (default when pain and baseline / sensory are there) "
                        "or difference (drug - placebo of one condition or ready contrast)")
    parser.add_argument("--condition", metavar="NAME",
                        help="interaction: the task condition (default pain); difference: the "
                        "condition or ready contrast compared (default: the only one)")
    parser.add_argument("--control", metavar="NAME",
                        help="interaction: the control condition, baseline (default) or "
                        "sensory (Pain > Sensory)")
    parser.add_argument("--period", action="store_true",
                        help="period (sequence) as a second-level covariate: the group map is "
                        "the treatment t adjusted for period (df N - 2), the period map is "
                        "written too")
    options.resample(parser, "--resample", "maps", "the first map's grid", method="trilinear")
    options.resample(parser, "--resample-roi", "ROIs", "the maps' grid")


def run(args: argparse.Namespace) -> dict:
    """Validate the study, compute and write the maps, and summarise the ROI statistics."""
    from ..core.crossover.analysis import rois_from_files, run_crossover, write_crossover
    from ..core.crossover.study_table import choose_contrast, open_study, validate_study

    table = open_study(args.table)
    present = table.conditions
    for option, value in (("--condition", args.condition), ("--control", args.control)):
        if value is not None and value not in present:
            raise input_error(table.source, f"holds no condition {value!r} for {option} "
                                            f"(conditions: {', '.join(present)})")
    contrast = choose_contrast(table, args.contrast, args.condition, args.control)
    study = validate_study(table, contrast, resample=args.resample)
    rois = rois_from_files(args.roi, study.grid, resample=args.resample_roi) if args.roi else []
    result = run_crossover(study, rois, period=args.period)
    paths = write_crossover(result, args.out, overwrite=args.overwrite)
    group_key = "group_t_period_adjusted" if args.period else "group_t"
    out = {
        "n_subjects": study.n_subjects,
        "group_map": str(paths[group_key]),
        "df": result.df,
        "rois": [r.to_dict(per_subject=False) for r in result.rois],
        "contrast": contrast.to_dict(),
        "subjects": list(study.subjects),
        "paired_map": str(paths["group_t"]),
        "mean_map": str(paths["group_mean"]),
        "period_covariate": bool(args.period),
        "resampled": [str(p) for p in study.resampled],
        "outputs": {role: str(path) for role, path in paths.items()},
    }
    if args.period:
        out["period_map"] = str(paths["period_t"])
    return out
