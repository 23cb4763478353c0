"""Save and load ROI layers through :mod:`napari_milna.core.roi.io`.

* one ROI per file: ``<reference entities>_desc-<NAME>_mask.nii.gz`` in a folder;
* all ROIs in one file: ``*_dseg.nii.gz`` plus ``*_dseg.tsv`` (index, name).

Files are written on the reference grid with the reference's affine and header,
atomically, and never over an existing file without asking. Loading gives labels
with their names; an ROI on another grid is resampled only when the user says so
(or opened on its own grid): nothing is lost.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from magicgui.widgets import PushButton
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..._napari.roi_layers import (
    add_roi_layer,
    labels_dtype,
    reference_source,
    roi_data,
    roi_grid,
    roi_names,
    roi_state,
)
from ...core.errors import MilnaInputError
from ...core.io.nifti import open_nifti
from ...core.io.nifti_write import with_nifti_suffix
from ...core.roi.io import bids_roi_path, load_roi, save_roi_labels, save_roi_mask
from ..panel.status import StatusLabel
from ..panel.status import notify as default_notify
from . import dialogs as roi_dialogs
from .forms import row
from .session import RoiSession, is_unsaved, mark_saved


def _reference_image(layer):
    source = reference_source(layer)
    grid = roi_grid(layer)
    if source is not None and tuple(source.shape[:3]) == grid.shape:
        return source.image, source.path
    return nib.Nifti1Image(np.zeros(grid.shape, np.uint8), np.asarray(grid.affine)), None


def _rois(layer) -> list[tuple[int, str, bool]]:
    """(label, name, has voxels) of every named or painted ROI."""
    data = roi_data(layer)
    present = {int(v) for v in np.unique(data) if v != 0}
    names = roi_names(layer)
    return [
        (label, names.get(label, f"label{label}"), label in present)
        for label in sorted(present | set(names))
    ]


def save_masks(layer, folder, parent=None, notify=None, overwrite: bool | None = None):
    """Write each ROI of ``layer`` as ``*_desc-<NAME>_mask.nii.gz`` in ``folder``.

    Parameters
    ----------
    layer : napari Labels
        An ROI layer.
    folder : str or path-like
        An existing folder.
    parent : QWidget, optional
        Parent of the overwrite question.
    notify : callable, optional
        ``notify(level, text)``; napari notifications by default.
    overwrite : bool, optional
        Replace existing files; None asks when one exists.

    Returns
    -------
    list of Path or None
        The files written; None when nothing was written.
    """
    notify = notify or default_notify
    folder = Path(folder)
    reference, ref_path = _reference_image(layer)
    data = roi_data(layer)
    targets = {}
    try:
        for label, name, filled in _rois(layer):
            if not filled:
                notify("warning", f"{name} in {layer.name} is empty (no voxel); no mask written.")
                continue
            targets[label] = (name, bids_roi_path(ref_path, folder, name))
    except MilnaInputError as exc:
        notify("error", str(exc))
        return None
    paths = [p for _, p in targets.values()]
    if not paths:
        notify("warning", f"{layer.name} holds no ROI voxel; nothing saved.")
        return None
    if len(set(paths)) < len(paths):
        notify(
            "error",
            f"{layer.name}: two ROI names give the same file name in {folder}; rename one.",
        )
        return None
    existing = [p for p in paths if p.exists()]
    if existing and overwrite is None:
        overwrite = roi_dialogs.ask_overwrite(parent, existing)
    if existing and not overwrite:
        notify("info", f"{existing[0]} exists and was kept; no ROI mask written.")
        return None
    written = []
    try:
        for label, (name, path) in targets.items():
            written.append(
                save_roi_mask(data == label, reference, path, name=name, overwrite=bool(overwrite))
            )
    except (MilnaInputError, OSError, ValueError) as exc:
        notify("error", str(exc) if isinstance(exc, MilnaInputError) else f"{folder}: {exc}")
        return None
    mark_saved(layer, folder)
    roi_state(layer).saved_kind = "masks"
    notify(
        "info",
        f"Saved {len(written)} ROI masks in {folder}: " + ", ".join(p.name for p in written),
    )
    return written


def save_dseg(layer, path, parent=None, notify=None, overwrite: bool | None = None):
    """Write all ROIs of ``layer`` as one ``*_dseg.nii.gz`` plus its ``.tsv`` of names.

    Returns
    -------
    (Path, Path) or None
        Image and table written; None when nothing was written.
    """
    notify = notify or default_notify
    target = with_nifti_suffix(path)
    tsv = target.parent / (target.name.split(".nii")[0] + ".tsv")
    existing = [p for p in (target, tsv) if p.exists()]
    if existing and overwrite is None:
        overwrite = roi_dialogs.ask_overwrite(parent, existing)
    if existing and not overwrite:
        notify("info", f"{existing[0]} exists and was kept; nothing written.")
        return None
    reference, _ = _reference_image(layer)
    data = roi_data(layer)
    data = data.astype(labels_dtype(int(data.max(initial=0))))
    try:
        written = save_roi_labels(
            data, roi_names(layer), reference, target, overwrite=bool(overwrite)
        )
    except (MilnaInputError, OSError, ValueError) as exc:
        notify("error", str(exc) if isinstance(exc, MilnaInputError) else f"{target}: {exc}")
        return None
    mark_saved(layer, written[0])
    roi_state(layer).saved_kind = "dseg"
    notify("info", f"Saved {layer.name} as {written[0]} (+ {written[1].name}).")
    return written


def default_dseg_path(layer) -> str:
    """A BIDS ``*_dseg.nii.gz`` name next to the reference image (or the last save)."""
    state = roi_state(layer)
    if state.saved_kind == "dseg" and state.saved_path:
        return state.saved_path
    _, ref_path = _reference_image(layer)
    folder = Path(ref_path).parent if ref_path is not None else Path.cwd()
    return str(bids_roi_path(ref_path, folder, dseg=True))


def save_again(layer, parent=None, notify=None) -> bool:
    """Save ``layer`` where it was last saved (else ask for a dseg file); True on success.

    Used by the close guard: "Save" there means replacing the layer's own last save.
    """
    state = roi_state(layer)
    kind, where = state.saved_kind, state.saved_path
    if kind == "dseg" and where:
        return save_dseg(layer, where, parent, notify, overwrite=True) is not None
    if kind == "masks" and where:
        return save_masks(layer, where, parent, notify, overwrite=True) is not None
    path = roi_dialogs.ask_save_file(parent, f"Save {layer.name}", default_dseg_path(layer))
    if path is None:
        return False
    return save_dseg(layer, path, parent, notify) is not None


def _merge(rois) -> tuple[np.ndarray, dict[int, str], int]:
    """Several ROI images on one grid as one label array (later files never overwrite)."""
    if len(rois) == 1:
        return rois[0].labels, dict(rois[0].names), 0
    out = np.zeros(rois[0].labels.shape, np.int32)
    names, overlap, next_value = {}, 0, 1
    for roi in rois:
        values = sorted({int(v) for v in np.unique(roi.labels) if v != 0} | set(roi.names))
        for value in values:
            mask = roi.labels == value
            free = mask & (out == 0)
            overlap += int(mask.sum() - free.sum())
            out[free] = next_value
            names[next_value] = roi.names.get(value, f"label {value}")
            next_value += 1
    return out, names, overlap


def load_rois(viewer, paths, reference_layer=None, parent=None, notify=None) -> list:
    """Open ROI files as ROI layers with their names.

    Files on the reference grid (or resampled onto it when the user chooses so) go
    into one new layer; a file the user opens on its own grid gets its own layer.
    A single file keeps its label values.

    Returns
    -------
    list of napari Labels
        The layers added.
    """
    notify = notify or default_notify
    ref = source_of(reference_layer) if reference_layer is not None else None
    on_reference, own = [], []
    for path in paths:
        try:
            roi = load_roi(path)
        except MilnaInputError as exc:
            notify("error", str(exc))
            continue
        if not roi.labels.any():
            notify("warning", f"{roi.path}: holds no ROI voxel (an empty ROI); opened as is.")
        if ref is None or roi.grid.matches(ref.grid):
            (on_reference if ref is not None else own).append(roi)
            continue
        choice = roi_dialogs.ask_grid_mismatch(
            parent,
            f"{roi.path.name} lies on a {roi.grid.describe()} grid, not on the grid of the "
            f"reference {reference_layer.name} ({ref.grid.describe()}).\n\n"
            "Resample it explicitly onto the reference grid, or open it on its own grid? "
            "The file is not changed.",
        )
        if choice is None:
            notify(
                "info", f"{roi.path}: not opened (its grid differs from {reference_layer.name})."
            )
            continue
        if choice == "own":
            own.append(roi)
            continue
        moved = load_roi(path, reference=ref.grid, resample=choice)
        if roi.labels.any() and not moved.labels.any():
            notify(
                "warning",
                f"{roi.path}: no voxel of it falls on the grid of {reference_layer.name} "
                "(outside its field of view); opened on its own grid instead.",
            )
            own.append(roi)
            continue
        notify(
            "info",
            f"{roi.path.name} resampled ({choice}) from {roi.grid.describe()} onto the grid "
            f"of {reference_layer.name}: {int(np.count_nonzero(roi.labels))} -> "
            f"{int(np.count_nonzero(moved.labels))} voxels.",
        )
        on_reference.append(moved)
    layers = []
    if on_reference:
        labels, names, overlap = _merge(on_reference)
        if overlap:
            notify("warning", f"{overlap} voxels belong to several ROI files; kept in the first.")
        first = on_reference[0]
        title = first.path.name.split(".nii")[0] if len(on_reference) == 1 else "ROIs"
        layer = add_roi_layer(
            viewer, ref.grid, ref.source, reference_layer.name, labels, names, name=title
        )
        if all(r.resampled_from is None for r in on_reference):
            mark_saved(layer, first.path if len(on_reference) == 1 else None)
            if len(on_reference) == 1:
                roi_state(layer).saved_kind = "dseg" if first.kind == "dseg" else None
        layers.append(layer)
    for roi in own:
        layer = add_roi_layer(
            viewer,
            roi.grid,
            open_nifti(roi.path),
            roi.path.name.split(".nii")[0],
            roi.labels,
            roi.names,
            name=roi.path.name.split(".nii")[0],
        )
        mark_saved(layer, roi.path)
        roi_state(layer).saved_kind = "dseg" if roi.kind == "dseg" else None
        layers.append(layer)
    for layer in layers:
        names = ", ".join(roi_names(layer).values())
        notify("info", f"Opened {layer.name}: {names or 'no named ROI'}.")
    return layers


class RoiFilesPanel(QWidget):
    """Buttons: save each ROI as a mask, save all as dseg, open ROI files."""

    def __init__(self, session: RoiSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.masks_button = PushButton(
            text="Save masks...", tooltip="One *_desc-<NAME>_mask.nii.gz per ROI, in a folder"
        )
        self.dseg_button = PushButton(
            text="Save dseg...", tooltip="All ROIs in one *_dseg.nii.gz with a *_dseg.tsv of names"
        )
        self.load_button = PushButton(
            text="Open ROIs...", tooltip="ROI masks or dseg files, back as labels with their names"
        )
        self.status = StatusLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(row(self.masks_button, self.dseg_button, self.load_button).native)
        layout.addWidget(self.status)
        self.masks_button.clicked.connect(lambda *a: self.save_masks())
        self.dseg_button.clicked.connect(lambda *a: self.save_dseg())
        self.load_button.clicked.connect(lambda *a: self.load())
        session.labels_changed.connect(self.show_status)
        session.roi_layer_changed.connect(self.show_status)
        self.show_status()

    def show_status(self, *args) -> None:
        """Say whether the ROI layer has unsaved edits and where it was saved."""
        layer = self.session.roi_layer
        if layer is None:
            self.status.setText("")
            return
        where = roi_state(layer).saved_path
        if is_unsaved(layer):
            self.status.setText(
                "<b>Unsaved edits</b>" + (f" (last saved: {where})" if where else "")
            )
        else:
            self.status.setText(f"Saved: {where}" if where else "Nothing to save yet.")

    def _save(self, what: str, target, ask, write):
        """Write the ROI layer shown with ``write`` to ``target`` (``ask(layer)`` when None)."""
        layer = self.session.roi_layer
        if layer is None:
            self.session.notify("warning", f"{what}: there is no ROI layer yet.")
            return None
        target = ask(layer) if target is None else target
        if target is None:
            return None
        out = write(layer, target, self, self.session.notify)
        self.show_status()
        return out

    def _ask_folder(self, layer):
        _, ref_path = _reference_image(layer)
        start = str(Path(ref_path).parent) if ref_path is not None else ""
        return roi_dialogs.ask_folder(self, "Folder for the ROI masks", start)

    def save_masks(self, folder=None):
        """Save one mask per ROI into ``folder`` (asked when None)."""
        return self._save("Save masks", folder, self._ask_folder, save_masks)

    def save_dseg(self, path=None):
        """Save all ROIs as one dseg file at ``path`` (asked when None)."""
        def ask(layer):
            return roi_dialogs.ask_save_file(self, "Save all ROIs", default_dseg_path(layer))

        return self._save("Save dseg", path, ask, save_dseg)

    def load(self, paths=None) -> list:
        """Open ROI files (asked when None) as ROI layers; the first on the reference is shown.

        Its first ROI becomes the session's ROI only when the session has none.
        """
        s = self.session
        if paths is None:
            start = ""
            if s.reference_layer is not None:
                start = str(source_of(s.reference_layer).source.path.parent)
            paths = roi_dialogs.ask_open_files(self, "Open ROI files", start)
        layers = load_rois(s.viewer, list(paths), s.reference_layer, self, s.notify)
        for layer in layers:
            if s.reference_layer is not None and roi_grid(layer).matches(s.reference_grid):
                s.show_layer(layer)
                names = roi_names(layer)
                if names:
                    s.select_if_none_in_use(min(names))
                break
        return layers
