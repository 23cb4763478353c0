"""The RETROICOR panel's form (magicgui): physio file, slice, orders and the noise model.

The phases (and RVT and heart rate) are sampled at each volume's acquisition time of
one slice: by default the slice through the PAG, which is the session's ROI when that
is a PAG and else the literature seed; or through the RVM, through the session's
cursor, or a slice index. :meth:`PhysioForm.slice_choice` asks the core
(``choose_slice_time``) which time that is.
"""

from __future__ import annotations

from magicgui.widgets import ComboBox, Label, SpinBox
from qtpy.QtWidgets import QComboBox

from ...core.errors import input_error
from ...core.preproc.physio import sidecar_path
from ...core.preproc.retroicor import FourierOrders
from ...core.preproc.slice_timing import SLICE_ORDERS, choose_slice_time
from ...core.protocol import FOURIER_ORDERS, PHYSIO_MODELS
from ...core.roi.seeds import SEEDS
from .form import compact, narrow, note, row
from .inputs import PathField

#: The RVM point whose slice can sample the phases (CANlab symmetric RVM box centre, mm).
RVM_POINT = tuple(SEEDS["RVM"]["canlab"].shape.centre_mm)
#: Where the phases are sampled: (text, key).
SLICE_MODES = (("through the PAG", "PAG"), ("through the RVM", "RVM"),
               ("through the cursor", "cursor"), ("slice index", "index"))
#: The physiological noise models: (text, key of ``compute_retroicor``'s ``model``).
MODEL_CHOICES = (("RETROICOR", PHYSIO_MODELS[0]),
                 ("RETROICOR + RVT + HR", PHYSIO_MODELS[1]))
PHYSIO_FILTER = "*_physio.tsv.gz *_physio.tsv *.tsv.gz *.tsv"


class PhysioForm:
    """Physio file, sidecar, slice, slice order, Fourier orders and model (magicgui).

    Attributes
    ----------
    physio, sidecar : PathField
    slice_mode : ComboBox
        ``"PAG"``, ``"RVM"``, ``"cursor"`` or ``"index"``.
    slice_index : SpinBox
        The slice (shown for every mode, typed for ``"index"``).
    order : ComboBox
        Slice order used when the run stores no slice timing (None: stored timing).
    cardiac, respiratory, interaction : SpinBox
        Fourier orders.
    model : ComboBox
        ``"retroicor"`` or ``"retroicor+rvt+hr"``.
    where : Label
        Which slice and time sample the phases, and which PAG.
    container : magicgui Container
    """

    def __init__(self):
        self.physio = PathField("Physio", "BIDS *_physio.tsv.gz", PHYSIO_FILTER,
                                tooltip="BIDS physio recording (cardiac and respiratory "
                                        "columns), time-locked to the run")
        self.sidecar = PathField("Sidecar", "JSON sidecar (default: next to the physio file)",
                                 "*.json")
        self.slice_mode = ComboBox(choices=list(SLICE_MODES), value="PAG",
                                   tooltip="RETROICOR samples the phases when this slice was "
                                           "acquired")
        self.slice_index = SpinBox(value=0, min=0, max=999, enabled=False,
                                   tooltip="The slice index on the run grid")
        self.order = ComboBox(label="Timing",
                              choices=[("stored slice timing", None)]
                              + [(f"{o} (no stored timing)", o) for o in SLICE_ORDERS],
                              value=None, tooltip="Slice order used only when neither the BOLD "
                                                  "sidecar nor the NIfTI header stores slice "
                                                  "timing")
        c, r, i = FOURIER_ORDERS
        self.cardiac = SpinBox(value=c, min=0, max=6, tooltip="Cardiac Fourier order")
        self.respiratory = SpinBox(value=r, min=0, max=6, tooltip="Respiratory Fourier order")
        self.interaction = SpinBox(value=i, min=0, max=3,
                                   tooltip="Cardiac x respiratory interaction order")
        narrow(72, self.cardiac, self.respiratory, self.interaction)
        narrow(84, self.slice_index)
        self.order.native.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.order.native.setMinimumContentsLength(20)
        self.model = ComboBox(label="Model", choices=list(MODEL_CHOICES), value=PHYSIO_MODELS[0],
                              tooltip="RETROICOR alone, or with respiratory volume per time "
                                      "(RVT, convolved with Birn 2008's RRF) and heart rate "
                                      "(convolved with Chang 2009's CRF), as TAPAS PhysIO")
        self.where = note()
        self.container = compact(
            self.physio, self.sidecar,
            row("Slice", self.slice_mode, self.slice_index),
            self.where,
            self.order,
            row("Orders", Label(value="C"), self.cardiac, Label(value="R"), self.respiratory,
                Label(value="C\u00d7R"), self.interaction, stretch=True,
                tooltip="Fourier orders: cardiac, respiratory, interaction (3 4 1: 18 "
                        "regressors)"),
            self.model,
        )
        self.physio.changed.connect(self._on_physio)
        self.slice_mode.changed.connect(
            lambda mode: setattr(self.slice_index, "enabled", mode == "index"))

    def _on_physio(self, *args) -> None:
        path = self.physio.path()
        if path is not None:
            self.sidecar.fill(sidecar_path(path))

    # ------------------------------------------------------------------ reading
    def paths(self, required: bool = True):
        """``(physio, sidecar)`` (the sidecar next to the physio file when not given)."""
        physio = self.physio.path()
        if physio is None:
            if required:
                raise input_error(None, "choose a physio file (BIDS *_physio.tsv.gz) first")
            return None
        return physio, self.sidecar.path() or sidecar_path(physio)

    def orders(self) -> FourierOrders:
        """The Fourier orders."""
        return FourierOrders(int(self.cardiac.value), int(self.respiratory.value),
                             int(self.interaction.value))

    def slice_choice(self, ctx):
        """The slice time used for the phases (core ``choose_slice_time``).

        Raises
        ------
        MilnaInputError
            No run, a point outside the run's grid, or no slice timing known.
        """
        source = ctx.run_source()
        mode, order = self.slice_mode.value, self.order.value
        if mode == "index":
            return choose_slice_time(source, slice_index=int(self.slice_index.value),
                                     slice_order=order)
        if mode == "cursor":
            at = ctx.cursor_world()
            if at is None:
                raise input_error(None, "there is no cursor position yet")
        else:
            at = ctx.pag_point() if mode == "PAG" else RVM_POINT
        return choose_slice_time(source, at=at, slice_order=order)

    def show_choice(self, choice, ctx) -> None:
        """Say which slice (and time within the TR) samples the phases, and which PAG."""
        mode = self.slice_mode.value
        if choice.index is not None and mode != "index":
            with self.slice_index.changed.blocked():
                self.slice_index.value = int(choice.index)
        where = f"slice {choice.index}" if choice.index is not None else "every slice"
        text = (f"Phases sampled at {where}, {choice.time:.3f} s into each TR "
                f"({choice.source}).")
        if mode == "PAG":
            text += f" PAG: {ctx.pag_words()}."
        self.where.value = text
