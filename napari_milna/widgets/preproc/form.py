"""The top form of the preprocessing tab (magicgui): the session's run and brain mask, files.

The run and the brain mask are the study session's choices (:class:`SessionPicker`,
bound both ways); a mask can also be opened from a file, which adds it as a layer
and gives it to the session. The events file and the output folder belong to the run
(filled from the files next to it, see :func:`~.inputs.bids_companions`).
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import Container, Label, PushButton
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QSizePolicy

from ..._napari.layers import source_of
from ..panel.session_picker import SessionPicker
from .inputs import PathField

NIFTI_FILTER = "*.nii *.nii.gz"


def row(label: str, *widgets, tooltip: str = "", stretch: bool = False) -> Container:
    """magicgui widgets side by side under one form label (packed left with ``stretch``)."""
    box = Container(widgets=list(widgets), layout="horizontal", labels=False, label=label)
    box.margins = (0, 0, 0, 0)
    if stretch:
        box.native.layout().addStretch(1)
    if tooltip:
        box.tooltip = tooltip
    return box


def note(value: str = "") -> Label:
    """A word-wrapped, left-aligned line of text in a form."""
    label = Label(value=value)
    label.native.setWordWrap(True)
    label.native.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    label.native.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return label


def narrow(width: int, *widgets) -> None:
    """Give small number boxes a fixed width (napari's style makes each 132 px wide)."""
    for widget in widgets:
        widget.native.setStyleSheet("QAbstractSpinBox { min-width: 0px; padding: 1px 0px; }")
        widget.native.setFixedWidth(width)


def compact(*widgets, labels: bool = True) -> Container:
    """A margin-free magicgui form of ``widgets``."""
    form = Container(widgets=list(widgets), labels=labels)
    form.margins = (0, 0, 0, 0)
    return form


def layer_of_file(viewer, path):
    """The napari-milna layer read from ``path`` (not a result of a tab), or None."""
    target = Path(path).resolve()
    for layer in viewer.layers:
        src = source_of(layer)
        if src is not None and src.source is not None and src.result_of is None \
                and Path(src.source.path).resolve() == target:
            return layer
    return None


class MaskChoice:
    """A session mask picker with a button that opens a mask file as a layer and picks it.

    Parameters
    ----------
    session : StudySession
    role : str
        ``"brain"`` or ``"csf"``.
    label, tooltip : str
    none_text : str
    """

    def __init__(self, session, role: str, label: str, tooltip: str = "",
                 none_text: str = "(none)"):
        self.session, self.role = session, role
        self.picker = SessionPicker(session, role, none_text=none_text, tooltip=tooltip)
        self.open_button = PushButton(text="\u2026", tooltip="Open a NIfTI file as a layer and "
                                                             "use it")
        self.open_button.native.setFixedWidth(28)
        self.open_button.changed.connect(self._choose_file)
        self.row = row(label, self.picker.widget, self.open_button, tooltip=tooltip)

    def _choose_file(self, *args) -> None:
        from qtpy.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getOpenFileName(self.row.native, "Open a mask", "",
                                                f"NIfTI ({NIFTI_FILTER})")
        if chosen:
            self.open(chosen)

    @property
    def layer(self):
        """The session's mask layer for the role, or None."""
        return self.picker.value

    def open(self, path, visible: bool = True, user: bool = True):
        """Open ``path`` as a layer (or take the layer already read from it) and use it.

        ``user``: the user chose it (else it is only a default, see
        :meth:`SessionPicker.propose`). Returns the layer.
        """
        viewer = self.session.viewer
        layer = layer_of_file(viewer, path)
        if layer is None:
            layers = viewer.open(str(path), plugin="napari-milna")
            layer = layers[0] if layers else None
            if layer is not None:
                layer.visible = visible
        if layer is not None:
            if user:
                self.picker.choose(layer)
            else:
                self.picker.propose(layer)
        return layer


class RunForm(Container):
    """The run, its description, the brain mask, the events file and the output folder.

    Attributes
    ----------
    run : SessionPicker
        The session's run.
    info : magicgui Label
        Volumes, TR and grid of the run.
    brain : MaskChoice
        The session's brain mask.
    events, output : PathField
    found : magicgui Label
        Mask files found next to the run that are not open (with :attr:`open_found`).
    open_found : magicgui PushButton
    """

    def __init__(self, session):
        self.session = session
        self.run = SessionPicker(session, "run", "Run",
                                 tooltip="The session's 4D run (shared with the QC tab and the "
                                         "time series): open it in the viewer first")
        self.info = note()
        self.brain = MaskChoice(
            session, "brain", "Brain mask",
            tooltip="The session's brain mask: the R\u00b2 map's voxels and the GLM's mask "
                    "(none: non-zero voxels for R\u00b2, nilearn's EPI mask for the GLM)")
        self.events = PathField("Events", "BIDS *_events.tsv", "*.tsv",
                                tooltip="BIDS events (pain / sensory blocks): the task model "
                                        "of the GLM, the R\u00b2 map and the CSF check")
        self.output = PathField("Output", "output folder", directory=True,
                                tooltip="Where maps and tables are written")
        self.found = note()
        self.open_found = PushButton(text="Open", tooltip="Open these files as (hidden) layers "
                                                          "and use them as the session's masks")
        self.found_row = row("Found", self.found, self.open_found)
        self.found_row.visible = False
        super().__init__(widgets=[self.run.widget, self.info, self.brain.row, self.found_row,
                                  self.events, self.output])
        self.margins = (0, 0, 0, 0)

    def describe_run(self) -> None:
        """Show the run's volumes, TR and grid."""
        layer = self.session.run
        if layer is None:
            self.info.value = "Open a 4D run (e.g. *_desc-preproc_bold.nii.gz)."
            return
        source = source_of(layer).source
        tr = f"TR {source.tr:g} s" if source.tr else "no TR in the header"
        self.info.value = (f"{source.n_volumes} volumes, {tr}, grid "
                           f"{' x '.join(map(str, source.grid.shape))}")

    def show_found(self, missing: dict) -> None:
        """Offer the mask files found next to the run that the session lacks (role -> path)."""
        names = {"brain": "brain mask", "csf": "CSF map"}
        self.found.value = "; ".join(f"{names.get(role, role)} {Path(path).name}"
                                     for role, path in missing.items())
        self.found_row.visible = bool(missing)

    def disconnect(self) -> None:
        """Stop following the session."""
        self.run.disconnect()
        self.brain.picker.disconnect()
