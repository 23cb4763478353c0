"""Second-level sign-flip permutation test over the SVC's ROI: max t and TFCE.

Subject images (one per subject, or drug and placebo lists whose per-subject
differences are tested) are read and tested by
:func:`napari_milna.core.svc.permutation.sign_flip_test` and, when asked, by
:func:`napari_milna.core.svc.tfce.tfce_sign_flip_test` (threshold-free cluster
enhancement, E 0.5, H 2, 26-connectivity as FSL randomise ``-T``, max-TFCE FWE p) through
the panel's :class:`~napari_milna.widgets.panel.jobs.JobRunner`: progress in the tab's bar
and napari's activity dock, Cancel stops the core at its next report. The options are a
magicgui form; the subject lists stay Qt lists.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, SpinBox
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import MilnaInputError
from ...core.jobs import Cancelled, Progress
from ...core.svc.permutation import (
    EXHAUSTIVE_LIMIT,
    SignFlipResult,
    sign_flip_test,
)
from ...core.svc.tfce import TFCE_CONNECTIVITY, TfceResult, tfce_sign_flip_test
from ..panel.jobs import JobRunner
from ..panel.status import StatusLabel, escape
from .layer_io import (
    check_counts,
    glob_paths,
    open_subjects,
    ramp_colormap,
    show_result_layer,
    subject_data,
)

#: Colour of the permutation -log10 p FWE map (apart from the stat ramps and the survivors).
PERM_COLOUR = (1.0, 0.45, 0.9, 1.0)
#: Colour of the TFCE map.
TFCE_COLOUR = (1.0, 0.75, 0.1, 1.0)
DESIGNS = (("one-sample: one image per subject", "one_sample"),
           ("paired: drug - placebo per subject", "paired"))
NIFTI_FILTER = "NIfTI (*.nii.gz *.nii);;All files (*)"


def ask_open_files(parent, title: str) -> list[str]:
    """NIfTI files to add (empty when cancelled; replaced in tests)."""
    paths, _ = QFileDialog.getOpenFileNames(parent, title, "", NIFTI_FILTER)
    return list(paths)


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
        self.add_paths(ask_open_files(self, self.title.text().split(" (")[0]))

    def add_glob(self, pattern: str | None = None) -> None:
        """Append the files matching the glob pattern typed (or given)."""
        pattern = pattern if isinstance(pattern, str) else self.glob_edit.text()
        if not pattern.strip():
            return
        try:
            self.add_paths(glob_paths(pattern))
        except MilnaInputError as exc:
            self.error(str(exc))


def _stage(progress: Progress, what: str) -> Progress:
    """``progress`` for one stage of the job; a stop says how far the stage got."""
    def report_stage(done: int, total: int):
        try:
            return progress(done, total)
        except Cancelled:
            raise Cancelled(f"stopped after {done} of {total} {what}") from None

    return report_stage


class PermutationPanel(QWidget):
    """Sign-flip permutation test (max t, optionally TFCE) of subject images over the ROI.

    Parameters
    ----------
    viewer : napari.Viewer
    search : callable
        Returns ``(roi_mask, grid, roi_name, grid_source)`` of the current ROI, or raises
        :class:`MilnaInputError`.
    notify : callable
        ``notify(level, text)``: one napari notification.

    Attributes
    ----------
    form : magicgui Container
        ``design``, ``n_perm`` (0: every flip when feasible), ``seed``, ``two_sided``,
        ``tfce`` and ``show_map``.
    result, tfce_result : SignFlipResult, TfceResult or None
        The last results; ``summary`` their JSON (peak in mm, as ``milna perm``).
    """

    #: (done, total) of the running stage (subject files, sign flips, TFCE flips).
    progress_changed = Signal(int, int)
    #: The job ended: ``("ok" | "cancelled" | "error", detail)``.
    job_finished = Signal(object)

    def __init__(self, viewer, search: Callable, notify: Callable[[str, str], None], parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.search = search
        self.notify = notify
        self.design = ComboBox(name="design", label="Design", choices=DESIGNS,
                               value="one_sample")
        self.n_perm = SpinBox(name="n_perm", label="Flips (0: all)", value=0, min=0,
                              max=10_000_000, step=1000)
        self.n_perm.tooltip = ("0: every sign flip when 2^N <= 2^20 (exact test; TFCE up to "
                               "2^15), else 10000 random flips; N: every flip when 2^N <= N, "
                               "else N random flips")
        self.seed = SpinBox(name="seed", label="Seed", value=0, min=0, max=2**31 - 1)
        self.two_sided = CheckBox(name="two_sided", text="two-sided (max |t|)", value=False)
        self.tfce = CheckBox(name="tfce", text="TFCE", value=False)
        self.tfce.tooltip = (f"Threshold-free cluster enhancement (E 0.5, H 2, "
                             f"{TFCE_CONNECTIVITY}-connectivity, as FSL randomise -T): "
                             "max-TFCE FWE p and a TFCE map")
        self.show_map = CheckBox(name="show_map", text="-log10 p FWE map", value=True)
        options = Container(widgets=[self.two_sided, self.tfce, self.show_map],
                            layout="horizontal", labels=False, label="Options")
        options.margins = (0, 0, 0, 0)
        self.form = Container(widgets=[self.design, self.n_perm, self.seed, options])
        self.form.margins = (0, 0, 0, 0)
        self.images = SubjectList("Subject images")
        self.placebo = SubjectList("Placebo images")
        self.placebo.setToolTip("In the same subject order as the drug images")
        self.images.error = self.placebo.error = lambda text: self.notify("error", text)
        self.placebo.setVisible(False)
        self.run_button = QPushButton("Run permutation test")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.status = StatusLabel("Add at least five subject images.")
        self.runner = JobRunner(self.progress, self.status, self.cancel_button,
                                [self.run_button], notify=self.notify, parent=self)

        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button, 1)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form.native)
        lists = QHBoxLayout()
        lists.addWidget(self.images, 1)
        lists.addWidget(self.placebo, 1)
        layout.addLayout(lists)
        layout.addLayout(run_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.result: SignFlipResult | None = None
        self.tfce_result: TfceResult | None = None
        self.summary: dict | None = None
        self.destroyed.connect(self._closed)
        self.design.changed.connect(self._on_design)
        self.run_button.clicked.connect(self.run)
        self.runner.finished.connect(self._finished)
        self.runner.stepped.connect(self.progress_changed)

    def _closed(self, *args) -> None:
        self.runner.close()

    def paired(self) -> bool:
        """True for the paired (drug - placebo) design."""
        return self.design.value == "paired"

    def _on_design(self, value=None) -> None:
        paired = self.paired()
        self.placebo.setVisible(paired)
        self.images.title.setText(("Drug images" if paired else "Subject images")
                                  + f" ({self.images.list.count()})")

    @property
    def running(self) -> bool:
        """True while a test runs."""
        return self.runner.running

    def cancel(self) -> None:
        """Ask the running test to stop at its next progress report."""
        self.runner.cancel()

    # ------------------------------------------------------------------ run
    def run(self) -> bool:
        """Check the inputs and start the test through the job runner.

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
            self.status.setText(escape(str(exc)))
            self.notify("error", str(exc))
            return False
        n_perm, seed = int(self.n_perm.value), int(self.seed.value)
        two_sided, tfce = bool(self.two_sided.value), bool(self.tfce.value)

        def job(progress: Progress):
            data, kept = subject_data(search, images, placebo, roi_name,
                                      progress=_stage(progress, "subject images read"))
            result = sign_flip_test(data, n_perm=n_perm, seed=seed, two_sided=two_sided,
                                    progress=_stage(progress, "sign flips"))
            enhanced = None
            if tfce:
                enhanced = tfce_sign_flip_test(data, kept, n_perm=n_perm, seed=seed,
                                               two_sided=two_sided,
                                               progress=_stage(progress, "TFCE sign flips"))
            return result, enhanced, kept

        title = (f"Sign flips, {images.n_images} "
                 + ("pairs" if placebo is not None else "subjects") + (", TFCE" if tfce else ""))
        return self.runner.start(
            title, job, lambda out: self._show(*out, grid, grid_source, roi_name)
        )

    def _finished(self, status: str, detail) -> None:
        self.job_finished.emit((status, detail))

    def _show(self, result: SignFlipResult, enhanced: TfceResult | None, kept: np.ndarray,
              grid, grid_source, roi_name: str) -> None:
        self.result, self.tfce_result = result, enhanced
        ijk_all = np.argwhere(kept)
        ijk = ijk_all[result.peak_index]
        xyz = grid.to_world(ijk)
        summary = result.to_dict()
        summary["peak"].pop("index")
        summary["peak"]["ijk"] = [int(v) for v in ijk]
        summary["peak"]["xyz_mm"] = [float(v) for v in xyz]
        summary["roi"] = roi_name
        pk = summary["peak"]
        kind = "exhaustive (every flip)" if result.exhaustive else f"random, seed {result.seed}"
        lines = [
            f"<b>{result.n_subjects}</b> subjects, <b>{result.n_perm:,}</b> sign flips, "
            f"{kind}, {'two' if result.two_sided else 'one'}-sided, {result.t.size} voxels",
            f"Peak t <b>{pk['t']:.3f}</b> at ({', '.join(f'{v:.1f}' for v in xyz)}) mm: "
            f"<b>p FWE {pk['p_fwe']:.4g}</b>, p uncorrected {pk['p_uncorrected']:.4g}",
        ]
        short = roi_name.split(" (")[0]
        if enhanced is not None:
            tf = enhanced.to_dict()
            t_ijk = ijk_all[tf.pop("index")]
            tf["ijk"] = [int(v) for v in t_ijk]
            tf["xyz_mm"] = [float(v) for v in grid.to_world(t_ijk)]
            summary["tfce"] = tf
            lines.append(
                f"TFCE peak <b>{tf['peak_value']:.4g}</b> at "
                f"({', '.join(f'{v:.1f}' for v in tf['xyz_mm'])}) mm: <b>p FWE "
                f"{tf['p_fwe']:.4g}</b> ({enhanced.n_perm:,} flips)"
            )
            volume = np.zeros(grid.shape, np.float32)
            volume[kept] = enhanced.tfce
            top = float(np.abs(enhanced.tfce).max()) or 1.0
            show_result_layer(
                self.viewer, "tfce", volume, grid, grid_source, f"TFCE ({short})",
                ramp_colormap(TFCE_COLOUR, "milna-tfce"), (0.0, top),
                "threshold-free cluster enhancement of the one-sample t", opacity=0.7,
            )
        self.summary = summary
        self.status.setText("<br>".join(lines))
        if self.show_map.value:
            volume = np.zeros(grid.shape, np.float32)
            volume[kept] = -np.log10(np.maximum(result.p_fwe, np.finfo(float).tiny))
            top = -np.log10(1.0 / result.n_perm if result.exhaustive
                            else 1.0 / (1.0 + result.n_perm))
            show_result_layer(
                self.viewer, "perm", volume, grid, grid_source,
                f"permutation -log10 pFWE ({short})",
                ramp_colormap(PERM_COLOUR, "milna-perm-pfwe"), (0.0, max(top, 1.5)),
                "sign-flip permutation -log10 p FWE", opacity=0.7,
            )


__all__ = ["EXHAUSTIVE_LIMIT", "PermutationPanel", "SubjectList", "check_counts"]
