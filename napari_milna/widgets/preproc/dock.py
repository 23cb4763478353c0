"""Preprocessing tab: RETROICOR (+ RVT + HR), motion scrubbing, CSF regressor, GLM, connectivity.

Turns a subject's raw material (run, physio log, motion parameters, events) into the
maps the viewer explores, and shows what each step bought. The top form (magicgui)
shows the study session's run and brain mask (bound both ways: a choice here is the
session's, a change made in another tab shows here), the events file and the output
folder. When the session's run changes, empty fields are filled from the BIDS /
fMRIPrep / SPM files next to it; a brain mask or CSF map found there becomes the
session's mask when it has none and a layer was read from it (now or later), else the
form offers to open it. Each panel below is a thin shell over one part of the core and
runs its slow work through the panel's job runner.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..panel.dock_layout import ScrollingDock, add_sections
from .connectivity_panel import ConnectivityPanel
from .context import PreprocContext, default_output_dir
from .csf_panel import CsfPanel
from .form import RunForm, layer_of_file
from .glm_panel import GlmPanel
from .inputs import bids_companions
from .motion_panel import MotionPanel
from .physio_panel import PhysioPanel

#: Companion files that become session masks: (key of bids_companions, session role).
COMPANION_MASKS = (("brain_mask", "brain"), ("csf", "csf"))


class PreprocessingDock(ScrollingDock):
    """The Preprocessing tab (also a dock of its own from napari's Plugins menu).

    Built with the viewer whose study session the tab reads and writes.
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        viewer, session = self.viewer, self.session
        self._docked = self._closed = False
        self.run_form = RunForm(session)
        self.ctx = PreprocContext(viewer, self.run_form, parent=self)
        self.physio = PhysioPanel(self.ctx)
        self.motion = MotionPanel(self.ctx)
        self.csf = CsfPanel(self.ctx)
        self.glm = GlmPanel(self.ctx)
        self.connectivity = ConnectivityPanel(self.ctx)
        self.ctx.physio, self.ctx.motion, self.ctx.csf = self.physio, self.motion, self.csf
        self.panels = (self.physio, self.motion, self.csf, self.glm, self.connectivity)
        #: Mask files found next to the run: session role -> path.
        self.companions: dict = {}

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections = add_sections(layout, (
            (title, title, widget, expanded)
            for title, widget, expanded in (
                ("Run and files", self.run_form.native, True),
                ("Physiological noise (RETROICOR, RVT, HR)", self.physio, True),
                ("Motion (framewise displacement)", self.motion, True),
                ("CSF nuisance signal", self.csf, False),
                ("First-level GLM", self.glm, False),
                ("Resting connectivity", self.connectivity, False),
            )
        ))
        layout.addStretch(1)
        self.set_body(body)
        for section in self.sections.values():
            section.toggled.connect(self.fit_width)
        self._links = [(session.run_changed, self._on_run),
                       (session.layers_changed, self.adopt_companions)]
        for signal, slot in self._links:
            signal.connect(slot)
        self.run_form.open_found.changed.connect(self.open_companions)
        self._links.append((session.mask_changed, self.adopt_companions))
        self.destroyed.connect(self._on_destroyed)
        self._on_run(session.run)

    # ------------------------------------------------------------------ teardown
    def _on_destroyed(self, *args) -> None:
        if self._closed:
            return
        self._closed = True
        for signal, slot in self._links:
            signal.disconnect(slot)
        self.run_form.disconnect()
        self.csf.form.csf.picker.disconnect()
        self.physio.close_links()
        for panel in self.panels:
            try:
                panel.runner.close()
            except RuntimeError:
                pass

    def closeEvent(self, event):  # noqa: N802 (Qt API)
        """Stop running jobs when the tab closes."""
        self._on_destroyed()
        super().closeEvent(event)

    def event(self, event):
        """napari removes a closed dock by taking it out of its dock widget: stop the jobs."""
        if event.type() == QEvent.Type.ParentChange:
            if self.parent() is None and self._docked:
                self._on_destroyed()
            self._docked = self.parent() is not None
        return super().event(event)

    # ------------------------------------------------------------------ the run
    def _on_run(self, layer=None) -> None:
        """The session's run changed: describe it, fill empty fields from the files by it."""
        self.run_form.describe_run()
        if layer is not None:
            self.fill_from(source_of(layer).source.path)
        self.physio.update_slice()

    def fill_from(self, bold) -> dict:
        """Fill the empty fields with the BIDS / fMRIPrep / SPM companions of ``bold``.

        A brain mask or CSF map found there becomes the session's when it has none and
        a layer read from it is open (now or later); else the form offers to open it.
        """
        found = bids_companions(bold)
        form = self.run_form
        form.events.fill(found.get("events"))
        form.output.fill(default_output_dir(bold))
        self.physio.form.physio.fill(found.get("physio"))
        self.motion.form.file.fill(found.get("confounds") or found.get("rp"))
        self.companions = {role: found[key] for key, role in COMPANION_MASKS if key in found}
        self.adopt_companions()
        return found

    def _mask_choice(self, role: str):
        return self.run_form.brain if role == "brain" else self.csf.form.csf

    def adopt_companions(self, *args) -> None:
        """Give the session the open layers of the mask files found next to the run.

        Files found but not open are offered by the form (:meth:`open_companions`).
        """
        if self._closed:
            return
        missing = {}
        for role, path in self.companions.items():
            choice = self._mask_choice(role)
            layer = layer_of_file(self.viewer, path)
            if layer is not None:
                choice.picker.propose(layer)
            elif choice.layer is None:
                missing[role] = path
        self.run_form.show_found(missing)

    def open_companions(self, *args) -> None:
        """Open the mask files found next to the run that the session lacks (hidden layers)."""
        for role, path in self.companions.items():
            choice = self._mask_choice(role)
            if choice.layer is None:
                choice.open(path, visible=False)
