"""Shared pieces of the preprocessing dock: notifications, worker jobs with progress and Cancel.

Every slow step of the dock runs through a :class:`JobRunner`: the core function runs
in a ``napari.qt.threading.thread_worker``; its ``progress(done, total)`` callback
feeds a progress bar through a queued Qt signal and, once Cancel was pressed, raises
:class:`Cancelled` inside the worker (so the core stops at its next callback).
Bad input (:class:`~napari_milna.core.errors.MilnaInputError`) and any other failure
end the job with one napari notification; the viewer never sees an exception.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable

from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import QLabel, QProgressBar, QPushButton

from ...core.errors import MilnaInputError
from ...core.jobs import Cancelled

_NOTIFY = {"info": show_info, "warning": show_warning, "error": show_error}

#: Colours of status texts (dark napari theme).
WARN_COLOUR = "#ffb000"
ERROR_COLOUR = "#ff6b6b"


def notify(level: str, text: str) -> None:
    """One napari notification (``level``: info, warning or error)."""
    _NOTIFY.get(level, show_info)(text)


def escape(text: str) -> str:
    """Plain text made safe for a rich-text QLabel."""
    return html.escape(str(text))


def coloured(text: str, colour: str) -> str:
    """Rich text in a colour."""
    return f'<span style="color:{colour}">{escape(text)}</span>'


class StatusLabel(QLabel):
    """A rich-text, word-wrapped, selectable label that takes no room while empty."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        """Show ``text``; hide the label when it is empty."""
        super().setText(text)
        self.setVisible(bool(text))


class JobRunner(QObject):
    """Runs one job at a time in a worker thread, with a progress bar and a Cancel button.

    Parameters
    ----------
    bar : QProgressBar
    status : QLabel
        Rich-text status line of the panel.
    cancel_button : QPushButton or None
        Enabled while a cancellable job runs.
    busy_buttons : sequence of QPushButton
        Disabled while a job runs.
    notify : callable
        ``notify(level, text)``.
    """

    #: (done, total, title): emitted from the worker thread, delivered queued.
    progress_changed = Signal(int, int, str)
    #: ``(status, detail)`` when a job ended: ``"ok"``, ``"cancelled"`` or ``"error"``.
    finished = Signal(str, object)

    def __init__(self, bar: QProgressBar, status: QLabel, cancel_button: QPushButton | None,
                 busy_buttons=(), notify: Callable[[str, str], None] = notify, parent=None):
        super().__init__(parent)
        self.bar, self.status, self.cancel_button = bar, status, cancel_button
        self.busy_buttons = list(busy_buttons)
        self.notify = notify
        self.worker = None
        self._cancel: threading.Event | None = None
        self._job = 0
        self._closed = False
        bar.setRange(0, 1000)
        bar.setValue(0)
        bar.setFormat("%p%")
        if cancel_button is not None:
            cancel_button.setEnabled(False)
            cancel_button.clicked.connect(self.cancel)
        self.progress_changed.connect(self._on_progress)

    @property
    def running(self) -> bool:
        """True while a job runs."""
        return self._cancel is not None

    def close(self) -> None:
        """The panel is going away: stop the running job and ignore its outcome."""
        self._closed = True
        if self._cancel is not None:
            self._cancel.set()

    def start(self, title: str, fn: Callable, on_ok: Callable, cancellable: bool = True) -> bool:
        """Run ``fn(progress)`` in a worker thread; ``on_ok(result)`` back in the GUI thread.

        Parameters
        ----------
        title : str
            What runs (status line and progress bar).
        fn : callable
            ``fn(progress) -> result``; ``progress(done, total)`` raises
            :class:`Cancelled` after Cancel (``progress(done, total, False)``
            only reports: past the point where stopping would leave files half-written).
        on_ok : callable
            Receives the result; a :class:`MilnaInputError` it raises becomes a notification.
        cancellable : bool
            Whether Cancel is offered.

        Returns
        -------
        bool
            False when a job is already running.
        """
        if self.running:
            self.notify("info", f"{title}: another step of this panel is still running.")
            return False
        from napari.qt.threading import thread_worker

        cancel = threading.Event()
        emit = self.progress_changed.emit

        def progress(done: int, total: int, cancellable: bool = True) -> None:
            if cancellable and cancel.is_set():
                raise Cancelled(f"{title} cancelled")
            emit(int(done), int(total), title)

        @thread_worker
        def job():
            try:
                return "ok", fn(progress)
            except Cancelled as exc:
                return "cancelled", str(exc)
            except MilnaInputError as exc:
                return "error", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported, never a crash of the viewer
                return "error", f"{title} failed: {type(exc).__name__}: {exc}"

        self._job += 1
        number = self._job
        self._cancel = cancel
        self._set_busy(True, cancellable)
        self.bar.setValue(0)
        self.bar.setFormat(f"%p%  {title}")
        self.status.setText(escape(f"{title} ..."))
        worker = job()
        worker.returned.connect(lambda outcome: self._done(number, outcome, title, on_ok))
        self.worker = worker
        worker.start()
        return True

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress step."""
        if self._cancel is not None:
            self._cancel.set()
            if self.cancel_button is not None:
                self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling ...")

    def _set_busy(self, busy: bool, cancellable: bool = False) -> None:
        for button in self.busy_buttons:
            button.setEnabled(not busy)
        if self.cancel_button is not None:
            self.cancel_button.setEnabled(busy and cancellable)

    def _on_progress(self, done: int, total: int, title: str) -> None:
        if self._closed or total <= 0 or not self.running:
            return
        try:
            self.bar.setValue(int(round(1000 * min(done, total) / total)))
        except RuntimeError:  # the dock was closed
            self._closed = True

    def _done(self, number: int, outcome, title: str, on_ok: Callable) -> None:
        if self._closed or number != self._job:
            return
        self._cancel = None
        status, detail = outcome
        try:
            self._set_busy(False)
            if status == "ok":
                try:
                    on_ok(detail)
                    self.bar.setValue(1000)
                    self.bar.setFormat(f"%p%  {title}: done")
                except MilnaInputError as exc:
                    status, detail = "error", str(exc)
            if status == "cancelled":
                self.bar.setValue(0)
                self.bar.setFormat("%p%")
                self.status.setText(escape(f"Cancelled: {detail}; nothing was written."))
            elif status == "error":
                self.bar.setValue(0)
                self.bar.setFormat("%p%")
                self.status.setText(coloured(detail, ERROR_COLOUR))
                self.notify("error", detail)
        except RuntimeError:  # the dock was closed while the worker ran
            self._closed = True
            return
        self.finished.emit(status, detail)
