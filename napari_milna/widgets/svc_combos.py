"""Combo boxes of the SVC dock: viewer layers that follow the layer list, and ROI labels."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QComboBox

NONE_TEXT = "(none)"


class SvcLayerCombo(QComboBox):
    """Layers offered by ``candidates()``, refreshed when layers come, go or are renamed.

    Parameters
    ----------
    viewer : napari.Viewer
    candidates : callable
        Returns the layers to offer, in order.
    allow_none : bool
        Offer "(none)" first.
    preferred : callable, optional
        Returns the layer to choose while the user has not chosen one.
    """

    #: The chosen layer (or None) changed.
    layer_changed = Signal(object)

    def __init__(self, viewer, candidates: Callable[[], list], allow_none=False, preferred=None,
                 parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.candidates = candidates
        self.allow_none = allow_none
        self.preferred = preferred
        self._touched = False
        self._current = None
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(14)
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(self._emit)
        for event in (viewer.layers.events.inserted, viewer.layers.events.removed,
                      viewer.layers.events.moved):
            event.connect(self.refresh)
        self.refresh()

    def _on_activated(self, index: int) -> None:
        self._touched = True

    def _emit(self, index: int = -1) -> None:
        layer = self.layer()
        if layer is not self._current:
            self._current = layer
            self.layer_changed.emit(layer)

    def layer(self):
        """The chosen layer, or None."""
        layer = self.currentData(Qt.ItemDataRole.UserRole)
        if layer is None or layer not in self.viewer.layers:
            return None
        return layer

    def set_layer(self, layer) -> None:
        """Choose ``layer`` (None: "(none)")."""
        self._touched = True
        self.refresh()
        for i in range(self.count()):
            if self.itemData(i) is layer:
                self.setCurrentIndex(i)
                return

    def refresh(self, event=None) -> None:
        """Rebuild the entries, keeping the current choice when it still exists."""
        current = self.layer()
        layers = list(self.candidates())
        self.blockSignals(True)
        self.clear()
        if self.allow_none:
            self.addItem(NONE_TEXT, None)
        for layer in layers:
            self.addItem(layer.name, layer)
            self.setItemData(self.count() - 1, layer.name, Qt.ItemDataRole.ToolTipRole)
        chosen = current if current in layers else None
        if chosen is None and not self._touched and self.preferred is not None:
            wanted = self.preferred()
            chosen = wanted if wanted in layers else None
        if chosen is None and layers and not self.allow_none:
            chosen = layers[0]
        index = 0
        for i in range(self.count()):
            if chosen is not None and self.itemData(i) is chosen:
                index = i
        self.setCurrentIndex(index if self.count() else -1)
        self.blockSignals(False)
        self._emit()


class LabelCombo(QComboBox):
    """ROI labels of an ROI layer: ``"PAG (1)"``, ``"label 3"``; the value is the item data."""

    #: The chosen label value (0 when none) changed.
    label_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(10)
        self._value = 0
        self.currentIndexChanged.connect(self._emit)

    def value(self) -> int:
        """The chosen label value, 0 when there is none."""
        data = self.currentData()
        return int(data) if data is not None else 0

    def _emit(self, index: int = -1) -> None:
        value = self.value()
        if value != self._value:
            self._value = value
            self.label_changed.emit(value)

    def set_value(self, value: int) -> None:
        """Choose label ``value`` when it is listed."""
        index = self.findData(int(value))
        if index >= 0:
            self.setCurrentIndex(index)

    def set_choices(self, choices: list[tuple[int, str]], prefer: int | None = None) -> bool:
        """List ``(value, text)`` choices, keeping the current value when listed.

        Returns
        -------
        bool
            True when the entries changed.
        """
        old = [(self.itemData(i), self.itemText(i)) for i in range(self.count())]
        if old == list(choices):
            return False
        keep = self.value() or prefer
        self.blockSignals(True)
        self.clear()
        for value, text in choices:
            self.addItem(text, int(value))
        index = self.findData(int(keep)) if keep else -1
        self.setCurrentIndex(index if index >= 0 else (0 if self.count() else -1))
        self.blockSignals(False)
        self._emit()
        return True
