"""Preprocessing dock: RETROICOR, motion scrubbing, CSF regressor, first-level GLM, connectivity.

Turns a subject's raw material (run, physio log, motion parameters, events) into the
maps the viewer explores, and shows what each step bought. The top chooses the run
(a 4D layer), an optional brain mask, the events file and the output folder; empty
fields are filled from the BIDS / fMRIPrep / SPM files next to the run. Each panel
below is a thin shell over one part of the core and runs its slow work in a worker
thread with a progress bar.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..._napari.viewer_state import unwrap_viewer
from ..panel.dock_layout import ScrollingDock, add_sections
from .connectivity_panel import ConnectivityPanel
from .context import PreprocContext, default_output_dir
from .csf_panel import CsfPanel
from .glm_panel import GlmPanel
from .inputs import LayerFileCombo, PathField, RunCombo, bids_companions
from .motion_panel import MotionPanel
from .physio_panel import PhysioPanel


def is_mask_layer(layer) -> bool:
    """A layer that can serve as a brain mask (a mask or labels file)."""
    from napari.layers import Labels

    return isinstance(layer, Labels)


class PreprocessingDock(ScrollingDock):
    """Preprocessing dock of napari-milna.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        napari_viewer = unwrap_viewer(napari_viewer)
        self.viewer = napari_viewer
        self._docked = False
        self.run_combo = RunCombo(napari_viewer)
        self.run_combo.setToolTip("The 4D run (open it in the viewer first)")
        self.mask_field = LayerFileCombo(napari_viewer, is_mask_layer)
        self.mask_field.setToolTip("Brain mask for the R\u00b2 map and the GLM (none: non-zero "
                                   "voxels for R\u00b2, nilearn's EPI mask for the GLM)")
        self.events_field = PathField("BIDS *_events.tsv", "BIDS events (*_events.tsv *.tsv)")
        self.out_field = PathField("output folder", directory=True)
        self.run_label = QLabel("")
        self.run_label.setWordWrap(True)
        self.ctx = PreprocContext(napari_viewer, self.run_combo, self.mask_field,
                                  self.events_field, self.out_field, parent=self)
        self.physio = PhysioPanel(self.ctx)
        self.motion = MotionPanel(self.ctx)
        self.csf = CsfPanel(self.ctx)
        self.glm = GlmPanel(self.ctx)
        self.connectivity = ConnectivityPanel(self.ctx)
        self.ctx.physio, self.ctx.motion, self.ctx.csf = self.physio, self.motion, self.csf

        top = QWidget()
        form = QFormLayout(top)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Run", self.run_combo)
        form.addRow("", self.run_label)
        form.addRow("Brain mask", self.mask_field)
        form.addRow("Events", self.events_field)
        form.addRow("Output", self.out_field)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections = add_sections(
            layout,
            (
                (title, title, widget, expanded)
                for title, widget, expanded in (
                    ("Run and files", top, True),
                    ("Physiological noise (RETROICOR)", self.physio, True),
                    ("Motion (framewise displacement)", self.motion, True),
                    ("CSF nuisance signal", self.csf, False),
                    ("First-level GLM", self.glm, False),
                    ("Resting connectivity", self.connectivity, False),
                )
            ),
        )
        layout.addStretch(1)
        self.set_body(body)

        for section in self.sections.values():
            section.toggled.connect(self.fit_width)
        self.run_combo.run_changed.connect(self._on_run)
        self.destroyed.connect(self._on_destroyed)
        self._on_run(self.run_combo.layer())

    def _on_destroyed(self, *args) -> None:
        for panel in (self.physio, self.motion, self.csf, self.glm, self.connectivity):
            try:
                panel.runner.close()
            except RuntimeError:
                pass

    def closeEvent(self, event):  # noqa: N802 (Qt API)
        """Stop running jobs when the dock closes."""
        self._on_destroyed()
        super().closeEvent(event)

    def event(self, event):
        """napari removes a closed dock by taking it out of its dock widget: stop the jobs."""
        if event.type() == QEvent.Type.ParentChange:
            if self.parent() is None and self._docked:
                self._on_destroyed()
            self._docked = self.parent() is not None
        return super().event(event)

    def _on_run(self, layer) -> None:
        """A run was chosen: describe it, fill empty fields from the files next to it."""
        if layer is None:
            self.run_label.setText("Open a 4D run (e.g. *_desc-preproc_bold.nii.gz).")
            self.physio.update_slice()
            return
        source = source_of(layer).source
        tr = f"TR {source.tr:g} s" if source.tr else "no TR in the header"
        self.run_label.setText(f"{source.n_volumes} volumes, {tr}, grid "
                               f"{' x '.join(map(str, source.grid.shape))}")
        self.fill_from(source.path)
        self.physio.update_slice()

    def fill_from(self, bold) -> dict:
        """Fill the empty fields with the BIDS / fMRIPrep / SPM companions of ``bold``."""
        found = bids_companions(bold)
        self.events_field.fill(found.get("events"))
        self.out_field.fill(default_output_dir(bold))
        self.physio.physio_field.fill(found.get("physio"))
        self.motion.file_field.fill(found.get("confounds") or found.get("rp"))
        self.csf.csf_field.fill(found.get("csf"))
        self.mask_field.fill(found.get("brain_mask"))
        return found
