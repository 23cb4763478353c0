"""Options that several commands share, each written once: flag, type, default, metavar.

A command adds a shared option through its helper here, so that ``--mask``, ``--roi`` or
``--workers`` is spelt, parsed and checked the same in every command that has it. Where each
command words the help for its own inputs (which grid an ROI is resampled onto, what the
scheduler runs), the helper takes those words; what the option is stays here. The value
types are those of :mod:`napari_milna.commands.values`.

Only the standard library, :mod:`napari_milna.core.protocol` and :mod:`.values` at module
level: ``milna --help`` imports every command.
"""

from __future__ import annotations

from ..core.protocol import FD_THRESHOLD_MM, FOURIER_ORDERS, PHYSIO_MODELS, SLICE_ORDERS
from . import values

#: Cluster connectivities: face, edge and corner neighbours of a voxel.
NEIGHBOURS = (6, 18, 26)


# ------------------------------------------------------------------------- files in and out
def out(parser, help: str = "existing output folder", *, metavar: str | None = None) -> None:
    """``--out`` (required): where the command writes; ``help`` says what it is."""
    parser.add_argument("--out", required=True, metavar=metavar, help=help)


def overwrite(parser, help: str) -> None:
    """``--overwrite``: replace existing outputs; ``help`` says which."""
    parser.add_argument("--overwrite", action="store_true", help=help)


def roi_files(parser, help: str) -> None:
    """``--roi ROI [ROI ...]``: ROI masks or label images (none by default)."""
    parser.add_argument("--roi", nargs="+", default=[], metavar="ROI", help=help)


def roi_label(parser) -> None:
    """``--label``: one label of a label-image ROI."""
    parser.add_argument("--label", type=values.label,
                        help="use only this label of a label-image ROI")


def brain_mask(parser, default: str = "nilearn's EPI mask") -> None:
    """``--mask``: the brain mask; ``default`` says what is used without it."""
    parser.add_argument("--mask", help=f"brain mask (default: {default})")


def resample(parser, flag: str, what: str, onto: str, method: str = "nearest neighbour") -> None:
    """``flag``: resample ``what`` on another grid onto ``onto`` instead of refusing it.

    Without the flag an input on another voxel grid is an error naming the file: nothing is
    resampled silently.
    """
    parser.add_argument(flag, action="store_true",
                        help=f"resample {what} on another grid onto {onto} ({method})")


def contrast_number(parser, help: str) -> None:
    """``--contrast N``: a contrast of an analysis folder."""
    parser.add_argument("--contrast", type=values.contrast_number, metavar="N", help=help)


# ---------------------------------------------------------------------- statistics, workers
def cluster_connectivity(parser, flag: str, default: int, help: str) -> None:
    """``flag``: the neighbours (6, 18 or 26) that join voxels into one cluster."""
    parser.add_argument(flag, type=values.neighbours, choices=list(NEIGHBOURS),
                        default=default, help=help)


def dask_workers(parser, *, scheduler: str, workers: str,
                 workers_metavar: str | None = None) -> None:
    """``--scheduler ADDR`` and ``--workers``: where dask runs the work.

    ``scheduler`` and ``workers`` are the help of each option.
    """
    parser.add_argument("--scheduler", metavar="ADDR", help=scheduler)
    parser.add_argument("--workers", type=values.workers, metavar=workers_metavar, help=workers)


# ------------------------------------------------------------------ confounds and physiology
def confounds(parser, *, files: str, columns: str, default: list | None = None) -> None:
    """``--confounds FILE ...`` and ``--confound-columns``: nuisance regressors from TSVs.

    ``files`` and ``columns`` are the help of each option.
    """
    parser.add_argument("--confounds", nargs="+", default=default, help=files)
    parser.add_argument("--confound-columns", nargs="+", help=columns)


def fd_threshold(parser) -> None:
    """``--fd-threshold``: framewise displacement above which a volume is scrubbed."""
    parser.add_argument("--fd-threshold", type=values.positive_mm, default=FD_THRESHOLD_MM,
                        help=f"scrub volumes with FD above this (mm, default {FD_THRESHOLD_MM:g})")


def physio_slice(parser, *, slice_help: str, at_help: str) -> None:
    """``--slice I`` or ``--at X Y Z``: the slice whose acquisition time samples the physio.

    ``slice_help`` and ``at_help`` are the help of each option.
    """
    parser.add_argument("--slice", type=values.slice_index, dest="slice_index",
                        help=slice_help)
    parser.add_argument("--at", type=values.coordinate_mm, nargs=3, metavar=("X", "Y", "Z"),
                        help=at_help)


def slice_time(parser, help: str) -> None:
    """``--slice-time``: the time within the TR at which the physio is sampled."""
    parser.add_argument("--slice-time", type=values.seconds_in_tr, help=help)


def slice_order(parser, help: str) -> None:
    """``--slice-order``: the acquisition order of the slices when the run stores none."""
    parser.add_argument("--slice-order", choices=SLICE_ORDERS, help=help)


def fourier_orders(parser, help: str) -> None:
    """``--orders CARDIAC RESP INTER``: RETROICOR Fourier orders (the protocol's by default)."""
    parser.add_argument("--orders", type=values.fourier_order, nargs=3,
                        default=list(FOURIER_ORDERS), metavar=("CARDIAC", "RESP", "INTER"),
                        help=help)


def physio_model(parser, help: str) -> None:
    """``--model``: the physiological noise model (RETROICOR by default)."""
    parser.add_argument("--model", choices=PHYSIO_MODELS, default="retroicor", help=help)
