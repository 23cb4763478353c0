"""``milna retroicor PHYSIO``: RETROICOR regressors of a run from its BIDS physio file.

Cardiac peaks (neurokit2), cardiac and respiratory phases and their Fourier regressors,
sampled at each volume's acquisition time of one slice. Writes a TSV with one row per
volume.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import input_error
from ..core.protocol import HR_WINDOW_S
from . import options
from .values import check_orders, check_slice_time, tr_seconds, window_seconds
from .values import n_volumes as volume_count

HELP = "RETROICOR regressors (Glover 2000, Harvey 2008) from a BIDS physio file"
OVERWRITE = "replace existing outputs"


def add_arguments(parser) -> None:
    """The arguments of ``milna retroicor``."""
    parser.add_argument("physio", help="BIDS *_physio.tsv.gz (its JSON sidecar next to it)")
    parser.add_argument("--tr", type=tr_seconds,
                        help="repetition time in s (default: from --bold)")
    parser.add_argument("--n-volumes", type=volume_count,
                        help="number of volumes (default: from --bold)")
    options.slice_time(parser, "acquisition time (s within the TR) of the slice to sample at")
    parser.add_argument("--bold", help="the BOLD run: TR, volumes and slice timing (JSON "
                        "sidecar SliceTiming, NIfTI header, or --slice-order)")
    options.physio_slice(parser, slice_help="slice index on the BOLD grid",
                         at_help="use the slice through this world point (mm), e.g. the PAG "
                         "0.5 -31 -9")
    options.slice_order(parser, "slice order when the BOLD stores no slice timing")
    options.fourier_orders(parser, "Fourier orders (default 3 4 1: 18 regressors)")
    parser.add_argument("--cardiac-kind", choices=("auto", "ppg", "ecg"), default="auto",
                        help="pulse oximeter or ECG (default: ECG when the column is 'ecg')")
    parser.add_argument("--peaks", help="corrected cardiac peak times (s, one per line) to use "
                        "instead of detection")
    parser.add_argument("--save-peaks", help="write the peak times used (TSV, editable) here")
    parser.add_argument("--r2-map", help="also write the partial R^2 map of the regressors "
                        "over drift (+ task with --events) here (needs --bold)")
    parser.add_argument("--events",
                        help="BIDS events: task regressors in the base model of --r2-map")
    options.physio_model(parser, "retroicor+rvt+hr adds the columns rvt (belt units / s), "
                         "rvt_rrf, hr (bpm) and hr_crf: RVT (neurokit2, Harrison 2021) and "
                         "heart rate (60 / mean IBI) with their RRF (Birn 2008) / CRF (Chang "
                         "2009) convolutions")
    parser.add_argument("--hr-window", type=window_seconds, default=HR_WINDOW_S, metavar="S",
                        help="window (s) of the heart rate around each volume (default 6)")
    options.out(parser, "output TSV")


def run(args) -> dict:
    """Compute and write the regressors."""
    from ..core.io.atomic import check_writable, output_set
    from ..core.io.nifti import open_nifti
    from ..core.preproc.physio import read_bids_physio, read_peak_times, write_peak_times
    from ..core.preproc.retroicor import FourierOrders, compute_retroicor, write_regressors
    from ..core.preproc.slice_timing import choose_slice_time

    out = Path(args.out)
    targets = [out] + ([Path(args.save_peaks)] if args.save_peaks else [])
    if args.r2_map:
        if not args.bold:
            raise input_error(None, "--r2-map needs --bold (the run whose variance is explained)")
        from ..core.io.nifti_write import with_nifti_suffix

        targets.append(with_nifti_suffix(args.r2_map))
    for target in targets:
        check_writable(target, args.overwrite)  # first removes what killed runs left
        if target.exists() and not args.overwrite:
            raise input_error(target, "already exists; choose another name or add --overwrite")
    check_orders(args.orders)
    recording = read_bids_physio(args.physio)
    tr, n_volumes = args.tr, args.n_volumes
    if args.bold:
        source = open_nifti(args.bold)
        if not source.is_run:
            raise input_error(source.path, "is a 3D image; --bold needs the 4D run")
        if tr is not None and source.tr and abs(tr - source.tr) > 1e-3:
            raise input_error(source.path, f"has a TR of {source.tr:g} s, not {tr:g} s")
        if n_volumes is not None and n_volumes != source.n_volumes:
            raise input_error(source.path, f"has {source.n_volumes} volumes, not {n_volumes}")
        tr = tr or source.tr
        n_volumes = n_volumes or source.n_volumes
        check_slice_time(args.slice_time, tr, owner=source.path)
        choice = choose_slice_time(source, slice_index=args.slice_index, at=args.at,
                                   slice_order=args.slice_order, slice_time=args.slice_time)
    else:
        if args.slice_index is not None or args.at is not None:
            raise input_error(None, "--slice and --at need --bold (the grid and slice timing)")
        from ..core.preproc.slice_timing import SliceChoice

        check_slice_time(args.slice_time, tr)
        given = args.slice_time if args.slice_time is not None else 0.0
        how = "given" if args.slice_time is not None else "volume start (no slice given)"
        choice = SliceChoice(given, None, how)
    if not tr or not n_volumes:
        raise input_error(None, "give --tr and --n-volumes, or --bold")
    peaks = read_peak_times(args.peaks) if args.peaks else None
    result = compute_retroicor(
        recording, n_volumes, tr, slice_time=choice.time, orders=FourierOrders(*args.orders),
        peaks=peaks, cardiac_kind=args.cardiac_kind, slice_index=choice.index,
        model=args.model, hr_window_s=args.hr_window,
    )
    summary = result.to_dict()
    summary["slice_time_source"] = choice.source
    with output_set():  # the TSV, the peaks and the R2 map appear together, or none
        write_regressors(result, out, overwrite=args.overwrite)
        if args.r2_map:
            summary["r2_map"] = _r2_map(args, source, result, tr, n_volumes)
        if args.save_peaks:
            summary["peaks_file"] = str(
                write_peak_times(result.peaks, args.save_peaks, overwrite=args.overwrite)
            )
    return summary


def _r2_map(args, source, result, tr, n_volumes) -> dict:
    """Partial R^2 of the regressors over drift (+ task), written next to the TSV."""
    from ..core.io.nifti_write import save_like
    from ..core.preproc.first_level import read_events, task_design
    from ..core.preproc.retroicor import retroicor_variance_map

    base = None
    if args.events:
        base = task_design(read_events(args.events, n_volumes, tr), n_volumes, tr).to_numpy()
    vmap = retroicor_variance_map(source.run(), result.glm_frame().to_numpy(), base, tr=tr)
    path = save_like(vmap.partial_r2, source.image, args.r2_map, overwrite=args.overwrite,
                     description="RETROICOR partial R2")
    return {"file": str(path), **vmap.to_dict()}
