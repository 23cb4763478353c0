"""How statistical maps are drawn: nearest-neighbour voxels (default) or linear, for display only.

napari interpolates the displayed texture only: the layer's data, the cursor read-out
(which reads the map's own voxels), the SVC and every table keep the voxel values.
One choice per viewer, applied to every statistical map there and to maps opened later.
"""

from __future__ import annotations

import weakref

from qtpy.QtWidgets import QComboBox

from ..._napari.viewer_state import unwrap_viewer
from .stat_threshold import stat_layers

#: napari interpolation -> text of the choice.
INTERPOLATIONS = {"nearest": "nearest (voxels)", "linear": "linear (display only)"}
_MODES: dict[int, str] = {}
_LINKED: dict[int, weakref.ref] = {}


def stat_interpolation(viewer) -> str:
    """The viewer's display interpolation of statistical maps (``"nearest"`` by default)."""
    return _MODES.get(id(unwrap_viewer(viewer)), "nearest")


def set_stat_interpolation(viewer, mode: str) -> None:
    """Draw every statistical map of ``viewer`` with ``mode`` (``"nearest"`` / ``"linear"``).

    Only napari's display changes (``interpolation2d`` / ``interpolation3d``); the data
    are untouched.
    """
    if mode not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {tuple(INTERPOLATIONS)}, got {mode!r}")
    viewer = unwrap_viewer(viewer)
    _MODES[id(viewer)] = mode
    _link(viewer)
    for layer in stat_layers(viewer):
        _apply(layer, mode)


def _apply(layer, mode: str) -> None:
    if getattr(layer, "interpolation2d", mode) != mode:
        layer.interpolation2d = mode
    if getattr(layer, "interpolation3d", mode) != mode:
        layer.interpolation3d = mode


def _link(viewer) -> None:
    """Maps added later take the viewer's choice (connected once per viewer)."""
    key = id(viewer)
    if key in _LINKED and _LINKED[key]() is viewer:
        return
    ref = _LINKED[key] = weakref.ref(viewer)

    def on_inserted(event):
        v = ref()
        if v is not None and event.value in stat_layers(v):
            _apply(event.value, stat_interpolation(v))

    viewer.layers.events.inserted.connect(on_inserted)
    weakref.finalize(viewer, _MODES.pop, key, None)
    weakref.finalize(viewer, _LINKED.pop, key, None)


class StatInterpolationChoice(QComboBox):
    """Nearest (voxels) or linear (display only) drawing of the viewer's statistical maps."""

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        for mode, text in INTERPOLATIONS.items():
            self.addItem(text, mode)
        self.setCurrentIndex(self.findData(stat_interpolation(viewer)))
        self.setToolTip("How the map is drawn between voxel centres; values, the read-out "
                        "and the SVC always use the voxels themselves")
        self.currentIndexChanged.connect(self._on_changed)

    def _on_changed(self, index: int) -> None:
        set_stat_interpolation(self.viewer, self.itemData(index))


__all__ = ["INTERPOLATIONS", "StatInterpolationChoice", "set_stat_interpolation",
           "stat_interpolation"]
