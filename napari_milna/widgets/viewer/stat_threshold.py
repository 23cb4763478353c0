"""Threshold a statistical map in p, T or Z, with its degrees of freedom."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QWidget,
)

from ..._napari.layers import source_of, stat_colormap, stat_ramp
from ...core.io.kinds import ImageKind
from ...core.svc.stat_values import convert_threshold

UNITS = ("p", "T", "Z")


def stat_layers(viewer) -> list:
    """Layers of statistical maps (napari-milna sources of kind STAT)."""
    out = []
    for layer in viewer.layers:
        src = source_of(layer)
        if src is not None and src.info.kind == ImageKind.STAT:
            out.append(layer)
    return out


def apply_threshold(layer, value: float, unit: str, df=None) -> float:
    """Threshold a stat layer: transparent below the threshold, two-sided for T and Z.

    Parameters
    ----------
    layer : napari layer
        A statistical map made by napari-milna.
    value : float
        The threshold as typed.
    unit : {"p", "T", "Z"}
        p is uncorrected and one-sided (per tail).
    df : float, optional
        Degrees of freedom to use (overrides the header's).

    Returns
    -------
    float
        The threshold in the map's own units.
    """
    src = source_of(layer)
    if df is not None:
        src.df = df
    stat_type = src.info.stat_type or "Z"
    threshold = convert_threshold(value, unit, stat_type, src.df)
    ramp = stat_ramp(stat_type, threshold, src.vmax)
    src.threshold = threshold
    layer.colormap = stat_colormap(ramp)
    layer.contrast_limits = ramp.limits
    return threshold


class StatThresholdControls(QWidget):
    """Choose a statistical map, its df, and a display threshold in p, T or Z."""

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.layer_combo.setMinimumContentsLength(16)
        self.type_label = QLabel("-")
        self.df_spin = QDoubleSpinBox()
        self.df_spin.setRange(0, 1e6)
        self.df_spin.setDecimals(1)
        self.df_spin.setSpecialValueText("unknown")
        self.df_spin.setToolTip("Degrees of freedom (from SPM's header, FSL's dof, or yours)")
        self.unit_combo = QComboBox()
        self.unit_combo.addItems(["p (uncorrected)", "T", "Z"])
        self.value_spin = QDoubleSpinBox()
        self.value_spin.setDecimals(5)
        self.value_spin.setRange(0, 1e4)
        self.value_spin.setSingleStep(0.001)
        self.value_spin.setValue(0.001)
        self.value_spin.setMinimumWidth(110)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.unit_combo)
        threshold_row.addWidget(self.value_spin, 1)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Statistical map", self.layer_combo)
        form.addRow("Statistic", self.type_label)
        form.addRow("df", self.df_spin)
        form.addRow("Threshold", threshold_row)
        from .stat_display import StatInterpolationChoice  # imports this module

        self.interpolation = StatInterpolationChoice(viewer)
        form.addRow("Drawn", self.interpolation)
        form.addRow(self.result_label)
        self.layer_combo.currentIndexChanged.connect(self._on_layer)
        self.unit_combo.currentIndexChanged.connect(self._on_unit)
        self.value_spin.valueChanged.connect(self.apply)
        self.df_spin.valueChanged.connect(self.apply)
        viewer.layers.events.inserted.connect(self.refresh)
        viewer.layers.events.removed.connect(self.refresh)
        self.refresh()

    def refresh(self, event=None) -> None:
        """Update the list of statistical maps."""
        current = self.layer_combo.currentText()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        names = [layer.name for layer in stat_layers(self.viewer)]
        self.layer_combo.addItems(names)
        if current in names:
            self.layer_combo.setCurrentText(current)
        self.layer_combo.blockSignals(False)
        self._on_layer()

    def current_layer(self):
        """The selected statistical map layer, or None."""
        name = self.layer_combo.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    def _on_layer(self, index=None) -> None:
        layer = self.current_layer()
        enabled = layer is not None
        for w in (self.df_spin, self.unit_combo, self.value_spin):
            w.setEnabled(enabled)
        if layer is None:
            self.type_label.setText("no statistical map open")
            self.result_label.setText("")
            return
        src = source_of(layer)
        self.type_label.setText(f"{src.info.stat_type or '?'} ({src.info.label})")
        self.df_spin.blockSignals(True)
        df = src.df if isinstance(src.df, (int, float)) else 0
        self.df_spin.setValue(float(df or 0))
        self.df_spin.setEnabled(src.info.stat_type == "T")
        self.df_spin.blockSignals(False)
        self._show_current(src)

    def _show_current(self, src) -> None:
        self.result_label.setText(
            f"Shown: |{src.info.stat_type or 'value'}| >= {src.threshold:.3f}"
            + (" (two-sided colours)" if src.info.stat_type in ("T", "Z") else "")
        )

    def _on_unit(self, index: int) -> None:
        unit = UNITS[index]
        self.value_spin.blockSignals(True)
        if unit == "p":
            self.value_spin.setDecimals(6)
            self.value_spin.setRange(1e-6, 0.5)
            self.value_spin.setSingleStep(0.001)
            self.value_spin.setValue(0.001)
        else:
            self.value_spin.setDecimals(3)
            self.value_spin.setRange(0.0, 1e4)
            self.value_spin.setSingleStep(0.1)
            self.value_spin.setValue(3.09)
        self.value_spin.blockSignals(False)
        self.apply()

    def apply(self, *args) -> None:
        """Apply the threshold to the selected map."""
        from napari.utils.notifications import show_error

        layer = self.current_layer()
        if layer is None:
            return
        src = source_of(layer)
        unit = UNITS[self.unit_combo.currentIndex()]
        df = self.df_spin.value() or None
        if src.info.stat_type == "T" and df is None and unit != "T":
            self.result_label.setText("Set the degrees of freedom to threshold a T map in p or Z.")
            return
        try:
            apply_threshold(layer, self.value_spin.value(), unit, df)
        except ValueError as exc:
            show_error(f"{layer.name}: {exc}.")
            return
        self._show_current(src)
