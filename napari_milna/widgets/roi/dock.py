"""ROI workbench dock: seed, paint and refine brainstem ROIs on a reference grid.

A thin shell over the core (:mod:`napari_milna.core.roi.seeds`, ``roi_refine``,
``roi_transfer``, ``roi_facts``, ``roi_io``): choose the reference image (ROIs
live on its grid, at its resolution), seed PAG / RVM or add ROIs to paint with
napari's brush, refine by rule, read the live facts table, save and reload.
"""

from __future__ import annotations

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.roi_layers import roi_grid
from ..._napari.viewer_state import unwrap_viewer
from ..panel.dock_layout import ScrollingDock, add_sections
from ..panel.layer_combo import LayerCombo
from .facts_panel import RoiFactsPanel
from .files import RoiFilesPanel
from .guard import UnsavedGuard
from .refine_panel import RoiRefinePanel
from .seed_panel import RoiSeedPanel
from .session import RoiSession


class RoiWorkbench(ScrollingDock):
    """ROI workbench dock of napari-milna.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        # napari hands plugin docks a public-only proxy; the viewer state, the close
        # guard and the reader all key on the viewer itself
        napari_viewer = unwrap_viewer(napari_viewer)
        self.viewer = napari_viewer
        self.session = session = RoiSession(napari_viewer, self)
        self.guard = UnsavedGuard.install(napari_viewer)

        self.reference_combo = LayerCombo(
            napari_viewer, session.image_layers, preferred=self._preferred_reference
        )
        self.reference_combo.setToolTip(
            "The image the ROIs will be tested on (stat map or EPI): ROIs live on its grid, "
            "at its native resolution"
        )
        self.grid_label = QLabel("")
        self.grid_label.setWordWrap(True)
        self.show_grid_button = QPushButton("Show its grid")
        self.show_grid_button.setToolTip(
            "Display the reference's voxel grid, so that its voxels can be painted"
        )
        self.roi_combo = LayerCombo(
            napari_viewer, lambda: session.roi_layers(session.reference_grid)
        )
        self.new_layer_button = QPushButton("New")
        self.new_layer_button.setToolTip("A new, empty ROI layer on the reference grid")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.seed = RoiSeedPanel(session)
        self.refine = RoiRefinePanel(session)
        self.facts = RoiFactsPanel(session)
        self.files = RoiFilesPanel(session)

        ref_row = QHBoxLayout()
        ref_row.addWidget(self.reference_combo, 1)
        ref_row.addWidget(self.show_grid_button)
        roi_row = QHBoxLayout()
        roi_row.addWidget(self.roi_combo, 1)
        roi_row.addWidget(self.new_layer_button)
        head = QWidget()
        form = QFormLayout(head)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Reference", ref_row)
        form.addRow(self.grid_label)
        form.addRow("ROI layer", roi_row)
        history = QHBoxLayout()
        history.addWidget(self.undo_button)
        history.addWidget(self.redo_button)
        history.addStretch(1)
        form.addRow(history)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(head)
        self.sections = add_sections(
            layout,
            (
                (title, title, widget, expanded)
                for title, widget, expanded in (
                    ("Seed PAG / RVM", self.seed, True),
                    ("ROI facts", self.facts, True),
                    ("Refine selected ROI", self.refine, False),
                    ("Files", self.files, True),
                )
            ),
        )
        layout.addStretch(1)
        self.status.setContentsMargins(6, 2, 6, 4)
        self.status.setMaximumHeight(4 * self.status.fontMetrics().lineSpacing() + 8)
        self.set_body(body, footer=self.status)

        self.reference_combo.layer_changed.connect(session.set_reference)
        self.roi_combo.layer_changed.connect(self._on_roi_chosen)
        self.show_grid_button.clicked.connect(self._show_grid)
        self.new_layer_button.clicked.connect(session.new_layer)
        self.undo_button.clicked.connect(session.undo)
        self.redo_button.clicked.connect(session.redo)
        session.reference_changed.connect(self._on_reference_changed)
        session.roi_layer_changed.connect(self._on_roi_layer_changed)
        session.message.connect(self._on_message)
        session.state.changed.connect(self._describe)
        session.labels_changed.connect(lambda: QTimer.singleShot(0, self.fit_width))
        session.set_reference(self.reference_combo.layer())
        self._on_reference_changed()

    # ------------------------------------------------------------------ reference
    def _preferred_reference(self):
        """A statistical map first (ROIs are tested on it), else a run, else any image."""
        layers = self.session.image_layers()
        for kind in ("stat", "run"):
            for layer in layers:
                if source_of(layer).info.kind.value == kind:
                    return layer
        return layers[0] if layers else None

    def _on_reference_changed(self) -> None:
        s = self.session
        if self.reference_combo.layer() is not s.reference_layer:
            self.reference_combo.set_layer(s.reference_layer)
        self.roi_combo.refresh()
        if s.roi_layer is not None:
            self.roi_combo.set_layer(s.roi_layer)
        self._describe()

    def _on_roi_chosen(self, layer) -> None:
        if layer is not None and layer is not self.session.roi_layer:
            self.session.set_roi_layer(layer)

    def _on_roi_layer_changed(self) -> None:
        if self.session.roi_layer is not None:
            self.reference_combo.lock()  # ROIs exist on this grid: no automatic switch
        self.roi_combo.refresh()
        layer = self.session.roi_layer
        if layer is not None and self.roi_combo.layer() is not layer:
            self.roi_combo.set_layer(layer)
        self._describe()

    def _show_grid(self) -> None:
        s = self.session
        if s.reference_layer is None:
            return
        src = source_of(s.reference_layer)
        s.state.set_reference(src.grid, s.reference_layer.name)

    def _describe(self, *args) -> None:
        s = self.session
        layer = s.reference_layer
        if layer is None:
            self.grid_label.setText("Open a stat map or EPI and choose it as the reference.")
            self.show_grid_button.setVisible(False)
            return
        src = source_of(layer)
        text = f"ROI grid: {src.grid.describe()}."
        blocked = src.resampled_for_display or (
            s.roi_layer is not None and source_of(s.roi_layer).resampled_for_display
        )
        if blocked:
            text += (
                " <b>Painting is disabled:</b> this grid is oblique to the display space and "
                "is shown resampled; show its grid to paint its own voxels."
            )
        elif s.roi_layer is not None and not roi_grid(s.roi_layer).matches(src.grid):
            text += " The ROI layer lies on another grid."
        self.grid_label.setText(text)
        self.show_grid_button.setVisible(bool(blocked))

    def _on_message(self, level: str, text: str) -> None:
        colour = {"error": "#ff6b6b", "warning": "#ffb347"}.get(level)
        self.status.setText(f'<span style="color:{colour}">{text}</span>' if colour else text)
        self.status.setToolTip(text)

