"""Second-level sign-flip permutation test over the SVC's ROI, in a worker thread.

Subject images (one per subject, or drug and placebo lists whose per-subject
differences are tested) are read and tested by
:func:`napari_milna.core.svc.permutation.sign_flip_test` in a
``napari.qt.threading.thread_worker``; the core's progress callback feeds the
progress bar (through a queued Qt signal) and asks it to stop when Cancel was
pressed (the core then raises :class:`~napari_milna.core.jobs.Cancelled`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import MilnaInputError, input_error
from ...core.jobs import Cancelled
from ...core.svc.permutation import (
    EXHAUSTIVE_LIMIT,
    MIN_SUBJECTS,
    SignFlipResult,
    sign_flip_test,
)
from . import smoothness as svc_smoothness
from .layer_io import (
    glob_paths,
    open_subjects,
    ramp_colormap,
    show_result_layer,
    subject_data,
)

#: Colour of the permutation -log10 p FWE map (distinct from the SVC survivors' cyan).
PERM_COLOUR = (1.0, 0.45, 0.9, 1.0)
DESIGNS = (("one_sample", "One-sample: one image per subject"),
           ("paired", "Paired: drug - placebo per subject"))


class SubjectList(QWidget):
    """A list of image files: add with a file dialog or a glob pattern, remove, clear."""

    changed = Signal()

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = QLabel(title)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(50)
        self.list.setMaximumHeight(80)
        self.add_button = QPushButton("Files...")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear")
        self.glob_edit = QLineEdit()
        self.glob_edit.setPlaceholderText("folder or glob: /study/**/*_con.nii.gz")
        self.glob_edit.setToolTip("A folder, or a glob pattern (** searches sub-folders); "
                                  "press Enter or Add to list the matching NIfTI files")
        self.glob_button = QPushButton("Add")
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        pattern = QHBoxLayout()
        pattern.addWidget(self.glob_edit, 1)
        pattern.addWidget(self.glob_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addLayout(pattern)
        self.error: Callable[[str], None] = lambda text: None
        self.add_button.clicked.connect(self._browse)
        self.remove_button.clicked.connect(self._remove)
        self.clear_button.clicked.connect(self.clear)
        self.glob_button.clicked.connect(self.add_glob)
        self.glob_edit.returnPressed.connect(self.add_glob)

    def paths(self) -> list[str]:
        """The listed files, in order."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def set_paths(self, paths) -> None:
        """Replace the list."""
        self.list.clear()
        self.add_paths(paths)

    def add_paths(self, paths) -> None:
        """Append files not listed yet."""
        have = set(self.paths())
        for p in map(str, paths):
            if p not in have:
                item = QListWidgetItem(os.path.basename(p))
                item.setData(Qt.ItemDataRole.UserRole, p)
                item.setToolTip(p)
                self.list.addItem(item)
                have.add(p)
        self.title.setText(self.title.text().split(" (")[0] + f" ({self.list.count()})")
        self.changed.emit()

    def clear(self) -> None:
        """Remove every file."""
        self.set_paths([])

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.add_paths([])

    def _browse(self) -> None:
        self.add_paths(svc_smoothness.ask_open_files(self, self.title.text().split(" (")[0]))

    def add_glob(self, pattern: str | None = None) -> None:
        """Append the files matching the glob pattern typed (or given)."""
        pattern = pattern if isinstance(pattern, str) else self.glob_edit.text()
        if not pattern.strip():
            return
        try:
            self.add_paths(glob_paths(pattern))
        except MilnaInputError as exc:
            self.error(str(exc))


class PermutationPanel(QWidget):
    """Sign-flip permutation test of subject images over the ROI the SVC dock searches.

    Parameters
    ----------
    viewer : napari.Viewer
    search : callable
        Returns ``(roi_mask, grid, roi_name, grid_source)`` of the current ROI, or raises
        :class:`MilnaInputError`.
    notify : callable
        ``notify(level, text)``: one napari notification.
    """

    #: (done, total) sign flips; emitted from the worker thread, delivered queued.
    progress_changed = Signal(int, int)
    #: The job ended: ``("ok" | "cancelled" | "error", detail)``.
    job_finished = Signal(object)

    def __init__(self, viewer, search: Callable, notify: Callable[[str, str], None], parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.search = search
        self.notify = notify
        self.design_combo = QComboBox()
        for key, text in DESIGNS:
            self.design_combo.addItem(text, key)
        self.images = SubjectList("Subject images")
        self.placebo = SubjectList("Placebo images")
        self.placebo.setToolTip("In the same subject order as the drug images")
        self.images.error = self.placebo.error = lambda text: self.notify("error", text)
        self.placebo.setVisible(False)
        self.n_perm_spin = QSpinBox()
        self.n_perm_spin.setRange(0, 10_000_000)
        self.n_perm_spin.setSingleStep(1000)
        self.n_perm_spin.setSpecialValueText("all flips (when 2^N <= 2^20)")
        self.n_perm_spin.setToolTip(
            "0: every sign flip when 2^N <= 2^20 (exact test), else 10000 random flips; "
            "N: every flip when 2^N <= N, else N random flips"
        )
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.two_sided = QCheckBox("Two-sided (max |t|)")
        self.show_map = QCheckBox("Show -log10 p FWE map")
        self.show_map.setChecked(True)
        self.run_button = QPushButton("Run permutation test")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status = QLabel("Add at least five subject images.")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Design", self.design_combo)
        form.addRow("Sign flips", self.n_perm_spin)
        form.addRow("Seed", self.seed_spin)
        options = QHBoxLayout()
        options.addWidget(self.two_sided)
        options.addWidget(self.show_map)
        options.addStretch(1)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button, 1)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        lists = QHBoxLayout()
        lists.addWidget(self.images, 1)
        lists.addWidget(self.placebo, 1)
        layout.addLayout(lists)
        layout.addLayout(options)
        layout.addLayout(run_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.result: SignFlipResult | None = None
        self.summary: dict | None = None
        self.worker = None
        self._cancel: threading.Event | None = None
        self._closed = False
        self._job = 0
        self.destroyed.connect(self._mark_closed)
        self.design_combo.currentIndexChanged.connect(self._on_design)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_changed.connect(self._on_progress)

    def _mark_closed(self, *args) -> None:
        self._closed = True
        if self._cancel is not None:
            self._cancel.set()

    def paired(self) -> bool:
        """True for the paired (drug - placebo) design."""
        return self.design_combo.currentData() == "paired"

    def _on_design(self, index: int) -> None:
        paired = self.paired()
        self.placebo.setVisible(paired)
        self.images.title.setText(("Drug images" if paired else "Subject images")
                                  + f" ({self.images.list.count()})")

    @property
    def running(self) -> bool:
        """True while a test runs."""
        return self._cancel is not None

    # ------------------------------------------------------------------ run
    def run(self) -> bool:
        """Check the inputs and start the test in a worker thread.

        Returns
        -------
        bool
            True when a job started.
        """
        if self.running:
            return False
        try:
            search, grid, roi_name, grid_source = self.search()
            owner = f"the ROI {roi_name}"
            images = open_subjects(self.images.paths(), grid, owner, "subject image")
            placebo = (open_subjects(self.placebo.paths(), grid, owner, "placebo image")
                       if self.paired() else None)
            check_counts(images.n_images, placebo.n_images if placebo is not None else None)
        except MilnaInputError as exc:
            self.status.setText(_escape(str(exc)))
            self.notify("error", str(exc))
            return False
        from napari.qt.threading import thread_worker

        cancel = threading.Event()
        n_perm, seed, two_sided = (self.n_perm_spin.value(), self.seed_spin.value(),
                                   self.two_sided.isChecked())
        emit = self.progress_changed.emit

        def progress(done: int, total: int) -> bool:
            emit(done, total)
            return cancel.is_set()

        @thread_worker
        def job():
            try:
                data, kept = subject_data(search, images, placebo, roi_name, stop=cancel.is_set)
                result = sign_flip_test(data, n_perm=n_perm, seed=seed, two_sided=two_sided,
                                        progress=progress)
                return "ok", (result, kept)
            except Cancelled as exc:
                return "cancelled", str(exc)
            except MilnaInputError as exc:
                return "error", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported, never a crash of the viewer
                return "error", f"The permutation test failed: {exc}."

        self._job += 1
        number = self._job
        self._cancel = cancel
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        design = "paired differences" if placebo is not None else "images"
        self.status.setText(f"Reading {images.n_images} subject {design} and flipping signs ...")
        worker = job()
        worker.returned.connect(
            lambda outcome: self._done(number, outcome, grid, grid_source, roi_name)
        )
        self.worker = worker
        worker.start()
        return True

    def cancel(self) -> None:
        """Ask the running test to stop (it stops after the current block of flips)."""
        if self._cancel is not None:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling ...")

    def _on_progress(self, done: int, total: int) -> None:
        if self._closed or total <= 0:
            return
        self.progress.setValue(int(round(1000 * done / total)))
        self.progress.setFormat(f"%p%  ({done:,} of {total:,} sign flips)")

    def _done(self, number: int, outcome, grid, grid_source, roi_name: str) -> None:
        if self._closed or number != self._job:
            return
        self._cancel = None
        status, detail = outcome
        try:
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            if status == "ok":
                result, kept = detail
                self._show(result, kept, grid, grid_source, roi_name)
            elif status == "cancelled":
                self.progress.setValue(0)
                self.progress.setFormat("%p%")
                self.status.setText(_escape(f"Cancelled: {detail}."))
            else:
                self.progress.setValue(0)
                self.status.setText(_escape(detail))
                self.notify("error", detail)
        except RuntimeError:  # the dock was closed while the worker ran
            self._closed = True
            return
        self.job_finished.emit(outcome)

    def _show(self, result: SignFlipResult, kept: np.ndarray, grid, grid_source,
              roi_name: str) -> None:
        self.result = result
        ijk_all = np.argwhere(kept)
        i = result.peak_index
        ijk = ijk_all[i]
        xyz = grid.to_world(ijk)
        summary = result.to_dict()
        summary["peak"].pop("index")
        summary["peak"]["ijk"] = [int(v) for v in ijk]
        summary["peak"]["xyz_mm"] = [float(v) for v in xyz]
        summary["roi"] = roi_name
        self.summary = summary
        pk = summary["peak"]
        kind = "exhaustive (every flip)" if result.exhaustive else f"random, seed {result.seed}"
        self.status.setText(
            f"<b>{result.n_subjects}</b> subjects, <b>{result.n_perm:,}</b> sign flips, "
            f"{kind}, {'two' if result.two_sided else 'one'}-sided, {result.t.size} voxels"
            f"<br>Peak t <b>{pk['t']:.3f}</b> at ({', '.join(f'{v:.1f}' for v in xyz)}) mm: "
            f"<b>p FWE {pk['p_fwe']:.4g}</b>, p uncorrected {pk['p_uncorrected']:.4g}"
        )
        self.progress.setValue(1000)
        if self.show_map.isChecked():
            volume = np.zeros(grid.shape, np.float32)
            volume[kept] = -np.log10(np.maximum(result.p_fwe, np.finfo(float).tiny))
            top = -np.log10(1.0 / result.n_perm if result.exhaustive
                            else 1.0 / (1.0 + result.n_perm))
            show_result_layer(
                self.viewer, "perm", volume, grid, grid_source,
                f"permutation -log10 pFWE ({roi_name.split(' (')[0]})",
                ramp_colormap(PERM_COLOUR, "milna-perm-pfwe"), (0.0, max(top, 1.5)),
                "sign-flip permutation -log10 p FWE",
            )


def check_counts(n_images: int, n_placebo: int | None) -> None:
    """Refuse too few subjects or unequal pair lists before reading any voxel.

    Raises
    ------
    MilnaInputError
    """
    if n_placebo is not None and n_placebo != n_images:
        raise input_error(
            None, f"a paired design needs one placebo image per drug image; got {n_images} drug "
            f"and {n_placebo} placebo images"
        )
    if n_images < MIN_SUBJECTS:
        raise input_error(
            None, f"a sign-flip permutation test needs at least {MIN_SUBJECTS} subject images, "
            f"got {n_images}"
        )


def _escape(text: str) -> str:
    import html

    return html.escape(text)


__all__ = ["EXHAUSTIVE_LIMIT", "PermutationPanel", "SubjectList", "check_counts"]
