"""One object per napari viewer: the registry the session, the display state and others share.

napari hands plugin docks a public-only proxy of the viewer; what belongs to a viewer
belongs to the viewer itself, so the proxy is unwrapped first (:func:`unwrap_viewer`).
A class that derives from :class:`OnePerViewer` gets :meth:`~OnePerViewer.of` (the
object of a viewer, made on first use and forgotten with the viewer) and
:meth:`~OnePerViewer.existing` (the object if there is one).
"""

from __future__ import annotations

import weakref


def unwrap_viewer(viewer):
    """The napari viewer behind a plugin's public-only proxy (or the viewer itself)."""
    return getattr(viewer, "__wrapped__", viewer)


class OnePerViewer:
    """Base of the classes with one object per napari viewer.

    Parameters
    ----------
    viewer : napari.Viewer
        The viewer itself (:meth:`of` unwraps napari's proxy before it makes the object).
    """

    _registry: dict[int, OnePerViewer] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._registry = {}  # each class its own objects

    def __init__(self, viewer):
        self._viewer_ref = weakref.ref(viewer)

    @classmethod
    def of(cls, viewer):
        """The object of ``viewer`` (made on first use; napari's plugin proxy unwrapped)."""
        viewer = unwrap_viewer(viewer)
        key = id(viewer)
        obj = cls._registry.get(key)
        if obj is None or obj.viewer is not viewer:
            obj = cls(viewer)
            cls._registry[key] = obj
            weakref.finalize(viewer, cls._registry.pop, key, None)
            obj._attached()
        return obj

    @classmethod
    def existing(cls, viewer):
        """The object of ``viewer`` if it was ever made, else None."""
        viewer = unwrap_viewer(viewer)
        obj = cls._registry.get(id(viewer))
        return obj if obj is not None and obj.viewer is viewer else None

    @property
    def viewer(self):
        """The napari viewer (None once it is gone)."""
        return self._viewer_ref()

    def _attached(self) -> None:
        """Called once the new object is registered (it may now ask for others of the viewer)."""


__all__ = ["OnePerViewer", "unwrap_viewer"]
