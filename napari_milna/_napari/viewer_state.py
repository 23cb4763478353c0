"""Per-viewer display state: display space, plane, neurological / radiological, layer placement.

One :class:`ViewerState` is attached to each napari viewer that shows
napari-milna layers. It places every layer by its affine in the current
:class:`~napari_milna.core.io.geometry.DisplaySpace`, switches to the voxel grid of a
reference image when oblique data arrives (FSLeyes' "display space"), resamples
for display only the layers napari could not slice (and says so), keeps the layer
stack in a sensible order and sets the dims order and camera orientation for
axial, coronal and sagittal views.

It also links napari's cursor (the dims point) to the study session's cursor in world
mm (:attr:`StudySession.cursor_mm <napari_milna._napari.session.StudySession.cursor_mm>`),
the one position every read-out shows: moving the dims point (a slider, a click, the
orthogonal views) moves the session cursor, and setting the session cursor moves the
dims point.
"""

from __future__ import annotations

import warnings

import numpy as np
from napari.layers import Labels
from napari.utils.notifications import show_info, show_warning
from psygnal import Signal

from ..core.io.geometry import DisplaySpace, Grid, Plane, plane_layout
from ..core.io.kinds import ImageInfo, ImageKind
from .compat import camera, set_dims_point
from .layers import (
    KIND_RANK,
    METADATA_KEY,
    LayerSource,
    RoiState,
    display_version,
    placement_kwargs,
    source_of,
)
from .per_viewer import OnePerViewer
from .per_viewer import unwrap_viewer as unwrap_viewer  # the widgets import it from here


class ViewerState(OnePerViewer):
    """Display state of one viewer. Get it with :meth:`of` (:meth:`existing`: if it has one)."""

    #: Emitted with a short description whenever space, plane or convention change.
    changed = Signal(str)

    def __init__(self, viewer):
        super().__init__(viewer)
        self.space = DisplaySpace.world()
        self.reference_grid: Grid | None = None
        self.plane: Plane = "axial"
        self.radiological = False
        self.session = None
        viewer.layers.events.inserted.connect(self._on_inserted)

    # ------------------------------------------------------------------ cursor
    def _attached(self) -> None:
        """Keep the dims point and the study session's cursor (world mm) in step."""
        from .session import StudySession  # the session module imports this one

        viewer = self.viewer
        self.session = StudySession.of(viewer)
        viewer.dims.events.point.connect(self._on_point)
        self.session.cursor_changed.connect(self._follow_cursor)
        self._sync_session()

    def _on_point(self, event=None) -> None:
        self._sync_session()

    def _sync_session(self) -> None:
        """Set the session cursor to the world position of the dims point."""
        viewer = self.viewer
        if viewer is not None and self.session is not None and viewer.dims.ndim >= 3:
            self.session.set_cursor(self.world_point(viewer.dims.point))

    def _follow_cursor(self, *args) -> None:
        """Move the dims point to the session cursor (when they differ)."""
        viewer = self.viewer
        if viewer is None or viewer.dims.ndim < 3:
            return
        world = self.session.cursor_mm
        if not np.allclose(self.world_point(viewer.dims.point), world, atol=1e-6):
            self._move_point(world)

    def _move_point(self, world_xyz) -> None:
        viewer = self.viewer
        point = list(viewer.dims.point)
        point[-3:] = self.display_point(world_xyz)
        set_dims_point(viewer.dims, point)

    # ------------------------------------------------------------------ layers
    def milna_layers(self) -> list:
        """Layers that carry a :class:`LayerSource`."""
        return [lay for lay in self.viewer.layers if source_of(lay) is not None]

    def _on_inserted(self, event) -> None:
        layer = event.value
        src = source_of(layer)
        if src is None:
            if isinstance(layer, Labels):
                self._adopt_new_labels(layer)
            return
        if src.is_run:
            src.source.run().start_indexing()
        if self.space.is_world and not src.grid.is_axis_aligned:
            keep = len(self.milna_layers()) > 1
            self.set_reference(src.grid, layer.name, announce=True, keep_cursor=keep)
        else:
            self.place(layer)
        self._restack(layer)
        self.apply_view(reset=len(self.milna_layers()) == 1)
        focus, src.focus_mm = src.focus_mm, None
        if focus is not None:
            self.go_to_world(focus)

    def _restack(self, layer) -> None:
        """Move ``layer`` below the first layer of a higher kind rank (runs at the bottom)."""
        src = source_of(layer)
        rank = KIND_RANK.get(src.info.kind, 1)
        layers = self.viewer.layers
        index = layers.index(layer)
        target = index
        for i, other in enumerate(layers):
            osrc = source_of(other)
            if other is layer or osrc is None:
                continue
            if KIND_RANK.get(osrc.info.kind, 1) > rank and i < index:
                target = i
                break
        if target != index:
            layers.move(index, target)

    def display_spacing(self) -> np.ndarray:
        """Voxel size of display grids for resampled layers (the reference's, else the finest)."""
        if self.reference_grid is not None and not self.space.is_world:
            return self.reference_grid.zooms
        grids = [source_of(lay).grid for lay in self.milna_layers()]
        return np.full(3, min(float(g.zooms.min()) for g in grids)) if grids else np.ones(3)

    def place(self, layer, force: bool = False) -> None:
        """Set a napari-milna layer's transform in the current space.

        Resamples for display only the layers napari could not slice (oblique to the
        display space), and says so. Does nothing when the layer is already placed in
        this space (the reader places new layers itself).
        """
        src = source_of(layer)
        if src is None or (src.placed_space is self.space and not force):
            return
        labels = isinstance(layer, Labels)
        was_resampled = src.resampled_for_display
        file_backed = src.source is not None
        if src.is_run:
            original = src.source.run()
        elif file_backed and not labels:
            original = np.nan_to_num(src.source.volume())
        elif was_resampled:
            # drawn or derived data: the copy on its own grid, kept while a display copy shows
            original = src.original_data
        else:
            original = np.asarray(layer.data)
        keeps_copy = not src.is_run and not (file_backed and not labels)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Non-orthogonal slicing")
            data, placement = display_version(
                src, original, self.space, self.display_spacing(), labels
            )
            if src.resampled_for_display:
                if keeps_copy:
                    src.original_data = original
                layer.data = data
                if labels:
                    # after the data: napari makes labels editable again on new data, and
                    # strokes on this display copy would be lost when the grid is shown again
                    layer.editable = False
                show_warning(
                    f"{layer.name} is oblique to the display space ({self.space.describe()}); "
                    "it is shown resampled onto the display grid, and the cursor panel reads "
                    "values from its own voxels."
                )
            elif was_resampled:
                layer.data = original
                src.original_data = None
                if labels:
                    layer.editable = True
            kwargs = placement_kwargs(placement, np.ndim(data))
            layer.affine = kwargs["affine"]
            layer.scale = kwargs["scale"]
            layer.translate = kwargs["translate"]
            layer.units = kwargs["units"]

    def prepare_for(self, grid: Grid, name: str) -> None:
        """Switch to ``grid``'s voxel space before an oblique image arrives in world mode."""
        if self.space.is_world and not grid.is_axis_aligned:
            self.set_reference(grid, name, announce=True, keep_cursor=bool(self.milna_layers()))

    def _adopt_new_labels(self, layer) -> None:
        """Give a labels layer made by napari's "new labels" the grid of its image layer.

        napari copies shape, scale, translate and affine from the selected image; the
        matching napari-milna layer is the labels layer's source grid, so the writer
        can keep that image's affine and header.
        """
        shape = tuple(layer.data.shape[-3:])
        for other in self.milna_layers():
            src = source_of(other)
            if isinstance(other, Labels) or tuple(other.data.shape[-3:]) != shape:
                continue
            if src.resampled_for_display:
                continue
            n = 3
            same = (
                np.allclose(np.asarray(layer.scale)[-n:], np.asarray(other.scale)[-n:])
                and np.allclose(np.asarray(layer.translate)[-n:], np.asarray(other.translate)[-n:])
                and np.allclose(
                    layer.affine.affine_matrix[-4:, -4:], other.affine.affine_matrix[-4:, -4:]
                )
            )
            if same:
                info = ImageInfo(
                    ImageKind.LABELS,
                    source="napari new labels",
                    label=f"labels on the grid of {other.name}",
                )
                layer.metadata[METADATA_KEY] = LayerSource(
                    grid=src.grid,
                    info=info,
                    source=None,
                    grid_source=src.source,
                    roi=RoiState(unsaved=True),
                )
                return

    # ------------------------------------------------------------------ space
    def set_reference(
        self, grid: Grid | None, name: str | None = None, announce=False, keep_cursor=True
    ) -> None:
        """Display in the voxel grid of ``grid`` (None: world mm) and re-place every layer.

        With ``keep_cursor`` the cursor stays at the same world position (the session's
        cursor); otherwise the session follows wherever napari puts the dims point.
        """
        world = self.session.cursor_mm.copy() if self.session is not None else None
        if grid is None:
            self.space = DisplaySpace.world()
            self.reference_grid = None
        else:
            self.space = DisplaySpace.of_reference(grid, name or "reference")
            self.reference_grid = grid
        for layer in self.milna_layers():
            self.place(layer, force=True)
        if announce:
            show_info(
                f"{name} is oblique ({grid.axcodes}); the viewer now shows its voxel grid. "
                "World mm are in the cursor panel."
            )
        self.apply_view(reset=True)
        viewer = self.viewer
        if keep_cursor and world is not None and viewer.dims.ndim >= 3:
            self._move_point(world)
        self._sync_session()
        self.changed.emit(self.space.describe())

    def world_point(self, display_point) -> np.ndarray:
        """World mm of a viewer position (the last three coordinates)."""
        return self.space.to_world(np.asarray(display_point, dtype=float)[-3:])

    def display_point(self, world_xyz) -> np.ndarray:
        """Viewer coordinates (spatial part) of a world position in mm."""
        return self.space.from_world(np.asarray(world_xyz, dtype=float))

    def go_to_world(self, world_xyz, center: bool = True) -> None:
        """Move the cursor to world mm ``world_xyz``: the session cursor and the dims point.

        Parameters
        ----------
        world_xyz : sequence of 3 float
            World position in mm.
        center : bool
            Also centre the 2D view on it (a click on the canvas does not).
        """
        viewer = self.viewer
        world = np.asarray(world_xyz, dtype=float)[-3:]
        if viewer.dims.ndim < 3:
            if self.session is not None:
                self.session.set_cursor(world)
            return
        self._move_point(world)
        self._sync_session()
        spatial = self.display_point(world)
        if center and viewer.dims.ndisplay == 2:
            middle = list(camera(viewer).center)
            order = list(viewer.dims.order)
            displayed = order[-2:]
            off = viewer.dims.ndim - 3
            middle[-2:] = [spatial[displayed[0] - off], spatial[displayed[1] - off]]
            camera(viewer).center = tuple(middle)

    # ------------------------------------------------------------------ views
    def set_plane(self, plane: Plane) -> None:
        """Show an axial, coronal or sagittal plane."""
        self.plane = plane
        self.apply_view(reset=True)
        self.changed.emit(plane)

    def set_radiological(self, radiological: bool) -> None:
        """Radiological (left on the right) or neurological (default) convention."""
        self.radiological = bool(radiological)
        self.apply_view()
        self.changed.emit("radiological" if radiological else "neurological")

    def layout(self):
        """The :class:`~napari_milna.core.io.geometry.PlaneLayout` currently shown."""
        return plane_layout(self.space.axcodes, self.plane, self.radiological)

    def apply_view(self, reset: bool = False) -> None:
        """Set dims order, axis labels and camera orientation for the current plane."""
        viewer = self.viewer
        if viewer is None or viewer.dims.ndim < 3:
            return
        lay = self.layout()
        off = viewer.dims.ndim - 3
        order = list(range(off)) + [off + lay.slice_axis, off + lay.row_axis, off + lay.col_axis]
        if viewer.dims.ndisplay == 2:
            viewer.dims.order = tuple(order)
            camera(viewer).orientation2d = (
                "up" if lay.row_up else "down",
                "right" if lay.col_right else "left",
            )
        if self.space.is_world:
            spatial = ("x (mm)", "y (mm)", "z (mm)")
        else:
            spatial = tuple(
                f"{c} ({self.space.reference} {a})" for c, a in zip("ijk", self.space.axcodes)
            )
        labels = (
            ("volume",) * off + spatial
            if off == 1
            else tuple(f"axis {i}" for i in range(off)) + spatial
        )
        viewer.dims.axis_labels = labels
        if reset:
            viewer.reset_view()
