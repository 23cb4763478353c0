"""The SVC results: a summary, SPM's three-level table and the SVC's peak listing.

* A line above the tables says what was searched (ROI, map, mask); the summary below
  them (SPM's footnote) gives S, the resels, the smoothness, the FWE thresholds, the
  clusters and the set level.
* SPM's results table (:attr:`SvcResultsTable.levels`): the set level (c, p), each
  cluster (k, k in resels, p FWE, q FDR, p uncorrected) and its maxima grouped under it
  (T, Z, p FWE, q FDR, p uncorrected, x y z), as spm_list prints them.
* The SVC's peak listing (:attr:`SvcResultsTable.table`): the ROI's strongest voxel and
  the local maxima with their random-field and Bonferroni p values.

Clicking a row moves the cursor there. Every number shown keeps its exact value in the
item's ``Qt.UserRole`` so that tests and exports read what the core computed, not the
rounded text.
"""

from __future__ import annotations

import html

import numpy as np
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.svc.correction import Peak, SvcResult
from ..panel.status import StatusLabel
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
    """The summary lines below the tables, as rich text."""
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
    if result.levels is not None:
        lv = result.levels
        method = ("non-stationary (RPV)" if lv.extent_method == "non-stationary"
                  else "stationary, k x V2R")
        lines.append(
            f"Set level: <b>c = {lv.n_clusters}</b>, p = {format_p(lv.set_p)} "
            f"(k &ge; {lv.extent_voxels} voxels); cluster extents {method}"
        )
    return "<br>".join(lines)


#: (header, key) of SPM's results table; the statistic header is the map's type.
LEVEL_COLUMNS = (
    ("", "level"),
    ("k", "k"),
    ("resels", "k_resels"),
    ("p FWE", "p_fwe"),
    ("q FDR", "q_fdr"),
    ("p unc", "p_uncorrected"),
    ("stat", "value"),
    ("Z", "z"),
    ("x, y, z mm", "xyz_mm"),
)
LEVEL_COLUMN = {key: i for i, (_, key) in enumerate(LEVEL_COLUMNS)}
LEVEL_TIPS = {
    "level": "set level (first row, c clusters and its p), then each cluster (#) and its "
             "maxima (peak level)",
    "k": "cluster level: k, the cluster's voxels",
    "k_resels": "the cluster's extent in resels (k x V2R, or from SPM's RPV image)",
    "p_fwe": "cluster level: spm_P_RF(1, K, u); peak level: min(RFT, Bonferroni)",
    "q_fdr": "cluster level: SPM's topological FDR q over every cluster in the ROI at the "
             "height (spm_P_clusterFDR); peak level: Benjamini-Hochberg q over the ROI voxels",
    "p_uncorrected": "cluster: p of an extent of K resels or more; peak: uncorrected p",
}
#: Where the set row keeps its exact p (it spans the columns).
SET_P_ROLE = Qt.ItemDataRole.UserRole + 1


def level_rows(result: SvcResult) -> list[dict]:
    """SPM's table as rows: the set level, then each cluster followed by its peaks."""
    levels = result.levels
    if levels is None:
        return []
    rows = [{"level": "set", "k": levels.n_clusters, "p": levels.set_p}]
    for c in levels.clusters:
        rows.append({
            "level": "cluster", "index": c.index, "k": c.k, "k_resels": c.k_resels,
            "p_fwe": c.p_fwe, "q_fdr": c.q_fdr, "p_uncorrected": c.p_uncorrected,
            "xyz_mm": c.peak.xyz_mm,
        })
        for peak in c.peaks:
            rows.append({
                "level": "peak", "cluster": c.index, "value": peak.value, "z": peak.z,
                "p_fwe": peak.p_fwe, "q_fdr": peak.q_fdr,
                "p_uncorrected": peak.p_uncorrected, "xyz_mm": peak.xyz_mm,
            })
    return rows


def level_text(key: str, row: dict) -> str:
    """The text of one cell of SPM's table (the set row is one line across the columns)."""
    if row["level"] == "set":
        if key != "level":
            return ""
        noun = "cluster" if row["k"] == 1 else "clusters"
        return f"set level: c = {row['k']} {noun}, p = {format_p(row['p'])}"
    if key == "level":
        return f"#{row['index']}" if row["level"] == "cluster" else "peak"
    if key not in row:
        return ""
    value = row[key]
    if key == "k":
        return str(int(value))
    if key == "k_resels":
        return f"{value:.3f}"
    if key in ("value", "z"):
        return format_stat(value)
    if key == "xyz_mm":
        return format_xyz(value) if row["level"] == "peak" else ""
    return format_p(value)


class LevelsTable(QTreeWidget):
    """SPM's set / cluster / peak table; peaks are grouped under their cluster."""

    #: World mm (x, y, z) of the row the user clicked (a cluster goes to its peak).
    row_clicked = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(len(LEVEL_COLUMNS))
        self.setHeaderLabels([h for h, _ in LEVEL_COLUMNS])
        for c, (_, key) in enumerate(LEVEL_COLUMNS):
            if key in LEVEL_TIPS:
                self.headerItem().setToolTip(c, LEVEL_TIPS[key])
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setUniformRowHeights(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(False)
        self.setStyleSheet("QTreeWidget::item { padding: 0px 2px; }")
        self.setToolTip("SPM's results table within the ROI; click a row to go there")
        self.rows: list[dict] = []
        self._items: list[QTreeWidgetItem] = []
        self.itemClicked.connect(self._on_click)

    def show_result(self, result: SvcResult | None) -> None:
        """Fill the table from ``result.levels`` (empty without a result)."""
        self.clear()
        self.rows = level_rows(result) if result is not None else []
        self._items = []
        if result is None:
            return
        self.headerItem().setText(LEVEL_COLUMN["value"], result.stat_type)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        parent = None
        for row in self.rows:
            item = QTreeWidgetItem()
            for c, (_, key) in enumerate(LEVEL_COLUMNS):
                item.setText(c, level_text(key, row))
                if key in row and key != "level":
                    value = row[key]
                    item.setData(c, Qt.ItemDataRole.UserRole,
                                 list(value) if key == "xyz_mm" else value)
                    if key != "xyz_mm":
                        item.setTextAlignment(c, right)
            if row["level"] == "set":
                item.setData(0, SET_P_ROLE, row["p"])
            if "p_fwe" in row:
                good = row["p_fwe"] <= result.alpha
                item.setForeground(LEVEL_COLUMN["p_fwe"],
                                   _brush(SIGNIFICANT if good else NOT_SIGNIFICANT))
            if row["level"] == "peak" and parent is not None:
                parent.addChild(item)
            else:
                self.addTopLevelItem(item)
                parent = item if row["level"] == "cluster" else None
            if row["level"] == "set":
                item.setFirstColumnSpanned(True)
            self._items.append(item)
        self.expandAll()

    def item_of(self, index: int) -> QTreeWidgetItem:
        """The tree item of row ``index`` (in :attr:`rows` order)."""
        return self._items[index]

    def values(self, index: int) -> dict:
        """Exact values of row ``index``, read back from the items (as the core gave them)."""
        item = self._items[index]
        out = {"level": self.rows[index]["level"]}
        for c, (_, key) in enumerate(LEVEL_COLUMNS):
            value = item.data(c, Qt.ItemDataRole.UserRole)
            if value is not None:
                out[key] = tuple(value) if key == "xyz_mm" else value
        if out["level"] == "set":
            out["p"] = item.data(0, SET_P_ROLE)
        return out

    def _on_click(self, item, column: int) -> None:
        if item in self._items:
            row = self.rows[self._items.index(item)]
            if "xyz_mm" in row:
                self.row_clicked.emit(tuple(row["xyz_mm"]))


class SvcResultsTable(QWidget):
    """Summary, SPM's table and the peak listing of one SVC result; a click emits world mm."""

    #: World mm (x, y, z) of the row the user clicked (either table).
    peak_clicked = Signal(object)

    def __init__(self, parent=None, atlas_of=None):
        super().__init__(parent)
        #: Gives the atlas whose labels the last column names (None: no column).
        self.atlas_of = atlas_of or (lambda: None)
        self.searched = StatusLabel("")
        self.summary = StatusLabel("")
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
        self.levels = LevelsTable()
        self.levels.row_clicked.connect(self.peak_clicked)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.levels, "Set / cluster / peak")
        self.tabs.addTab(self.table, "Peaks: RFT, Bonferroni")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.searched)
        layout.addWidget(self.tabs)
        layout.addWidget(self.summary)
        self.result: SvcResult | None = None
        self.rows: list[tuple[str, Peak]] = []
        self.clear("")

    def clear(self, message: str) -> None:
        """No result: show ``message`` instead."""
        self.result = None
        self.rows = []
        self.table.setRowCount(0)
        self.levels.show_result(None)
        self.tabs.setVisible(False)
        self.searched.setText("")
        self.summary.setText(html.escape(message))

    def show_result(self, result: SvcResult, roi_text: str = "", searched: str = "") -> None:
        """Fill the summary and both tables from ``result``."""
        self.result = result
        self.rows = peak_rows(result)
        header = self.table.horizontalHeaderItem(COLUMN["value"])
        header.setText(result.stat_type)
        self.searched.setText(f"<b>{html.escape(searched)}</b>" if searched else "")
        self.tabs.setVisible(True)
        self.summary.setText(summary_html(result, roi_text))
        self.levels.show_result(result)
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
        peaks_height = table.horizontalHeader().height() + sum(
            table.rowHeight(r) for r in range(min(len(self.rows), 8)))
        tree = self.levels
        tree_height = tree.header().sizeHint().height() + min(len(tree.rows), 9) * max(
            tree.sizeHintForRow(0), 1)
        height = max(peaks_height, tree_height, 60) + 2 * table.frameWidth() + 4
        self.tabs.setFixedHeight(height + self.tabs.tabBar().sizeHint().height()
                                 + table.horizontalScrollBar().sizeHint().height())
        self.show_atlas()

    def show_atlas(self, *args) -> None:
        """An "atlas" column after the others: the label at each row's peak (atlas_of())."""
        try:
            atlas = self.atlas_of() if self.result is not None else None
            table, tree = self.table, self.levels
            table.setColumnCount(len(COLUMNS) + (atlas is not None))
            tree.setColumnCount(len(LEVEL_COLUMNS) + (atlas is not None))
        except RuntimeError:  # the tab was closed
            return
        if atlas is None:
            return
        from ...core.atlas import labels_at

        table.setHorizontalHeaderItem(len(COLUMNS), QTableWidgetItem("atlas"))
        for r, label in enumerate(labels_at(atlas, [p.xyz_mm for _, p in self.rows])):
            table.setItem(r, len(COLUMNS), QTableWidgetItem(label.describe()))
        tree.headerItem().setText(len(LEVEL_COLUMNS), "atlas")
        points = [(i, row["xyz_mm"]) for i, row in enumerate(tree.rows) if "xyz_mm" in row]
        if points:
            for (i, _), label in zip(points, labels_at(atlas, [xyz for _, xyz in points])):
                tree.item_of(i).setText(len(LEVEL_COLUMNS), label.describe())

    def summary_text(self) -> str:
        """What was searched and the summary as the user reads them (plain text lines)."""
        from qtpy.QtGui import QTextDocument

        document = QTextDocument()
        document.setHtml(self.summary.text())
        text = document.toPlainText()
        if self.searched.text():
            document.setHtml(self.searched.text())
            text = document.toPlainText() + "\n" + text
        return text

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
