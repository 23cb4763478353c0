"""The QC tab's parameter form (magicgui), bound both ways to the study session.

The run, the brain mask, the CSF map and the ROI layer are the viewer's
:class:`~napari_milna._napari.session.StudySession` choices: each picker (the panel's
:class:`~napari_milna.widgets.panel.session_picker.SessionPicker`) shows the session's
choice, follows it when another tab changes it, and writes the user's pick back. The
tab keeps no copy of them. Only what is QC's own lives in the form: other ROI layers
or files to check as well, the detrend order and the dropout threshold.
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import ComboBox, Container, FloatSpinBox, Select, SpinBox
from qtpy.QtWidgets import QComboBox

from ..._napari.layers import source_of
from ...core.io.nifti import nifti_stem
from ...core.qc.coverage import DROPOUT_THRESHOLD
from ..panel.session_picker import SessionPicker, unique_labels
from .inputs import looks_like_roi, preferred_brain_mask, preferred_csf, run_candidates

#: Text of the empty entry of each picker.
NONE_TEXT = {"run": "(none)", "brain": "compute (nilearn)", "csf": "(none)",
             "roi_layer": "(none)"}
#: Characters a picker shows before it scrolls (the panel is about 500 px wide).
PICKER_CHARS = 22


def compact(widget) -> None:
    """Keep a magicgui combo box from widening the panel to fit a long layer name."""
    native = widget.native
    if isinstance(native, QComboBox):
        native.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        native.setMinimumContentsLength(PICKER_CHARS)


class Quiet:
    """True while a form updates its own widgets (their change events are not the user's).

    Used as ``with quiet: ...``; a Qt object deleted meanwhile (the tab closed) ends
    the block silently.
    """

    def __init__(self):
        self._depth = 0

    def __bool__(self) -> bool:
        return self._depth > 0

    def __enter__(self):
        self._depth += 1
        return self

    def __exit__(self, kind, error, trace) -> bool:
        self._depth -= 1
        return isinstance(error, RuntimeError) and "deleted" in str(error)


def nullable_combo(label: str, choices, none_text: str, tooltip: str = "") -> ComboBox:
    """A compact magicgui combo box whose first entry, ``none_text``, is the value None."""
    widget = ComboBox(label=label, choices=choices, nullable=True, tooltip=tooltip)
    widget.null_string = none_text
    widget.reset_choices()
    compact(widget)
    return widget


class QCForm:
    """Run, masks, ROIs and settings of a QC run (magicgui), bound to the session.

    Attributes
    ----------
    widget : magicgui Container
        The form (its ``native`` Qt widget goes into the tab).
    run, brain, csf, roi : magicgui ComboBox
        Pickers of the session's run, brain mask, CSF map and ROI layer.
    other_rois : magicgui Select
        Other ROI layers and ROI files to check as well.
    detrend : magicgui SpinBox
    dropout_threshold : magicgui FloatSpinBox
    """

    def __init__(self, viewer, session):
        self.viewer, self.session = viewer, session
        self.roi_files: list[str] = []

        def picker(role: str, label: str, **kwargs) -> SessionPicker:
            return SessionPicker(session, role, label, none_text=NONE_TEXT[role],
                                 min_chars=PICKER_CHARS, **kwargs)

        self.pickers = {
            "run": picker(
                "run", "Run", candidates=lambda: run_candidates(viewer),
                describe=lambda lay: lay.name if source_of(lay).is_run else f"{lay.name} (3D)",
                tooltip="The session's run (4D EPI), shared with the time series and the "
                        "preprocessing tab",
            ),
            "brain": picker(
                "brain", "Brain mask",
                tooltip="The session's brain mask (fMRIPrep desc-brain_mask, SPM mask.nii), or "
                        "computed from the mean EPI with nilearn's compute_epi_mask (which "
                        "follows the signal, so it leaves out regions that drop out: give "
                        "the anatomical mask where there is one)",
            ),
            "csf": picker(
                "csf", "CSF map",
                tooltip="The session's CSF map: probability (fMRIPrep label-CSF_probseg, SPM "
                        "c3, FSL pve_0) or binary mask",
            ),
            "roi_layer": picker(
                "roi_layer", "ROIs",
                tooltip="The session's ROI layer: every label in it is checked (each label "
                        "is an ROI); the current ROI's row is selected in the table",
            ),
        }
        self.run, self.brain, self.csf, self.roi = (
            picker.widget for picker in self.pickers.values())
        self.other_rois = Select(
            label="Also", choices=self._other_choices, value=[],
            tooltip="Other ROI layers and ROI files to check as well (select several with "
                    "Ctrl / Shift); the session's masks are not offered",
        )
        self.other_rois.native.setMaximumHeight(46)
        self.detrend = SpinBox(
            label="Detrend K", min=0, max=5, value=0,
            tooltip="Legendre degree removed before std / tSNR (nipype regress_poly); 0: "
                    "none (the MRIQC tSNR)",
        )
        self.dropout_threshold = FloatSpinBox(
            label="Dropout <", min=0.05, max=0.95, step=0.05, value=DROPOUT_THRESHOLD,
            tooltip="Dropout: temporal mean below this x the brain median signal",
        )
        settings = Container(
            layout="horizontal", widgets=[self.detrend, self.dropout_threshold],
            labels=True,
        )
        settings.margins = (0, 0, 0, 0)
        self.widget = Container(
            widgets=[self.run, self.brain, self.csf, self.roi, self.other_rois, settings],
        )
        self.widget.margins = (0, 0, 0, 0)
        # the pickers follow the session (layers added, removed, renamed); the other ROIs are ours
        self._links = [(session.roi_changed, self._reset_others),
                       (session.mask_changed, self._reset_others),
                       (session.layers_changed, self._reset_others)]
        for signal, slot in self._links:
            signal.connect(slot)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.moved.connect(self.refresh)
        self.propose_defaults()

    # ------------------------------------------------------------------ other ROIs
    def _other_choices(self, widget=None) -> list[tuple[str, object]]:
        taken = [self.session.roi_layer] + list(self.session.masks.values())
        layers = [lay for lay in self.session.roi_layers() if not any(lay is t for t in taken)]
        out = unique_labels(layers, lambda lay: lay.name)
        out += [(f"{nifti_stem(p)} (file)", p) for p in self.roi_files]
        return out

    def add_roi_files(self, paths) -> None:
        """Add ROI mask / dseg files to the other ROIs (selected)."""
        new = [str(Path(p)) for p in paths if str(Path(p)) not in self.roi_files]
        self.roi_files += new
        self._reset_others(keep=list(self.other_rois.value) + new)

    def remove_selected_files(self) -> None:
        """Forget the selected ROI files."""
        chosen = list(self.other_rois.value)
        self.roi_files = [p for p in self.roi_files if p not in chosen]
        self._reset_others(keep=[v for v in chosen if not isinstance(v, str)])

    def _reset_others(self, *args, keep=None) -> None:
        with Quiet():
            keep = list(self.other_rois.value) if keep is None else keep
            self.other_rois.reset_choices()
            self.other_rois.value = [v for v in keep if v in self.other_rois.choices]

    def chosen_rois(self) -> tuple[list, list[str]]:
        """ROI layers (the session's first) and ROI files to check."""
        layers = [] if self.session.roi_layer is None else [self.session.roi_layer]
        files = []
        for value in self.other_rois.value:
            if isinstance(value, str):
                files.append(value)
            elif value in self.viewer.layers and value not in layers:
                layers.append(value)
        return layers, files

    # ------------------------------------------------------------------ events
    def close(self) -> None:
        """Stop following the session and the layer list (the tab is closing)."""
        for picker in self.pickers.values():
            picker.disconnect()
        for signal, slot in self._links:
            signal.disconnect(slot)
        self.viewer.layers.events.inserted.disconnect(self._on_inserted)
        self.viewer.layers.events.moved.disconnect(self.refresh)

    def refresh(self, *args) -> None:
        """Follow the order of the layer list (the session says what is added or renamed)."""
        for picker in self.pickers.values():
            picker.sync()
        self._reset_others()

    def _on_inserted(self, event=None) -> None:
        self.propose_defaults()

    def propose_defaults(self) -> None:
        """Fill empty session choices the user has not made here.

        A layer named like a brain mask, the first CSF probability map and the newest
        layer that looks like ROIs.
        """
        self.pickers["brain"].propose(preferred_brain_mask(self.session))
        self.pickers["csf"].propose(preferred_csf(self.session))
        rois = [lay for lay in self.session.roi_layers() if looks_like_roi(lay)]
        self.pickers["roi_layer"].propose(rois[-1] if rois else None)
