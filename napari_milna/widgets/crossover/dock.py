"""Crossover explorer dock: drug-vs-placebo maps, paired ROI plots and per-subject values.

A thin shell over :mod:`napari_milna.core.crossover.study_table` and
:mod:`napari_milna.core.crossover.analysis`. Loading a study table (or a BIDS-derivatives
folder) reads every subject's maps in a worker thread with progress; then the dock

* shows one group map -- drug, placebo, difference or interaction, as the group mean
  or the group t -- thresholded by a p slider (one-sided per tail, uncorrected);
* lists the ROI statistics (paired t, dz, Wilcoxon, exact sign-flip, Holm) and plots
  the selected ROI's paired lines (placebo -> drug per subject, means with 95 % CI);
* lists per-subject ROI values; clicking a subject loads that subject's maps;
* sends the group T map (SPM df in its header) to the small-volume correction dock.

Maps shown are written to a session folder first (NIfTI on the study grid, source
header kept) and opened like any file, so they are placed by their affine and carry
their statistic type and df.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
from napari.layers import Labels
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import grid_data, layer_tuple, source_of
from ..._napari.viewer_state import ViewerState
from ...core.crossover.analysis import (
    CrossoverResult,
    Roi,
    SubjectMaps,
    main_view,
    rois_from_files,
    rois_from_labels,
    run_crossover,
    subject_views,
    view_label,
    view_map,
    write_crossover,
    write_subject_maps,
    write_view_maps,
)
from ...core.errors import MilnaInputError, input_error
from ...core.io.nifti import load_volume, nifti_stem
from ...core.roi.io import read_dseg_tsv
from ...core.svc.stat_values import threshold_for_p
from ..panel.dock_layout import ScrollingDock, add_sections, hbox
from ..viewer.stat_threshold import apply_threshold
from .plot import PairedLinesPlot
from .svc_handoff import send_to_svc
from .tables import RoiStatsTable, SubjectTable

#: p slider: 10 ** (P_LOG_MIN + value / P_STEPS) for value in 0 .. P_RANGE.
P_LOG_MIN, P_STEPS, P_RANGE = -6.0, 100, 500
DEFAULT_P = 1e-3
CONTRASTS = (("auto", None, None), ("interaction: pain - baseline", "interaction", "baseline"),
             ("interaction: pain - sensory", "interaction", "sensory"),
             ("difference (drug - placebo)", "difference", None))
DISPLAY_LAYER = "crossover map"
SUBJECT_TAG = "crossover_subject"

_SESSION_ROOT: list[Path] = []


def session_folder() -> Path:
    """A fresh folder for this process's crossover maps (removed at exit)."""
    if not _SESSION_ROOT:
        root = Path(tempfile.mkdtemp(prefix="milna-crossover-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _SESSION_ROOT.append(root)
    return Path(tempfile.mkdtemp(prefix="run-", dir=_SESSION_ROOT[0]))


def labels_layer_rois(layer, grid) -> list[Roi]:
    """ROIs of a labels layer on the study grid (names from the layer's ROI names)."""
    src = source_of(layer)
    data = grid_data(layer)
    layer_grid = src.grid if src is not None else None
    if data is None or tuple(np.shape(data)) != tuple(grid.shape) or (
        layer_grid is not None and not layer_grid.matches(grid)
    ):
        raise input_error(
            None, f"the labels layer {layer.name} does not lie on the study grid "
            f"({grid.describe()}); resample it onto a study map first"
        )
    names = dict(src.roi.names) if src is not None and src.roi is not None else {}
    if not names and src is not None and src.source is not None:
        tsv = src.source.path.parent / (nifti_stem(src.source.path) + ".tsv")
        if tsv.is_file():
            names = read_dseg_tsv(tsv)
    return rois_from_labels(np.asarray(data), names, f"layer {layer.name}")


class AnalysisFailed:
    """The worker's result when the input could not be used (one sentence)."""

    def __init__(self, message: str):
        self.message = message


def analyse(path, options: dict, folder: Path):
    """Generator behind the dock's worker: yields ``(done, total, subject)``, returns results.

    Returns
    -------
    (CrossoverResult, dict of map paths, folder, list of Roi)
    """
    from ...core.crossover.study_table import choose_contrast, open_study, validate_study

    table = open_study(path)
    active = None
    if options["kind"] == "difference" and len(table.conditions) > 1:
        # the dock's "difference" of a table with several conditions: drug - placebo of pain
        active = next((c for c in table.conditions if c.lower() == "pain"), None)
    contrast = choose_contrast(table, options["kind"], active, options["control"])
    study = validate_study(table, contrast, resample=options["resample"])
    rois = rois_from_files(options["roi_files"], study.grid) if options["roi_files"] else []
    if options["labels"] is not None:
        rois += labels_layer_rois(options["labels"], study.grid)
    per_subject = []
    for i, subject in enumerate(study.subjects):
        per_subject.append(subject_views(study, subject))
        yield (i + 1, study.n_subjects, subject)
    maps = SubjectMaps.from_views(study.subjects, per_subject, main_view(study), study.grid)
    result = run_crossover(study, rois, period=options["period"], maps=maps)
    paths = write_view_maps(result, folder)
    return result, paths, folder, rois


class CrossoverDock(ScrollingDock):
    """Crossover explorer dock of napari-milna.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.state = ViewerState.of(napari_viewer)
        self.result: CrossoverResult | None = None
        self.map_paths: dict = {}
        self.folder: Path | None = None
        self.roi_files: list[Path] = []
        self.rois: list[Roi] = []
        self.table_path: Path | None = None
        self.messages: list[str] = []
        self.worker = None
        self.display_layer = None
        self.subject_layers: list = []
        self.current_subject: str | None = None
        self.current_roi: str | None = None
        self._closed = False
        self.destroyed.connect(self._mark_closed)
        self._build()
        self._set_ready(False)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.load_button = QPushButton("Load table…")
        self.load_button.setToolTip("Study table (TSV / CSV): subject, treatment, condition, "
                                    "path, optional period")
        self.load_button.clicked.connect(self._ask_table)
        self.bids_button = QPushButton("BIDS folder…")
        self.bids_button.setToolTip("Find maps by sub-, ses-/acq- (drug | placebo) and contrast- "
                                    "entities")
        self.bids_button.clicked.connect(self._ask_folder)
        self.source_label = QLabel("No study loaded.")
        self.source_label.setWordWrap(True)
        self.contrast_combo = QComboBox()
        for text, _, _ in CONTRASTS:
            self.contrast_combo.addItem(text)
        self.period_check = QCheckBox("Period covariate")
        self.period_check.setToolTip("Sequence (period) as a second-level covariate: the "
                                     "treatment t is adjusted for it (df N - 2) and the period "
                                     "effect is shown as its own map")
        self.resample_check = QCheckBox("Resample grids")
        self.resample_check.setToolTip("Resample maps on another grid onto the first map's "
                                       "grid (trilinear); without it a grid mismatch is an error")
        self.roi_button = QPushButton("ROI files…")
        self.roi_button.setToolTip("ROI masks or dseg label images (names from the dseg .tsv)")
        self.roi_button.clicked.connect(self._ask_rois)
        self.labels_combo = QComboBox()
        self.labels_combo.setToolTip("Also test the labels of this labels layer as ROIs")
        self.roi_label = QLabel("ROIs: none")
        self.roi_label.setWordWrap(True)
        self.run_button = QPushButton("Recompute")
        self.run_button.clicked.connect(self.recompute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(16)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.view_combo = QComboBox()
        self.view_combo.currentIndexChanged.connect(self._on_view)
        self.mean_radio = QRadioButton("group mean")
        self.t_radio = QRadioButton("group t")
        self.t_radio.setChecked(True)
        self.stat_group = QButtonGroup(self)
        self.stat_group.addButton(self.mean_radio)
        self.stat_group.addButton(self.t_radio)
        self.t_radio.toggled.connect(self._on_view)
        self.p_slider = QSlider(Qt.Orientation.Horizontal)
        self.p_slider.setRange(0, P_RANGE)
        self.p_slider.setValue(self._slider_of(DEFAULT_P))
        self.p_slider.valueChanged.connect(self._on_threshold)
        self.p_label = QLabel("")
        self.p_label.setWordWrap(True)
        self.map_label = QLabel("")
        self.map_label.setWordWrap(True)
        self.svc_button = QPushButton("Send group T to SVC")
        self.svc_button.setToolTip("Add the group T map (SPM df in its header) as a stat layer "
                                   "and select it in the small-volume correction dock")
        self.svc_button.clicked.connect(self.send_group_t)
        self.save_button = QPushButton("Save maps…")
        self.save_button.setToolTip("Write per-subject contrasts, group maps and ROI tables")
        self.save_button.clicked.connect(self._ask_save)

        self.roi_table = RoiStatsTable()
        self.roi_table.roi_selected.connect(self.select_roi)
        self.plot = PairedLinesPlot()
        self.subject_table = SubjectTable()
        self.subject_table.subject_clicked.connect(self.load_subject)

        study = QWidget()
        form = QFormLayout(study)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(hbox(self.load_button, self.bids_button))
        form.addRow(self.source_label)
        form.addRow("Contrast", self.contrast_combo)
        form.addRow(hbox(self.period_check, self.resample_check))
        form.addRow(hbox(self.roi_button, self.labels_combo))
        form.addRow(self.roi_label)
        form.addRow(hbox(self.run_button, self.cancel_button, self.progress))
        form.addRow(self.status)

        maps = QWidget()
        mform = QFormLayout(maps)
        mform.setContentsMargins(0, 0, 0, 0)
        mform.addRow("Map", self.view_combo)
        mform.addRow("Show", hbox(self.mean_radio, self.t_radio))
        mform.addRow("p <", self.p_slider)
        mform.addRow(self.p_label)
        mform.addRow(self.map_label)
        mform.addRow(hbox(self.svc_button, self.save_button))

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections = add_sections(
            layout,
            (
                ("study", "Study", study, True),
                ("map", "Group map", maps, True),
                ("rois", "ROI statistics", self.roi_table, True),
                ("plot", "Paired values (placebo → drug)", self.plot, True),
                ("subjects", "Subjects (click to load maps)", self.subject_table, True),
            ),
        )
        layout.addStretch(1)
        self.set_body(body)
        self.setMinimumWidth(530)
        self.viewer.layers.events.inserted.connect(self._refresh_labels_combo)
        self.viewer.layers.events.removed.connect(self._refresh_labels_combo)
        self._refresh_labels_combo()

    def _mark_closed(self, *args) -> None:
        self._closed = True

    def _set_ready(self, ready: bool) -> None:
        for w in (self.view_combo, self.mean_radio, self.t_radio, self.p_slider, self.svc_button,
                  self.save_button):
            w.setEnabled(ready)

    def notify(self, text: str, error: bool = False) -> None:
        """Show ``text`` in the dock and as a napari notification."""
        self.messages.append(text)
        self.status.setText(text)
        (show_error if error else show_info)(text)

    def _refresh_labels_combo(self, event=None) -> None:
        current = self.labels_combo.currentText()
        self.labels_combo.blockSignals(True)
        self.labels_combo.clear()
        self.labels_combo.addItem("(no labels layer)")
        names = [lay.name for lay in self.viewer.layers
                 if isinstance(lay, Labels) and lay.metadata.get(SUBJECT_TAG) is None]
        self.labels_combo.addItems(names)
        if current in names:
            self.labels_combo.setCurrentText(current)
        self.labels_combo.blockSignals(False)

    # ------------------------------------------------------------------ inputs
    def _ask_table(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Crossover study table", "",
                                              "Study tables (*.tsv *.csv *.txt);;All files (*)")
        if path:
            self.load_table(path)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "BIDS-derivatives folder")
        if folder:
            self.load_table(folder)

    def _ask_rois(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "ROI masks or dseg images", "", "NIfTI (*.nii *.nii.gz);;All files (*)")
        if paths:
            self.set_roi_files(paths)

    def _ask_save(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the crossover outputs")
        if folder:
            self.save_outputs(folder)

    def set_roi_files(self, paths, recompute: bool = True) -> None:
        """Use these ROI files (masks or dseg images); recompute when a study is loaded."""
        self.roi_files = [Path(p) for p in paths]
        self.roi_label.setText("ROIs: " + (", ".join(p.name for p in self.roi_files) or "none"))
        if recompute and self.table_path is not None:
            self.recompute()

    def load_table(self, path, roi_files=None) -> None:
        """Load a study table or BIDS folder and compute everything in a worker thread."""
        self.table_path = Path(path)
        self.source_label.setText(f"Study: {self.table_path.name}")
        self.source_label.setToolTip(str(self.table_path))
        if roi_files is not None:
            self.set_roi_files(roi_files, recompute=False)
        self.recompute()

    def _options(self) -> dict:
        _, kind, control = CONTRASTS[self.contrast_combo.currentIndex()]
        labels = None
        name = self.labels_combo.currentText()
        if self.labels_combo.currentIndex() > 0 and name in self.viewer.layers:
            labels = self.viewer.layers[name]
        return {"kind": kind, "control": control, "period": self.period_check.isChecked(),
                "resample": self.resample_check.isChecked(), "labels": labels,
                "roi_files": list(self.roi_files)}

    # ------------------------------------------------------------------ worker
    def recompute(self) -> None:
        """Start (or restart) the analysis of the loaded study in a worker thread."""
        from napari.qt.threading import thread_worker

        if self.table_path is None:
            self.notify("Load a study table or a BIDS folder first.", error=True)
            return
        self.cancel()
        options = self._options()
        path = self.table_path
        folder = session_folder()

        @thread_worker
        def work():
            try:
                return (yield from analyse(path, options, folder))
            except (MilnaInputError, OSError) as exc:
                # returned, not raised: a raised error would also reach napari's handler
                # (a traceback notification) besides the dock's one-sentence message
                text = str(exc) if isinstance(exc, MilnaInputError) else str(
                    input_error(path, f"could not be analysed ({exc})"))
                return AnalysisFailed(text)

        worker = work()
        worker.yielded.connect(lambda value, w=worker: self._on_progress(value, w))
        worker.returned.connect(lambda value, w=worker: self._on_done(value, w))
        worker.errored.connect(lambda exc, w=worker: self._on_error(exc, w))
        worker.finished.connect(lambda w=worker: self._on_finished(w))
        self.worker = worker
        self.progress.setRange(0, 0)
        self.status.setText(f"Reading {path.name} …")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        worker.start()

    def cancel(self) -> None:
        """Stop a running analysis."""
        if self.worker is not None:
            try:
                self.worker.quit()
            except RuntimeError:
                pass
            self.worker = None
            self._on_finished()
            self.status.setText("Stopped.")

    def _alive(self, worker=None) -> bool:
        return not self._closed and (worker is None or worker is self.worker)

    def _on_progress(self, value, worker=None) -> None:
        if not self._alive(worker):
            return
        done, total, subject = value
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total} subjects")
        self.status.setText(f"Read {subject} ({done} of {total}).")

    def _on_finished(self, worker=None) -> None:
        if not self._alive(worker):
            return
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)

    def _on_error(self, exc, worker=None) -> None:
        if not self._alive(worker):
            return
        self.worker = None
        self._on_finished()
        if isinstance(exc, MilnaInputError):
            self.notify(str(exc), error=True)
        else:
            self.notify(f"The crossover analysis failed: {type(exc).__name__}: {exc}.",
                        error=True)

    def _on_done(self, value, worker=None) -> None:
        if not self._alive(worker):
            return
        if isinstance(value, AnalysisFailed):
            self._on_error(MilnaInputError(value.message), worker)
            return
        self.worker = None
        self._on_finished()
        result, paths, folder, rois = value
        self.rois = rois
        try:
            self._show_result(result, paths, folder)
        except (MilnaInputError, ValueError, OSError) as exc:
            self.notify(f"The crossover maps could not be shown: {exc}", error=True)

    # ------------------------------------------------------------------ results
    def _show_result(self, result: CrossoverResult, paths: dict, folder: Path) -> None:
        self.result, self.map_paths, self.folder = result, paths, folder
        study = result.study
        self.view_combo.blockSignals(True)
        self.view_combo.clear()
        for view in result.group:
            self.view_combo.addItem(view_label(study, view), view)
        if result.period is not None:
            self.view_combo.addItem("period effect (period 2 - period 1)", "period")
        self.view_combo.setCurrentIndex(max(self.view_combo.findData(result.main), 0))
        self.view_combo.blockSignals(False)
        self.roi_table.set_stats(result.rois)
        sequences = [study.sequence(s) for s in study.subjects]
        self.subject_table.set_values(study.subjects, sequences, result.rois)
        self._set_ready(True)
        self.progress.setRange(0, study.n_subjects)
        self.progress.setValue(study.n_subjects)
        self.progress.setFormat(f"{study.n_subjects} subjects")
        extra = f", resampled {len(study.resampled)} maps" if study.resampled else ""
        self.status.setText(
            f"{study.n_subjects} subjects, {study.contrast.label}, group df {result.df:g}"
            f"{extra}; {len(result.rois)} ROIs.")
        self.show_map()
        if result.rois:
            name = self.current_roi if any(r.name == self.current_roi for r in result.rois) \
                else result.rois[0].name
            self.roi_table.select_roi(name)
            self.select_roi(name, move=False)
        else:
            self.plot.clear("Add ROI files or a labels layer for ROI statistics.")

    def current_view(self) -> tuple[str, str]:
        """The displayed ``(view, "mean" | "t")``."""
        view = self.view_combo.currentData() or (self.result.main if self.result else "")
        return view, "t" if self.t_radio.isChecked() else "mean"

    def set_view(self, view: str, stat: str = "t") -> None:
        """Show another map: ``view`` in drug / placebo / difference / interaction (/ period)."""
        index = self.view_combo.findData(view)
        if index < 0:
            raise ValueError(f"no {view} map in this study")
        self.t_radio.blockSignals(True)
        (self.t_radio if stat == "t" else self.mean_radio).setChecked(True)
        self.t_radio.blockSignals(False)
        if index == self.view_combo.currentIndex():
            self.show_map()
        else:
            self.view_combo.setCurrentIndex(index)

    def _on_view(self, *args) -> None:
        if self.result is not None:
            self.show_map()

    @staticmethod
    def _slider_of(p: float) -> int:
        return int(round((np.log10(p) - P_LOG_MIN) * P_STEPS))

    def p_threshold(self) -> float:
        """The p of the slider (one-sided per tail, uncorrected)."""
        return float(10 ** (P_LOG_MIN + self.p_slider.value() / P_STEPS))

    def set_p_threshold(self, p: float) -> None:
        """Move the slider to ``p``."""
        self.p_slider.setValue(self._slider_of(p))

    def show_map(self) -> None:
        """Show the current view / statistic, thresholded at the slider's p."""
        if self.result is None:
            return
        view, stat = self.current_view()
        path = self.map_paths[(view, stat)]
        source = load_volume(path)
        data, kwargs, layer_type = layer_tuple(source, self.state.space)
        _, df = view_map(self.result, view, stat)
        name = f"{DISPLAY_LAYER}: {view} {'t' if stat == 't' else 'mean'}"
        layer = self.display_layer
        if layer is None or layer not in self.viewer.layers:
            kwargs["name"] = name
            self.display_layer = layer = self.viewer.add_image(data, **kwargs)
        else:
            layer.metadata = kwargs["metadata"]
            layer.data = data
            for key in ("colormap", "contrast_limits"):
                if key in kwargs:
                    setattr(layer, key, kwargs[key])
            layer.name = name
        layer.metadata["crossover_view"] = (view, stat, df)
        self._on_threshold()

    def _on_threshold(self, *args) -> None:
        p = self.p_threshold()
        layer = self.display_layer
        if self.result is None or layer is None or layer not in self.viewer.layers:
            self.p_label.setText(f"p < {p:.2g}")
            return
        view, stat, df = layer.metadata["crossover_view"]
        t_thr = float(threshold_for_p(p, "T", df))
        if stat == "t":
            apply_threshold(layer, p, "p", df)
            shown = f"|t| ≥ {t_thr:.2f} (df {df:g})"
        else:
            t_map, _ = view_map(self.result, view, "t")
            mean = np.nan_to_num(source_of(layer).source.volume())
            layer.data = np.where(np.abs(t_map) >= t_thr, mean, 0.0).astype(np.float32)
            shown = f"mean where |t| ≥ {t_thr:.2f} (df {df:g})"
        self.p_label.setText(f"p < {p:.2g} one-sided per tail, uncorrected: {shown}")
        label = view_label(self.result.study, view) if view != "period" else "period 2 - 1"
        self.map_label.setText(f"{label}; N = {self.result.study.n_subjects}")

    # ------------------------------------------------------------------ ROIs
    def roi_stats(self, name: str):
        """The :class:`~napari_milna.core.crossover.analysis.RoiStats` of ROI ``name``."""
        for r in self.result.rois if self.result else []:
            if r.name == name:
                return r
        raise KeyError(name)

    def select_roi(self, name: str, move: bool = True) -> None:
        """Plot ROI ``name`` and move the cursor to its strongest group-t voxel."""
        if self.result is None:
            return
        try:
            stats = self.roi_stats(name)
        except KeyError:
            return
        self.current_roi = name
        self.plot.show_roi(stats, self._ylabel(), self.current_subject)
        if move:
            self.go_to_roi(name)

    def _ylabel(self) -> str:
        contrast = self.result.study.contrast
        return contrast.within + " (map units)"

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
    def load_subject(self, subject: str) -> list:
        """Load one subject's maps as layers (replacing the previous subject's).

        The subject's contrast maps (every view, computed) and its first-level input
        maps are added, placed by their affine; only the tested contrast is visible.
        """
        if self.result is None or subject not in self.result.study.subjects:
            return []
        for layer in self.subject_layers:
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.subject_layers = []
        study = self.result.study
        try:
            paths = write_subject_maps(self.result, subject, self.folder / "subjects",
                                       overwrite=True)
            inputs = [((subject, t, c), p) for (s, t, c), p in study.paths.items() if s == subject]
            layers = []
            for (_, treatment, condition), path in sorted(inputs):
                layers.append(self._add_file(path, f"{subject} {treatment} {condition}", False))
            for view, path in paths.items():
                visible = view == self.result.main
                layers.append(self._add_file(path, f"{subject} {view}", visible))
        except (MilnaInputError, ValueError, OSError) as exc:
            self.notify(f"{subject}: the maps could not be loaded ({exc}).", error=True)
            return []
        self.subject_layers = layers
        self.current_subject = subject
        row = self.subject_table.row_of(subject)
        if row >= 0 and row not in {i.row() for i in self.subject_table.selectedIndexes()}:
            self.subject_table.blockSignals(True)
            self.subject_table.selectRow(row)
            self.subject_table.blockSignals(False)
        if self.current_roi is not None:
            self.plot.show_roi(self.roi_stats(self.current_roi), self._ylabel(), subject)
        self.status.setText(f"Loaded the maps of {subject} ({len(layers)} layers).")
        return layers

    def _add_file(self, path, name: str, visible: bool):
        source = load_volume(path)
        data, kwargs, layer_type = layer_tuple(source, self.state.space)
        kwargs["name"] = name
        kwargs["visible"] = visible
        kwargs["metadata"][SUBJECT_TAG] = name
        return getattr(self.viewer, f"add_{layer_type}")(data, **kwargs)

    # ------------------------------------------------------------------ outputs
    def group_t_path(self) -> Path:
        """The group T map of the tested contrast (period-adjusted when asked)."""
        return self.map_paths[(self.result.main, "t")]

    def send_group_t(self):
        """Add the group T map as a stat layer and hand it to the SVC dock."""
        if self.result is None:
            self.notify("Load a study first: there is no group T map yet.", error=True)
            return None
        name = f"crossover group T: {self.result.study.contrast.name}"
        if self.result.period is not None:
            name += " (period-adjusted)"
        try:
            layer, message = send_to_svc(self.viewer, self.group_t_path(), name)
        except (MilnaInputError, ValueError, OSError) as exc:
            self.notify(f"The group T map could not be sent: {exc}", error=True)
            return None
        self.notify(message)
        return layer

    def save_outputs(self, folder, overwrite: bool = False) -> dict | None:
        """Write the per-subject contrasts, group maps and ROI tables into ``folder``."""
        if self.result is None:
            self.notify("Load a study first: there is nothing to save.", error=True)
            return None
        try:
            paths = write_crossover(self.result, folder, overwrite=overwrite)
        except (MilnaInputError, OSError) as exc:
            self.notify(str(exc), error=True)
            return None
        self.notify(f"Wrote {len(paths)} files into {folder}.")
        return paths
