"""npe2 reader: NIfTI files as napari layers, placed by their affine."""

from __future__ import annotations

from collections.abc import Sequence

from napari.utils.notifications import show_error

from ..core.errors import MilnaInputError
from ..core.io.geometry import DisplaySpace
from ..core.io.nifti import is_nifti_path, load_volume
from .layers import layer_tuple


def _current_state():
    import napari

    from .viewer_state import ViewerState

    viewer = napari.current_viewer()
    return ViewerState.of(viewer) if viewer is not None else None


def get_reader(path: str | Sequence[str]):
    """Return :func:`read_nifti` when every path is a NIfTI file, else None."""
    paths = [path] if isinstance(path, str) else list(path)
    if paths and all(is_nifti_path(p) for p in paths):
        return read_nifti
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
            source = load_volume(p, allow_run=True)
        except MilnaInputError as exc:
            show_error(str(exc))
            continue
        if state is None:
            space = (
                DisplaySpace.world()
                if source.grid.is_axis_aligned
                else (DisplaySpace.of_reference(source.grid, source.name))
            )
            layers.append(layer_tuple(source, space))
            continue
        state.prepare_for(source.grid, source.name)
        layers.append(layer_tuple(source, state.space, spacing=state.display_spacing()))
    return layers or [(None,)]
