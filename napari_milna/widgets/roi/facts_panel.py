"""Live ROI facts: size, centroid, CSF, brain / coverage and statistic per ROI.

The table follows every edit of the ROI layer (see :class:`RoiSession`), calling
:func:`napari_milna.core.roi.facts.roi_facts_table` on the ROI grid with the study
session's maps, chosen here in a magicgui form bound to the session (resampled
explicitly when on another grid, and said). A click on a row selects that ROI (the
session's ROI: what the SVC, QC and Crossover tabs use) and moves the cursor to its
centroid.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from magicgui.widgets import Label, PushButton
from qtpy.QtCore import Qt, QTimer
from qtpy.QtGui import QColor, QIcon, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..._napari.roi_layers import roi_colour, roi_grid, roi_state
from ...core.errors import MilnaInputError
from ...core.roi.facts import RoiFacts, roi_facts_table, write_facts_csv
from ..panel.links import connect_while
from ..panel.session_picker import SessionPicker
from ..panel.status import StatusLabel
from . import dialogs as roi_dialogs
from .forms import compact, form, row
from .session import RoiSession

COLUMNS = (
    "ROI",
    "vox",
    "mm³",
    "centroid",
    "CSF",
    "brain",
    "cover",
    "mean",
    "peak",
)
#: Widest the table asks the dock to be (px); beyond, it scrolls sideways.
MAX_TABLE_WIDTH = 420
COLUMN_TIPS = (
    "ROI name (double-click to rename); a click moves the cursor to its centroid",
    "Number of voxels on the reference grid",
    "Volume: voxels x voxel volume",
    "Centroid x, y, z in world mm: mean position of the voxel centres",
    "Mean CSF probability over the ROI",
    "Fraction of ROI voxels inside the brain mask",
    "Fraction of ROI voxels inside the coverage (analysis) mask",
    "Mean of the statistical map over the ROI",
    "Peak (maximum) of the statistical map in the ROI",
)


def _num(value, fmt: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, fmt)


def facts_cells(item: RoiFacts) -> list[str]:
    """Text of one table row."""
    centroid = "-" if item.centroid_mm is None else ", ".join(f"{v:.1f}" for v in item.centroid_mm)
    return [
        item.name,
        str(item.n_voxels),
        f"{item.volume_mm3:.1f}",
        centroid,
        _num(item.csf_fraction, ".2f"),
        _num(item.brain_fraction, ".2f"),
        _num(item.coverage_fraction, ".2f"),
        _num(item.stat_mean, ".2f"),
        _num(item.stat_peak, ".2f"),
    ]


def _swatch(rgba) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor.fromRgbF(*[float(c) for c in rgba]))
    return QIcon(pixmap)


class RoiFactsPanel(QWidget):
    """Facts table of every ROI of the ROI layer shown, with the study's maps and CSV export.

    The four map pickers (statistic, CSF, brain mask, analysis mask) are the study
    session's choices, bound both ways: the refine tools and the other tabs use the same.
    """

    def __init__(self, session: RoiSession, parent=None):
        super().__init__(parent)
        self.session = session
        study = session.study

        def picker(role, tip):
            choice = SessionPicker(study, role, tooltip=tip, min_chars=8)
            compact(choice.widget, 8)
            return choice

        self.stat = picker(
            "stat_map",
            "The study's statistical map: mean and peak per ROI, threshold and grow tools, "
            "and the map the SVC tab tests",
        )
        self.csf = picker(
            "csf", "The study's CSF probability map: mean CSF per ROI, CSF exclusion"
        )
        self.brain = picker("brain", "The study's brain mask: fraction of each ROI inside it")
        self.coverage = picker(
            "analysis",
            "The study's analysis (coverage) mask, e.g. SPM's mask.nii: fraction of each ROI "
            "inside it",
        )
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for c, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.note = StatusLabel("")
        self.export_button = PushButton(text="Export CSV...")
        self.delete_button = PushButton(
            text="Delete ROI", tooltip="Erase the selected ROI's voxels and its name (undoable)"
        )
        self.maps = form(
            row(self.stat.widget, Label(value="CSF"), self.csf.widget, label="Statistic"),
            row(self.brain.widget, Label(value="Analysis"), self.coverage.widget, label="Brain"),
        )
        buttons = row(self.delete_button, self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.maps.native)
        layout.addWidget(self.table)
        layout.addWidget(self.note)
        layout.addWidget(buttons.native)

        self.facts: list[RoiFacts] = []
        self.refresh_count = 0
        self.last_refresh_ms = 0.0
        self._filling = False
        connect_while(
            self, (study.stat_map_changed, self.refresh), (study.mask_changed, self.refresh),
            (study.atlas_changed, self.refresh),
        )
        session.labels_changed.connect(self.refresh)
        session.roi_layer_changed.connect(self.refresh)
        session.selection_changed.connect(self._show_selection)
        self.table.cellClicked.connect(self._on_click)
        self.table.itemChanged.connect(self._on_item_changed)
        self.export_button.clicked.connect(lambda *a: self.export_csv())
        self.delete_button.clicked.connect(lambda *a: self.delete_selected())
        self.refresh()

    # ------------------------------------------------------------------ facts
    def compute(self) -> tuple[list[RoiFacts], list[str]]:
        """Facts of every ROI of the current layer, and notes on resampled maps."""
        s = self.session
        if s.roi_layer is None:
            return [], []
        study = s.study
        maps, notes = {}, []
        for key, layer, order in (
            ("stat", study.stat_map, 1),
            ("csf", study.masks["csf"], 1),
            ("brain", study.masks["brain"], 0),
            ("coverage", study.masks["analysis"], 0),
        ):
            if layer is None or layer not in s.viewer.layers:
                continue
            on_grid = s.on_roi_grid(layer, order=order)
            maps[key] = on_grid.data
            if on_grid.resampled:
                notes.append(on_grid.note)
        facts = roi_facts_table(s.labels(), roi_grid(s.roi_layer), s.names, **maps)
        return facts, notes

    def refresh(self, *args) -> None:
        """Recompute the facts and fill the table."""
        t0 = time.perf_counter()
        self.facts, notes = self.compute()
        self._fill()
        if self.session.roi_layer is None:
            self.note.setText("No ROI layer yet: seed an ROI or add one to paint.")
        else:
            self.note.setText(" ".join(f"{n[0].upper()}{n[1:]}." for n in notes))
        self.refresh_count += 1
        self.last_refresh_ms = 1e3 * (time.perf_counter() - t0)

    def _fill(self) -> None:
        self._filling = True
        table = self.table
        table.setRowCount(len(self.facts))
        selected = self.session.selected_label
        for r, item in enumerate(self.facts):
            for c, text in enumerate(facts_cells(item)):
                cell = table.item(r, c)
                if cell is None:
                    cell = QTableWidgetItem()
                    table.setItem(r, c, cell)
                cell.setText(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.label)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if c == 0:
                    flags |= Qt.ItemFlag.ItemIsEditable
                    cell.setIcon(_swatch(roi_colour(item.label, item.name)))
                    cell.setToolTip(f"label {item.label}" + (" (empty)" if item.empty else ""))
                else:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                cell.setFlags(flags)
                cell.setForeground(QColor("gray") if item.empty else QColor())
        self._fill_atlas()
        self._filling = False
        self._show_selection(selected)
        self._fit_table()
        QTimer.singleShot(0, self._fit_table)  # again once the header is laid out

    def _fill_atlas(self) -> None:
        """An "atlas" column: the session atlas's label at each ROI's centroid."""
        atlas = self.session.study.atlas_object()
        self.table.setColumnCount(len(COLUMNS) + (atlas is not None))
        if atlas is None:
            return
        from ...core.atlas import label_at

        header = QTableWidgetItem("atlas")
        header.setToolTip("Label of the session's atlas at the ROI's centroid")
        self.table.setHorizontalHeaderItem(len(COLUMNS), header)
        for r, item in enumerate(self.facts):
            centre = item.centroid_mm
            cell = QTableWidgetItem("-" if centre is None else label_at(atlas, centre).describe())
            cell.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            cell.setData(Qt.ItemDataRole.UserRole, item.label)
            self.table.setItem(r, len(COLUMNS), cell)

    def _fit_table(self) -> None:
        """Size the table to its rows and columns (so the dock shows every column)."""
        table = self.table
        header = table.horizontalHeader()
        table.resizeRowsToContents()
        frame = 2 * table.frameWidth() + 2
        hinted = sum(
            max(table.sizeHintForColumn(c), header.sectionSizeHint(c))
            for c in range(table.columnCount())
        )
        width = frame + hinted + table.iconSize().width() + 8  # the ROI colour swatch
        table.setMinimumWidth(min(width, MAX_TABLE_WIDTH))
        heights = [table.rowHeight(r) for r in range(table.rowCount())]
        row_height = max(heights) if heights else table.verticalHeader().defaultSectionSize()
        rows_height = sum(heights) + max(2 - len(heights), 0) * row_height  # room for 2 ROIs
        height = frame + max(header.height(), header.sizeHint().height()) + rows_height
        if width > MAX_TABLE_WIDTH:
            height += table.horizontalScrollBar().sizeHint().height()
        table.setFixedHeight(height)

    def showEvent(self, event):  # noqa: N802 (Qt API)
        """Fit the table once the style has set row and column sizes."""
        super().showEvent(event)
        self._fit_table()

    def _show_selection(self, label: int) -> None:
        for r, item in enumerate(self.facts):
            if item.label == label:
                self.table.blockSignals(True)
                self.table.selectRow(r)
                self.table.blockSignals(False)
                return
        self.table.clearSelection()

    def row_of(self, name: str) -> int:
        """Row index of the ROI called ``name`` (-1 if absent)."""
        return next((r for r, f in enumerate(self.facts) if f.name == name), -1)

    def _on_click(self, row: int, column: int) -> None:
        if not 0 <= row < len(self.facts):
            return
        item = self.facts[row]
        self.session.select(item.label)
        if item.centroid_mm is not None:
            self.session.state.go_to_world(item.centroid_mm)

    def _on_item_changed(self, cell) -> None:
        if self._filling or cell.column() != 0:
            return
        label = cell.data(Qt.ItemDataRole.UserRole)
        name = cell.text().strip()
        names = self.session.names
        if not name or "\t" in name:
            cell.setText(names.get(label, f"label {label}"))
            return
        if names.get(label) != name:
            names[label] = name
            self.session.set_names(names)
            self.session.notify("info", f"Label {label} is now called {name}.")

    # ------------------------------------------------------------------ actions
    def delete_selected(self) -> None:
        """Erase the selected ROI and forget its name (one undoable edit)."""
        s = self.session
        target = s.target("Delete ROI")
        if target is None:
            return
        label, mask = target
        name = s.roi_name(label)
        s.apply(label, np.zeros_like(mask), f"Delete {name}", allow_empty=True)
        names = s.names
        names.pop(label, None)
        s.set_names(names)
        study = s.study
        if study.roi_layer is s.roi_layer and study.roi_label == label:
            study.set_roi(s.roi_layer, 0)  # the SVC, QC and Crossover tabs lose it, and say so

    def export_csv(self, path=None) -> Path | None:
        """Write the facts table as CSV (asks for a file; asks before replacing one)."""
        s = self.session
        if not self.facts:
            s.notify("warning", "Export CSV: there is no ROI to describe.")
            return None
        if path is None:
            start = ""
            if s.roi_layer is not None:
                saved = roi_state(s.roi_layer).saved_path
                start = str(Path(saved).parent) if saved else ""
            path = roi_dialogs.ask_save_file(self, "Export ROI facts", start, "CSV (*.csv)")
            if path is None:
                return None
        path = Path(path)
        if path.suffix.lower() != ".csv":
            path = path.with_name(path.name + ".csv")
        overwrite = False
        if path.exists():
            overwrite = roi_dialogs.ask_overwrite(self, [path])
            if not overwrite:
                s.notify("info", f"Export CSV: {path} kept as it was; nothing written.")
                return None
        try:
            written = write_facts_csv(self.facts, path, overwrite=overwrite)
        except (MilnaInputError, OSError) as exc:
            s.notify("error", str(exc) if isinstance(exc, MilnaInputError) else f"{path}: {exc}")
            return None
        s.notify("info", f"ROI facts written to {written}.")
        return written
