"""The panel's header: "Save session...", "Open session...", "Open analysis..." and "Report...".

Save writes the viewer's session (:func:`napari_milna._napari.saved_session.save_session`)
where the user chooses, its ROI layers beside it (unsaved ROI edits are saved with it);
Qt's file dialog asks before replacing a file. Open replaces the viewer's layers with the
session's, after asking when layers are shown (and offering to save ROI edits first).
Open analysis opens an SPM / FEAT / randomise / BIDS statistics folder with napari-milna's
reader, as a unit (napari's own File > Open Folder asks which plugin should read a folder).
Report writes the study report (:func:`napari_milna.core.report.build_report`) of what
the viewer shows: the session is written to a temporary folder and the report is built
from it in the panel's job runner, with progress and Cancel.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..._napari.saved_session import default_session_path, open_session, save_session
from ...core.errors import MilnaInputError
from .dock_layout import ViewerWidget
from .jobs import JobRunner
from .status import StatusLabel, escape, notify

SESSION_FILTER = "napari-milna session (*.milna-session.json *.json);;All files (*)"
REPORT_FILTER = "HTML page (*.html)"


# --------------------------------------------------------------------------- dialogs
def ask_session_to_save(parent, default: Path) -> Path | None:
    """The file to save the session in (Qt asks before replacing one), or None."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save session", str(default), SESSION_FILTER)
    return Path(path) if path else None


def ask_session_to_open(parent, start: Path) -> Path | None:
    """A session file to open, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open session", str(start), SESSION_FILTER)
    return Path(path) if path else None


def ask_analysis_folder(parent, start: str = "") -> Path | None:
    """An analysis folder to open (SPM, FEAT, randomise, BIDS statistics), or None."""
    path = QFileDialog.getExistingDirectory(
        parent, "Open an analysis folder (SPM, FEAT, randomise, BIDS statistics)", start)
    return Path(path) if path else None


def ask_report_path(parent, default: Path) -> Path | None:
    """The HTML file to write the report to (Qt asks before replacing one), or None."""
    path, _ = QFileDialog.getSaveFileName(parent, "Study report", str(default), REPORT_FILTER)
    return Path(path) if path else None


def ask_replace(parent, n_layers: int, unsaved: list[str]) -> str:
    """``"save"``, ``"open"`` or ``"cancel"``: what to do with the layers shown."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Open session")
    text = f"Opening a session replaces the {n_layers} layer(s) shown."
    if unsaved:
        text += " These ROI layers have unsaved edits: " + ", ".join(unsaved) + "."
    box.setText(text)
    save = box.addButton("Save session first...", QMessageBox.ButtonRole.AcceptRole)
    replace = box.addButton("Open", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "open" if clicked is replace else "cancel"


def _unsaved_roi_layers(viewer) -> list[str]:
    from ..roi.session import is_unsaved

    return [layer.name for layer in viewer.layers if is_unsaved(layer)]


# --------------------------------------------------------------------------- the bar
class SessionBar(ViewerWidget):
    """Save / open the session and write the study report."""

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.save_button = QPushButton("Save session...")
        self.save_button.setToolTip("Layers, display, ROIs (written beside it), choices, "
                                    "cursor and view, in a JSON file next to the data")
        self.open_button = QPushButton("Open session...")
        self.open_button.setToolTip("Replace the layers with a saved session's")
        self.analysis_button = QPushButton("Open analysis...")
        self.analysis_button.setToolTip(
            "An SPM, FEAT, randomise or BIDS statistics folder as one unit: its contrast "
            "maps with their df and smoothness, its analysis mask (napari's File > Open "
            "Folder would ask which reader)")
        self.report_button = QPushButton("Report...")
        self.report_button.setToolTip("One self-contained HTML page of the study: QC, SVC "
                                      "tables with lightboxes, crossover, motion, physiology, "
                                      "methods")
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.status = StatusLabel("")
        self.runner = JobRunner(self.progress, self.status, self.cancel_button,
                                busy_buttons=[self.report_button], parent=self)
        self.runner.finished.connect(self._report_ended)
        self._report_folder: str | None = None
        self.progress.hide()
        self.cancel_button.hide()
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.save_button, self.open_button, self.analysis_button,
                       self.report_button):
            buttons.addWidget(button)
        running = QHBoxLayout()
        running.setContentsMargins(0, 0, 0, 0)
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(buttons)
        layout.addLayout(running)
        layout.addWidget(self.status)
        self.save_button.clicked.connect(lambda *a: self.save())
        self.open_button.clicked.connect(lambda *a: self.open())
        self.analysis_button.clicked.connect(lambda *a: self.open_analysis())
        self.report_button.clicked.connect(lambda *a: self.report())

    # ------------------------------------------------------------------ save
    def save(self, path=None) -> Path | None:
        """Save the session in ``path`` (asked when None); returns the file written."""
        if path is None:
            path = ask_session_to_save(self, default_session_path(self.viewer))
            if path is None:
                return None
            overwrite = path.exists()  # the dialog asked before replacing it
        else:
            path, overwrite = Path(path), False
        try:
            saved = save_session(self.viewer, path, overwrite=overwrite)
        except MilnaInputError as exc:
            notify("error", str(exc))
            self.status.setText(escape(str(exc)))
            return None
        notify("info", saved.message())
        self.status.setText(escape(f"Session: {saved.path}"))
        return saved.path

    # ------------------------------------------------------------------ open
    def open(self, path=None):
        """Open the session ``path`` (asked when None) in place of the layers shown."""
        if path is None:
            start = default_session_path(self.viewer).parent
            path = ask_session_to_open(self, start)
            if path is None:
                return None
        if len(self.viewer.layers):
            choice = ask_replace(self, len(self.viewer.layers),
                                 _unsaved_roi_layers(self.viewer))
            if choice == "cancel" or (choice == "save" and self.save() is None):
                return None
        try:
            restored = open_session(self.viewer, path)
        except MilnaInputError as exc:
            notify("error", str(exc))
            self.status.setText(escape(str(exc)))
            return None
        self._follow_interpolation()
        notify("warning" if restored.missing else "info", restored.message())
        self.status.setText(escape(f"Session: {path}"))
        return restored

    # ------------------------------------------------------------------ analysis
    def open_analysis(self, folder=None) -> list:
        """Open an analysis folder (asked when None) with napari-milna's reader.

        Returns
        -------
        list
            The layers added (empty when the folder is not an analysis, with one
            notification saying so).
        """
        from ..._napari.reader import is_analysis_folder

        if folder is None:
            folder = ask_analysis_folder(self)
            if folder is None:
                return []
        folder = Path(folder)
        if not is_analysis_folder(folder):
            text = (f"{folder}: is not an analysis folder (no SPM.mat, FEAT stats/, randomise "
                    "outputs or BIDS stat- maps found).")
            notify("error", text)
            self.status.setText(escape(text))
            return []
        try:
            layers = list(self.viewer.open(str(folder), plugin="napari-milna") or [])
        except Exception as exc:  # noqa: BLE001 - a notification, never a crash of the viewer
            cause = getattr(exc, "original_error", None) or exc
            text = f"{folder}: could not be opened ({type(cause).__name__}: {cause})."
            notify("error", text)
            self.status.setText(escape(text))
            return []
        if layers:
            self.status.setText(escape(f"Analysis: {folder}"))
        return layers

    def _follow_interpolation(self) -> None:
        """The Viewer tab's "Drawn" choice follows the session's statistical map."""
        from ..viewer.stat_display import INTERPOLATIONS, set_stat_interpolation

        stat = self.session.stat_map
        mode = str(getattr(stat, "interpolation2d", "nearest")) if stat is not None else None
        if mode in INTERPOLATIONS:
            set_stat_interpolation(self.viewer, mode)

    # ------------------------------------------------------------------ report
    def report(self, out=None) -> bool:
        """Write the study report of what the viewer shows to ``out`` (asked when None).

        Returns
        -------
        bool
            True when the report job started.
        """
        if out is None:
            default = default_session_path(self.viewer).with_name("report.html")
            out = ask_report_path(self, default)
            if out is None:
                return False
            overwrite = out.exists()  # the dialog asked before replacing it
        else:
            out, overwrite = Path(out), False
        folder = tempfile.mkdtemp(prefix="milna-report-session-")
        try:
            saved = save_session(self.viewer, Path(folder) / "viewer.milna-session.json",
                                 mark_saved=False)
        except MilnaInputError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            notify("error", str(exc))
            return False
        from ...core.report import build_report, write_report

        def work(progress):
            study = build_report(saved.path, progress=progress,
                                 label="the napari viewer's session")
            return write_report(study, out, overwrite=overwrite)

        self._report_folder = folder
        self.progress.show()
        self.cancel_button.show()
        started = self.runner.start("Study report", work, self._report_written)
        if not started:
            self._clean_up()
        return started

    def _report_written(self, path) -> None:
        notify("info", f"Wrote the study report {path}.")
        self.status.setText(escape(f"Report: {path}"))

    def _report_ended(self, status: str, detail) -> None:
        self._clean_up()

    def _clean_up(self) -> None:
        if self._report_folder is not None:
            shutil.rmtree(self._report_folder, ignore_errors=True)
            self._report_folder = None
        self.progress.hide()
        self.cancel_button.hide()


__all__ = ["SessionBar", "ask_replace", "ask_report_path", "ask_session_to_open",
           "ask_session_to_save"]
