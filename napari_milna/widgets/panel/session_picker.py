"""A magicgui picker bound both ways to one choice of the study session.

:class:`SessionPicker` is a compact magicgui ``ComboBox`` over the layers that can take
one role of the viewer's :class:`~napari_milna._napari.session.StudySession` (the run,
the statistical map, the ROI layer, or the brain / CSF / analysis mask). It shows the
session's choice and follows it when another tab changes it; a pick in it goes to the
session. It keeps no copy of the choice.
"""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import ComboBox
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox

from ..._napari.session import MASK_ROLES

#: Roles a picker can show: the session's attributes, then its mask roles.
PICKER_ROLES = ("run", "stat_map", "roi_layer") + MASK_ROLES


class SessionPicker:
    """A magicgui combo box mirroring the session's ``role`` choice, both ways.

    Parameters
    ----------
    session : StudySession
    role : str
        One of :data:`PICKER_ROLES`.
    label : str
        The form's label.
    candidates : callable, optional
        The layers to offer (default: the session's candidates for the role).
    none_text : str
        Text of the empty entry (the value None).
    tooltip : str
    min_chars : int
        Characters shown before a long layer name is cut (the panel is ~500 px wide).

    Attributes
    ----------
    widget : magicgui ComboBox
    user_chose : bool
        The user picked here (:meth:`propose` stops offering defaults).
    """

    def __init__(self, session, role: str, label: str = "", *,
                 candidates: Callable[[], list] | None = None, none_text: str = "(none)",
                 tooltip: str = "", min_chars: int = 18):
        if role not in PICKER_ROLES:
            raise ValueError(f"unknown session role {role!r}; expected one of {PICKER_ROLES}")
        self.session, self.role = session, role
        self.candidates = candidates or self._session_candidates
        self.user_chose = False
        self._syncing = False
        self.widget = ComboBox(label=label, choices=self._choices, nullable=True,
                               tooltip=tooltip)
        self.widget.null_string = none_text
        native = self.widget.native
        native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        native.setMinimumContentsLength(min_chars)
        self.widget.changed.connect(self._on_pick)
        announce = {"run": session.run_changed, "stat_map": session.stat_map_changed,
                    "roi_layer": session.roi_changed}.get(role, session.mask_changed)
        self._links = [(announce, self.sync), (session.layers_changed, self.sync)]
        for signal, slot in self._links:
            signal.connect(slot)
        self.sync()

    # ------------------------------------------------------------------ session
    def _session_candidates(self) -> list:
        s = self.session
        if self.role == "run":
            return s.runs()
        if self.role == "stat_map":
            return s.stat_maps()
        if self.role == "roi_layer":
            return s.roi_layers()
        return s.mask_candidates(self.role)

    @property
    def value(self):
        """The session's choice for the role (a layer or None)."""
        s = self.session
        if self.role in MASK_ROLES:
            return s.masks.get(self.role)
        return s.roi_layer if self.role == "roi_layer" else getattr(s, self.role)

    def choose(self, layer) -> None:
        """Give the session ``layer`` for the role, as the user picking it."""
        self.user_chose = True
        self._write(layer)

    def propose(self, layer) -> bool:
        """Give the session ``layer`` as a default; returns whether it was taken.

        Only while the session has nothing for the role and the user has not picked here.
        """
        if layer is None or self.value is not None or self.user_chose:
            return False
        self._write(layer)
        return True

    def _write(self, layer) -> None:
        s = self.session
        if self.role == "run":
            s.set_run(layer)
        elif self.role == "stat_map":
            s.set_stat_map(layer)
        elif self.role == "roi_layer":
            s.set_roi(layer)
        else:
            s.set_mask(self.role, layer)
        self.sync()

    # ------------------------------------------------------------------ widget
    def _choices(self, widget=None) -> list[tuple[str, object]]:
        viewer = self.session.viewer
        layers = [lay for lay in self.candidates() if viewer is not None and lay in viewer.layers]
        chosen = self.value
        if chosen is not None and chosen not in layers and viewer is not None \
                and chosen in viewer.layers:
            layers.append(chosen)  # the session's choice is shown even when not offered
        return [(lay.name, lay) for lay in layers]

    def sync(self, *args) -> None:
        """Offer the current candidates and show the session's choice."""
        if self._syncing:
            return
        self._syncing = True
        try:
            self.widget.reset_choices()
            chosen = self.value
            self.widget.value = chosen if any(c is chosen for c in self.widget.choices) else None
            native = self.widget.native
            for i in range(native.count()):
                layer = native.itemData(i)
                if layer is not None:
                    native.setItemData(i, layer.name, Qt.ItemDataRole.ToolTipRole)
        except RuntimeError:  # the form was closed: stop following the session
            self.disconnect()
        finally:
            self._syncing = False

    def _on_pick(self, layer) -> None:
        if not self._syncing:
            self.choose(layer)

    def disconnect(self) -> None:
        """Stop following the session (the form is going away)."""
        for signal, slot in self._links:
            try:
                signal.disconnect(slot)
            except (TypeError, ValueError):
                pass
        self._links = []


__all__ = ["PICKER_ROLES", "SessionPicker"]
