"""The Viewer tab's lightbox, driven as a user would; the sample's PAG lightbox figure."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from qtpy.QtCore import QPoint, Qt

from napari_milna._napari.session import StudySession
from napari_milna.core.figures import SliceFigure
from napari_milna.widgets.panel import plot_style
from napari_milna.widgets.viewer.dock import ViewerDock


@pytest.fixture
def save_to(monkeypatch):
    answers = []
    monkeypatch.setattr(plot_style, "ask_save_path", lambda parent, title, name: answers.pop(0))
    return answers


def open_lightbox(make_napari_viewer, qtbot, *paths, sample=False):
    viewer = make_napari_viewer(show=True)
    dock = ViewerDock(viewer)
    viewer.window.add_dock_widget(dock)
    if sample:
        viewer.open_sample("napari-milna", "sample_study")
    for path in paths:
        viewer.open(path, plugin="napari-milna")
    dock.controls.sections["lightbox"].expand(animate=False)
    lightbox = dock.controls.lightbox
    qtbot.wait_until(lambda: isinstance(lightbox.canvas.figure, SliceFigure), timeout=10000)
    return viewer, dock, lightbox


def slice_centres(path, axis: int, low: float, high: float) -> np.ndarray:
    """World coordinates of a grid's slice centres along ``axis`` in [low, high] (nibabel)."""
    img = nib.load(str(path))
    n = img.shape[axis]
    ijk = np.zeros((n, 3))
    ijk[:, axis] = np.arange(n)
    values = nib.affines.apply_affine(img.affine, ijk)[:, axis]
    return np.sort(values[(values >= low) & (values <= high)])


def click_world(qtbot, lightbox, panel, col_mm, row_mm) -> None:
    """A left click on the lightbox picture where a panel shows (col_mm, row_mm)."""
    x, y = panel.axes.transData.transform((col_mm, row_mm))
    height = lightbox.canvas.figure.bbox.height
    ratio = lightbox.canvas.device_pixel_ratio
    qtbot.mouseClick(lightbox.canvas, Qt.MouseButton.LeftButton,
                     pos=QPoint(int(x / ratio), int((height - y) / ratio)))


def test_lightbox_slices_click_and_save(make_napari_viewer, qtbot, spm_tmap, save_to, tmp_path):
    viewer, dock, lightbox = open_lightbox(make_napari_viewer, qtbot, spm_tmap)
    figure = lightbox.canvas.figure
    # default: axial, z -50 to 0 mm, every slice of the map's grid (nibabel's centres)
    expected = slice_centres(spm_tmap, 2, -50, 0)
    assert len(expected) == 17 and expected[0] == -48 and expected[-1] == 0
    np.testing.assert_allclose([p.position_mm for p in figure.panels], expected)
    # a click on the z = -30 slice at (10, -20) moves the session cursor there
    panel = next(p for p in figure.panels if p.position_mm == -30)
    click_world(qtbot, lightbox, panel, 10.0, -20.0)
    cursor = StudySession.of(viewer).cursor_mm
    assert cursor[2] == pytest.approx(-30.0)
    np.testing.assert_allclose(cursor[:2], (10.0, -20.0), atol=1.0)  # one screen pixel
    # the lightbox follows: the crosshair is on the z = -30 slice
    qtbot.wait_until(lambda: [p.position_mm for p in lightbox.canvas.figure.panels
                              if p.has_cursor] == [-30.0])
    # coronal: the range becomes the brainstem's y -45 to -15, every second slice
    lightbox.plane.value = "coronal"
    assert (lightbox.low.value, lightbox.high.value) == (-45.0, -15.0)
    lightbox.every.value = 2
    lightbox.update_button.native.click()
    np.testing.assert_allclose([p.position_mm for p in lightbox.canvas.figure.panels],
                               slice_centres(spm_tmap, 1, -45, -15)[::2])
    # Save lightbox: a PNG at the Figures form's DPI
    dock.controls.figures.dpi.value = 100
    save_to.append(tmp_path / "lightbox.png")
    qtbot.mouseClick(lightbox.save_button.native, Qt.MouseButton.LeftButton)
    saved = lightbox.figure()
    with Image.open(tmp_path / "lightbox.png") as im:
        assert np.all(np.abs(np.asarray(im.size) - saved.get_size_inches() * 100) <= 1)
    # an empty range says so in the panel, in one sentence
    lightbox.low.value, lightbox.high.value = 200.0, 250.0
    lightbox.update_button.native.click()
    assert "between 200 and 250 mm" in lightbox.status.text()


def test_sample_pag_lightbox_colours_are_the_t_values(make_napari_viewer, qtbot, save_to,
                                                      tmp_path):
    from napari_milna.sample_data import ensure_sample_study

    study = ensure_sample_study()
    viewer, dock, lightbox = open_lightbox(make_napari_viewer, qtbot, sample=True)
    # the PAG's strongest voxel, from the files alone (nibabel, pandas)
    tmap = nib.load(str(study.group_tmap))
    t = np.asarray(tmap.dataobj, dtype=float)
    names = pd.read_csv(study.regions_tsv, sep="\t")
    pag = int(names.loc[names["name"].str.contains("PAG"), "index"].iloc[0])
    regions = np.asarray(nib.load(str(study.regions_dseg)).dataobj)
    inside = np.where(regions == pag, t, -np.inf)
    peak = np.unravel_index(np.argmax(inside), t.shape)
    world = nib.affines.apply_affine(tmap.affine, peak)
    layer = viewer.layers["drug x pain interaction (T, df 14)"]
    src = layer.metadata["milna"]
    assert t[peak] > src.threshold  # the PAG result shows
    save_to.append(tmp_path / "pag.png")
    dock.controls.figures.dpi.value = 150
    qtbot.mouseClick(lightbox.save_button.native, Qt.MouseButton.LeftButton)
    figure = lightbox.figure()
    panel = next(p for p in figure.panels if abs(p.position_mm - world[2]) < 1e-6)
    fx, fy = figure.transFigure.inverted().transform(
        panel.axes.transData.transform((world[0], world[1])))
    image = np.asarray(Image.open(tmp_path / "pag.png").convert("RGB"), dtype=float) / 255
    r, g, b = image[int((1 - fy) * image.shape[0]), int(fx * image.shape[1])]
    assert r > 0.9 and b < 0.1  # the warm half: red (threshold) to yellow (top)
    t_from_colour = src.threshold + g * (src.vmax - src.threshold)
    assert t_from_colour == pytest.approx(t[peak], abs=2 * (src.vmax - src.threshold) / 255)
