"""Helpers shared by the screenshot scripts in docs/ (run them under Xvfb)."""

from __future__ import annotations

import time

from qtpy.QtWidgets import QApplication


def settle(seconds: float) -> None:
    """Let Qt draw (and worker threads report back) for a while."""
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.05)
