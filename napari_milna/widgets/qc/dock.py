"""QC tab: coverage, dropout and tSNR per ROI before anyone trusts a result; multi-echo.

A thin shell over :func:`napari_milna.core.qc.coverage.run_qc` and
:func:`napari_milna.core.multiecho.combine.multiecho_combine`. The run, the brain mask,
the CSF map and the ROI layer are the study session's (:class:`~.form.QCForm`, bound
both ways); other ROI layers or files, the detrend order and the dropout threshold are
QC's own. Both jobs run through the panel's :class:`~napari_milna.widgets.panel.jobs.
JobRunner` (progress, Cancel). Results: tSNR, signal-ratio and dropout layers on the EPI
grid (dropout red, SPM implicit-mask drops yellow, translucent over the anatomy), a
per-ROI table with verdict colours and reasons, a run-level summary, the ROI mean time
series against the CSF mean; for a multi-echo run, the T2* map (ms) and per ROI the QC
of each echo next to the optimal combination. A click on a row makes that ROI the
session's and moves the cursor to its centroid.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QFileDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...core.errors import MilnaInputError
from ...core.multiecho.combine import output_paths
from ...core.multiecho.echoes import read_echo_set
from ...core.qc.coverage import MIN_VOLUMES, QCResult, RoiMask, run_qc
from ..panel.dock_layout import ScrollingDock, add_sections, hbox
from ..panel.jobs import JobRunner
from ..panel.status import ERROR_COLOUR, WARN_COLOUR, StatusLabel, escape, notify
from .echo_panel import EchoPanel, te_text
from .form import QCForm, Quiet
from .inputs import QCJob, gather, gather_masks, gather_rois, roi_label_of
from .layers import OVERLAY_RGBA, hex_colour, show_qc_layers, show_t2star_layer
from .multiecho import EchoComparison, EchoJob, compute_multiecho, parse_echo_times
from .plot import QCPlot
from .table import QCTable

#: Dock width (px) asked for outside the panel: the table's numeric columns fit.
MIN_WIDTH = 560
#: Status colours by notification level.
LEVEL_COLOURS = {"warning": WARN_COLOUR, "error": ERROR_COLOUR}


@dataclass
class QCOutcome:
    """What the QC job hands back."""

    result: QCResult
    rois: dict[str, RoiMask] = field(default_factory=dict)
    owners: dict[str, tuple[str, object]] = field(default_factory=dict)


def compute_qc(job: QCJob, progress) -> QCOutcome:
    """Load the ROI files, then :func:`run_qc` (runs in the worker thread)."""
    try:
        rois, owners = job.rois.load(job.grid)
        result = run_qc(
            job.epi,
            brain_mask=job.masks.brain,
            csf=job.masks.csf,
            rois=rois,
            detrend=job.detrend,
            dropout_threshold=job.dropout_threshold,
            progress=progress,
        )
    except MilnaInputError as exc:
        raise MilnaInputError(f"QC of {job.run_name} failed: {exc}") from exc
    return QCOutcome(result, {r.name: r for r in rois},
                     {r.name: o for r, o in zip(rois, owners)})


def short_run_name(name: str) -> str:
    """BIDS entities that tell runs apart (``sub-01_task-pain``), else the name."""
    keep = [
        m.group(0)
        for m in re.finditer(r"(?:sub|ses|task|acq|run|echo)-[A-Za-z0-9]+", name)
    ]
    return "_".join(keep) if keep else name


def breakable(text: str) -> str:
    """``text`` as rich text that wraps long names (zero-width spaces after ``_`` and ``/``)."""
    return escape(text).replace("_", "_\u200b").replace("/", "/\u200b")


def ask_roi_files(parent) -> list[str]:
    """Ask for ROI mask / dseg files (a module function, replaced in tests)."""
    paths, _ = QFileDialog.getOpenFileNames(
        parent, "ROI masks or dseg files", "", "NIfTI (*.nii *.nii.gz *.hdr *.img)"
    )
    return list(paths)


class QCDock(ScrollingDock):
    """Coverage & dropout QC of a run, per ROI, and multi-echo T2* / optimal combination.

    Built with the viewer.
    """

    #: A QC run ended: ``done``, ``cancelled`` or ``error``.
    qc_finished = Signal(str)
    #: A multi-echo job ended: ``done``, ``cancelled`` or ``error``.
    multiecho_finished = Signal(str)

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent, min_width=MIN_WIDTH)
        napari_viewer = self.viewer
        self.messages: list[str] = []
        self.result: QCResult | None = None
        self.rois: dict[str, RoiMask] = {}
        self.owners: dict[str, tuple[str, object]] = {}
        self.roi_labels: dict[str, int] = {}
        self.qc_layers: dict = {}
        self.comparison: EchoComparison | None = None
        self.t2star_layer = None
        self._job: tuple[str, object] | None = None
        self._temp_dirs: list[Path] = []

        self.form = QCForm(napari_viewer, self.session)
        self.add_files_button = QPushButton("Add ROI files…")
        self.add_files_button.clicked.connect(self._on_add_files)
        self.remove_files_button = QPushButton("Remove file")
        self.remove_files_button.clicked.connect(self.form.remove_selected_files)
        self.run_button = QPushButton("Run QC")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.status = StatusLabel(escape("Choose a run and press Run QC."))
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self._show_legend(self.form.dropout_threshold.value)
        self.table = QCTable()
        self.table.roi_clicked.connect(self.go_to_roi)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.plot = QCPlot()
        self.echo = EchoPanel(napari_viewer, self.session)
        self.echo.run_button.clicked.connect(self.start_multiecho)
        self.echo.table.roi_clicked.connect(self.go_to_roi)
        self.runner = JobRunner(
            status=self.status, cancel_button=self.cancel_button,
            busy_buttons=(self.run_button, self.echo.run_button), notify=self.notify,
            parent=self,
        )
        self.runner.stepped.connect(self._on_step)
        self.runner.finished.connect(self._on_finished)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.session.roi_changed.connect(self._on_session_roi)

        results = QWidget()
        col = QVBoxLayout(results)
        col.setContentsMargins(0, 0, 0, 0)
        for widget in (self.summary, self.legend, self.table, self.detail, self.plot):
            col.addWidget(widget)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.form.widget.native)
        layout.addWidget(hbox(self.run_button, self.add_files_button, self.remove_files_button,
                              stretch=True))
        layout.addWidget(self.status)
        self.sections = add_sections(layout, (
            ("qc", "Coverage, dropout and tSNR per ROI", results, True),
            ("multiecho", "Multi-echo: T2* and optimal combination", self.echo, True),
        ))
        layout.addStretch(1)
        footer = hbox(self.cancel_button, self.progress)
        footer.layout().setContentsMargins(4, 2, 4, 2)
        self.set_body(body, footer)
        self.destroyed.connect(partial(_release, self.form, self.echo.form, self.runner,
                                       self._temp_dirs, self.session, self._on_session_roi))

    # ------------------------------------------------------------------ messages
    def notify(self, level: str, text: str) -> None:
        """One message: napari notification, the status line, and :attr:`messages`."""
        self.messages.append(text)
        colour = LEVEL_COLOURS.get(level)
        shown = breakable(text)
        self.status.setText(f'<span style="color:{colour}">{shown}</span>' if colour
                            else shown)
        self.status.setToolTip(text)
        notify(level, text)

    # ------------------------------------------------------------------ inputs
    def _on_add_files(self) -> None:
        paths = ask_roi_files(self)
        if paths:
            self.form.add_roi_files(paths)

    def add_roi_files(self, paths) -> None:
        """Add ROI mask / dseg files to the ROIs checked (selected)."""
        self.form.add_roi_files(paths)

    def _temp_dir(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self._temp_dirs.append(path)
        return path

    def _drop_temp(self, path: Path | None) -> None:
        if path is not None and path in self._temp_dirs:
            self._temp_dirs.remove(path)
            shutil.rmtree(path, ignore_errors=True)

    # ------------------------------------------------------------------ jobs
    @property
    def running(self) -> bool:
        """True while a job of this tab runs."""
        return self.runner.running

    def start(self) -> None:
        """Gather the session's run, masks and ROIs and run QC in a job."""
        if self.running:
            return
        temp_dir = self._temp_dir("milna-qc-")
        layers, files = self.form.chosen_rois()
        masks = self.session.masks
        try:
            job = gather(
                self.session.run, masks.get("brain"), masks.get("csf"), layers, files,
                self.form.detrend.value, self.form.dropout_threshold.value, temp_dir,
            )
        except MilnaInputError as exc:
            self._drop_temp(temp_dir)
            self.notify("error", f"QC not started: {exc}")
            return
        self._job = ("qc", job)
        self.progress.setRange(0, job.grid_source.n_volumes)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m volumes")
        title = f"QC of {job.run_name} in {job.rois.describe()}"
        self.runner.start(title, partial(compute_qc, job), partial(self._show, job))

    def start_multiecho(self) -> None:
        """Fit T2* / S0 and combine the chosen echoes, then QC each echo and the combination."""
        if self.running:
            return
        form = self.echo.form
        temp_dir = self._temp_dir("milna-multiecho-masks-")
        try:
            paths = list(form.echo_files.value or ())
            if not paths:
                raise MilnaInputError("choose the echoes of a multi-echo run (BIDS "
                                      "*_echo-<n>_bold.nii.gz, one 4D file per echo).")
            echoes = read_echo_set(paths, parse_echo_times(form.echo_times.value))
            if echoes.n_volumes < MIN_VOLUMES:
                raise MilnaInputError(
                    f"{echoes.paths[0].name} has only {echoes.n_volumes} volumes; QC of the "
                    f"echoes needs at least {MIN_VOLUMES}."
                )
            layers, files = self.form.chosen_rois()
            masks = self.session.masks
            out_dir = (Path(form.out_dir.value) if form.out_dir.value
                       else self._temp_dir("milna-multiecho-"))
            job = EchoJob(
                echoes, out_dir, bool(form.overwrite.value),
                gather_masks(masks.get("brain"), masks.get("csf"), temp_dir),
                gather_rois(layers, files, echoes.grid),
                int(self.form.detrend.value), float(self.form.dropout_threshold.value),
            )
        except (MilnaInputError, OSError) as exc:
            self._drop_temp(temp_dir)
            self.notify("error", f"Multi-echo not started: {exc}")
            return
        self._job = ("multiecho", (job, temp_dir))
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        title = (f"Multi-echo of {short_run_name(job.prefix)} ({echoes.n_echoes} echoes, TE "
                 f"{te_text(echoes.echo_times_ms)} ms) in {job.rois.describe()}")
        self.runner.start(title, partial(compute_multiecho, job),
                          partial(self._show_multiecho, job))

    def _on_step(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_finished(self, status: str, detail) -> None:
        kind, job = self._job or (None, None)
        self._job = None
        state = {"ok": "done"}.get(status, status)
        if kind == "qc":
            self._drop_temp(job.temp_dir)
            if status == "cancelled":
                self.notify("info", f"QC of {job.run_name} cancelled; nothing was changed.")
            self.qc_finished.emit(state)
        elif kind == "multiecho":
            echo_job, temp_dir = job
            self._drop_temp(temp_dir)  # copies of edited masks (outputs stay)
            if status == "cancelled":
                written = [p for p in output_paths(echo_job.echoes.paths[0],
                                                   echo_job.out_dir).values() if p.exists()]
                left = f"; {len(written)} output files stay in {echo_job.out_dir}" if written \
                    else "; nothing was written"
                self.notify("info", f"Multi-echo of {short_run_name(echo_job.prefix)} "
                                    f"cancelled{left}.")
            self.multiecho_finished.emit(state)

    # ------------------------------------------------------------------ QC results
    def _show(self, job: QCJob, outcome: QCOutcome) -> None:
        result = outcome.result
        self.result, self.rois, self.owners = result, outcome.rois, outcome.owners
        self.roi_labels = {name: roi_label_of(layer, self.rois[name])
                           for name, (_, layer) in self.owners.items()}
        short = short_run_name(job.epi.name)
        self.qc_layers = show_qc_layers(self.viewer, result, job.grid_source, short)
        self.table.show_rois(result.rois)
        self._show_legend(result.dropout_threshold)
        self.summary.setText(self.summary_html(job, result))
        self.plot.show_series(result.roi_timeseries, result.csf_timeseries, result.tr)
        worst = next((r for r in result.rois if r.verdict == "fail"), None) or next(
            (r for r in result.rois if r.verdict == "warn"), None
        )
        self._show_detail(worst.name if worst is not None else None)
        self._on_session_roi(self.session.roi_layer, self.session.roi_label)
        counts = {v: sum(r.verdict == v for r in result.rois) for v in ("ok", "warn", "fail")}
        text = (
            f"QC of {job.run_name} in {job.rois.describe()} done: tSNR median "
            f"{result.tsnr_median:.1f}; ROIs {counts['ok']} ok, {counts['warn']} warn, "
            f"{counts['fail']} fail."
        )
        notes = job.skipped + result.notes
        if notes:
            text += " " + " ".join(n.rstrip(".") + "." for n in notes)
        self.notify("warning" if notes else "info", text)

    def _show_legend(self, threshold: float) -> None:
        swatch = {key: f'<span style="color:{hex_colour(rgba)}">■</span>'
                  for key, rgba in OVERLAY_RGBA.items()}
        self.legend.setText(
            f"{swatch['dropout']} dropout: below {threshold:g} x the brain median signal "
            f"&nbsp; {swatch['spm_implicit_drop']} dropped by SPM's implicit mask (0.8 x global)"
        )

    def summary_html(self, job: QCJob, result: QCResult) -> str:
        """The run-level line (tSNR over the brain mask, volumes, masks) and the notes."""
        tr = f", TR {result.tr:g} s" if result.tr else ""
        brain = (
            "computed with nilearn (compute_epi_mask on the mean EPI)"
            if result.brain_mask_source.startswith("computed")
            else job.masks.brain_layer
        )
        csf = job.masks.csf_layer or "none"
        thr = result.dropout_threshold
        lines = [
            f"<b>{breakable(job.run_name)}</b>",
            f"tSNR median <b>{result.tsnr_median:.1f}</b> over {result.brain_voxels} "
            f"brain-mask voxels · {result.n_volumes} volumes{tr} · detrend K = "
            f"{result.detrend}",
            f"Brain: {100 * result.brain_dropout_fraction:.1f}% below {thr:g} x median "
            f"signal, {100 * result.brain_spm_drop_fraction:.1f}% dropped by SPM's implicit "
            "mask",
            f"Brain mask: {breakable(brain)} · CSF: {breakable(csf)}",
        ]
        lines += [f"<i>Note: {breakable(n)}</i>" for n in job.skipped + result.notes]
        return "<br>".join(lines)

    def _show_detail(self, name: str | None) -> None:
        roi = next((r for r in (self.result.rois if self.result else []) if r.name == name), None)
        if roi is None:
            self.detail.setText("")
            return
        owner = self.owners.get(name, (None, None))[0]
        where = f" (from {breakable(owner)})" if owner else ""
        self.detail.setText(f"<b>{escape(roi.name)}</b>{where} — {roi.verdict}: "
                            f"{escape(roi.reason)}")

    # ------------------------------------------------------------------ multi-echo results
    def _show_multiecho(self, job: EchoJob, comparison: EchoComparison) -> None:
        self.comparison = comparison
        short = short_run_name(job.prefix)
        me = comparison.me
        self.t2star_layer = show_t2star_layer(
            self.viewer, me.t2star_ms, me.echoes.grid, me.echoes.sources[0],
            str(me.echoes.paths[0]), short,
        )
        for roi, owner in zip(comparison.roi_masks, comparison.owners):
            self.rois.setdefault(roi.name, roi)
            self.owners.setdefault(roi.name, owner)
        self.echo.show_comparison(comparison)
        chosen = self.echo.chosen
        text = (f"Multi-echo of {short} done: T2* in layer {self.t2star_layer.name}; a "
                f"single-echo run would have used echo {chosen.echo} (TE {chosen.te_ms:g} ms).")
        self.notify("info", text)

    # ------------------------------------------------------------------ ROIs and cursor
    def _on_session_roi(self, layer, label) -> None:
        name = next((n for n, (_, owner) in self.owners.items()
                     if owner is layer and self.roi_labels.get(n) == label), None)
        with Quiet():
            self.table.select_roi(name)

    def centroid_mm(self, name: str) -> np.ndarray | None:
        """World mm centroid of ROI ``name`` (its own voxels), None when it has none."""
        roi = self.rois.get(name)
        if roi is None or len(roi.source_voxels_mm) == 0:
            return None
        return np.asarray(roi.source_voxels_mm, dtype=float).mean(axis=0)

    def go_to_roi(self, name: str) -> None:
        """Make ROI ``name`` the session's ROI, move the cursor to its centroid, say why."""
        self._show_detail(name)
        layer = self.owners.get(name, (None, None))[1]
        label = self.roi_labels.get(name) or (
            roi_label_of(layer, self.rois[name]) if name in self.rois else 0)
        if layer is not None and label and layer in self.session.roi_layers():
            self.session.set_roi(layer, label)
        centre = self.centroid_mm(name)
        if centre is None:
            self.notify("warning", f"ROI {name} has no voxel: nothing to move to.")
            return
        self.state.go_to_world(centre)


def _release(form, echo_form, runner, temp_dirs, session, on_roi, *args) -> None:
    """The tab is gone: stop its job, leave the session, remove its temporary folders."""
    runner.close()
    form.close()
    echo_form.close()
    session.roi_changed.disconnect(on_roi)
    for path in temp_dirs:
        shutil.rmtree(path, ignore_errors=True)
