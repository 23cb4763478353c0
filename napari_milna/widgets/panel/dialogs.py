"""The questions every tab asks: a file name to write, and whether to replace what is there.

Small functions, so that tests can replace them (monkeypatch) without a modal dialog.
Writing is atomic and never replaces a file unless the user says so here (No is the
default answer).
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QFileDialog, QMessageBox

#: Existing files listed in the question before "...".
LISTED_FILES = 8


def ask_yes_no(parent, title: str, text: str) -> bool:
    """Ask a yes / no question (No is the default)."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def replace_question(paths) -> tuple[str, str]:
    """Title and text of the question before replacing existing files."""
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        return "Replace the file?", f"{paths[0]} already exists.\n\nReplace it?"
    listing = "\n".join(str(p) for p in paths[:LISTED_FILES])
    more = "\n..." if len(paths) > LISTED_FILES else ""
    text = f"These files already exist:\n{listing}{more}\n\nReplace them?"
    return "Replace existing files?", text


def ask_overwrite(parent, paths) -> bool:
    """Whether to replace existing files (default: no); ``paths`` are those that exist."""
    return ask_yes_no(parent, *replace_question(paths))


def ask_save_file(parent, title: str, start: str = "", file_filter: str = "") -> str | None:
    """A file name to write, or None when cancelled (replacing is asked separately)."""
    path, _ = QFileDialog.getSaveFileName(
        parent, title, str(start), file_filter, options=QFileDialog.Option.DontConfirmOverwrite
    )
    return path or None


__all__ = ["ask_overwrite", "ask_save_file", "ask_yes_no", "replace_question"]
