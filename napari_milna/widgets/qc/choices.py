"""The ticked ROI list of the QC dock (layers are picked with :class:`LayerCombo`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QListWidget, QListWidgetItem

from ...core.io.nifti import nifti_stem

#: ``Qt.UserRole`` tags of the ROI list entries.
LAYER_ITEM, FILE_ITEM = "layer", "file"


class RoiChoice(QListWidget):
    """Ticked ROI sources: labels layers (from ``candidates()``) and ROI files."""

    def __init__(self, viewer, candidates: Callable[[], list], default_tick, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.candidates = candidates
        self.default_tick = default_tick
        self._ticks: dict[int, bool] = {}  # layer id -> ticked (kept across refreshes)
        self._files: dict[str, bool] = {}  # path -> ticked
        self.setMaximumHeight(96)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.itemChanged.connect(self._remember)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self.refresh)
        for layer in viewer.layers:
            layer.events.name.connect(self.refresh)
        self.refresh()

    def _on_inserted(self, event=None) -> None:
        if event is not None:
            event.value.events.name.connect(self.refresh)
        self.refresh()

    def _remember(self, item: QListWidgetItem) -> None:
        kind, value = item.data(Qt.ItemDataRole.UserRole)
        ticked = item.checkState() == Qt.CheckState.Checked
        if kind == LAYER_ITEM:
            self._ticks[value] = ticked
        else:
            self._files[value] = ticked

    def add_files(self, paths) -> None:
        """Add ROI files (ticked)."""
        for p in paths:
            self._files[str(Path(p))] = True
        self.refresh()

    def remove_selected_files(self) -> None:
        """Forget the selected ROI files."""
        for item in self.selectedItems():
            kind, value = item.data(Qt.ItemDataRole.UserRole)
            if kind == FILE_ITEM:
                self._files.pop(value, None)
        self.refresh()

    def set_ticked(self, layer, ticked: bool = True) -> None:
        """Tick or untick a layer."""
        self._ticks[id(layer)] = ticked
        self.refresh()

    def refresh(self, event=None) -> None:
        """Rebuild the entries from the layer list and the files."""
        self.blockSignals(True)
        self.clear()
        present = {id(lay) for lay in self.viewer.layers}
        self._ticks = {k: v for k, v in self._ticks.items() if k in present}
        for layer in self.candidates():
            ticked = self._ticks.setdefault(id(layer), bool(self.default_tick(layer)))
            self._add(layer.name, (LAYER_ITEM, id(layer)), ticked, f"labels layer {layer.name}")
        for path, ticked in self._files.items():
            self._add(f"{nifti_stem(path)} (file)", (FILE_ITEM, path), ticked, path)
        self.blockSignals(False)

    def _add(self, text, data, ticked, tip) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, data)
        item.setToolTip(tip)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsSelectable
        )
        item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.addItem(item)

    def chosen(self) -> tuple[list, list[str]]:
        """Ticked layers and ticked files."""
        layers, files = [], []
        by_id = {id(lay): lay for lay in self.viewer.layers}
        for row in range(self.count()):
            item = self.item(row)
            if item.checkState() != Qt.CheckState.Checked:
                continue
            kind, value = item.data(Qt.ItemDataRole.UserRole)
            if kind == LAYER_ITEM and value in by_id:
                layers.append(by_id[value])
            elif kind == FILE_ITEM:
                files.append(value)
        return layers, files
