"""``milna multiecho ECHO1 ECHO2 ...``: T2* / S0 maps and the optimal combination of echoes.

Reads the echoes of one run (BIDS *_echo-<n>_bold.nii.gz with EchoTime in each JSON sidecar,
or files plus --te in ms), fits T2* and S0 log-linearly to each voxel's temporal mean over its
usable echoes (tedana's adaptive mask), writes the T2*-weighted optimal combination (Posse
1999) volume chunk by volume chunk, and reports per ROI the tSNR of each echo and of the
combination, the median T2* and the signal recovered, with the QC verdict of the combined run.
"""

from __future__ import annotations

from ..core.errors import input_error
from . import options
from .values import echo_time_ms

HELP = (
    "multi-echo EPI: T2* and S0 maps, adaptive mask and the T2*-weighted optimal combination "
    "(tedana)"
)
OVERWRITE = "replace existing outputs"


def add_arguments(parser) -> None:
    """The arguments of ``milna multiecho``."""
    parser.add_argument("echoes", nargs="+", metavar="ECHO",
                        help="one 4D run per echo, in order of increasing echo time")
    parser.add_argument("--te", type=echo_time_ms, nargs="+", metavar="MS",
                        help="echo times in ms (default: EchoTime of each echo's JSON sidecar)")
    options.out(parser)
    options.brain_mask(parser, "nilearn compute_epi_mask on echo 1")
    options.roi_files(parser, "PAG, RVM (literature seeds, MNI space) or ROI mask / dseg files")
    parser.add_argument("--no-qc", action="store_true",
                        help="skip the QC of the combined run (no tsnr_optcom, no verdict)")


def run(args) -> dict:
    """Fit, combine, write and report."""
    from ..core.multiecho.combine import multiecho_combine

    if args.te is not None:
        if len(args.te) != len(args.echoes):
            raise input_error(None, f"--te gives {len(args.te)} echo times for "
                                    f"{len(args.echoes)} echo files")
        if any(b <= a for a, b in zip(args.te, args.te[1:])):
            shown = " ".join(f"{v:g}" for v in args.te)
            raise input_error(None, f"--te {shown}: the echo times must increase from echo to "
                                    "echo; give the echoes in order of echo time")
    result = multiecho_combine(
        args.echoes, args.out, echo_times_ms=args.te, mask=args.mask, rois=args.roi,
        overwrite=args.overwrite, qc=not args.no_qc,
    )
    return result.to_dict()
