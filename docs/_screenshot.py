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


def sample_in_panel(width: int = 1600, height: int = 1000):
    """A shown viewer (``width`` x ``height``) with the milna panel and the sample study open.

    Returns
    -------
    (napari.Viewer, MilnaPanel)
    """
    import napari

    from napari_milna.widgets.panel.panel import open_panel

    viewer = napari.Viewer(show=True)
    viewer.window.resize(width, height)
    panel = open_panel(viewer)
    viewer.open_sample("napari-milna", "sample_study")
    return viewer, panel
