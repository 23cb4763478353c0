"""Small-volume correction dock: SPM12-exact SVC of a statistic map in an ROI, live while painting.

A thin shell over :func:`napari_milna.core.svc.correction.small_volume_correction`: choose the
map (its type and df come from the header and can be edited), the ROI layer and
label, an optional analysis mask, the smoothness source, alpha and the tails. The
result table is recomputed ~100 ms after the last brush stroke (the core call
takes a few ms), clicking a peak moves the cursor there, the voxels surviving FWE
are shown as a layer on the map's grid, and results export to CSV / JSON. A
second-level sign-flip permutation test over the same ROI runs in a worker thread
(:mod:`.svc_permutation_panel`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.viewer_state import ViewerState, unwrap_viewer
from ...core.errors import MilnaInputError
from ...core.io.nifti import nifti_stem
from ...core.svc.correction import (
    SvcResult,
    analysis_mask_of,
    check_search_volume,
    small_volume_correction,
)
from ..panel.dock_layout import ScrollingDock, add_sections
from ..panel.layer_combo import LayerCombo
from ..viewer.stat_threshold import stat_layers
from . import export as svc_export
from .combos import LabelCombo
from .layer_io import (
    RoiGridMismatch,
    StatInput,
    df_text,
    header_df,
    label_choices,
    label_names,
    label_text,
    mask_candidates,
    mask_on,
    remove_result_layer,
    resample_roi_layer,
    roi_candidates,
    roi_labels,
    roi_mask,
    show_result_layer,
    solid_colormap,
    stat_input,
    survivors_volume,
)
from .permutation_panel import PermutationPanel
from .results_table import SvcResultsTable
from .smoothness import SmoothnessPanel, SmoothnessPending

#: Narrowest width of the dock (pixels): none beyond its content; the peak table scrolls.
MIN_WIDTH = 0
#: Debounce of recomputation after ROI edits and input changes (ms).
DEBOUNCE_MS = 100
#: Colour of the FWE survivors overlay: cyan, apart from the warm / cool stat ramps and
#: the spring-green PAG.
SURVIVOR_COLOUR = (0.0, 0.9, 1.0, 1.0)
STAT_TYPES = (("T", "T"), ("Z", "Z"), ("F", "F"), ("(unknown)", None))
ROI_EVENTS = ("paint", "data", "set_data", "labels_update")
_NOTIFY = {"info": show_info, "warning": show_warning, "error": show_error}


class _Waiting(Exception):
    """An input has not been chosen yet (said in the dock, no notification)."""


@dataclass
class _Inputs:
    stat: StatInput
    roi: np.ndarray
    roi_text: str
    roi_name: str
    mask: np.ndarray | None
    mask_name: str | None
    smoothness: object
    alpha: float
    height_p: float
    two_sided: bool
    key: tuple


class SvcDock(ScrollingDock):
    """Small-volume correction dock of napari-milna.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    #: Emitted after each recomputation with the new :class:`SvcResult` (None on a problem).
    computed = Signal(object)

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        # the viewer itself, not napari's public-only plugin proxy (layer identity matters)
        self.viewer = viewer = unwrap_viewer(napari_viewer)
        self.state = ViewerState.of(viewer)
        self.messages: list[str] = []
        self.result: SvcResult | None = None
        self.inputs: _Inputs | None = None
        self.last_event_time: float | None = None
        self._roi_layer = None
        self._last_key = None
        self._last_roi: np.ndarray | None = None
        self._last_error: str | None = None
        self._stat_cache: dict = {}
        self._mask_cache: dict = {}

        # ---------------------------------------------------------- inputs
        self.stat_combo = LayerCombo(viewer, lambda: stat_layers(viewer))
        self.stat_combo.setToolTip("Statistical map (T, Z or F) to correct within the ROI")
        self.type_combo = QComboBox()
        for text, value in STAT_TYPES:
            self.type_combo.addItem(text, value)
        self.df_edit = QLineEdit()
        self.df_edit.setPlaceholderText("required for T")
        self.df_edit.setToolTip(
            "Degrees of freedom: from SPM's header (SPM{T_[df]}), FSL's dof file or a sidecar; "
            "edit to override. T: one value; F: two (DF1, DF2)"
        )
        self.roi_combo = LayerCombo(viewer, lambda: roi_candidates(viewer),
                                       preferred=self._preferred_roi)
        self.roi_combo.setToolTip("Labels layer holding the ROI (one label value per ROI)")
        self.label_combo = LabelCombo()
        self.label_combo.setToolTip("The ROI (label) to search")
        self.resample_button = QPushButton("Resample ROI onto the map's grid")
        self.resample_button.setToolTip(
            "Make a copy of the ROI layer on the statistic map's grid (nearest neighbour); "
            "the original is kept"
        )
        self.resample_button.setVisible(False)
        self.mask_combo = LayerCombo(viewer, lambda: mask_candidates(viewer), allow_none=True)
        self.mask_combo.setToolTip(
            "Analysis mask (voxels with data); default: the map's non-zero, non-NaN voxels"
        )
        self.smoothness = SmoothnessPanel()
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setDecimals(4)
        self.alpha_spin.setMinimumWidth(95)
        self.alpha_spin.setRange(0.0001, 0.5)
        self.alpha_spin.setSingleStep(0.01)
        self.alpha_spin.setValue(0.05)
        self.height_spin = QDoubleSpinBox()
        self.height_spin.setDecimals(4)
        self.height_spin.setMinimumWidth(95)
        self.height_spin.setRange(0.0001, 0.5)
        self.height_spin.setSingleStep(0.001)
        self.height_spin.setValue(0.001)
        self.height_spin.setToolTip("Uncorrected p that defines clusters and listed maxima")
        self.two_sided = QCheckBox("Two-sided")
        self.two_sided.setToolTip("Search both tails, alpha / 2 per tail (T and Z maps)")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # ---------------------------------------------------------- results
        self.results = SvcResultsTable()
        self.show_overlay = QCheckBox("Show voxels surviving FWE")
        self.show_overlay.setChecked(True)
        self.export_csv_button = QPushButton("Export CSV...")
        self.export_json_button = QPushButton("Export JSON...")

        # ---------------------------------------------------------- permutation
        self.permutation = PermutationPanel(viewer, self.search_volume, self.notify)

        self._survivor_colormap = solid_colormap(SURVIVOR_COLOUR, "milna-svc-fwe")
        self._build_layout()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.recompute)
        self._closed = False
        self.destroyed.connect(self._mark_closed)

        self.stat_combo.layer_changed.connect(self._on_stat_layer)
        self.type_combo.currentIndexChanged.connect(self.schedule)
        self.df_edit.textChanged.connect(self.schedule)
        self.roi_combo.layer_changed.connect(self._on_roi_layer)
        self.label_combo.label_changed.connect(self.schedule)
        self.mask_combo.layer_changed.connect(self.schedule)
        self.smoothness.changed.connect(self.schedule)
        self.alpha_spin.valueChanged.connect(self.schedule)
        self.height_spin.valueChanged.connect(self.schedule)
        self.two_sided.toggled.connect(self.schedule)
        self.show_overlay.toggled.connect(self._update_overlay)
        self.results.peak_clicked.connect(self.go_to)
        self.resample_button.clicked.connect(self.resample_roi)
        self.export_csv_button.clicked.connect(lambda: self.export("csv"))
        self.export_json_button.clicked.connect(lambda: self.export("json"))
        self._on_stat_layer(self.stat_combo.layer())
        self._on_roi_layer(self.roi_combo.layer())

    # ------------------------------------------------------------------ layout
    def _build_layout(self) -> None:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Statistical map", self.stat_combo)
        type_row = QHBoxLayout()
        type_row.addWidget(self.type_combo)
        type_row.addWidget(QLabel("df"))
        type_row.addWidget(self.df_edit, 1)
        form.addRow("Statistic", type_row)
        form.addRow("ROI layer", self.roi_combo)
        form.addRow("ROI", self.label_combo)
        form.addRow("", self.resample_button)
        form.addRow("Analysis mask", self.mask_combo)
        form.addRow("Smoothness", self.smoothness)
        form.addRow(self.smoothness.used_label)
        alpha_row = QHBoxLayout()
        alpha_row.addWidget(self.alpha_spin)
        alpha_row.addWidget(self.two_sided)
        alpha_row.addStretch(1)
        form.addRow("FWE alpha", alpha_row)
        height_row = QHBoxLayout()
        height_row.addWidget(self.height_spin)
        height_row.addWidget(QLabel("(uncorrected; clusters and listed maxima)"))
        height_row.addStretch(1)
        form.addRow("Cluster-forming p", height_row)
        inputs = QWidget()
        box = QVBoxLayout(inputs)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(form)
        box.addWidget(self.status)

        results = QWidget()
        rbox = QVBoxLayout(results)
        rbox.setContentsMargins(0, 0, 0, 0)
        rbox.addWidget(self.results)
        row = QHBoxLayout()
        row.addWidget(self.show_overlay)
        row.addStretch(1)
        row.addWidget(self.export_csv_button)
        row.addWidget(self.export_json_button)
        rbox.addLayout(row)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections = add_sections(
            layout,
            (
                (title, title, widget, expanded)
                for title, widget, expanded in (
                    ("Search volume", inputs, True),
                    ("Small-volume correction (SPM12 RFT)", results, True),
                    ("Permutation test (second level)", self.permutation, False),
                )
            ),
        )
        layout.addStretch(1)
        self.set_body(body)
        self.setMinimumWidth(MIN_WIDTH)

    def _mark_closed(self, *args) -> None:
        self._closed = True

    # ------------------------------------------------------------------ messages
    def notify(self, level: str, text: str) -> None:
        """One napari notification (``info``, ``warning``, ``error``), kept in ``messages``."""
        self.messages.append(text)
        del self.messages[:-50]
        _NOTIFY[level](text)

    # ------------------------------------------------------------------ layer choices
    def _preferred_roi(self):
        stat = self.stat_combo.layer() if hasattr(self, "stat_combo") else None
        candidates = roi_candidates(self.viewer)
        if stat is not None:
            grid = source_of(stat).grid
            for layer in candidates:
                if source_of(layer).source is None and source_of(layer).grid.matches(grid):
                    return layer
        return candidates[0] if candidates else None

    def _on_stat_layer(self, layer) -> None:
        if layer is not None:
            src = source_of(layer)
            index = self.type_combo.findData(src.info.stat_type)
            self.type_combo.blockSignals(True)
            self.type_combo.setCurrentIndex(index if index >= 0 else self.type_combo.count() - 1)
            self.type_combo.blockSignals(False)
            self.df_edit.blockSignals(True)
            self.df_edit.setText(df_text(header_df(layer)))
            self.df_edit.blockSignals(False)
        self.schedule()

    def _on_roi_layer(self, layer) -> None:
        old = self._roi_layer
        if old is not None:
            for name in ROI_EVENTS + ("features",):
                emitter = getattr(old.events, name, None)
                if emitter is not None:
                    emitter.disconnect(self._on_roi_event)
        self._roi_layer = layer
        if layer is not None:
            for name in ROI_EVENTS + ("features",):
                emitter = getattr(layer.events, name, None)
                if emitter is not None:
                    emitter.connect(self._on_roi_event)
            self.label_combo.blockSignals(True)
            self.label_combo.clear()
            self.label_combo.blockSignals(False)
            self._refresh_labels(prefer=getattr(layer, "selected_label", None))
        else:
            self.label_combo.set_choices([])
        self.schedule()

    def _refresh_labels(self, prefer: int | None = None) -> None:
        layer = self._roi_layer
        choices = label_choices(layer) if layer is not None else []
        self.label_combo.set_choices(choices, prefer=prefer)

    def _on_roi_event(self, event=None) -> None:
        if self._closed:
            return
        self.last_event_time = time.perf_counter()
        self.schedule()

    def schedule(self, *args) -> None:
        """Recompute after :data:`DEBOUNCE_MS` without a further change (debounce)."""
        if not self._closed:
            try:
                self._timer.start()
            except RuntimeError:
                self._closed = True

    # ------------------------------------------------------------------ inputs
    def _stat(self, layer) -> StatInput:
        key = (id(layer), id(source_of(layer).source), self.type_combo.currentData(),
               self.df_edit.text().strip())
        cached = self._stat_cache.get(key)
        if cached is None:
            cached = stat_input(layer, self.type_combo.currentData(), self.df_edit.text().strip())
            self._stat_cache = {key: cached}
        return cached

    def _mask(self, layer, stat: StatInput):
        key = (id(layer), id(stat.data))
        cached = self._mask_cache.get(key)
        if cached is None:
            mask = mask_on(layer, stat.grid, stat.name) if layer is not None else None
            cached = (mask, analysis_mask_of(stat.data, mask))
            self._mask_cache = {key: cached}
        return cached

    def _gather(self) -> _Inputs:
        stat_layer = self.stat_combo.layer()
        if stat_layer is None:
            raise _Waiting("Open a statistical map (T, Z or F) to correct within an ROI.")
        stat = self._stat(stat_layer)
        roi_layer = self._roi_layer
        if roi_layer is None:
            raise _Waiting(
                "Choose an ROI labels layer (the ROI workbench makes one; or napari's "
                "'New labels' on the map)."
            )
        self._refresh_labels()
        label = self.label_combo.value()
        if label == 0:
            raise MilnaInputError(
                f"{roi_layer.name}: the ROI layer is empty (no voxel painted and no ROI named)."
            )
        roi_text = label_text(label, label_names(roi_layer))
        roi = roi_mask(roi_layer, label, stat.grid, stat.name)
        mask_layer = self.mask_combo.layer()
        mask, amask = self._mask(mask_layer, stat)
        check_search_volume(
            roi, amask, f"{roi_layer.name} ({roi_text})",
            mask_layer.name if mask_layer is not None else None,
        )
        smoothness = self.smoothness.smoothness(stat.grid, mask)
        alpha, height_p = self.alpha_spin.value(), self.height_spin.value()
        two_sided = self.two_sided.isChecked()
        key = (id(stat), id(roi_layer), label, id(mask), smoothness, alpha, height_p, two_sided)
        names = label_names(roi_layer)
        roi_name = names.get(label) or f"{roi_layer.name} label {label}"
        return _Inputs(stat, roi, f"{roi_layer.name}: {roi_text}", roi_name, mask,
                       mask_layer.name if mask_layer is not None else None, smoothness, alpha,
                       height_p, two_sided, key)

    # ------------------------------------------------------------------ compute
    def recompute(self) -> SvcResult | None:
        """Gather the inputs and run the SVC (skipped when nothing changed).

        Returns
        -------
        SvcResult or None
            None when an input is missing or wrong (the dock says why).
        """
        self._timer.stop()
        if self._closed:
            return None
        try:
            inputs = self._gather()
        except _Waiting as exc:
            self._fail(str(exc), notify=False)
            return None
        except SmoothnessPending as exc:
            self._fail(str(exc), notify=False)
            return None
        except RoiGridMismatch as exc:
            self.resample_button.setVisible(True)
            self._fail(str(exc))
            return None
        except MilnaInputError as exc:
            self.resample_button.setVisible(False)
            self._fail(str(exc))
            return None
        self.resample_button.setVisible(False)
        if (self.result is not None and inputs.key == self._last_key
                and np.array_equal(inputs.roi, self._last_roi)):
            return self.result
        try:
            result = small_volume_correction(
                inputs.stat.data, inputs.roi, inputs.stat.grid, inputs.smoothness,
                inputs.stat.stat_type, inputs.stat.df, analysis_mask=inputs.mask,
                alpha=inputs.alpha, two_sided=inputs.two_sided, height_p=inputs.height_p,
            )
        except MilnaInputError as exc:
            self._fail(f"{inputs.stat.name}: {exc}")
            return None
        self.result, self.inputs = result, inputs
        self._last_key, self._last_roi = inputs.key, inputs.roi
        self._last_error = None
        self.results.show_result(result, inputs.roi_text)
        self.smoothness.show_used(result.smoothness)
        self.status.setText("")
        self.status.setVisible(False)
        self._update_overlay()
        self.computed.emit(result)
        return result

    def _fail(self, text: str, notify: bool = True) -> None:
        self.result = None
        self.inputs = None
        self._last_key = self._last_roi = None
        self.results.clear(text)
        self.status.setText(text)
        self.status.setVisible(True)
        self.smoothness.show_used(None)
        remove_result_layer(self.viewer, "fwe")
        if notify and text != self._last_error:
            self.notify("error", text)
        self._last_error = text if notify else self._last_error
        self.computed.emit(None)

    def _update_overlay(self, *args) -> None:
        result, inputs = self.result, self.inputs
        if result is None or not self.show_overlay.isChecked():
            remove_result_layer(self.viewer, "fwe")
            return
        stat = inputs.stat
        volume = survivors_volume(result, stat.grid)
        show_result_layer(
            self.viewer, "fwe", volume, stat.grid, stat.source,
            f"SVC FWE survivors ({inputs.roi_name})", self._survivor_colormap, (0, 1),
            "voxels surviving SVC FWE (-log10 p FWE)", top=True,
        )

    # ------------------------------------------------------------------ actions
    def go_to(self, xyz) -> None:
        """Move the viewer's cursor to world mm ``xyz``."""
        self.state.go_to_world(np.asarray(xyz, dtype=float))

    def resample_roi(self):
        """Copy the ROI layer onto the statistic map's grid (explicit, nearest neighbour)."""
        roi_layer, stat_layer = self._roi_layer, self.stat_combo.layer()
        if roi_layer is None or stat_layer is None:
            return None
        label = self.label_combo.value()
        try:
            layer = resample_roi_layer(self.viewer, roi_layer, stat_layer)
        except MilnaInputError as exc:
            self.notify("error", str(exc))
            return None
        self.notify(
            "info", f"{roi_layer.name} was resampled onto the grid of {stat_layer.name} "
            f"(nearest neighbour) as the new layer {layer.name}; the original is unchanged."
        )
        self.roi_combo.set_layer(layer)
        self.label_combo.set_value(label)
        self.recompute()
        return layer

    def search_volume(self):
        """The ROI for the permutation test: ``(mask, grid, name, grid_source)`` on its own grid.

        Raises
        ------
        MilnaInputError
            No ROI layer, or an empty ROI.
        """
        layer = self._roi_layer
        if layer is None:
            raise MilnaInputError("Choose an ROI labels layer first.")
        label = self.label_combo.value()
        src = source_of(layer)
        mask = roi_labels(layer) == label if label else np.zeros(src.grid.shape, bool)
        text = f"{layer.name} ({label_text(label, label_names(layer))})"
        if not mask.any():
            raise MilnaInputError(f"{text}: the ROI is empty (it has no voxel).")
        return mask, src.grid, text, src.header_source

    def export_inputs(self) -> dict:
        """The inputs recorded with an export."""
        inputs = self.inputs
        stat = inputs.stat
        return {
            "stat_map": stat.path or stat.name,
            "stat_layer": stat.name,
            "roi": inputs.roi_text,
            "roi_layer": self._roi_layer.name if self._roi_layer is not None else None,
            "label": int(self.label_combo.value()),
            "mask": inputs.mask_name,
            "height_p": inputs.height_p,
        }

    def export(self, kind: str, path=None):
        """Export the current result as ``"csv"`` or ``"json"`` (asks for a file name)."""
        if self.result is None:
            self.notify("warning", "There is no SVC result to export yet.")
            return None
        if path is None:
            stat = self.inputs.stat
            folder = Path(stat.path).parent if stat.path else Path.home()
            stem = nifti_stem(stat.path) if stat.path else stat.name
            label = "".join(ch for ch in self.inputs.roi_text.split(": ")[-1] if ch.isalnum())
            path = svc_export.ask_save_path(
                self, kind, str(folder / f"{stem}_desc-{label}_svc.{kind}")
            )
            if not path:
                return None
        data = svc_export.export_dict(self.result, self.export_inputs(),
                                      self.permutation.summary)
        try:
            written = svc_export.write_export(self, kind, data, path)
        except (MilnaInputError, OSError) as exc:
            self.notify("error", str(exc))
            return None
        if written is not None:
            self.notify("info", f"Wrote the SVC result to {written}.")
        return written
