"""Seed literature ROIs (PAG, RVM) on the reference grid, or add an empty ROI to paint.

The form is magicgui: region and shape (PAG hollow cylinder or sphere, RVM variants,
each with its literature source as tooltip), name, voxel-fraction threshold and an
optional CSF exclusion with the study session's CSF map. A seeded ROI becomes the
session's ROI (what the SVC, QC and Crossover tabs use) only when the session has none.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, PushButton
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..._napari.roi_layers import next_label, roi_grid
from ...core.errors import MilnaInputError
from ...core.roi.seeds import DEFAULT_VARIANT, SEEDS, mni_evidence, seed_roi
from .forms import compact, form, narrow, row, text
from .session import RoiSession


def _variants(region: str) -> list[tuple[str, str]]:
    return [(key, key) for key in SEEDS[region]]


class RoiSeedPanel(QWidget):
    """Region, shape, name, voxel-fraction threshold and CSF exclusion of a literature seed.

    Seeds are MNI coordinates: the reference must say it is in MNI space (sform /
    qform code, or an MNI-like name); otherwise the user ticks the confirmation box.
    """

    def __init__(self, session: RoiSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.evidence = None
        self.mni_label = text()
        self.mni_confirm = CheckBox(
            text="I confirm the reference is in MNI space",
            tooltip="The seeds are MNI coordinates from the literature; tick only if the "
            "reference image really is in MNI space (its header does not say so).",
        )
        self.region = compact(ComboBox(choices=list(SEEDS), value="PAG"), 5)
        self.variant = compact(ComboBox(choices=_variants("PAG"), value=DEFAULT_VARIANT["PAG"]), 8)
        self.name = LineEdit(tooltip="The ROI's name (default: the region)")
        self.name.native.setPlaceholderText("name (default: region)")
        self.fraction = narrow(FloatSpinBox(
            value=0.5, min=0.05, max=1.0, step=0.05,
            tooltip="A voxel is in the seed when the shape covers at least this fraction of "
            "it (216 sub-points per voxel; the data are never upsampled).",
        ))
        self.exclude_csf = CheckBox(
            text="drop CSF p >", value=False,
            tooltip="Leave out the seed's voxels whose CSF probability (the study's CSF map, "
            "chosen under ROI facts) is above this level",
        )
        self.csf_level = narrow(FloatSpinBox(value=0.5, min=0.0, max=1.0, step=0.05))
        self.seed_button = PushButton(
            text="Seed", tooltip="Put the seed on the reference grid as one ROI label"
        )
        self.paint_name = LineEdit(tooltip="Name of a new ROI to paint with napari's brush")
        self.paint_name.native.setPlaceholderText("custom ROI name")
        self.add_button = PushButton(
            text="Add ROI to paint", tooltip="A new, empty ROI label: paint it with the brush"
        )
        self.form = form(
            self.mni_label,
            self.mni_confirm,
            row(self.region, self.variant, self.name, label="Region"),
            row(self.fraction, self.exclude_csf, self.csf_level, self.seed_button,
                label="Fraction"),
            row(self.paint_name, self.add_button, label="Paint"),
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form.native)

        self.region.changed.connect(self._on_region)
        self.variant.changed.connect(self._on_variant)
        self.seed_button.clicked.connect(lambda *a: self.seed())
        self.add_button.clicked.connect(lambda *a: self.add_roi())
        self.paint_name.native.returnPressed.connect(self.add_roi)
        session.reference_changed.connect(self.refresh)
        self._on_variant()
        self.refresh()

    def _on_region(self, region: str) -> None:
        with self.variant.changed.blocked():
            self.variant.choices = _variants(region)
            self.variant.value = DEFAULT_VARIANT[region]
        self._on_variant()

    def _on_variant(self, *args) -> None:
        region = self.region.value
        for i, key in enumerate(SEEDS[region]):
            spec = SEEDS[region][key]
            self.variant.native.setItemData(
                i, f"{spec.description}\n{spec.citation}", Qt.ItemDataRole.ToolTipRole
            )
        spec = SEEDS[region].get(self.variant.value)
        if spec is not None:
            self.variant.tooltip = f"{spec.description}\n{spec.citation}"

    def refresh(self) -> None:
        """Show whether the reference says it is in MNI space."""
        layer = self.session.reference_layer
        with self.mni_confirm.changed.blocked():
            self.mni_confirm.value = False
        if layer is None:
            self.mni_label.value = "Choose a reference image."
            self.mni_confirm.enabled = False
            self.seed_button.enabled = False
            return
        self.seed_button.enabled = True
        evidence = mni_evidence(source_of(layer).source)
        self.evidence = evidence
        if evidence is not None:
            self.mni_label.value = f"MNI space: {evidence}."
            self.mni_confirm.enabled = False
            self.mni_confirm.visible = False
            return
        self.mni_confirm.visible = True
        self.mni_confirm.enabled = True
        self.mni_label.value = (
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
        region = self.region.value
        variant = self.variant.value
        name = self.name.value.strip() or region
        try:
            seed = seed_roi(
                region,
                source_of(ref).source,
                variant=variant,
                fraction=self.fraction.value,
                assume_mni=self.mni_confirm.value,
            )
        except MilnaInputError as exc:
            hint = ""
            if "MNI space" in str(exc):
                hint = " Tick 'I confirm the reference is in MNI space' if it is."
            session.notify("error", f"{exc}{hint}")
            return None
        mask = seed.mask
        if self.exclude_csf.value:
            found = session.without_csf(mask, seed.grid, self.csf_level.value, f"Seed {name}")
            if found is None:
                return None
            mask = found[1].mask
        session.ensure_editable_display(announce=True)
        layer = session.ensure_roi_layer()
        blocker = session.blocker()
        if blocker is not None:
            session.notify("warning", f"Seed {name}: {blocker}.")
            return None
        if not roi_grid(layer).matches(seed.grid):
            session.notify("warning", f"Seed {name}: {layer.name} lies on another grid.")
            return None
        names = session.names
        label = next((k for k, v in names.items() if v == name), None)
        if label is None:
            label = next_label(names, session.labels())
            names[label] = name
            session.set_names(names)
        counts = session.apply(label, mask, f"Seed {name}", report=False)
        if counts is None:
            return None
        took_over = session.select_if_none_in_use(label)
        for warning in seed.warnings:
            session.notify("warning", f"{ref.name}: {warning}.")
        n_voxels = int(mask.sum())
        text = (
            f"Seeded {name} ({region} {variant}, label {label} of {layer.name}): {n_voxels} "
            f"voxels ({n_voxels * seed.grid.voxel_volume:.0f} mm3) on the grid of {ref.name} "
            f"({seed.grid.describe()}); {seed.mni_evidence}."
        )
        if n_voxels != seed.n_voxels:
            text += f" {seed.n_voxels - n_voxels} CSF voxels left out."
        if counts["n_kept_other"]:
            text += f" {counts['n_kept_other']} voxels of other ROIs left to them."
        if took_over:
            text += f" SVC, QC and Crossover use {name}."
        else:
            text += (
                f" SVC, QC and Crossover still use {session.in_use()}; select {name} in the "
                "table to use it."
            )
        session.notify("info", text)
        self.name.value = ""
        layer.refresh()
        return counts

    def add_roi(self) -> int | None:
        """Add an empty, named ROI label and select it for painting (the session's ROI).

        Returns
        -------
        int or None
            The new label value.
        """
        session = self.session
        if session.reference_layer is None:
            session.notify("warning", "Add ROI: choose a reference image first.")
            return None
        name = self.paint_name.value.strip()
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
        session.viewer.layers.selection.active = layer
        if session.blocker() is None:
            layer.mode = "paint"
        self.paint_name.value = ""
        session.notify(
            "info",
            f"{name} is label {label} of {layer.name}: paint it with the brush (eraser: 0). "
            f"SVC, QC and Crossover use {name}.",
        )
        return label
