"""The Viewer tab's "Figures" form: colour bar, scale bar, ROI outline, Save figure.

"Save figure" draws the current view -- the plane and slice at the cursor, the part
of the plane the canvas shows, the visible underlay and statistical map in its
colours, the session's ROI as an outline, the cursor, orientation letters as the
viewer shows them (neurological or radiological), the slice coordinate, a 10 mm bar
and the colour bar -- with matplotlib from the layers' data
(:func:`napari_milna.core.figures.slice_figure`), not as a screenshot of the canvas:
the same picture at any DPI, SVG and PDF as vectors with their text editable, no
OpenGL needed, and each voxel's colour exactly the map's colour of its value (tests
invert the ramp on the file). A screenshot remains napari's File menu.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, Container, PushButton, SpinBox

from ..._napari.compat import scale_bar as scale_bar_overlay
from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState, unwrap_viewer
from ...core.figures import DEFAULT_DPI, slice_figure
from ...core.figures.planes import PLANE_AXES
from ..panel.plot_style import save_figure_as
from ..panel.status import notify
from .colorbar_overlay import CanvasColorBar
from .figure_scene import figure_scene, visible_field


def figure_title(scene, plane: str, slices: bool = True) -> str:
    """A figure's title: the statistical map's name and the slices' coordinate, in mm."""
    axis = "xyz"[PLANE_AXES[plane][0]]
    where = f"{plane} slice{'s' if slices else ''}, {axis} in mm (world)"
    return f"{scene.stat.name}; {where}" if scene.stat is not None else where.capitalize()


class FigureControls:
    """Colour bar and scale bar switches, ROI outline, DPI and "Save figure of the view".

    Parameters
    ----------
    napari_viewer : napari.Viewer

    Attributes
    ----------
    container : magicgui Container
        The form (``container.native`` is its Qt widget).
    colorbar : CanvasColorBar
    """

    def __init__(self, napari_viewer):
        self.viewer = unwrap_viewer(napari_viewer)
        self.state = ViewerState.of(self.viewer)
        self.session = StudySession.of(self.viewer)
        self.colorbar = CanvasColorBar.install(self.viewer)
        self.show_colorbar = CheckBox(text="Colour bar", value=self.colorbar.enabled)
        self.show_colorbar.tooltip = (
            "The statistical map's colour bar on the canvas: its name and df, the threshold "
            "marked, the part below it (not drawn) hatched"
        )
        shown = scale_bar_overlay(self.viewer).visible
        self.scale_bar = CheckBox(text="Scale bar (mm)", value=shown)
        self.roi_outline = CheckBox(text="ROI outline in figures", value=True)
        self.roi_outline.tooltip = "Outline the session's ROIs in saved figures and the lightbox"
        self.dpi = SpinBox(label="PNG resolution (dpi)", value=DEFAULT_DPI, min=72, max=1200,
                           step=50)
        self.save_view = PushButton(text="Save figure of the view...")
        self.save_view.tooltip = (
            "PNG, SVG or PDF of the plane at the cursor as the canvas shows it, drawn from the "
            "layers' data: letters, slice coordinate, colour bar, 10 mm bar, ROI outline"
        )
        switches = Container(widgets=[self.show_colorbar, self.scale_bar], layout="horizontal",
                             labels=False)
        switches.margins = (0, 0, 0, 0)
        self.container = Container(
            widgets=[switches, self.roi_outline, self.dpi, self.save_view], labels=True
        )
        self.container.margins = (0, 0, 0, 0)
        self.show_colorbar.changed.connect(self.colorbar.set_enabled)
        self.colorbar.enabled_changed.connect(self._colorbar_shown)
        self.scale_bar.changed.connect(self._on_scale_bar)
        scale_bar_overlay(self.viewer).events.visible.connect(self._scale_bar_shown)
        self.save_view.changed.connect(lambda *a: self.save_view_figure())

    @property
    def native(self):
        """The Qt widget of the form."""
        return self.container.native

    def _on_scale_bar(self, visible: bool) -> None:
        scale_bar_overlay(self.viewer).visible = bool(visible)

    def _scale_bar_shown(self, event=None) -> None:
        try:
            if self.scale_bar.value != scale_bar_overlay(self.viewer).visible:
                self.scale_bar.value = scale_bar_overlay(self.viewer).visible
        except RuntimeError:  # the form was closed
            scale_bar_overlay(self.viewer).events.visible.disconnect(self._scale_bar_shown)

    def _colorbar_shown(self, enabled: bool) -> None:
        try:
            if self.show_colorbar.value != enabled:
                self.show_colorbar.value = enabled
        except RuntimeError:  # the form was closed
            self.colorbar.enabled_changed.disconnect(self._colorbar_shown)

    def view_figure(self):
        """The current view as a :class:`~napari_milna.core.figures.SliceFigure`.

        Raises
        ------
        ValueError
            Nothing visible to draw (one sentence).
        """
        scene = figure_scene(self.viewer, roi=self.roi_outline.value)
        field = visible_field(self.viewer)
        cols, rows = field if field is not None else (None, None)
        return slice_figure(scene, self.state.plane, cols_range=cols, rows_range=rows,
                            title=figure_title(scene, self.state.plane, slices=False))

    def save_view_figure(self):
        """Ask for a PNG / SVG / PDF file and save the current view there (the path or None)."""
        try:
            figure = self.view_figure()
        except ValueError as exc:
            notify("error", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            return None
        if visible_field(self.viewer) is None and not self.state.space.is_world:
            notify("info", "The viewer shows an oblique grid: the figure shows the world-mm "
                           "plane through the cursor, over the whole map.")
        name = f"{self.state.plane}_view.png"
        return save_figure_as(self.native, figure, "Save figure", name, dpi=self.dpi.value)
