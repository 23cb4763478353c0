"""Cursor read-out: world mm, the atlas label, and each layer's voxel and value there.

The read-out shows the study session's cursor (:attr:`StudySession.cursor_mm`), the
one position the crosshair, the time series and the status bar show too; it does
not follow the mouse (napari's status bar does that while the mouse is over the canvas).
The atlas row names the session atlas's label there (and its probability for a
probabilistic atlas); an atlas layer's row in the table gives its label, not a number.
"""

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

from ..._napari.layers import grid_data, source_of
from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState
from ..panel.links import debounce_timer, disconnect, restart
from .atlas_choice import AtlasChoice, atlas_text


def format_world(world_xyz) -> str:
    """``"x 0.5  y -31.0  z -9.0 mm"``: how every read-out writes a world position."""
    x, y, z = (float(v) for v in np.asarray(world_xyz, dtype=float)[-3:])
    return f"x {x:.1f}  y {y:.1f}  z {z:.1f} mm"


def format_value(value: float | None) -> str:
    """Compact text for a voxel value (NaN shown as NaN, None as outside)."""
    if value is None:
        return "outside"
    if not np.isfinite(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value)}"
    return f"{value:.4g}"


#: The value of a run at a volume it does not have (shorter than the run stepped through).
NO_VOLUME = "—"


def readout_text(ijk, value) -> str:
    """A layer's value in the read-out: "outside" the grid, :data:`NO_VOLUME`, or the value."""
    return NO_VOLUME if ijk is not None and value is None else format_value(value)


def voxel_value(viewer, layer, world_xyz) -> tuple[tuple[int, int, int] | None, float | None]:
    """A napari-milna layer's voxel index (own grid) and value at world mm.

    The index is None outside the layer's grid; the value is None there too, and for a
    run that has no volume at the viewer's time point.
    """
    src = source_of(layer)
    ijk = tuple(int(v) for v in src.grid.to_index(np.asarray(world_xyz, dtype=float)))
    if not src.grid.contains_index(ijk):
        return None, None
    if src.source is not None:
        t = int(round(viewer.dims.point[0])) if viewer.dims.ndim == 4 else 0
        return ijk, src.value_at(ijk, t)
    return ijk, float(np.asarray(grid_data(layer))[(...,) + ijk].max())


def layer_readout(viewer, world_xyz) -> list[tuple[str, tuple[int, int, int] | None, str]]:
    """Rows (layer name, voxel index on the layer's own grid or None, value text) at a point."""
    rows = []
    for layer in reversed(list(viewer.layers)):
        src = source_of(layer)
        if src is None:
            continue
        ijk, value = voxel_value(viewer, layer, world_xyz)
        if src.atlas is not None and ijk is not None:
            from ...core.atlas import label_at

            rows.append((layer.name, ijk, label_at(src.atlas, world_xyz).describe()))
            continue
        rows.append((layer.name, ijk, readout_text(ijk, value)))
    return rows


class CursorPanel(QWidget):
    """World coordinates of the cursor and every napari-milna layer's voxel and value there.

    Shows the study session's cursor: a click on the canvas, a slider, "Go to" or a
    peak in a table move it, as in FSLeyes. A "go to" field moves the cursor to typed
    world (MNI) coordinates.
    """

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.state = ViewerState.of(viewer)
        self.session = StudySession.of(viewer)
        self.world_label = QLabel("cursor: -")
        self.world_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.goto_edit = QLineEdit()
        self.goto_edit.setPlaceholderText("x, y, z mm (0.5, -31, -9 = PAG)")
        self.goto_edit.setMinimumWidth(90)
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
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6
        )
        goto = QHBoxLayout()
        goto.addWidget(self.world_label)
        goto.addWidget(self.goto_edit, 1)
        goto.addWidget(self.goto_button)
        self.atlas_choice = AtlasChoice(viewer)
        self.atlas_label = QLabel("atlas: none")
        self.atlas_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.atlas_label.setWordWrap(True)
        atlas_row = QHBoxLayout()
        atlas_row.addWidget(self.atlas_choice)
        atlas_row.addWidget(self.atlas_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(goto)
        layout.addLayout(atlas_row)
        layout.addWidget(self.table)
        self.last_world: np.ndarray | None = None
        self._volume = None
        self._closed = False
        self.destroyed.connect(self._mark_closed)
        # layers come and go, volumes change: refresh once the event loop is free
        self._refresh_timer = debounce_timer(self, 0, self.refresh)
        self._links = (
            (self.session.cursor_changed, self._on_cursor),
            (self.session.atlas_changed, self._on_cursor),
            (viewer.layers.events.inserted, self._later),
            (viewer.layers.events.removed, self._later),
            (viewer.dims.events.current_step, self._on_step),
        )
        for signal, slot in self._links:
            signal.connect(slot)

    def _mark_closed(self, *args) -> None:
        if not self._closed:
            self._closed = True
            disconnect(self._links)

    def _on_cursor(self, *args) -> None:
        try:
            self.refresh()
        except RuntimeError:  # the panel was closed
            self._mark_closed()

    def _later(self, event=None) -> None:
        if not self._closed and not restart(self._refresh_timer):
            self._mark_closed()

    def _on_step(self, event=None) -> None:
        dims = self.viewer.dims
        volume = int(round(dims.point[0])) if dims.ndim == 4 else None
        if volume != self._volume:
            self._volume = volume
            self._later()

    def refresh(self) -> None:
        """Show the session cursor."""
        if not self._closed and self.viewer.dims.ndim >= 3:
            self.show_at(self.session.cursor_mm)

    def show_at(self, world_xyz) -> None:
        """Fill the read-out for world position ``world_xyz`` (mm)."""
        world_xyz = np.asarray(world_xyz, dtype=float)
        self.last_world = world_xyz
        self.world_label.setText(f"cursor: {format_world(world_xyz)}")
        self.atlas_label.setText(atlas_text(self.session, world_xyz, full=True))
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
