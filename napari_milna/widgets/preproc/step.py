"""What every panel of the preprocessing tab is built from.

A :class:`StepPanel` is one step of the tab (RETROICOR, motion, CSF, GLM,
connectivity): its magicgui form on top, then what the subclass adds (buttons, plots,
tables), and at the bottom the step's progress bar and status line. Its slow work runs
through the panel's :class:`~napari_milna.widgets.panel.jobs.JobRunner`; bad input is
shown in the status line and as one napari notification (:meth:`StepPanel.refuse`).
"""

from __future__ import annotations

from qtpy.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...core.errors import MilnaInputError
from ..panel.jobs import JobRunner
from ..panel.status import ERROR_COLOUR, StatusLabel, coloured


class StepPanel(QWidget):
    """A step of the preprocessing tab: form, body, progress bar, status, job runner.

    Parameters
    ----------
    ctx : PreprocContext
    form : object or None
        The step's parameters: a magicgui Container, or an object holding one as
        ``container`` (kept as :attr:`form`).
    buttons : sequence of QPushButton
        Buttons that start work (disabled while a job runs).
    cancellable : bool
        Offer a Cancel button (:attr:`cancel_button`, placed by :meth:`button_row`).
    """

    def __init__(self, ctx, form=None, buttons=(), cancellable: bool = True, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.form = form
        self.cancel_button = QPushButton("Cancel") if cancellable else None
        self.bar = QProgressBar()
        self.bar.setMaximumHeight(16)
        self.status = StatusLabel()
        self.runner = JobRunner(self.bar, self.status, self.cancel_button, list(buttons),
                                ctx.notify, self)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(4)
        if form is not None:
            self.body.addWidget(getattr(form, "container", form).native)

    def button_row(self, *buttons: QPushButton) -> QHBoxLayout:
        """Buttons side by side (the first stretches), then Cancel when offered."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for k, button in enumerate(buttons):
            row.addWidget(button, 1 if k == 0 else 0)
        if self.cancel_button is not None:
            row.addWidget(self.cancel_button)
        return row

    def add(self, *items) -> None:
        """Add widgets or layouts below what is there."""
        for item in items:
            if isinstance(item, QWidget):
                self.body.addWidget(item)
            else:
                self.body.addLayout(item)

    def finish_layout(self) -> None:
        """Put the progress bar and the status line at the bottom."""
        self.body.addWidget(self.bar)
        self.body.addWidget(self.status)

    def refuse(self, exc: MilnaInputError) -> None:
        """Bad input: one sentence in the status line and one notification."""
        self.status.setText(coloured(str(exc), ERROR_COLOUR))
        self.ctx.notify("error", str(exc))
