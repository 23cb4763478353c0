"""Multi-echo in the QC tab: find echo sets, fit and combine through the core, compare per ROI.

No Qt here. :func:`echo_sets` finds the echoes of multi-echo runs next to the runs the
user has open (BIDS ``*_echo-<n>_bold.nii.gz``); :func:`compute_multiecho` is the tab's
job: :func:`~napari_milna.core.multiecho.combine.multiecho_combine` (T2*, S0, adaptive
mask, optimal combination) and then the QC of every echo and of the combination
(:func:`~napari_milna.core.qc.coverage.run_qc`) with the same brain mask, CSF map, ROIs,
detrend order and dropout threshold, so that each echo's tSNR and dropout stand next to
the combination's. :func:`single_echo` names the echo a single-echo protocol would have
used, and says by which rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...core.errors import MilnaInputError
from ...core.io.bids import parse_bids_name
from ...core.jobs import combined
from ...core.multiecho.combine import MultiEchoResult, multiecho_combine, output_prefix
from ...core.multiecho.echoes import EchoSet, sidecar_echo_time_ms
from ...core.qc.coverage import RoiQC, run_qc
from .inputs import MaskInputs, RoiInputs

#: Rules that name the echo a single-echo protocol would have used: key -> words.
SINGLE_ECHO_RULES = {
    "tsnr": "best median tSNR",
    "t2star": "TE closest to the median T2*",
}
_NIFTI = re.compile(r"\.nii(\.gz)?$")


def echo_sets(folders) -> dict[str, tuple[Path, ...]]:
    """Multi-echo runs in ``folders``: ``label -> echo files`` in order of echo number.

    A multi-echo run is two or more NIfTI files whose BIDS names differ only by the
    ``echo`` entity (suffix ``bold``). The label is the run's derivative prefix and
    its number of echoes (``sub-01_task-pain_acq-multiecho (3 echoes)``).
    """
    groups: dict[tuple[Path, str], list[tuple[int, Path]]] = {}
    seen: set[Path] = set()
    for folder in folders:
        folder = Path(folder)
        if folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        for path in sorted(folder.glob("*_echo-*")):
            if not _NIFTI.search(path.name):
                continue
            name = parse_bids_name(path)
            echo = name.entities.get("echo", "")
            if name.suffix != "bold" or not echo.isdigit():
                continue
            rest = tuple((k, v) for k, v in name.entities.items() if k != "echo")
            groups.setdefault((folder, str(rest)), []).append((int(echo), path))
    out = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        paths = tuple(p for _, p in sorted(members))
        label = f"{output_prefix(paths[0])} ({len(paths)} echoes)"
        out[label if label not in out else f"{label} in {paths[0].parent}"] = paths
    return out


def sidecar_echo_times(paths) -> list[float] | None:
    """Echo times (ms) from the JSON sidecars of ``paths``; None when one is missing."""
    try:
        return [sidecar_echo_time_ms(p) for p in paths]
    except MilnaInputError:
        return None


def parse_echo_times(text: str) -> list[float] | None:
    """Echo times typed in ms (``"13, 30, 47"``); None for an empty text (use the sidecars).

    Raises
    ------
    MilnaInputError
        Text that is not a list of numbers.
    """
    parts = [p for p in re.split(r"[,;\s]+", str(text).strip()) if p]
    if not parts:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise MilnaInputError(
            f"The echo times '{text}' are not numbers in ms (type e.g. 13, 30, 47)."
        ) from None


@dataclass
class EchoJob:
    """Everything the multi-echo job needs, gathered in the main thread."""

    echoes: EchoSet
    out_dir: Path
    overwrite: bool
    masks: MaskInputs
    rois: RoiInputs
    detrend: int = 0
    dropout_threshold: float = 0.5

    @property
    def prefix(self) -> str:
        """The run's derivative prefix (first echo's entities without ``echo`` / ``desc``)."""
        return output_prefix(self.echoes.paths[0])


@dataclass
class RunQC:
    """The QC of one echo (or of the combination) over the ROIs.

    Attributes
    ----------
    label : str
        ``"TE 13 ms"`` or ``"combined"``.
    rois : list of RoiQC
    tsnr : ndarray, float32
        Voxel tSNR (the QC's detrend order).
    brain_median_signal : float
    """

    label: str
    rois: list[RoiQC]
    tsnr: np.ndarray = field(repr=False)
    brain_median_signal: float

    def roi(self, name: str) -> RoiQC | None:
        """The row of ROI ``name``."""
        return next((r for r in self.rois if r.name == name), None)


@dataclass
class EchoComparison:
    """Multi-echo fit of a run and the QC of each echo next to the combination.

    Attributes
    ----------
    me : MultiEchoResult
        The core's result (T2* / S0 / adaptive mask maps, per-ROI numbers, paths).
    echoes : list of RunQC
        QC of each echo, in order of echo time.
    combined : RunQC
        QC of the optimally combined run.
    roi_masks : list of RoiMask
        The ROIs on the echo grid.
    owners : list of (str, layer or None)
        The layer (or file) each ROI came from.
    notes : list of str
    """

    me: MultiEchoResult
    echoes: list[RunQC]
    combined: RunQC
    roi_masks: list = field(default_factory=list)
    owners: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def echo_times_ms(self) -> list[float]:
        """Echo times in ms."""
        return [float(t) for t in self.me.echoes.echo_times_ms]

    @property
    def roi_names(self) -> list[str]:
        """ROI names in order."""
        return [r.name for r in self.roi_masks]

    def region(self) -> tuple[np.ndarray, str]:
        """The union of the ROIs (or the fitted brain without ROIs) and its name in words."""
        union = np.zeros(self.me.adaptive.shape, bool)
        for roi in self.roi_masks:
            union |= roi.mask
        if union.any():
            return union, "over the ROIs"
        return self.me.mask, "over the brain"


def _slim(label: str, result) -> RunQC:
    return RunQC(label, list(result.rois), result.maps.tsnr.astype(np.float32),
                 float(result.brain_median_signal))


def compute_multiecho(job: EchoJob, progress) -> EchoComparison:
    """Fit T2* / S0, combine the echoes, then QC every echo and the combination (worker).

    Progress runs over the two passes of the fit and combination and one pass per
    QC'd run; :class:`~napari_milna.core.jobs.Cancelled` stops it.
    """
    echoes = job.echoes
    rois, owners = job.rois.load(echoes.grid)
    n, n_echoes = echoes.n_volumes, echoes.n_echoes
    fit_steps = 2 * n + 1
    total = fit_steps + (n_echoes + 1) * n
    me = multiecho_combine(
        echoes, job.out_dir, mask=job.masks.brain, rois=rois, overwrite=job.overwrite,
        qc=False, progress=combined(progress, 0, fit_steps, total),
    )
    qc_mask = job.masks.brain if job.masks.brain is not None else me.paths["adaptive_mask"]
    runs = [(f"TE {te:g} ms", path) for te, path in zip(echoes.echo_times_ms, echoes.paths)]
    runs.append(("combined", me.paths["optcom"]))
    results, notes = [], list(me.notes)
    if job.masks.brain is None:
        notes.append("QC brain mask: the adaptive mask's voxels (at least one usable echo)")
    for i, (label, path) in enumerate(runs):
        result = run_qc(
            path, brain_mask=qc_mask, csf=job.masks.csf, rois=rois, detrend=job.detrend,
            dropout_threshold=job.dropout_threshold,
            progress=combined(progress, fit_steps + i * n, n, total),
        )
        notes += [note for note in result.notes if note not in notes]
        results.append(_slim(label, result))
    return EchoComparison(me, results[:-1], results[-1], rois, owners, notes)


@dataclass
class SingleEcho:
    """The echo a single-echo protocol would have used, and why.

    Attributes
    ----------
    echo : int
        1-based echo number.
    te_ms : float
    rule : str
        Key of :data:`SINGLE_ECHO_RULES`.
    reason : str
        The rule and its numbers, in words.
    """

    echo: int
    te_ms: float
    rule: str
    reason: str


def single_echo(comparison: EchoComparison, rule: str = "tsnr") -> SingleEcho:
    """Name the echo a user would have chosen for a single-echo run.

    Parameters
    ----------
    comparison : EchoComparison
    rule : str
        ``"tsnr"``: the echo with the best median tSNR over the ROIs (their voxels
        pooled; the brain without ROIs). ``"t2star"``: the echo whose TE is closest to
        the median fitted T2* there (BOLD sensitivity peaks near TE = T2*).
    """
    te = comparison.echo_times_ms
    region, where = comparison.region()
    if rule == "tsnr":
        medians = [float(np.median(run.tsnr[region])) for run in comparison.echoes]
        best = int(np.argmax(medians))
        values = ", ".join(f"{v:.0f}" for v in medians)
        reason = (f"{SINGLE_ECHO_RULES[rule]} {where} ({values} at TE "
                  f"{', '.join(f'{t:g}' for t in te)} ms)")
    elif rule == "t2star":
        fitted = region & (comparison.me.adaptive >= 1)
        t2 = float(np.median(comparison.me.t2star_ms[fitted])) if fitted.any() else np.nan
        if not np.isfinite(t2):
            raise MilnaInputError("No fitted T2* in the ROIs: the T2* rule cannot name an echo.")
        best = int(np.argmin([abs(t - t2) for t in te]))
        reason = f"{SINGLE_ECHO_RULES[rule]} {where} ({t2:.0f} ms)"
    else:
        raise ValueError(f"unknown rule {rule!r}; expected one of {tuple(SINGLE_ECHO_RULES)}")
    return SingleEcho(best + 1, te[best], rule, reason)


def recovery_sentence(comparison: EchoComparison, name: str, chosen: SingleEcho) -> str:
    """Does the combination recover ROI ``name``? Its numbers against the chosen echo."""
    single = comparison.echoes[chosen.echo - 1].roi(name)
    both = comparison.combined.roi(name)
    core = next((r for r in comparison.me.rois if r.name == name), None)
    if single is None or both is None:
        return f"{name}: not measured."
    parts = []
    if core is not None and core.t2star_median_ms is not None:
        parts.append(f"T2* {core.t2star_median_ms:.0f} ms")
    if single.tsnr_median and both.tsnr_median is not None:
        parts.append(f"tSNR {both.tsnr_median:.0f} combined vs {single.tsnr_median:.0f} at "
                     f"echo {chosen.echo} (x{both.tsnr_median / single.tsnr_median:.2f})")
    if single.dropout_fraction is not None and both.dropout_fraction is not None:
        parts.append(f"dropout {100 * both.dropout_fraction:.0f}% vs "
                     f"{100 * single.dropout_fraction:.0f}%")
    parts.append(f"verdict {single.verdict} at echo {chosen.echo}, {both.verdict} combined")
    if core is not None and core.signal_recovery is not None:
        parts.append(f"signal {core.signal_recovery:.2f} x echo 2")
    return f"{name}: " + "; ".join(parts)
