"""``milna report DIR|SESSION --out report.html``: one self-contained HTML page of a study.

One HTML file, images inside it (no other files): coverage / dropout QC per run and ROI,
the small-volume correction of every contrast in every ROI in SPM's table layout (set,
cluster and peak level) with a lightbox through the ROI, the crossover's paired plots and
statistics, motion and physiology summaries, and a methods paragraph written from the
parameters used. DIR is a study folder: its SPM, FEAT, randomise and BIDS statistics
folders, fMRIPrep runs, crossover study tables, motion and physiology files are found
there. SESSION is a napari-milna session file: its statistical map (with its df,
smoothness and mask), ROIs, run and masks, and the rest of its study folder. ROIs: --roi,
else the session's, else the literature seeds PAG and RVM on the first map's grid.
"""

from __future__ import annotations

from pathlib import Path

from . import options

HELP = "one self-contained HTML report of a study folder or a saved session"
OVERWRITE = "replace an existing report"


def add_arguments(parser) -> None:
    """The arguments of ``milna report``."""
    parser.add_argument("source", metavar="DIR|SESSION", help="study folder, or a napari-milna "
                        "session file (*.milna-session.json)")
    options.out(parser, "the HTML file to write", metavar="HTML")
    options.roi_files(parser, "ROI mask(s) or dseg label image(s) (default: the session's "
                      "ROIs, else the PAG and RVM literature seeds)")


def run(args) -> dict:
    """Check the output, build the report, write it; return its summary."""
    from ..core.io.atomic import check_writable
    from ..core.report import build_report, write_report

    out = Path(args.out)
    check_writable(out, args.overwrite)  # before the work, not after it
    study = build_report(args.source, rois=args.roi)
    written = write_report(study, out, overwrite=args.overwrite)
    summary = study.to_dict()
    return {"report": str(written), **summary}
