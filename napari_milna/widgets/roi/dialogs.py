"""The questions the ROI workbench asks: file names, overwriting, grids, unsaved edits.

Small functions, so that tests can replace them (monkeypatch) without a modal dialog.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QFileDialog, QMessageBox

from ..panel import dialogs as panel_dialogs

NIFTI_FILTER = "NIfTI (*.nii.gz *.nii)"


def ask_folder(parent, title: str, start: str = "") -> str | None:
    """An existing folder, or None when cancelled."""
    folder = QFileDialog.getExistingDirectory(parent, title, start)
    return folder or None


def ask_save_file(parent, title: str, start: str = "", filter: str = NIFTI_FILTER) -> str | None:
    """A file name to write, or None when cancelled (overwriting is asked separately)."""
    return panel_dialogs.ask_save_file(parent, title, start, filter)


def ask_open_files(parent, title: str, start: str = "") -> list[str]:
    """Files to open (empty when cancelled)."""
    paths, _ = QFileDialog.getOpenFileNames(parent, title, start, NIFTI_FILTER)
    return list(paths)


def ask_overwrite(parent, paths: list[Path]) -> bool:
    """Whether to replace existing files (default: no): the panel's question."""
    return panel_dialogs.ask_overwrite(parent, paths)


def ask_grid_mismatch(parent, text: str) -> str | None:
    """How to open an ROI on another grid: ``"nearest"``, ``"fraction"``, ``"own"`` or None."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("ROI on another grid")
    box.setText(text)
    choices = {
        box.addButton("Resample (nearest)", QMessageBox.ButtonRole.AcceptRole): "nearest",
        box.addButton("Resample (fraction)", QMessageBox.ButtonRole.AcceptRole): "fraction",
        box.addButton("Open on its own grid", QMessageBox.ButtonRole.ActionRole): "own",
    }
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return choices.get(box.clickedButton())


def ask_unsaved(parent, text: str) -> str:
    """Save, discard or cancel unsaved ROI edits: ``"save"``, ``"discard"`` or ``"cancel"``."""
    answer = QMessageBox.question(
        parent,
        "Unsaved ROI edits",
        text,
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"
