"""Small shims over napari API differences between releases."""

from __future__ import annotations

import warnings


def camera(viewer):
    """The viewer's camera model (``viewer.scene.camera`` since napari 0.9)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def axes_overlay(viewer):
    """The viewer's axes overlay (``viewer.scene.overlays.axes`` since napari 0.9)."""
    scene = getattr(viewer, "scene", None)
    return scene.overlays.axes if scene is not None else viewer.axes


def qt_viewer(viewer):
    """napari's QtViewer of a viewer window (private in napari; None without a window)."""
    window = getattr(viewer, "window", None)
    if window is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return getattr(window, "_qt_viewer", None)
