"""Connections that end with a tab's widget, and the tabs' debounce timer.

The viewer's layer list, its study session and its view state outlive the tabs; their
(napari / psygnal) signals must stop calling into a tab's widgets once Qt has deleted
them. Qt signals of objects that die with the tab are connected as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QTimer, SignalInstance


def disconnect(links) -> None:
    """Disconnect each ``(signal, slot)``; those already gone are skipped."""
    for signal, slot in links:
        try:
            signal.disconnect(slot)
        except (TypeError, ValueError, RuntimeError):
            pass


def connect_while(owner, *links) -> None:
    """Connect each ``(signal, slot)`` until the Qt object ``owner`` is destroyed."""
    kept = []
    for signal, slot in links:
        signal.connect(slot)
        if not isinstance(signal, SignalInstance):
            kept.append((signal, slot))
    if kept:
        owner.destroyed.connect(lambda *args: disconnect(kept))


def debounce_timer(owner, interval_ms: int, slot: Callable) -> QTimer:
    """A single-shot timer of ``owner`` that calls ``slot`` ``interval_ms`` after its last start.

    Several changes in a row (paint strokes, slider steps) then do the work once.
    """
    timer = QTimer(owner)
    timer.setSingleShot(True)
    timer.setInterval(int(interval_ms))
    timer.timeout.connect(slot)
    return timer


def restart(timer: QTimer) -> bool:
    """Start ``timer`` again (from now); False once Qt has deleted it with its widget."""
    try:
        timer.start()
    except RuntimeError:
        return False
    return True


__all__ = ["connect_while", "debounce_timer", "disconnect", "restart"]
