"""Refine the selected ROI by rule: thresholds, region growing, CSF, masks, morphology.

The form is magicgui. The maps come from the study session (the statistical map, the
CSF map and the brain / analysis masks chosen under ROI facts, or in any other tab).
Each tool calls the core (:mod:`napari_milna.core.roi.refine`,
:mod:`napari_milna.core.roi.transfer`) on the ROI's own grid and writes the result
back as one undoable edit of the selected ROI only. Maps on another grid are
resampled explicitly and the tool says so.
"""

from __future__ import annotations

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, PushButton
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ..._napari.roi_layers import add_roi_layer, roi_grid
from ...core.errors import MilnaInputError
from ...core.io.kinds import ImageKind
from ...core.roi import refine as rules
from ...core.roi.transfer import mirror_left_right, resample_roi
from ..panel.links import connect_while
from ..panel.session_picker import ChoicePicker
from .forms import compact, form, narrow, row, text
from .session import RoiSession

#: Mask roles the restriction tool offers (study session roles).
RESTRICT_ROLES = (("brain mask", "brain"), ("analysis mask", "analysis"))
_METHODS = (("nearest", "nearest"), ("fraction", "fraction"))


def _spin(value, lo, hi, step, suffix="", tooltip=None) -> FloatSpinBox:
    spin = narrow(FloatSpinBox(value=value, min=lo, max=hi, step=step, tooltip=tooltip))
    if suffix:
        spin.native.setSuffix(suffix)
    return spin


def _button(label: str, tooltip: str | None = None) -> PushButton:
    return PushButton(text=label, tooltip=tooltip)


def _choice(choices, value=None, tooltip=None, chars=7) -> ComboBox:
    combo = ComboBox(choices=choices, tooltip=tooltip)
    if value is not None:
        combo.value = value
    return compact(combo, chars)


class RoiRefinePanel(QWidget):
    """Rule-based edits of the selected ROI (see the module docstring)."""

    def __init__(self, session: RoiSession, parent=None):
        super().__init__(parent)
        self.session = session
        study = session.study
        self.target_label = text()
        # thresholds (on the session's statistical map)
        self.threshold = _spin(3.0, -1e6, 1e6, 0.1, tooltip="Level on the statistical map")
        self.threshold.native.setDecimals(3)
        self.above_button = _button("Keep >=")
        self.below_button = _button("Keep <=")
        # region growing (on the session's statistical map, from the cursor)
        self.grow_min = _spin(3.0, -1e6, 1e6, 0.1, tooltip="Lowest value of the window")
        self.grow_max = _spin(1000.0, -1e6, 1e6, 0.1, tooltip="Highest value of the window")
        for spin in (self.grow_min, self.grow_max):
            spin.native.setDecimals(3)
        self.grow_connectivity = _choice((("6-conn.", 6), ("26-conn.", 26)), 6)
        self.grow_radius = _spin(
            10.0, 0, 200, 1.0, " mm", "Largest distance from the cursor voxel (0: no limit)"
        )
        self.grow_add = CheckBox(
            text="add", tooltip="Add the grown region to the ROI (else it replaces the ROI)"
        )
        self.grow_button = _button("Grow from cursor")
        # CSF (the session's CSF map)
        self.csf_level = _spin(
            0.5, 0, 1, 0.05, tooltip="Drop ROI voxels whose CSF probability is above this"
        )
        self.csf_button = _button("Exclude CSF")
        # restrict (a session mask)
        self.restrict_role = _choice(RESTRICT_ROLES, "brain", chars=10)
        self.restrict_button = _button("Restrict")
        # morphology
        self.distance = _spin(2.5, 0, 50, 0.5, " mm", "Distance in mm (anisotropy-aware)")
        self.dilate_button = _button("Dilate")
        self.erode_button = _button("Erode")
        self.component_connectivity = _choice(
            (("26-conn.", 26), ("18-conn.", 18), ("6-conn.", 6)), 26
        )
        self.largest_button = _button("Keep largest")
        # mirror
        self.mirror_method = _choice(_METHODS, "nearest")
        self.mirror_keep = CheckBox(text="keep both", value=True)
        self.mirror_button = _button("Mirror x = 0")
        # resample
        #: The image whose grid "Resample" uses (a free pick that follows the layer list).
        self.resample_picker = ChoicePicker(
            lambda: session.image_layers(False),
            signals=(session.study.layers_changed, session.viewer.layers.events.moved),
            nullable=False, tooltip="The image whose grid the ROI is copied onto",
        )
        self.resample_layer = compact(self.resample_picker.widget)
        self.resample_method = _choice(_METHODS, "nearest")
        self.resample_fraction = _spin(
            0.5, 0.05, 1.0, 0.05, tooltip="Fraction threshold of the 'fraction' method"
        )
        self.resample_button = _button(
            "Resample",
            "Copy the selected ROI onto the chosen image's grid (explicit resampling) as a "
            "new ROI layer",
        )
        self.form = form(
            self.target_label,
            row(self.threshold, self.above_button, self.below_button, label="Threshold"),
            row(self.grow_min, self.grow_max, self.grow_connectivity, label="Grow"),
            row(self.grow_radius, self.grow_add, self.grow_button, label=""),
            row(self.csf_level, self.csf_button, label="CSF p >"),
            row(self.restrict_role, self.restrict_button, label="Mask"),
            row(self.distance, self.dilate_button, self.erode_button, label="Distance"),
            row(self.component_connectivity, self.largest_button, label="Parts"),
            row(self.mirror_method, self.mirror_keep, self.mirror_button, label="Mirror"),
            row(self.resample_layer, self.resample_method, label="Resample"),
            row(self.resample_fraction, self.resample_button, label="fraction"),
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form.native)

        actions = (
            (self.above_button, lambda: self.threshold_roi("above")),
            (self.below_button, lambda: self.threshold_roi("below")),
            (self.grow_button, self.grow),
            (self.csf_button, self.exclude_csf),
            (self.restrict_button, self.restrict),
            (self.dilate_button, lambda: self.morphology("dilate")),
            (self.erode_button, lambda: self.morphology("erode")),
            (self.largest_button, self.keep_largest),
            (self.mirror_button, self.mirror),
            (self.resample_button, self.resample),
        )
        for button, action in actions:
            button.clicked.connect(lambda *a, action=action: action())
        session.selection_changed.connect(self._show_target)
        session.roi_layer_changed.connect(self._show_target)
        session.labels_changed.connect(self._show_target)
        connect_while(self, (study.stat_map_changed, self._stat_defaults))
        self._stat_defaults(study.stat_map)
        self._show_target()

    # ------------------------------------------------------------------ helpers
    def _show_target(self, *args) -> None:
        s = self.session
        stat = s.study.stat_map
        maps = f"Statistic: {stat.name if stat is not None else 'none'} (ROI facts)."
        if s.roi_layer is None:
            self.target_label.value = f"Acts on the selected ROI (none yet). {maps}"
            return
        label = s.selected_label
        self.target_label.value = (
            f"Acts on <b>{s.roi_name(label)}</b> (label {label} of {s.roi_layer.name}). {maps}"
            if label
            else f"Select an ROI in the facts table. {maps}"
        )

    def _stat_defaults(self, layer=None) -> None:
        """Threshold and growing window start at the statistical map's display threshold."""
        src = source_of(layer) if layer is not None else None
        if src is not None and src.info.kind == ImageKind.STAT and src.threshold:
            self.threshold.value = float(src.threshold)
            self.grow_min.value = float(src.threshold)
        self._show_target()

    def _session_map(self, role: str, what: str, order: int = 1):
        """(layer, values on the ROI grid) of a session map, or None after a notice."""
        study = self.session.study
        layer = study.stat_map if role == "stat" else study.masks.get(role)
        if layer is None:
            name = "statistical map" if role == "stat" else f"{role} mask"
            self.session.notify("warning", f"{what}: choose the study's {name} under ROI facts.")
            return None
        on_grid = self.session.on_roi_grid(layer, order=order)
        if on_grid.resampled:
            self.session.notify("info", f"{what}: {on_grid.note}.")
        return layer, on_grid.data

    def _edit(self, what: str, compute):
        """Run ``compute(label, mask) -> (new mask, text)`` on the selected ROI and apply it."""
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        out = compute(label, mask)
        if out is None:
            return None
        new, done = out
        return self.session.apply(label, new, done)

    # ------------------------------------------------------------------ tools
    def threshold_roi(self, side: str):
        """Keep the selected ROI's voxels above / below the level of the statistical map."""
        level = self.threshold.value
        what = f"Keep {'>=' if side == 'above' else '<='} {level:g}"

        def compute(label, mask):
            found = self._session_map("stat", what)
            if found is None:
                return None
            layer, values = found
            keep = rules.keep_above if side == "above" else rules.keep_below
            return keep(mask, values, level), f"{what} of {layer.name}"

        return self._edit(what, compute)

    def cursor_voxel(self) -> tuple[np.ndarray, tuple[int, int, int]]:
        """World mm of the session's cursor and its voxel on the ROI grid."""
        s = self.session
        world = np.asarray(s.study.cursor_mm, dtype=float)
        ijk = tuple(int(v) for v in roi_grid(s.roi_layer).to_index(world))
        return world, ijk

    def grow(self):
        """Grow a region from the cursor voxel within the intensity window."""
        what = "Grow from cursor"

        def compute(label, mask):
            found = self._session_map("stat", what)
            if found is None:
                return None
            layer, values = found
            world, ijk = self.cursor_voxel()
            try:
                region = rules.grow_region(
                    values,
                    roi_grid(self.session.roi_layer),
                    ijk,
                    self.grow_min.value,
                    self.grow_max.value,
                    connectivity=int(self.grow_connectivity.value),
                    radius_mm=self.grow_radius.value or None,
                )
            except MilnaInputError as exc:
                x, y, z = world
                self.session.notify(
                    "warning",
                    f"{what} ({layer.name}, cursor at {x:.1f}, {y:.1f}, {z:.1f} mm): {exc}",
                )
                return None
            new = region | mask if self.grow_add.value else region
            return new, f"{what} voxel {ijk} of {layer.name}"

        return self._edit(what, compute)

    def exclude_csf(self):
        """Drop the ROI voxels whose CSF probability is above the level."""
        what = "Exclude CSF"

        def compute(label, mask):
            grid = roi_grid(self.session.roi_layer)
            found = self.session.without_csf(mask, grid, self.csf_level.value, what)
            if found is None:
                return None
            layer, result = found
            return result.mask, f"{what} of {layer.name} (p > {result.max_probability:g})"

        return self._edit(what, compute)

    def restrict(self):
        """Keep the ROI voxels inside the study's brain or analysis mask."""
        role = self.restrict_role.value
        what = f"Restrict to the {role} mask"

        def compute(label, mask):
            found = self._session_map(role, what, order=0)
            if found is None:
                return None
            layer, within = found
            return rules.restrict_to(mask, within), f"{what} {layer.name}"

        return self._edit(what, compute)

    def morphology(self, kind: str):
        """Dilate or erode the ROI by the distance in mm (anisotropy-aware)."""
        distance = self.distance.value
        what = f"{kind.capitalize()} {distance:g} mm"
        change = rules.dilate_mm if kind == "dilate" else rules.erode_mm
        return self._edit(
            what,
            lambda label, mask: (change(mask, roi_grid(self.session.roi_layer), distance), what),
        )

    def keep_largest(self):
        """Keep the largest connected component of the ROI."""
        connectivity = int(self.component_connectivity.value)
        what = f"Keep largest component ({connectivity}-connected)"
        return self._edit(
            what, lambda label, mask: (rules.largest_component(mask, connectivity), what)
        )

    def mirror(self):
        """Mirror the ROI across the world x = 0 plane (bilateral when both sides are kept)."""
        method = self.mirror_method.value
        what = f"Mirror across x = 0 ({method})"

        def compute(label, mask):
            layer = self.session.roi_layer
            mirrored = mirror_left_right(mask, roi_grid(layer), method=method)
            if not mirrored.any():
                self.session.notify(
                    "warning",
                    f"{what}: the mirror image of {self.session.roi_name(label)} lies outside "
                    f"the field of view of {layer.name}; nothing changed.",
                )
                return None
            return (mirrored | mask if self.mirror_keep.value else mirrored), what

        return self._edit(what, compute)

    def resample(self):
        """Copy the selected ROI onto another image's grid as a new ROI layer.

        Returns
        -------
        napari.layers.Labels or None
        """
        method = self.resample_method.value
        what = f"Resample ({method})"
        target = self.session.target(what)
        if target is None:
            return None
        label, mask = target
        layer = self.resample_layer.value
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
            threshold=self.resample_fraction.value,
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
            f"{what}: {self.session.describe(label)} ({int(mask.sum())} voxels, "
            f"{source_grid.describe()}) -> {int(moved.sum())} voxels on the grid of "
            f"{layer.name} ({target_src.grid.describe()}), new layer {new.name}.",
        )
        return new
