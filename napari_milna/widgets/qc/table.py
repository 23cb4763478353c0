"""Per-ROI QC tables: the verdict coloured, the reason in words.

:class:`QCTable` has one row per ROI; :class:`EchoTable` one row per ROI and echo (and
the optimal combination). Each numeric cell keeps the exact value in ``Qt.UserRole``
(None when not measured) and shows it rounded; every cell's tooltip is the ROI's
reason. A click on a row emits ``roi_clicked`` with the ROI name.
"""

from __future__ import annotations

from dataclasses import dataclass

from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtGui import QBrush, QColor, QFont
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from ...core.qc.coverage import THRESHOLDS, RoiQC

#: (column title, RoiQC attribute, format, tooltip).
COLUMNS = (
    ("ROI", "name", None, "ROI name; click a row to move the cursor to the ROI's centroid"),
    ("verdict", "verdict", None, "ok / warn / fail from the QC thresholds (core.qc.coverage)"),
    ("voxels", "n_voxels", "{:d}", "ROI voxels on the EPI grid"),
    ("cover", "coverage", "pct", "Fraction of the ROI inside the EPI field of view and the "
     f"brain mask (warn below {THRESHOLDS['coverage'][0]:.0%}, fail below "
     f"{THRESHOLDS['coverage'][1]:.0%})"),
    ("dropout", "dropout_fraction", "pct", "Fraction of ROI voxels below the dropout "
     "threshold x the brain median signal (warn from 10%, fail from 30%)"),
    ("SPM drop", "spm_drop_fraction", "pct", "Fraction of ROI voxels SPM's implicit mask "
     "would drop (not above 0.8 x the global mean in every volume; warn 10%, fail 50%)"),
    ("tSNR", "tsnr_median", "{:.1f}", "Median tSNR over the ROI (warn below 20, fail below 10)"),
    ("ratio", "signal_ratio", "{:.2f}", "Median signal ratio: temporal mean / brain median"),
    ("CSF p", "csf_fraction", "{:.2f}", "Mean CSF probability (warn from 0.30)"),
    ("CSF r", "csf_correlation", "{:.2f}", "Median correlation of the ROI's voxels with the "
     "CSF signal, a pulsation proxy (warn from 0.50)"),
    ("reason", "reason", None, "Why the verdict, in words"),
)
#: Columns of the multi-echo table: one row per ROI and echo (or the combination).
ECHO_COLUMNS = (
    COLUMNS[0],
    ("run", "series", None, "Echo (TE) or the T2*-weighted optimal combination; * marks the "
     "echo a single-echo protocol would have used"),
    COLUMNS[6], COLUMNS[4], COLUMNS[5], COLUMNS[7], COLUMNS[1],
)
#: Verdict cell colours (background, text): readable on napari's dark theme.
VERDICT_COLOURS = {
    "ok": ("#2f9e55", "#ffffff"),
    "warn": ("#e6a117", "#1b1b1b"),
    "fail": ("#d64545", "#ffffff"),
}
#: Reason text colours on the dark background.
REASON_COLOURS = {"ok": "#8fe3a8", "warn": "#ffc861", "fail": "#ff8a8a"}


def cell_text(value, fmt: str | None) -> str:
    """Display text of one value."""
    if value is None:
        return "–"
    if fmt is None:
        return str(value)
    if fmt == "pct":
        return f"{100 * value:.0f}%"
    return fmt.format(value)


@dataclass
class EchoRow:
    """A row of the multi-echo table: an ROI's QC in one echo or the combination."""

    roi: RoiQC
    series: str

    def __getattr__(self, name: str):
        return getattr(self.roi, name)


class VerdictTable(QTableWidget):
    """A table of ROI QC rows (``columns``: title, attribute, format, tooltip)."""

    #: Emitted with the ROI name when a row is clicked.
    roi_clicked = Signal(str)

    def __init__(self, columns=COLUMNS, parent=None):
        super().__init__(0, len(columns), parent)
        self.columns = columns
        self.setHorizontalHeaderLabels([c[0] for c in columns])
        for c, column in enumerate(columns):
            self.horizontalHeaderItem(c).setToolTip(column[3])
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.rows: list = []
        self.cellClicked.connect(self._on_click)
        self._fit_height()

    def column(self, title: str) -> int:
        """Index of the column titled ``title``."""
        return [c[0] for c in self.columns].index(title)

    def show_rois(self, rows: list) -> None:
        """Fill the table with ``rows``."""
        self.rows = list(rows)
        self.clearContents()
        self.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, roi in enumerate(rows):
            tip = f"{roi.name}: {roi.verdict}. {roi.reason}"
            if roi.notes:
                tip += "\n" + "\n".join(roi.notes)
            for c, (_, attr, fmt, _) in enumerate(self.columns):
                value = getattr(roi, attr)
                item = QTableWidgetItem(cell_text(value, fmt))
                item.setData(Qt.ItemDataRole.UserRole, value)
                item.setToolTip(tip)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if fmt is not None:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if attr == "verdict":
                    back, fore = VERDICT_COLOURS.get(roi.verdict, ("#555555", "#ffffff"))
                    item.setBackground(QBrush(QColor(back)))
                    item.setForeground(QBrush(QColor(fore)))
                    item.setFont(bold)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                elif attr == "reason":
                    item.setForeground(QBrush(QColor(REASON_COLOURS.get(roi.verdict, "#d6d6d6"))))
                self.setItem(r, c, item)
        self._fit_height()
        QTimer.singleShot(0, self._fit_height)

    def row_of(self, name: str, series: str | None = None) -> int:
        """Row of ROI ``name`` (in ``series`` for the multi-echo table)."""
        return next(r for r, roi in enumerate(self.rows) if roi.name == name
                    and (series is None or roi.series.rstrip(" *") == series))

    def value(self, name: str, attr: str, series: str | None = None):
        """The exact value of ``attr`` for ROI ``name`` as held by the table."""
        col = [c[1] for c in self.columns].index(attr)
        return self.item(self.row_of(name, series), col).data(Qt.ItemDataRole.UserRole)

    def text(self, name: str, attr: str, series: str | None = None) -> str:
        """The text shown for ``attr`` of ROI ``name``."""
        col = [c[1] for c in self.columns].index(attr)
        return self.item(self.row_of(name, series), col).text()

    def select_roi(self, name: str | None) -> None:
        """Select the (first) row of ROI ``name`` without emitting ``roi_clicked``."""
        rows = [r for r, roi in enumerate(self.rows) if roi.name == name]
        if rows:
            self.selectRow(rows[0])
        else:
            self.clearSelection()

    def _fit_height(self) -> None:
        """As tall as its rows (2 to 8 visible), so the dock does not scroll twice."""
        self.resizeRowsToContents()
        header = self.horizontalHeader()
        row_h = self.verticalHeader().defaultSectionSize()
        heights = [self.rowHeight(r) for r in range(self.rowCount())][:8]
        rows_h = sum(heights) + max(2 - len(heights), 0) * row_h
        bar = self.horizontalScrollBar().sizeHint().height()
        frame = 2 * self.frameWidth() + 2
        head = max(header.height(), header.sizeHint().height())
        self.setFixedHeight(frame + head + rows_h + bar)

    def _on_click(self, row: int, column: int) -> None:
        if 0 <= row < len(self.rows):
            self.roi_clicked.emit(self.rows[row].name)


class QCTable(VerdictTable):
    """The per-ROI QC table."""

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)


class EchoTable(VerdictTable):
    """Per ROI, the QC of each echo next to the optimal combination."""

    def __init__(self, parent=None):
        super().__init__(ECHO_COLUMNS, parent)
