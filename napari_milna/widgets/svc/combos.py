"""The ROI-label picker of the SVC dock (layers are picked with :class:`LayerCombo`)."""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QComboBox


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
