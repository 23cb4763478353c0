"""The SVC tab's parameter form: a magicgui Container bound to the study session.

The map, the ROI (layer and label) and the analysis mask are the session's
(:class:`~napari_milna._napari.session.StudySession`): a choice here goes to the session,
and a change in the session (another tab, an opened analysis folder, the crossover
tab's "Send group T to SVC") shows here. When the session has no ROI yet, the form
takes an ROI layer drawn on the map's grid (else the first labels layer) and says so.
The statistic's type and df start from what the map's folder or header says (a typed
df overrides them for the test); the smoothness is :class:`.smoothness.SmoothnessChoice`;
alpha, the tails, the cluster-forming height and the extent threshold are the test's own
parameters.
"""

from __future__ import annotations

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSpinBox,
    Label,
    LineEdit,
    PushButton,
    SpinBox,
)
from psygnal import Signal

from ..._napari.layers import source_of
from ...core.protocol import SVC_ALPHA, SVC_HEIGHT_P
from ..panel.session_picker import SessionPicker
from .layer_io import df_text, header_df, label_choices

#: The statistic type choices: (text, value).
STAT_TYPES = (("T", "T"), ("Z", "Z"), ("F", "F"), ("?", None))
NONE_TEXT = "(none)"


def _row(label: str, *widgets) -> Container:
    """Widgets side by side as one labelled row of the form."""
    row = Container(widgets=list(widgets), layout="horizontal", labels=False, label=label)
    row.margins = (0, 0, 0, 0)
    return row


def _p_box(name: str, label: str, value: float, step: float, tooltip: str) -> FloatSpinBox:
    box = FloatSpinBox(name=name, label=label, value=value, min=0.0001, max=0.5, step=step)
    box.native.setDecimals(4)
    box.tooltip = tooltip
    return box


class SvcForm:
    """The SVC parameters (magicgui) bound to the study session.

    Parameters
    ----------
    session : StudySession
    smoothness : SmoothnessChoice

    Attributes
    ----------
    container : magicgui Container
        The form (``container.native`` is its Qt widget).
    stat_map, roi_layer, mask : magicgui ComboBox
        The session's statistical map, ROI layer and analysis mask (the widgets of the
        panel's :class:`~napari_milna.widgets.panel.session_picker.SessionPicker` in
        ``pickers``: a pick goes to the session, a change in the session shows).
    roi_label : ComboBox
        The session's ROI label (``"PAG (1)"``).
    stat_type, df : ComboBox, LineEdit
        Statistic and degrees of freedom (``df_source`` says where they came from).
    alpha, two_sided, height_p, extent, rpv
        FWE level, both tails, cluster-forming p, extent threshold k (voxels), and
        non-stationary cluster extents from the folder's RPV image.
    """

    #: A parameter changed (recompute).
    changed = Signal()
    #: The statistic map changed (the layer or None).
    map_changed = Signal(object)
    #: The ROI layer changed (the layer or None).
    roi_layer_changed = Signal(object)

    def __init__(self, session, smoothness):
        self.session = session
        self.smoothness = smoothness
        self._syncing = False
        self.pickers = {
            "stat_map": SessionPicker(session, "stat_map", "Map", tooltip="Statistical map (T, "
                                      "Z or F) to correct within the ROI"),
            "roi_layer": SessionPicker(session, "roi_layer", tooltip="Labels layer holding "
                                       "the ROI (one label value per ROI)", min_chars=10),
            "analysis": SessionPicker(session, "analysis", "Mask", tooltip="Analysis mask "
                                      "(voxels with data); (none): the map's folder mask, "
                                      "else its non-zero, non-NaN voxels"),
        }
        self.stat_map = self.pickers["stat_map"].widget
        self.roi_layer = self.pickers["roi_layer"].widget
        self.mask = self.pickers["analysis"].widget
        self.stat_type = ComboBox(name="stat_type", choices=STAT_TYPES, value="T")
        self.stat_type.tooltip = "Statistic of the map (from its folder or header)"
        self.df = LineEdit(name="df", value="")
        self.df.tooltip = ("Degrees of freedom: from SPM.mat, FSL's dof, SPM's header "
                           "(SPM{T_[df]}) or a sidecar; edit to override. T: one value; "
                           "F: two (DF1, DF2)")
        self.df_source = Label(name="df_source", value="")
        self.roi_label = ComboBox(name="roi_label", choices=self._label_choices)
        self.roi_label.tooltip = "The ROI (label) to search"
        self.resample = PushButton(name="resample", text="Resample ROI onto the map's grid",
                                   visible=False)
        self.resample.tooltip = ("Make a copy of the ROI layer on the statistic map's grid "
                                 "(nearest neighbour); the original is kept")
        self.alpha = _p_box("alpha", "FWE alpha", SVC_ALPHA, 0.01, "Family-wise error level")
        self.two_sided = CheckBox(name="two_sided", text="two-sided", value=False)
        self.two_sided.tooltip = "Search both tails, alpha / 2 per tail (T and Z maps)"
        self.height_p = _p_box("height_p", "Cluster p", SVC_HEIGHT_P, 0.001,
                               "Uncorrected p that defines clusters and listed maxima")
        self.extent = SpinBox(name="extent", value=0, min=0, max=10**6)
        self.extent.tooltip = "Extent threshold k: clusters of fewer voxels are not listed"
        self.rpv = CheckBox(name="rpv", text="RPV", value=True)
        self.rpv.tooltip = ("Non-stationary cluster extents from the folder's resels-per-"
                            "voxel image (SPM's RPV.nii), as SPM does; off: k x V2R")
        self.container = Container(widgets=[
            self.stat_map,
            _row("Statistic", self.stat_type, self.df, self.df_source),
            _row("ROI", self.roi_layer, self.roi_label),
            self.resample,
            self.mask,
            *smoothness.widgets,
            _row("FWE alpha", self.alpha, self.two_sided),
            _row("Cluster p", self.height_p, Label(value="k >="), self.extent, self.rpv),
        ])
        self.container.margins = (0, 0, 0, 0)

        self.roi_label.changed.connect(self._on_label_widget)
        self.df.changed.connect(self._on_df_widget)
        for widget in (self.stat_type, self.alpha, self.two_sided, self.height_p,
                       self.extent, self.rpv):
            widget.changed.connect(self._emit)
        smoothness.changed.connect(self._emit)
        session.stat_map_changed.connect(self._on_session_map)
        session.roi_changed.connect(self._on_session_roi)
        session.mask_changed.connect(self._on_session_mask)
        session.layers_changed.connect(self.refresh)
        self.refresh()
        self._on_session_map(session.stat_map)

    # ------------------------------------------------------------------ choices
    def _label_choices(self, widget=None) -> list:
        layer = self.session.roi_layer
        return label_choices(layer) if layer is not None else [(NONE_TEXT, 0)]

    def _set(self, widget, value) -> None:
        """Show ``value`` in ``widget`` without writing it back to the session."""
        self._syncing = True
        try:
            widget.reset_choices()
            if value in [v for v in widget.choices] and widget.value is not value:
                widget.value = value
        finally:
            self._syncing = False

    def refresh(self, *args) -> None:
        """Follow the viewer's layers (added, removed, renamed) and the session's choices."""
        self.pickers["roi_layer"].propose(self.preferred_roi())
        self.refresh_labels()

    def preferred_roi(self):
        """An ROI layer drawn on the map's grid, else the first labels layer that is no mask."""
        session = self.session
        candidates = [lay for lay in session.roi_layers()
                      if not any(lay is m for m in session.masks.values())]
        stat = session.stat_map
        if stat is not None:
            grid = source_of(stat).grid
            for layer in candidates:
                src = source_of(layer)
                if src.source is None and src.grid.matches(grid):
                    return layer
        return candidates[0] if candidates else None

    def refresh_labels(self) -> None:
        """List the labels of the ROI layer (painting adds some) and show the session's."""
        self._set(self.roi_label, self.session.roi_label)

    # ------------------------------------------------------------------ widget -> session
    def _emit(self, *args) -> None:
        self.changed.emit()

    def _on_label_widget(self, label) -> None:
        if not self._syncing and self.session.roi_layer is not None:
            self.session.set_roi(self.session.roi_layer, int(label or 0))

    def _on_df_widget(self, text) -> None:
        """A typed df is the map's df in use (``LayerSource.df``)."""
        layer = self.session.stat_map
        if not self._syncing and layer is not None:
            self.df_source.value = "typed" if text.strip() else ""
        self.changed.emit()

    # ------------------------------------------------------------------ session -> widgets
    def _on_session_map(self, layer) -> None:
        folder_map = self._folder_map(layer)
        self._syncing = True
        try:
            if layer is not None:
                src = source_of(layer)
                usable = folder_gives_stat(folder_map)
                stat = folder_map.stat_type if usable else src.info.stat_type
                self.stat_type.value = stat if stat in ("T", "Z", "F") else None
                self.df.value = df_text(folder_map.df if usable else header_df(layer))
                self.df_source.value = df_words(folder_map if usable else None, src)
                self.rpv.enabled = folder_map is not None and folder_map.rpv is not None
            else:
                self.df.value, self.df_source.value = "", ""
        finally:
            self._syncing = False
        self.smoothness.follow_map(folder_map)
        self.map_changed.emit(layer)
        self.changed.emit()

    def _folder_map(self, layer):
        try:
            return self.session.folder_map(layer)
        except Exception:  # noqa: BLE001 - said when the SVC gathers its inputs
            return None

    def _on_session_roi(self, layer, label) -> None:
        self.refresh_labels()
        self.roi_layer_changed.emit(layer)
        self.changed.emit()

    def _on_session_mask(self, role, layer) -> None:
        if role == "analysis":
            self.changed.emit()

    # ------------------------------------------------------------------ reading
    def typed_df(self) -> str:
        """The df box's text."""
        return self.df.value.strip()


def folder_gives_stat(folder_map) -> bool:
    """True when the folder says the map's statistic and df (else the header does).

    As ``milna svc``: a folder that names a T or F map without its df (a BIDS map
    without a sidecar) leaves them to the map's header.
    """
    return folder_map is not None and folder_map.stat_type in ("T", "Z", "F") and (
        folder_map.stat_type == "Z" or folder_map.df is not None)


def df_words(folder_map, src) -> str:
    """Where the df came from: ``"SPM.mat xX.erdf"``, ``"voxelwise 14 (FEAT ...), as z"``."""
    if folder_map is not None:
        if folder_map.converted is not None:
            lo, hi = folder_map.converted["df_min"], folder_map.converted["df_max"]
            span = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
            return f"voxelwise df {span}: FSL's z"
        return folder_map.df_source or ""
    if src is not None and src.info.df is not None:
        return f"{src.info.source} header" if src.info.source else "header"
    return ""


__all__ = ["STAT_TYPES", "SvcForm", "df_words", "folder_gives_stat"]
