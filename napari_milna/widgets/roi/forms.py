"""magicgui pieces of the ROI tab: layer pickers bound to the study session, compact rows.

Every parameter form of the tab is a magicgui :class:`~magicgui.widgets.Container` of
magicgui widgets. :class:`LayerPicker` is a magicgui combo box of layers that follows
the viewer's layer list; :func:`bind` ties a picker both ways to a choice held
elsewhere (the study session): a change there shows in the picker, a choice in the
picker goes there.
"""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import ComboBox, Container, Label
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QSizePolicy

from .links import connect_while

#: Width of a layer picker, in characters, below which it never shrinks.
PICKER_CHARS = 12
#: Narrowest a spin box may be (pixels).
SPIN_WIDTH = 84
#: Width of the row titles (pixels), so that the rows of every form line up.
TITLE_WIDTH = 76


def narrow(spin, width: int = SPIN_WIDTH):
    """A magicgui spin box that may be as narrow as ``width`` pixels."""
    spin.native.setMinimumWidth(width)
    return spin


def compact(combo, chars: int = PICKER_CHARS):
    """A combo box that never widens the tab to fit a long entry (the full text is its tip)."""
    native = combo.native
    native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    native.setMinimumContentsLength(chars)
    native.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return combo


def row(*widgets, label: str | None = None, tooltip: str | None = None) -> Container:
    """magicgui widgets side by side; with ``label``, after a title of fixed width.

    An empty ``label`` leaves the title's room empty (the row lines up with titled rows).
    """
    items = list(widgets)
    if label is not None:
        title = Label(value=label)
        title.native.setFixedWidth(TITLE_WIDTH)
        items.insert(0, title)
    box = Container(widgets=items, layout="horizontal", labels=False)
    box.margins = (0, 0, 0, 0)
    if tooltip:
        box.tooltip = tooltip
    return box


def form(*widgets) -> Container:
    """magicgui rows and texts stacked, without margins (texts span the whole width)."""
    box = Container(widgets=list(widgets), labels=False)
    box.margins = (0, 0, 0, 0)
    return box


def text(value: str = "", tooltip: str | None = None) -> Label:
    """A word-wrapped, rich-text magicgui label."""
    label = Label(value=value)
    label.native.setWordWrap(True)
    policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    label.native.setSizePolicy(policy)
    if tooltip:
        label.tooltip = tooltip
    return label


class LayerPicker(ComboBox):
    """A magicgui combo box of the layers ``candidates()`` returns, following the viewer.

    Entries follow layers being added, removed, moved and renamed; the choice is kept
    by identity (a picker tied by :func:`bind` shows its bound choice instead). With
    ``nullable`` the first entry is "(none)" (value None).

    Parameters
    ----------
    viewer : napari.Viewer
    candidates : callable
        The layers to offer, in order.
    nullable : bool
        Offer "(none)".
    **kwargs
        magicgui widget options (``label``, ``tooltip`` ...).
    """

    null_string = "(none)"

    def __init__(self, viewer, candidates: Callable[[], list], nullable: bool = False, **kwargs):
        self._viewer = viewer
        self._candidates = candidates
        self._follow: Callable | None = None
        super().__init__(choices=self._layer_choices, nullable=nullable, **kwargs)
        compact(self)
        events = viewer.layers.events
        signals = [events.inserted, events.removed, events.moved]
        signals += [layer.events.name for layer in viewer.layers]
        connect_while(self.native, *((signal, self.refresh) for signal in signals))

    def _layer_choices(self, widget=None) -> list:
        return [(layer.name, layer) for layer in self._candidates()]

    def refresh(self, event=None) -> None:
        """Rebuild the entries in the viewer's order; keep the current layer if it is offered."""
        if event is not None and getattr(event, "type", "") == "inserted":
            connect_while(self.native, (event.value.events.name, self.refresh))
        current = self.value
        wanted = self._follow() if self._follow is not None else current
        with self.changed.blocked():
            self.native.clear()
            self.reset_choices()
            if any(wanted is c for c in self.choices):
                self.value = wanted
        for i in range(self.native.count()):
            self.native.setItemData(i, self.native.itemText(i), Qt.ItemDataRole.ToolTipRole)
        if self._follow is None and self.value is not current:
            self.changed.emit(self.value)

    def show(self, layer) -> None:
        """Show ``layer`` (None: "(none)" or the first entry) without announcing a choice."""
        with self.changed.blocked():
            if not any(layer is c for c in self.choices):
                self.native.clear()
                self.reset_choices()
            if any(layer is c for c in self.choices):
                self.value = layer
            elif None in self.choices:
                self.value = None


def bind(picker: LayerPicker, get: Callable, put: Callable, *signals) -> Callable:
    """Tie ``picker`` both ways to a choice: it shows ``get()``; a user's pick calls ``put``.

    Parameters
    ----------
    picker : LayerPicker
    get : callable
        The current choice (a layer or None).
    put : callable
        Records the user's choice (a layer or None).
    *signals
        Signals (psygnal or Qt) announcing a change of the choice.

    Returns
    -------
    callable
        The function that shows the current choice in the picker.
    """

    def show(*args) -> None:
        picker.show(get())

    def chosen(value) -> None:
        if value is not get():
            put(value)
        if picker.value is not get():
            show()  # the choice was refused or changed on its way

    picker._follow = get
    picker.changed.connect(chosen)
    connect_while(picker.native, *((signal, show) for signal in signals))
    show()
    return show


__all__ = ["LayerPicker", "bind", "compact", "form", "narrow", "row", "text"]
