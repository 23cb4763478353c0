"""magicgui pieces of the ROI tab: compact combo boxes, rows of fixed-width titles, texts.

Every parameter form of the tab is a magicgui :class:`~magicgui.widgets.Container` of
magicgui widgets; its pickers are the panel's
:class:`~napari_milna.widgets.panel.session_picker.ChoicePicker` (bound both ways to the
study session or the workbench).
"""

from __future__ import annotations

from magicgui.widgets import Container, Label
from qtpy.QtWidgets import QComboBox, QSizePolicy

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


__all__ = ["compact", "form", "narrow", "row", "text"]
