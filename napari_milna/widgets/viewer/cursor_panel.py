"""Cursor read-out: world mm, and each layer's voxel index and value under the cursor."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.viewer_state import ViewerState


def format_value(value: float | None) -> str:
    """Compact text for a voxel value (NaN shown as NaN, None as outside)."""
    if value is None:
        return "outside"
    if not np.isfinite(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value)}"
    return f"{value:.4g}"


def layer_readout(viewer, world_xyz) -> list[tuple[str, tuple[int, int, int] | None, str]]:
    """Rows (layer name, voxel index on the layer's own grid or None, value text) at a point."""
    t = int(round(viewer.dims.point[0])) if viewer.dims.ndim == 4 else 0
    rows = []
    for layer in reversed(list(viewer.layers)):
        src = source_of(layer)
        if src is None:
            continue
        ijk = tuple(int(v) for v in src.grid.to_index(world_xyz))
        inside = bool(src.grid.contains_index(ijk))
        if src.source is not None:
            value = src.value_at(ijk, t) if inside else None
        elif inside:
            value = float(np.asarray(layer.data)[(...,) + ijk].max())
        else:
            value = None
        rows.append((layer.name, ijk if inside else None, format_value(value)))
    return rows


class CursorPanel(QWidget):
    """World coordinates of the cursor and every napari-milna layer's voxel and value there.

    Follows the mouse over the canvas; a click pins the cursor (the dims point), as in
    FSLeyes. A "go to" field moves the cursor to typed world (MNI) coordinates.
    """

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.state = ViewerState.of(viewer)
        self.world_label = QLabel("world mm: -")
        self.world_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.goto_edit = QLineEdit()
        self.goto_edit.setPlaceholderText("x, y, z mm  (e.g. 0.5, -31, -9 = PAG)")
        self.goto_button = QPushButton("Go to")
        self.goto_button.clicked.connect(self._go_to)
        self.goto_edit.returnPressed.connect(self._go_to)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["layer", "voxel i, j, k", "value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(110)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        goto = QHBoxLayout()
        goto.addWidget(self.goto_edit)
        goto.addWidget(self.goto_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.world_label)
        layout.addLayout(goto)
        layout.addWidget(self.table)
        self.last_world: np.ndarray | None = None
        viewer.cursor.events.position.connect(self._on_mouse)
        viewer.dims.events.point.connect(self._on_point)

    def _on_mouse(self, event=None) -> None:
        pos = self.viewer.cursor.position
        if len(pos) >= 3:
            self.show_at(self.state.world_point(pos))

    def _on_point(self, event=None) -> None:
        if self.viewer.dims.ndim >= 3:
            self.show_at(self.state.world_point(self.viewer.dims.point))

    def show_at(self, world_xyz) -> None:
        """Fill the read-out for world position ``world_xyz`` (mm)."""
        world_xyz = np.asarray(world_xyz, dtype=float)
        self.last_world = world_xyz
        x, y, z = world_xyz
        self.world_label.setText(f"world mm: x {x:.1f}  y {y:.1f}  z {z:.1f}")
        rows = layer_readout(self.viewer, world_xyz)
        self.table.setRowCount(len(rows))
        for r, (name, ijk, value) in enumerate(rows):
            index = "outside" if ijk is None else f"{ijk[0]}, {ijk[1]}, {ijk[2]}"
            for c, text in enumerate((name, index, value)):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)

    def _go_to(self) -> None:
        from napari.utils.notifications import show_error

        text = self.goto_edit.text().replace(",", " ").split()
        try:
            xyz = [float(v) for v in text]
            if len(xyz) != 3:
                raise ValueError
        except ValueError:
            show_error("Go to: type three world coordinates in mm, e.g. 0.5, -31, -9.")
            return
        self.state.go_to_world(xyz)
        self.show_at(xyz)
