"""Resting connectivity panel: insula seed Fisher z maps of one or more runs.

A thin shell over :func:`napari_milna.core.preproc.connectivity_study.resting_connectivity`:
runs (files, or the session's run), optional fMRIPrep confounds found next to each run
(motion, CSF, white matter and FD scrubbing at the motion panel's threshold), the
session's brain mask, seeds (the documented insula seeds and points taken at the
session's cursor); the z maps and any drug - placebo change maps are written and
shown as layers.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from magicgui.widgets import CheckBox
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
)

from ...core.errors import MilnaInputError, input_error
from ...core.io.kinds import ImageInfo, ImageKind
from ...core.preproc.connectivity import (
    INSULA_SEEDS,
    SEED_RADIUS_MM,
    Seed,
    connectivity_prefix,
    z_map_name,
)
from ...core.preproc.motion import FD_THRESHOLD_MM
from ..panel.status import escape
from .form import compact
from .inputs import bids_companions
from .layers import show_file_map
from .step import StepPanel

Z_INFO = ImageInfo(ImageKind.CONTRAST, source="napari-milna connectivity", label="Fisher z")


class ConnectivityPanel(StepPanel):
    """Seed-based resting connectivity (Fisher z) of the listed runs."""

    def __init__(self, ctx, parent=None):
        confounds = CheckBox(
            text="fMRIPrep confounds next to each run", value=True,
            tooltip="Regress the six motion parameters, CSF and white matter and scrub "
                    "volumes above the motion panel's FD threshold")
        button = QPushButton("Run connectivity")
        super().__init__(ctx, compact(confounds, labels=False), [button], cancellable=False,
                         parent=parent)
        self.confounds, self.run_button = confounds, button
        self.runs = QListWidget()
        self.runs.setMaximumHeight(70)
        self.add_run_button = QPushButton("Add the session's run")
        self.add_file_button = QPushButton("Add files\u2026")
        self.remove_run_button = QPushButton("Remove")
        self.seeds = QListWidget()
        self.seeds.setMaximumHeight(95)
        for name, (xyz, network, text) in INSULA_SEEDS.items():
            self._add_seed_item(Seed(name, xyz, SEED_RADIUS_MM, network, text), True)
        self.cursor_seed_button = QPushButton("Add seed at cursor")
        run_row = QHBoxLayout()
        for b in (self.add_run_button, self.add_file_button, self.remove_run_button):
            run_row.addWidget(b)
        seeds_label = QLabel("Seeds: 5 mm spheres (insula nodes of Seitzman 2020 / Power 2011)")
        seeds_label.setWordWrap(True)
        self.body.insertWidget(0, QLabel("Resting-state runs (MNI space)"))
        self.body.insertWidget(1, self.runs)
        self.body.insertLayout(2, run_row)
        self.add(seeds_label, self.seeds, self.cursor_seed_button, self.run_button)
        self.finish_layout()
        self.result = None
        self.layers: list = []
        self._n_cursor = 0
        self.add_run_button.clicked.connect(self.add_dock_run)
        self.add_file_button.clicked.connect(self._add_files_dialog)
        self.remove_run_button.clicked.connect(self._remove_run)
        self.cursor_seed_button.clicked.connect(self.add_cursor_seed)
        self.run_button.clicked.connect(self.run)

    # ------------------------------------------------------------------ lists
    def _add_seed_item(self, seed: Seed, checked: bool) -> None:
        x, y, z = seed.xyz
        item = QListWidgetItem(f"{seed.name}  ({x:.1f}, {y:.1f}, {z:.1f})  {seed.description}")
        item.setData(Qt.ItemDataRole.UserRole, seed)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.seeds.addItem(item)

    def add_run(self, path) -> None:
        """Add a run file to the list (once)."""
        path = str(Path(path))
        if path not in self.run_paths(as_text=True):
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.runs.addItem(item)

    def add_dock_run(self) -> None:
        """Add the session's run (chosen at the top of the tab)."""
        try:
            self.add_run(self.ctx.run_source().path)
        except MilnaInputError as exc:
            self.refuse(exc)

    def _add_files_dialog(self) -> None:
        chosen, _ = QFileDialog.getOpenFileNames(self, "Resting-state runs", "",
                                                 "NIfTI (*.nii *.nii.gz)")
        for path in chosen:
            self.add_run(path)

    def _remove_run(self) -> None:
        for item in self.runs.selectedItems():
            self.runs.takeItem(self.runs.row(item))

    def run_paths(self, as_text: bool = False) -> list:
        """The listed runs."""
        role = Qt.ItemDataRole.UserRole
        paths = [self.runs.item(i).data(role) for i in range(self.runs.count())]
        return paths if as_text else [Path(p) for p in paths]

    def add_cursor_seed(self, name: str | None = None) -> Seed | None:
        """A 5 mm seed at the cursor's world position (checked)."""
        xyz = self.ctx.cursor_world()
        if xyz is None:
            self.refuse(input_error(None, "there is no cursor position yet"))
            return None
        self._n_cursor += 1
        seed = Seed(name or f"cursor{self._n_cursor}", tuple(float(v) for v in xyz),
                    SEED_RADIUS_MM, "", "at the cursor")
        self._add_seed_item(seed, True)
        return seed

    def chosen_seeds(self) -> list[Seed]:
        """The checked seeds."""
        return [self.seeds.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.seeds.count())
                if self.seeds.item(i).checkState() == Qt.CheckState.Checked]

    # ------------------------------------------------------------------ run
    def run(self) -> bool:
        """Check the inputs, ask before replacing maps, and compute in a worker thread."""
        from ...core.io.nifti import open_nifti
        from ...core.preproc.connectivity_study import resting_connectivity

        try:
            bolds = self.run_paths()
            if not bolds:
                raise input_error(None, "add at least one resting-state run")
            seeds = self.chosen_seeds()
            if not seeds:
                raise input_error(None, "check at least one seed")
            confounds = None
            if self.confounds.value:
                confounds = []
                for bold in bolds:
                    found = bids_companions(bold).get("confounds")
                    if found is None:
                        raise input_error(bold, "has no fMRIPrep *_desc-confounds_timeseries.tsv "
                                                "next to it; uncheck the confounds option or "
                                                "add the file")
                    confounds.append(found)
            sources = [open_nifti(b) for b in bolds]
            out_dir = self.ctx.output_dir()
            targets = [out_dir / z_map_name(connectivity_prefix(s.path.name), seed.name)
                       for s in sources for seed in seeds]
            overwrite = self.ctx.confirm_overwrite(targets)
        except MilnaInputError as exc:
            self.refuse(exc)
            return False
        if overwrite is None:
            self.status.setText("Not run: the existing maps were kept.")
            return False
        motion = self.ctx.motion
        threshold = motion.settings()["fd_threshold"] if motion is not None else FD_THRESHOLD_MM
        stack = ExitStack()
        try:
            mask = self.ctx.mask_file("brain", stack)
        except MilnaInputError as exc:
            stack.close()
            self.refuse(exc)
            return False

        def job(progress):
            with stack:
                return resting_connectivity(bolds, out_dir, confounds=confounds, seeds=seeds,
                                            fd_threshold=threshold, mask=mask,
                                            overwrite=overwrite,
                                            progress=lambda d, t: progress(d, t, False))

        started = self.runner.start("Resting connectivity", job, self._on_done,
                                    cancellable=False)
        if not started:
            stack.close()
        return started

    def _on_done(self, study) -> None:
        self.result = study
        self.layers = []
        lines = []
        for run in study.runs:
            name = Path(run.bold).name.split(".")[0]
            for seed_name, path in run.paths.items():
                self.layers.append(show_file_map(
                    self.ctx.viewer, f"fc_{name}_{seed_name}", path,
                    f"{seed_name} Fisher z ({name})", Z_INFO))
            dmn = ", ".join(f"{k} {v:+.3f}" for k, v in run.dmn_mean_z.items() if v == v)
            lines.append(f"{name}: {run.n_volumes_kept} of {run.n_volumes} volumes; "
                         f"mean z with {run.n_dmn_nodes} DMN nodes: {dmn or 'none in view'}")
            lines += run.notes
        for change in study.changes:
            for seed_name, path in change.paths.items():
                self.layers.append(show_file_map(
                    self.ctx.viewer, f"fc_change_{change.subject}_{seed_name}", path,
                    f"{seed_name} drug - placebo z ({change.subject})", Z_INFO))
        self.status.setText("<br>".join(escape(line) for line in lines))
