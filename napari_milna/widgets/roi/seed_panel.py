"""Seed literature ROIs (PAG, RVM) on the reference grid, or add an empty ROI to paint."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.roi_layers import next_label
from ...core.errors import MilnaInputError
from ...core.roi.seeds import DEFAULT_VARIANT, SEEDS, mni_evidence, seed_roi
from .session import RoiSession


class RoiSeedPanel(QWidget):
    """Region, shape, name and voxel-fraction threshold of a literature seed.

    Seeds are MNI coordinates: the reference must say it is in MNI space (sform /
    qform code, or an MNI-like name); otherwise the user ticks the confirmation box.
    """

    def __init__(self, session: RoiSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.mni_label = QLabel("")
        self.mni_label.setWordWrap(True)
        self.mni_confirm = QCheckBox("I confirm the reference is in MNI space")
        self.mni_confirm.setToolTip(
            "The seeds are MNI coordinates from the literature; tick only if the reference "
            "image really is in MNI space (its header does not say so)."
        )
        self.region_combo = QComboBox()
        self.region_combo.addItems(list(SEEDS))
        self.variant_combo = QComboBox()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name (default: region)")
        self.fraction_spin = QDoubleSpinBox()
        self.fraction_spin.setRange(0.05, 1.0)
        self.fraction_spin.setSingleStep(0.05)
        self.fraction_spin.setDecimals(2)
        self.fraction_spin.setValue(0.5)
        self.fraction_spin.setToolTip(
            "A voxel is in the seed when the shape covers at least this fraction of it "
            "(216 sub-points per voxel; the data are never upsampled)."
        )
        self.seed_button = QPushButton("Seed")
        self.seed_button.setToolTip("Put the seed on the reference grid as one ROI label")
        self.paint_name = QLineEdit()
        self.paint_name.setPlaceholderText("custom ROI name")
        self.add_button = QPushButton("Add ROI to paint")
        self.add_button.setToolTip("A new, empty ROI label: paint it with napari's brush")

        region_row = QHBoxLayout()
        region_row.addWidget(self.region_combo)
        region_row.addWidget(self.variant_combo, 1)
        seed_row = QHBoxLayout()
        seed_row.addWidget(QLabel("fraction"))
        seed_row.addWidget(self.fraction_spin)
        seed_row.addWidget(self.seed_button, 1)
        paint_row = QHBoxLayout()
        paint_row.addWidget(self.paint_name, 1)
        paint_row.addWidget(self.add_button)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.mni_label)
        form.addRow(self.mni_confirm)
        form.addRow("Region", region_row)
        form.addRow("Name", self.name_edit)
        form.addRow("Voxels", seed_row)
        form.addRow("Paint", paint_row)

        self.region_combo.currentTextChanged.connect(self._on_region)
        self.variant_combo.currentIndexChanged.connect(self._on_variant)
        self.seed_button.clicked.connect(self.seed)
        self.add_button.clicked.connect(self.add_roi)
        self.paint_name.returnPressed.connect(self.add_roi)
        session.reference_changed.connect(self.refresh)
        self._on_region(self.region_combo.currentText())
        self.refresh()

    def _on_region(self, region: str) -> None:
        self.variant_combo.blockSignals(True)
        self.variant_combo.clear()
        for key, spec in SEEDS[region].items():
            self.variant_combo.addItem(key, key)
            self.variant_combo.setItemData(
                self.variant_combo.count() - 1,
                f"{spec.description}\n{spec.citation}",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.variant_combo.setCurrentIndex(
            max(self.variant_combo.findData(DEFAULT_VARIANT[region]), 0)
        )
        self.variant_combo.blockSignals(False)
        self._on_variant()

    def _on_variant(self, index=None) -> None:
        spec = SEEDS[self.region_combo.currentText()].get(self.variant_combo.currentData())
        if spec is not None:
            self.variant_combo.setToolTip(f"{spec.description}\n{spec.citation}")

    def refresh(self) -> None:
        """Show whether the reference says it is in MNI space."""
        layer = self.session.reference_layer
        self.mni_confirm.blockSignals(True)
        self.mni_confirm.setChecked(False)
        self.mni_confirm.blockSignals(False)
        if layer is None:
            self.mni_label.setText("Choose a reference image.")
            self.mni_confirm.setEnabled(False)
            self.seed_button.setEnabled(False)
            return
        self.seed_button.setEnabled(True)
        evidence = mni_evidence(source_of(layer).source)
        self.evidence = evidence
        if evidence is not None:
            self.mni_label.setText(f"MNI space: {evidence}.")
            self.mni_confirm.setEnabled(False)
            self.mni_confirm.setVisible(False)
            return
        self.mni_confirm.setVisible(True)
        self.mni_confirm.setEnabled(True)
        self.mni_label.setText(
            f"<b>Not known to be MNI:</b> nothing in {layer.name} says MNI space; the seeds "
            "are MNI coordinates. Confirm below only if it is."
        )
        self.session.notify(
            "warning",
            f"{source_of(layer).source.path}: nothing says this image is in MNI space; ROI "
            "seeds are MNI coordinates, so confirm it in the ROI workbench before seeding.",
        )

    def seed(self):
        """Seed the chosen region on the reference grid into the ROI layer.

        Returns
        -------
        dict or None
            Counts of the edit; None when nothing was done (the reason is notified).
        """
        session = self.session
        ref = session.reference_layer
        if ref is None:
            session.notify("warning", "Seed: choose a reference image first.")
            return None
        region = self.region_combo.currentText()
        variant = self.variant_combo.currentData()
        name = self.name_edit.text().strip() or region
        try:
            seed = seed_roi(
                region,
                source_of(ref).source,
                variant=variant,
                fraction=self.fraction_spin.value(),
                assume_mni=self.mni_confirm.isChecked(),
            )
        except MilnaInputError as exc:
            hint = ""
            if "MNI space" in str(exc):
                hint = " Tick 'I confirm the reference is in MNI space' if it is."
            session.notify("error", f"{exc}{hint}")
            return None
        session.ensure_editable_display(announce=True)
        layer = session.ensure_roi_layer()
        blocker = session.blocker()
        if blocker is not None:
            session.notify("warning", f"Seed {name}: {blocker}.")
            return None
        names = session.names
        label = next((k for k, v in names.items() if v == name), None)
        if label is None:
            label = next_label(names, session.labels())
            names[label] = name
            session.set_names(names)
        counts = session.apply(label, seed.mask, f"Seed {name}", report=False)
        if counts is None:
            return None
        session.select(label)
        for warning in seed.warnings:
            session.notify("warning", f"{ref.name}: {warning}.")
        session.notify(
            "info",
            f"Seeded {name} ({region} {variant}, label {label}): {seed.n_voxels} voxels "
            f"({seed.volume_mm3:.0f} mm3) on the grid of {ref.name} ({seed.grid.describe()}); "
            f"{seed.mni_evidence}."
            + (
                f" {counts['n_kept_other']} voxels of other ROIs left to them."
                if counts["n_kept_other"]
                else ""
            ),
        )
        self.name_edit.clear()
        layer.refresh()
        return counts

    def add_roi(self) -> int | None:
        """Add an empty, named ROI label and select it for painting.

        Returns
        -------
        int or None
            The new label value.
        """
        session = self.session
        if session.reference_layer is None:
            session.notify("warning", "Add ROI: choose a reference image first.")
            return None
        name = self.paint_name.text().strip()
        if not name:
            session.notify("warning", "Add ROI: type a name for the new ROI.")
            return None
        session.ensure_editable_display(announce=True)
        layer = session.ensure_roi_layer()
        names = session.names
        if name in names.values():
            label = next(k for k, v in names.items() if v == name)
        else:
            label = next_label(names, session.labels())
            names[label] = name
            session.set_names(names)
        session.select(label)
        self.session.viewer.layers.selection.active = layer
        if session.blocker() is None:
            layer.mode = "paint"
        self.paint_name.clear()
        session.notify("info", f"{name} is label {label}: paint it with the brush (eraser: 0).")
        return label
