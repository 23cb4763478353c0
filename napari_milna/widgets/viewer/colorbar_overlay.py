"""The statistical map's colour bar in the canvas's top-right corner.

napari 0.9 has a colour bar overlay per layer, but it labels only the contrast limits:
it cannot mark the threshold, name the statistic and its df, or show that values
below the threshold are not drawn. This one is drawn by matplotlib
(:func:`napari_milna.core.figures.colorbar_figure`, the same drawing as in saved
figures) and shown as a picture over the canvas: two-sided for T and Z, one-sided for
F, the threshold marked, the title ``"T (df 14)"``. It follows the map's threshold,
df and visibility, and is on by default (the Viewer tab's "Colour bar" switches it).

With no statistical map shown, a result map of other values (a T2* map in ms, a tSNR
or R² map: :attr:`LayerSource.quantity`) gets the same bar of its colour map and
contrast limits, titled with the quantity and its unit.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from qtpy.QtCore import QEvent, Qt, Signal
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import QLabel

from ..._napari.layers import source_of, stat_ramp
from ...core.figures import colorbar_figure, stat_label, value_colorbar_figure
from ..panel.links import debounce_timer, restart
from .figure_scene import StatLayerWatch, shown_stat_layer, shown_value_layer
from .orientation_labels import OnCanvas

#: Face of the colour bar picture: translucent black over the canvas.
OVERLAY_STYLE = {"face": (0.0, 0.0, 0.0, 0.55), "text": "white", "hatch": "#888888"}
#: Size of the picture (inches at 100 dpi: pixels / 100).
OVERLAY_SIZE_IN = (1.0, 2.2)
_MARGIN = 8
_TOP = 34  # below the top orientation letter


def render_colorbar(ramp, label: str) -> QImage:
    """The colour bar of ``ramp`` as a Qt image (RGBA, translucent face)."""
    return _qimage(colorbar_figure(ramp, label, OVERLAY_SIZE_IN, dpi=100, style=OVERLAY_STYLE))


def render_value_bar(layer, label: str) -> QImage:
    """The colour bar of a layer's colour map over its contrast limits, as a Qt image."""
    colors = layer.colormap.map(np.linspace(0.0, 1.0, 256))
    return _qimage(value_colorbar_figure(colors, layer.contrast_limits, label, OVERLAY_SIZE_IN,
                                         dpi=100, style=OVERLAY_STYLE))


def _qimage(figure) -> QImage:
    agg = FigureCanvasAgg(figure)
    agg.draw()
    rgba = np.ascontiguousarray(np.asarray(agg.buffer_rgba()))
    height, width = rgba.shape[:2]
    image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    return image.copy()  # own the pixels (the buffer goes with the figure)


class CanvasColorBar(OnCanvas):
    """The colour bar over one viewer's canvas. Get it with :meth:`install` (created once).

    It is the one colour bar of the viewer: every form's "Colour bar" switch (the panel's,
    the Plugins-menu dock's) shows :attr:`enabled` and follows :attr:`enabled_changed`.

    Attributes
    ----------
    enabled : bool
        Shown when there is a statistical map (the switch).
    label : QLabel
        The picture over the canvas.
    layer : napari layer or None
        The statistical map shown (:func:`~.figure_scene.shown_stat_layer`), else the
        map of values (:func:`~.figure_scene.shown_value_layer`).
    text : str
        The title shown (``"T (df 14)"``), empty when hidden.
    """

    def __init__(self, viewer):
        super().__init__(viewer)
        viewer = self.viewer
        self.enabled = True
        self.layer = None
        self.text = ""
        self.label = QLabel(self.canvas) if self.canvas is not None else None
        if self.label is None:
            return
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.label.setStyleSheet("background: transparent;")
        self.label.hide()
        self._timer = debounce_timer(self, 30, self.refresh)
        self.canvas.installEventFilter(self)
        self.watch = StatLayerWatch(viewer, self.schedule)
        viewer.dims.events.ndisplay.connect(self.schedule)

    #: The switch changed (shown or not).
    enabled_changed = Signal(bool)

    def set_enabled(self, enabled: bool) -> None:
        """Show (when there is a statistical map) or hide the colour bar."""
        changed = bool(enabled) != self.enabled
        self.enabled = bool(enabled)
        self.refresh()
        if changed:
            self.enabled_changed.emit(self.enabled)

    def schedule(self, *args) -> None:
        """Redraw soon (several changes in a row draw once)."""
        restart(self._timer)  # False: the canvas is gone

    def refresh(self) -> None:
        """Draw the colour bar of the statistical map shown (or hide it)."""
        viewer = self.viewer
        if self.label is None or viewer is None:
            return
        layer = shown_stat_layer(viewer) if self.enabled else None
        values = shown_value_layer(viewer) if self.enabled and layer is None else None
        if (layer is None and values is None) or viewer.dims.ndisplay != 2:
            self.layer, self.text = None, ""
            self.label.hide()
            return
        if layer is not None:
            src = source_of(layer)
            ramp = stat_ramp(src.info.stat_type, src.threshold, src.vmax)
            self.layer, self.text = layer, stat_label(src.info.stat_type, src.df)
            image = render_colorbar(ramp, self.text)
        else:
            self.layer, self.text = values, source_of(values).quantity
            image = render_value_bar(values, self.text)
        self.label.setPixmap(QPixmap.fromImage(image))
        self.label.adjustSize()
        self._position()
        self.label.show()
        self.label.raise_()

    def _position(self) -> None:
        self.label.move(self.canvas.width() - self.label.width() - _MARGIN, _TOP)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        """Keep to the top-right corner when the canvas is resized."""
        if obj is self.canvas and event.type() == QEvent.Type.Resize and self.label.isVisible():
            self._position()
        return False
