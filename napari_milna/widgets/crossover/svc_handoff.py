"""Hand the crossover's group T map to the small-volume correction dock.

Coordination goes through the layer: the group T map becomes a napari-milna stat
layer (kind STAT, stat type T, df from its ``SPM{T_[df]}`` header), which every
widget that lists statistical maps sees. If an SVC dock is open it is asked to
select that layer; otherwise the plugin's "Small-volume correction" widget is opened
when the plugin provides one. Nothing here depends on the SVC dock's internals
beyond a few duck-typed entry points tried in order.
"""

from __future__ import annotations

from ..._napari.layers import layer_tuple, source_of
from ..._napari.viewer_state import ViewerState
from ...core.io.kinds import ImageKind
from ...core.io.nifti import load_volume

PLUGIN = "napari-milna"
SVC_WIDGET = "Small-volume correction"
#: Methods of an SVC dock that select a stat layer, tried in order.
SELECT_METHODS = ("select_stat_layer", "set_stat_layer", "set_stat_map")


def find_svc_dock(viewer):
    """The open SVC dock widget of ``viewer``, or None."""
    window = getattr(viewer, "window", None)
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


def open_svc_dock(viewer):
    """Open the plugin's SVC widget; None when the plugin has none (or it fails to open)."""
    try:
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, SVC_WIDGET)
    except Exception:  # noqa: BLE001 - an absent or broken widget must not break the viewer
        return None
    return getattr(widget, "native", widget)


def select_in_svc(dock, layer) -> bool:
    """Ask an SVC dock to use ``layer`` as its statistical map; True when it took it."""
    for name in SELECT_METHODS:
        method = getattr(dock, name, None)
        if callable(method):
            method(layer)
            return True
    combo = getattr(dock, "stat_combo", None)
    if combo is not None and callable(getattr(combo, "set_layer", None)):
        if callable(getattr(combo, "refresh", None)):
            combo.refresh()
        combo.set_layer(layer)
        current = getattr(combo, "layer", None)
        if current is None:
            return True
        return (current() if callable(current) else current) is layer
    return False


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
    """Add the group T map as a stat layer and select it in the SVC dock.

    Returns
    -------
    (layer, message)
        The stat layer and one sentence saying where it went.
    """
    layer = add_stat_layer(viewer, path, name)
    dock = find_svc_dock(viewer)
    opened = False
    if dock is None:
        dock = open_svc_dock(viewer)
        opened = dock is not None
    df = source_of(layer).df
    if dock is None:
        return layer, (f"Added {name} (T, df {df:g}); open a small-volume correction widget "
                       "and choose this layer.")
    selected = select_in_svc(dock, layer)
    where = "opened the small-volume correction dock" if opened else "in the SVC dock"
    if selected:
        return layer, f"{name} (T, df {df:g}) selected {where}."
    return layer, f"Added {name} (T, df {df:g}); choose it {where}."
