"""Figures from the Viewer tab, driven as a user would: units, colour bar, Save figure, plots."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from qtpy.QtCore import Qt
from scipy import stats

from napari_milna._napari.compat import scale_bar
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel import plot_style
from napari_milna.widgets.viewer.dock import ViewerDock

PEAK = (30, 30, 26)  # the fixture's T = 9 voxel


@pytest.fixture
def dock_with(make_napari_viewer, qtbot):
    def make(*paths):
        viewer = make_napari_viewer(show=True)
        dock = ViewerDock(viewer)
        viewer.window.add_dock_widget(dock)
        for p in paths:
            viewer.open(p, plugin="napari-milna")
        qtbot.wait_until(lambda: dock.controls.figures.colorbar.label is not None)
        return viewer, dock

    return make


@pytest.fixture
def save_to(monkeypatch):
    """The save dialog answers with the given paths, one per call."""
    answers = []

    def ask(parent, title, suggested):
        return answers.pop(0)

    monkeypatch.setattr(plot_style, "ask_save_path", ask)
    return answers


def scale_bar_text(viewer) -> str:
    """The text napari's scale bar draws (its vispy overlay; napari has no public accessor)."""
    canvas = viewer.window._qt_viewer.canvas
    for visuals in canvas._viewer_overlay_to_visual.values():
        for visual in visuals if isinstance(visuals, list) else [visuals]:
            if type(visual).__name__ == "VispyScaleBarOverlay":
                return visual.node.text.text
    raise AssertionError("no scale bar visual")


def warm_value(rgb255, threshold, vmax) -> float:
    """Invert the warm half of the ramp by hand: red (threshold) -> yellow (top)."""
    r, g, b = np.asarray(rgb255, float) / 255
    assert r > 0.9 and b < 0.1, rgb255
    return threshold + g * (vmax - threshold)


def png_at(path, figure, axes, col_mm, row_mm):
    fx, fy = figure.transFigure.inverted().transform(axes.transData.transform((col_mm, row_mm)))
    image = np.asarray(Image.open(path).convert("RGB"))
    h, w = image.shape[:2]
    return image[int((1 - fy) * h), int(fx * w)]


def test_layers_carry_mm_and_the_scale_bar_reads_mm(dock_with, spm_tmap, epi_run, qtbot):
    viewer, dock = dock_with(spm_tmap, epi_run)
    assert [str(u) for u in viewer.layers["spmT_0001"].units] == ["millimeter"] * 3
    run_units = [str(u) for u in viewer.layers["sub-01_task-pain_desc-preproc_bold"].units]
    assert run_units[1:] == ["millimeter"] * 3
    assert [str(u) for u in viewer.layers.units[-3:]] == ["millimeter"] * 3
    figures = dock.controls.figures
    assert not scale_bar(viewer).visible
    figures.scale_bar.native.click()
    assert scale_bar(viewer).visible
    qtbot.wait_until(lambda: scale_bar_text(viewer).endswith(" mm"))
    # napari's own switch shows in the form
    scale_bar(viewer).visible = False
    assert figures.scale_bar.value is False


def test_colour_bar_on_by_default_follows_threshold_and_switch(dock_with, spm_tmap, qtbot):
    viewer, dock = dock_with(spm_tmap)
    bar = dock.controls.figures.colorbar
    layer = viewer.layers["spmT_0001"]
    qtbot.wait_until(lambda: bar.label.isVisible())
    assert bar.layer is layer and bar.text == "T (df 20)"

    def warm_share():
        """Share of the bar's coloured rows that are warm (rows of the picture)."""
        image = bar.label.pixmap().toImage()
        rgb = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())]
                        for y in range(image.height())])
        column = rgb[:, int(0.4 * image.width())]  # through the bar (0.3 to 0.5 of the width)
        warm = (column[:, 0] > 200) & (column[:, 2] < 80)
        cool = (column[:, 2] > 200) & (column[:, 0] < 160)
        rows = np.flatnonzero(warm | cool)
        return warm.sum() / (rows[-1] - rows[0] + 1)

    vmax = float(np.nanmax(np.abs(nib.load(str(spm_tmap)).get_fdata())))
    threshold = stats.t.isf(0.001, 20)  # the default p < 0.001 at df 20
    # warm half from the threshold to the top, of a bar from -top to top
    assert warm_share() == pytest.approx((vmax - threshold) / (2 * vmax), abs=0.02)
    stats_form = dock.controls.stats
    stats_form.unit_combo.setCurrentIndex(1)
    stats_form.value_spin.setValue(6.0)
    qtbot.wait_until(lambda: abs(warm_share() - (vmax - 6.0) / (2 * vmax)) < 0.02)
    # the switch and the layer's visibility hide it
    dock.controls.figures.show_colorbar.native.click()
    assert not bar.label.isVisible()
    dock.controls.figures.show_colorbar.native.click()
    qtbot.wait_until(lambda: bar.label.isVisible())
    layer.visible = False
    qtbot.wait_until(lambda: not bar.label.isVisible())


def test_the_dock_and_the_panel_share_one_colour_bar_switch(dock_with, spm_tmap, qtbot):
    """The Plugins-menu dock and the panel show one colour bar: their switches move together."""
    from napari_milna.widgets.panel.panel import MilnaPanel

    viewer, dock = dock_with(spm_tmap)
    panel = MilnaPanel(viewer)
    viewer.window.add_dock_widget(panel)
    ours, theirs = dock.controls.figures, panel.controls.figures
    assert ours.colorbar is theirs.colorbar and ours.show_colorbar.value
    assert theirs.show_colorbar.value
    theirs.show_colorbar.native.click()
    assert not ours.show_colorbar.value and not ours.colorbar.enabled
    assert not ours.colorbar.label.isVisible()
    ours.show_colorbar.native.click()
    assert theirs.show_colorbar.value and theirs.colorbar.enabled
    qtbot.wait_until(lambda: ours.colorbar.label.isVisible())


def test_save_figure_of_the_view(dock_with, spm_tmap, save_to, tmp_path, qtbot):
    viewer, dock = dock_with(spm_tmap)
    affine = nib.load(str(spm_tmap)).affine
    t_nib = np.asarray(nib.load(str(spm_tmap)).dataobj)
    world = nib.affines.apply_affine(affine, PEAK)
    state = ViewerState.of(viewer)
    state.go_to_world(world)
    figures = dock.controls.figures
    figures.dpi.value = 150
    src = viewer.layers["spmT_0001"].metadata["milna"]
    for radiological in (False, True):
        state.set_radiological(radiological)
        folder = tmp_path / ("radiological" if radiological else "neurological")
        folder.mkdir()
        save_to.extend([folder / "view.png", folder / "view.svg", folder / "view.pdf"])
        for _ in range(3):
            qtbot.mouseClick(figures.save_view.native, Qt.MouseButton.LeftButton)
        figure = figures.view_figure()  # the same drawing, to find the voxel in the file
        ax = figure.panels[0].axes
        with Image.open(folder / "view.png") as im:
            expected = np.asarray(figure.get_size_inches()) * 150  # matplotlib truncates
            assert np.all(np.abs(np.asarray(im.size) - expected) <= 1)
        rgb = png_at(folder / "view.png", figure, ax, world[0], world[1])
        assert warm_value(rgb, src.threshold, src.vmax) == pytest.approx(t_nib[PEAK], abs=0.05)
        letters = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
        assert (letters["orientation-left"], letters["orientation-right"]) == (
            ("R", "L") if radiological else ("L", "R"))
        # the peak (x = 0) sits left of a voxel at x = +30 in neurological view only
        right_of = ax.transData.transform((30.0, world[1]))[0] > ax.transData.transform(
            (world[0], world[1]))[0]
        assert right_of != radiological
        texts = [t.text for t in ET.parse(folder / "view.svg").getroot().iter()
                 if t.tag.endswith("text")]
        assert f"z = {world[2]:g}" in texts and "T (df 20)" in texts
        assert (folder / "view.pdf").read_bytes().startswith(b"%PDF-")


def test_save_plot_on_the_time_series(dock_with, epi_run, save_to, tmp_path, qtbot):
    viewer, dock = dock_with(epi_run)
    plot = dock.timeseries
    ViewerState.of(viewer).go_to_world((0.0, -20.0, 0.0))
    qtbot.wait_until(lambda: plot.last_series is not None)
    button = plot_style.install_save_plot(plot.canvas, "timeseries")  # the plot's own button
    assert button.isVisible() and button.name == "timeseries"
    save_to.append(tmp_path / "series.svg")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    root = ET.parse(tmp_path / "series.svg").getroot()
    assert root.tag.endswith("svg") and "time (s)" in [t.text for t in root.iter()
                                                       if t.tag.endswith("text")]
    # never over an existing file unless the dialog asked (it did: the path is reused)
    save_to.append(tmp_path / "series.svg")
    before = (tmp_path / "series.svg").stat().st_mtime_ns
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert (tmp_path / "series.svg").stat().st_mtime_ns >= before
    # a bad suffix is refused in one sentence, nothing written
    save_to.append(tmp_path / "series.tiff")
    assert button.save() is None and not (tmp_path / "series.tiff").exists()


def test_dark_figures_have_save_plot(qtbot, save_to, tmp_path):
    figure, canvas = plot_style.dark_figure((3, 2), save_name="qc")
    qtbot.addWidget(canvas)
    figure.add_subplot(111).plot([0, 1], [1, 0])
    button = plot_style.install_save_plot(canvas)
    assert isinstance(button, plot_style.SavePlotButton)
    save_to.append(tmp_path / "qc.png")
    assert button.save() == tmp_path / "qc.png"
    with Image.open(tmp_path / "qc.png") as im:
        assert im.size == (3 * plot_style.PLOT_DPI, 2 * plot_style.PLOT_DPI)


def test_every_plot_has_save_plot(qtbot, save_to, tmp_path):
    """Paired lines, QC, FD, physio and CSF plots each carry the shared Save button."""
    from napari_milna.widgets.crossover.plot import PairedLinesPlot
    from napari_milna.widgets.preproc.plots import CsfPlot, FDPlot, PulsePlot, RvtHrPlot
    from napari_milna.widgets.qc.plot import QCPlot

    for cls in (PairedLinesPlot, QCPlot, FDPlot, PulsePlot, CsfPlot, RvtHrPlot):
        plot = cls()
        qtbot.addWidget(plot)
        buttons = plot.canvas.findChildren(plot_style.SavePlotButton)
        assert len(buttons) == 1, cls.__name__
        target = tmp_path / f"{cls.__name__}.pdf"
        save_to.append(target)
        assert buttons[0].save() == target
        assert target.read_bytes().startswith(b"%PDF-")


def test_each_plot_suggests_its_own_file_name(qtbot):
    """Saving a plot suggests a name that says what it shows, never "plot"."""
    from napari_milna.widgets.crossover.plot import PairedLinesPlot
    from napari_milna.widgets.preproc.plots import CsfPlot, FDPlot, PulsePlot, RvtHrPlot
    from napari_milna.widgets.qc.plot import QCPlot

    names = {}
    for cls in (PairedLinesPlot, QCPlot, FDPlot, PulsePlot, CsfPlot, RvtHrPlot):
        plot = cls()
        qtbot.addWidget(plot)
        (button,) = plot.canvas.findChildren(plot_style.SavePlotButton)
        names[cls.__name__] = button.name
    assert names == {
        "PairedLinesPlot": "paired_lines",
        "QCPlot": "qc_roi_csf_series",
        "FDPlot": "framewise_displacement",
        "PulsePlot": "cardiac_peaks",
        "CsfPlot": "csf_signal",
        "RvtHrPlot": "rvt_heart_rate",
    }
