"""``milna glm BOLD --events TSV``: first-level pain GLM with the protocol's confounds.

Block design from BIDS events, confounds RETROICOR + motion + CSF, FD scrubbing, 5 mm
smoothing, cosine drift 128 s, AR(1). Writes T maps (df in the header like SPM) and effect
maps, and reports the peak t in the PAG (with and without RETROICOR when --physio is given).
"""

from __future__ import annotations

from ..core.protocol import (
    CSF_EROSION,
    CSF_LEVEL,
    GLM_HIGH_PASS_HZ,
    GLM_SMOOTHING_FWHM_MM,
    MOTION_FORMATS,
    TASK_CORRELATION_LEVEL,
)
from . import options
from .values import count, erosion, frequency_hz, length_mm, probability

HELP = "first-level pain GLM (nilearn): Pain > Baseline, Pain > Sensory as SPM-style T maps"
OVERWRITE = "replace existing maps"


def add_arguments(parser) -> None:
    """The arguments of ``milna glm``."""
    parser.add_argument("bold", help="preprocessed 4D run")
    parser.add_argument("--events", required=True,
                        help="BIDS *_events.tsv (pain / sensory blocks)")
    options.confounds(parser, default=[],
                      files="extra confound TSVs (fMRIPrep file: 6 motion + csf + white_matter)",
                      columns="columns to take from the --confounds files")
    parser.add_argument("--physio", help="BIDS *_physio.tsv.gz for RETROICOR regressors")
    parser.add_argument("--peaks", help="corrected cardiac peak times (s) for RETROICOR")
    options.physio_slice(parser, slice_help="slice to sample physio at",
                         at_help="sample physio at the slice through this point (mm)")
    options.slice_time(parser, "sample physio at this time within the TR")
    options.slice_order(parser, "slice order if none is stored")
    options.fourier_orders(parser, "RETROICOR orders (3 4 1)")
    parser.add_argument("--motion", help="motion parameters (six regressors and FD scrubbing)")
    parser.add_argument("--motion-format", choices=MOTION_FORMATS)
    options.fd_threshold(parser)
    parser.add_argument("--scrub-before", type=count, default=0)
    parser.add_argument("--scrub-after", type=count, default=0)
    parser.add_argument("--csf", help="CSF probability map (e.g. *_label-CSF_probseg.nii.gz)")
    parser.add_argument("--csf-level", type=probability, default=CSF_LEVEL,
                        help="CSF probability threshold (default 0.9)")
    parser.add_argument("--csf-erosion", type=erosion, default=CSF_EROSION,
                        help="erosion in voxels (default 1)")
    parser.add_argument("--csf-restrict", help="ventricle mask restricting the CSF mask")
    parser.add_argument("--csf-warn", type=probability, default=TASK_CORRELATION_LEVEL,
                        help="warn when |r(CSF, task)| exceeds this (default 0.3)")
    parser.add_argument("--smoothing", type=length_mm, default=GLM_SMOOTHING_FWHM_MM,
                        help="FWHM in mm (default 5; 0 for none)")
    parser.add_argument("--high-pass", type=frequency_hz, default=GLM_HIGH_PASS_HZ,
                        help="cosine drift cut-off in Hz (default 1/128)")
    parser.add_argument("--noise-model", choices=("ar1", "ols"), default="ar1")
    options.brain_mask(parser)
    parser.add_argument("--roi", nargs="*", default=["PAG"],
                        help="report the peak t in these ROIs: PAG, RVM or mask files "
                        "(default PAG)")
    options.physio_model(parser, "physiological noise model with --physio: retroicor+rvt+hr "
                         "adds RVT convolved with the RRF and heart rate convolved with the "
                         "CRF; the PAG peak t is reported with each model")
    parser.add_argument("--no-compare", action="store_true",
                        help="do not refit without RETROICOR for the comparison")
    options.out(parser)


def run(args) -> dict:
    """Fit, write and report."""
    from ..core.errors import input_error
    from ..core.preproc.pain_glm import pain_glm
    from ..core.preproc.retroicor import FourierOrders

    if args.motion and not args.motion_format:
        raise input_error(args.motion, "needs --motion-format (spm, fsl, afni or fmriprep)")
    _check_options(args)
    result = pain_glm(
        args.bold, args.events, args.out,
        physio=args.physio, peaks=args.peaks, slice_index=args.slice_index, at=args.at,
        slice_time=args.slice_time, slice_order=args.slice_order,
        orders=FourierOrders(*args.orders), motion=args.motion,
        motion_format=args.motion_format, fd_threshold=args.fd_threshold,
        scrub_before=args.scrub_before, scrub_after=args.scrub_after, csf=args.csf,
        csf_level=args.csf_level, csf_erosion=args.csf_erosion, csf_restrict=args.csf_restrict,
        csf_warn_level=args.csf_warn, confounds=args.confounds,
        confound_columns=args.confound_columns,
        smoothing_fwhm=args.smoothing if args.smoothing > 0 else None,
        high_pass=args.high_pass, noise_model=args.noise_model, mask=args.mask,
        report_rois=args.roi, compare_without_retroicor=not args.no_compare,
        overwrite=args.overwrite, physio_model=args.model,
    )
    return result.to_dict()


def _check_options(args) -> None:
    """Options against each other and against the run's header, before any work."""
    from ..core.errors import MilnaInputError
    from ..core.io.nifti import open_nifti
    from .values import check_band, check_orders, check_slice_time

    if args.physio:
        check_orders(args.orders)
    try:
        source = open_nifti(args.bold)
    except MilnaInputError:
        return  # the GLM says what is wrong with the file
    tr = source.tr if source.is_run else None
    check_band(args.high_pass, None, tr, owner=source.path)
    check_slice_time(args.slice_time, tr, owner=source.path)
