"""``milna qc EPI [EPI ...]``: brainstem coverage / dropout QC of one run or many.

Brainstem coverage / dropout QC: tSNR (nipype definition), signal ratio to the brain median,
SPM implicit-mask drop (0.8 x global), CSF partial volume and pulsation, per ROI with a
verdict (ok / warn / fail) and a reason in words.

One file: the run is checked in this process and the result printed (``tsnr_median``
over the brain mask, ``n_volumes``, ``rois`` with their verdicts). Several files, a
glob or an fMRIPrep derivatives folder: the runs are checked in parallel with dask
(local processes, or ``--scheduler ADDRESS`` for a running dask.distributed cluster)
and the result is ``{"runs": [...], "tsv": ..., "html": ...}``. Files are written only
with ``--out-dir``, atomically, and never over existing ones without ``--overwrite``.
A run that cannot be read is an error row in batch mode; when every run fails (or
the single run does), the command exits with status 2 and one sentence naming the file.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import input_error
from ..core.protocol import DROPOUT_THRESHOLD
from . import options
from .values import degree, level

HELP = "brainstem coverage, signal dropout, SPM implicit mask, tSNR and CSF QC of EPI runs"


def add_arguments(parser) -> None:
    """The arguments of ``milna qc``."""
    parser.add_argument(
        "epi", nargs="+",
        help="4D EPI run(s), globs, or a BIDS derivatives folder (*_desc-preproc_bold.nii.gz)",
    )
    parser.add_argument("--brain-mask", help="brain mask (default: found next to each run, "
                        "else computed with nilearn compute_epi_mask)")
    parser.add_argument("--csf", help="CSF probability map or binary mask (default: the "
                        "subject's label-CSF_probseg when found)")
    options.roi_files(parser, "ROI mask(s) (desc-<NAME>_mask) or dseg label image(s) with a "
                      ".tsv")
    parser.add_argument("--detrend", type=degree, default=0, metavar="K",
                        help="remove Legendre drifts of degree 1..K first (nipype regress_poly)")
    parser.add_argument("--dropout-threshold", type=level, default=DROPOUT_THRESHOLD,
                        metavar="R", help="signal ratio to the brain median below which a "
                        "voxel is dropout (default 0.5)")
    parser.add_argument("--out-dir", help="write the TSV and the HTML report here")
    options.overwrite(parser, "replace existing report files")
    options.dask_workers(
        parser,
        scheduler="address of a dask.distributed scheduler (default: local processes)",
        workers="local worker processes (batch mode)",
    )
    parser.add_argument("--no-mask-pairing", action="store_true",
                        help="do not look for fMRIPrep brain masks / CSF probsegs next to the "
                        "runs")


def _single(args) -> bool:
    if len(args.epi) != 1:
        return False
    item = args.epi[0]
    return not Path(item).is_dir() and not any(ch in item for ch in "*?[")


def _outputs(args, stem: str) -> tuple[Path, Path] | None:
    if not args.out_dir:
        return None
    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise input_error(out, "is a file, not a folder for the QC report")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise input_error(None, f"cannot write {out}: not a folder ({above} is a file)")
    from ..core.io.atomic import remove_stale

    remove_stale(out)  # a killed run's half-moved report is undone first
    tsv, html = out / f"{stem}.tsv", out / f"{stem}.html"
    for path in (tsv, html):
        if path.exists() and not args.overwrite:
            raise input_error(path, "already exists; use --overwrite to replace it")
    return tsv, html


def _make_folder(outputs) -> None:
    """The report's folder, made once the report is ready to be written."""
    if outputs:
        outputs[0].parent.mkdir(parents=True, exist_ok=True)


def run(args) -> dict:
    """Check one run (in process) or many (dask) and write the report when asked."""
    if _single(args):
        return _run_single(args)
    return _run_many(args)


def _check_detrend(args, epi: Path) -> None:
    """--detrend against the run's length, named as the option (the core names the run)."""
    if not args.detrend or not epi.is_file():
        return
    from ..core.errors import MilnaInputError
    from ..core.io.nifti import open_nifti

    try:
        n = open_nifti(epi).n_volumes
    except MilnaInputError:
        return  # the QC says what is wrong with the file
    if args.detrend + 1 >= n:
        raise input_error(None, f"--detrend {args.detrend} needs more than {args.detrend + 1} "
                                f"volumes; {epi} has {n}")


def _run_single(args) -> dict:
    from ..core.io.bids import bids_entities
    from ..core.io.nifti import nifti_stem
    from ..core.qc.batch import (
        RunInputs,
        find_brain_mask,
        find_csf_probseg,
        render_mosaic,
        write_html,
        write_tsv,
    )
    from ..core.qc.coverage import run_qc

    epi = Path(args.epi[0])
    _check_detrend(args, epi)
    outputs = _outputs(args, f"{nifti_stem(epi)}_qc")
    pair = not args.no_mask_pairing and epi.exists()
    run_in = RunInputs(
        epi,
        find_brain_mask(epi) if pair else None,
        find_csf_probseg(epi) if pair else None,
        bids_entities(epi),
    )
    res = run_qc(
        epi,
        brain_mask=args.brain_mask or run_in.brain_mask,
        csf=args.csf or run_in.csf,
        rois=args.roi,
        detrend=args.detrend,
        dropout_threshold=args.dropout_threshold,
    )
    out = res.to_dict()
    out["entities"] = run_in.entities
    if outputs:
        import base64

        from ..core.io.atomic import output_set

        row = dict(out, mosaic_png=base64.b64encode(render_mosaic(res)).decode("ascii"))
        _make_folder(outputs)
        with output_set():  # the TSV and the HTML appear together, or neither
            out["tsv"] = str(write_tsv([row], outputs[0], overwrite=args.overwrite))
            out["html"] = str(write_html([row], outputs[1], overwrite=args.overwrite))
    return out


def _run_many(args) -> dict:
    from ..core.qc.batch import find_runs, run_batch, write_html, write_tsv

    runs = find_runs(args.epi, pair_masks=not args.no_mask_pairing)
    outputs = _outputs(args, "qc")
    results = run_batch(
        runs,
        rois=args.roi,
        brain_mask=args.brain_mask,
        csf=args.csf,
        detrend=args.detrend,
        dropout_threshold=args.dropout_threshold,
        scheduler=args.scheduler,
        n_workers=args.workers,
        mosaic=outputs is not None,
    )
    errors = [r for r in results if r.get("error")]
    if results and len(errors) == len(results):
        first = errors[0]["error"]
        raise input_error(None, f"no run could be checked; first problem: {first}")
    out = {"n_runs": len(results), "n_errors": len(errors), "tsv": None, "html": None}
    if outputs:
        from ..core.io.atomic import output_set

        _make_folder(outputs)
        with output_set():  # the TSV and the HTML appear together, or neither
            out["tsv"] = str(write_tsv(results, outputs[0], overwrite=args.overwrite))
            out["html"] = str(write_html(results, outputs[1], overwrite=args.overwrite))
    out["runs"] = [{k: v for k, v in r.items() if k != "mosaic_png"} for r in results]
    return out
