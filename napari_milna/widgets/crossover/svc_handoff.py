"""Hand the crossover's group T map to small-volume correction, through the study session.

The group T map becomes a napari-milna stat layer (kind STAT, stat type T, df from its
``SPM{T_[df]}`` header) and the session's statistical map
(:meth:`StudySession.set_stat_map`); the SVC tab follows the session. The milna panel
(opened when it is not) brings its SVC tab to the front.
"""

from __future__ import annotations

from ..._napari.layers import layer_tuple, source_of
from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState, unwrap_viewer
from ...core.io.kinds import ImageKind
from ...core.io.nifti import load_volume

#: Name of the small-volume correction tab of the milna panel (and of the separate dock).
SVC_TAB = "SVC"
SVC_WIDGET = "Small-volume correction"


def find_svc_dock(viewer):
    """The small-volume correction widget shown for ``viewer`` (panel tab or dock), or None."""
    from ..panel.panel import find_panel

    panel = find_panel(viewer)
    if panel is not None and panel.built_tab(SVC_TAB) is not None:
        return panel.built_tab(SVC_TAB)
    window = getattr(unwrap_viewer(viewer), "window", None)
    docks = getattr(window, "dock_widgets", None)
    if docks is None:
        return None
    try:
        items = list(docks.items())
    except (AttributeError, RuntimeError):
        return None
    for name, widget in items:
        inner = getattr(widget, "native", widget)
        if SVC_WIDGET.lower() in str(name).lower() or type(inner).__name__ == "SvcDock":
            return inner
    return None


def add_stat_layer(viewer, path, name: str):
    """Add (or reuse) a napari-milna stat layer of the T map at ``path``, named ``name``.

    Returns
    -------
    napari layer
        Kind STAT with the T type and df of the file's ``SPM{T_[df]}`` description.
    """
    if name in viewer.layers:
        layer = viewer.layers[name]
        src = source_of(layer)
        if src is not None and src.source is not None and str(src.source.path) == str(path):
            return layer
        viewer.layers.remove(layer)
    source = load_volume(path)
    data, kwargs, layer_type = layer_tuple(source, ViewerState.of(viewer).space)
    src = kwargs["metadata"]["milna"]
    if src.info.kind != ImageKind.STAT or src.info.stat_type != "T":
        raise ValueError(f"{path} is not read back as a T map ({src.info.label})")
    kwargs["name"] = name
    return getattr(viewer, f"add_{layer_type}")(data, **kwargs)


def send_to_svc(viewer, path, name: str) -> tuple[object, str]:
    """Make the group T map the study's statistical map and show the SVC tab.

    Returns
    -------
    (layer, message)
        The stat layer and one sentence saying what happened.
    """
    from ..panel.panel import open_panel

    layer = add_stat_layer(viewer, path, name)
    StudySession.of(viewer).set_stat_map(layer)
    open_panel(viewer, tab=SVC_TAB)
    df = source_of(layer).df
    return layer, f"{name} (T, df {df:g}) selected as the statistical map of the SVC tab."
