"""The one job protocol of napari-milna: progress reports and cancellation.

Every long computation in :mod:`napari_milna.core` takes an optional
``progress(done, total)`` callback (:data:`Progress`) and calls it through
:func:`report` at each step. A caller stops the work by raising :class:`Cancelled`
from the callback (or by returning True from it); the computation then ends at its
next step with :class:`Cancelled`, having written nothing.

The CLI passes no callback. The panel runs the same functions through napari's
generator ``thread_worker``: :func:`steps` turns a callback-style computation into a
generator of :class:`Step` values that the worker yields to the GUI thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

#: A progress callback: ``progress(done, total)``. Raise :class:`Cancelled` (or return
#: True) to stop the computation at this step.
Progress = Callable[[int, int], Any]

R = TypeVar("R")


class Cancelled(Exception):
    """The user (or the caller) stopped a computation; nothing was written."""


def report(progress: Progress | None, done: int, total: int) -> None:
    """Report ``done`` of ``total`` steps to ``progress``.

    Parameters
    ----------
    progress : callable or None
        The caller's callback; None reports nothing.
    done, total : int
        Steps finished and steps in all.

    Raises
    ------
    Cancelled
        When the callback raised it or returned True.
    """
    if progress is not None and progress(int(done), int(total)) is True:
        raise Cancelled("cancelled")


def combined(progress: Progress | None, start: int, span: int, total: int) -> Progress | None:
    """A callback for one stage of a longer computation.

    The stage's ``(done, of)`` is mapped onto ``start .. start + span`` of ``total``,
    so a computation made of stages reports one rising count.

    Parameters
    ----------
    progress : callable or None
        The caller's callback.
    start, span, total : int
        Where the stage begins, how many steps it covers and the steps of the whole.
    """
    if progress is None:
        return None

    def stage(done: int, of: int) -> Any:
        fraction = min(max(done / of, 0.0), 1.0) if of > 0 else 1.0
        return progress(start + int(round(fraction * span)), total)

    return stage



def gather_futures(client, futures: list, progress: Progress | None = None) -> list:
    """The results of dask.distributed ``futures``, reporting each one that finishes.

    Parameters
    ----------
    client : distributed.Client
        The client the futures were submitted through.
    futures : list of distributed.Future
    progress : callable, optional
        Told ``(finished, len(futures))`` from 0 on.

    Returns
    -------
    list
        The futures' results, in the order of ``futures``.

    Raises
    ------
    Cancelled
        When ``progress`` stops the work; the futures not yet finished are cancelled
        (as on any other error).
    """
    from distributed import as_completed

    report(progress, 0, len(futures))
    try:
        for done, _ in enumerate(as_completed(futures), start=1):
            report(progress, done, len(futures))
    except BaseException:
        client.cancel(futures)
        raise
    return client.gather(futures)

@dataclass(frozen=True)
class Step:
    """One progress report of a running job: ``done`` of ``total`` steps."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Done as a fraction in [0, 1] (0 while the total is unknown)."""
        return min(self.done / self.total, 1.0) if self.total > 0 else 0.0


class StepRunner:
    """Runs ``fn(progress)`` in a helper thread and hands its reports out as :class:`Step`.

    Iterating yields the steps as the computation reports them; the iteration's
    return value (``StopIteration.value``, what ``yield from`` gives) is the
    computation's result, and an exception raised by it is raised again here.
    :meth:`cancel` makes the next report raise :class:`Cancelled` inside the
    computation; a report ``progress(done, total, False)`` only reports (a caller
    past the point where stopping would leave files half-written).

    Parameters
    ----------
    fn : callable
        ``fn(progress) -> result``, a callback-style core computation.
    poll : float
        Seconds between checks for a finished computation while it reports nothing.
    """

    def __init__(self, fn: Callable[[Progress], R], poll: float = 0.05):
        self._fn = fn
        self._poll = poll
        self._cancel = threading.Event()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()

    def cancel(self) -> None:
        """Stop the computation at its next progress report."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, cancellable: bool = True) -> None:
        if cancellable and self._cancel.is_set():
            raise Cancelled("cancelled")
        self._queue.put(("step", Step(int(done), int(total))))

    def _run(self) -> None:
        try:
            self._queue.put(("result", self._fn(self._progress)))
        except BaseException as exc:  # noqa: BLE001 - handed to the iterating thread
            self._queue.put(("error", exc))

    def __iter__(self) -> Generator[Step, None, Any]:
        thread = threading.Thread(target=self._run, name="milna-job", daemon=True)
        thread.start()
        try:
            while True:
                try:
                    kind, value = self._queue.get(timeout=self._poll)
                except queue.Empty:
                    continue
                if kind == "step":
                    yield value
                elif kind == "result":
                    return value
                else:
                    raise value
        finally:
            # closed early (the worker was stopped): the computation stops at its next report
            self._cancel.set()


def steps(fn: Callable[[Progress], R]) -> StepRunner:
    """A generator view of the callback-style computation ``fn(progress)``.

    Examples
    --------
    >>> def count(progress):
    ...     for i in range(3):
    ...         report(progress, i + 1, 3)
    ...     return "done"
    >>> runner = steps(count)
    >>> gen = iter(runner)
    >>> [s.done for s in gen] == [1, 2, 3]
    True
    """
    return StepRunner(fn)


__all__ = ["Cancelled", "Progress", "Step", "StepRunner", "combined", "report", "steps"]
