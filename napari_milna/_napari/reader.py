"""npe2 reader: NIfTI files as napari layers, placed by their affine; analysis folders as a unit.

An SPM, FEAT, randomise or BIDS statistics folder (dropped, File > Open Folder, or
``viewer.open(folder, plugin="napari-milna")``) opens as one unit: its contrast maps as
statistic layers with the folder's df (a FEAT t map with voxelwise df shown as FSL's z),
its analysis mask as the study session's analysis mask, its smoothness as the session's
smoothness, and one notification naming what was found and what was missing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error, show_info

from ..core.errors import MilnaInputError
from ..core.io.geometry import DisplaySpace
from ..core.io.kinds import ImageInfo, ImageKind
from ..core.io.nifti import is_nifti_path, load_volume
from .layers import atlas_layer_tuple, layer_tuple


def _current_state():
    import napari

    from .viewer_state import ViewerState

    viewer = napari.current_viewer()
    return ViewerState.of(viewer) if viewer is not None else None


def get_reader(path: str | Sequence[str]):
    """The reader of ``path``: NIfTI files, an analysis folder, or None (not ours)."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if paths and all(is_nifti_path(p) for p in paths):
        return read_nifti
    if len(paths) == 1 and is_analysis_folder(paths[0]):
        return read_analysis_folder
    return None


def read_nifti(path: str | Sequence[str]) -> list[tuple]:
    """Read NIfTI files into layer-data tuples.

    A file that cannot be used gives one notification naming it and what is wrong;
    the other files still open and the viewer carries on.

    Parameters
    ----------
    path : str or sequence of str

    Returns
    -------
    list of tuple
        ``(data, kwargs, layer_type)`` per file, or napari's null-layer sentinel
        ``[(None,)]`` when no file could be read.
    """
    paths = [path] if isinstance(path, str) else list(path)
    state = _current_state()
    layers = []
    for p in paths:
        try:
            layers.append(_read_one(p, state))
        except MilnaInputError as exc:
            show_error(str(exc))
        except Exception as exc:  # noqa: BLE001 - a file must never raise into napari
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            show_error(f"{p}: could not be opened ({reason}).")
    return layers or [(None,)]


def _read_one(path, state) -> tuple:
    """The layer tuple of one file (raises MilnaInputError for a file that cannot be used)."""
    source = load_volume(path, allow_run=True)
    atlas = _atlas_of(source)
    if atlas is not None:
        return _atlas_layer(atlas, source, state)
    if state is None:
        space = (
            DisplaySpace.world()
            if source.grid.is_axis_aligned
            else (DisplaySpace.of_reference(source.grid, source.name))
        )
        return layer_tuple(source, space)
    state.prepare_for(source.grid, source.name)
    return layer_tuple(source, state.space, spacing=state.display_spacing())


def _atlas_of(source):
    """The atlas a file is (label image or 4D probabilistic atlas with its names), or None.

    Raises
    ------
    MilnaInputError
        An atlas that cannot be used (its table lacks labels, no known space, ...).
    """
    from ..core.atlas import is_atlas, open_atlas

    if not is_atlas(source):
        return None
    return open_atlas(source.path)


def _atlas_layer(atlas, source, state) -> tuple:
    """An atlas as one labels layer with its names (notified once)."""
    kind = "probabilistic, one volume per label" if atlas.is_probabilistic else "labels"
    show_info(f"Opened the atlas {source.name}: {atlas.n_labels} labels ({kind}), "
              f"{atlas.space}; the cursor read-out names the label under the cursor.")
    if state is None:
        space = (DisplaySpace.world() if atlas.grid.is_axis_aligned
                 else DisplaySpace.of_reference(atlas.grid, source.name))
        return atlas_layer_tuple(atlas, space, name=source.name)
    state.prepare_for(atlas.grid, source.name)
    return atlas_layer_tuple(atlas, state.space, state.display_spacing(), name=source.name)


# ---------------------------------------------------------------------- analysis folders
def is_analysis_folder(path) -> bool:
    """True for a folder that is (or looks like) an SPM, FEAT, randomise or BIDS analysis."""
    from ..core.analysis import analysis_kind
    from ..core.analysis.spm import looks_like_spm

    folder = Path(path)
    if not folder.is_dir():
        return False
    return (analysis_kind(folder) is not None or bool(looks_like_spm(folder))
            or (folder / "stats").is_dir() or (folder / "design.fsf").is_file())


def _df_words(folder_map) -> str:
    """``"T, df 14"``, ``"FSL z of t, df 14"``, ``"Z"``, ``"F, df 1, 20"``."""
    if folder_map.converted is not None:
        lo, hi = folder_map.converted["df_min"], folder_map.converted["df_max"]
        return "FSL z of t, df " + (f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}")
    df = folder_map.df
    if df is None:
        return folder_map.stat_type or "?"
    if isinstance(df, tuple):
        return f"{folder_map.stat_type}, df " + ", ".join(f"{v:g}" for v in df)
    return f"{folder_map.stat_type}, df {df:g}"


def _map_source(folder_map):
    """The file of a contrast map, or its t map converted to z (FSL's zstat) in memory."""
    import nibabel as nib

    from ..core.io.nifti import NiftiSource, load_volume

    source = load_volume(folder_map.path)
    if folder_map.converted is None:
        return source
    image = nib.Nifti1Image(np.asarray(folder_map.data, np.float32), source.grid.affine,
                            source.header.copy())
    image.header["descrip"] = b"FSL z of t (voxelwise df)"
    return NiftiSource(path=source.path, image=image, grid=source.grid, shape=source.shape,
                       _volume=np.asarray(folder_map.data))


def _layer(source, info, name: str, role: str | None, state, **overrides) -> tuple:
    if state is None:
        data, kwargs, layer_type = layer_tuple(source, DisplaySpace.world(), info=info)
    else:
        state.prepare_for(source.grid, source.name)
        data, kwargs, layer_type = layer_tuple(source, state.space, info=info,
                                               spacing=state.display_spacing())
    kwargs.update(overrides)
    kwargs["name"] = name
    kwargs["metadata"]["milna"].session_role = role
    return data, kwargs, layer_type


def _one_minus_p_layer(p_map, state) -> tuple:
    """A randomise ``1 - p`` image: transparent up to ``1 - 0.05``, then yellow to red."""
    from napari.utils import Colormap

    from ..core.io.nifti import load_volume

    cut = p_map.threshold(0.05)
    colormap = Colormap(
        colors=[[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 1], [1, 0, 0, 1]],
        controls=[0.0, cut - 1e-6, cut, 1.0], name="milna-one-minus-p",
    )
    source = load_volume(p_map.path)
    info = ImageInfo(ImageKind.PROBABILITY, source="FSL randomise",
                     label=f"randomise {p_map.kind} (1 - p; > {cut:g} is p < 0.05)")
    return _layer(source, info, f"{source.name} (1 - p)", None, state, colormap=colormap,
                  contrast_limits=(0.0, 1.0), blending="translucent", opacity=1.0)


def open_analysis_layers(folder, state=None) -> tuple[list[tuple], object]:
    """Layer tuples of an analysis folder and what it holds (:class:`OpenAnalysis`).

    Contrast maps become statistic layers named ``"<contrast> (T, df 14)"`` (the first
    taken as the session's statistical map); the analysis mask a labels layer taken as
    the session's analysis mask; randomise ``1 - p`` images p maps thresholded at
    ``1 - 0.05``. A contrast that cannot be opened is listed in ``missing``.

    Raises
    ------
    MilnaInputError
        Not an analysis folder, or one that lacks its key file.
    """
    from ..core.analysis import folder_stat_map, open_analysis
    from ..core.io.nifti import load_volume
    from .session import OpenAnalysis

    analysis = open_analysis(folder)
    kind = {"spm": "SPM", "feat": "FEAT", "randomise": "randomise", "bids": "BIDS"}[
        analysis.kind]
    layers, maps, found, missing = [], {}, [], list(analysis.notes)
    for contrast in analysis.contrasts:
        if contrast.path is None:
            missing.append(f"contrast {contrast.index} ({contrast.name}) has no statistic image")
            continue
        try:
            folder_map = folder_stat_map(analysis.folder, contrast.index)
            source = _map_source(folder_map)
        except MilnaInputError as exc:
            missing.append(str(exc).rstrip("."))
            continue
        words = _df_words(folder_map)
        label = (f"{kind} z of t (voxelwise df)" if folder_map.converted is not None
                 else f"{kind} {folder_map.stat_type} map")
        info = ImageInfo(ImageKind.STAT, folder_map.stat_type or None, folder_map.df, kind,
                         label)
        role = "stat_map" if not maps else None
        layers.append(_layer(source, info, f"{contrast.name} ({words})", role, state))
        maps[str(folder_map.path)] = folder_map
        source_words = folder_map.df_source or "the header"
        found.append(f"{contrast.name} ({words} from {source_words})")
        for p_map in contrast.p_maps.values():
            try:
                layers.append(_one_minus_p_layer(p_map, state))
            except MilnaInputError as exc:
                missing.append(str(exc).rstrip("."))
    mask = analysis.mask or next((c.mask for c in analysis.contrasts if c.mask), None)
    if mask is not None:
        try:
            source = load_volume(mask)
            layers.append(_layer(source, None, f"analysis mask ({Path(analysis.folder).name})",
                                 "analysis", state))
            found.append(f"{Path(mask).name} as the analysis mask")
        except MilnaInputError as exc:
            missing.append(str(exc).rstrip("."))
    else:
        missing.append("no analysis mask")
    smooth = next((m.smoothness for m in maps.values() if m.smoothness is not None), None)
    if smooth is not None:
        found.append(f"FWHM {' x '.join(f'{v:.3g}' for v in smooth.fwhm_mm)} mm from "
                     f"{smooth.source}")
    elif maps:
        missing.append("no smoothness (type the FWHM in the SVC tab)")
    if analysis.rpv is not None:
        found.append(f"{Path(analysis.rpv).name} for cluster extents")
    return layers, OpenAnalysis(analysis, maps, found, missing)


def analysis_message(opened) -> str:
    """One notification: what the folder gave and what it lacked."""
    kind = {"spm": "SPM", "feat": "FEAT", "randomise": "randomise", "bids": "BIDS"}[
        opened.analysis.kind]
    text = f"Opened the {kind} folder {opened.folder.name}: " + (
        "; ".join(opened.found) if opened.found else "no statistic map could be opened")
    if opened.missing:
        text += ". Missing: " + "; ".join(opened.missing)
    return text + "."


def _plain_maps(folder: Path) -> list[str]:
    """NIfTI statistic maps and masks of a folder that could not be opened as a unit."""
    from ..core.io.kinds import classify
    from ..core.io.nifti import open_nifti

    out = []
    for sub in (folder, folder / "stats"):
        if not sub.is_dir():
            continue
        for path in sorted(sub.iterdir()):
            if not is_nifti_path(path):
                continue
            try:
                source = open_nifti(path)
                if source.is_run:
                    continue
                kind = classify(source).kind
            except MilnaInputError:
                continue
            if kind in (ImageKind.STAT, ImageKind.MASK):
                out.append(str(path))
    return out


def register_analysis(opened, viewer=None) -> None:
    """Tell the viewer's study session about an opened folder and take its smoothness."""
    import napari

    from .session import Smoothness, StudySession

    viewer = viewer if viewer is not None else napari.current_viewer()
    if viewer is None:
        return
    session = StudySession.of(viewer)
    session.set_analysis(opened)
    smooth = next((m.smoothness for m in opened.maps.values() if m.smoothness is not None),
                  None)
    if smooth is not None:
        session.set_smoothness(Smoothness(tuple(smooth.fwhm_mm), smooth.source))


def read_analysis_folder(path: str | Sequence[str]) -> list[tuple]:
    """Read an analysis folder as one unit (see the module notes).

    The study session of the current viewer learns the folder (df, smoothness, mask and
    RPV of each map) and takes its smoothness. A folder that cannot be opened as a unit
    gives one sentence, and its statistic maps and masks open as single files.

    Returns
    -------
    list of tuple
        Layer-data tuples, or napari's null-layer sentinel ``[(None,)]``.
    """
    folder = Path(path if isinstance(path, (str, os.PathLike)) else path[0])
    try:
        layers, opened = open_analysis_layers(folder, _current_state())
    except Exception as exc:  # noqa: BLE001 - a folder must never raise into napari
        if isinstance(exc, MilnaInputError):
            show_error(str(exc))
        else:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            show_error(f"{folder}: could not be opened as an analysis folder ({reason}).")
        plain = _plain_maps(folder)
        return read_nifti(plain) if plain else [(None,)]
    register_analysis(opened)
    show_info(analysis_message(opened))
    return layers or [(None,)]
