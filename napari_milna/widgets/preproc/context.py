"""What the panels of the preprocessing tab share: the study session, the files, the dialogs.

The run, the brain and CSF masks and the ROI are the viewer's
:class:`~napari_milna._napari.session.StudySession` choices (read here, never copied);
the events file and the output folder are the tab's run form. Each panel asks the
context and gets either a usable value or a
:class:`~napari_milna.core.errors.MilnaInputError` naming what is missing or wrong.
Core functions take files: a mask drawn in napari (no file of its own) is written to a
temporary folder for the time of a job. Questions to the user (overwrite?, where to
save?) go through :meth:`PreprocContext.confirm` and :meth:`PreprocContext.ask_save_path`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from ..._napari.layers import grid_data, source_of
from ..._napari.session import StudySession, roi_name
from ..._napari.viewer_state import ViewerState
from ...core.errors import MilnaInputError, input_error
from ...core.io.tables import bids_entities
from ...core.roi.seeds import PAG_CENTROID_MM
from ..panel.dialogs import ask_save_file, ask_yes_no, replace_question
from ..panel.status import notify

#: How the tab names the literature PAG when the session's ROI is not a PAG.
LITERATURE_PAG = "PAG seed (Satpute et al. 2013)"


def default_output_dir(bold) -> Path:
    """Default output folder of the tab for a run.

    ``derivatives/milna/sub-XX[/ses-YY]/func`` of the dataset holding the run, else a
    ``milna`` folder next to the run.
    """
    bold = Path(bold)
    parts = bold.parts
    if "derivatives" in parts:
        root = Path(*parts[: parts.index("derivatives")])
        ent = bids_entities(bold.name)
        sub = [f"{k}-{ent[k]}" for k in ("sub", "ses") if k in ent]
        return root.joinpath("derivatives", "milna", *sub, bold.parent.name)
    return bold.parent / "milna"


def is_pag_name(name: str) -> bool:
    """True for an ROI name that says PAG (``"PAG"``, ``"PAG (hand-drawn)"``, ``"pag_left"``)."""
    return name.strip().upper().startswith("PAG")


def temporary_mask(mask: np.ndarray, layer, stack: ExitStack, name: str) -> Path:
    """Write ``mask`` (on ``layer``'s grid) as ``name.nii.gz`` in a temporary folder.

    The file keeps the header of the layer's image; ``stack`` (an ExitStack) removes it.
    """
    from ...core.roi.io import save_roi_mask

    src = source_of(layer)
    reference = src.header_source
    if reference is None:
        import nibabel as nib

        reference = nib.Nifti1Image(np.zeros(mask.shape, np.uint8), src.grid.affine)
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="milna-")))
    return save_roi_mask(mask, reference, folder / f"{name}.nii.gz", name=name)


class PreprocContext:
    """The session's choices, the run form's files and the dialogs of the preprocessing tab.

    Parameters
    ----------
    viewer : napari.Viewer
    run_form : RunForm
        Events file and output folder.
    parent : QWidget, optional
        Parent of the dialogs.
    """

    def __init__(self, viewer, run_form, parent=None):
        self.viewer = viewer
        self.session = StudySession.of(viewer)
        self.state = ViewerState.of(viewer)
        self.run_form = run_form
        self.parent = parent
        self.notify = notify
        # the panels, set by the dock (the GLM reads the others' settings)
        self.physio = self.motion = self.csf = None

    # ------------------------------------------------------------------ the run
    def run_layer(self):
        """The session's run layer, or None."""
        return self.session.run

    def run_source(self):
        """The session's run as a NiftiSource.

        Raises
        ------
        MilnaInputError
            No run chosen, or the run has no TR.
        """
        layer = self.run_layer()
        if layer is None:
            raise input_error(None, "choose the run at the top of the Preprocessing tab "
                                    "(open a 4D run in the viewer first)")
        source = source_of(layer).source
        if not source.tr:
            raise input_error(source.path, "has no TR in its header; the preprocessing "
                                           "steps need the repetition time")
        return source

    # ------------------------------------------------------------------ masks
    def mask_layer(self, role: str):
        """The session's ``role`` mask layer (``"brain"`` or ``"csf"``), or None."""
        return self.session.masks.get(role)

    def layer_file(self, layer, stack: ExitStack, name: str) -> Path:
        """The file a layer was read from; a drawn layer is written to a temporary file.

        The temporary folder lives as long as ``stack`` (an ExitStack).
        """
        src = source_of(layer)
        if src is not None and src.source is not None:
            return Path(src.source.path)
        return temporary_mask(np.asarray(grid_data(layer)) > 0, layer, stack, name)

    def mask_file(self, role: str, stack: ExitStack) -> Path | None:
        """The session's ``role`` mask as a file (None without one)."""
        layer = self.mask_layer(role)
        return None if layer is None else self.layer_file(layer, stack, f"{role}_mask")

    def brain_mask(self, grid) -> np.ndarray | None:
        """The session's brain mask on ``grid`` (nearest neighbour if needed), or None."""
        from ...core.qc.coverage import load_brain_mask

        with ExitStack() as stack:
            path = self.mask_file("brain", stack)
            return None if path is None else load_brain_mask(path, grid, [])

    def chosen(self, **roles) -> str:
        """Which session layers a step uses, in words.

        ``roles``: session role (``run``, ``brain``, ``csf``) -> text when the session has
        none; ``"run: X; brain mask: Y"``.
        """
        names = {"run": "run", "brain": "brain mask", "csf": "CSF map"}
        parts = []
        for role, missing in roles.items():
            layer = self.run_layer() if role == "run" else self.mask_layer(role)
            parts.append(f"{names[role]}: {layer.name if layer is not None else missing}")
        return "; ".join(parts)

    # ------------------------------------------------------------------ the PAG
    def pag_roi(self):
        """``(layer, label, name)`` of the session's ROI when it is a PAG, else None."""
        s = self.session
        if s.roi_layer is None or not s.roi_label:
            return None
        name = roi_name(s.roi_layer, s.roi_label)
        return (s.roi_layer, int(s.roi_label), name) if is_pag_name(name) else None

    def pag_words(self) -> str:
        """Which PAG the tab uses, in words."""
        roi = self.pag_roi()
        if roi is None:
            return LITERATURE_PAG
        layer, label, name = roi
        return f"session ROI {name!r} ({layer.name})"

    def pag_mask(self):
        """``(layer, mask, name)`` of the session's PAG ROI on its grid, or None.

        Raises
        ------
        MilnaInputError
            The session's PAG ROI has no voxel.
        """
        roi = self.pag_roi()
        if roi is None:
            return None
        layer, label, name = roi
        mask = np.asarray(grid_data(layer)) == label
        if not mask.any():
            raise input_error(None, f"the session's ROI {name!r} of {layer.name} is empty")
        return layer, mask, name

    def pag_point(self) -> tuple[float, float, float]:
        """The PAG's centre (world mm): of the session's PAG ROI, else the literature seed."""
        from scipy.ndimage import center_of_mass

        found = self.pag_mask()
        if found is None:
            return PAG_CENTROID_MM
        layer, mask, _ = found
        centre = np.asarray(center_of_mass(mask), dtype=float)
        return tuple(float(v) for v in source_of(layer).grid.to_world(centre))

    def report_rois(self, stack: ExitStack) -> tuple:
        """``report_rois`` of the GLM: the session's PAG ROI as a file named PAG, else "PAG"."""
        found = self.pag_mask()
        if found is None:
            return ("PAG",)
        layer, mask, _ = found
        return (str(temporary_mask(mask, layer, stack, "PAG")),)

    # ------------------------------------------------------------------ files
    def events_path(self, required: bool = False) -> Path | None:
        """The events file (None when not chosen, unless ``required``)."""
        path = self.run_form.events.path()
        if path is None and required:
            raise input_error(None, "choose the events file (BIDS *_events.tsv) at the top "
                                    "of the Preprocessing tab")
        return path

    def task_design(self, source):
        """HRF-convolved task regressors of the run from the events file, or None."""
        from ...core.preproc.first_level import read_events, task_design

        path = self.events_path()
        if path is None:
            return None
        events = read_events(path, source.n_volumes, source.tr)
        return task_design(events, source.n_volumes, source.tr)

    def output_dir(self, create: bool = True) -> Path:
        """The output folder (created when missing)."""
        path = self.run_form.output.path()
        if path is None:
            raise input_error(None, "choose an output folder at the top of the Preprocessing "
                                    "tab")
        if path.exists() and not path.is_dir():
            raise input_error(path, "is a file, not a folder")
        if create and not path.exists():
            try:
                path.mkdir(parents=True)
            except OSError as exc:
                raise input_error(path, f"could not be created ({exc.strerror})") from None
        return path

    def cursor_world(self) -> np.ndarray | None:
        """The session's cursor (world mm), or None while no 3D layer is open."""
        if self.viewer.dims.ndim < 3:
            return None
        return np.asarray(self.session.cursor_mm, dtype=float)

    # ------------------------------------------------------------------ dialogs
    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes / no question (No is the default)."""
        return ask_yes_no(self.parent, title, text)

    def confirm_overwrite(self, paths: Sequence[Path]) -> bool | None:
        """Ask before replacing files.

        Returns ``False`` when none of ``paths`` exists, ``True`` when the user agrees
        to replace those that do, ``None`` when the user declines.
        """
        existing = [Path(p) for p in paths if Path(p).exists()]
        if not existing:
            return False
        return True if self.confirm(*replace_question(existing)) else None

    def ask_save_path(self, title: str, default: Path, file_filter: str) -> Path | None:
        """A save dialog (the overwrite question is asked by :meth:`confirm_overwrite`)."""
        chosen = ask_save_file(self.parent, title, str(default), file_filter)
        return Path(chosen) if chosen else None

    def save_tsv(self, path, title: str, default, write, refuse) -> Path | None:
        """Ask where (unless ``path`` is given), ask before replacing, then ``write``.

        Parameters
        ----------
        path : path-like or None
        title : str
            Title of the save dialog.
        default : callable
            ``default()``: the path the dialog proposes (called only when asking).
        write : callable
            ``write(path, overwrite)``: the atomic write; returns the path written.
        refuse : callable
            ``refuse(MilnaInputError)``: bad input (no output folder, a refused write).

        Returns
        -------
        Path or None
            None when the user cancelled or the input was bad.
        """
        try:
            if path is None:
                path = self.ask_save_path(title, default(), "TSV (*.tsv)")
                if path is None:
                    return None
            overwrite = self.confirm_overwrite([Path(path)])
            if overwrite is None:
                return None
            return write(path, overwrite)
        except MilnaInputError as exc:
            refuse(exc)
            return None
