"""napari's status bar shows the study session's cursor when the mouse is not over the canvas.

While the mouse moves over the canvas, napari's status bar says what is under the
mouse (napari's own read-out). Otherwise -- after "Go to", a click, a slider, a peak
in a table, a plane switch -- it shows the session cursor, in the words of the cursor
panel, with the value of the statistical map (or the selected layer) there and the
session atlas's label.
"""

from __future__ import annotations

from ..._napari.layers import source_of
from ..._napari.per_viewer import OnePerViewer
from ..._napari.session import StudySession
from .atlas_choice import atlas_text
from .cursor_panel import format_world, readout_text, voxel_value


def cursor_status_text(viewer, world_xyz) -> str:
    """``"cursor x 0.5  y -31.0  z -9.0 mm | <map>: 1.49 | atlas: Brain-Stem 92%"``."""
    text = f"cursor {format_world(world_xyz)}"
    session = StudySession.of(viewer)
    atlas = f" | {atlas_text(session, world_xyz)}" if session.atlas is not None else ""
    layer = viewer.layers.selection.active
    if source_of(layer) is None or source_of(layer).atlas is not None:
        layer = session.stat_map
    if source_of(layer) is None:
        return text + atlas
    ijk, value = voxel_value(viewer, layer, world_xyz)
    if ijk is None:
        return f"{text} | {layer.name}: outside{atlas}"
    return f"{text} | {layer.name}: {readout_text(ijk, value)}{atlas}"


class CursorStatus(OnePerViewer):
    """Writes the session cursor into napari's status bar. One per viewer: :meth:`install`."""

    def __init__(self, viewer):
        super().__init__(viewer)
        self.session = StudySession.of(viewer)
        self.session.cursor_changed.connect(self.show)
        self.session.stat_map_changed.connect(self.show)
        self.session.atlas_changed.connect(self.show)
        viewer.events.mouse_over_canvas.connect(self._on_mouse_over)
        viewer.layers.selection.events.active.connect(self.show)

    @classmethod
    def install(cls, viewer) -> CursorStatus:
        """The status writer of ``viewer`` (created once)."""
        return cls.of(viewer)

    def _on_mouse_over(self, event=None) -> None:
        viewer = self.viewer
        if viewer is not None and not viewer.mouse_over_canvas:
            self.show()

    def show(self, *args) -> None:
        """Put the cursor into the status bar unless the mouse is over the canvas."""
        viewer = self.viewer
        if viewer is None or viewer.mouse_over_canvas or viewer.dims.ndim < 3:
            return
        viewer.status = cursor_status_text(viewer, self.session.cursor_mm)
