"""Refine the selected ROI by rule: thresholds, region growing, CSF, masks, morphology.

Each tool gathers its inputs, calls the core (:mod:`napari_milna.core.roi.refine`,
:mod:`napari_milna.core.roi.transfer`) on the ROI's own grid and writes the result
back as one undoable edit of the selected ROI only. Maps on another grid are
resampled explicitly and the tool says so.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from ..._napari.layers import source_of
from ..._napari.roi_layers import add_roi_layer, roi_grid
from ...core.errors import MilnaInputError
from ...core.io.kinds import ImageKind
from ...core.roi.refine import (
    dilate_mm,
    erode_mm,
    exclude_csf,
    grow_region,
    keep_above,
    keep_below,
    largest_component,
    restrict_to,
)
from ...core.roi.transfer import mirror_left_right, resample_roi
from ..panel.layer_combo import LayerCombo
from .session import RoiSession


def _spin(lo, hi, value, decimals=2, step=0.1, suffix="") -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setDecimals(decimals)
    spin.setSingleStep(step)
    spin.setValue(value)
    if suffix:
        spin.setSuffix(suffix)
    return spin


def _combo(*items) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


class RoiRefinePanel(QWidget):
    """Rule-based edits of the selected ROI (see the module docstring)."""

    def __init__(self, session: RoiSession, parent=None):
        super().__init__(parent)
        self.session = session
        viewer = session.viewer
        self.target_label = QLabel("")
        self.target_label.setWordWrap(True)

        def first(*kinds):
            return lambda: next(iter(session.layers_of_kind(*kinds)), None)

        # thresholds
        self.threshold_layer = LayerCombo(
            viewer, lambda: session.image_layers(True), preferred=first(ImageKind.STAT)
        )
        self.threshold_spin = _spin(-1e6, 1e6, 3.0, decimals=3)
        self.above_button = QPushButton("Keep >=")
        self.below_button = QPushButton("Keep <=")
        # region growing
        self.grow_layer = LayerCombo(
            viewer, lambda: session.image_layers(True), preferred=first(ImageKind.STAT)
        )
        self.grow_min = _spin(-1e6, 1e6, 3.0, decimals=3)
        self.grow_max = _spin(-1e6, 1e6, 1000.0, decimals=3)
        self.grow_connectivity = _combo(("6-conn.", 6), ("26-conn.", 26))
        self.grow_radius = _spin(0, 200, 10.0, decimals=1, step=1.0, suffix=" mm")
        self.grow_radius.setToolTip("Largest distance from the cursor voxel (0: no limit)")
        self.grow_add = QCheckBox("add")
        self.grow_add.setToolTip("Add the grown region to the ROI (else it replaces the ROI)")
        self.grow_button = QPushButton("Grow from cursor")
        # CSF
        self.csf_layer = LayerCombo(
            viewer,
            lambda: session.image_layers(True),
            preferred=first(ImageKind.CSF),
        )
        self.csf_spin = _spin(0, 1, 0.5, decimals=2, step=0.05)
        self.csf_spin.setToolTip("Drop ROI voxels whose CSF probability is above this")
        self.csf_button = QPushButton("Exclude CSF")
        # restrict
        self.mask_layer = LayerCombo(viewer, session.mask_layers, preferred=first(ImageKind.MASK))
        self.restrict_button = QPushButton("Restrict to mask")
        # morphology
        self.distance_spin = _spin(0, 50, 2.5, decimals=1, step=0.5, suffix=" mm")
        self.dilate_button = QPushButton("Dilate")
        self.erode_button = QPushButton("Erode")
        self.component_connectivity = _combo(("26-conn.", 26), ("18-conn.", 18), ("6-conn.", 6))
        self.largest_button = QPushButton("Keep largest")
        # mirror
        self.mirror_keep = QCheckBox("keep both sides")
        self.mirror_keep.setChecked(True)
        self.mirror_method = _combo(("nearest", "nearest"), ("fraction", "fraction"))
        self.mirror_button = QPushButton("Mirror across x = 0")
        # resample
        self.resample_layer = LayerCombo(viewer, lambda: session.image_layers(False))
        self.resample_method = _combo(("nearest", "nearest"), ("fraction", "fraction"))
        self.resample_fraction = _spin(0.05, 1.0, 0.5, decimals=2, step=0.05)
        self.resample_fraction.setToolTip("Fraction threshold of the 'fraction' method")
        self.resample_button = QPushButton("Resample to grid")
        self.resample_button.setToolTip(
            "Copy the selected ROI onto the chosen image's grid (explicit resampling) as a "
            "new ROI layer"
        )

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        rows = [
            [self.target_label],
            ["Threshold", self.threshold_layer, self.threshold_spin],
            ["", self.above_button, self.below_button],
            ["Grow", self.grow_layer, self.grow_connectivity],
            ["window", self.grow_min, self.grow_max],
            ["radius", self.grow_radius, self.grow_add],
            ["", self.grow_button],
            ["CSF", self.csf_layer, self.csf_spin],
            ["", self.csf_button],
            ["Mask", self.mask_layer, self.restrict_button],
            ["Distance", self.distance_spin, self.dilate_button, self.erode_button],
            ["Parts", self.component_connectivity, self.largest_button],
            ["Mirror", self.mirror_method, self.mirror_keep],
            ["", self.mirror_button],
            ["Resample", self.resample_layer, self.resample_method],
            ["fraction", self.resample_fraction, self.resample_button],
        ]
        for r, row in enumerate(rows):
            if len(row) == 1:
                grid.addWidget(row[0], r, 0, 1, 4)
                continue
            label, *widgets = row
            if label:
                grid.addWidget(QLabel(label), r, 0)
            if len(widgets) == 1:
                grid.addWidget(widgets[0], r, 1, 1, 3)
            elif len(widgets) == 2:
                grid.addWidget(widgets[0], r, 1)
                grid.addWidget(widgets[1], r, 2, 1, 2)
            else:
                for c, w in enumerate(widgets):
                    grid.addWidget(w, r, 1 + c)

        self.above_button.clicked.connect(lambda: self.threshold("above"))
        self.below_button.clicked.connect(lambda: self.threshold("below"))
        self.threshold_layer.layer_changed.connect(self._threshold_default)
        self.grow_layer.layer_changed.connect(self._grow_default)
        self.grow_button.clicked.connect(self.grow)
        self.csf_button.clicked.connect(self.exclude_csf)
        self.restrict_button.clicked.connect(self.restrict)
        self.dilate_button.clicked.connect(lambda: self.morphology("dilate"))
        self.erode_button.clicked.connect(lambda: self.morphology("erode"))
        self.largest_button.clicked.connect(self.keep_largest)
        self.mirror_button.clicked.connect(self.mirror)
        self.resample_button.clicked.connect(self.resample)
        session.selection_changed.connect(self._show_target)
        session.roi_layer_changed.connect(self._show_target)
        session.labels_changed.connect(self._show_target)
        self._threshold_default(self.threshold_layer.layer())
        self._grow_default(self.grow_layer.layer())
        self._show_target()

    # ------------------------------------------------------------------ helpers
    def _show_target(self, *args) -> None:
        s = self.session
        if s.roi_layer is None:
            self.target_label.setText("Acts on the selected ROI (none yet).")
            return
        label = s.selected_label
        self.target_label.setText(
            f"Acts on the selected ROI: <b>{s.roi_name(label)}</b> (label {label})"
            if label
            else "Select an ROI in the facts table."
        )

    def _threshold_default(self, layer) -> None:
        src = source_of(layer) if layer is not None else None
        if src is not None and src.info.kind == ImageKind.STAT and src.threshold:
            self.threshold_spin.setValue(float(src.threshold))

    def _grow_default(self, layer) -> None:
        src = source_of(layer) if layer is not None else None
        if src is not None and src.info.kind == ImageKind.STAT and src.threshold:
            self.grow_min.setValue(float(src.threshold))

    def _values(self, layer, what: str, order: int = 1):
        """Values of ``layer`` on the ROI grid (None after a notice)."""
        if layer is None:
            self.session.notify("warning", f"{what}: choose an image layer.")
            return None
        on_grid = self.session.on_roi_grid(layer, order=order)
        if on_grid.resampled:
            self.session.notify("info", f"{what}: {on_grid.note}.")
        return on_grid.data

    # ------------------------------------------------------------------ tools
    def threshold(self, side: str):
        """Keep the selected ROI's voxels above / below the threshold of the chosen image."""
        what = f"Keep {'>=' if side == 'above' else '<='} {self.threshold_spin.value():g}"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        values = self._values(self.threshold_layer.layer(), what)
        if values is None:
            return None
        level = self.threshold_spin.value()
        new = (
            keep_above(mask, values, level) if side == "above" else keep_below(mask, values, level)
        )
        return self.session.apply(label, new, f"{what} of {self.threshold_layer.layer().name}")

    def cursor_voxel(self) -> tuple[np.ndarray, tuple[int, int, int]]:
        """World mm of the viewer's cursor (dims point) and its voxel on the ROI grid."""
        s = self.session
        world = s.state.world_point(s.viewer.dims.point)
        ijk = tuple(int(v) for v in roi_grid(s.roi_layer).to_index(world))
        return world, ijk

    def grow(self):
        """Grow a region from the cursor voxel within the intensity window."""
        what = "Grow from cursor"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        layer = self.grow_layer.layer()
        values = self._values(layer, what)
        if values is None:
            return None
        world, ijk = self.cursor_voxel()
        radius = self.grow_radius.value() or None
        try:
            region = grow_region(
                values,
                roi_grid(self.session.roi_layer),
                ijk,
                self.grow_min.value(),
                self.grow_max.value(),
                connectivity=int(self.grow_connectivity.currentData()),
                radius_mm=radius,
            )
        except MilnaInputError as exc:
            x, y, z = world
            self.session.notify(
                "warning", f"{what} ({layer.name}, cursor at {x:.1f}, {y:.1f}, {z:.1f} mm): {exc}"
            )
            return None
        new = region | mask if self.grow_add.isChecked() else region
        return self.session.apply(label, new, f"{what} voxel {ijk} of {layer.name}")

    def exclude_csf(self):
        """Drop the ROI voxels whose CSF probability is above the level."""
        what = "Exclude CSF"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        layer = self.csf_layer.layer()
        if layer is None:
            self.session.notify("warning", f"{what}: choose a CSF probability layer.")
            return None
        data, data_grid = self.session.values_of(layer)
        result = exclude_csf(
            mask, roi_grid(self.session.roi_layer), data, data_grid, self.csf_spin.value()
        )
        if result.resampled:
            self.session.notify("info", f"{what}: {layer.name} is on another grid; {result.note}.")
        if result.n_unknown:
            self.session.notify(
                "warning",
                f"{what}: {result.n_unknown} ROI voxels lie outside {layer.name}; they are kept.",
            )
        return self.session.apply(label, result.mask, f"{what} (p > {result.max_probability:g})")

    def restrict(self):
        """Keep the ROI voxels inside the chosen brain or coverage mask."""
        what = "Restrict to mask"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        layer = self.mask_layer.layer()
        within = self._values(layer, what, order=0)
        if within is None:
            return None
        return self.session.apply(label, restrict_to(mask, within), f"{what} {layer.name}")

    def morphology(self, kind: str):
        """Dilate or erode the ROI by the distance in mm (anisotropy-aware)."""
        distance = self.distance_spin.value()
        what = f"{kind.capitalize()} {distance:g} mm"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        grid = roi_grid(self.session.roi_layer)
        new = (
            dilate_mm(mask, grid, distance) if kind == "dilate" else erode_mm(mask, grid, distance)
        )
        return self.session.apply(label, new, what)

    def keep_largest(self):
        """Keep the largest connected component of the ROI."""
        connectivity = int(self.component_connectivity.currentData())
        what = f"Keep largest component ({connectivity}-connected)"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        return self.session.apply(label, largest_component(mask, connectivity), what)

    def mirror(self):
        """Mirror the ROI across the world x = 0 plane (bilateral when both sides are kept)."""
        method = self.mirror_method.currentData()
        what = f"Mirror across x = 0 ({method})"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        mirrored = mirror_left_right(mask, roi_grid(self.session.roi_layer), method=method)
        if not mirrored.any():
            self.session.notify(
                "warning",
                f"{what}: the mirror image of {self.session.roi_name(label)} lies outside the "
                f"field of view of {self.session.roi_layer.name}; nothing changed.",
            )
            return None
        new = mirrored | mask if self.mirror_keep.isChecked() else mirrored
        return self.session.apply(label, new, what)

    def resample(self):
        """Copy the selected ROI onto another image's grid as a new ROI layer.

        Returns
        -------
        napari.layers.Labels or None
        """
        method = self.resample_method.currentData()
        what = f"Resample ({method})"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        layer = self.resample_layer.layer()
        if layer is None:
            self.session.notify("warning", f"{what}: choose the image whose grid to use.")
            return None
        target_src = source_of(layer)
        source_grid = roi_grid(self.session.roi_layer)
        moved = resample_roi(
            mask.astype(np.uint8),
            source_grid,
            target_src.grid,
            method=method,
            threshold=self.resample_fraction.value(),
        )
        name = self.session.roi_name(label)
        if not moved.any():
            self.session.notify(
                "warning",
                f"{what}: {name} has no voxel on the grid of {layer.name} "
                f"({target_src.grid.describe()}); no layer made.",
            )
            return None
        new = add_roi_layer(
            self.session.viewer,
            target_src.grid,
            target_src.source,
            layer.name,
            labels=moved * np.uint8(label),
            names={label: name},
            name=f"{name} on {layer.name}",
        )
        self.session.notify(
            "info",
            f"{what}: {name} ({int(mask.sum())} voxels, {source_grid.describe()}) -> "
            f"{int(moved.sum())} voxels on the grid of {layer.name} "
            f"({target_src.grid.describe()}), new layer {new.name}.",
        )
        return new
