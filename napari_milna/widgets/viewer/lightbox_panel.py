"""The Viewer tab's lightbox: a grid of brainstem slices, clickable, and saved as a figure.

Drawn by :func:`napari_milna.core.figures.lightbox_figure` from what the viewer
shows (:func:`.figure_scene.figure_scene`): every slice of the statistical map's grid
in a range (by default z -50 to 0 mm, the brainstem), the underlay, the thresholded
map in its colours, the session's ROI outline, the slice coordinates, the cursor's
crosshair on its slice. It follows the cursor, the threshold and the layers while it
is shown; a click on a slice moves the cursor there. "Save lightbox" writes the same
figure (full resolution) as PNG at the Figures form's DPI, SVG or PDF.
"""

from __future__ import annotations

from magicgui.widgets import ComboBox, Container, FloatSpinBox, PushButton, SpinBox
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState, unwrap_viewer
from ...core.figures import BRAINSTEM_RANGES_MM, default_pixel_mm, lightbox_figure
from ...core.figures.colorbar import DARK
from ..panel.links import connect_while, debounce_timer, restart
from ..panel.plot_style import save_figure_as
from ..panel.status import StatusLabel, escape
from .figure_controls import FigureControls, figure_title
from .figure_scene import StatLayerWatch, figure_scene

#: Panels drawn on screen are at most this many pixels across (finer only when saved).
SCREEN_PIXELS = 160
#: Width (screen pixels) of one slice in the panel when the columns are chosen for it.
SCREEN_PANEL_PX = 100
#: Default field of view (mm) around the cursor: the brainstem and its surroundings.
DEFAULT_FIELD_MM = 80.0


class LightboxPanel(QWidget):
    """Lightbox form, picture and "Save lightbox".

    Parameters
    ----------
    napari_viewer : napari.Viewer
    figures : FigureControls, optional
        The Figures form whose DPI and ROI-outline choice the lightbox uses.

    Attributes
    ----------
    form : magicgui Container
    canvas : FigureCanvasQTAgg
        The lightbox shown (``canvas.figure`` is the last
        :class:`~napari_milna.core.figures.SliceFigure` drawn).
    """

    def __init__(self, napari_viewer, figures: FigureControls | None = None, parent=None):
        super().__init__(parent)
        self.viewer = unwrap_viewer(napari_viewer)
        self.state = ViewerState.of(self.viewer)
        self.session = StudySession.of(self.viewer)
        self.figures = figures
        low, high = BRAINSTEM_RANGES_MM["axial"]
        self.plane = ComboBox(label="Plane", choices=("axial", "coronal", "sagittal"),
                              value="axial")
        self.low = FloatSpinBox(label="From (mm)", value=low, min=-300, max=300, step=1)
        self.high = FloatSpinBox(label="To (mm)", value=high, min=-300, max=300, step=1)
        self.every = SpinBox(label="Every n-th slice", value=1, min=1, max=20)
        self.field = FloatSpinBox(label="Field (mm)", value=DEFAULT_FIELD_MM, min=0, max=400,
                                  step=10)
        self.field.tooltip = "Width of each slice around the cursor (0: the whole slice)"
        self.columns = SpinBox(label="Columns", value=0, min=0, max=20)
        self.columns.tooltip = "Slices per row (0: chosen from the number of slices)"
        self.update_button = PushButton(text="Update")
        self.save_button = PushButton(text="Save lightbox...")
        self.save_button.tooltip = "PNG (at the Figures DPI), SVG or PDF of this lightbox"
        buttons = Container(widgets=[self.update_button, self.save_button],
                            layout="horizontal", labels=False)
        buttons.margins = (0, 0, 0, 0)
        self.form = Container(widgets=[self.plane, self.low, self.high, self.every, self.field,
                                       self.columns, buttons])
        self.form.margins = (0, 0, 0, 0)
        self.canvas = FigureCanvasQTAgg(Figure(figsize=(4.6, 2.0), facecolor=DARK["face"]))
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.canvas.setFixedHeight(200)
        self.canvas.setToolTip("Click a slice to move the cursor there")
        self.status = StatusLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form.native)
        layout.addWidget(self.canvas)
        layout.addWidget(self.status)
        self._dirty = True
        self._timer = debounce_timer(self, 250, self.redraw_if_shown)
        self.plane.changed.connect(self._on_plane)
        for widget in (self.low, self.high, self.every, self.field, self.columns):
            widget.changed.connect(self.schedule)
        self.update_button.changed.connect(lambda *a: self.redraw())
        self.save_button.changed.connect(lambda *a: self.save())
        self.watch = StatLayerWatch(self.viewer, self.schedule)
        connect_while(self, (self.session.cursor_changed, self.schedule),
                      (self.session.roi_changed, self.schedule))
        if figures is not None:
            figures.roi_outline.changed.connect(self.schedule)
        self.destroyed.connect(self._close_watch)

    def _close_watch(self, *args) -> None:
        self.watch.close()

    # ------------------------------------------------------------------ drawing
    def schedule(self, *args) -> None:
        """Redraw soon when shown (several changes in a row draw once)."""
        self._dirty = True
        restart(self._timer)

    def redraw_if_shown(self) -> None:
        """Redraw when the lightbox is on screen (else when it is next shown)."""
        if self.isVisible():
            self.redraw()

    def showEvent(self, event):  # noqa: N802 (Qt API)
        """Draw what changed while hidden."""
        super().showEvent(event)
        if self._dirty:
            self.schedule()

    def _on_plane(self, plane: str) -> None:
        low, high = BRAINSTEM_RANGES_MM[plane]
        with self.low.changed.blocked(), self.high.changed.blocked():
            self.low.value, self.high.value = low, high
        self.schedule()

    def _roi(self) -> bool:
        return self.figures.roi_outline.value if self.figures is not None else True

    def figure(self, screen_width_px: int | None = None):
        """The lightbox as a :class:`~napari_milna.core.figures.SliceFigure`.

        Parameters
        ----------
        screen_width_px : int, optional
            Draw it for the panel, this many pixels wide: coarser pixels, columns of
            about :data:`SCREEN_PANEL_PX`, no colour bar (the canvas shows it) and no
            title. Default: the full figure that is saved.

        Raises
        ------
        ValueError
            Nothing to draw, or no slice in the range (one sentence).
        """
        scene = figure_scene(self.viewer, roi=self._roi())
        size = self.field.value or None
        columns = self.columns.value or None
        options = {"title": figure_title(scene, self.plane.value)}
        if screen_width_px:
            columns = columns or max(2, int(screen_width_px // SCREEN_PANEL_PX))
            options = {
                "pixel_mm": max(default_pixel_mm(scene), (size or 200.0) / SCREEN_PIXELS),
                "width_in": screen_width_px / self.canvas.figure.dpi,
                "colorbar": False,
                "dpi": self.canvas.figure.dpi,
            }
        return lightbox_figure(
            scene, self.plane.value, (self.low.value, self.high.value), self.every.value,
            ncols=columns, center_mm=scene.cursor_mm if size else None, size_mm=size,
            **options,
        )

    def redraw(self) -> None:
        """Draw the lightbox into the panel's picture."""
        self._dirty = False
        dpi = self.canvas.figure.dpi
        try:
            figure = self.figure(screen_width_px=max(self.canvas.width(), 230))
        except ValueError as exc:
            self.status.setText(escape(f"{str(exc)[:1].upper()}{str(exc)[1:]}."))
            return
        self.status.setText("")
        figure.set_canvas(self.canvas)
        self.canvas.figure = figure
        # matplotlib keeps a canvas's callbacks on its figure: connect the new one
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.canvas.setFixedHeight(int(round(figure.get_figheight() * dpi)))
        self.canvas.draw_idle()

    # ------------------------------------------------------------------ actions
    def _on_click(self, event) -> None:
        panel = self.canvas.figure.panel_at(event.inaxes)
        if panel is None or event.xdata is None or event.button != 1:
            return
        self.state.go_to_world(panel.world_of(event.xdata, event.ydata))

    def save(self):
        """Ask for a PNG / SVG / PDF file and save the lightbox (full resolution) there."""
        try:
            figure = self.figure()
        except ValueError as exc:
            self.status.setText(escape(f"{str(exc)[:1].upper()}{str(exc)[1:]}."))
            return None
        dpi = self.figures.dpi.value if self.figures is not None else None
        name = f"lightbox_{self.plane.value}.png"
        return save_figure_as(self, figure, "Save lightbox", name, dpi=dpi or 300)
