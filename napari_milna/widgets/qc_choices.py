"""Input pickers of the QC dock: a layer combo with fixed entries and a ticked ROI list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QComboBox, QListWidget, QListWidgetItem

from ..core.nifti import nifti_stem

#: ``Qt.UserRole`` tags of the ROI list entries.
LAYER_ITEM, FILE_ITEM = "layer", "file"


class LayerChoice(QComboBox):
    """Layers from ``candidates()`` after fixed entries (``(text, key)``), kept up to date.

    ``preferred()`` picks the layer to select until the user chooses an entry.
    """

    changed = Signal()

    def __init__(
        self,
        viewer,
        candidates: Callable[[], list],
        fixed: tuple[tuple[str, str], ...] = (),
        preferred: Callable[[], object] | None = None,
        describe: Callable[[object], str] | None = None,
        parent=None,
    ):
        super().__init__(parent)
        self.viewer = viewer
        self.candidates = candidates
        self.fixed = fixed
        self.preferred = preferred
        self.describe = describe or (lambda layer: layer.name)
        self._touched = False
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(lambda *_: self.changed.emit())
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self.refresh)
        for layer in viewer.layers:
            layer.events.name.connect(self.refresh)
        self.refresh()

    def _on_activated(self, index: int) -> None:
        self._touched = True

    def _on_inserted(self, event=None) -> None:
        if event is not None:
            event.value.events.name.connect(self.refresh)
        self.refresh()

    def key(self):
        """``("fixed", key)``, ``("layer", layer)`` or None."""
        data = self.currentData()
        if not data:
            return None
        kind, value = data.split(":", 1)
        if kind == "fixed":
            return ("fixed", value)
        layer = next((lay for lay in self.viewer.layers if str(id(lay)) == value), None)
        return ("layer", layer) if layer is not None else None

    def layer(self):
        """The chosen layer, or None (a fixed entry or nothing)."""
        key = self.key()
        return key[1] if key is not None and key[0] == "layer" else None

    def choose(self, target) -> None:
        """Select a layer, or a fixed entry by its key."""
        self._touched = True
        data = f"fixed:{target}" if isinstance(target, str) else f"layer:{id(target)}"
        index = self.findData(data)
        if index >= 0:
            self.setCurrentIndex(index)

    def refresh(self, event=None) -> None:
        """Rebuild the entries, keeping the current choice when it still exists."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        for text, key in self.fixed:
            self.addItem(text, f"fixed:{key}")
        for layer in self.candidates():
            self.addItem(self.describe(layer), f"layer:{id(layer)}")
            self.setItemData(self.count() - 1, layer.name, Qt.ItemDataRole.ToolTipRole)
        wanted = self.preferred() if self.preferred is not None and not self._touched else None
        index = -1
        if wanted is not None:
            index = self.findData(f"layer:{id(wanted)}")
        if index < 0 and current is not None:
            index = self.findData(current)
        self.setCurrentIndex(index if index >= 0 else (0 if self.count() else -1))
        self.blockSignals(False)
        if self.currentData() != current:
            self.changed.emit()


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
