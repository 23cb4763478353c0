"""A crosshair through the viewer's cursor (the dims point), as FSLeyes draws it.

The overlay lives in scene (world) coordinates: it draws one line along each displayed
axis through the cursor, with a small gap at the cursor itself so the voxel under it
stays visible. It follows the cursor, the plane and any camera orientation.
"""

from __future__ import annotations

import numpy as np
from napari._vispy.overlays.base import ViewerOverlayMixin, VispySceneOverlay
from napari._vispy.utils.visual import overlay_to_visual
from napari.components.overlays.base import SceneOverlay
from vispy.scene import Line

#: Name of the overlay in ``viewer.scene.overlays``.
OVERLAY_NAME = "milna_cursor"
#: Crosshair colour (FSLeyes green) and the gap around the cursor in world units (mm).
CURSOR_COLOR = (0.0, 1.0, 0.0, 0.9)
GAP_MM = 3.0
REACH = 1e5


class CursorOverlay(SceneOverlay):
    """Model of the cursor crosshair."""


def crosshair_segments(point, displayed, gap: float = GAP_MM) -> np.ndarray:
    """Vertex pairs (vispy x, y order) of a gapped crosshair through ``point``.

    Parameters
    ----------
    point : sequence of float
        The viewer's dims point (world coordinates, all axes).
    displayed : sequence of int
        The two displayed axes, as ``viewer.dims.displayed`` (rows axis, columns axis).
    gap : float
        Half-width of the empty square around the cursor.

    Returns
    -------
    ndarray, shape (8, 2)
        Four segments: left, right, below and above the cursor.
    """
    row_axis, col_axis = displayed[-2], displayed[-1]
    x, y = float(point[col_axis]), float(point[row_axis])
    return np.array(
        [
            [x - REACH, y],
            [x - gap, y],
            [x + gap, y],
            [x + REACH, y],
            [x, y - REACH],
            [x, y - gap],
            [x, y + gap],
            [x, y + REACH],
        ]
    )


class VispyCursorOverlay(ViewerOverlayMixin, VispySceneOverlay):
    """Vispy side of :class:`CursorOverlay`."""

    def __init__(self, *, viewer, overlay, parent=None, **kwargs):
        node = Line(pos=np.zeros((8, 2)), connect="segments", color=CURSOR_COLOR, width=1)
        super().__init__(node=node, viewer=viewer, overlay=overlay, parent=parent, **kwargs)
        self.viewer.dims.events.point.connect(self._move)
        self.viewer.dims.events.order.connect(self._move)
        self.viewer.dims.events.ndisplay.connect(self._move)
        self.reset()
        self._move()

    def _move(self, event=None) -> None:
        dims = self.viewer.dims
        if dims.ndim < 2 or dims.ndisplay != 2:
            self.node.visible = False
            return
        self.node.visible = self.overlay.visible
        self.node.set_data(pos=crosshair_segments(dims.point, dims.displayed))

    def reset(self) -> None:
        """Redraw from the model."""
        super().reset()
        self._move()


overlay_to_visual[CursorOverlay] = VispyCursorOverlay


def _overlays(viewer_model):
    scene = getattr(viewer_model, "scene", None)
    return scene.overlays if scene is not None else viewer_model._overlays


def show_cursor(viewer_model, visible: bool = True) -> CursorOverlay:
    """Add (or show / hide) the crosshair on a viewer or viewer model."""
    overlays = _overlays(viewer_model)
    overlay = overlays.get(OVERLAY_NAME)
    if overlay is None:
        overlay = CursorOverlay(visible=visible)
        overlays[OVERLAY_NAME] = overlay
    else:
        overlay.visible = visible
    return overlay
