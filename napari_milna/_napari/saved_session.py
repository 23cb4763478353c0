"""Save a viewer's session to a file and open it again: same layers, display, choices, view.

:func:`capture_session` turns the viewer and its
:class:`~napari_milna._napari.session.StudySession` into a
:class:`~napari_milna.core.session_file.SessionFile`: each layer of napari-milna with its
file (or built-in atlas) and display, the session's choices, the cursor, plane,
convention and display space, and the open analysis folder. ROI layers (drawn, seeded,
or a mask file edited in the viewer) have no file of their own that holds what is shown:
:func:`save_session` writes each beside the session as a BIDS ``*_dseg.nii.gz`` with its
``.tsv`` of names (:func:`napari_milna.core.roi.io.save_roi_labels`, with the reference
image's header), all files at once (:func:`~napari_milna.core.io.atomic.output_set`), so
unsaved ROI edits are saved with the session and marked saved.

:func:`restore_session` clears the viewer and opens the layers again (an analysis
folder's maps through the folder, so their df, smoothness and a FEAT t-to-z conversion
come back), in the saved order and display, then the choices and the view. A file that
no longer exists is said in one sentence each; the rest opens.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
from napari.layers import Image, Labels, Layer

from .. import __version__
from ..core import session_file as sf
from ..core.errors import MilnaInputError
from ..core.io.atomic import check_writable, output_set
from ..core.io.kinds import ImageKind
from ..core.io.nifti import load_volume, open_nifti
from ..core.roi.io import desc_label, load_roi, save_roi_labels
from .layers import (
    RoiState,
    atlas_layer_tuple,
    grid_data,
    layer_tuple,
    source_of,
    stat_colormap,
    stat_ramp,
)
from .roi_layers import add_roi_layer, labels_dtype, roi_names
from .session import Smoothness, StudySession
from .viewer_state import ViewerState, unwrap_viewer

#: Longest ``desc`` label of an ROI file written beside a session.
MAX_DESC = 40


@dataclass
class RoiWrite:
    """An ROI layer to be written beside the session.

    Attributes
    ----------
    layer : napari Labels
    path : Path
        The ``*_dseg.nii.gz`` to write.
    labels : ndarray
        The labels on their own grid.
    names : dict of int to str
    reference : nibabel image
        Grid, affine and header of the file (the image the ROIs were drawn on).
    """

    layer: object
    path: Path
    labels: np.ndarray = field(repr=False)
    names: dict
    reference: object = field(repr=False)


@dataclass
class SavedSession:
    """What :func:`save_session` wrote.

    Attributes
    ----------
    path : Path
        The session file.
    roi_files : list of Path
        ROI files written beside it (each with its ``.tsv``).
    notes : list of str
        Layers the session does not keep, in words.
    """

    path: Path
    roi_files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        """One notification: what was written and what was not kept."""
        text = f"Saved the session {self.path}"
        if self.roi_files:
            text += f" with {len(self.roi_files)} ROI file(s) beside it (" + ", ".join(
                p.name for p in self.roi_files) + ")"
        text += "."
        if self.notes:
            text += " Not kept: " + "; ".join(self.notes) + "."
        return text


@dataclass
class RestoredSession:
    """What :func:`restore_session` opened.

    Attributes
    ----------
    session : SessionFile
    opened : list of str
        Layer names opened, bottom to top.
    missing : list of str
        One sentence per file or layer that could not be opened.
    """

    session: sf.SessionFile
    opened: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def message(self) -> str:
        """One notification: what opened and what did not."""
        where = self.session.path or "the session"
        text = f"Opened {where}: {len(self.opened)} layer(s)"
        if self.missing:
            text += "; could not open: " + " ".join(self.missing)
        return text + ("" if text.endswith(".") else ".")


# ====================================================================== capture
def _colormap(layer) -> tuple[str | None, dict | None]:
    from napari.utils.colormaps import AVAILABLE_COLORMAPS

    cmap = layer.colormap
    name = getattr(cmap, "name", None)
    if name in AVAILABLE_COLORMAPS:
        return name, None
    return None, {
        "name": name,
        "controls": [float(v) for v in np.asarray(cmap.controls)],
        "colors": np.asarray(cmap.colors, dtype=float).tolist(),
        "interpolation": str(getattr(cmap, "interpolation", "linear")),
    }


def _display(layer, stat: bool) -> sf.LayerDisplay:
    display = sf.LayerDisplay(
        opacity=float(layer.opacity),
        visible=bool(layer.visible),
        blending=str(layer.blending),
    )
    if isinstance(layer, Image):
        display.contrast_limits = tuple(float(v) for v in layer.contrast_limits)
        display.interpolation = str(layer.interpolation2d)
        if not stat:
            display.colormap, display.colormap_points = _colormap(layer)
    elif isinstance(layer, Labels):
        display.contour = int(layer.contour)
    return display


def _in_folder(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def _builtin_atlas_key(atlas) -> str | None:
    from ..core.atlas import BUILTIN_ATLASES

    return next((key for key, (title, _) in BUILTIN_ATLASES.items() if title == atlas.name),
                None)


def _edited(layer, src) -> bool:
    """True when a labels layer read from a file shows other labels than the file holds."""
    data = np.asarray(grid_data(layer))
    on_file = np.nan_to_num(np.asarray(src.source.volume()))
    return data.shape != on_file.shape or not np.array_equal(data, on_file.astype(data.dtype))


def _roi_reference(src, grid):
    """The image whose affine and header an ROI file keeps (a bare one on the grid if none)."""
    source = src.header_source
    if source is not None and tuple(source.shape[:3]) == grid.shape:
        return source.image, source.path
    return nib.Nifti1Image(np.zeros(grid.shape, np.uint8), np.asarray(grid.affine)), None


def _roi_file_name(layer, names: dict) -> str:
    """What an ROI file is named after: its ROIs (``PAG``, ``PAGRVM``), else the layer."""
    words = [names[k] for k in sorted(names)] if names else []
    return "".join(words) if words else layer.name


def _roi_path(folder: Path, stem: str, name: str, taken: set) -> Path:
    try:
        label = desc_label(name)[:MAX_DESC]
    except MilnaInputError:
        label = "ROIs"
    path = folder / f"{stem}_desc-{label}_dseg.nii.gz"
    n = 2
    while path in taken:
        path = folder / f"{stem}_desc-{label}{n}_dseg.nii.gz"
        n += 1
    taken.add(path)
    return path


def capture_session(viewer, path) -> tuple[sf.SessionFile, list[RoiWrite]]:
    """The viewer's session as a :class:`SessionFile` for ``path``, and the ROI files to write.

    Parameters
    ----------
    viewer : napari.Viewer
    path : str or path-like
        Where the session file will be written (ROI files go beside it).

    Returns
    -------
    (SessionFile, list of RoiWrite)
    """
    viewer = unwrap_viewer(viewer)
    path = Path(os.path.abspath(path))
    study = StudySession.of(viewer)
    state = ViewerState.of(viewer)
    folder = study.analysis.folder if study.analysis is not None else None
    stem = sf.session_stem(path)
    records, writes, notes, taken = [], [], [], set()
    for layer in viewer.layers:
        src = source_of(layer)
        if not isinstance(layer, (Image, Labels)) or src is None:
            notes.append(f"{layer.name} (a napari {type(layer).__name__.lower()} layer, not a "
                         "file of napari-milna)")
            continue
        if src.result_of is not None:
            notes.append(f"{layer.name} (a result of the {src.result_of[0]} tab; run it again)")
            continue
        layer_type = "labels" if isinstance(layer, Labels) else "image"
        is_stat = src.info.kind == ImageKind.STAT and not src.is_run and layer_type == "image"
        rec = sf.LayerRecord(layer.name, layer_type, "file", display=_display(layer, is_stat))
        if src.atlas is not None:
            rec.origin = "atlas"
            rec.atlas = _builtin_atlas_key(src.atlas)
            if rec.atlas is None:
                rec.path = Path(src.atlas.path) if src.atlas.path else None
                lut = getattr(src.atlas.lut, "source", None)
                rec.lut = Path(lut) if lut else None
            if rec.atlas is None and rec.path is None:
                notes.append(f"{layer.name} (an atlas held in memory only)")
                continue
        elif layer_type == "labels" and (src.source is None or _edited(layer, src)):
            rec.origin = "roi"
            grid = src.grid
            labels = np.asarray(grid_data(layer))
            if labels.ndim == 4:
                labels = labels.max(axis=0)
                notes.append(f"{layer.name} drawn on a run: its labels are kept as their union "
                             "over volumes")
            names = roi_names(layer)
            reference, ref_path = _roi_reference(src, grid)
            rec.path = _roi_path(path.parent, stem, _roi_file_name(layer, names), taken)
            rec.reference = ref_path
            rec.roi_names = names
            labels = labels.astype(labels_dtype(int(labels.max(initial=0))))
            writes.append(RoiWrite(layer, rec.path, labels, names, reference))
        elif src.source is not None:
            rec.path = Path(src.source.path)
            rec.origin = "analysis" if _in_folder(rec.path, folder) else "file"
        else:
            notes.append(f"{layer.name} (made in the viewer, with no file)")
            continue
        if is_stat:
            stat_type = src.info.stat_type
            rec.statistic = sf.StatDisplay(stat_type, _plain_df(src.df), float(src.threshold),
                                        stat_type or "value", float(src.vmax))
        records.append(rec)
    kept = {rec.name for rec in records}

    def name_of(layer):
        return layer.name if layer is not None and layer.name in kept else None

    smooth = study.smoothness
    stat_src = source_of(study.stat_map) if study.stat_map is not None else None
    choices = sf.SessionChoices(
        stat_map=name_of(study.stat_map),
        roi_layer=name_of(study.roi_layer),
        roi_label=int(study.roi_label) if name_of(study.roi_layer) else 0,
        run=name_of(study.run),
        masks={role: name_of(study.masks.get(role)) for role in sf.MASK_ROLES},
        atlas=name_of(study.atlas),
        df=_plain_df(stat_src.df) if stat_src is not None else None,
        smoothness=None if smooth is None else sf.SmoothnessRecord(
            tuple(float(v) for v in smooth.fwhm_mm), smooth.source),
    )
    view = sf.ViewRecord(
        cursor_mm=tuple(float(v) for v in study.cursor_mm),
        plane=state.plane,
        radiological=bool(state.radiological),
        display_space=None if state.space.is_world else state.space.reference,
    )
    session = sf.SessionFile(records, choices, view, folder, f"napari-milna {__version__}", notes,
                          path)
    return session, writes


def _plain_df(df):
    if df is None:
        return None
    if isinstance(df, (tuple, list, np.ndarray)):
        return [float(v) for v in df]
    return float(df)


def _mark_saved(layer, path: Path, labels: np.ndarray, names: dict) -> None:
    """Record that the layer's labels are saved in ``path`` (its unsaved state clears)."""
    src = source_of(layer)
    if src is None or src.source is not None:
        return  # an edited mask file: the ROI file beside the session holds its edits
    if src.roi is None:
        src.roi = RoiState()
    state = src.roi
    state.saved_labels = np.asarray(labels).copy()
    state.saved_names = dict(names)
    state.saved_path = str(path)
    state.snapshot_path = state.saved_path
    state.saved_kind = "dseg"
    state.unsaved = False


def save_session(viewer, path, *, overwrite: bool = False,
                 mark_saved: bool = True) -> SavedSession:
    """Write the viewer's session to ``path`` and its ROI layers beside it.

    All files appear together or none (atomic); nothing existing is replaced unless
    ``overwrite``. Each ROI layer written counts as saved afterwards.

    Parameters
    ----------
    viewer : napari.Viewer
    path : str or path-like
        The session file (``*.milna-session.json``).
    overwrite : bool
        Replace an existing session file and its ROI files.
    mark_saved : bool
        Count the ROI layers as saved in the files written (False for a copy that does
        not last, such as the one a report is made from).

    Returns
    -------
    SavedSession

    Raises
    ------
    MilnaInputError
        The file (or one of its ROI files) exists and ``overwrite`` is False, the folder
        does not exist, or a write fails.
    """
    path = Path(os.path.abspath(path))
    check_writable(path, overwrite)
    session, writes = capture_session(viewer, path)
    with output_set():  # the session and its ROI files appear together, or none
        for item in writes:
            save_roi_labels(item.labels, item.names, item.reference, item.path,
                            overwrite=overwrite)
        sf.write_session(session, path, overwrite=overwrite)
    for item in writes if mark_saved else ():
        _mark_saved(item.layer, item.path, item.labels, item.names)
    return SavedSession(path, [item.path for item in writes], list(session.notes))


# ====================================================================== restore
def _folder_tuples(folder: Path, state, missing: list[str]):
    """Layer tuples of the analysis folder by resolved file, and the opened folder."""
    from .reader import open_analysis_layers

    try:
        tuples, opened = open_analysis_layers(folder, state)
    except MilnaInputError as exc:
        missing.append(str(exc))
        return {}, None
    by_path: dict[str, list] = {}
    for item in tuples:
        src = item[1]["metadata"]["milna"]
        by_path.setdefault(str(Path(src.source.path).resolve()), []).append(item)
    return by_path, opened


def _file_tuple(rec: sf.LayerRecord, state):
    source = load_volume(rec.path, allow_run=True)
    state.prepare_for(source.grid, rec.name)
    return layer_tuple(source, state.space, spacing=state.display_spacing())


def _atlas_tuple(rec: sf.LayerRecord, state):
    from ..core.atlas import builtin_atlas, open_atlas

    atlas = builtin_atlas(rec.atlas) if rec.atlas else open_atlas(rec.path, rec.lut)
    state.prepare_for(atlas.grid, rec.name)
    return atlas_layer_tuple(atlas, state.space, state.display_spacing(), name=rec.name)


def _add_roi_layer(viewer, rec: sf.LayerRecord):
    roi = load_roi(rec.path)
    grid_source = None
    if rec.reference is not None and Path(rec.reference).exists():
        candidate = open_nifti(rec.reference)
        if candidate.grid.matches(roi.grid) and tuple(candidate.shape[:3]) == roi.grid.shape:
            grid_source = candidate
    if grid_source is None:
        grid_source = open_nifti(rec.path)
    names = dict(rec.roi_names) if rec.roi_names is not None else dict(roi.names)
    reference = Path(rec.reference).name.split(".nii")[0] if rec.reference else rec.name
    layer = add_roi_layer(viewer, roi.grid, grid_source, reference, roi.labels, names,
                          name=rec.name)
    _mark_saved(layer, rec.path, np.asarray(grid_data(layer)), names)
    return layer


def _apply_display(layer, rec: sf.LayerRecord) -> None:
    d = rec.display
    src = source_of(layer)
    if isinstance(layer, Image):
        if rec.statistic is not None and src is not None:
            s = rec.statistic
            src.df = tuple(s.df) if isinstance(s.df, list) else s.df
            src.threshold, src.vmax = float(s.threshold), float(s.vmax)
            ramp = stat_ramp(src.info.stat_type, src.threshold, src.vmax)
            layer.colormap = stat_colormap(ramp)
            layer.contrast_limits = ramp.limits
        elif d.colormap_points is not None:
            from napari.utils import Colormap

            points = d.colormap_points
            layer.colormap = Colormap(colors=points["colors"], controls=points["controls"],
                                      name=points.get("name") or "milna-session",
                                      interpolation=points.get("interpolation", "linear"))
        elif d.colormap:
            layer.colormap = d.colormap
        if d.contrast_limits is not None and rec.statistic is None:
            layer.contrast_limits = d.contrast_limits
        if d.interpolation:
            layer.interpolation2d = d.interpolation
    elif isinstance(layer, Labels) and d.contour is not None:
        layer.contour = int(d.contour)
    layer.opacity = float(d.opacity)
    layer.blending = d.blending
    layer.visible = bool(d.visible)


def _open_layer(viewer, rec: sf.LayerRecord, state, folder_tuples: dict):
    """Add one recorded layer to the viewer; returns it."""
    if rec.origin == "roi":
        return _add_roi_layer(viewer, rec)
    if rec.origin == "atlas":
        item = _atlas_tuple(rec, state)
    else:
        stack = folder_tuples.get(str(Path(rec.path).resolve())) if rec.origin == "analysis" \
            else None
        item = stack.pop(0) if stack else _file_tuple(rec, state)
    data, kwargs, layer_type = item
    kwargs = dict(kwargs, name=rec.name)
    kwargs["metadata"]["milna"].session_role = None  # the choices are set afterwards
    kwargs["metadata"]["milna"].focus_mm = None
    layer = Layer.create(data, kwargs, layer_type)
    viewer.add_layer(layer)
    return layer


def _restore_order(viewer, names: list[str]) -> None:
    for target, name in enumerate(names):
        current = viewer.layers.index(name)
        if current != target:
            viewer.layers.move(current, target)


def _restore_choices(viewer, session: sf.SessionFile, opened, restored: RestoredSession) -> None:
    from .reader import register_analysis

    study = StudySession.of(viewer)
    layers = {layer.name: layer for layer in viewer.layers}
    c = session.choices

    def layer(name):
        return layers.get(name) if name else None

    if opened is not None:
        register_analysis(opened, viewer)
    study.set_stat_map(layer(c.stat_map))
    if c.stat_map and layer(c.stat_map) is not None and c.df is not None:
        src = source_of(layer(c.stat_map))
        src.df = tuple(c.df) if isinstance(c.df, list) else c.df
    study.set_smoothness(None if c.smoothness is None else Smoothness(
        tuple(c.smoothness.fwhm_mm), c.smoothness.source))
    roi = layer(c.roi_layer)
    study.set_roi(roi, c.roi_label if roi is not None else 0)
    study.set_run(layer(c.run))
    for role in sf.MASK_ROLES:
        study.set_mask(role, layer(c.masks.get(role)))
    study.set_atlas(layer(c.atlas))
    for what, name in (("statistical map", c.stat_map), ("ROI layer", c.roi_layer),
                       ("run", c.run), ("atlas", c.atlas),
                       *((f"{role} mask", c.masks.get(role)) for role in sf.MASK_ROLES)):
        if name and name not in layers:
            restored.missing.append(f"The session's {what} {name!r} could not be opened.")


def _restore_view(viewer, session: sf.SessionFile) -> None:
    state = ViewerState.of(viewer)
    v = session.view
    if v.display_space and v.display_space in viewer.layers:
        src = source_of(viewer.layers[v.display_space])
        if src is not None:
            state.set_reference(src.grid, v.display_space, keep_cursor=True)
    elif v.display_space is None and not state.space.is_world:
        state.set_reference(None, keep_cursor=True)
    state.set_radiological(v.radiological)
    state.set_plane(v.plane)
    state.go_to_world(v.cursor_mm)


def restore_session(viewer, session: sf.SessionFile) -> RestoredSession:
    """Replace the viewer's layers with the session's, then its choices and view.

    Layers whose files no longer exist are left out and said (one sentence each); the
    others open in the saved order and display.

    Parameters
    ----------
    viewer : napari.Viewer
    session : SessionFile

    Returns
    -------
    RestoredSession
    """
    viewer = unwrap_viewer(viewer)
    restored = RestoredSession(session, missing=session.missing())
    viewer.layers.clear()
    state = ViewerState.of(viewer)
    if not state.space.is_world:
        state.set_reference(None, keep_cursor=False)
    folder = session.analysis_folder
    folder_tuples, opened = ({}, None)
    if folder is not None and Path(folder).is_dir() and any(
            rec.origin == "analysis" for rec in session.openable()):
        folder_tuples, opened = _folder_tuples(Path(folder), state, restored.missing)
    for rec in session.openable():
        try:
            layer = _open_layer(viewer, rec, state, folder_tuples)
        except MilnaInputError as exc:
            restored.missing.append(f"{exc} (layer {rec.name!r})")
            continue
        _apply_display(layer, rec)
        restored.opened.append(layer.name)
    _restore_order(viewer, restored.opened)
    _restore_choices(viewer, session, opened, restored)
    _restore_view(viewer, session)
    return restored


def open_session(viewer, path) -> RestoredSession:
    """Read the session file ``path`` and restore it in ``viewer``.

    Raises
    ------
    MilnaInputError
        The file is missing, not a session, or of a newer version (nothing changes then).
    """
    return restore_session(viewer, sf.read_session(path))


def default_session_path(viewer) -> Path:
    """Where "Save session" proposes to write: beside the analysis folder or the map.

    ``<folder>/<name>.milna-session.json`` with the analysis folder's (or the
    statistical map's) folder, else the current folder.
    """
    study = StudySession.of(viewer)
    if study.analysis is not None:
        folder = study.analysis.folder
        return folder.parent / f"{_safe(folder.name)}.milna-session.json"
    src = source_of(study.stat_map) if study.stat_map is not None else None
    if src is not None and src.source is not None:
        return Path(src.source.path).parent / "session.milna-session.json"
    return Path.cwd() / "session.milna-session.json"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "session"


__all__ = [
    "RestoredSession",
    "RoiWrite",
    "SavedSession",
    "capture_session",
    "default_session_path",
    "open_session",
    "restore_session",
    "save_session",
]
