"""The multi-echo workflow of one run: fit, combine, write, summarise per ROI, QC.

:func:`multiecho_combine` is what ``milna multiecho`` and the QC tab call (in a job,
through its ``progress`` callback). It reads the echoes twice, side by side, a few
volumes at a time (temporal means, then the combination, written as it is computed),
and never holds a whole echo in memory; the QC of the combined run
(:func:`~napari_milna.core.qc.coverage.run_qc`) reads the written file once more.

Outputs, BIDS-derivative names after the first echo's entities without ``echo`` and
``desc`` (``sub-01_task-pain_echo-1_bold.nii.gz`` -> ``sub-01_task-pain``), with the
first echo's header:

* ``<prefix>_T2starmap.nii.gz``: T2* in seconds (float32; 0 where no echo is usable),
  with a JSON sidecar (``Units``);
* ``<prefix>_S0map.nii.gz``: S0 in the echoes' units (float32);
* ``<prefix>_desc-optcom_bold.nii.gz``: the optimally combined run (float32), with a
  JSON sidecar (the first echo's, less its ``EchoTime``);
* ``<prefix>_desc-adaptiveGoodSignal_mask.nii.gz``: usable echoes per voxel (uint8).

Every output is checked before anything is read; nothing is replaced without
``overwrite``; each file is written atomically, the combined run first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..jobs import Progress, combined, report
from .echoes import EchoSet, read_echo_set, sidecar_of
from .t2star import EchoMeans, adaptive_mask, combine_means, echo_means, fit_t2star

#: Output suffixes (after the prefix) by key.
OUTPUT_NAMES = {
    "t2star": "T2starmap.nii.gz",
    "s0": "S0map.nii.gz",
    "optcom": "desc-optcom_bold.nii.gz",
    "adaptive_mask": "desc-adaptiveGoodSignal_mask.nii.gz",
}
#: ROI names read as literature seeds (MNI space) rather than files.
SEED_NAMES = ("PAG", "RVM")


def output_prefix(first_echo: str | os.PathLike) -> str:
    """Derivative prefix of a multi-echo run: the first echo's entities less echo and desc."""
    from ..io.tables import derivative_prefix

    prefix = derivative_prefix(first_echo, drop=("desc", "echo"))
    return prefix.removesuffix("_bold")


def output_paths(first_echo: str | os.PathLike, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Every file :func:`multiecho_combine` writes (maps and sidecars), by key."""
    out_dir = Path(out_dir)
    prefix = output_prefix(first_echo)
    paths = {key: out_dir / f"{prefix}_{name}" for key, name in OUTPUT_NAMES.items()}
    paths["t2star_json"] = out_dir / f"{prefix}_T2starmap.json"
    paths["optcom_json"] = out_dir / f"{prefix}_desc-optcom_bold.json"
    return paths


@dataclass
class RoiEchoes:
    """Multi-echo numbers of one ROI.

    Attributes
    ----------
    name : str
    n_voxels : int
        ROI voxels on the echo grid.
    n_fitted : int
        Of those, voxels with at least one usable echo (T2* fitted).
    tsnr_echoes : list of float
        Median tSNR (temporal mean / population std) over the ROI, per echo.
    tsnr_optcom : float or None
        Median tSNR of the optimally combined run over the ROI (the QC's ``tsnr_median``).
    t2star_median_ms : float or None
        Median T2* (ms) over the fitted ROI voxels.
    signal_recovery : float or None
        Mean over the ROI of the combined run's temporal mean / that of echo 2.
    best_single_echo : int
        The echo (1-based) with the highest median tSNR: the one a single-echo
        protocol would have picked for this ROI.
    qc_verdict, qc_reason : str or None
        The combined run's QC verdict for the ROI.
    """

    name: str
    n_voxels: int
    n_fitted: int
    tsnr_echoes: list[float | None]
    tsnr_optcom: float | None
    t2star_median_ms: float | None
    signal_recovery: float | None
    best_single_echo: int | None
    qc_verdict: str | None = None
    qc_reason: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready values."""
        return {
            "name": self.name,
            "n_voxels": int(self.n_voxels),
            "n_fitted": int(self.n_fitted),
            "tsnr_echoes": [_num(v) for v in self.tsnr_echoes],
            "tsnr_optcom": _num(self.tsnr_optcom),
            "t2star_median_ms": _num(self.t2star_median_ms),
            "signal_recovery": _num(self.signal_recovery),
            "best_single_echo": self.best_single_echo,
            "qc_verdict": self.qc_verdict,
            "qc_reason": self.qc_reason,
        }


@dataclass
class MultiEchoResult:
    """What :func:`multiecho_combine` computed and wrote.

    Attributes
    ----------
    echoes : EchoSet
    paths : dict of str -> Path
        ``t2star``, ``s0``, ``optcom``, ``adaptive_mask`` and the two sidecars.
    mask_source : str
        Where the brain mask came from.
    t2star_ms, s0 : ndarray, shape grid
        The maps (T2* in ms here; 0 outside the fitted voxels).
    adaptive : ndarray of uint8, shape grid
        Usable echoes per voxel.
    tsnr_echoes : ndarray, shape (n_echoes,) + grid
        Voxel tSNR of each echo.
    rois : list of RoiEchoes
    qc : QCResult or None
        QC of the combined run (None for runs shorter than QC accepts).
    notes : list of str
    """

    echoes: EchoSet
    paths: dict[str, Path]
    mask_source: str
    t2star_ms: np.ndarray = field(repr=False)
    s0: np.ndarray = field(repr=False)
    adaptive: np.ndarray = field(repr=False)
    tsnr_echoes: np.ndarray = field(repr=False)
    rois: list[RoiEchoes] = field(default_factory=list)
    qc: object = None
    notes: list[str] = field(default_factory=list)

    @property
    def mask(self) -> np.ndarray:
        """Voxels with at least one usable echo."""
        return self.adaptive >= 1

    def to_dict(self) -> dict:
        """JSON-ready summary (the maps are in the files)."""
        n_echoes = self.echoes.n_echoes
        fitted = self.adaptive >= 1
        counts = {str(k): int((self.adaptive == k).sum()) for k in range(1, n_echoes + 1)}
        return {
            "t2star": str(self.paths["t2star"]),
            "s0": str(self.paths["s0"]),
            "optcom": str(self.paths["optcom"]),
            "adaptive_mask": str(self.paths["adaptive_mask"]),
            **self.echoes.to_dict(),
            "mask_source": self.mask_source,
            "n_voxels_fitted": int(fitted.sum()),
            "adaptive_mask_counts": counts,
            "t2star_median_ms": _num(np.median(self.t2star_ms[fitted])) if fitted.any()
            else None,
            "rois": [r.to_dict() for r in self.rois],
            "qc_verdict": None if self.qc is None else self.qc.verdict,
            "qc": None if self.qc is None else self.qc.to_dict(),
            "notes": list(self.notes),
        }


def _num(value):
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _rois_on_grid(rois: Sequence, echoes: EchoSet, notes: list[str]) -> list:
    """RoiMask objects on the echo grid: literature seeds by name, or mask / dseg files."""
    from ..qc.coverage import RoiMask, load_rois

    out = []
    grid = echoes.grid
    for roi in rois:
        if isinstance(roi, RoiMask):
            out.append(roi)
        elif str(roi).upper() in SEED_NAMES and not Path(str(roi)).exists():
            from ..roi.seeds import seed_roi

            seed = seed_roi(str(roi).upper(), echoes.sources[0])
            out.append(RoiMask(str(roi).upper(), seed.mask,
                               grid.to_world(np.argwhere(seed.mask)), None,
                               [f"{str(roi).upper()}: literature seed on the echo grid"]))
        else:
            out.extend(load_rois([roi], grid))
    for roi in out:
        notes.extend(roi.notes)
    return out


def _brain_mask(mask, echoes: EchoSet, means: EchoMeans, notes: list[str]):
    from ..qc.coverage import compute_brain_mask, load_brain_mask

    grid = echoes.grid
    if mask is not None:
        return load_brain_mask(mask, grid, notes), str(Path(mask))
    first = np.reshape(means.mean[0], grid.shape, order="F")
    computed = compute_brain_mask(first, grid, echoes.paths[0])
    return computed, "computed: nilearn compute_epi_mask on the temporal mean of echo 1"


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


def _sidecars(echoes: EchoSet) -> tuple[dict, dict]:
    """(T2* map sidecar, combined-run sidecar); the first echo's sidecar is read when present."""
    from ..io.tables import read_json_object

    te_s = [round(float(t) / 1000.0, 6) for t in echoes.echo_times_ms]
    sources = [p.name for p in echoes.paths]
    t2s_meta = {
        "Units": "s",
        "Description": "T2* from a log-linear fit of the temporal mean of each echo over the "
                       "usable echoes (tedana fit_decay, loglin)",
        "EchoTime": te_s,
        "Sources": sources,
    }
    side = sidecar_of(echoes.paths[0])
    meta = read_json_object(side, "") if side.is_file() else {}
    meta = {k: v for k, v in meta.items() if k != "EchoTime"}
    meta.update({
        "Description": "T2*-weighted optimal combination of the echoes (Posse 1999; tedana "
                       "make_optcom, weights TE exp(-TE / T2*))",
        "EchoTimesCombined": te_s,
        "Sources": sources,
    })
    return t2s_meta, meta


def _roi_numbers(roi, result_maps, qc) -> RoiEchoes:
    t2star_ms, adaptive, tsnr_echoes, mean_echoes, mean_optcom = result_maps
    mask = roi.mask
    n = int(mask.sum())
    fitted = mask & (adaptive >= 1)
    tsnr_e = [_median(t[mask]) for t in tsnr_echoes]
    best = None
    if n and all(v is not None for v in tsnr_e):
        best = int(np.argmax(tsnr_e)) + 1
    tsnr_opt = recovery = verdict = reason = None
    if qc is not None:
        roi_qc = next((r for r in qc.rois if r.name == roi.name), None)
        if roi_qc is not None:
            tsnr_opt, verdict, reason = roi_qc.tsnr_median, roi_qc.verdict, roi_qc.reason
    if n:
        echo2 = float(mean_echoes[1][mask].mean())
        recovery = float(mean_optcom[mask].mean()) / echo2 if echo2 > 0 else None
    return RoiEchoes(roi.name, n, int(fitted.sum()), tsnr_e, tsnr_opt,
                     _median(t2star_ms[fitted]), recovery, best, verdict, reason)


def multiecho_combine(
    echoes: EchoSet | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    echo_times_ms: Sequence[float] | None = None,
    mask: str | os.PathLike | None = None,
    rois: Sequence = (),
    overwrite: bool = False,
    qc: bool = True,
    chunk_volumes: int | None = None,
    progress: Progress | None = None,
) -> MultiEchoResult:
    """Fit T2* / S0, write them, the adaptive mask and the optimally combined run.

    Parameters
    ----------
    echoes : EchoSet or sequence of path-like
        The echoes (in order of echo time), or an already read :class:`EchoSet`.
    out_dir : path-like
        Existing folder for the outputs.
    echo_times_ms : sequence of float, optional
        Echo times in ms when the files have no sidecars (ignored for an EchoSet).
    mask : path-like, optional
        Brain mask; by default nilearn's ``compute_epi_mask`` on echo 1's temporal mean
        (tedana's default).
    rois : sequence
        ``"PAG"`` / ``"RVM"`` (literature seeds, MNI space), ROI mask / dseg files, or
        :class:`~napari_milna.core.qc.coverage.RoiMask` objects on the echo grid.
    overwrite : bool
        Replace existing outputs.
    qc : bool
        Run the QC of the combined run (per-ROI verdict, ``tsnr_optcom``).
    chunk_volumes : int, optional
        Volumes per streamed chunk.
    progress : callable, optional
        ``progress(done, total)``; :class:`~napari_milna.core.jobs.Cancelled` stops the
        work, leaving no file behind when raised before the maps are written.

    Returns
    -------
    MultiEchoResult

    Raises
    ------
    MilnaInputError
        Bad echoes (see :func:`~.echoes.read_echo_set`), a missing output folder, an
        existing output without ``overwrite``, an unusable mask or ROI.
    """
    from ..io.atomic import output_set, remove_stale
    from ..io.nifti_write import save_like, save_run_like
    from ..io.tables import atomic_write_text
    from ..qc.coverage import MIN_VOLUMES, run_qc
    from ..qc.tsnr import tsnr_from
    from .t2star import optimal_combination_chunks

    if not isinstance(echoes, EchoSet):
        echoes = read_echo_set(echoes, echo_times_ms)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise input_error(out_dir, "is not an existing folder")
    paths = output_paths(echoes.paths[0], out_dir)
    if not overwrite:
        remove_stale(out_dir)  # a killed run's half-moved set is undone first
        for path in paths.values():
            if path.exists():
                raise input_error(path, "already exists; choose another folder or allow "
                                        "overwriting")
    notes: list[str] = []
    roi_list = _rois_on_grid(rois, echoes, notes)
    sidecars = _sidecars(echoes)
    grid = echoes.grid
    n_vol = echoes.n_volumes
    run_qc_too = qc and n_vol >= MIN_VOLUMES
    if qc and not run_qc_too:
        notes.append(f"no QC of the combined run: it has {n_vol} volumes, QC needs at least "
                     f"{MIN_VOLUMES}")
    total = 2 * n_vol + 1 + (n_vol if run_qc_too else 0)

    means = echo_means(echoes, chunk_volumes=chunk_volumes,
                       progress=combined(progress, 0, n_vol, total))
    for e, path in enumerate(echoes.paths):
        if not (np.isfinite(means.mean[e]) & (means.mean[e] > 0)).any():
            raise input_error(path, "holds no signal (every voxel is zero or NaN over the run); "
                                    "an echo needs positive signal for T2*")
    brain, mask_source = _brain_mask(mask, echoes, means, notes)
    voxels = np.flatnonzero(np.reshape(brain, -1, order="F"))
    adaptive_m = adaptive_mask(means.mean[:, voxels].T, means.minimum[:, voxels].T)
    fit = fit_t2star(means.mean[:, voxels].T, echoes.echo_times_ms, adaptive_m)
    report(progress, n_vol + 1, total)
    unusable = int((fit.adaptive == 0).sum())
    if unusable:
        notes.append(f"{unusable} brain-mask voxels have no usable echo (adaptive mask 0): "
                     "no T2*, no combination there")
    if not (fit.adaptive >= 1).any():
        raise input_error(echoes.paths[0], "has no voxel with a usable echo inside the brain "
                                           "mask (no signal, or mask and echoes do not overlap)")

    def on_grid(values, dtype):
        flat = np.zeros(grid.n_voxels, dtype=dtype)
        flat[voxels] = values
        return np.reshape(flat, grid.shape, order="F")

    t2star_ms = on_grid(fit.t2star_ms, np.float32)
    s0 = on_grid(fit.s0, np.float32)
    adaptive = on_grid(fit.adaptive, np.uint8)
    source_image = echoes.sources[0].image
    chunks = optimal_combination_chunks(
        echoes, voxels, fit, chunk_volumes=chunk_volumes,
        progress=combined(progress, n_vol + 1, n_vol, total),
    )
    # The maps appear together, or none; the set ends before the QC reads the combination.
    with output_set():
        save_run_like(chunks, source_image, paths["optcom"], n_volumes=n_vol,
                      overwrite=overwrite, description="optimal combination (T2*-weighted)")
        save_like(t2star_ms / np.float32(1000.0), source_image, paths["t2star"],
                  overwrite=overwrite, description="T2* (s), log-linear fit (tedana)")
        save_like(s0, source_image, paths["s0"], overwrite=overwrite,
                  description="S0, log-linear fit (tedana)")
        save_like(adaptive, source_image, paths["adaptive_mask"], overwrite=overwrite,
                  description="usable echoes per voxel (adaptive mask)")
        for key, meta in zip(("t2star_json", "optcom_json"), sidecars):
            atomic_write_text(paths[key], json.dumps(meta, indent=2) + "\n",
                              overwrite=overwrite)

    qc_result = None
    if run_qc_too:
        qc_mask = mask if mask is not None else paths["adaptive_mask"]
        if mask is None:
            notes.append("QC brain mask: the adaptive mask's voxels (at least one usable echo)")
        qc_result = run_qc(paths["optcom"], brain_mask=qc_mask, rois=roi_list,
                           progress=combined(progress, 2 * n_vol + 1, n_vol, total))
    tsnr_maps = np.stack([
        np.reshape(tsnr_from(means.mean[e], means.std[e]), grid.shape, order="F")
        for e in range(echoes.n_echoes)
    ]).astype(np.float32)
    mean_maps = [np.reshape(means.mean[e], grid.shape, order="F")
                 for e in range(echoes.n_echoes)]
    # The combination is linear with fixed weights per voxel: its temporal mean is the
    # combination of the echoes' temporal means.
    mean_optcom = on_grid(combine_means(means.mean[:, voxels].T, echoes.echo_times_ms, fit),
                          np.float64)
    maps = (t2star_ms, adaptive, tsnr_maps, mean_maps, mean_optcom)
    roi_rows = [_roi_numbers(r, maps, qc_result) for r in roi_list]
    return MultiEchoResult(echoes, paths, mask_source, t2star_ms, s0, adaptive, tsnr_maps,
                           roi_rows, qc_result, notes)
