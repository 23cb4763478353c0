"""Tables of the crossover dock: ROI statistics and per-subject ROI values."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from .plot import STYLE, format_p

ROI_COLUMNS = ("ROI", "Δ", "95% CI", "t", "p", "dz", "p\nWilc.", "p\nperm", "p\nHolm")
ROI_TIPS = ("ROI name (hover for subjects and voxels)",
            "mean drug - placebo of the per-subject ROI means", "95% CI of the mean difference",
            "paired t (df n - 1)", "two-sided paired-t p", "Cohen's dz = mean / sd (ddof 1)",
            "Wilcoxon signed-rank p (two-sided)",
            "exact sign-flip p (all 2^n flips, two-sided on |t|)",
            "paired-t p, Holm-corrected across the ROIs")
ROW_HEIGHT = 20
#: Compact cells: every ROI column fits the ~500-pixel milna panel.
TABLE_STYLE = (
    "QTableWidget { font-size: 11px; }"
    "QTableWidget::item { padding: 0px 1px; }"
    "QHeaderView::section { font-size: 11px; padding: 1px 2px; }"
)


def _item(text: str, value=None, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    if value is not None:
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tooltip:
        item.setToolTip(tooltip)
    return item


class _Table(QTableWidget):
    def __init__(self, columns, parent=None):
        super().__init__(0, len(columns), parent)
        self.setHorizontalHeaderLabels(list(columns))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.setWordWrap(False)
        self.setStyleSheet(TABLE_STYLE)

    def fit_rows(self, at_most: int) -> None:
        """Height for up to ``at_most`` rows without a vertical scroll bar."""
        rows = max(1, min(self.rowCount(), at_most))
        header = self.horizontalHeader().sizeHint().height()
        scroll = self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(header + rows * ROW_HEIGHT + scroll + 4)

    def row_texts(self, row: int) -> list[str]:
        """The texts of one row (for tests and copying)."""
        return [self.item(row, c).text() for c in range(self.columnCount())]


class RoiStatsTable(_Table):
    """One row per ROI: mean difference with CI, t, p, dz, Wilcoxon, sign-flip and Holm p.

    Signals
    -------
    roi_selected(str)
        The ROI name of a clicked row.
    """

    roi_selected = Signal(str)

    def __init__(self, parent=None):
        super().__init__(ROI_COLUMNS, parent)
        for col, tip in enumerate(ROI_TIPS):
            self.horizontalHeaderItem(col).setToolTip(tip)
        self.fit_rows(4)
        self.itemSelectionChanged.connect(self._on_selection)

    def set_stats(self, rois) -> None:
        """Fill from a list of :class:`~napari_milna.core.crossover.analysis.RoiStats`."""
        self.blockSignals(True)
        self.setRowCount(len(rois))
        for row, r in enumerate(rois):
            lo, hi = r.ci95
            cells = [
                _item(r.name, tooltip=f"{r.name}: {r.n} subjects, {r.n_voxels} voxels with data"),
                _item(f"{r.mean_difference:+.2f}", r.mean_difference,
                      f"mean drug - placebo {r.mean_difference:+.4g}"),
                _item(f"{lo:.2f}, {hi:.2f}", lo, f"95% CI [{lo:.4g}, {hi:.4g}]"),
                _item(f"{r.t:.2f}", r.t, f"paired t, df {r.df}"),
                _item(format_p(r.p, 2, True), r.p, f"two-sided paired t: p = {format_p(r.p)}"),
                _item(f"{r.dz:+.2f}", r.dz, "Cohen's dz = mean / sd (ddof 1)"),
                _item(format_p(r.p_wilcoxon, 2, True), r.p_wilcoxon,
                      f"Wilcoxon signed-rank (two-sided): p = {format_p(r.p_wilcoxon)}"),
                _item(format_p(r.p_perm, 2, True), r.p_perm,
                      f"exact sign-flip, {r.n_perm} flips, two-sided on |t|: "
                      f"p = {format_p(r.p_perm)}"),
                _item(format_p(r.p_holm, 2, True), r.p_holm,
                      f"Holm across the ROIs: p = {format_p(r.p_holm)}"),
            ]
            significant = r.p_holm is not None and r.p_holm < 0.05
            colour = STYLE["up"] if r.mean_difference > 0 else STYLE["down"]
            for col, item in enumerate(cells):
                if significant and col in (0, 1, 8):
                    item.setForeground(QColor(colour))
                self.setItem(row, col, item)
        self.blockSignals(False)
        self.fit_rows(10)

    def select_roi(self, name: str) -> None:
        """Select the row of ROI ``name``."""
        for row in range(self.rowCount()):
            if self.item(row, 0).text() == name:
                self.selectRow(row)
                return

    def _on_selection(self) -> None:
        rows = {i.row() for i in self.selectedIndexes()}
        if rows:
            self.roi_selected.emit(self.item(min(rows), 0).text())


class SubjectTable(_Table):
    """One row per subject: sequence and the per-ROI drug - placebo values.

    Signals
    -------
    subject_clicked(str)
        A row was clicked (or activated): that subject's maps should be loaded.
    """

    subject_clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(("subject", "sequence"), parent)
        self.fit_rows(4)
        self.cellClicked.connect(self._on_click)
        self.cellActivated.connect(self._on_click)

    def set_values(self, subjects, sequences, rois) -> None:
        """Fill: ``subjects`` (list), ``sequences`` (list of str or None), ``rois`` (RoiStats)."""
        headers = ["subject", "sequence"] + [f"{r.name} Δ" for r in rois]
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setRowCount(len(subjects))
        for row, subject in enumerate(subjects):
            self.setItem(row, 0, _item(subject))
            self.setItem(row, 1, _item(sequences[row] or "n/a"))
            for col, r in enumerate(rois, start=2):
                d, p, x = float(r.drug[row]), float(r.placebo[row]), float(r.difference[row])
                item = _item(f"{x:+.3f}", x,
                             f"{r.name}: drug {d:+.3f}, placebo {p:+.3f}, drug - placebo {x:+.3f}")
                item.setForeground(QColor(STYLE["up"] if x > 0 else STYLE["down"]))
                self.setItem(row, col, item)
        self.fit_rows(16)

    def value(self, row: int, roi_column: int) -> float:
        """Stored drug - placebo value of ROI column ``roi_column`` (0-based) in ``row``."""
        return float(self.item(row, 2 + roi_column).data(Qt.ItemDataRole.UserRole))

    def row_of(self, subject: str) -> int:
        """Row of ``subject`` (-1 when absent)."""
        for row in range(self.rowCount()):
            if self.item(row, 0).text() == subject:
                return row
        return -1

    def _on_click(self, row: int, column: int = 0) -> None:
        if 0 <= row < self.rowCount():
            self.subject_clicked.emit(self.item(row, 0).text())


__all__ = ["ROI_COLUMNS", "RoiStatsTable", "SubjectTable"]
