"""Small-volume correction tab: SPM12-exact SVC of the session's map in its ROI, live.

A thin shell over :func:`napari_milna.core.svc.correction.small_volume_correction`. The
map, the ROI (layer and label) and the analysis mask are the study session's (the
parameter form, :class:`.form.SvcForm`, is bound to it both ways); a map opened with its
SPM or FEAT folder brings its df, smoothness, mask and RPV image, as ``milna svc`` takes
them. The results (SPM's set / cluster / peak table and the SVC's peak listing) are
recomputed ~100 ms after the last brush stroke (the core call takes a few ms); clicking
a row moves the cursor there, the voxels surviving FWE are shown translucently over the
map, and results export to CSV / JSON exactly as the core writes them. A second-level
sign-flip permutation test (max t, and TFCE) over the same ROI runs through the panel's
job runner (:mod:`.permutation_panel`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ...core.errors import MilnaInputError
from ...core.io.nifti import load_volume, nifti_stem
from ...core.svc.correction import (
    SvcResult,
    analysis_mask_of,
    check_search_volume,
    small_volume_correction,
)
from ..panel.dock_layout import ScrollingDock, add_sections
from ..panel.jobs import JobRunner
from ..panel.links import debounce_timer, restart
from ..panel.status import StatusLabel, notify
from . import export as svc_export
from .form import SvcForm, folder_gives_stat
from .layer_io import (
    RoiGridMismatch,
    StatInput,
    label_names,
    label_text,
    mask_on,
    remove_result_layer,
    resample_roi_layer,
    roi_labels,
    roi_mask,
    show_result_layer,
    solid_colormap,
    stat_input,
    survivors_volume,
)
from .permutation_panel import PermutationPanel
from .results_table import SvcResultsTable
from .smoothness import SmoothnessChoice, SmoothnessPending

#: Width the tab asks for when there is room (pixels); the milna panel is ~500 px wide.
PREFERRED_WIDTH = 480
#: Debounce of recomputation after ROI edits and input changes (ms).
DEBOUNCE_MS = 100
#: The FWE survivors overlay lightens the voxels under it: translucent white keeps the hue
#: of the T colours (a coloured overlay mixes into a muddy brown over the warm ramp).
SURVIVOR_COLOUR = (1.0, 1.0, 1.0, 1.0)
SURVIVOR_OPACITY = 0.4
ROI_EVENTS = ("paint", "data", "set_data", "labels_update", "features")


class _Waiting(Exception):
    """An input has not been chosen yet (said in the tab, no notification)."""


@dataclass
class _Inputs:
    stat: StatInput
    roi: np.ndarray
    roi_text: str
    roi_name: str
    searched: str
    mask: np.ndarray | None
    mask_name: str | None
    smoothness: object
    rpv: np.ndarray | None
    rpv_path: str | None
    folder_map: object
    alpha: float
    height_p: float
    two_sided: bool
    extent: int
    key: tuple


class SvcDock(ScrollingDock):
    """Small-volume correction tab of napari-milna (built with the viewer)."""

    #: Emitted after each recomputation with the new :class:`SvcResult` (None on a problem).
    computed = Signal(object)

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent, min_width=PREFERRED_WIDTH)
        viewer, session = self.viewer, self.session
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

        self.status = StatusLabel("")
        self.smoothness_runner = JobRunner(status=self.status, notify=self.notify, parent=self)
        self.smoothness = SmoothnessChoice(session, self.smoothness_runner)
        self.form = SvcForm(session, self.smoothness)
        self.stat_combo = self.form.pickers["stat_map"]  # the map picker (``.layer()``)
        self.results = SvcResultsTable(atlas_of=session.atlas_object)
        self.show_overlay = QCheckBox("Show voxels surviving FWE")
        self.show_overlay.setChecked(True)
        self.export_csv_button = QPushButton("Export CSV...")
        self.export_json_button = QPushButton("Export JSON...")
        self.permutation = PermutationPanel(viewer, self.search_volume, self.notify)
        self._survivor_colormap = solid_colormap(SURVIVOR_COLOUR, "milna-svc-fwe")
        self._build_layout()

        self._timer = debounce_timer(self, DEBOUNCE_MS, self.recompute)
        self._closed = False
        self.destroyed.connect(self._mark_closed)
        self.form.changed.connect(self.schedule)
        self.form.roi_layer_changed.connect(self._watch_roi)
        self.form.resample.changed.connect(self.resample_roi)
        self.show_overlay.toggled.connect(self._update_overlay)
        self.results.peak_clicked.connect(self.go_to)
        session.atlas_changed.connect(self.results.show_atlas)
        self.export_csv_button.clicked.connect(lambda: self.export("csv"))
        self.export_json_button.clicked.connect(lambda: self.export("json"))
        self._watch_roi(session.roi_layer)
        self.schedule()

    # ------------------------------------------------------------------ layout
    def _build_layout(self) -> None:
        inputs = QWidget()
        box = QVBoxLayout(inputs)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.form.container.native)
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
        self.sections = add_sections(layout, (
            ("Search volume", "Search volume", inputs, True),
            ("Small-volume correction (SPM12 RFT)", "Small-volume correction (SPM12 RFT)",
             results, True),
            ("Permutation test (second level)", "Permutation test (second level)",
             self.permutation, False),
        ))
        layout.addStretch(1)
        self.set_body(body)

    def _mark_closed(self, *args) -> None:
        self._closed = True
        self.smoothness_runner.close()

    # ------------------------------------------------------------------ messages
    def notify(self, level: str, text: str) -> None:
        """One napari notification (``info``, ``warning``, ``error``), kept in ``messages``."""
        self.messages.append(text)
        del self.messages[:-50]
        notify(level, text)

    # ------------------------------------------------------------------ ROI events
    def _watch_roi(self, layer) -> None:
        """Recompute while the session's ROI layer is painted."""
        old = self._roi_layer
        if old is layer:
            return
        for target, method in ((old, "disconnect"), (layer, "connect")):
            if target is None:
                continue
            for name in ROI_EVENTS:
                emitter = getattr(target.events, name, None)
                if emitter is not None:
                    getattr(emitter, method)(self._on_roi_event)
        self._roi_layer = layer

    def _on_roi_event(self, event=None) -> None:
        if self._closed:
            return
        self.last_event_time = time.perf_counter()
        self.schedule()

    def schedule(self, *args) -> None:
        """Recompute after :data:`DEBOUNCE_MS` without a further change (debounce)."""
        if not self._closed and not restart(self._timer):
            self._closed = True

    # ------------------------------------------------------------------ inputs
    def _stat(self, layer, folder_map) -> StatInput:
        form = self.form
        key = (id(layer), id(source_of(layer).source), id(folder_map), form.stat_type.value,
               form.typed_df())
        cached = self._stat_cache.get(key)
        if cached is None:
            cached = stat_input(layer, form.stat_type.value, form.typed_df())
            if folder_gives_stat(folder_map):
                # the folder's values, as milna svc takes them (a FEAT t with voxelwise df
                # as FSL's z; the t file itself when the user asks for T)
                if cached.stat_type == folder_map.stat_type:
                    data = np.asarray(folder_map.data)
                else:
                    data = np.asarray(load_volume(folder_map.path).volume(), float)
                cached = StatInput(cached.name, data, cached.grid, cached.stat_type, cached.df,
                                   cached.source)
            self._stat_cache = {key: cached}
        return cached

    def _mask(self, layer, stat: StatInput, folder_map):
        key = (id(layer), id(stat.data), id(folder_map))
        cached = self._mask_cache.get(key)
        if cached is None:
            if layer is not None:
                mask, name = mask_on(layer, stat.grid, stat.name), layer.name
            elif folder_map is not None and folder_map.mask is not None:
                mask, name = folder_map.mask, str(folder_map.mask_path)
            else:
                mask, name = None, None
            cached = (mask, name, analysis_mask_of(stat.data, mask))
            self._mask_cache = {key: cached}
        return cached

    def _gather(self) -> _Inputs:
        session, form = self.session, self.form
        stat_layer = session.stat_map
        if stat_layer is None:
            raise _Waiting("Open a statistical map (T, Z or F), or an SPM / FEAT folder, to "
                           "correct within an ROI.")
        folder_map = session.folder_map(stat_layer)
        stat = self._stat(stat_layer, folder_map)
        roi_layer = session.roi_layer
        if roi_layer is None:
            raise _Waiting(
                "Choose an ROI labels layer (the ROIs tab makes one; or napari's "
                "'New labels' on the map)."
            )
        form.refresh_labels()
        label = session.roi_label
        if label == 0 and form.roi_label.value:
            session.set_roi(roi_layer, int(form.roi_label.value))
            label = session.roi_label
        if label == 0:
            raise MilnaInputError(
                f"{roi_layer.name}: the ROI layer is empty (no voxel painted and no ROI named)."
            )
        roi_text = label_text(label, label_names(roi_layer))
        roi = roi_mask(roi_layer, label, stat.grid, stat.name)
        mask_layer = session.masks.get("analysis")
        mask, mask_name, amask = self._mask(mask_layer, stat, folder_map)
        check_search_volume(roi, amask, f"{roi_layer.name} ({roi_text})", mask_name)
        smoothness = self.smoothness.resolve(stat.grid, mask, folder_map, stat.name)
        rpv, rpv_path = None, None
        if folder_map is not None and folder_map.rpv is not None and form.rpv.value:
            rpv, rpv_path = folder_map.rpv, str(folder_map.rpv_path)
        alpha, height_p = float(form.alpha.value), float(form.height_p.value)
        two_sided, extent = bool(form.two_sided.value), int(form.extent.value)
        key = (id(stat), id(roi_layer), label, id(mask), smoothness, alpha, height_p,
               two_sided, extent, id(rpv))
        name = label_names(roi_layer).get(label)
        where = f"{name} (label {label} of {roi_layer.name})" if name else (
            f"label {label} of {roi_layer.name}")
        searched = (f"SVC in {where} on {stat.name}"
                    + (f", mask: {Path(mask_name).name}" if mask_name else ""))
        return _Inputs(stat, roi, f"{roi_layer.name}: {roi_text}",
                       name or f"{roi_layer.name} label {label}", searched, mask, mask_name,
                       smoothness, rpv, rpv_path, folder_map, alpha, height_p, two_sided,
                       extent, key)

    # ------------------------------------------------------------------ compute
    def recompute(self) -> SvcResult | None:
        """Gather the inputs and run the SVC (skipped when nothing changed).

        Returns
        -------
        SvcResult or None
            None when an input is missing or wrong (the tab says why).
        """
        self._timer.stop()
        if self._closed:
            return None
        try:
            inputs = self._gather()
        except (_Waiting, SmoothnessPending) as exc:
            self._fail(str(exc), notify=False)
            return None
        except RoiGridMismatch as exc:
            self.form.resample.visible = True
            self._fail(str(exc))
            return None
        except MilnaInputError as exc:
            self.form.resample.visible = False
            self._fail(str(exc))
            return None
        self.form.resample.visible = False
        if (self.result is not None and inputs.key == self._last_key
                and np.array_equal(inputs.roi, self._last_roi)):
            return self.result
        try:
            result = small_volume_correction(
                inputs.stat.data, inputs.roi, inputs.stat.grid, inputs.smoothness,
                inputs.stat.stat_type, inputs.stat.df, analysis_mask=inputs.mask,
                alpha=inputs.alpha, two_sided=inputs.two_sided, height_p=inputs.height_p,
                extent_voxels=inputs.extent, rpv=inputs.rpv,
            )
        except MilnaInputError as exc:
            self._fail(f"{inputs.stat.name}: {exc}")
            return None
        self.result, self.inputs = result, inputs
        self._last_key, self._last_roi = inputs.key, inputs.roi
        self._last_error = None
        self.results.show_result(result, inputs.roi_text, inputs.searched)
        self.status.setText("")
        self._update_overlay()
        self.computed.emit(result)
        return result

    def _fail(self, text: str, notify: bool = True) -> None:
        self.result = None
        self.inputs = None
        self._last_key = self._last_roi = None
        self.results.clear(text)
        self.status.setText("")
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
            "voxels surviving SVC FWE (-log10 p FWE)", top=True, opacity=SURVIVOR_OPACITY,
        )

    # ------------------------------------------------------------------ actions
    def go_to(self, xyz) -> None:
        """Move the viewer's cursor to world mm ``xyz``."""
        self.state.go_to_world(np.asarray(xyz, dtype=float))

    def resample_roi(self, *args):
        """Copy the ROI layer onto the statistic map's grid (explicit, nearest neighbour)."""
        roi_layer, stat_layer = self.session.roi_layer, self.session.stat_map
        if roi_layer is None or stat_layer is None:
            return None
        label = self.session.roi_label
        try:
            layer = resample_roi_layer(self.viewer, roi_layer, stat_layer)
        except MilnaInputError as exc:
            self.notify("error", str(exc))
            return None
        self.notify(
            "info", f"{roi_layer.name} was resampled onto the grid of {stat_layer.name} "
            f"(nearest neighbour) as the new layer {layer.name}; the original is unchanged."
        )
        self.session.set_roi(layer, label)
        self.recompute()
        return layer

    def search_volume(self):
        """The ROI for the permutation test: ``(mask, grid, name, grid_source)`` on its own grid.

        Raises
        ------
        MilnaInputError
            No ROI layer, or an empty ROI.
        """
        layer, label = self.session.roi_layer, self.session.roi_label
        if layer is None:
            raise MilnaInputError("Choose an ROI labels layer first.")
        src = source_of(layer)
        mask = roi_labels(layer) == label if label else np.zeros(src.grid.shape, bool)
        text = f"{layer.name} ({label_text(label, label_names(layer))})"
        if not mask.any():
            raise MilnaInputError(f"{text}: the ROI is empty (it has no voxel).")
        return mask, src.grid, text, src.header_source

    def export_inputs(self) -> dict:
        """The inputs recorded with an export (as ``milna svc`` records its files)."""
        inputs = self.inputs
        stat = inputs.stat
        out = {
            "stat_map": stat.path or stat.name,
            "stat_layer": stat.name,
            "roi": inputs.roi_text,
            "roi_layer": self.session.roi_layer.name if self.session.roi_layer else None,
            "label": int(self.session.roi_label),
            "mask": inputs.mask_name,
            "height_p": inputs.height_p,
            "extent_voxels": inputs.extent,
            "rpv": inputs.rpv_path,
        }
        if inputs.folder_map is not None:
            out["analysis"] = inputs.folder_map.describe()
        return out

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
        atlas = self.session.atlas_object()
        data = svc_export.export_dict(self.result, self.export_inputs(),
                                      self.permutation.summary, atlas)
        try:
            written = svc_export.write_export(self, kind, data, path, atlas)
        except (MilnaInputError, OSError) as exc:
            self.notify("error", str(exc))
            return None
        if written is not None:
            self.notify("info", f"Wrote the SVC result to {written}.")
        return written
