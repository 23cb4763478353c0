"""The one picker of the tabs: a magicgui combo box bound both ways to a choice held elsewhere.

:class:`ChoicePicker` is a compact magicgui ``ComboBox`` that shows a choice kept by
someone else (the study session, the ROI workbench) among the entries ``choices()``
gives, follows it when a signal says it changed, and hands the user's pick back. It
keeps no copy of the choice.

:class:`SessionPicker` is the picker of one role of the viewer's
:class:`~napari_milna._napari.session.StudySession` (the run, the statistical map, the
ROI layer, or the brain / CSF / analysis mask) over the layers that can take it.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

from magicgui.widgets import ComboBox
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox

from ..._napari.session import MASK_ROLES

#: Roles a picker can show: the session's attributes, then its mask roles.
PICKER_ROLES = ("run", "stat_map", "roi_layer") + MASK_ROLES


def unique_labels(items, describe: Callable[[object], str]) -> list[tuple[str, object]]:
    """``(label, item)`` pairs with labels made unique (``name``, ``name [2]``)."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        text = describe(item)
        seen[text] = seen.get(text, 0) + 1
        out.append((text if seen[text] == 1 else f"{text} [{seen[text]}]", item))
    return out


def layer_name(layer) -> str:
    """The text of a layer in a picker: its name."""
    return layer.name


class ChoicePicker:
    """A compact magicgui combo box showing a choice held elsewhere, bound both ways.

    Parameters
    ----------
    items : callable
        The values to offer, in order (layers, label values ...).
    get : callable, optional
        The current choice (a value or None). Without it the combo box holds the choice
        itself (a free pick among entries that follow ``signals``).
    put : callable, optional
        Records the user's pick (a value or None).
    signals : iterable
        Signals (psygnal, napari events or Qt) after which the entries and the choice are
        shown again.
    label : str
        The form's label.
    describe : callable
        Text of a value (default: a layer's name). Equal texts are told apart.
    nullable : bool
        Offer the empty entry (the value None) first.
    none_text : str
        Text of the empty entry.
    tooltip : str
    min_chars : int
        Characters shown before a long entry is cut (the panel is ~500 px wide); an
        entry's full text (a layer's name) is its tooltip.

    Attributes
    ----------
    widget : magicgui ComboBox
    user_chose : bool
        The user picked here.
    """

    def __init__(self, items: Callable[[], list], get: Callable | None = None,
                 put: Callable | None = None, signals=(), *, label: str = "",
                 describe: Callable[[object], str] = layer_name, nullable: bool = True,
                 none_text: str = "(none)", tooltip: str = "", min_chars: int = 18):
        self.items, self.describe = items, describe
        self._get, self._put = get, put
        self._nullable = nullable
        self.user_chose = False
        self._syncing = False
        self.widget = ComboBox(label=label, choices=self._choices, nullable=nullable,
                               tooltip=tooltip)
        self.widget.null_string = none_text
        native = self.widget.native
        native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        native.setMinimumContentsLength(min_chars)
        self.widget.changed.connect(self._on_pick)
        self._links = [(signal, self.sync) for signal in signals]
        for signal, slot in self._links:
            signal.connect(slot)
        self.sync()

    @property
    def value(self):
        """The choice (``get()``, or the combo box's own value without ``get``)."""
        return self._get() if self._get is not None else self.widget.value

    def choose(self, value) -> None:
        """Record ``value`` as the user picking it."""
        self.user_chose = True
        self._write(value)

    def _write(self, value) -> None:
        if self._get is None:
            self.widget.value = value
        elif not _same(value, self._get()):
            self._put(value)
        self.sync()  # the choice shows (also when it was refused or changed on its way)

    def _choices(self, widget=None) -> list[tuple[str, object]]:
        return unique_labels(self.items(), self.describe)

    def sync(self, *args) -> None:
        """Offer the current entries and show the choice (None when it is not offered).

        A change of the value shown is announced once by the widget's ``changed``.
        """
        if self._syncing:
            return
        self._syncing = True
        try:
            widget, native = self.widget, self.widget.native
            before, chosen = widget.value, self.value
            with widget.changed.blocked():
                native.clear()  # magicgui keeps an entry's old text (a renamed layer)
                widget.reset_choices()
                offered = any(_same(chosen, c) for c in widget.choices)
                if offered or self._nullable:
                    widget.value = chosen if offered else None
            for i in range(native.count()):
                data = native.itemData(i)
                if data is not None:
                    tip = getattr(data, "name", native.itemText(i))
                    native.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
            if not _same(widget.value, before):
                widget.changed.emit(widget.value)
        except RuntimeError:  # the form was closed: stop following
            self.disconnect()
        finally:
            self._syncing = False

    def _on_pick(self, value) -> None:
        if not self._syncing:
            self.choose(value)

    def disconnect(self) -> None:
        """Stop following the signals (the form is going away)."""
        for signal, slot in self._links:
            try:
                signal.disconnect(slot)
            except (TypeError, ValueError, RuntimeError):
                pass
        self._links = []


def _same(a, b) -> bool:
    """The same choice: the same layer (identity) or an equal label value."""
    return a is b or (isinstance(a, Integral) and isinstance(b, Integral) and a == b)


class SessionPicker(ChoicePicker):
    """The picker of the session's ``role`` choice, over the layers that can take it.

    A pick goes to the session; a change in the session (another tab) shows here; layers
    added, removed or renamed show at once.

    Parameters
    ----------
    session : StudySession
    role : str
        One of :data:`PICKER_ROLES`.
    label : str
        The form's label.
    candidates : callable, optional
        The layers to offer (default: the session's candidates for the role).
    **kwargs
        :class:`ChoicePicker`'s (``describe``, ``none_text``, ``tooltip``, ``min_chars``).
    """

    def __init__(self, session, role: str, label: str = "", *,
                 candidates: Callable[[], list] | None = None, **kwargs):
        if role not in PICKER_ROLES:
            raise ValueError(f"unknown session role {role!r}; expected one of {PICKER_ROLES}")
        self.session, self.role = session, role
        self.candidates = candidates or self._session_candidates
        announce = {"run": session.run_changed, "stat_map": session.stat_map_changed,
                    "roi_layer": session.roi_changed}.get(role, session.mask_changed)
        super().__init__(self._offered, self._chosen, self._write_session,
                         (announce, session.layers_changed), label=label, **kwargs)

    def _session_candidates(self) -> list:
        s = self.session
        if self.role == "run":
            return s.runs()
        if self.role == "stat_map":
            return s.stat_maps()
        if self.role == "roi_layer":
            return s.roi_layers()
        return s.mask_candidates(self.role)

    def _offered(self) -> list:
        viewer = self.session.viewer
        if viewer is None:
            return []
        layers = [lay for lay in self.candidates() if lay in viewer.layers]
        chosen = self.value
        if chosen is not None and chosen not in layers and chosen in viewer.layers:
            layers.append(chosen)  # the session's choice is shown even when not offered
        return layers

    def _chosen(self):
        s = self.session
        if self.role in MASK_ROLES:
            return s.masks.get(self.role)
        return s.roi_layer if self.role == "roi_layer" else getattr(s, self.role)

    def layer(self):
        """The session's choice for the role (a layer or None)."""
        return self.value

    def propose(self, layer) -> bool:
        """Give the session ``layer`` as a default; returns whether it was taken.

        Only while the session has nothing for the role and the user has not picked here.
        """
        if layer is None or self.value is not None or self.user_chose:
            return False
        self._write(layer)
        return True

    def _write_session(self, layer) -> None:
        s = self.session
        if self.role == "run":
            s.set_run(layer)
        elif self.role == "stat_map":
            s.set_stat_map(layer)
        elif self.role == "roi_layer":
            s.set_roi(layer)
        else:
            s.set_mask(self.role, layer)


__all__ = ["PICKER_ROLES", "ChoicePicker", "SessionPicker", "unique_labels"]
