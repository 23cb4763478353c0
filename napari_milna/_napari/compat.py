"""Small shims over napari API differences between releases."""

from __future__ import annotations

import warnings

import numpy as np


def camera(viewer):
    """The viewer's camera model (``viewer.scene.camera`` since napari 0.9)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def axes_overlay(viewer):
    """The viewer's axes overlay (``viewer.scene.overlays.axes`` since napari 0.9)."""
    scene = getattr(viewer, "scene", None)
    return scene.overlays.axes if scene is not None else viewer.axes


def scale_bar(viewer):
    """The viewer's scale bar overlay (``viewer.canvas.overlays.scale_bar`` since napari 0.9)."""
    canvas = getattr(viewer, "canvas", None)
    overlays = getattr(canvas, "overlays", None)
    return overlays.scale_bar if overlays is not None else viewer.scale_bar


def _window_part(viewer, name: str):
    """A private attribute of the viewer's window, napari's FutureWarning about it silenced."""
    window = getattr(viewer, "window", None)
    if window is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return getattr(window, name, None)


def qt_viewer(viewer):
    """napari's QtViewer of a viewer window (private in napari; None without a window)."""
    return _window_part(viewer, "_qt_viewer")


def layer_controls_dock(viewer):
    """napari's "layer controls" dock widget (private in napari; None without a window)."""
    qt = qt_viewer(viewer)
    return getattr(qt, "dockLayerControls", None) if qt is not None else None


def layer_list_dock(viewer):
    """napari's "layer list" dock widget (private in napari; None without a window)."""
    qt = qt_viewer(viewer)
    return getattr(qt, "dockLayerList", None) if qt is not None else None


def main_window(viewer):
    """The Qt main window of a viewer (private in napari; None without a window)."""
    return _window_part(viewer, "_qt_window")


def set_dims_point(dims, point) -> None:
    """Set napari's dims point to ``point`` exactly.

    napari's Qt sliders (also the hidden ones of the displayed axes) answer a new point
    by setting their integer step, which snaps every axis whose step changed to the
    slider grid. Setting the same point a second time leaves the sliders where they are,
    so the point stays where it was asked to be (napari still shows the nearest slice).
    """
    point = tuple(float(v) for v in point)
    dims.point = point
    if not np.allclose(dims.point, point, atol=1e-9):
        dims.point = point
