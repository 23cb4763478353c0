"""The one layer picker of the docks: a combo box that follows the viewer's layer list."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QComboBox

NONE_TEXT = "(none)"


class LayerCombo(QComboBox):
    """Layers offered by ``candidates()``, after optional fixed entries, kept up to date.

    Entries follow layers being added, removed, moved and renamed. The choice is kept
    by identity (not by name); until the user picks an entry (or :meth:`lock` is
    called), ``preferred()`` decides which layer is selected.

    Parameters
    ----------
    viewer : napari.Viewer
    candidates : callable
        Returns the layers to offer, in order.
    allow_none : bool
        Offer "(none)" first (the same as ``fixed=(("(none)", None),)``).
    preferred : callable, optional
        Returns the layer to select while the user has not chosen (or None).
    fixed : tuple of (text, key), optional
        Entries before the layers, e.g. ``(("compute (nilearn)", "compute"),)``.
    describe : callable, optional
        Text shown for a layer (default: its name; the name is always the tooltip).
    min_chars : int
        Minimum width in characters (the combo never widens a dock to fit a long name).
    """

    #: The chosen layer (None for a fixed entry or nothing) changed.
    layer_changed = Signal(object)
    #: The chosen entry changed (layer or fixed entry).
    changed = Signal()

    def __init__(
        self,
        viewer,
        candidates: Callable[[], list],
        allow_none: bool = False,
        preferred: Callable[[], object] | None = None,
        fixed: tuple[tuple[str, object], ...] = (),
        describe: Callable[[object], str] | None = None,
        min_chars: int = 14,
        parent=None,
    ):
        super().__init__(parent)
        self.viewer = viewer
        self.candidates = candidates
        self.preferred = preferred
        self.fixed = (((NONE_TEXT, None),) if allow_none else ()) + tuple(fixed)
        self.describe = describe or (lambda layer: layer.name)
        self._touched = False
        self._current = None
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(min_chars)
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(self._emit)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self.refresh)
        viewer.layers.events.moved.connect(self.refresh)
        for layer in viewer.layers:
            layer.events.name.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ reading
    def key(self):
        """``("fixed", key)``, ``("layer", layer)`` or None."""
        data = self.currentData(Qt.ItemDataRole.UserRole)
        if data is None:
            return None
        kind, value = data
        if kind == "layer" and value not in self.viewer.layers:
            return None
        return data

    def layer(self):
        """The chosen layer, or None."""
        key = self.key()
        return key[1] if key is not None and key[0] == "layer" else None

    # ------------------------------------------------------------------ choosing
    def lock(self) -> None:
        """Stop following the preferred layer (as when the user has chosen)."""
        self._touched = True

    def choose(self, target) -> None:
        """Select a layer, a fixed entry by its key, or "(none)" with None."""
        self._touched = True
        self.refresh()
        for i in range(self.count()):
            kind, value = self.itemData(i)
            if value is target or (kind == "fixed" and value == target):
                self.setCurrentIndex(i)
                return

    def set_layer(self, layer) -> None:
        """Select ``layer`` (None: "(none)")."""
        self.choose(layer)

    # ------------------------------------------------------------------ internals
    def _on_activated(self, index: int) -> None:
        self._touched = True

    def _on_inserted(self, event=None) -> None:
        if event is not None:
            event.value.events.name.connect(self.refresh)
        self.refresh()

    def _emit(self, index: int = -1) -> None:
        key = self.key()
        if key != self._current:
            self._current = key
            self.changed.emit()
            self.layer_changed.emit(self.layer())

    def refresh(self, event=None) -> None:
        """Rebuild the entries, keeping the current choice when it still exists."""
        current = self.key()
        layers = list(self.candidates())
        self.blockSignals(True)
        self.clear()
        for text, key in self.fixed:
            self.addItem(text, ("fixed", key))
        for layer in layers:
            self.addItem(self.describe(layer), ("layer", layer))
            self.setItemData(self.count() - 1, layer.name, Qt.ItemDataRole.ToolTipRole)
        wanted = None
        if not self._touched and self.preferred is not None:
            preferred = self.preferred()
            wanted = ("layer", preferred) if preferred in layers else None
        still_there = current is not None and (current[0] == "fixed" or current[1] in layers)
        if wanted is None and still_there:
            wanted = current
        index = 0 if self.count() else -1
        for i in range(self.count()):
            kind, value = self.itemData(i)
            if wanted is not None and kind == wanted[0] and (
                value is wanted[1] or (kind == "fixed" and value == wanted[1])
            ):
                index = i
                break
        self.setCurrentIndex(index)
        self.blockSignals(False)
        self._emit()
