"""CSF nuisance panel: the signal of a conservative CSF mask and its task correlation.

A thin shell over :mod:`napari_milna.core.preproc.nuisance`: the session's CSF map
(probability, or a mask) above a high level, eroded; the mean signal of the run over
that mask, read in a worker thread (cancellable); its correlation with the task
regressors of the events file, with the core's warning when it would remove pain
signal. The mask is shown as a layer on the run grid.
"""

from __future__ import annotations

from contextlib import ExitStack

from magicgui.widgets import CheckBox, FloatSpinBox, Label, SpinBox
from qtpy.QtWidgets import QPushButton

from ...core.errors import MilnaInputError, input_error
from ...core.preproc.nuisance import CSF_EROSION, CSF_LEVEL, csf_regressor
from ..panel.status import WARN_COLOUR, StatusLabel, coloured, escape
from .form import MaskChoice, compact, narrow, row
from .layers import find_result, show_mask
from .plots import CsfPlot
from .step import StepPanel

CSF_MASK_COLOUR = (0.3, 0.85, 1.0, 1.0)


class CsfForm:
    """The session's CSF map, its level and erosion, and whether to show the mask (magicgui).

    Attributes
    ----------
    csf : MaskChoice
    level : FloatSpinBox
    erosion : SpinBox
    show_mask : CheckBox
    container : magicgui Container
    """

    def __init__(self, session):
        self.csf = MaskChoice(session, "csf", "CSF map",
                              tooltip="The session's CSF map: fMRIPrep *_label-CSF_probseg, "
                                      "FSL *_pve_0, SPM c3, or a CSF mask")
        self.level = FloatSpinBox(value=CSF_LEVEL, min=0.5, max=0.99, step=0.01,
                                  tooltip="Keep voxels with CSF probability above this")
        self.erosion = SpinBox(value=CSF_EROSION, min=0, max=3,
                               tooltip="Erode the thresholded mask by this many voxels (drops "
                                       "partial-volume edges)")
        self.show_mask = CheckBox(text="show", value=True, tooltip="Show the mask as a layer")
        narrow(80, self.level)
        narrow(72, self.erosion)
        self.container = compact(
            self.csf.row,
            row("Mask", Label(value="p >"), self.level, Label(value="erode"), self.erosion,
                self.show_mask, stretch=True),
        )


class CsfPanel(StepPanel):
    """CSF signal of the session's run from a conservative mask."""

    def __init__(self, ctx, parent=None):
        button = QPushButton("Compute CSF signal")
        super().__init__(ctx, CsfForm(ctx.session), [button], parent=parent)
        self.compute_button = button
        self.plot = CsfPlot()
        self.summary = StatusLabel()
        self.warning_label = StatusLabel()
        self.add(self.button_row(button), self.plot, self.summary, self.warning_label)
        self.finish_layout()
        self.result = None
        self._mask_source = None
        button.clicked.connect(self.compute)
        self.form.show_mask.changed.connect(self._on_show_mask)

    def settings(self, stack: ExitStack) -> dict:
        """``pain_glm`` keywords of the CSF regressor (a drawn map is written for ``stack``).

        Raises
        ------
        MilnaInputError
            The session has no CSF map.
        """
        path = self.ctx.mask_file("csf", stack)
        if path is None:
            raise input_error(None, "choose a CSF probability map (a layer, or open a file) "
                                    "first")
        return {"csf": path, "csf_level": float(self.form.level.value),
                "csf_erosion": int(self.form.erosion.value)}

    def compute(self) -> bool:
        """Read the CSF signal in a worker thread and check it against the task."""
        stack = ExitStack()
        try:
            source = self.ctx.run_source()
            settings = self.settings(stack)
            task = self.ctx.task_design(source)
        except MilnaInputError as exc:
            stack.close()
            self.refuse(exc)
            return False
        motion = self.ctx.motion.result if self.ctx.motion is not None else None
        if motion is not None and motion.n_volumes != source.n_volumes:
            motion = None
        sample_mask = motion.sample_mask if motion is not None and motion.n_scrubbed else None

        def job(progress):
            with stack:
                return csf_regressor(source.run(), settings["csf"], level=settings["csf_level"],
                                     erosion=settings["csf_erosion"], task=task,
                                     sample_mask=sample_mask, progress=progress)

        started = self.runner.start(
            "CSF signal", job,
            lambda result: self._on_done(result, source, task, motion))
        if not started:
            stack.close()
        return started

    def _on_done(self, result, source, task, motion) -> None:
        self.result = result
        self.plot.show_signal(result.signal, source.tr, task, result.correlations,
                              motion.scrub if motion is not None and motion.n_scrubbed else None)
        csf = self.ctx.mask_layer("csf")
        text = (f"CSF mask from {escape(csf.name) if csf is not None else 'the CSF map'}: "
                f"<b>{result.n_voxels}</b> voxels (probability &gt; {result.level:g}, "
                f"eroded {result.erosion} voxel(s))")
        if result.correlations:
            rs = ", ".join(f"{k} {v:+.2f}" for k, v in result.correlations.items())
            text += f"; r with the task: {escape(rs)}"
            if motion is not None and motion.n_scrubbed:
                text += f" (over {motion.n_volumes - motion.n_scrubbed} unscrubbed volumes)"
        else:
            text += "; choose an events file to check the task correlation"
        for note in result.notes:
            text += "<br>" + escape(note)
        self.summary.setText(text)
        if result.warning:
            self.warning_label.setText(coloured(result.warning, WARN_COLOUR))
            self.ctx.notify("warning", result.warning)
        else:
            self.warning_label.setText("")
        self.status.setText("")
        self._mask_source = source
        self._on_show_mask(self.form.show_mask.value)

    def _on_show_mask(self, checked: bool) -> None:
        viewer = self.ctx.viewer
        layer = find_result(viewer, "csf_mask")
        if not checked or self.result is None:
            if layer is not None:
                viewer.layers.remove(layer)
            return
        show_mask(viewer, "csf_mask", self.result.mask, self._mask_source,
                  f"CSF mask ({self.result.n_voxels} voxels)", CSF_MASK_COLOUR)
