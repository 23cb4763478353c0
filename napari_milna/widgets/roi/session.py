"""What only the ROI workbench keeps, over the viewer's study session.

The viewer's :class:`~napari_milna._napari.session.StudySession` holds what the user
has chosen: the ROI in use (layer + label, what the SVC, QC and Crossover tabs test),
the statistical map and the masks. One :class:`RoiSession` per workbench keeps the rest:

* the **reference** image whose grid ROIs are drawn on. It follows the session (an
  image on the grid of the ROI layer shown, else the session's statistical map, else
  a run or any image) until the user picks another one in the tab;
* the **ROI layer shown** (facts table, seeding, tools): the session's ROI layer
  whenever the session's ROI changes, so a choice made in another tab shows here. A
  layer the workbench makes or opens while the session uses an ROI elsewhere is shown
  without taking the session over;
* **edit detection**: every edit (napari paint strokes, undo / redo, data changes,
  the refine tools) is noticed by comparing the labels with the last ones seen, after
  a short debounce, and announced by :attr:`RoiSession.labels_changed`;
* the **target** of the tools: the selected ROI (the layer's ``selected_label``, the
  brush's label too).

Selecting an ROI (a row of the facts table, the ROI picker, napari's selected label
of the ROI layer) is a choice: it goes to the session (``StudySession.set_roi``). New
ROIs (seeded, added, opened) become the session's ROI only when it has none.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from napari.layers import Image, Labels
from qtpy.QtCore import QObject, Signal

from ..._napari.layers import source_of
from ..._napari.roi_layers import (
    add_roi_layer,
    edit_blocker,
    is_roi_layer,
    replace_label,
    roi_data,
    roi_grid,
    roi_names,
    roi_state,
    set_roi_names,
)
from ..._napari.session import StudySession, roi_name
from ..._napari.viewer_state import ViewerState
from ...core.io.geometry import Grid
from ...core.io.kinds import ImageKind
from ...core.roi.refine import MapOnGrid, exclude_csf, map_on_grid
from ..panel.links import connect_while, debounce_timer
from ..panel.status import notify
from .outlines import RoiOutlines

#: Debounce of the edit detection (ms): a burst of paint events gives one update.
DEBOUNCE_MS = 50
#: Layer events that may change ROI voxels.
_EDIT_EVENTS = ("paint", "data", "set_data", "labels_update")


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


def shows_roi(layer) -> bool:
    """True for the layers the outline setting applies to: ROI layers made or adopted here.

    ROIs seeded, painted, resampled or opened with "Open ROIs..." (and napari's "new
    labels" on a napari-milna grid); label images and masks the reader shows (an atlas,
    a brain mask) keep their own display.
    """
    src = source_of(layer)
    return is_roi_layer(layer) and src.result_of is None


def describe_roi(layer, label: int) -> str:
    """``"PAG (label 1 of ROIs on spmT_0001)"``; ``"no ROI"`` without one."""
    if layer is None or not label:
        return "no ROI"
    return f"{roi_name(layer, label)} (label {int(label)} of {layer.name})"


class RoiSession(QObject):
    """Reference, ROI layer shown, selected ROI and edit detection of one workbench.

    Parameters
    ----------
    viewer : napari.Viewer
    """

    #: The reference image changed.
    reference_changed = Signal()
    #: The ROI layer shown changed.
    roi_layer_changed = Signal()
    #: ROI voxels or names changed (debounced for paint strokes, immediate for tools).
    labels_changed = Signal()
    #: The selected ROI of the layer shown, or the session's ROI, changed.
    selection_changed = Signal(int)
    #: (level, text) of the last notification.
    message = Signal(str, str)

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.study = StudySession.of(viewer)
        self.state = ViewerState.of(viewer)
        self.messages: list[str] = []
        self.outlines = RoiOutlines.install(viewer, shows_roi)
        self._reference = None
        self._reference_chosen = False
        self._layer = None
        self._quiet = 0
        self._seen: np.ndarray | None = None
        self._seen_names: dict[int, str] = {}
        self._map_cache: dict[tuple, MapOnGrid] = {}
        self._timer = debounce_timer(self, DEBOUNCE_MS, self.check_changes)
        connect_while(
            self,
            (viewer.layers.events.removed, self._on_removed),
            (viewer.layers.events.inserted, self._on_inserted),
            (self.study.roi_changed, self._on_study_roi),
            (self.study.stat_map_changed, self._follow_session),
            (self.study.layers_changed, self._follow_session),
        )
        self.fill_empty_roles(list(viewer.layers))
        self.outlines.refresh()
        if self.study.roi_layer is not None:
            self.show_layer(self.study.roi_layer)
        self._follow_session()

    # ------------------------------------------------------------------ messages
    def notify(self, level: str, text: str) -> None:
        """Show a napari notification (``info``, ``warning`` or ``error``) and keep it."""
        self.messages.append(text)
        del self.messages[:-50]
        notify(level, text)
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
            if src.result_of is not None:
                continue
            out.append(layer)
        return out

    def images_on(self, grid: Grid) -> list:
        """Image layers on ``grid``: the session's statistical map first, then maps, runs."""
        rank = {"stat": 0, "run": 1}
        layers = [lay for lay in self.image_layers() if source_of(lay).grid.matches(grid)]
        layers.sort(
            key=lambda lay: (lay is not self.study.stat_map,
                             rank.get(source_of(lay).info.kind.value, 2))
        )
        return layers

    @property
    def reference_layer(self):
        """The image whose grid the ROIs are drawn on (None without one)."""
        layer = self._reference
        return layer if layer is not None and layer in self.viewer.layers else None

    @property
    def reference_grid(self) -> Grid | None:
        """Grid of the reference image."""
        layer = self.reference_layer
        return source_of(layer).grid if layer is not None else None

    @property
    def reference_chosen(self) -> bool:
        """True once the user picked the reference (it no longer follows the session)."""
        return self._reference_chosen

    def roi_layers(self, grid: Grid | None = None) -> list:
        """ROI labels layers drawn in napari-milna (on ``grid`` when given)."""
        return [
            lay for lay in self.viewer.layers
            if is_roi_layer(lay) and (grid is None or roi_grid(lay).matches(grid))
        ]

    def layer_choices(self) -> list:
        """Layers the ROI-layer picker offers: the session's ROI layers on the reference grid.

        The layer shown and the session's ROI layer are always offered.
        """
        grid = self.reference_grid
        out = [
            lay for lay in self.study.roi_layers()
            if grid is None or roi_grid(lay).matches(grid)
        ]
        for extra in (self.roi_layer, self.study.roi_layer):
            if extra is not None and extra in self.viewer.layers and extra not in out:
                out.append(extra)
        return out

    def _preferred_reference(self):
        """The reference the session suggests (see the module docstring)."""
        layer = self.roi_layer
        if layer is not None:
            on_grid = self.images_on(roi_grid(layer))
            if on_grid:
                return on_grid[0]
        images = self.image_layers()
        if self.study.stat_map in images:
            return self.study.stat_map
        for kind in ("stat", "run"):
            for image in images:
                if source_of(image).info.kind.value == kind:
                    return image
        return images[0] if images else None

    def _follow_session(self, *args) -> None:
        """Take the session's suggestion while the user has not chosen a reference."""
        current = self.reference_layer
        if self._reference_chosen and current is not None:
            return
        if current is not None and self.roi_layer is not None:
            if roi_grid(self.roi_layer).matches(source_of(current).grid):
                return  # ROIs are drawn on this grid: no automatic switch
        self._set_reference(self._preferred_reference())

    def _set_reference(self, layer) -> bool:
        if layer is self._reference:
            return False
        self._reference = layer
        if layer is not None:
            self.ensure_editable_display(announce=True)
        self.reference_changed.emit()
        return True

    def set_reference(self, layer) -> None:
        """The user picks the reference: ROIs are drawn on the grid of ``layer``.

        The ROI layer shown becomes the last ROI layer on that grid (none when there is
        none); the session's ROI is left as it is.
        """
        self._reference_chosen = layer is not None
        if not self._set_reference(layer) or layer is None:
            return
        grid = self.reference_grid
        if self.roi_layer is None or not roi_grid(self.roi_layer).matches(grid):
            if self.study.roi_layer is not None and roi_grid(self.study.roi_layer).matches(grid):
                self.show_layer(self.study.roi_layer)
            else:
                candidates = self.roi_layers(grid)
                self.show_layer(candidates[-1] if candidates else None)

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

    # ------------------------------------------------------------------ the layer shown
    @property
    def roi_layer(self):
        """The ROI layer the workbench shows and edits (None without one)."""
        layer = self._layer
        return layer if layer is not None and layer in self.viewer.layers else None

    def show_layer(self, layer) -> None:
        """Show and edit ``layer`` (the session's ROI is not touched)."""
        if layer is self._layer:
            return
        old = self._layer
        if old is not None:
            for name in _EDIT_EVENTS:
                getattr(old.events, name).disconnect(self._schedule_check)
            old.events.selected_label.disconnect(self._on_selected)
        self._layer = layer
        self._seen = None
        if layer is not None:
            for name in _EDIT_EVENTS:
                getattr(layer.events, name).connect(self._schedule_check)
            layer.events.selected_label.connect(self._on_selected)
            self._seen = roi_data(layer).copy()
            self._seen_names = roi_names(layer)
            reference = self.reference_layer
            if reference is None or not roi_grid(layer).matches(source_of(reference).grid):
                on_grid = self.images_on(roi_grid(layer))
                if on_grid:
                    self._set_reference(on_grid[0])
        self.roi_layer_changed.emit()
        self.labels_changed.emit()
        self.selection_changed.emit(self.selected_label)

    def set_roi_layer(self, layer) -> None:
        """The user picks the ROI layer: shown here and the session's ROI layer.

        The session's ROI becomes the layer's selected label (else its first ROI).
        """
        self.show_layer(layer)
        if layer is not None:
            label = self.selected_label
            self.study.set_roi(layer, label if label else None)

    def ensure_roi_layer(self):
        """The ROI layer shown, or a new empty one on the reference grid."""
        if self.roi_layer is not None and is_roi_layer(self.roi_layer):
            return self.roi_layer
        candidates = self.roi_layers(self.reference_grid)
        if candidates:
            self.show_layer(candidates[-1])
            return candidates[-1]
        ref = self.reference_layer
        src = source_of(ref)
        layer = add_roi_layer(self.viewer, src.grid, src.source, ref.name)
        self.show_layer(layer)
        return layer

    def new_layer(self):
        """A new, empty ROI layer on the reference grid (shown; the session keeps its ROI)."""
        ref = self.reference_layer
        if ref is None:
            self.notify("warning", "New ROI layer: choose a reference image first.")
            return None
        src = source_of(ref)
        layer = add_roi_layer(self.viewer, src.grid, src.source, ref.name)
        self.show_layer(layer)
        return layer

    @property
    def outline(self) -> bool:
        """True while ROI layers are drawn as outlines (see :mod:`.outlines`)."""
        return self.outlines.enabled

    def set_outline(self, outline: bool) -> None:
        """Outline (True) or fill every ROI layer of the viewer."""
        self.outlines.set_enabled(outline)

    def _on_inserted(self, event) -> None:
        self.fill_empty_roles([event.value])

    def fill_empty_roles(self, layers) -> None:
        """Give the session's empty mask roles files that clearly are one.

        A CSF probability map (CSF), a mask named like a brain mask (brain), SPM's
        ``mask.nii`` or a coverage mask (analysis). A role the session already has is
        left alone.
        """
        for layer in layers:
            src = source_of(layer)
            if src is None or src.source is None or src.is_run or src.result_of is not None:
                continue
            kind, stem = src.info.kind, src.source.name.lower()
            if kind == ImageKind.CSF:
                role = "csf"
            elif kind == ImageKind.MASK and "brain" in stem:
                role = "brain"
            elif kind == ImageKind.MASK and (stem == "mask" or "coverage" in stem):
                role = "analysis"
            else:
                continue
            if self.study.masks.get(role) is None:
                self.study.set_mask(role, layer)

    def _on_removed(self, event) -> None:
        layer = event.value
        self._map_cache = {k: v for k, v in self._map_cache.items() if k[0] != id(layer)}
        if layer is self._layer:
            self.show_layer(None)
            study_layer = self.study.roi_layer
            if study_layer is not None and study_layer in self.viewer.layers:
                self.show_layer(study_layer)
            elif self.reference_layer is not None:
                candidates = self.roi_layers(self.reference_grid)
                if candidates:
                    self.show_layer(candidates[-1])
        if layer is self._reference:
            self._reference = None
            self._reference_chosen = False
            self._follow_session()
            if self._reference is None:
                self.reference_changed.emit()

    # ------------------------------------------------------------------ selection
    @contextmanager
    def quietly(self):
        """Changes of napari's selected label inside are the workbench's, not a choice."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @property
    def selected_label(self) -> int:
        """The selected ROI of the layer shown (its ``selected_label``); 0 without a layer."""
        layer = self.roi_layer
        return int(layer.selected_label) if layer is not None else 0

    def has_study_roi(self) -> bool:
        """True when the session uses an ROI (a layer and a label other than 0)."""
        layer = self.study.roi_layer
        return layer is not None and layer in self.viewer.layers and bool(self.study.roi_label)

    def in_use(self) -> str:
        """The session's ROI in words: ``"PAG (label 1 of ROIs on spmT_0001)"``."""
        if not self.has_study_roi():
            return "no ROI"
        return describe_roi(self.study.roi_layer, self.study.roi_label)

    def select(self, label: int) -> None:
        """Select ROI ``label`` of the layer shown: napari's brush and the session's ROI."""
        layer = self.roi_layer
        if layer is None:
            return
        with self.quietly():
            layer.selected_label = int(label)
        if int(label):
            self.study.set_roi(layer, int(label))
        self.selection_changed.emit(self.selected_label)

    def select_if_none_in_use(self, label: int) -> bool:
        """Make ``label`` the session's ROI when the session has none; True if it did."""
        if self.has_study_roi():
            return False
        self.select(label)
        return True

    def _on_selected(self, event=None) -> None:
        label = self.selected_label
        if not self._quiet and label:
            self.study.set_roi(self.roi_layer, label)  # a choice in napari's layer controls
        self.selection_changed.emit(label)

    def _on_study_roi(self, layer, label) -> None:
        """The session's ROI changed (here or in another tab): show it."""
        if layer is not None and layer in self.viewer.layers and isinstance(layer, Labels):
            self.show_layer(layer)
            if label and int(layer.selected_label) != int(label):
                with self.quietly():
                    layer.selected_label = int(label)
        self.selection_changed.emit(self.selected_label)

    # ------------------------------------------------------------------ ROIs
    @property
    def names(self) -> dict[int, str]:
        """Label value -> name of the ROI layer shown."""
        return roi_names(self.roi_layer) if self.roi_layer is not None else {}

    def roi_labels(self) -> list[int]:
        """Labels the ROI picker offers: the named ROIs of the layer shown and the selected one."""
        return sorted(set(self.names) | ({self.selected_label} - {0}))

    def roi_name(self, label: int) -> str:
        """Name of ``label`` (``label <k>`` when unnamed)."""
        return self.names.get(int(label), f"label {int(label)}")

    def describe(self, label: int) -> str:
        """``"PAG (label 1 of ROIs on spmT_0001)"`` for a label of the layer shown."""
        return describe_roi(self.roi_layer, label)

    def labels(self) -> np.ndarray:
        """The ROI labels on their grid."""
        return roi_data(self.roi_layer)

    def set_names(self, names: dict[int, str]) -> None:
        """Replace the ROI names of the layer shown."""
        with self.quietly():
            set_roi_names(self.roi_layer, names)
        self.check_changes()

    def blocker(self) -> str | None:
        """Why ROI edits are impossible now (no reference / layer, file, display resampled)."""
        if self.reference_layer is None:
            return "choose a reference image first (the ROIs live on its grid)"
        layer = self.roi_layer
        if layer is None:
            return "seed an ROI or add one to paint first"
        if not is_roi_layer(layer):
            return (
                f"{layer.name} was read from a file; open it with 'Open ROIs...' to edit it "
                "(edits are then guarded against loss)"
            )
        return edit_blocker(layer)

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
        with self.quietly():
            counts = replace_label(self.roi_layer, label, mask)
        text = (
            f"{what}: {self.describe(label)} +{counts['n_added']} / -{counts['n_removed']} "
            "voxels"
        )
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
        if isinstance(layer, Labels) and src.source is None:
            return roi_data(layer), src.grid
        return np.asarray(src.source.volume()), src.grid

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

    def without_csf(self, mask: np.ndarray, grid: Grid, level: float, what: str):
        """``mask`` without its voxels whose CSF probability is above ``level``.

        The CSF map is the study's (its ``csf`` mask role); a map on another grid is
        resampled explicitly, and said.

        Returns
        -------
        (layer, CsfExclusion) or None
            The CSF layer and the core's result; None after a notice (no CSF map).
        """
        layer = self.study.masks.get("csf")
        if layer is None:
            self.notify("warning", f"{what}: choose the study's CSF map under ROI facts.")
            return None
        data, data_grid = self.values_of(layer)
        result = exclude_csf(mask, grid, data, data_grid, level)
        if result.resampled:
            self.notify("info", f"{what}: {layer.name} is on another grid; {result.note}.")
        if result.n_unknown:
            self.notify(
                "warning",
                f"{what}: {result.n_unknown} ROI voxels lie outside {layer.name}; they are kept.",
            )
        return layer, result

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


__all__ = [
    "DEBOUNCE_MS",
    "RoiSession",
    "describe_roi",
    "is_guarded",
    "is_unsaved",
    "mark_saved",
    "shows_roi",
]
