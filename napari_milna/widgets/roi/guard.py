"""Unsaved ROI edits are never lost silently.

:class:`UnsavedGuard` (one per viewer) watches

* the main window's close event: with unsaved ROI layers it asks Save / Discard /
  Cancel (Cancel keeps the window open; Save writes each layer where it was last
  saved, or asks for a file). When the viewer is torn down by code
  (``viewer.close()``), which cannot be cancelled, it writes recovery copies;
* layer removal, which napari cannot veto: a removed ROI layer with unsaved edits
  is written atomically to the recovery folder (``$MILNA_RECOVERY_DIR`` or
  ``~/.cache/napari-milna/recovery``) and the notification names the file.
"""

from __future__ import annotations

import weakref

from qtpy.QtCore import QEvent, QObject, QTimer

from ..._napari.compat import qt_viewer
from ..._napari.roi_layers import write_recovery
from ..panel.status import notify
from . import dialogs as roi_dialogs
from .files import save_again
from .session import is_unsaved


class UnsavedGuard(QObject):
    """Close and removal guard of one viewer; get it with :meth:`install`.

    A child of the main window (it lives and dies with it); it holds the viewer and
    napari's QtViewer only weakly.
    """

    def __init__(self, viewer):
        window = viewer.window._qt_window
        super().__init__(window)
        self.setObjectName("milna-unsaved-guard")
        self._viewer_ref = weakref.ref(viewer)
        qt = qt_viewer(viewer)
        self._qt_viewer_ref = weakref.ref(qt) if qt is not None else (lambda: None)
        self.tearing_down = False
        self.recovered: list = []
        self._discarded: set[int] = set()  # layers whose edits the user chose to discard
        window.installEventFilter(self)
        if qt is not None:
            qt.installEventFilter(self)
        viewer.layers.events.removed.connect(self._on_removed)

    @classmethod
    def install(cls, viewer) -> UnsavedGuard:
        """The guard of ``viewer`` (installed on first call)."""
        window = viewer.window._qt_window
        for child in window.findChildren(QObject, "milna-unsaved-guard"):
            if isinstance(child, cls):
                return child
        return cls(viewer)

    @property
    def viewer(self):
        """The napari viewer (None once gone)."""
        return self._viewer_ref()

    @property
    def window(self):
        """The napari main window."""
        return self.parent()

    def unsaved_layers(self) -> list:
        """ROI layers with unsaved edits."""
        viewer = self.viewer
        return [layer for layer in viewer.layers if is_unsaved(layer)] if viewer else []

    def recover(self, layer, why: str):
        """Write a recovery copy of ``layer`` and say where (None if that failed too)."""
        try:
            path = write_recovery(layer)
        except Exception as exc:  # noqa: BLE001 - the user must hear about any failure
            notify("error", f"{layer.name}: unsaved ROI edits could not be written ({exc}).")
            return None
        self.recovered.append(path)
        notify(
            "warning", f"{layer.name} {why} with unsaved ROI edits; a recovery copy is in {path}."
        )
        return path

    def _on_removed(self, event) -> None:
        layer = event.value
        if id(layer) in self._discarded:
            self._discarded.discard(id(layer))
            return
        if is_unsaved(layer):
            self.recover(layer, "was removed")

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        """Intercept the close events of the main window (and note a teardown)."""
        if event.type() != QEvent.Type.Close:
            return False
        if obj is self._qt_viewer_ref():
            self.tearing_down = True  # viewer.close(): the window follows, no way back
            return False
        if obj is self.window:
            return self.on_close(event)
        return False

    def on_close(self, event) -> bool:
        """Handle a close of the main window; True when the close is cancelled."""
        layers = self.unsaved_layers()
        if not layers:
            return False
        if self.tearing_down:
            for layer in layers:
                self.recover(layer, "was closed")
            return False
        names = ", ".join(layer.name for layer in layers)
        choice = roi_dialogs.ask_unsaved(
            self.window,
            f"These ROI layers have unsaved edits: {names}.\n\n"
            "Save them (where each was last saved, or in a file you choose), discard the "
            "edits, or cancel closing?",
        )
        if choice == "cancel":
            event.ignore()
            return True
        if choice == "save":
            for layer in layers:
                if not save_again(layer, self.window):
                    event.ignore()
                    return True
        else:  # discard: the layers removed while the window closes get no recovery copy
            self._discarded |= {id(layer) for layer in layers}
            QTimer.singleShot(0, self._discarded.clear)  # only for this close
        return False
