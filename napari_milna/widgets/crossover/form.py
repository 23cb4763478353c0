"""The crossover tab's parameter forms (magicgui), as compact as the ~500 px panel needs.

:class:`StudyForm` holds what an analysis is computed from -- the options of
``milna crossover`` (study table or BIDS folder, ``--contrast``, ``--condition``,
``--control``, ``--period``, ``--resample``, ``--roi``) plus the study session's ROI
layer. :class:`MapForm` holds how the group map is shown: which view, the group t or
mean, and the p threshold. :meth:`StudyForm.choices` turns the form into
:class:`~napari_milna.widgets.crossover.compute.CrossoverChoices`.
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    PushButton,
    RadioButtons,
)
from qtpy.QtWidgets import QAbstractSpinBox

from .compute import CrossoverChoices, LayerRois

#: Where the study comes from.
TABLE, BIDS = "table", "bids"
TABLE_FILTER = "Study tables (*.tsv *.csv *.txt)"
NIFTI_FILTER = "NIfTI (*.nii *.nii.gz)"
#: ``--contrast`` of ``milna crossover`` (None: chosen from the table's conditions).
CONTRAST_CHOICES = (
    ("auto (from the table)", None),
    ("interaction", "interaction"),
    ("difference: drug - placebo", "difference"),
)
#: Text of the default entries of the condition pickers.
DEFAULT_CONDITION = "condition: default"
DEFAULT_CONTROL = "control: default"
DEFAULT_P = 1e-3
P_RANGE = (1e-6, 0.5)


def _row(label: str, *widgets, tooltip: str = "") -> Container:
    """Widgets side by side under one form label."""
    row = Container(layout="horizontal", widgets=list(widgets), labels=False, label=label)
    row.margins = (0, 0, 0, 0)
    if tooltip:
        row.tooltip = tooltip
    return row


def _compact(container: Container) -> Container:
    container.margins = (0, 0, 0, 0)
    return container


class StudyForm(Container):
    """The crossover options: study, contrast, model and ROIs.

    Attributes
    ----------
    source, study : ComboBox, FileEdit
        Study table (TSV / CSV) or BIDS-derivatives folder, and its path.
    contrast, condition, control : ComboBox
        ``--contrast``, ``--condition`` and ``--control`` of ``milna crossover``; the
        condition pickers offer the conditions of the last study read.
    period, resample : CheckBox
    roi_layer : ComboBox
        The study session's ROI layer (a
        :class:`~napari_milna.widgets.panel.session_picker.SessionPicker`, both ways).
    roi_files : FileEdit
        ROI masks or dseg images added to the layer's ROIs.
    compute, cancel : PushButton
    """

    def __init__(self, roi_layer: ComboBox):
        self.source = ComboBox(choices=[("table", TABLE), ("BIDS folder", BIDS)], value=TABLE,
                               tooltip="A study table (subject, treatment, condition, path, "
                               "optional period) or a BIDS-derivatives folder (sub-, "
                               "ses-/acq- drug | placebo, contrast- entities)")
        self.study = FileEdit(mode="r", filter=TABLE_FILTER, nullable=True)
        self.contrast = ComboBox(
            label="Contrast", choices=list(CONTRAST_CHOICES), value=None,
            tooltip="interaction: (drug - placebo) x (condition - control), e.g. Pain > "
            "Baseline or Pain > Sensory; difference: drug - placebo of one condition or a "
            "ready contrast (milna crossover --contrast)")
        self.condition = ComboBox(choices=[(DEFAULT_CONDITION, None)], value=None,
                                  tooltip="interaction: the task condition; difference: the "
                                  "condition or ready contrast compared (--condition)")
        self.control = ComboBox(choices=[(DEFAULT_CONTROL, None)], value=None,
                                tooltip="interaction only: the control condition, baseline "
                                "or sensory for Pain > Sensory (--control)")
        self.period = CheckBox(text="period covariate", value=False,
                               tooltip="Sequence (period) as a second-level covariate: the "
                               "treatment t is adjusted for it (df N - 2) and the period "
                               "effect is shown as its own map (--period)")
        self.resample = CheckBox(text="resample grids", value=False,
                                 tooltip="Resample maps on another grid onto the first map's "
                                 "grid (trilinear); without it a grid mismatch is an error "
                                 "(--resample)")
        self.roi_layer = roi_layer
        self.roi_files = FileEdit(label="ROI files", mode="rm", filter=NIFTI_FILTER,
                                  nullable=True,
                                  tooltip="ROI masks or dseg label images (names from the "
                                  "dseg .tsv), tested besides the ROI layer (--roi)")
        self.compute = PushButton(text="Recompute",
                                  tooltip="Read every subject's maps and compute again")
        self.cancel = PushButton(text="Cancel")
        super().__init__(widgets=[
            _row("Study", self.source, self.study),
            self.contrast,
            _row("Conditions", self.condition, self.control),
            _row("Model", self.period, self.resample),
            self.roi_layer,
            self.roi_files,
            _row("", self.compute, self.cancel),
        ])
        _compact(self)
        self.source.changed.connect(self._on_source)

    def _on_source(self, value) -> None:
        self.study.mode = "d" if value == BIDS else "r"
        self.study.filter = None if value == BIDS else TABLE_FILTER

    def study_path(self) -> Path | None:
        """The study table or folder, or None."""
        value = self.study.value
        return Path(value) if value not in (None, "", Path(".")) else None

    def file_list(self) -> tuple[Path, ...]:
        """The ROI files added."""
        return tuple(Path(p) for p in (self.roi_files.value or ()))

    def set_conditions(self, conditions) -> None:
        """Offer the conditions of the study read (keeping the current choices)."""
        for combo, default in ((self.condition, DEFAULT_CONDITION),
                               (self.control, DEFAULT_CONTROL)):
            current = combo.value
            with combo.changed.blocked():
                combo.choices = [(default, None)] + [(c, c.lower()) for c in conditions]
                combo.value = current if current in (None, *[c.lower() for c in conditions]) \
                    else None

    def choices(self, layer) -> CrossoverChoices:
        """The analysis these options ask for, with the ROI ``layer`` copied now."""
        return CrossoverChoices(
            study=self.study_path(),
            kind=self.contrast.value,
            condition=self.condition.value,
            control=self.control.value,
            period=bool(self.period.value),
            resample=bool(self.resample.value),
            layer_rois=LayerRois.of(layer) if layer is not None else None,
            roi_files=self.file_list(),
        )


class MapForm(Container):
    """How the group map is shown: view, group t or mean, and the p threshold.

    Attributes
    ----------
    view : ComboBox
        ``drug``, ``placebo``, ``difference``, ``interaction`` (and ``period``).
    statistic : RadioButtons
        ``"t"`` or ``"mean"``.
    p : FloatSpinBox
        One-sided uncorrected p per tail.
    send, save : PushButton
    """

    def __init__(self):
        self.view = ComboBox(label="Map", choices=[], nullable=True,
                             tooltip="The group map shown (and the view of a clicked subject)")
        self.statistic = RadioButtons(label="Show", orientation="horizontal", value="t",
                                      choices=[("group t", "t"), ("group mean", "mean")])
        self.p = FloatSpinBox(label="p <", min=P_RANGE[0], max=P_RANGE[1], step=1e-4,
                              value=DEFAULT_P,
                              tooltip="Uncorrected p, one-sided per tail: the t map shows "
                              "|t| above the t of this p; the group mean and subjects' maps "
                              "show the same voxels")
        self.p.native.setDecimals(6)
        self.p.native.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.p.value = DEFAULT_P
        self.send = PushButton(text="Send group T to SVC",
                               tooltip="Make the group T map (SPM df in its header) the "
                               "study's statistical map and show the SVC tab")
        self.save = PushButton(text="Save maps…",
                               tooltip="Write per-subject contrasts, group maps and ROI tables")
        super().__init__(widgets=[self.view, self.statistic, self.p,
                                  _row("", self.send, self.save)])
        _compact(self)

    def set_views(self, items, value) -> None:
        """Offer ``items`` (``(text, view)`` pairs) and select ``value`` without signals."""
        with self.view.changed.blocked():
            self.view.choices = list(items)
            self.view.value = value


__all__ = ["BIDS", "CONTRAST_CHOICES", "TABLE", "MapForm", "StudyForm"]
