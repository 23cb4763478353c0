"""Coverage & dropout QC dock: brainstem signal per ROI before anyone trusts a result.

A thin shell over :func:`napari_milna.core.qc.coverage.run_qc`: the user chooses the run, the
brain mask (a layer, or computed with nilearn), the CSF map and the ROIs (labels
layers and / or files); the run is read in a worker thread with a progress bar and a
Cancel button. Results: tSNR, signal-ratio and dropout layers on the EPI grid (dropout
red over the mean EPI, SPM implicit-mask drops yellow), a per-ROI table with verdict
colours and reasons, a run-level summary, and the ROI mean time series against the
CSF mean. A click on a row moves the cursor to the ROI's centroid.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.viewer_state import ViewerState
from ...core.errors import MilnaInputError
from ...core.jobs import Cancelled
from ...core.qc.coverage import (
    DROPOUT_THRESHOLD,
    QCResult,
    RoiMask,
    load_rois,
    run_qc,
)
from ..panel.dock_layout import ScrollingDock, hbox
from ..panel.layer_combo import LayerCombo
from .choices import RoiChoice
from .inputs import (
    QCJob,
    csf_candidates,
    gather,
    looks_like_roi,
    mask_candidates,
    preferred_brain_mask,
    preferred_csf,
    roi_candidates,
    run_candidates,
    unique_names,
)
from .layers import DROPOUT_RGBA, SPM_DROP_RGBA, show_qc_layers
from .plot import QCPlot
from .table import QCTable

COMPUTE_MASK = "compute"
NO_CSF = "none"
#: Dock width (px): the table's numeric columns and the plot legend fit.
MIN_WIDTH = 560
_NOTIFY = {"info": show_info, "warning": show_warning, "error": show_error}
_STATUS_COLOURS = {"error": "#ff6b6b", "warning": "#ffb347"}


@dataclass
class QCOutcome:
    """What the worker hands back: ``state`` is ``done``, ``cancelled`` or ``error``."""

    state: str
    result: QCResult | None = None
    rois: dict[str, RoiMask] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    message: str = ""


def compute_qc(job: QCJob, progress) -> QCOutcome:
    """Load the ROI files, then :func:`run_qc` (runs in the worker thread).

    Expected problems (bad input, cancel) come back as an outcome, not an exception.
    """
    try:
        rois, owners = list(job.roi_masks), list(job.roi_owners)
        for path in job.roi_files:
            loaded = load_rois([path], job.grid)
            rois += loaded
            owners += [Path(path).name] * len(loaded)
        unique_names(rois)
        result = run_qc(
            job.epi,
            brain_mask=job.brain_mask,
            csf=job.csf,
            rois=rois,
            detrend=job.detrend,
            dropout_threshold=job.dropout_threshold,
            progress=progress,
        )
    except Cancelled:
        return QCOutcome("cancelled")
    except MilnaInputError as exc:
        return QCOutcome("error", message=str(exc))
    return QCOutcome(
        "done",
        result=result,
        rois={r.name: r for r in rois},
        owners={r.name: o for r, o in zip(rois, owners)},
    )


def short_run_name(name: str) -> str:
    """BIDS entities that tell runs apart (``sub-01_task-pain``), else the name."""
    keep = [
        m.group(0)
        for m in re.finditer(r"(?:sub|ses|task|acq|run|echo)-[A-Za-z0-9]+", name)
    ]
    return "_".join(keep) if keep else name


def breakable(text: str) -> str:
    """``text`` with zero-width spaces after ``_`` and ``/``, so labels can wrap long names."""
    return str(text).replace("_", "_\u200b").replace("/", "/\u200b")


def ask_roi_files(parent) -> list[str]:
    """Ask for ROI mask / dseg files (a module function, replaced in tests)."""
    paths, _ = QFileDialog.getOpenFileNames(
        parent, "ROI masks or dseg files", "", "NIfTI (*.nii *.nii.gz *.hdr *.img)"
    )
    return list(paths)


class _ProgressRelay(QObject):
    """Carries progress from the worker thread to the GUI thread (queued signal)."""

    progress = Signal(int, int)


def _hex(rgba) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(round(255 * v)) for v in rgba[:3]))


class QCDock(ScrollingDock):
    """Coverage & dropout QC of a run, per ROI.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    #: Emitted with the outcome state (``done``, ``cancelled``, ``error``) when a run ends.
    qc_finished = Signal(str)

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent, min_width=MIN_WIDTH)
        self.viewer = napari_viewer
        self.state = ViewerState.of(napari_viewer)
        self.messages: list[str] = []
        self.result: QCResult | None = None
        self.rois: dict[str, RoiMask] = {}
        self.owners: dict[str, str] = {}
        self.qc_layers: dict = {}
        self.worker = None
        self.last_state: str | None = None
        self._job: QCJob | None = None
        self._cancel = threading.Event()
        self._closed = False
        self._relay = _ProgressRelay(self)
        self._relay.progress.connect(self._on_progress)
        self.destroyed.connect(self._on_destroyed)

        v = napari_viewer
        self.run_combo = LayerCombo(
            v, lambda: run_candidates(v),
            describe=lambda lay: lay.name if source_of(lay).is_run else f"{lay.name} (3D)",
        )
        self.brain_combo = LayerCombo(
            v, lambda: mask_candidates(v), fixed=(("compute (nilearn)", COMPUTE_MASK),),
            preferred=lambda: preferred_brain_mask(v),
        )
        self.brain_combo.setToolTip(
            "Brain mask (fMRIPrep desc-brain_mask, SPM mask.nii), or computed from the mean "
            "EPI with nilearn's compute_epi_mask (which follows the signal, so it leaves out "
            "regions that drop out: give the anatomical mask where there is one)"
        )
        self.csf_combo = LayerCombo(
            v, lambda: csf_candidates(v), fixed=(("(none)", NO_CSF),),
            preferred=lambda: preferred_csf(v),
        )
        self.csf_combo.setToolTip(
            "CSF probability (fMRIPrep label-CSF_probseg, SPM c3, FSL pve_0) or binary mask"
        )
        self.roi_list = RoiChoice(v, lambda: roi_candidates(v), looks_like_roi)
        self.roi_list.setToolTip("Tick the ROI layers and files to check (each label is an ROI)")
        self.add_files_button = QPushButton("Add ROI files…")
        self.add_files_button.clicked.connect(self._on_add_files)
        self.remove_files_button = QPushButton("Remove file")
        self.remove_files_button.clicked.connect(self.roi_list.remove_selected_files)
        self.detrend_spin = QSpinBox()
        self.detrend_spin.setRange(0, 5)
        self.detrend_spin.setToolTip(
            "Legendre degree removed before std / tSNR (nipype regress_poly); 0: none "
            "(the MRIQC tSNR)"
        )
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.05, 0.95)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(DROPOUT_THRESHOLD)
        self.threshold_spin.setToolTip("Dropout: temporal mean below this x the brain median")

        self.run_button = QPushButton("Run QC")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m volumes")
        self.status = QLabel("Choose a run and press Run QC.")
        self.status.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self._show_legend(DROPOUT_THRESHOLD)
        self.table = QCTable()
        self.table.roi_clicked.connect(self.go_to_roi)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.plot = QCPlot()

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Run", self.run_combo)
        form.addRow("Brain mask", self.brain_combo)
        form.addRow("CSF map", self.csf_combo)
        form.addRow("ROIs", self.roi_list)
        form.addRow("", hbox(self.add_files_button, self.remove_files_button, stretch=True))
        form.addRow("Detrend K", hbox(self.detrend_spin, QLabel("Dropout <"),
                                           self.threshold_spin, QLabel("x median"),
                                           stretch=True))
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(hbox(self.run_button, self.cancel_button, self.progress))
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        layout.addWidget(self.legend)
        layout.addWidget(self.table)
        layout.addWidget(self.detail)
        layout.addWidget(self.plot)
        layout.addStretch(1)
        self.set_body(body)

    # ------------------------------------------------------------------ messages
    def notify(self, level: str, text: str) -> None:
        """One message: napari notification, the status line, and :attr:`messages`."""
        self.messages.append(text)
        colour = _STATUS_COLOURS.get(level)
        shown = breakable(text)
        self.status.setText(f'<span style="color:{colour}">{shown}</span>' if colour else shown)
        self.status.setToolTip(text)
        _NOTIFY[level](text)

    # ------------------------------------------------------------------ inputs
    def _on_add_files(self) -> None:
        paths = ask_roi_files(self)
        if paths:
            self.roi_list.add_files(paths)

    def add_roi_files(self, paths) -> None:
        """Add ROI mask / dseg files to the ROI list (ticked)."""
        self.roi_list.add_files(paths)

    def _brain_layer(self):
        key = self.brain_combo.key()
        if key is None or key[0] == "fixed":
            return None
        return key[1]

    def _csf_layer(self):
        key = self.csf_combo.key()
        if key is None or key[0] == "fixed":
            return None
        return key[1]

    # ------------------------------------------------------------------ run
    @property
    def running(self) -> bool:
        """True while a worker reads the run."""
        return self.worker is not None

    def start(self) -> None:
        """Gather the inputs and run QC in a worker thread."""
        from napari.qt.threading import create_worker

        if self.running:
            return
        temp_dir = Path(tempfile.mkdtemp(prefix="milna-qc-"))
        roi_layers, roi_files = self.roi_list.chosen()
        try:
            job = gather(
                self.run_combo.layer(), self._brain_layer(), self._csf_layer(), roi_layers,
                roi_files, self.detrend_spin.value(), self.threshold_spin.value(), temp_dir,
            )
        except MilnaInputError as exc:
            shutil.rmtree(temp_dir, ignore_errors=True)
            self.notify("error", f"QC not started: {exc}")
            return
        self._job = job
        self._cancel.clear()
        self.progress.setRange(0, job.grid_source.n_volumes)
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Reading {job.run_name} ...")
        relay, cancel = self._relay, self._cancel

        def progress(done: int, total: int) -> bool:
            try:
                relay.progress.emit(done, total)
            except RuntimeError:  # the dock is gone
                return True
            return cancel.is_set()

        worker = create_worker(compute_qc, job, progress, _start_thread=False)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        worker.start()

    def cancel(self) -> None:
        """Ask the worker to stop after the current chunk of volumes."""
        if self.running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling ...")

    def _on_progress(self, done: int, total: int) -> None:
        if not self._closed:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _on_returned(self, outcome: QCOutcome) -> None:
        if self._closed:
            return
        job = self._job
        if outcome.state == "cancelled":
            self.notify("info", f"QC of {job.run_name} cancelled; nothing was changed.")
        elif outcome.state == "error":
            self.notify("error", f"QC of {job.run_name} failed: {outcome.message}")
        else:
            self._show(job, outcome)
        self.last_state = outcome.state

    def _on_errored(self, exc) -> None:
        if self._closed:
            return
        self.last_state = "error"
        self.notify("error", f"QC stopped by an unexpected error: {type(exc).__name__}: {exc}")

    def _on_finished(self) -> None:
        job, self._job, self.worker = self._job, None, None
        if job is not None and job.temp_dir is not None:
            shutil.rmtree(job.temp_dir, ignore_errors=True)
        if self._closed:
            return
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.qc_finished.emit(self.last_state or "error")

    def _on_destroyed(self, *args) -> None:
        self._closed = True
        self._cancel.set()

    # ------------------------------------------------------------------ results
    def _show(self, job: QCJob, outcome: QCOutcome) -> None:
        result = outcome.result
        self.result, self.rois, self.owners = result, outcome.rois, outcome.owners
        self.qc_layers = show_qc_layers(
            self.viewer, result, job.grid_source, short_run_name(job.run_name)
        )
        self.table.show_rois(result.rois)
        self._show_legend(result.dropout_threshold)
        self.summary.setText(self.summary_html(job, result))
        self.plot.show_series(result.roi_timeseries, result.csf_timeseries, result.tr)
        worst = next((r for r in result.rois if r.verdict == "fail"), None) or next(
            (r for r in result.rois if r.verdict == "warn"), None
        )
        self._show_detail(worst.name if worst is not None else None)
        counts = {v: sum(r.verdict == v for r in result.rois) for v in ("ok", "warn", "fail")}
        text = (
            f"QC of {short_run_name(job.run_name)} done: tSNR median {result.tsnr_median:.1f}; "
            f"ROIs {counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail."
        )
        notes = job.skipped + result.notes
        if notes:
            text += " " + " ".join(n.rstrip(".") + "." for n in notes)
        self.notify("warning" if notes else "info", text)

    def _show_legend(self, threshold: float) -> None:
        self.legend.setText(
            f'<span style="color:{_hex(DROPOUT_RGBA)}">■</span> dropout: below {threshold:g} x '
            f'the brain median signal &nbsp; <span style="color:{_hex(SPM_DROP_RGBA)}">■</span> '
            "dropped by SPM's implicit mask (0.8 x global)"
        )

    def summary_html(self, job: QCJob, result: QCResult) -> str:
        """The run-level line (tSNR over the brain mask, volumes, masks) and the notes."""
        tr = f", TR {result.tr:g} s" if result.tr else ""
        brain = (
            "computed with nilearn (compute_epi_mask on the mean EPI)"
            if result.brain_mask_source.startswith("computed")
            else job.brain_mask_layer
        )
        csf = job.csf_layer or "none"
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
        owner = self.owners.get(name)
        where = f" (from {breakable(owner)})" if owner else ""
        self.detail.setText(f"<b>{roi.name}</b>{where} — {roi.verdict}: {roi.reason}")

    def centroid_mm(self, name: str) -> np.ndarray | None:
        """World mm centroid of ROI ``name`` (its own voxels), None when it has none."""
        roi = self.rois.get(name)
        if roi is None or len(roi.source_voxels_mm) == 0:
            return None
        return np.asarray(roi.source_voxels_mm, dtype=float).mean(axis=0)

    def go_to_roi(self, name: str) -> None:
        """Move the cursor to ROI ``name``'s centroid and show its reason."""
        self._show_detail(name)
        centre = self.centroid_mm(name)
        if centre is None:
            self.notify("warning", f"ROI {name} has no voxel: nothing to move to.")
            return
        self.state.go_to_world(centre)
