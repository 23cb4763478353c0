"""QC over many runs: BIDS discovery, parallel runs with dask, a TSV and an HTML report.

* :func:`find_runs` takes files, globs or folders; in a folder (an fMRIPrep derivatives
  tree) it finds every ``*_desc-preproc_bold.nii.gz`` and pairs it, by BIDS entities,
  with its ``*_desc-brain_mask.nii.gz`` (same folder, same entities) and the
  subject's ``*_label-CSF_probseg.nii.gz`` (same ``sub``, ``ses`` when the probseg has
  one, and the same ``space``; a native-space run pairs with a probseg without
  ``space`` or ``space-T1w``).
* :func:`run_batch` runs :func:`.qc.run_qc` on each, in parallel with dask: local
  processes by default, or an existing ``dask.distributed`` scheduler given by address.
  Each worker streams its run and sends back only the summary and a PNG mosaic, never
  the maps. A run that fails with bad input becomes an ``error`` row; the rest go on.
* :func:`write_tsv` (one row per run and ROI) and :func:`write_html` (one
  self-contained file: PNGs as base64, a table sortable by verdict with a few lines of
  inline JavaScript). Both write atomically and refuse to overwrite unless asked.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import html
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.bids import bids_entities
from ..io.nifti import nifti_stem
from ..io.tables import atomic_write_text, write_table
from ..jobs import Progress, gather_futures, report
from .coverage import DROPOUT_THRESHOLD, QCResult, qc_error_row, run_qc

#: BIDS suffix of the runs a derivatives folder is searched for.
BOLD_PATTERN = "*_desc-preproc_bold.nii*"

#: Where the mosaics cut when no PAG / RVM ROI is given (MNI mm; DESIGN.md: PAG centroid
#: of hand-traced PAG, Satpute et al. 2013; RVM, CANlab symmetric RVM).
MOSAIC_POINTS_MNI = {"PAG": (0.5, -31.0, -9.0), "RVM": (2.0, -36.0, -42.0)}

#: Columns of the TSV, in order.
TSV_COLUMNS = (
    "file", "sub", "ses", "task", "run", "space", "n_volumes", "brain_tsnr_median",
    "roi", "n_voxels", "coverage", "dropout_fraction", "spm_drop_fraction", "tsnr_median",
    "signal_ratio", "csf_fraction", "csf_correlation", "csf_std_ratio", "verdict", "reason",
    "error",
)


@dataclass
class RunInputs:
    """One run and the masks found for it."""

    bold: Path
    brain_mask: Path | None = None
    csf: Path | None = None
    entities: dict[str, str] = field(default_factory=dict)


def find_brain_mask(bold) -> Path | None:
    """fMRIPrep's brain mask of a ``desc-preproc_bold`` run, when it exists."""
    bold = Path(bold)
    name = bold.name
    if "_desc-preproc_bold" not in name:
        return None
    for suffix in (".nii.gz", ".nii"):
        candidate = bold.with_name(
            nifti_stem(bold).replace("_desc-preproc_bold", "_desc-brain_mask") + suffix
        )
        if candidate.exists():
            return candidate
    return None


def _subject_folder(path: Path, sub: str) -> Path | None:
    for parent in path.parents:
        if parent.name == f"sub-{sub}":
            return parent
    return None


def find_csf_probseg(bold) -> Path | None:
    """The subject's ``label-CSF_probseg`` in the run's space, when it exists."""
    bold = Path(bold)
    ent = bids_entities(bold)
    sub = ent.get("sub")
    if sub is None:
        return None
    folder = _subject_folder(bold, sub) or bold.parent
    space = ent.get("space")
    native = space in (None, "T1w")
    best = None
    for cand in sorted(folder.rglob("*_label-CSF_probseg.nii*")):
        ce = bids_entities(cand)
        if ce.get("sub") != sub:
            continue
        if "ses" in ce and ce["ses"] != ent.get("ses"):
            continue
        cspace = ce.get("space")
        if (native and cspace not in (None, "T1w")) or (not native and cspace != space):
            continue
        if "res" in ent and ce.get("res", ent["res"]) != ent["res"]:
            continue
        # prefer a session-specific probseg over a subject-level one
        if best is None or ("ses" in ce and "ses" not in bids_entities(best)):
            best = cand
    return best


def _expand(item: str) -> list[Path]:
    path = Path(item)
    if path.is_dir():
        found = sorted(path.rglob(BOLD_PATTERN))
        if not found:
            raise input_error(path, f"holds no {BOLD_PATTERN} run")
        return found
    if any(ch in item for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(item, recursive=True))
        if not found:
            raise input_error(None, f"no file matches {item}")
        return found
    return [path]


def find_runs(inputs: Sequence, *, pair_masks: bool = True) -> list[RunInputs]:
    """Runs from files, globs and folders, each with its brain mask and CSF probseg.

    Parameters
    ----------
    inputs : sequence of str or path-like
    pair_masks : bool
        Look for the fMRIPrep brain mask and CSF probseg next to each run.

    Returns
    -------
    list of RunInputs
        In the order given, folders and globs sorted, duplicates dropped.
    """
    seen, out = set(), []
    for item in inputs:
        for bold in _expand(str(item)):
            key = bold.resolve()
            if key in seen:
                continue
            seen.add(key)
            out.append(
                RunInputs(
                    bold=bold,
                    brain_mask=find_brain_mask(bold) if pair_masks else None,
                    csf=find_csf_probseg(bold) if pair_masks else None,
                    entities=bids_entities(bold),
                )
            )
    return out


# --------------------------------------------------------------------------- one run


def qc_one(
    run: RunInputs,
    *,
    rois=(),
    brain_mask=None,
    csf=None,
    detrend: int = 0,
    dropout_threshold: float = DROPOUT_THRESHOLD,
    mosaic: bool = True,
) -> dict:
    """QC of one run as a JSON-ready dict (plus ``mosaic_png`` as base64 text).

    Explicit ``brain_mask`` / ``csf`` win over the ones found next to the run. Bad
    input gives ``{"error": ..., "verdict": "error"}`` instead of raising.
    """
    try:
        res = run_qc(
            run.bold,
            brain_mask=brain_mask or run.brain_mask,
            csf=csf or run.csf,
            rois=list(rois),
            detrend=detrend,
            dropout_threshold=dropout_threshold,
        )
    except MilnaInputError as exc:
        out = qc_error_row(run.bold, exc)
        out["entities"] = dict(run.entities)
        return out
    out = res.to_dict()
    out["entities"] = dict(run.entities)
    if mosaic:
        out["mosaic_png"] = base64.b64encode(render_mosaic(res)).decode("ascii")
    return out


def _slice_point(res: QCResult, name: str) -> tuple[np.ndarray, str]:
    """Voxel index where the mosaic cuts for ``name`` ("PAG" / "RVM") and how it was chosen."""
    grid = res.maps.grid
    for roi_name, mask in res.maps.rois.items():
        if roi_name.upper() == name and mask.any():
            return np.rint(np.argwhere(mask).mean(axis=0)).astype(int), f"{name} ROI centroid"
    ijk = grid.to_index(MOSAIC_POINTS_MNI[name])
    if grid.contains_index(ijk):
        return ijk, f"{name} MNI {MOSAIC_POINTS_MNI[name]}"
    brain = np.argwhere(res.maps.brain_mask)
    return np.rint(brain.mean(axis=0)).astype(int), "brain centre"


def _oriented_slice(vol: np.ndarray, grid, ijk, plane: str):
    """2D slice through ``ijk``, rows running up (superior / anterior) for ``origin="lower"``.

    Sagittal: anterior on the left, superior up; axial: anterior up, right on the right
    (neurological), as the viewer shows them. Oblique grids are cut along the voxel axes
    closest to the world axes.
    """
    lin = grid.affine[:3, :3]
    axis = [int(np.argmax(np.abs(lin[w]))) for w in range(3)]  # voxel axis per world axis
    sign = [np.sign(lin[w, axis[w]]) or 1.0 for w in range(3)]
    if plane == "sagittal":
        slice_w, row_w, col_w, col_dir = 0, 2, 1, -1.0
    else:
        slice_w, row_w, col_w, col_dir = 2, 1, 0, 1.0
    if len(set(axis)) < 3:
        axis = [0, 1, 2]
    index = [slice(None)] * 3
    index[axis[slice_w]] = int(np.clip(ijk[axis[slice_w]], 0, vol.shape[axis[slice_w]] - 1))
    cut = vol[tuple(index)]
    remaining = [a for a in range(3) if a != axis[slice_w]]
    cut = cut if remaining.index(axis[row_w]) == 0 else cut.T
    if sign[row_w] < 0:
        cut = cut[::-1, :]
    if sign[col_w] * col_dir < 0:
        cut = cut[:, ::-1]
    zooms = grid.zooms
    return cut, float(zooms[axis[row_w]] / zooms[axis[col_w]])


def render_mosaic(res: QCResult, dpi: int = 80) -> bytes:
    """PNG of sagittal and axial slices through PAG and RVM: mean EPI, dropout in red.

    SPM implicit-mask drops that are not dropout show in yellow; ROI outlines in cyan.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    maps = res.maps
    mean = np.asarray(maps.mean, dtype=float)
    finite = mean[np.isfinite(mean) & maps.brain_mask]
    vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
    overlay = np.zeros(mean.shape, dtype=np.int8)
    overlay[maps.spm_implicit_drop & ~maps.dropout] = 1
    overlay[maps.dropout] = 2
    rois = np.zeros(mean.shape, dtype=bool)
    for mask in maps.rois.values():
        rois |= mask
    cmap = ListedColormap([(0, 0, 0, 0), (1.0, 0.85, 0.0, 0.55), (1.0, 0.0, 0.0, 0.7)])
    fig = Figure(figsize=(6.4, 6.0), dpi=dpi)
    FigureCanvasAgg(fig)
    for row, name in enumerate(("PAG", "RVM")):
        ijk, how = _slice_point(res, name)
        for col, plane in enumerate(("sagittal", "axial")):
            ax = fig.add_subplot(2, 2, 2 * row + col + 1)
            img, aspect = _oriented_slice(mean, maps.grid, ijk, plane)
            ov, _ = _oriented_slice(overlay, maps.grid, ijk, plane)
            rr, _ = _oriented_slice(rois, maps.grid, ijk, plane)
            ax.imshow(img, cmap="gray", vmin=0, vmax=vmax, origin="lower", aspect=aspect,
                      interpolation="nearest")
            ax.imshow(ov, cmap=cmap, vmin=0, vmax=2, origin="lower", aspect=aspect,
                      interpolation="nearest")
            if rr.any():
                ax.contour(rr.astype(float), levels=[0.5], colors="cyan", linewidths=0.8)
            ax.set_title(f"{name} {plane} ({how})", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(Path(res.file).name, fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# --------------------------------------------------------------------------- many runs


def run_batch(
    runs: Sequence[RunInputs],
    *,
    rois=(),
    brain_mask=None,
    csf=None,
    detrend: int = 0,
    dropout_threshold: float = DROPOUT_THRESHOLD,
    scheduler: str | None = None,
    n_workers: int | None = None,
    mosaic: bool = True,
    progress: Progress | None = None,
) -> list[dict]:
    """QC of many runs in parallel with dask.

    Parameters
    ----------
    runs : sequence of RunInputs
    rois, brain_mask, csf, detrend, dropout_threshold
        As :func:`.qc.run_qc` (the same ROIs for every run, resampled to each run's grid
        when needed; explicit masks override the ones found next to each run).
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``); by
        default dask's local process pool (``scheduler="processes"``). ``"sync"`` runs
        everything in this process (debugging).
    n_workers : int, optional
        Processes for the local pool (default: one per run, at most the CPU count).
    mosaic : bool
        Render the PNG mosaic of each run.
    progress : callable, optional
        ``progress(runs_done, n_runs)``; returning True cancels: the local worker
        processes are ended at once, as they are when this process is interrupted
        (Ctrl-C, SIGTERM) or killed (:func:`local_pool`).

    Returns
    -------
    list of dict
        One per run, in the order of ``runs`` (see :func:`qc_one`).
    """
    import dask

    runs = list(runs)
    if not runs:
        return []
    kwargs = {
        "rois": [str(r) for r in rois],
        "brain_mask": None if brain_mask is None else str(brain_mask),
        "csf": None if csf is None else str(csf),
        "detrend": int(detrend),
        "dropout_threshold": float(dropout_threshold),
        "mosaic": mosaic,
    }
    total = len(runs)
    report(progress, 0, total)
    if scheduler and scheduler not in ("sync", "processes", "threads"):
        return _run_distributed(runs, kwargs, scheduler, progress)
    tasks = [dask.delayed(qc_one, pure=False)(run, **kwargs) for run in runs]
    done = [0]

    from dask.callbacks import Callback

    def posttask(key, result, dsk, state, worker_id):
        name = key[0] if isinstance(key, tuple) else key
        if str(name).startswith("qc_one"):
            done[0] += 1
            report(progress, done[0], total)

    workers = n_workers or max(1, min(total, os.cpu_count() or 1))
    with Callback(posttask=posttask):
        if scheduler in ("sync", "threads"):
            results = dask.compute(*tasks, scheduler=scheduler)
        else:
            with local_pool(workers) as pool:
                results = dask.compute(*tasks, scheduler="processes", pool=pool)
    return list(results)


def end_with_parent(parent: int) -> None:
    """Worker start-up: die with the process that started the batch (Linux ``prctl``).

    A worker of a batch whose process is killed (SIGKILL included) gets SIGKILL too,
    instead of waiting forever for work that will never come.
    """
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the batch ended before this worker started
        os._exit(1)


@contextlib.contextmanager
def local_pool(n_workers: int):
    """A process pool for dask whose workers never outlive the batch.

    Workers die with this process (:func:`end_with_parent`); when the batch ends with an
    exception (bad input, Cancel, Ctrl-C, SIGTERM turned into an exception by the
    command line), the queued runs are dropped and the workers are terminated at once
    instead of finishing the runs under way.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=end_with_parent, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in set(multiprocessing.active_children()) - before:
            worker.terminate()
        for worker in set(multiprocessing.active_children()) - before:
            worker.join(timeout=5)
        raise
    pool.shutdown(wait=True)


def _run_distributed(runs, kwargs, address: str, progress) -> list[dict]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency of the batch mode
        raise input_error(
            None, "dask.distributed is not installed; cannot use --scheduler"
        ) from None
    try:
        client = Client(address, timeout=20)
    except (OSError, TimeoutError) as exc:
        raise input_error(None, f"cannot reach the dask scheduler at {address} ({exc})") from None
    with client:
        futures = [client.submit(qc_one, run, pure=False, **kwargs) for run in runs]
        return gather_futures(client, futures, progress)


# --------------------------------------------------------------------------- outputs


def table_rows(results: Sequence[dict]) -> list[dict]:
    """One row per run and ROI (one row with an empty ROI for a run without ROIs)."""
    rows = []
    for res in results:
        ent = res.get("entities", {})
        base = {
            "file": res.get("file"),
            "sub": ent.get("sub"),
            "ses": ent.get("ses"),
            "task": ent.get("task"),
            "run": ent.get("run"),
            "space": ent.get("space"),
            "n_volumes": res.get("n_volumes"),
            "brain_tsnr_median": res.get("tsnr_median"),
            "error": res.get("error"),
        }
        rois = res.get("rois") or []
        if not rois:
            rows.append(dict(base, roi=None, verdict=res.get("verdict")))
        for roi in rois:
            row = dict(base)
            row.update({k: roi.get(k) for k in TSV_COLUMNS if k in roi})
            row["roi"] = roi.get("name")
            rows.append(row)
    return rows


def _cell(value) -> str:
    """A value as the HTML report shows it (``n/a`` for missing)."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "n/a" if not np.isfinite(value) else f"{value:.6g}"
    return str(value)


def write_tsv(results: Sequence[dict], path, *, overwrite: bool = False) -> Path:
    """The QC table (one row per run and ROI, ``n/a`` for missing values), atomically."""
    import pandas as pd

    frame = pd.DataFrame(table_rows(results), columns=list(TSV_COLUMNS), dtype=object)
    return write_table(frame, path, overwrite=overwrite, float_format="%.6g")


_SORT_JS = """
function sortTable(col) {
  var table = document.getElementById('qc'), body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var rank = {'error': 0, 'fail': 1, 'warn': 2, 'ok': 3};
  var dir = table.getAttribute('data-col') == col && table.getAttribute('data-dir') == 'asc'
    ? 'desc' : 'asc';
  rows.sort(function (a, b) {
    var x = a.cells[col].textContent, y = b.cells[col].textContent;
    var kx = x in rank ? rank[x] : (isNaN(parseFloat(x)) ? x : parseFloat(x));
    var ky = y in rank ? rank[y] : (isNaN(parseFloat(y)) ? y : parseFloat(y));
    var r = kx < ky ? -1 : (kx > ky ? 1 : 0);
    return dir == 'asc' ? r : -r;
  });
  rows.forEach(function (r) { body.appendChild(r); });
  table.setAttribute('data-col', col); table.setAttribute('data-dir', dir);
}
"""

_HTML_COLUMNS = (
    ("run", "file"), ("ROI", "roi"), ("verdict", "verdict"), ("reason", "reason"),
    ("coverage", "coverage"), ("dropout", "dropout_fraction"),
    ("SPM drop", "spm_drop_fraction"), ("tSNR", "tsnr_median"),
    ("signal ratio", "signal_ratio"), ("CSF prob.", "csf_fraction"),
    ("CSF corr.", "csf_correlation"), ("brain tSNR", "brain_tsnr_median"),
)


def write_html(results: Sequence[dict], path, *, overwrite: bool = False) -> Path:
    """A self-contained HTML report: sortable verdict table and a mosaic per run."""
    esc = html.escape
    head = "".join(
        f'<th onclick="sortTable({i})">{esc(title)}</th>'
        for i, (title, _) in enumerate(_HTML_COLUMNS)
    )
    body = []
    for row in table_rows(results):
        cells = []
        for _, key in _HTML_COLUMNS:
            value = row.get(key)
            if key == "file":
                value = Path(value).name if value else ""
            if key == "reason" and row.get("error"):
                value = row["error"]
            text = _cell(value) if not isinstance(value, float) else f"{value:.3g}"
            cls = f' class="{esc(text)}"' if key == "verdict" else ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    sections = []
    for res in results:
        name = esc(Path(res.get("file", "")).name)
        parts = [f"<h2>{name}</h2>"]
        if res.get("error"):
            parts.append(f'<p class="error">{esc(res["error"])}</p>')
        else:
            parts.append(
                f"<p>verdict <b class=\"{esc(res['verdict'])}\">{esc(res['verdict'])}</b>; "
                f"{res['n_volumes']} volumes; median tSNR over the brain mask "
                f"{_cell(res['tsnr_median'])}; brain mask: {esc(res['brain_mask_source'])}; "
                f"CSF: {esc(str(res.get('csf_source') or 'none'))}</p>"
            )
            for note in res.get("notes", []):
                parts.append(f'<p class="note">{esc(note)}</p>')
            if res.get("mosaic_png"):
                parts.append(
                    f'<img alt="mosaic of {name}" src="data:image/png;base64,{res["mosaic_png"]}">'
                )
        sections.append("<section>" + "".join(parts) + "</section>")
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>napari-milna brainstem QC</title>
<style>
body {{ font-family: sans-serif; margin: 1em 2em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; }}
th {{ cursor: pointer; background: #eee; }}
.ok {{ color: #070; }} .warn {{ color: #b60; font-weight: bold; }}
.fail, .error {{ color: #c00; font-weight: bold; }} .note {{ color: #555; font-size: 0.85em; }}
</style><script>{_SORT_JS}</script></head><body>
<h1>Brainstem coverage and dropout QC</h1>
<p>{len(results)} runs. Dropout (red): signal below the threshold fraction of the brain
median; yellow: voxels SPM's implicit mask (0.8 x global) would drop. Click a column to sort.</p>
<table id="qc"><thead><tr>{head}</tr></thead><tbody>
{''.join(body)}
</tbody></table>
{''.join(sections)}
</body></html>
"""
    return atomic_write_text(path, doc, overwrite=overwrite)
