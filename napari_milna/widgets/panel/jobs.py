"""The panel's one way to run long work: napari's generator ``thread_worker``.

A :class:`JobRunner` runs one core computation at a time. The computation is the
core's callback-style function ``fn(progress)``; :func:`napari_milna.core.jobs.steps`
turns its reports into :class:`~napari_milna.core.jobs.Step` values, which a
generator ``thread_worker`` yields to the GUI thread. There they move a
``napari.utils.progress`` bar (napari's activity dock) and the tab's own progress
bar. Cancel makes the computation raise :class:`~napari_milna.core.jobs.Cancelled`
at its next report. Bad input (:class:`~napari_milna.core.errors.MilnaInputError`)
and any other failure end the job with one napari notification; the viewer never
sees an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QLabel, QProgressBar, QPushButton

from ...core.errors import MilnaInputError
from ...core.jobs import Cancelled, Step, steps
from .status import ERROR_COLOUR, coloured, escape, notify

#: Least time between two progress updates sent to the GUI thread (seconds).
STEP_INTERVAL = 0.05


def _throttled(runner, interval: float = STEP_INTERVAL):
    """The runner's steps at most every ``interval`` s (and the last); returns its result."""
    last = 0.0
    gen = iter(runner)
    try:
        step = next(gen)
        while True:
            now = time.monotonic()
            if now - last >= interval or step.done >= step.total:
                last = now
                yield step
            step = gen.send(None)
    except StopIteration as stop:
        return stop.value


class JobRunner(QObject):
    """Runs one job at a time in a worker thread, with progress bars and a Cancel button.

    Parameters
    ----------
    bar : QProgressBar or None
        The tab's progress bar.
    status : QLabel or None
        Rich-text status line of the tab.
    cancel_button : QPushButton or None
        Enabled while a cancellable job runs.
    busy_buttons : sequence of QPushButton
        Disabled while a job runs.
    notify : callable
        ``notify(level, text)``.
    """

    #: ``(status, detail)`` when a job ended: ``"ok"``, ``"cancelled"`` or ``"error"``.
    finished = Signal(str, object)
    #: ``(done, total)`` of each progress report shown (for a tab's own count of steps).
    stepped = Signal(int, int)

    def __init__(
        self,
        bar: QProgressBar | None = None,
        status: QLabel | None = None,
        cancel_button: QPushButton | None = None,
        busy_buttons=(),
        notify: Callable[[str, str], None] = notify,
        parent=None,
    ):
        super().__init__(parent)
        self.bar, self.status, self.cancel_button = bar, status, cancel_button
        self.busy_buttons = list(busy_buttons)
        self.notify = notify
        self.worker = None
        self._runner = None
        self._pbar = None
        self._job = 0
        self._closed = False
        if bar is not None:
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setFormat("%p%")
        if cancel_button is not None:
            cancel_button.setEnabled(False)
            cancel_button.clicked.connect(self.cancel)

    @property
    def running(self) -> bool:
        """True while a job runs."""
        return self._runner is not None

    def close(self) -> None:
        """The tab is going away: stop the running job and ignore its outcome."""
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
        self._close_progress()

    def start(self, title: str, fn: Callable, on_ok: Callable, cancellable: bool = True) -> bool:
        """Run ``fn(progress)`` in a worker thread; ``on_ok(result)`` back in the GUI thread.

        Parameters
        ----------
        title : str
            What runs (status line and progress bars).
        fn : callable
            ``fn(progress) -> result``, usually a core function with its inputs bound;
            ``progress(done, total)`` raises :class:`~napari_milna.core.jobs.Cancelled`
            after Cancel.
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
            self.notify("info", f"{title}: another step of this tab is still running.")
            return False
        from napari.qt.threading import thread_worker
        from napari.utils import progress

        runner = steps(fn)

        @thread_worker(start_thread=False)
        def job():
            try:
                result = yield from _throttled(runner)
            except Cancelled as exc:
                return "cancelled", str(exc)
            except MilnaInputError as exc:
                return "error", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported, never a crash of the viewer
                return "error", f"{title} failed: {type(exc).__name__}: {exc}"
            return "ok", result

        self._job += 1
        number = self._job
        self._runner = runner
        self._close_progress()
        self._pbar = progress(total=0, desc=title)
        self._set_busy(True, cancellable)
        if self.bar is not None:
            self.bar.setValue(0)
            self.bar.setFormat(f"%p%  {title}")
        if self.status is not None:
            self.status.setText(escape(f"{title} ..."))
        worker = job()
        worker.yielded.connect(lambda step: self._on_step(number, step))
        worker.returned.connect(lambda outcome: self._done(number, outcome, title, on_ok))
        self.worker = worker
        worker.start()
        return True

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress report."""
        if self._runner is not None:
            self._runner.cancel()
            if self.cancel_button is not None:
                self.cancel_button.setEnabled(False)
            if self.status is not None:
                self.status.setText("Cancelling ...")

    def _set_busy(self, busy: bool, cancellable: bool = False) -> None:
        for button in self.busy_buttons:
            button.setEnabled(not busy)
        if self.cancel_button is not None:
            self.cancel_button.setEnabled(busy and cancellable)

    def _close_progress(self) -> None:
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None

    def _on_step(self, number: int, step: Step) -> None:
        if self._closed or number != self._job or step.total <= 0:
            return
        self.stepped.emit(step.done, step.total)
        if self._pbar is not None:
            if self._pbar.total != step.total:
                self._pbar.total = step.total
            self._pbar.n = min(step.done, step.total)
            self._pbar.refresh()
        if self.bar is not None:
            try:
                self.bar.setValue(int(round(1000 * step.fraction)))
            except RuntimeError:  # the tab was closed
                self._closed = True

    def _done(self, number: int, outcome, title: str, on_ok: Callable) -> None:
        if number != self._job:
            return
        self._close_progress()
        if self._closed:
            return
        self._runner = None
        status, detail = outcome
        try:
            self._set_busy(False)
            if status == "ok":
                try:
                    on_ok(detail)
                    if self.bar is not None:
                        self.bar.setValue(1000)
                        self.bar.setFormat(f"%p%  {title}: done")
                except MilnaInputError as exc:
                    status, detail = "error", str(exc)
            if status != "ok" and self.bar is not None:
                self.bar.setValue(0)
                self.bar.setFormat("%p%")
            if status == "cancelled" and self.status is not None:
                self.status.setText(escape(f"Cancelled: {detail}; nothing was written."))
            elif status == "error":
                if self.status is not None:
                    self.status.setText(coloured(detail, ERROR_COLOUR))
                self.notify("error", detail)
        except RuntimeError:  # the tab was closed while the worker ran
            self._closed = True
            return
        self.finished.emit(status, detail)
