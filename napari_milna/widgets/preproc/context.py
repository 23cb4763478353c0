"""What the panels of the preprocessing dock share: the run, brain mask, events, output folder.

The top of the dock chooses them once; each panel asks the context for them and
gets either a usable value or a :class:`~napari_milna.core.errors.MilnaInputError`
naming what is missing or wrong. Questions to the user (overwrite?, where to save?)
go through :meth:`PreprocContext.confirm` and :meth:`PreprocContext.ask_save_path`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QFileDialog, QMessageBox

from ..._napari.layers import source_of
from ..._napari.viewer_state import ViewerState
from ...core.errors import input_error
from ...core.io.tables import bids_entities
from ..panel.status import notify


def default_output_dir(bold) -> Path:
    """Default output folder of the dock for a run.

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


class PreprocContext:
    """Shared inputs and user dialogs of the preprocessing dock.

    Parameters
    ----------
    viewer : napari.Viewer
    run_combo : RunCombo
    mask_field : LayerFileCombo
    events_field, out_field : PathField
    """

    def __init__(self, viewer, run_combo, mask_field, events_field, out_field, parent=None):
        self.viewer = viewer
        self.state = ViewerState.of(viewer)
        self.run_combo = run_combo
        self.mask_field = mask_field
        self.events_field = events_field
        self.out_field = out_field
        self.parent = parent
        self.notify = notify
        # the panels, set by the dock (the GLM reads the others' settings)
        self.physio = self.motion = self.csf = None

    # ------------------------------------------------------------------ inputs
    def run_layer(self):
        """The chosen run layer, or None."""
        return self.run_combo.layer()

    def run_source(self):
        """The chosen run's NiftiSource.

        Raises
        ------
        MilnaInputError
            No run chosen, or the run has no TR.
        """
        layer = self.run_layer()
        if layer is None:
            raise input_error(None, "choose a 4D run at the top of the Preprocessing dock "
                                    "(open the run in the viewer first)")
        source = source_of(layer).source
        if not source.tr:
            raise input_error(source.path, "has no TR in its header; the preprocessing "
                                           "steps need the repetition time")
        return source

    def brain_mask_path(self) -> Path | None:
        """The chosen brain mask file, or None."""
        return self.mask_field.path()

    def brain_mask(self, grid) -> np.ndarray | None:
        """The brain mask on ``grid`` (resampled by nearest neighbour if needed), or None."""
        from ...core.qc.coverage import load_brain_mask

        path = self.brain_mask_path()
        return None if path is None else load_brain_mask(path, grid, [])

    def events_path(self, required: bool = False) -> Path | None:
        """The events file (None when not chosen, unless ``required``)."""
        path = self.events_field.path()
        if path is None and required:
            raise input_error(None, "choose the events file (BIDS *_events.tsv) at the top "
                                    "of the Preprocessing dock")
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
        path = self.out_field.path()
        if path is None:
            raise input_error(None, "choose an output folder at the top of the Preprocessing "
                                    "dock")
        if path.exists() and not path.is_dir():
            raise input_error(path, "is a file, not a folder")
        if create and not path.exists():
            try:
                path.mkdir(parents=True)
            except OSError as exc:
                raise input_error(path, f"could not be created ({exc.strerror})") from None
        return path

    # ------------------------------------------------------------------ dialogs
    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes / no question (No is the default)."""
        answer = QMessageBox.question(
            self.parent, title, text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def confirm_overwrite(self, paths: Sequence[Path]) -> bool | None:
        """Ask before replacing files.

        Returns ``False`` when none of ``paths`` exists, ``True`` when the user agrees
        to replace those that do, ``None`` when the user declines.
        """
        existing = [Path(p) for p in paths if Path(p).exists()]
        if not existing:
            return False
        names = "\n".join(p.name for p in existing[:6])
        more = f"\n... and {len(existing) - 6} more" if len(existing) > 6 else ""
        ok = self.confirm("Replace files?",
                          f"These files already exist in {existing[0].parent}:\n{names}{more}\n\n"
                          "Replace them?")
        return True if ok else None

    def ask_save_path(self, title: str, default: Path, file_filter: str) -> Path | None:
        """A save dialog (the overwrite question is asked by :meth:`confirm_overwrite`)."""
        chosen, _ = QFileDialog.getSaveFileName(
            self.parent, title, str(default), file_filter,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        return Path(chosen) if chosen else None

    def save_tsv(self, path, title: str, default: Path, write) -> Path | None:
        """Ask where (unless ``path`` is given), ask before replacing, then ``write``.

        ``write(path, overwrite)`` does the atomic write; None means the user cancelled.
        """
        if path is None:
            path = self.ask_save_path(title, default, "TSV (*.tsv)")
            if path is None:
                return None
        overwrite = self.confirm_overwrite([Path(path)])
        if overwrite is None:
            return None
        return write(path, overwrite)

    def cursor_world(self) -> np.ndarray | None:
        """World mm of the viewer's cursor, or None without 3D layers."""
        if self.viewer.dims.ndim < 3:
            return None
        return self.state.world_point(self.viewer.dims.point)
