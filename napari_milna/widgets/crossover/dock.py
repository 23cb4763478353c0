"""Crossover tab: drug-vs-placebo maps, paired ROI plots and per-subject values.

A thin shell over :mod:`napari_milna.core.crossover`. The options are a magicgui form
(:mod:`.form`): the study table or BIDS folder and the contrast, condition, control,
period and resample options of ``milna crossover``; the ROIs tested are every label of
the study session's ROI layer (the one the ROIs tab works on) plus the ROI files added,
and the tab says which. Reading the maps and computing run through the panel's
:class:`~napari_milna.widgets.panel.jobs.JobRunner` with progress and Cancel; a new
choice of ROIs recomputes only the ROI statistics. Then the tab

* shows one group map -- drug, placebo, difference or interaction (or the period
  effect), as the group t or the group mean -- thresholded at a p (one-sided per tail,
  uncorrected), translucent on the anatomy;
* lists the ROI statistics (paired t, dz, Wilcoxon, exact sign-flip, Holm) and plots the
  selected ROI's paired lines; the selected ROI is the session's ROI when it comes from
  the session's ROI layer (both ways);
* lists per-subject ROI values; clicking a subject shows that subject's map of the
  shown view as one layer, on the voxels where the group map passes, replaced by the
  next click;
* sends the group T map (SPM df in its header) to the SVC tab as the session's
  statistical map.

Maps are written to a session folder first (NIfTI on the study grid, source header kept)
and opened like any file, so they are placed by their affine and carry their statistic
type and df; they are the tab's result layers (``LayerSource.result_of``).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QFileDialog, QLabel, QProgressBar, QVBoxLayout, QWidget

from ..._napari.layers import find_result_layer
from ...core.crossover.analysis import (
    CrossoverResult,
    view_label,
    view_map,
    write_crossover,
    write_subject_maps,
)
from ...core.errors import MilnaInputError
from ..panel.dock_layout import ScrollingDock, add_sections
from ..panel.jobs import JobRunner
from ..panel.session_picker import SessionPicker
from ..panel.status import StatusLabel, escape, notify
from .compute import Analysis, LayerRois, analyse, session_folder, update_rois
from .form import BIDS, TABLE, MapForm, StudyForm
from .maps import (
    FEATURE,
    GROUP,
    GROUP_PREFIX,
    SUBJECT,
    passing,
    show_file,
    show_where,
    threshold_t_layer,
)
from .plot import PairedLinesPlot
from .svc_handoff import send_to_svc
from .tables import RoiStatsTable, SubjectTable

#: What a job recomputes: everything, or only the ROI statistics.
FULL, ROIS = "full", "rois"
PERIOD_VIEW = "period"


class CrossoverDock(ScrollingDock):
    """Crossover tab of napari-milna.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    parent : QWidget, optional

    Attributes
    ----------
    study_form : StudyForm
        The crossover options (magicgui).
    map_form : MapForm
        How the group map is shown (magicgui).
    analysis : Analysis or None
        The last analysis computed.
    messages : list of str
        Every message the tab gave (also a napari notification).
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent, min_width=500)
        self.analysis: Analysis | None = None
        self.messages: list[str] = []
        self.current_subject: str | None = None
        self.current_roi: str | None = None
        self._pending: str | None = None
        self._syncing = False
        self._subject_paths: dict[str, dict] = {}
        self._build()
        self._connect()
        self._set_ready(False)
        self._show_roi_choice()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.roi_picker = SessionPicker(
            self.session, "roi_layer", "ROI layer",
            tooltip="The study session's ROI layer: every label in it is tested (shared with "
            "the ROIs, SVC and QC tabs)")
        self._roi_layer_seen = self.session.roi_layer
        self.study_form = StudyForm(self.roi_picker.widget)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(16)
        self.status = StatusLabel("No study loaded: choose a study table or BIDS folder.")
        self.roi_label = StatusLabel()
        self.runner = JobRunner(self.progress, self.status, self.study_form.cancel.native,
                                [self.study_form.compute.native], notify=self.notify,
                                parent=self)
        study = QWidget()
        layout = QVBoxLayout(study)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for widget in (self.study_form.native, self.progress, self.roi_label, self.status):
            layout.addWidget(widget)

        self.map_form = MapForm()
        self.p_label = QLabel("")
        self.p_label.setWordWrap(True)
        self.map_label = QLabel("")
        self.map_label.setWordWrap(True)
        maps = QWidget()
        mlayout = QVBoxLayout(maps)
        mlayout.setContentsMargins(0, 0, 0, 0)
        mlayout.setSpacing(2)
        for widget in (self.map_form.native, self.p_label, self.map_label):
            mlayout.addWidget(widget)

        self.roi_table = RoiStatsTable()
        self.plot = PairedLinesPlot()
        self.subject_table = SubjectTable()
        body = QWidget()
        blayout = QVBoxLayout(body)
        blayout.setContentsMargins(4, 4, 4, 4)
        self.sections = add_sections(
            blayout,
            (
                ("study", "Study", study, True),
                ("map", "Group map", maps, True),
                ("rois", "ROI statistics", self.roi_table, True),
                ("plot", "Paired values (placebo → drug)", self.plot, True),
                ("subjects", "Subjects (click to show a subject's map)", self.subject_table,
                 True),
            ),
        )
        blayout.addStretch(1)
        self.set_body(body)

    def _connect(self) -> None:
        form, mform = self.study_form, self.map_form
        form.study.changed.connect(self._on_study)
        for widget in (form.contrast, form.condition, form.control, form.period, form.resample):
            widget.changed.connect(self._on_options)
        form.roi_files.changed.connect(self._on_roi_choice)
        form.compute.changed.connect(self.recompute)
        mform.view.changed.connect(self._on_view)
        mform.statistic.changed.connect(self._on_view)
        mform.p.changed.connect(self._on_threshold)
        mform.send.changed.connect(self.send_group_t)
        mform.save.changed.connect(self._ask_save)
        self.roi_table.roi_selected.connect(self.select_roi)
        self.subject_table.subject_clicked.connect(self.load_subject)
        self.runner.finished.connect(self._on_job_finished)
        session, runner, picker = self.session, self.runner, self.roi_picker
        handler = self._on_session_roi
        session.roi_changed.connect(handler)

        def gone(*args) -> None:
            runner.close()
            picker.disconnect()
            session.roi_changed.disconnect(handler)

        self.destroyed.connect(gone)

    def _refit_sections(self) -> None:
        """Let the open sections take the new heights of their tables."""
        for section in self.sections.values():
            if section.isExpanded():
                section.expand(animate=False)

    def _set_ready(self, ready: bool) -> None:
        self.map_form.enabled = ready

    def notify(self, level: str, text: str) -> None:
        """Record ``text`` and show it as a napari notification (``level``: info / error)."""
        self.messages.append(text)
        notify(level, text)

    # ------------------------------------------------------------------ properties
    @property
    def result(self) -> CrossoverResult | None:
        """The core's result of the last analysis (None: nothing computed)."""
        return self.analysis.result if self.analysis is not None else None

    @result.setter
    def result(self, value) -> None:
        if value is None:
            self.analysis = None
        elif self.analysis is None or value is not self.analysis.result:
            raise ValueError("set the analysis, not the result")

    @property
    def rois(self) -> list:
        """The ROIs tested (core :class:`Roi`)."""
        return self.analysis.rois if self.analysis is not None else []

    @property
    def display_layer(self):
        """The group map layer (None when not shown)."""
        return find_result_layer(self.viewer, FEATURE, GROUP)

    @property
    def subject_layer(self):
        """The clicked subject's map layer (None when not shown)."""
        return find_result_layer(self.viewer, FEATURE, SUBJECT)

    # ------------------------------------------------------------------ session ROI
    def _on_session_roi(self, layer, label: int) -> None:
        """The session's ROI changed (in the picker here or in another tab)."""
        if self._syncing:
            return
        if layer is not self._roi_layer_seen:
            self._roi_layer_seen = layer
            self._on_roi_choice()
            return
        name = self._name_of_label(label)
        if name is not None and name != self.current_roi:
            self.roi_table.select_roi(name)

    def _name_of_label(self, label: int) -> str | None:
        analysis = self.analysis
        layer = self.session.roi_layer
        rois = analysis.choices.layer_rois if analysis is not None else None
        if rois is None or layer is None or rois.layer_name != layer.name:
            return None
        return next((n for n, v in analysis.layer_labels.items() if v == label), None)

    def _on_roi_choice(self, *args) -> None:
        """The ROI layer or files changed: say what will be tested; update the statistics."""
        self._show_roi_choice()
        if self.analysis is not None and all(p.is_file() for p in self.study_form.file_list()):
            self._request(ROIS)

    def _show_roi_choice(self) -> None:
        layer = self.session.roi_layer
        parts = []
        if layer is not None:
            names = LayerRois.of(layer).roi_names()
            parts.append(f"{', '.join(names) or 'no label yet'} (layer {layer.name})")
        files = self.study_form.file_list()
        if files:
            parts.append("the ROIs of " + ", ".join(
                p.name + ("" if p.is_file() else " (not found)") for p in files))
        text = ("Will test: " + "; ".join(parts) + ".") if parts else (
            "No ROI chosen: pick the ROI layer (shared with the ROIs tab) or add ROI files.")
        self.roi_label.setText(escape(text))

    # ------------------------------------------------------------------ inputs
    def _study_ready(self) -> bool:
        """True when the study path names an existing table or folder (not while typing)."""
        form = self.study_form
        path = form.study_path()
        if path is None:
            return False
        return path.is_dir() if form.source.value == BIDS else path.is_file()

    def _on_study(self, *args) -> None:
        if self._study_ready():
            self._request(FULL)

    def _on_options(self, *args) -> None:
        if self._study_ready():
            self._request(FULL)

    def load_table(self, path, roi_files=None) -> None:
        """Load a study table or BIDS folder (and ROI files) and compute everything."""
        path = Path(path)
        form = self.study_form
        with form.study.changed.blocked(), form.roi_files.changed.blocked():
            if path.exists():
                form.source.value = BIDS if path.is_dir() else TABLE
            form.study.value = path
            if roi_files is not None:
                form.roi_files.value = tuple(Path(p) for p in roi_files)
        self._show_roi_choice()
        self.recompute()

    def set_roi_files(self, paths, recompute: bool = True) -> None:
        """Test these ROI files too (masks or dseg images); update the statistics if asked."""
        form = self.study_form
        with form.roi_files.changed.blocked():
            form.roi_files.value = tuple(Path(p) for p in paths)
        self._show_roi_choice()
        if recompute and self.analysis is not None:
            self._request(ROIS)

    def _ask_save(self, *args) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the crossover outputs")
        if folder:
            self.save_outputs(folder)

    # ------------------------------------------------------------------ jobs
    def recompute(self, *args) -> None:
        """Read the study again and compute everything (through the panel's JobRunner)."""
        self._request(FULL)

    def _request(self, kind: str) -> None:
        """Run ``kind`` now, or after the running job (a newer full run replaces it)."""
        if not self.runner.running:
            self._start(kind)
            return
        if kind == FULL or self._pending == FULL:
            self._pending = FULL
            self.runner.cancel()
        else:
            self._pending = ROIS

    def _on_job_finished(self, status: str, detail) -> None:
        kind, self._pending = self._pending, None
        if kind is not None:
            self._start(kind)

    def _start(self, kind: str) -> None:
        layer = self.session.roi_layer
        try:
            choices = self.study_form.choices(layer)
        except MilnaInputError as exc:
            self.notify("error", str(exc))
            return
        if kind == FULL:
            if choices.study is None:
                self.notify("error", "Choose a study table or a BIDS folder first.")
                return
            fn = partial(analyse, choices, session_folder())
            title = f"Crossover of {choices.study.name}"
        else:
            if self.analysis is None:
                return
            fn = partial(update_rois, self.analysis, choices)
            title = "Crossover ROI statistics"
        self.runner.start(title, fn, self._on_analysis)

    def _on_analysis(self, analysis: Analysis) -> None:
        if self._pending == FULL:
            return  # superseded: the newer run is about to start
        try:
            self._show_result(analysis)
        except (ValueError, OSError) as exc:
            raise MilnaInputError(f"The crossover maps could not be shown: {exc}") from None

    # ------------------------------------------------------------------ results
    def _show_result(self, analysis: Analysis) -> None:
        if self.analysis is None or analysis.folder != self.analysis.folder:
            self._subject_paths = {}
        self.analysis = analysis
        result = analysis.result
        study = result.study
        items = [(view_label(study, view), view) for view in result.group]
        if result.period is not None:
            items.append(("period effect (period 2 - period 1)", PERIOD_VIEW))
        views = [v for _, v in items]
        current = self.map_form.view.value
        self.map_form.set_views(items, current if current in views else result.main)
        self.study_form.set_conditions(analysis.conditions)
        self.roi_table.set_stats(result.rois)
        sequences = [study.sequence(s) for s in study.subjects]
        self.subject_table.set_values(study.subjects, sequences, result.rois)
        self._refit_sections()
        self._set_ready(True)
        extra = f", resampled {len(study.resampled)} maps" if study.resampled else ""
        period = ", period covariate" if result.period is not None else ""
        self.status.setText(escape(
            f"{analysis.choices.study.name}: {study.n_subjects} subjects, "
            f"{study.contrast.label}{period}, group df "
            f"{result.df:g}{extra}; {len(result.rois)} ROIs."))
        self.roi_label.setText(escape(analysis.describe_rois()))
        self.show_map()
        if self.current_subject not in study.subjects:
            self.current_subject = None
        if result.rois:
            names = [r.name for r in result.rois]
            session_name = self._name_of_label(self.session.roi_label)
            name = next((n for n in (session_name, self.current_roi) if n in names), names[0])
            self.roi_table.select_roi(name)
            self.select_roi(name, move=False)
        else:
            self.current_roi = None
            self.plot.clear("Choose an ROI layer or add ROI files for ROI statistics.")

    def current_view(self) -> tuple[str, str]:
        """The displayed ``(view, "mean" | "t")``."""
        view = self.map_form.view.value or (self.result.main if self.result else "")
        return view, self.map_form.statistic.value

    def set_view(self, view: str, stat: str = "t") -> None:
        """Show another map: ``view`` in drug / placebo / difference / interaction (/ period)."""
        if self.result is None or view not in self.map_form.view.choices:
            raise ValueError(f"no {view} map in this study")
        with self.map_form.view.changed.blocked(), self.map_form.statistic.changed.blocked():
            self.map_form.view.value = view
            self.map_form.statistic.value = stat
        self.show_map()

    def _on_view(self, *args) -> None:
        if self.result is not None:
            self.show_map()

    def p_threshold(self) -> float:
        """The p of the form (one-sided per tail, uncorrected)."""
        return float(self.map_form.p.value)

    def set_p_threshold(self, p: float) -> None:
        """Set the p of the form."""
        self.map_form.p.value = p

    def show_map(self) -> None:
        """Show the current view / statistic as the group map layer, thresholded at p."""
        if self.result is None:
            return
        view, stat = self.current_view()
        name = f"{GROUP_PREFIX}: {view} {'t' if stat == 't' else 'mean'}"
        show_file(self.viewer, self.state, GROUP, self.analysis.map_paths[(view, stat)], name)
        self._on_threshold()

    def _on_threshold(self, *args) -> None:
        p = self.p_threshold()
        layer = self.display_layer
        if self.result is None or layer is None:
            self.p_label.setText(f"p < {p:.2g}")
            return
        view, stat = self.current_view()
        keep, t_thr, df = passing(self.result, view, p)
        if stat == "t":
            threshold_t_layer(layer, p, df)
            shown = f"|t| ≥ {t_thr:.2f} (df {df:g})"
        else:
            mean, _ = view_map(self.result, view, "mean")
            show_where(layer, mean, keep, self.state)
            shown = f"mean where |t| ≥ {t_thr:.2f} (df {df:g})"
        self.p_label.setText(f"p < {p:.2g} one-sided per tail, uncorrected: {shown}; "
                             f"{int(keep.sum())} voxels.")
        label = view_label(self.result.study, view) if view != PERIOD_VIEW else "period 2 - 1"
        self.map_label.setText(f"{label}; N = {self.result.study.n_subjects}")
        self._show_subject_map()

    # ------------------------------------------------------------------ ROIs
    def roi_stats(self, name: str):
        """The :class:`~napari_milna.core.crossover.analysis.RoiStats` of ROI ``name``."""
        for r in self.result.rois if self.result else []:
            if r.name == name:
                return r
        raise KeyError(name)

    def select_roi(self, name: str, move: bool = True) -> None:
        """Plot ROI ``name`` and move the cursor to its strongest group-t voxel.

        An ROI of the session's ROI layer also becomes the session's ROI (its label).
        """
        if self.result is None:
            return
        try:
            stats = self.roi_stats(name)
        except KeyError:
            return
        self.current_roi = name
        self.plot.show_roi(stats, self._ylabel(), self.current_subject)
        label = self.analysis.layer_labels.get(name)
        layer = self.session.roi_layer
        if label is not None and layer is not None and self._name_of_label(label) == name:
            self._syncing = True
            try:
                self.session.set_roi(layer, label)
            finally:
                self._syncing = False
        if move:
            self.go_to_roi(name)

    def _ylabel(self) -> str:
        return self.result.study.contrast.within + " (map units)"

    def roi_peak_mm(self, name: str) -> np.ndarray | None:
        """World mm of the ROI voxel with the largest |t| of the tested contrast."""
        roi = next((r for r in self.rois if r.name == name), None)
        if roi is None:
            return None
        t = np.abs(self.result.main_t()) * roi.mask
        if not t.any():
            return None
        ijk = np.unravel_index(int(np.argmax(t)), t.shape)
        return self.result.study.grid.to_world(np.asarray(ijk, float))

    def go_to_roi(self, name: str) -> None:
        """Move the cursor to the ROI's peak |t| voxel."""
        xyz = self.roi_peak_mm(name)
        if xyz is not None:
            self.state.go_to_world(xyz)

    # ------------------------------------------------------------------ subjects
    def _subject_view(self) -> str:
        view, _ = self.current_view()
        return view if view in self.result.maps.views else self.result.main

    def load_subject(self, subject: str):
        """Show ``subject``'s map of the shown view as the tab's one subject layer.

        The map is shown where the group map of that view passes the p threshold, on
        the statistical colour ramp (translucent, transparent elsewhere); the next
        subject replaces it.

        Returns
        -------
        napari layer or None
        """
        if self.result is None or subject not in self.result.study.subjects:
            return None
        self.current_subject = subject
        layer = self._show_subject_map(create=True)
        if layer is None:
            return None
        row = self.subject_table.row_of(subject)
        if row >= 0 and row not in {i.row() for i in self.subject_table.selectedIndexes()}:
            self.subject_table.blockSignals(True)
            self.subject_table.selectRow(row)
            self.subject_table.blockSignals(False)
        if self.current_roi is not None:
            self.plot.show_roi(self.roi_stats(self.current_roi), self._ylabel(), subject)
        return layer

    def _show_subject_map(self, create: bool = False):
        subject, result = self.current_subject, self.result
        if result is None or subject is None or (not create and self.subject_layer is None):
            return None
        view = self._subject_view()
        try:
            paths = self._subject_paths.get(subject)
            if paths is None:
                paths = write_subject_maps(result, subject, self.analysis.folder / "subjects",
                                           overwrite=True)
                self._subject_paths[subject] = paths
            layer = show_file(self.viewer, self.state, SUBJECT, paths[view], f"{subject} {view}")
            p = self.p_threshold()
            keep, t_thr, _ = passing(result, view, p)
            values = result.maps.views[view][result.study.subjects.index(subject)]
            show_where(layer, values, keep, self.state)
        except (MilnaInputError, ValueError, OSError) as exc:
            self.notify("error", f"{subject}: the map could not be shown ({exc}).")
            return None
        if create:
            self.status.setText(escape(
                f"{subject}: {view_label(result.study, view)}, shown where the group |t| ≥ "
                f"{t_thr:.2f} (p < {p:.2g}); the next subject replaces it."))
        return layer

    # ------------------------------------------------------------------ outputs
    def group_t_path(self) -> Path:
        """The group T map of the tested contrast (period-adjusted when asked)."""
        return self.analysis.map_paths[(self.result.main, "t")]

    def send_group_t(self, *args):
        """Make the group T map the session's statistical map and show the SVC tab."""
        if self.result is None:
            self.notify("error", "Load a study first: there is no group T map yet.")
            return None
        name = f"crossover group T: {self.result.study.contrast.name}"
        if self.result.period is not None:
            name += " (period-adjusted)"
        try:
            layer, message = send_to_svc(self.viewer, self.group_t_path(), name)
        except (MilnaInputError, ValueError, OSError) as exc:
            self.notify("error", f"The group T map could not be sent: {exc}")
            return None
        self.notify("info", message)
        return layer

    def save_outputs(self, folder, overwrite: bool = False) -> dict | None:
        """Write the per-subject contrasts, group maps and ROI tables into ``folder``."""
        if self.result is None:
            self.notify("error", "Load a study first: there is nothing to save.")
            return None
        try:
            paths = write_crossover(self.result, folder, overwrite=overwrite)
        except (MilnaInputError, OSError) as exc:
            self.notify("error", str(exc))
            return None
        self.notify("info", f"Wrote {len(paths)} files into {folder}.")
        return paths
