"""Build a study report: find the inputs, compute every section, keep the figures.

:func:`build_report` is the one entry point (``milna report`` and the panel's "Report..."
button both call it). Literature seeds are placed on the first map's grid and written,
for the time the report is built, into a temporary folder, so that every section reads
its ROIs through the same file readers as the CLI. A part that cannot be used (an ROI
outside a map, a folder without smoothness) is left out and said in the report's notes.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MilnaInputError, input_error
from ..jobs import Progress, combined, report
from .inputs import StudyInputs, find_study
from .sections import (
    CrossoverEntry,
    SvcEntry,
    crossover_entry,
    motion_entry,
    physio_entry,
    qc_entry,
    svc_entry,
)


@dataclass
class PlacedSeed:
    """A literature seed placed for the report: its spec, file and grid's reference."""

    region: str
    spec: object
    path: Path
    reference: Path
    n_voxels: int
    mni_evidence: str


@dataclass
class StudyReport:
    """Everything one study report shows.

    Attributes
    ----------
    inputs : StudyInputs
    svc : list of SvcEntry
    svc_figures : list of bytes
        PNG lightbox of each SVC entry.
    qc : list of dict
        Per run: ``milna qc --json`` and ``mosaic_png`` bytes.
    crossover : list of CrossoverEntry
    paired_figures : list of list of bytes
        PNG paired lines per crossover entry and ROI.
    motion : list of MotionResult
    motion_figures : list of bytes
    physio : list of dict
    seeds : list of PlacedSeed
    notes : list of str
        Parts left out, in words.
    created : str
        ISO date and time.
    label : str or None
        How the page names its source (default: the folder or session file).
    """

    inputs: StudyInputs
    svc: list[SvcEntry] = field(default_factory=list)
    svc_figures: list[bytes] = field(default_factory=list)
    qc: list[dict] = field(default_factory=list)
    crossover: list[CrossoverEntry] = field(default_factory=list)
    paired_figures: list[list[bytes]] = field(default_factory=list)
    motion: list = field(default_factory=list)
    motion_figures: list[bytes] = field(default_factory=list)
    physio: list[dict] = field(default_factory=list)
    seeds: list[PlacedSeed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: str = ""
    label: str | None = None

    @property
    def source_name(self) -> str:
        """The report's source in words: its label, else the folder or session file."""
        return self.label or str(self.inputs.source)

    @property
    def n_results(self) -> int:
        """Sections' results computed (SVC tables, QC runs, crossover, motion, physio)."""
        return len(self.svc) + len(self.qc) + len(self.crossover) + len(self.motion) \
            + len(self.physio)

    @property
    def n_figures(self) -> int:
        """Images in the page."""
        return (len(self.svc_figures) + len(self.qc) + sum(map(len, self.paired_figures))
                + len(self.motion_figures))

    def roi_source(self, path) -> str:
        """How the report names an ROI file: ``seed PAG (cylinder)`` or the file."""
        for seed in self.seeds:
            if str(seed.path) == str(path):
                return f"seed {seed.region} ({seed.spec.variant})"
        return str(path)

    def methods(self) -> list[str]:
        """The methods paragraphs (:func:`.methods.methods_paragraphs`)."""
        from .methods import methods_paragraphs

        return methods_paragraphs(self)

    def to_dict(self) -> dict:
        """JSON-ready summary: every section's numbers as the CLI prints them (no images)."""
        svc = []
        for entry in self.svc:
            summary = dict(entry.summary)
            summary["files"] = dict(summary["files"], roi=self.roi_source(entry.roi.path))
            svc.append({"contrast": entry.contrast.name, "roi": entry.roi.name,
                        "result": summary})
        qc = []
        for run in self.qc:
            row = {k: v for k, v in run.items() if k != "mosaic_png"}
            row["rois"] = [dict(r, source=self.roi_source(r["source"])) if r.get("source")
                           else r for r in row["rois"]]
            qc.append(row)
        return {
            "source": self.source_name,
            "mode": self.inputs.mode,
            "root": None if self.inputs.root is None else str(self.inputs.root),
            "created": self.created,
            "rois": [{"name": r.name, "origin": r.origin,
                      "file": None if r.path is None else self.roi_source(r.path),
                      "label": r.label} for r in self.inputs.rois],
            "sections": {
                "svc": svc,
                "qc": qc,
                "crossover": [c.summary for c in self.crossover],
                "motion": [m.to_dict() for m in self.motion],
                "physio": self.physio,
            },
            "n_figures": self.n_figures,
            "methods": self.methods(),
            "notes": list(self.notes),
        }

    def to_html(self) -> str:
        """The self-contained HTML page (:func:`.html.render_report`)."""
        from .html import render_report

        return render_report(self)


def _seed_reference(inputs: StudyInputs) -> Path | None:
    if inputs.contrasts:
        return inputs.contrasts[0].stat_path
    if inputs.runs:
        return inputs.runs[0].bold
    return None


def place_seeds(inputs: StudyInputs, folder: Path, notes: list[str]) -> list[PlacedSeed]:
    """Write the literature seeds of ``inputs.rois`` as masks in ``folder`` (on the first map).

    Seeds that cannot be placed are dropped from ``inputs.rois`` and said in ``notes``.
    """
    from ..io.nifti import open_nifti
    from ..roi.io import save_roi_mask
    from ..roi.seeds import seed_roi

    reference = _seed_reference(inputs)
    placed, kept = [], []
    for roi in inputs.rois:
        if roi.seed is None:
            kept.append(roi)
            continue
        region, variant = roi.seed
        if reference is None:
            notes.append(f"the {region} seed needs a map to lie on; none was found")
            continue
        try:
            seed = seed_roi(region, reference, variant=variant)
            path = save_roi_mask(seed.mask, open_nifti(reference),
                                 folder / f"desc-{region}_mask.nii.gz", name=region)
        except MilnaInputError as exc:
            notes.append(f"the {region} seed: {exc}".rstrip("."))
            continue
        roi.path = path
        kept.append(roi)
        placed.append(PlacedSeed(region, seed.spec, path, Path(reference), seed.n_voxels,
                                 seed.mni_evidence))
    inputs.rois = kept
    return placed


def _note(notes: list[str], what: str, exc: MilnaInputError) -> None:
    notes.append(f"{what}: {str(exc).rstrip('.')}")


def build_report(source, rois=(), progress: Progress | None = None,
                 label: str | None = None) -> StudyReport:
    """Compute a study report of a folder or a session file.

    Parameters
    ----------
    source : str or path-like
        A study folder, or a napari-milna session file.
    rois : sequence of path-like
        ROI files (default: the session's ROIs, or the PAG and RVM seeds).
    progress : callable, optional
        ``progress(done, total)``; Cancel stops at the next step (nothing is written).
    label : str, optional
        How the page names its source (the panel: "the napari viewer").

    Returns
    -------
    StudyReport

    Raises
    ------
    MilnaInputError
        Nothing the report can use, or nothing that gave a result (one sentence).
    """
    from .figures import UnderlayImage, fd_trace, paired_lines, svc_lightbox

    inputs = find_study(source, rois)
    out = StudyReport(inputs, notes=list(inputs.notes),
                      created=_dt.datetime.now().isoformat(timespec="seconds"), label=label)
    with tempfile.TemporaryDirectory(prefix="milna-report-") as tmp:
        report(progress, 0, 1)
        out.seeds = place_seeds(inputs, Path(tmp), out.notes)
        roi_files = inputs.roi_files()
        pairs = [(c, r) for c in inputs.contrasts for r in inputs.rois]
        units = [2] * len(pairs) + [6] * len(inputs.runs) + [6] * len(
            inputs.crossover_tables) + [1] * len(inputs.motion) + [2] * len(inputs.physio)
        total, done = max(sum(units), 1), 0

        def step(span: int):
            nonlocal done
            stage = combined(progress, done, span, total)
            done += span
            return stage

        underlay = None
        if pairs and inputs.underlay is not None:
            try:
                underlay = UnderlayImage.read(inputs.underlay)
            except MilnaInputError as exc:
                _note(out.notes, "the underlay", exc)
        for contrast, roi in pairs:
            stage = step(2)
            try:
                entry = svc_entry(contrast, roi)
            except MilnaInputError as exc:
                _note(out.notes, f"SVC of {contrast.name} in {roi.name}", exc)
                report(stage, 1, 1)
                continue
            report(stage, 1, 2)
            out.svc.append(entry)
            out.svc_figures.append(svc_lightbox(entry, underlay))
            report(stage, 2, 2)
        for run in inputs.runs:
            try:
                out.qc.append(qc_entry(run, roi_files, step(6)))
            except MilnaInputError as exc:
                _note(out.notes, f"QC of {run.bold.name}", exc)
        for table in inputs.crossover_tables:
            try:
                entry = crossover_entry(table, roi_files, out.notes, step(6))
            except MilnaInputError as exc:
                _note(out.notes, f"crossover {table}", exc)
                continue
            out.crossover.append(entry)
            c = entry.summary["contrast"]
            within = f"{c['active']} - {c['control']}" if c["control"] else c["active"]
            out.paired_figures.append([paired_lines(s, within) for s in entry.rois])
        for path, fmt in inputs.motion:
            stage = step(1)
            try:
                motion = motion_entry(path, fmt)
            except MilnaInputError as exc:
                _note(out.notes, f"motion {path.name}", exc)
                continue
            out.motion.append(motion)
            out.motion_figures.append(fd_trace(motion))
            report(stage, 1, 1)
        for physio, bold in inputs.physio:
            stage = step(2)
            try:
                out.physio.append(physio_entry(physio, bold))
            except MilnaInputError as exc:
                _note(out.notes, f"physiology {physio.name}", exc)
            report(stage, 1, 1)
    if out.n_results == 0:
        first = out.notes[0] if out.notes else "no section could be computed"
        raise input_error(inputs.source, f"gave no result for the report ({first})")
    return out


def write_report(study_report: StudyReport, path, *, overwrite: bool = False) -> Path:
    """Write the report's HTML page at ``path`` (atomic; never over a file unasked)."""
    from ..io.tables import atomic_write_text

    return atomic_write_text(path, study_report.to_html(), overwrite=overwrite)


__all__ = ["PlacedSeed", "StudyReport", "build_report", "place_seeds", "write_report"]
