"""Connections that end with the ROIs tab.

The viewer's layer list, its study session and its view state outlive the tab; their
(napari / psygnal) signals must stop calling into the tab's widgets once Qt has
deleted them. Qt signals of objects that die with the tab are connected as they are.
"""

from __future__ import annotations

from qtpy.QtCore import SignalInstance


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


__all__ = ["connect_while", "disconnect"]
