"""ROI outlines along voxel edges, so that the statistical colours inside stay visible.

napari draws a Labels layer's ``contour`` one voxel wide: on a 2.5 mm grid the PAG
(2-3 voxels across) would look filled and hide the T map. :class:`RoiOutlines` draws
instead, for every ROI layer, the edges between its ROI voxels and the others in the
slice shown: thin lines (a few screen pixels) in each ROI's colour, in a display-only
napari Vectors layer (``"<name> outline"``) placed by the ROI layer's own transform.
Only the slice napari shows is outlined (the same voxel index napari's Labels slicing
takes), and it is redrawn when the slice, the plane or the ROIs change. The ROI layer
stays in place, transparent, so napari's brush, eraser, picker and status bar work
on it as before.

The outline layers carry no napari-milna metadata: no tab, the study session, the
cursor panel or the writer takes them for data, and their voxel steps are the ROI
layer's (the viewer's sliders do not change). "Filled" removes them and gives the
ROI layers back their opacity; in 3D the ROIs are shown filled.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Vectors
from qtpy.QtCore import QObject

from ..._napari.compat import camera
from ..._napari.layers import add_quietly
from ..._napari.roi_layers import ROI_OUTLINE
from ..panel.links import connect_while, debounce_timer, restart

#: Width of the outline lines (screen pixels).
LINE_WIDTH = 2.0
#: Opacity of ROI layers drawn filled when they had none of their own.
FILLED_OPACITY = 0.75
#: Most edge segments drawn in one slice; beyond, napari's voxel-wide contour is used.
MAX_SEGMENTS = 20000
_OBJECT_NAME = "milna-roi-outlines"
#: ROI layer events after which its outline is redrawn.
_EVENTS = ("data", "set_data", "paint", "labels_update", "colormap", "visible",
           "affine", "scale", "translate", "units", "name")


def _label_runs(values: np.ndarray):
    """(row, start, stop, label) of the runs of one non-zero value along each row."""
    padded = np.pad(values, ((0, 0), (1, 1)))
    rows, cols = np.nonzero(padded[:, 1:] != padded[:, :-1])  # boundaries, row-major
    same_row = rows[:-1] == rows[1:]
    rows, starts, stops = rows[:-1][same_row], cols[:-1][same_row], cols[1:][same_row]
    labels = padded[rows, starts + 1]
    keep = labels != 0
    return rows[keep], starts[keep], stops[keep], labels[keep]


def _edges_across_rows(plane: np.ndarray):
    """Segments of the edges between rows ``i - 1`` and ``i``, once for each labelled side."""
    padded = np.pad(plane, ((1, 1), (0, 0)))
    differs = padded[:-1] != padded[1:]
    out = []
    for side in (padded[:-1], padded[1:]):
        rows, lo, hi, labels = _label_runs(np.where(differs, side, 0))
        out.append((np.c_[rows - 0.5, lo - 0.5], np.c_[rows - 0.5, hi - 0.5], labels))
    return out


def edge_segments(plane: np.ndarray):
    """Straight runs of voxel edges around each label of a 2D label image.

    An edge lies between two neighbouring pixels of different labels (or a labelled
    pixel and the image's border); it is drawn for each labelled side, and collinear
    edges of one label are merged.

    Returns
    -------
    starts, ends : ndarray, shape (n, 2)
        Segment end points in pixel coordinates (pixel ``(i, j)`` spans
        ``i - 0.5 .. i + 0.5`` and ``j - 0.5 .. j + 0.5``).
    labels : ndarray, shape (n,)
        The label each segment outlines.
    """
    plane = np.asarray(plane)
    parts = _edges_across_rows(plane)
    parts += [(s[:, ::-1], e[:, ::-1], lab) for s, e, lab in _edges_across_rows(plane.T)]
    starts = np.concatenate([p[0] for p in parts]).reshape(-1, 2)
    ends = np.concatenate([p[1] for p in parts]).reshape(-1, 2)
    return starts, ends, np.concatenate([p[2] for p in parts])


def data_to_world_matrix(layer) -> np.ndarray:
    """The 4 x 4 matrix of a 3D layer's data -> world transform (napari's own mapping)."""
    origin = np.asarray(layer.data_to_world((0.0, 0.0, 0.0)), dtype=float)[-3:]
    matrix = np.eye(4)
    for axis in range(3):
        unit = np.zeros(3)
        unit[axis] = 1.0
        matrix[:3, axis] = np.asarray(layer.data_to_world(unit), dtype=float)[-3:] - origin
    matrix[:3, 3] = origin
    return matrix


def sliced_axis(matrix: np.ndarray, world_axis: int) -> int | None:
    """The data axis napari slices when it slices world axis ``world_axis``.

    None when the layer is not axis-aligned in the viewer (its slices are oblique).
    """
    linear = np.abs(matrix[:3, :3])
    axis = int(np.argmax(linear[world_axis]))
    others = [a for a in range(3) if a != world_axis]
    scale = linear.max()
    if linear[others, axis].max() > 1e-6 * scale or np.delete(
        linear[world_axis], axis
    ).max(initial=0) > 1e-6 * scale:
        return None
    return axis


class RoiOutlines(QObject):
    """Outline layers of a viewer's ROI layers (see the module docstring).

    Parameters
    ----------
    viewer : napari.Viewer
    shows_roi : callable
        True for the labels layers that are ROIs.
    """

    @classmethod
    def install(cls, viewer, shows_roi) -> RoiOutlines:
        """The outlines of ``viewer`` (made once, a child of its main window).

        One per viewer, whichever tab or dock asks first (the panel asks when it opens,
        so ROI layers are outlined before the ROIs tab is ever shown); they live as long
        as the window.
        """
        window = viewer.window._qt_window
        for child in window.findChildren(QObject, _OBJECT_NAME):
            if isinstance(child, cls):
                return child
        outlines = cls(viewer, shows_roi, window)
        outlines.setObjectName(_OBJECT_NAME)
        outlines.refresh()
        return outlines

    def __init__(self, viewer, shows_roi, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.shows_roi = shows_roi
        self.enabled = True
        self.companions: dict[int, Vectors] = {}
        self._watched: dict[int, object] = {}
        self._opacity: dict[int, float] = {}
        self._drawn: dict[int, tuple] = {}  # what each outline shows: (axis, index, version)
        self._version: dict[int, int] = {}
        self._declined: set[int] = set()  # ROI layers whose outline the user removed
        self._updating = False
        self._timer = debounce_timer(self, 10, self.refresh)
        events, dims = viewer.layers.events, viewer.dims.events
        connect_while(
            self,
            (events.inserted, self.schedule),
            (events.removed, self._on_removed),
            (dims.point, self.schedule),
            (dims.order, self.schedule),
            (dims.ndisplay, self.schedule),
            (camera(viewer).events.zoom, self._on_zoom),
        )

    # ------------------------------------------------------------------ public
    def set_enabled(self, enabled: bool) -> None:
        """Outlines (True) or filled ROIs (False), for every ROI layer."""
        self.enabled = bool(enabled)
        self._declined.clear()
        self.refresh()

    def line_width(self, matrix) -> float:
        """Outline width in data units that shows as :data:`LINE_WIDTH` screen pixels."""
        zoom = float(camera(self.viewer).zoom) or 1.0  # screen pixels per world unit
        voxel = float(np.sqrt((matrix[:3, :3] ** 2).sum(axis=0)).min()) or 1.0
        return LINE_WIDTH / (zoom * voxel)

    def _on_zoom(self, event=None) -> None:
        for key, outline in self.companions.items():
            roi = self._watched.get(key)
            if roi is not None and outline in self.viewer.layers:
                outline.edge_width = self.line_width(data_to_world_matrix(roi))

    def companion(self, layer):
        """The outline layer drawn for ROI layer ``layer`` (None when there is none)."""
        return self.companions.get(id(layer))

    def is_companion(self, layer) -> bool:
        """True for the outline layers made here."""
        return any(layer is c for c in self.companions.values())

    def schedule(self, *args) -> None:
        """Redraw soon (a burst of edits or slider steps gives one redraw)."""
        if self._updating:
            return
        restart(self._timer)  # False: the tab is gone; its outlines stay as they are

    def refresh(self) -> None:
        """Redraw every ROI layer's outline now; drop outlines of layers gone."""
        self._timer.stop()
        if self._updating:
            return
        self._updating = True
        try:
            rois = [lay for lay in self.viewer.layers
                    if self.shows_roi(lay) and id(lay) not in self._declined]
            for layer in rois:
                self._watch(layer)
                self._draw(layer)
            alive = {id(lay) for lay in rois}
            for key in [k for k in self.companions if k not in alive]:
                self._drop(key)
        finally:
            self._updating = False

    # ------------------------------------------------------------------ internals
    def _watch(self, layer) -> None:
        if id(layer) in self._watched:
            return
        self._watched[id(layer)] = layer
        for name in _EVENTS:
            getattr(layer.events, name).connect(self._on_roi_event)

    def _on_roi_event(self, event=None) -> None:
        source = getattr(event, "source", None)
        if source is not None:
            self._version[id(source)] = self._version.get(id(source), 0) + 1
        self.schedule()

    def _unwatch(self, key: int) -> None:
        layer = self._watched.pop(key, None)
        if layer is not None:
            for name in _EVENTS:
                getattr(layer.events, name).disconnect(self._on_roi_event)

    def _drop(self, key: int) -> None:
        outline = self.companions.pop(key, None)
        self._drawn.pop(key, None)
        if outline is not None and outline in self.viewer.layers:
            self.viewer.layers.remove(outline)

    def _fill(self, layer, contour: int = 0) -> None:
        """Show the ROI layer itself (filled, or with napari's voxel-wide contour)."""
        self._drop(id(layer))
        if layer.contour != contour:
            layer.contour = contour
        if layer.opacity == 0:
            layer.opacity = self._opacity.pop(id(layer), FILLED_OPACITY)

    def _slice(self, layer, matrix):
        """(data axis, index) of the slice napari shows of ``layer``; None when oblique."""
        dims = self.viewer.dims
        world_axis = dims.order[-3] - (dims.ndim - 3)
        axis = sliced_axis(matrix, world_axis)
        if axis is None:
            return None
        point = np.asarray(layer.world_to_data(dims.point[-3:]), dtype=float)
        return axis, int(np.round(point[axis]))  # napari's own rounding of the slice

    def _draw(self, layer) -> None:
        data = layer.data
        if not self.enabled or np.ndim(data) != 3 or self.viewer.dims.ndisplay != 2:
            self._fill(layer, ROI_OUTLINE if self.enabled and np.ndim(data) != 3 else 0)
            return
        key = id(layer)
        outline = self.companions.get(key)
        if not layer.visible:  # nothing to draw until it is shown again
            if outline is not None and outline.visible:
                outline.visible = False
            return
        matrix = data_to_world_matrix(layer)
        where = self._slice(layer, matrix)
        if where is None:
            self._fill(layer, ROI_OUTLINE)
            return
        state = (where, self._version.get(key, 0), matrix.tobytes())
        if outline is not None and outline in self.viewer.layers and self._drawn.get(key) == state:
            return
        axis, index = where
        vectors, colours = np.empty((0, 2, 3)), np.empty((0, 4))
        if 0 <= index < np.shape(data)[axis]:
            plane = np.asarray(data[(slice(None),) * axis + (index,)])
            starts, ends, labels = edge_segments(plane)
            if len(labels) > MAX_SEGMENTS:
                self._fill(layer, ROI_OUTLINE)
                return
            in_plane = [a for a in range(3) if a != axis]
            vectors = np.zeros((len(labels), 2, 3))
            vectors[:, 0, axis] = index
            vectors[:, 0, in_plane] = starts
            vectors[:, 1, in_plane] = ends - starts
            colours = layer.colormap.map(labels) if len(labels) else colours
        if outline is None or outline not in self.viewer.layers:
            outline = Vectors(
                vectors, name=f"{layer.name} outline", edge_width=self.line_width(matrix),
                length=1.0,
                vector_style="line", edge_color=colours if len(colours) else "white",
                affine=matrix, opacity=1.0, units=layer.units,
            )
            self.companions[key] = outline
            add_quietly(self.viewer, outline)
            index_of = self.viewer.layers.index
            self.viewer.layers.move(index_of(outline), index_of(layer) + 1)
        else:
            self._update(outline, layer, matrix, vectors, colours)
        self._drawn[key] = state
        if layer.contour != 0:
            layer.contour = 0
        if layer.opacity != 0:
            self._opacity[key] = float(layer.opacity)
            layer.opacity = 0.0

    def _update(self, outline, layer, matrix, vectors, colours) -> None:
        """New segments (and, when they changed, placement and look), drawn once."""
        with outline._block_refresh():  # one redraw for all of it, not one per property
            if not np.allclose(outline.affine.affine_matrix[-4:, -4:], matrix):
                outline.affine = matrix
            if tuple(outline.units) != tuple(layer.units):
                outline.units = layer.units
            width = self.line_width(matrix)
            if not np.isclose(outline.edge_width, width):
                outline.edge_width = width
            outline.data = vectors
            if len(colours):
                outline.edge_color = colours
            outline.name = f"{layer.name} outline"
        if outline.visible != layer.visible:
            outline.visible = layer.visible
        outline.refresh()

    def _on_removed(self, event) -> None:
        layer = event.value
        key = id(layer)
        if key in self._watched:
            self._unwatch(key)
            self._opacity.pop(key, None)
            self._declined.discard(key)
            self._drop(key)
            return
        for roi_key, outline in list(self.companions.items()):
            if outline is layer and not self._updating:
                # the user removed the outline: show that ROI layer filled
                del self.companions[roi_key]
                roi = self._watched.get(roi_key)
                if roi is not None and roi in self.viewer.layers:
                    roi.opacity = self._opacity.pop(roi_key, FILLED_OPACITY)
                    self._unwatch(roi_key)
                    self._declined.add(roi_key)


__all__ = [
    "LINE_WIDTH",
    "MAX_SEGMENTS",
    "RoiOutlines",
    "data_to_world_matrix",
    "edge_segments",
    "sliced_axis",
]
