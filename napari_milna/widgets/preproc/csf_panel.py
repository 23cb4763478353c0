"""CSF nuisance panel: the signal of a conservative CSF mask and its task correlation.

A thin shell over :mod:`napari_milna.core.preproc.nuisance`: CSF probability (a layer opened
from a file, or a file) above a high level, eroded; the mean signal of the run over
that mask, read in a worker thread (cancellable); its correlation with the task
regressors of the events file, with the core's warning when it would remove pain
signal. The mask is shown as a layer on the run grid.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..._napari.layers import source_of
from ...core.errors import MilnaInputError, input_error
from ...core.io.kinds import ImageKind
from ...core.preproc.nuisance import CSF_EROSION, CSF_LEVEL, csf_regressor
from ..panel.jobs import JobRunner
from ..panel.status import WARN_COLOUR, StatusLabel, coloured, escape
from .inputs import LayerFileCombo
from .layers import find_result, show_mask
from .plots import CsfPlot

CSF_MASK_COLOUR = (0.3, 0.85, 1.0, 1.0)


def is_csf_layer(layer) -> bool:
    """A layer showing a CSF (or other tissue) probability map."""
    src = source_of(layer)
    return src is not None and src.info.kind in (ImageKind.CSF, ImageKind.PROBABILITY)


class CsfPanel(QWidget):
    """CSF signal of the chosen run from a conservative mask."""

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.csf_field = LayerFileCombo(ctx.viewer, is_csf_layer)
        self.csf_field.setToolTip("CSF probability: fMRIPrep *_label-CSF_probseg, FSL *_pve_0")
        self.level_spin = QDoubleSpinBox()
        self.level_spin.setRange(0.5, 0.99)
        self.level_spin.setSingleStep(0.01)
        self.level_spin.setValue(CSF_LEVEL)
        self.level_spin.setToolTip("Keep voxels with CSF probability above this")
        self.erosion_spin = QSpinBox()
        self.erosion_spin.setRange(0, 3)
        self.erosion_spin.setValue(CSF_EROSION)
        self.erosion_spin.setSuffix(" voxel")
        self.erosion_spin.setToolTip("Erode the thresholded mask (drops partial-volume edges)")
        self.show_mask_check = QCheckBox("Show the mask")
        self.show_mask_check.setChecked(True)
        self.compute_button = QPushButton("Compute CSF signal")
        self.cancel_button = QPushButton("Cancel")
        self.bar = QProgressBar()
        self.plot = CsfPlot()
        self.summary = StatusLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.warning_label = StatusLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.TextFormat.RichText)
        self.status = StatusLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.runner = JobRunner(self.bar, self.status, self.cancel_button, [self.compute_button],
                                ctx.notify, self)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("CSF map", self.csf_field)
        row = QHBoxLayout()
        row.addWidget(QLabel("p >"))
        row.addWidget(self.level_spin)
        row.addWidget(QLabel("erode"))
        row.addWidget(self.erosion_spin)
        row.addStretch(1)
        form.addRow("Mask", row)
        run_row = QHBoxLayout()
        run_row.addWidget(self.compute_button, 1)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.show_mask_check)
        layout.addLayout(run_row)
        layout.addWidget(self.bar)
        layout.addWidget(self.plot)
        layout.addWidget(self.summary)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.status)
        self.result = None
        self.compute_button.clicked.connect(self.compute)
        self.show_mask_check.toggled.connect(self._on_show_mask)

    def csf_path(self):
        """The CSF map file.

        Raises
        ------
        MilnaInputError
        """
        path = self.csf_field.path()
        if path is None:
            raise input_error(None, "choose a CSF probability map (layer or file) first")
        return path

    def settings(self) -> dict:
        """``pain_glm`` keywords of the CSF regressor."""
        return {"csf": self.csf_path(), "csf_level": self.level_spin.value(),
                "csf_erosion": self.erosion_spin.value()}

    def compute(self) -> bool:
        """Read the CSF signal in a worker thread and check it against the task."""
        try:
            source = self.ctx.run_source()
            settings = self.settings()
            task = self.ctx.task_design(source)
        except MilnaInputError as exc:
            self._refuse(exc)
            return False
        motion = self.ctx.motion.result if self.ctx.motion is not None else None
        if motion is not None and motion.n_volumes != source.n_volumes:
            motion = None
        sample_mask = motion.sample_mask if motion is not None and motion.n_scrubbed else None

        def job(progress):
            return csf_regressor(source.run(), settings["csf"], level=settings["csf_level"],
                                 erosion=settings["csf_erosion"], task=task,
                                 sample_mask=sample_mask, progress=progress)

        return self.runner.start(
            "CSF signal", job,
            lambda result: self._on_done(result, source, task, motion))

    def _on_done(self, result, source, task, motion) -> None:
        self.result = result
        self.plot.show_signal(result.signal, source.tr, task, result.correlations,
                              motion.scrub if motion is not None and motion.n_scrubbed else None)
        text = (f"CSF mask: <b>{result.n_voxels}</b> voxels (probability &gt; {result.level:g}, "
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
        self._on_show_mask(self.show_mask_check.isChecked())

    def _on_show_mask(self, checked: bool) -> None:
        viewer = self.ctx.viewer
        layer = find_result(viewer, "csf_mask")
        if not checked or self.result is None:
            if layer is not None:
                viewer.layers.remove(layer)
            return
        show_mask(viewer, "csf_mask", self.result.mask, self._mask_source,
                  f"CSF mask ({self.result.n_voxels} voxels)", CSF_MASK_COLOUR)

    def _refuse(self, exc: MilnaInputError) -> None:
        self.status.setText(coloured(str(exc), "#ff6b6b"))
        self.ctx.notify("error", str(exc))
