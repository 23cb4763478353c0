"""The SVC results: a summary (search volume, resels, FWHM, FWE thresholds, clusters) and peaks.

Every number shown keeps its exact value in the item's ``Qt.UserRole`` so that tests
and exports read what the core computed, not the rounded text.
"""

from __future__ import annotations

import html

import numpy as np
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.svc.correction import Peak, SvcResult
from .smoothness import describe_smoothness

#: (header, Peak attribute) of the peak table; the statistic header is the map's type.
COLUMNS = (
    ("", "kind"),
    ("stat", "value"),
    ("Z", "z"),
    ("p unc", "p_uncorrected"),
    ("pFWE RFT", "p_fwe_rft"),
    ("pFWE Bonf", "p_fwe_bonferroni"),
    ("pFWE", "p_fwe"),
    ("q FDR", "q_fdr"),
    ("x, y, z mm", "xyz_mm"),
    ("voxel", "ijk"),
    ("cl", "cluster"),
)
#: Header tooltips.
TIPS = {
    "kind": "peak: the ROI's strongest voxel; max: another local maximum (SPM's listing)",
    "p_uncorrected": "uncorrected p",
    "p_fwe_rft": "FWE p by random field theory (SPM12 spm_P_RF over the ROI's resels)",
    "p_fwe_bonferroni": "FWE p by Bonferroni over S, the ROI voxels with data",
    "p_fwe": "reported FWE p: min(RFT, Bonferroni), as SPM12's SVC",
    "q_fdr": "Benjamini-Hochberg q over the ROI voxels",
    "cluster": "cluster number (summary line)",
}
COLUMN = {attr: i for i, (_, attr) in enumerate(COLUMNS)}
#: Colour of "significant" (readable on napari's dark and light themes).
SIGNIFICANT = "#5fd35f"
NOT_SIGNIFICANT = "#e0a040"


def format_p(p: float) -> str:
    """``0.0123``, ``4.56e-05``; ``1`` for p = 1."""
    if p is None or not np.isfinite(p):
        return "-"
    if p >= 0.9999:
        return "1"
    return f"{p:.4f}" if p >= 0.001 else f"{p:.2e}"


def format_stat(v: float) -> str:
    """A statistic value with three decimals."""
    return f"{v:.3f}" if np.isfinite(v) else "-"


def format_xyz(xyz) -> str:
    """``"2.5, -32.5, -9.0"``."""
    return ", ".join(f"{v:.1f}" for v in xyz)


def peak_rows(result: SvcResult) -> list[tuple[str, Peak]]:
    """(kind, peak) rows: the ROI's strongest voxel first, then the other listed maxima."""
    rows = [("peak", result.peak)]
    for p in result.peaks:
        if tuple(p.ijk) != tuple(result.peak.ijk):
            rows.append(("max", p))
    return rows


def cell_text(attr: str, kind: str, peak: Peak) -> str:
    """The text of one table cell."""
    if attr == "kind":
        return kind
    value = getattr(peak, attr)
    if attr in ("value", "z"):
        return format_stat(value)
    if attr == "xyz_mm":
        return format_xyz(value)
    if attr == "ijk":
        return ", ".join(str(v) for v in value)
    if attr == "cluster":
        return "-" if value is None else str(value)
    return format_p(value)


def summary_html(result: SvcResult, roi_text: str = "") -> str:
    """The summary lines above the peak table, as rich text."""
    stat = result.stat_type
    tail = "two-sided" if result.two_sided else "one-sided"
    thr = result.threshold_fwe
    missing = result.n_roi_voxels - result.n_voxels
    lines = [
        f"<b>S = {result.n_voxels}</b> voxels searched"
        + (f" in {html.escape(roi_text)}" if roi_text else "")
        + f" ({result.n_roi_voxels} in the ROI"
        + (f", <b>{missing} without data</b>)" if missing else ", all with data)"),
        "Resels R0..R3: " + ", ".join(f"{v:.3g}" for v in result.resels)
        + (" (over voxels with data)" if result.resels_in_mask else ""),
        html.escape(describe_smoothness(result.smoothness)),
        f"FWE {result.alpha:g} ({tail}): <b>{stat} &ge; {format_stat(thr.used)}</b> "
        f"(RFT {format_stat(thr.rft)}, Bonferroni {format_stat(thr.bonferroni)}); "
        f"{result.n_voxels_fwe} voxel{'s' if result.n_voxels_fwe != 1 else ''} survive",
    ]
    pk = result.peak
    good = pk.p_fwe <= result.alpha
    colour = SIGNIFICANT if good else NOT_SIGNIFICANT
    verdict = "significant" if good else "not significant"
    lines.append(
        f"Peak {stat} {format_stat(pk.value)} (Z {format_stat(pk.z)}) at "
        f"({format_xyz(pk.xyz_mm)}) mm: <span style='color:{colour}'><b>p FWE "
        f"{format_p(pk.p_fwe)}, {verdict}</b></span>"
    )
    height = (f"p &lt; {result.height_p:g}, " if result.height_p is not None else "")
    head = f"Clusters at {height}{stat} &ge; {format_stat(result.height_threshold)}: "
    if not result.clusters:
        lines.append(head + "none")
    else:
        parts = []
        for c in result.clusters[:6]:
            sign = "-" if c.sign < 0 else ""
            parts.append(
                f"{sign}#{c.index}: {c.n_voxels} vox ({c.volume_mm3:.0f} mm&sup3;), peak "
                f"{format_stat(c.peak_value)} at ({format_xyz(c.peak_xyz_mm)})"
            )
        more = f"; {len(result.clusters) - 6} more" if len(result.clusters) > 6 else ""
        lines.append(head + "; ".join(parts) + more)
    return "<br>".join(lines)


class SvcResultsTable(QWidget):
    """Summary and peak table of one SVC result; a click on a peak row emits its world mm."""

    #: World mm (x, y, z) of the peak row the user clicked.
    peak_clicked = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([h for h, _ in COLUMNS])
        for c, (_, attr) in enumerate(COLUMNS):
            if attr in TIPS:
                self.table.horizontalHeaderItem(c).setToolTip(TIPS[attr])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setMinimumHeight(60)
        self.table.setStyleSheet("QTableWidget::item { padding: 0px 3px; }")
        self.table.setToolTip("Click a row to move the cursor to that peak")
        self.table.cellClicked.connect(self._on_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.result: SvcResult | None = None
        self.rows: list[tuple[str, Peak]] = []
        self.clear("")

    def clear(self, message: str) -> None:
        """No result: show ``message`` instead."""
        self.result = None
        self.rows = []
        self.table.setRowCount(0)
        self.summary.setText(html.escape(message))

    def show_result(self, result: SvcResult, roi_text: str = "") -> None:
        """Fill the summary and the peak table from ``result``."""
        self.result = result
        self.rows = peak_rows(result)
        header = self.table.horizontalHeaderItem(COLUMN["value"])
        header.setText(result.stat_type)
        self.summary.setText(summary_html(result, roi_text))
        table = self.table
        table.setUpdatesEnabled(False)
        table.setRowCount(len(self.rows))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, (kind, peak) in enumerate(self.rows):
            for c, (_, attr) in enumerate(COLUMNS):
                item = QTableWidgetItem(cell_text(attr, kind, peak))
                if attr != "kind":
                    value = getattr(peak, attr)
                    item.setData(Qt.ItemDataRole.UserRole, value)
                if attr not in ("kind", "xyz_mm", "ijk"):
                    item.setTextAlignment(right)
                if attr == "p_fwe":
                    good = peak.p_fwe <= result.alpha
                    item.setForeground(_brush(SIGNIFICANT if good else NOT_SIGNIFICANT))
                if kind == "peak" and attr == "kind" and peak.cluster is None:
                    item.setToolTip("The ROI's strongest voxel, below the cluster-forming height")
                table.setItem(r, c, item)
        table.setUpdatesEnabled(True)
        rows_shown = min(len(self.rows), 8)
        height = table.horizontalHeader().height() + 2 * table.frameWidth() + 4
        height += sum(table.rowHeight(r) for r in range(rows_shown))
        table.setFixedHeight(max(height, 60))

    def values(self, row: int) -> dict:
        """Exact values of a table row (attribute -> value), as the core gave them."""
        out = {}
        for c, (_, attr) in enumerate(COLUMNS):
            item = self.table.item(row, c)
            out[attr] = item.text() if attr == "kind" else item.data(Qt.ItemDataRole.UserRole)
        return out

    def _on_click(self, row: int, column: int) -> None:
        if 0 <= row < len(self.rows):
            self.peak_clicked.emit(tuple(self.rows[row][1].xyz_mm))


def _brush(colour: str):
    from qtpy.QtGui import QBrush, QColor

    return QBrush(QColor(colour))
