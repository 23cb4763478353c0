"""What the viewer shows, as a :class:`~napari_milna.core.figures.FigureScene`.

Figures are drawn by matplotlib from the layers' data on their own grids (not from a
screenshot of the canvas): the underlay is the lowest visible anatomical layer (a
run shows its current volume), the statistical map is the one the colour bar shows
(the session's map when visible, else the top visible one) in the layer's own ramp
(threshold, top, sidedness), the ROI outline is the session's ROI layer, and the
cursor and the neurological / radiological convention are the viewer's.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels

from ..._napari.compat import camera, qt_viewer
from ..._napari.layers import grid_data, source_of, stat_ramp
from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState, unwrap_viewer
from ...core.figures import FigureScene, RoiOutline, StatOverlay, Underlay
from ...core.figures.planes import PLANE_AXES
from ...core.io.kinds import ImageKind

#: Layer kinds that are never an underlay (overlays drawn over one).
NOT_UNDERLAY = {
    ImageKind.STAT, ImageKind.MASK, ImageKind.LABELS, ImageKind.CSF, ImageKind.PROBABILITY,
}


def shown_stat_layer(viewer):
    """The statistical map figures and the colour bar show, or None.

    The session's map when it is visible, else the top visible statistical map.
    """
    viewer = unwrap_viewer(viewer)
    session = StudySession.of(viewer)
    stats = [
        lay for lay in session.stat_maps() if lay.visible
    ] + [
        lay for lay in viewer.layers
        if isinstance(lay, Image) and lay.visible and (s := source_of(lay)) is not None
        and s.info.kind == ImageKind.STAT and not s.is_run and s.result_of is not None
    ]
    if session.stat_map is not None and session.stat_map in stats:
        return session.stat_map
    ordered = [lay for lay in viewer.layers if lay in stats]
    return ordered[-1] if ordered else None


def shown_value_layer(viewer):
    """The top visible result map of values that is not a statistic (T2*, tSNR), or None.

    Such a map says what its values are in :attr:`LayerSource.quantity`.
    """
    shown = [lay for lay in unwrap_viewer(viewer).layers
             if isinstance(lay, Image) and lay.visible and (s := source_of(lay)) is not None
             and s.quantity]
    return shown[-1] if shown else None


def underlay_layer(viewer):
    """The lowest visible anatomical image (or run) of napari-milna, or None."""
    for layer in unwrap_viewer(viewer).layers:
        src = source_of(layer)
        if (isinstance(layer, Image) and layer.visible and src is not None
                and src.info.kind not in NOT_UNDERLAY):
            return layer
    return None


def own_grid_data(layer, volume: int = 0) -> np.ndarray:
    """A layer's values on its own grid (a file's own voxels, NaN kept; a run's ``volume``)."""
    src = source_of(layer)
    if src.source is not None:
        if src.is_run:
            return np.asarray(src.source.run().volume(volume))
        return np.asarray(src.source.volume())
    return grid_data(layer)


def stat_overlay(layer) -> StatOverlay:
    """A statistical map layer as a :class:`StatOverlay` in its current ramp."""
    src = source_of(layer)
    stat_type = src.info.stat_type
    return StatOverlay(
        data=own_grid_data(layer),
        grid=src.grid,
        ramp=stat_ramp(stat_type, src.threshold, src.vmax),
        stat_type=stat_type,
        df=src.df,
        name=layer.name,
        opacity=float(layer.opacity),
    )


def underlay(layer, viewer) -> Underlay:
    """An image layer as a grey :class:`Underlay` at its contrast limits."""
    src = source_of(layer)
    volume = 0
    if src.is_run:
        volume = int(round(unwrap_viewer(viewer).dims.point[0]))
    limits = tuple(float(v) for v in layer.contrast_limits)
    return Underlay(own_grid_data(layer, volume), src.grid, limits, layer.name)


def roi_outline(layer) -> RoiOutline | None:
    """A labels layer's ROIs as outlines in the layer's colours (None if it has none)."""
    src = source_of(layer)
    if src is None or not isinstance(layer, Labels):
        return None
    labels = np.asarray(grid_data(layer))
    if labels.ndim != 3:
        return None
    values = [int(v) for v in np.unique(labels) if v != 0]
    if not values:
        return None
    colours = {v: tuple(float(c) for c in np.asarray(layer.get_color(v))[:3]) for v in values}
    names = dict(src.roi.names) if src.roi is not None else {}
    return RoiOutline(labels, src.grid, colours, names)


def figure_scene(viewer, roi: bool = True) -> FigureScene:
    """The viewer's underlay, statistical map, ROI outline, cursor and convention.

    Parameters
    ----------
    viewer : napari.Viewer
    roi : bool
        Outline the session's ROI layer (when there is one).

    Raises
    ------
    ValueError
        Nothing to draw (no visible image or statistical map), in one sentence.
    """
    viewer = unwrap_viewer(viewer)
    session = StudySession.of(viewer)
    state = ViewerState.of(viewer)
    stat_layer = shown_stat_layer(viewer)
    under = underlay_layer(viewer)
    outline = None
    if roi and session.roi_layer is not None and session.roi_layer in viewer.layers:
        outline = roi_outline(session.roi_layer)
    if stat_layer is None and under is None:
        raise ValueError("show an image or a statistical map to make a figure of it")
    return FigureScene(
        underlay=underlay(under, viewer) if under is not None else None,
        stat=stat_overlay(stat_layer) if stat_layer is not None else None,
        roi=outline,
        cursor_mm=tuple(float(v) for v in session.cursor_mm),
        radiological=state.radiological,
    )


def visible_field(viewer):
    """World mm ranges (columns, rows) of the plane the canvas shows, or None.

    From napari's camera (centre and zoom) and the canvas size, when the viewer shows
    world mm in 2D; None otherwise (3D, or the voxel grid of an oblique reference).
    """
    viewer = unwrap_viewer(viewer)
    state = ViewerState.of(viewer)
    qt = qt_viewer(viewer)
    canvas = getattr(getattr(qt, "canvas", None), "native", None)
    if canvas is None or viewer.dims.ndisplay != 2 or not state.space.is_world:
        return None
    cam = camera(viewer)
    zoom = float(cam.zoom)
    if not zoom > 0:
        return None
    width, height = canvas.width() / zoom, canvas.height() / zoom
    row_centre, col_centre = (float(v) for v in list(cam.center)[-2:])
    _, row_axis, col_axis = PLANE_AXES[state.plane]
    off = viewer.dims.ndim - 3
    displayed = [axis - off for axis in viewer.dims.displayed]
    if displayed != [row_axis, col_axis]:
        return None
    cols = (col_centre - width / 2, col_centre + width / 2)
    rows = (row_centre - height / 2, row_centre + height / 2)
    return cols, rows


class StatLayerWatch:
    """Calls ``callback`` whenever what a figure of the viewer shows may have changed.

    The statistical maps' (and maps of values') colour map, limits, visibility and name
    (a new threshold or df sets the colour map), layers added, removed or moved, and the
    session's choice of map. Call :meth:`close` to stop.
    """

    _LAYER_EVENTS = ("colormap", "contrast_limits", "visible", "name", "opacity")

    def __init__(self, viewer, callback):
        self._viewer = unwrap_viewer(viewer)
        self.callback = callback
        self._watched: list = []
        self._session = StudySession.of(self._viewer)
        self._session.stat_map_changed.connect(self._changed)
        self._list_events = (self._viewer.layers.events.inserted,
                             self._viewer.layers.events.removed,
                             self._viewer.layers.events.moved)
        for event in self._list_events:
            event.connect(self._rewire)
        self._rewire()

    def _changed(self, *args) -> None:
        self.callback()

    def _rewire(self, *args) -> None:
        self._unwire()
        for layer in self._viewer.layers:
            src = source_of(layer)
            if src is not None and (src.info.kind == ImageKind.STAT and not src.is_run
                                    or src.quantity):
                for name in self._LAYER_EVENTS:
                    getattr(layer.events, name).connect(self._changed)
                self._watched.append(layer)
        self.callback()

    def _unwire(self) -> None:
        for layer in self._watched:
            for name in self._LAYER_EVENTS:
                getattr(layer.events, name).disconnect(self._changed)
        self._watched = []

    def close(self) -> None:
        """Stop watching."""
        self._unwire()
        self._session.stat_map_changed.disconnect(self._changed)
        for event in self._list_events:
            event.disconnect(self._rewire)
