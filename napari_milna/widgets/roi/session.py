"""The state the ROI workbench panels share: reference, ROI layer, selected ROI, edits.

One :class:`RoiSession` per workbench dock. It knows the reference image layer (ROIs
live on its grid), the ROI labels layer being edited and the selected ROI (the
layer's ``selected_label``, which napari's brush also uses). It notices every edit
(napari paint strokes, undo / redo, data changes, the refine tools) by comparing
the labels with the last ones it saw, after a short debounce, and then emits
:attr:`RoiSession.labels_changed`. Messages to the user go through :meth:`notify`,
which shows a napari notification and keeps the text for the dock's status line.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QObject, QTimer, Signal

from ..._napari.layers import source_of
from ..._napari.roi_layers import (
    add_roi_layer,
    edit_blocker,
    is_roi_layer,
    reference_source,
    replace_label,
    roi_data,
    roi_grid,
    roi_names,
    roi_state,
    set_roi_names,
)
from ..._napari.viewer_state import ViewerState
from ...core.io.geometry import Grid
from ...core.io.kinds import ImageKind
from ...core.roi.refine import MapOnGrid, map_on_grid

#: Debounce of the edit detection (ms): a burst of paint events gives one update.
DEBOUNCE_MS = 50
_NOTIFY = {"info": show_info, "warning": show_warning, "error": show_error}


def is_guarded(layer) -> bool:
    """True for labels drawn in napari-milna (not read from a file): their edits are guarded."""
    return is_roi_layer(layer)


def mark_saved(layer, path=None) -> None:
    """Remember the layer's labels and names as saved (clears its unsaved state)."""
    state = roi_state(layer)
    state.saved_labels = roi_data(layer).copy()
    state.saved_names = roi_names(layer)
    state.unsaved = False
    if path is not None:
        state.saved_path = str(path)
    state.snapshot_path = state.saved_path


def is_unsaved(layer) -> bool:
    """True when an ROI layer holds edits that no file has.

    Compares the labels (and names) with those last saved; a layer never saved is
    unsaved when it holds any voxel. A save through napari's own "Save layer"
    (the napari-milna writer) counts as a save.
    """
    if not is_guarded(layer):
        return False
    state = roi_state(layer)
    saved_path = state.saved_path
    if saved_path and saved_path != state.snapshot_path and state.unsaved is False:
        mark_saved(layer)  # written by napari's writer since our last look
        return False
    data = roi_data(layer)
    snapshot = state.saved_labels
    if snapshot is None:
        changed = bool(data.any())
    else:
        changed = snapshot.shape != data.shape or not np.array_equal(snapshot, data)
        changed = changed or state.saved_names != roi_names(layer)
    state.unsaved = changed
    return changed


class RoiSession(QObject):
    """Reference image, ROI layer and selected ROI of one workbench; edit detection.

    Parameters
    ----------
    viewer : napari.Viewer
    """

    reference_changed = Signal()
    roi_layer_changed = Signal()
    #: ROI voxels or names changed (debounced for paint strokes, immediate for tools).
    labels_changed = Signal()
    selection_changed = Signal(int)
    #: (level, text) of the last notification.
    message = Signal(str, str)

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.state = ViewerState.of(viewer)
        self.reference_layer = None
        self.roi_layer = None
        self.messages: list[str] = []
        self._seen: np.ndarray | None = None
        self._seen_names: dict[int, str] = {}
        self._map_cache: dict[tuple, MapOnGrid] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.check_changes)
        viewer.layers.events.removed.connect(self._on_removed)

    # ------------------------------------------------------------------ messages
    def notify(self, level: str, text: str) -> None:
        """Show a napari notification (``info``, ``warning`` or ``error``) and keep it."""
        self.messages.append(text)
        del self.messages[:-50]
        _NOTIFY[level](text)
        self.message.emit(level, text)

    # ------------------------------------------------------------------ layers
    def image_layers(self, volumes_only: bool = False) -> list:
        """napari-milna image layers read from files (3D volumes only if asked)."""
        out = []
        for layer in self.viewer.layers:
            src = source_of(layer)
            if not isinstance(layer, Image) or src is None or src.source is None:
                continue
            if volumes_only and src.is_run:
                continue
            out.append(layer)
        return out

    def mask_layers(self) -> list:
        """Layers usable as masks: 3D images and labels read from files."""
        out = []
        for layer in self.viewer.layers:
            src = source_of(layer)
            if src is None or src.source is None or src.is_run:
                continue
            if isinstance(layer, (Image, Labels)):
                out.append(layer)
        return out

    def layers_of_kind(self, *kinds: ImageKind) -> list:
        """File layers (3D) of the given kinds."""
        return [lay for lay in self.mask_layers() if source_of(lay).info.kind in kinds]

    @property
    def reference_grid(self) -> Grid | None:
        """Grid of the reference image."""
        return source_of(self.reference_layer).grid if self.reference_layer is not None else None

    def roi_layers(self, grid: Grid | None = None) -> list:
        """ROI labels layers (on ``grid`` when given)."""
        out = []
        for layer in self.viewer.layers:
            if not is_roi_layer(layer):
                continue
            if grid is not None and not roi_grid(layer).matches(grid):
                continue
            out.append(layer)
        return out

    def set_reference(self, layer) -> None:
        """Work on the grid of ``layer``; show that grid when it is shown resampled."""
        if layer is self.reference_layer:
            return
        self.reference_layer = layer
        if layer is not None:
            self.ensure_editable_display(announce=True)
            if self.roi_layer is None or not roi_grid(self.roi_layer).matches(self.reference_grid):
                candidates = self.roi_layers(self.reference_grid)
                self.set_roi_layer(candidates[-1] if candidates else None)
        self.reference_changed.emit()

    def ensure_editable_display(self, announce: bool = True) -> bool:
        """Show the reference grid when the reference is oblique to the display space.

        ROIs are drawn on the reference's own voxels; a layer shown resampled for
        display cannot be painted, so the display space becomes the reference grid.

        Returns
        -------
        bool
            True when the display space was changed.
        """
        layer = self.reference_layer
        if layer is None:
            return False
        src = source_of(layer)
        if not src.resampled_for_display:
            return False
        self.state.set_reference(src.grid, layer.name)
        if announce:
            self.notify(
                "info",
                f"{layer.name} is oblique to the display space; the viewer now shows its voxel "
                "grid so that ROIs are painted on its own voxels (world mm stay in the cursor "
                "panel).",
            )
        return True

    def set_roi_layer(self, layer) -> None:
        """Edit ``layer`` (an ROI labels layer, or None)."""
        if layer is self.roi_layer:
            return
        old = self.roi_layer
        if old is not None:
            for name in ("paint", "data", "set_data", "labels_update"):
                getattr(old.events, name).disconnect(self._schedule_check)
            old.events.selected_label.disconnect(self._on_selected)
        self.roi_layer = layer
        self._seen = None
        if layer is not None:
            for name in ("paint", "data", "set_data", "labels_update"):
                getattr(layer.events, name).connect(self._schedule_check)
            layer.events.selected_label.connect(self._on_selected)
            self._seen = roi_data(layer).copy()
            self._seen_names = roi_names(layer)
        self.roi_layer_changed.emit()
        self.labels_changed.emit()

    def ensure_roi_layer(self):
        """The ROI layer on the reference grid, created empty when there is none."""
        if self.roi_layer is not None:
            return self.roi_layer
        ref = self.reference_layer
        src = source_of(ref)
        layer = add_roi_layer(self.viewer, src.grid, src.source, ref.name)
        self.set_roi_layer(layer)
        return layer

    def _on_removed(self, event) -> None:
        layer = event.value
        self._map_cache = {k: v for k, v in self._map_cache.items() if k[0] != id(layer)}
        if layer is self.roi_layer:
            self.set_roi_layer(None)
            candidates = self.roi_layers(self.reference_grid) if self.reference_layer else []
            if candidates:
                self.set_roi_layer(candidates[-1])
        if layer is self.reference_layer:
            self.reference_layer = None
            self.reference_changed.emit()

    # ------------------------------------------------------------------ ROIs
    @property
    def names(self) -> dict[int, str]:
        """Label value -> name of the current ROI layer."""
        return roi_names(self.roi_layer) if self.roi_layer is not None else {}

    @property
    def selected_label(self) -> int:
        """The selected ROI (the ROI layer's selected label); 0 without a layer."""
        return int(self.roi_layer.selected_label) if self.roi_layer is not None else 0

    def select(self, label: int) -> None:
        """Select ROI ``label`` (also napari's brush label)."""
        if self.roi_layer is not None:
            self.roi_layer.selected_label = int(label)

    def _on_selected(self, event=None) -> None:
        self.selection_changed.emit(self.selected_label)

    def roi_name(self, label: int) -> str:
        """Name of ``label`` (``label <k>`` when unnamed)."""
        return self.names.get(int(label), f"label {int(label)}")

    def labels(self) -> np.ndarray:
        """The ROI labels on their grid."""
        return roi_data(self.roi_layer)

    def set_names(self, names: dict[int, str]) -> None:
        """Replace the ROI names of the current layer."""
        set_roi_names(self.roi_layer, names)
        self.check_changes()

    def blocker(self) -> str | None:
        """Why ROI edits are impossible now (no reference / layer, display resampled)."""
        if self.reference_layer is None:
            return "choose a reference image first (the ROIs live on its grid)"
        if self.roi_layer is None:
            return "seed an ROI or add one to paint first"
        return edit_blocker(self.roi_layer)

    def target(self, what: str):
        """(label, current mask) of the selected ROI, or None after telling why not."""
        reason = self.blocker()
        label = self.selected_label
        if reason is None and label == 0:
            reason = "select an ROI in the facts table (label 0 is the background)"
        if reason is not None:
            self.notify("warning", f"{what}: {reason}.")
            return None
        return label, self.labels() == label

    def apply(
        self,
        label: int,
        mask: np.ndarray,
        what: str,
        allow_empty: bool = False,
        report: bool = True,
    ):
        """Make ROI ``label`` equal to ``mask`` as one undo step; refuse an empty result.

        Returns
        -------
        dict or None
            Counts from :func:`~napari_milna._napari.roi_layers.replace_label`; None when refused.
        """
        name = self.roi_name(label)
        if not allow_empty and not np.any(mask):
            self.notify(
                "warning",
                f"{what} would leave {name} empty in {self.roi_layer.name}; nothing changed "
                "(delete the ROI explicitly if that is what you want).",
            )
            return None
        counts = replace_label(self.roi_layer, label, mask)
        text = f"{what}: {name} +{counts['n_added']} / -{counts['n_removed']} voxels"
        if counts["n_kept_other"]:
            text += f"; {counts['n_kept_other']} voxels of other ROIs left to them"
        if report:
            self.notify("info", text + ".")
        self.check_changes()
        return counts

    # ------------------------------------------------------------------ maps
    def values_of(self, layer) -> tuple[np.ndarray, Grid]:
        """Voxel values of a 3D file layer on its own grid (not the display copy)."""
        src = source_of(layer)
        if isinstance(layer, Labels):
            return np.asarray(src.source.volume()), src.grid
        return src.source.volume(), src.grid

    def on_roi_grid(self, layer, order: int = 1) -> MapOnGrid:
        """Values of ``layer`` on the ROI grid: as is, or resampled explicitly (and said)."""
        grid = self.reference_grid if self.roi_layer is None else roi_grid(self.roi_layer)
        key = (id(layer), order, grid.shape, grid.affine.tobytes())
        cached = self._map_cache.get(key)
        if cached is None:
            data, data_grid = self.values_of(layer)
            cached = map_on_grid(data, data_grid, grid, order=order, name=layer.name)
            self._map_cache[key] = cached
        return cached

    # ------------------------------------------------------------------ edits
    def _schedule_check(self, event=None) -> None:
        self._timer.start()

    def check_changes(self) -> bool:
        """Emit :attr:`labels_changed` when the ROI labels or names differ from the last seen.

        Returns
        -------
        bool
            True when something changed.
        """
        self._timer.stop()
        layer = self.roi_layer
        if layer is None:
            return False
        data = roi_data(layer)
        names = roi_names(layer)
        same = (
            self._seen is not None
            and self._seen.shape == data.shape
            and np.array_equal(self._seen, data)
            and names == self._seen_names
        )
        if same:
            return False
        self._seen = data.copy()
        self._seen_names = names
        is_unsaved(layer)
        self.labels_changed.emit()
        return True

    def undo(self) -> None:
        """Undo the last edit of the ROI layer (napari's history)."""
        if self.roi_layer is not None:
            self.roi_layer.undo()
            self.check_changes()

    def redo(self) -> None:
        """Redo the last undone edit."""
        if self.roi_layer is not None:
            self.roi_layer.redo()
            self.check_changes()

    def new_layer(self):
        """Start a new, empty ROI layer on the reference grid."""
        if self.reference_layer is None:
            self.notify("warning", "New ROI layer: choose a reference image first.")
            return None
        self.set_roi_layer(None)
        return self.ensure_roi_layer()


def is_workbench_layer(layer) -> bool:
    """True for layers made by the ROI workbench."""
    src = source_of(layer)
    return src is not None and src.roi is not None and src.roi.workbench


__all__ = [
    "DEBOUNCE_MS",
    "RoiSession",
    "is_guarded",
    "is_unsaved",
    "is_workbench_layer",
    "mark_saved",
    "reference_source",
]
