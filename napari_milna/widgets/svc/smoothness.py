"""Where the SVC's smoothness comes from: the analysis folder, a typed FWHM, FSL's file, residuals.

The choice is a set of magicgui widgets bound to the study session: the smoothness the
tab resolves is the session's :attr:`~napari_milna._napari.session.StudySession.smoothness`
(with its source in words: ``"SPM.mat xVol.FWHM"``, ``"typed"``, ...), and a smoothness
another tab or an opened analysis folder puts in the session shows here. A map opened
with its SPM or FEAT folder is tested with the folder's smoothness unless the user chose
another source (an explicit choice wins). Residual images are read through the panel's
:class:`~napari_milna.widgets.panel.jobs.JobRunner`; the estimate is kept for the grid it
was made on, so live recomputation never waits.
"""

from __future__ import annotations

import os

from magicgui.widgets import ComboBox, FileEdit, LineEdit
from psygnal import Signal

from ..._napari.session import Smoothness as SessionSmoothness
from ...core.errors import MilnaInputError, input_error
from ...core.io.geometry import Grid
from ...core.svc.smoothness import (
    Smoothness,
    estimate_smoothness,
    read_fsl_smoothness,
    smoothness_from_fwhm_mm,
)
from .layer_io import parse_numbers

#: (text, key) of the smoothness sources, in combo order.
SOURCES = (
    ("from the analysis folder", "analysis"),
    ("FWHM (mm)", "fwhm_mm"),
    ("FSL smoothness file", "fsl_smoothness"),
    ("residual images", "residuals"),
)
#: How the session names the sources this tab resolves (others come from a folder).
SESSION_WORDS = {"fwhm_mm": "typed", "fsl_smoothness": "FSL smoothness file",
                 "residuals": "residuals"}
NIFTI_FILTER = "NIfTI (*.nii.gz *.nii);;All files (*)"


class SmoothnessPending(MilnaInputError):
    """The residual images are still being read."""


class SmoothnessChoice:
    """The smoothness source and its value, as magicgui widgets bound to the study session.

    Parameters
    ----------
    session : StudySession
    runner : JobRunner
        Runs the residual-image estimate.

    Attributes
    ----------
    source : magicgui ComboBox
        ``"analysis"``, ``"fwhm_mm"``, ``"fsl_smoothness"`` or ``"residuals"``.
    fwhm, fsl_file, residuals : magicgui widgets
        The typed FWHM (one value or three, mm), FSL's ``stats/smoothness``, residual
        images (one 4D ``res4d`` or SPM ``ResI_*.nii``); only the chosen one is shown.
    explicit : bool
        The user chose the source (it then wins over the folder's).
    """

    #: The smoothness (or its source) changed: recompute.
    changed = Signal()

    def __init__(self, session, runner):
        self.session = session
        self.runner = runner
        self.source = ComboBox(name="smoothness", label="Smoothness", choices=SOURCES,
                               value="fwhm_mm")
        self.source.tooltip = ("Where the FWHM comes from: the map's SPM / FEAT folder, a "
                               "typed value, FSL's smoothness file or residual images")
        self.fwhm = LineEdit(name="fwhm", label="FWHM (mm)", value="6")
        self.fwhm.tooltip = ("Smoothness of the map's noise: FWHM in mm, one value or one per "
                             "voxel axis (i, j, k), as SPM's FWHM")
        self.fsl_file = FileEdit(name="fsl_file", label="FSL file", mode="r")
        self.fsl_file.tooltip = "FSL's stats/smoothness (DLH, VOLUME, RESELS)"
        self.residuals = FileEdit(name="residuals", label="Residuals", mode="rm",
                                  filter=NIFTI_FILTER)
        self.residuals.tooltip = "One 4D res4d, or SPM's ResI_*.nii files"
        self.explicit = False
        self._syncing = False
        self._published: SessionSmoothness | None = None
        self._estimates: dict[tuple, Smoothness] = {}
        self._failed: dict[tuple, str] = {}
        self._pending: tuple | None = None
        self._show_value_widget()
        self.source.changed.connect(self._on_source)
        for widget in (self.fwhm, self.fsl_file, self.residuals):
            widget.changed.connect(self._on_value)
        session.smoothness_changed.connect(self._on_session)
        if session.smoothness is not None:
            self._on_session(session.smoothness)

    @property
    def widgets(self) -> list:
        """The form rows, in order."""
        return [self.source, self.fwhm, self.fsl_file, self.residuals]

    # ------------------------------------------------------------------ choosing
    def set_source(self, key: str, explicit: bool = True) -> None:
        """Choose a source by key (as the user does when ``explicit``)."""
        self._syncing = not explicit
        try:
            self.source.value = key
        finally:
            self._syncing = False
        self.explicit = self.explicit or explicit
        self._show_value_widget()

    def follow_map(self, folder_map) -> None:
        """A new statistic map: take its folder's smoothness unless the user chose another."""
        has_folder = folder_map is not None and folder_map.smoothness is not None
        if has_folder and not self.explicit:
            self.set_source("analysis", explicit=False)
        elif not has_folder and self.source.value == "analysis" and not self.explicit:
            self.set_source("fwhm_mm", explicit=False)

    def _show_value_widget(self) -> None:
        key = self.source.value
        self.fwhm.visible = key == "fwhm_mm"
        self.fsl_file.visible = key == "fsl_smoothness"
        self.residuals.visible = key == "residuals"

    def _on_source(self, value=None) -> None:
        if not self._syncing:
            self.explicit = True
        self._show_value_widget()
        self.changed.emit()

    def _on_value(self, value=None) -> None:
        if not self._syncing:
            self.explicit = True
        self.changed.emit()

    def _on_session(self, smoothness) -> None:
        """Show a smoothness another tab or an opened folder put in the session."""
        if smoothness is None or smoothness == self._published:
            return
        key = next((k for k, words in SESSION_WORDS.items() if words == smoothness.source),
                   "analysis")
        self._syncing = True
        try:
            if key == "fwhm_mm":
                self.fwhm.value = " ".join(f"{v:g}" for v in smoothness.fwhm_mm)
            if key in ("analysis", "fwhm_mm"):
                self.source.value = key
        finally:
            self._syncing = False
        self.explicit = key == "fwhm_mm"
        self._show_value_widget()
        self.changed.emit()

    # ------------------------------------------------------------------ values
    def resolve(self, grid: Grid, mask=None, folder_map=None, map_name: str = "") -> Smoothness:
        """The smoothness on ``grid`` from the chosen source; it becomes the session's.

        Raises
        ------
        SmoothnessPending
            Residual images are being read (``changed`` fires when done).
        MilnaInputError
            No folder smoothness, bad FWHM values, unreadable files.
        """
        smoothness = self._resolve(grid, mask, folder_map, map_name)
        key = self.source.value
        words = SESSION_WORDS.get(key, smoothness.source)
        published = SessionSmoothness(tuple(float(v) for v in smoothness.fwhm_mm), words)
        self._published = published
        self.session.set_smoothness(published)
        return smoothness

    def _resolve(self, grid, mask, folder_map, map_name) -> Smoothness:
        key = self.source.value
        if key == "analysis":
            if folder_map is None or folder_map.smoothness is None:
                raise input_error(
                    map_name or None, "lies in no SPM or FEAT folder that records its "
                    "smoothness; choose 'FWHM (mm)', FSL's smoothness file or residual images"
                )
            return folder_map.smoothness
        if key == "fwhm_mm":
            text = self.fwhm.value
            values = parse_numbers(text, "The FWHM")
            if len(values) not in (1, 3):
                raise input_error(None, "the FWHM must be one value or three (i j k) in mm, "
                                  f"got {text.strip()!r}")
            return smoothness_from_fwhm_mm(values, grid)
        if key == "fsl_smoothness":
            path = str(self.fsl_file.value or "").strip()
            if not path or path == ".":
                raise input_error(None, "choose FSL's smoothness file (stats/smoothness)")
            return read_fsl_smoothness(path, grid)
        paths = [str(p) for p in (self.residuals.value or ()) if str(p) not in ("", ".")]
        if not paths:
            raise input_error(None, "choose the residual images (a 4D res4d or SPM ResI_*.nii)")
        return self._estimate(paths, grid, mask)

    def _estimate(self, paths: list[str], grid: Grid, mask) -> Smoothness:
        stamp = tuple((p, os.path.getmtime(p) if os.path.exists(p) else None) for p in paths)
        key = (stamp, grid.shape, grid.affine.tobytes(),
               None if mask is None else hash(mask.tobytes()))
        if key in self._estimates:
            return self._estimates[key]
        if key in self._failed:
            raise MilnaInputError(self._failed[key])
        if self._pending != key and not self.runner.running:
            self._pending = key
            started = self.runner.start(
                f"Estimating the smoothness from {len(paths)} residual file(s)",
                lambda progress: estimate_smoothness(paths, grid, mask),
                lambda estimate: self._done(key, estimate), cancellable=False,
            )
            if started:
                self.runner.finished.connect(self._ended)
        raise SmoothnessPending(
            f"Estimating the smoothness from {len(paths)} residual file(s) ..."
        )

    def _done(self, key, estimate: Smoothness) -> None:
        self._estimates[key] = estimate

    def _ended(self, status: str, detail) -> None:
        self.runner.finished.disconnect(self._ended)
        if status == "error" and self._pending is not None:
            self._failed[self._pending] = str(detail)
        self._pending = None
        self.changed.emit()


def describe_smoothness(smoothness: Smoothness) -> str:
    """``"FWHM 6 x 6 x 6 mm (2.40 x 2.40 x 2.00 voxels), from SPM.mat xVol.FWHM"``."""
    mm = " x ".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in smoothness.fwhm_mm)
    vox = " x ".join(f"{v:.2f}" for v in smoothness.fwhm_voxels)
    details = smoothness.details
    if smoothness.source == "fwhm_mm":
        origin = "given in mm"
    elif smoothness.source == "fsl_smoothness":
        origin = (f"from FSL's smoothness file {os.path.basename(details.get('file', ''))} "
                  f"({details.get('used', 'RESELS')})")
    elif smoothness.source == "residuals":
        origin = (f"estimated from {details.get('n_images', '?')} residual images "
                  f"({details.get('n_voxels_used', '?')} voxels)")
    else:
        origin = f"from {smoothness.source}"
    return f"FWHM {mm} mm ({vox} voxels), {origin}"


__all__ = ["SOURCES", "SmoothnessChoice", "SmoothnessPending", "describe_smoothness"]
