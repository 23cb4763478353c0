"""Motion panel: framewise displacement (Power 2012) and scrubbing from a motion file.

A thin shell over :mod:`napari_milna.core.preproc.motion`: choose the file (SPM ``rp_*.txt``,
FSL ``*.par``, AFNI 3dvolreg ``*.1D`` or fMRIPrep confounds; the format is guessed
from the name), the threshold (0.5 mm) and the neighbours scrubbed with each volume
above it. The plot shows FD, the threshold and the scrubbed volumes; the GLM and
CSF panels use the scrub mask.
"""

from __future__ import annotations

import numpy as np
from magicgui.widgets import ComboBox, FloatSpinBox, Label, SpinBox
from qtpy.QtWidgets import QPushButton

from ...core.errors import MilnaInputError, input_error
from ...core.preproc.motion import FD_THRESHOLD_MM, MOTION_FORMATS, assess_motion, read_motion
from ..panel.status import StatusLabel, escape
from .form import compact, narrow, row
from .inputs import PathField, guess_motion_format
from .plots import FDPlot
from .step import StepPanel

FORMAT_NAMES = {"spm": "SPM rp_*.txt", "fsl": "FSL mcflirt .par", "afni": "AFNI 3dvolreg 1D",
                "fmriprep": "fMRIPrep confounds"}
AUTO_TEXT = "auto (from the name)"


class MotionForm:
    """The motion file, its format, the FD threshold and the scrubbed neighbours (magicgui).

    Attributes
    ----------
    file : PathField
    format : ComboBox
        None: guessed from the file name.
    threshold : FloatSpinBox
        mm.
    before, after : SpinBox
        Volumes scrubbed before / after each one above the threshold.
    container : magicgui Container
    """

    def __init__(self):
        self.file = PathField("Motion file", "rp_*.txt, *.par, *.1D or *_confounds_timeseries.tsv",
                              "*.txt *.par *.1D *.tsv")
        self.format = ComboBox(label="Format", choices=self._format_choices, value=None,
                               nullable=True)
        self.format.null_string = AUTO_TEXT
        self.threshold = FloatSpinBox(value=FD_THRESHOLD_MM, min=0.05, max=10.0,
                                      step=0.05, tooltip="Scrub volumes with FD above this "
                                                         "(Power 2012: 0.5 mm)")
        self.threshold.native.setSuffix(" mm")
        spin = dict(min=0, max=5, value=0)
        self.before = SpinBox(**spin, tooltip="Also scrub this many volumes before each one "
                                              "above the threshold (Power 2014: 1)")
        self.after = SpinBox(**spin, tooltip="Also scrub this many volumes after each one "
                                             "above the threshold (Power 2014: 2)")
        narrow(72, self.before, self.after)
        narrow(110, self.threshold)
        self.container = compact(
            self.file, self.format, row("FD >", self.threshold, stretch=True),
            row("Also scrub", self.before, Label(value="before,"), self.after,
                Label(value="after"), stretch=True,
                tooltip="Neighbours scrubbed before / after each volume above the threshold"),
        )

    def _format_choices(self, widget=None) -> list:
        return [(FORMAT_NAMES[fmt], fmt) for fmt in MOTION_FORMATS]

    def show_guess(self) -> None:
        """Say in the "auto" entry which format the file name suggests."""
        guessed = guess_motion_format(self.file.path())
        self.format.null_string = f"auto ({FORMAT_NAMES[guessed]})" if guessed else AUTO_TEXT
        with self.format.changed.blocked():
            value = self.format.value
            self.format.reset_choices()
            self.format.value = value


class MotionPanel(StepPanel):
    """FD, its threshold and the scrub mask of the session's run."""

    def __init__(self, ctx, parent=None):
        button = QPushButton("Compute FD")
        super().__init__(ctx, MotionForm(), [button], cancellable=False, parent=parent)
        self.compute_button = button
        self.plot = FDPlot()
        self.summary = StatusLabel()
        self.add(self.compute_button, self.plot, self.summary)
        self.finish_layout()
        self.params = None
        self.result = None
        self.form.file.changed.connect(self._on_file)
        self.form.format.changed.connect(self._on_file)
        self.compute_button.clicked.connect(self.compute)
        for spin in (self.form.threshold, self.form.before, self.form.after):
            spin.changed.connect(self.reassess)

    def _on_file(self, *args) -> None:
        self.form.show_guess()
        self.params = self.result = None

    def motion_format(self) -> str:
        """The chosen format, or the one the file name suggests.

        Raises
        ------
        MilnaInputError
            No file, or a name that tells no format while "auto" is chosen.
        """
        path = self.form.file.path()
        if path is None:
            raise input_error(None, "choose a motion file (rp_*.txt, *.par, *.1D or fMRIPrep "
                                    "confounds) first")
        fmt = self.form.format.value or guess_motion_format(path)
        if fmt is None:
            raise input_error(path, "has a name that does not tell its motion format; choose "
                                    "SPM, FSL, AFNI or fMRIPrep")
        return fmt

    def settings(self) -> dict:
        """Threshold and neighbours as ``pain_glm`` keywords."""
        f = self.form
        return {"fd_threshold": float(f.threshold.value), "scrub_before": int(f.before.value),
                "scrub_after": int(f.after.value)}

    def compute(self) -> bool:
        """Read the motion file (in a worker thread), then FD and the scrub mask."""
        try:
            path = self.form.file.path()
            fmt = self.motion_format()
        except MilnaInputError as exc:
            self.refuse(exc)
            return False
        n_volumes = None
        try:
            n_volumes = self.ctx.run_source().n_volumes
        except MilnaInputError:
            pass

        def job(progress):
            params = read_motion(path, fmt)
            if n_volumes is not None and params.n_volumes != n_volumes:
                raise input_error(path, f"holds {params.n_volumes} rows of motion parameters "
                                        f"for a run of {n_volumes} volumes")
            progress(1, 1)
            return params

        return self.runner.start("Framewise displacement", job, self._on_read,
                                 cancellable=False)

    def _on_read(self, params) -> None:
        self.params = params
        self.reassess()
        self.status.setText(escape(f"Read {params.n_volumes} volumes from {params.path.name} "
                                   f"({FORMAT_NAMES[params.source_format]})."))

    def reassess(self, *args) -> None:
        """Recompute FD and the scrub mask with the current threshold and neighbours."""
        if self.params is None:
            return
        s = self.settings()
        self.result = r = assess_motion(self.params, s["fd_threshold"], s["scrub_before"],
                                        s["scrub_after"])
        self.plot.show_fd(r.fd, r.threshold, r.scrub)
        vols = np.flatnonzero(r.scrub)
        listed = ", ".join(map(str, vols[:20])) + (" ..." if vols.size > 20 else "")
        text = (f"Mean FD <b>{r.mean_fd:.3f}</b> mm, max <b>{r.max_fd:.2f}</b> mm; "
                f"<b>{r.n_scrubbed}</b> of {r.n_volumes} volumes scrubbed "
                f"(FD &gt; {r.threshold:g} mm")
        if r.before or r.after:
            text += f", {r.before} before / {r.after} after"
        text += ")" + (f": {escape(listed)}" if vols.size else "")
        self.summary.setText(text)
