"""A combo box of viewer layers that follows the layer list."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QComboBox

NONE_TEXT = "(none)"


class LayerCombo(QComboBox):
    """Layers chosen by ``candidates()``, refreshed when layers come and go.

    Parameters
    ----------
    viewer : napari.Viewer
    candidates : callable
        Returns the layers to offer, in order.
    allow_none : bool
        Offer "(none)" first.
    preferred : callable, optional
        Returns the layer to select (or None); followed as layers come and go until
        the user picks an entry or :meth:`lock` is called.
    """

    #: Emitted with the chosen layer (or None) when the user or a refresh changes it.
    layer_changed = Signal(object)

    def __init__(
        self,
        viewer,
        candidates: Callable[[], list],
        allow_none: bool = False,
        preferred: Callable[[], object] | None = None,
        parent=None,
    ):
        super().__init__(parent)
        self.viewer = viewer
        self.candidates = candidates
        self.allow_none = allow_none
        self.preferred = preferred
        self._touched = False
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(self._emit)
        viewer.layers.events.inserted.connect(self.refresh)
        viewer.layers.events.removed.connect(self.refresh)
        self.refresh()

    def _on_activated(self, index: int) -> None:
        self._touched = True

    def _emit(self, index: int) -> None:
        self.layer_changed.emit(self.layer())

    def layer(self):
        """The chosen layer, or None."""
        name = self.currentData()
        if not name or name not in self.viewer.layers:
            return None
        return self.viewer.layers[name]

    def lock(self) -> None:
        """Stop following the preferred layer (as when the user has chosen)."""
        self._touched = True

    def set_layer(self, layer) -> None:
        """Choose ``layer`` (None: the "(none)" entry)."""
        self._touched = True
        index = self.findData(layer.name) if layer is not None else (0 if self.allow_none else -1)
        if index >= 0:
            self.setCurrentIndex(index)

    def refresh(self, event=None) -> None:
        """Rebuild the entries, keeping the current choice when it still exists."""
        current = self.currentData()
        names = [layer.name for layer in self.candidates()]
        self.blockSignals(True)
        self.clear()
        if self.allow_none:
            self.addItem(NONE_TEXT, None)
        for name in names:
            self.addItem(name, name)
            self.setItemData(self.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        wanted = self.preferred() if self.preferred is not None and not self._touched else None
        if wanted is not None and wanted.name in names:
            self.setCurrentIndex(self.findData(wanted.name))
        elif current in names:
            self.setCurrentIndex(self.findData(current))
        else:
            self.setCurrentIndex(0 if self.count() else -1)
        self.blockSignals(False)
        if self.currentData() != current:
            self._emit(self.currentIndex())
