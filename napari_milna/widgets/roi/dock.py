"""ROI workbench (the ROIs tab of the milna panel): seed, paint and refine brainstem ROIs.

A thin shell over the core (:mod:`napari_milna.core.roi.seeds`, ``refine``,
``transfer``, ``facts``, ``io``) and the study session: choose the reference image
(ROIs live on its grid, at its resolution), seed PAG / RVM or add ROIs to paint with
napari's brush, refine by rule, read the live facts table, save and reload. The
header says which ROI the SVC, QC and Crossover tabs use (the session's ROI); every
picker is a magicgui widget bound to the session.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, PushButton
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..._napari.roi_layers import roi_grid
from ..panel.dock_layout import ScrollingDock, add_sections
from ..panel.links import connect_while
from ..panel.session_picker import ChoicePicker
from ..panel.status import ERROR_COLOUR, WARN_COLOUR, StatusLabel, coloured, escape
from .facts_panel import RoiFactsPanel
from .files import RoiFilesPanel
from .forms import compact, form, row, text
from .guard import UnsavedGuard
from .refine_panel import RoiRefinePanel
from .seed_panel import RoiSeedPanel
from .session import RoiSession


def roi_choice_text(session: RoiSession):
    """Text of an ROI in the ROI picker: ``"PAG (1)"``."""
    return lambda label: f"{session.roi_name(label)} ({label})"


class RoiWorkbench(ScrollingDock):
    """ROI workbench dock of napari-milna (the panel's ROIs tab).

    Attributes
    ----------
    session : RoiSession
        What the workbench keeps over the viewer's study session (``session.study``).
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        napari_viewer = self.viewer  # the viewer itself: the guard keys on it
        self.session = session = RoiSession(napari_viewer, self)
        self.guard = UnsavedGuard.install(napari_viewer)
        layer_list = (session.study.layers_changed, napari_viewer.layers.events.moved)

        #: The pickers of the header (their widgets are ``reference``, ``roi_layer``, ``roi``).
        self.pickers = {
            "reference": ChoicePicker(
                session.image_layers, lambda: session.reference_layer, session.set_reference,
                (session.reference_changed, *layer_list), nullable=False,
                tooltip="The image the ROIs will be tested on (stat map or EPI): ROIs live on "
                "its grid, at its native resolution. Follows the study's statistical map until "
                "you pick one.",
            ),
            "roi_layer": ChoicePicker(
                session.layer_choices, lambda: session.roi_layer, session.set_roi_layer,
                (session.roi_layer_changed, session.reference_changed, *layer_list),
                tooltip="The labels layer holding the ROIs (one label per ROI)",
            ),
            "roi": ChoicePicker(
                session.roi_labels, lambda: session.selected_label or None,
                lambda label: session.select(int(label)) if label else None,
                (session.selection_changed, session.labels_changed,
                 session.roi_layer_changed), describe=roi_choice_text(session),
                tooltip="The selected ROI: what the tools act on, napari's brush label and the "
                "ROI the SVC, QC and Crossover tabs use",
            ),
        }
        self.reference, self.roi_layer, self.roi = (
            compact(picker.widget) for picker in self.pickers.values())
        self.show_grid_button = PushButton(
            text="Show its grid",
            tooltip="Display the reference's voxel grid, so that its voxels can be painted",
        )
        self.grid_label = text()
        self.new_layer_button = PushButton(
            text="New", tooltip="A new, empty ROI layer on the reference grid"
        )
        self.outline = CheckBox(
            text="outlines", value=True,
            tooltip="Draw ROIs as outlines so that the statistical colours stay visible; "
            "untick to fill them",
        )
        self.undo_button = PushButton(text="Undo")
        self.redo_button = PushButton(text="Redo")
        self.in_use = text()
        self.status = StatusLabel("")

        self.seed = RoiSeedPanel(session)
        self.refine = RoiRefinePanel(session)
        self.facts = RoiFactsPanel(session)
        self.files = RoiFilesPanel(session)

        self.head = form(
            row(self.reference, self.show_grid_button, label="Reference"),
            self.grid_label,
            row(self.roi_layer, self.new_layer_button, self.outline, label="ROI layer"),
            row(self.roi, self.undo_button, self.redo_button, label="ROI"),
            self.in_use,
        )
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.head.native)
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
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setFixedHeight(2 * self.status.fontMetrics().lineSpacing() + 12)
        self.set_body(body, footer=self.status)

        self.show_grid_button.clicked.connect(lambda *a: self._show_grid())
        self.new_layer_button.clicked.connect(lambda *a: session.new_layer())
        self.outline.changed.connect(session.set_outline)
        self.undo_button.clicked.connect(lambda *a: session.undo())
        self.redo_button.clicked.connect(lambda *a: session.redo())
        session.reference_changed.connect(self._describe)
        session.roi_layer_changed.connect(self._describe)
        session.selection_changed.connect(self._describe)
        session.labels_changed.connect(self._describe)  # a renamed ROI
        session.message.connect(self._on_message)
        connect_while(self, (session.state.changed, self._describe))
        session.labels_changed.connect(lambda: QTimer.singleShot(0, self.fit_width))
        session.set_outline(True)
        self._describe()

    # ------------------------------------------------------------------ header
    def _show_grid(self) -> None:
        s = self.session
        if s.reference_layer is None:
            return
        src = source_of(s.reference_layer)
        s.state.set_reference(src.grid, s.reference_layer.name)

    def _describe(self, *args) -> None:
        s = self.session
        in_use = s.in_use()
        if in_use == "no ROI":
            self.in_use.value = (
                "SVC, QC and Crossover use <b>no ROI</b> yet: select one in the table or the "
                "ROI picker."
            )
        else:
            self.in_use.value = f"SVC, QC and Crossover use <b>{escape(in_use)}</b>."
        layer = s.reference_layer
        if layer is None:
            self.grid_label.value = "Open a stat map or EPI and choose it as the reference."
            self.show_grid_button.visible = False
            return
        src = source_of(layer)
        text = f"ROI grid {src.grid.describe()}."
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
        self.grid_label.value = text
        self.show_grid_button.visible = bool(blocked)

    def _on_message(self, level: str, text: str) -> None:
        colour = {"error": ERROR_COLOUR, "warning": WARN_COLOUR}.get(level)
        self.status.setText(coloured(text, colour) if colour else escape(text))
        self.status.setToolTip(text)
