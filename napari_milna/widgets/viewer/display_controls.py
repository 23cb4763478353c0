"""Plane buttons, neurological / radiological switch and the display-space choice."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.viewer_state import ViewerState

WORLD = "World mm (axis-aligned data)"


class DisplayControls(QWidget):
    """Axial / coronal / sagittal, neurological / radiological, display space."""

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.state = ViewerState.of(viewer)
        planes = QHBoxLayout()
        self.plane_buttons = {}
        group = QButtonGroup(self)
        for plane in ("axial", "coronal", "sagittal"):
            button = QPushButton(plane.capitalize())
            button.setCheckable(True)
            button.setChecked(plane == self.state.plane)
            button.clicked.connect(lambda _=False, p=plane: self.state.set_plane(p))
            group.addButton(button)
            planes.addWidget(button)
            self.plane_buttons[plane] = button
        convention = QHBoxLayout()
        self.neurological = QRadioButton("Neurological (L on left)")
        self.radiological = QRadioButton("Radiological")
        self.neurological.setChecked(not self.state.radiological)
        self.radiological.toggled.connect(self.state.set_radiological)
        convention.addWidget(self.neurological)
        convention.addWidget(self.radiological)
        space = QHBoxLayout()
        space.addWidget(QLabel("Display space"))
        self.space_combo = QComboBox()
        self.space_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.space_combo.setMinimumContentsLength(16)
        self.space_combo.setToolTip(
            "World mm for axis-aligned data; the voxel grid of an image for oblique data "
            "(as FSLeyes' display space). Layers oblique to the chosen space are shown "
            "resampled, and say so."
        )
        self.space_combo.activated.connect(self._on_space_chosen)
        space.addWidget(self.space_combo, 1)
        self.space_note = QLabel()
        self.space_note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(planes)
        layout.addLayout(convention)
        layout.addLayout(space)
        layout.addWidget(self.space_note)
        viewer.layers.events.inserted.connect(self.refresh)
        viewer.layers.events.removed.connect(self.refresh)
        self.state.changed.connect(self._on_state_changed)
        self.refresh()

    def refresh(self, event=None) -> None:
        """Rebuild the display-space choices from the current layers."""
        self.space_combo.blockSignals(True)
        self.space_combo.clear()
        self.space_combo.addItem(WORLD)
        for layer in self.state.milna_layers():
            src = source_of(layer)
            if src.source is not None:
                self.space_combo.addItem(f"{layer.name} grid ({src.grid.axcodes})", layer.name)
        current = self.state.space.reference
        index = self.space_combo.findData(current) if current else 0
        self.space_combo.setCurrentIndex(max(index, 0))
        self.space_combo.blockSignals(False)
        self.space_note.setText(f"Showing {self.state.space.describe()}.")

    def _on_space_chosen(self, index: int) -> None:
        name = self.space_combo.itemData(index)
        if not name:
            self.state.set_reference(None)
            return
        layer = self.viewer.layers[name]
        self.state.set_reference(source_of(layer).grid, name)

    def _on_state_changed(self, what: str) -> None:
        for plane, button in self.plane_buttons.items():
            button.setChecked(plane == self.state.plane)
        self.radiological.blockSignals(True)
        self.radiological.setChecked(self.state.radiological)
        self.neurological.setChecked(not self.state.radiological)
        self.radiological.blockSignals(False)
        self.refresh()
