"""Helpers shared by the screenshot scripts in docs/ (run them under Xvfb)."""

from __future__ import annotations

from qtpy.QtCore import QEventLoop, QTimer


def settle(seconds: float) -> None:
    """Let Qt draw (and worker threads report back) for a while.

    A real event loop runs meanwhile: ``QApplication.processEvents`` alone never deletes
    the widgets napari hands to ``deleteLater`` (e.g. the dims sliders it replaces when a
    4D run opens), which then stay drawn over their successors in the screenshot.
    """
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def sample_in_panel(width: int = 1600, height: int = 1000, tab: str | None = None):
    """A shown viewer (``width`` x ``height``) with the milna panel and the sample study open.

    ``tab`` is brought to the front before the sample opens.

    Returns
    -------
    (napari.Viewer, MilnaPanel)
    """
    import napari

    from napari_milna.widgets.panel.panel import open_panel

    viewer = napari.Viewer(show=True)
    viewer.window.resize(width, height)
    panel = open_panel(viewer, tab)
    viewer.open_sample("napari-milna", "sample_study")
    return viewer, panel


def show_plane(viewer, plane: str, zoom: float, world_mm) -> None:
    """Show ``plane`` at ``zoom`` screen pixels per mm, centred on ``world_mm``.

    The mouse rests off the canvas, so that the status bar shows the cursor.
    """
    from qtpy.QtGui import QCursor

    from napari_milna._napari.compat import camera
    from napari_milna._napari.viewer_state import ViewerState

    state = ViewerState.of(viewer)
    state.set_plane(plane)
    camera(viewer).zoom = zoom
    QCursor.setPos(0, 0)
    viewer.mouse_over_canvas = False
    state.go_to_world(world_mm)


def save_window(viewer, out, seconds: float = 2.0) -> None:
    """Let the window settle for ``seconds``, then write a screenshot of it to ``out``."""
    import imageio.v3 as iio

    settle(seconds)
    iio.imwrite(out, viewer.screenshot(canvas_only=False, flash=False))
