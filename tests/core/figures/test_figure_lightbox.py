"""Lightbox and slice figures: slice positions, voxel colours, letters, outlines, cursor."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from napari_milna.core.figures import (
    FigureScene,
    RoiOutline,
    StatOverlay,
    Underlay,
    lightbox_figure,
    lightbox_positions,
    save_figure,
    slice_figure,
)
from napari_milna.core.figures.scene import CURSOR_COLOUR
from tests.core.figures.figure_data import (
    STAT_AFFINE,
    THRESHOLD,
    VMAX,
    load,
    png_pixel,
    ramp,
    value_from_colour,
    voxel_world,
    write_maps,
)


@pytest.fixture
def maps(tmp_path):
    return write_maps(tmp_path)


def scene_of(maps, cursor=None, radiological=False, roi=True):
    tpath, apath, rpath, _ = maps
    t, tgrid = load(tpath)
    anat, agrid = load(apath)
    labels, rgrid = load(rpath)
    return FigureScene(
        underlay=Underlay(anat, agrid, limits=(0.0, 220.0)),
        stat=StatOverlay(t, tgrid, ramp(), "T", 14.0),
        roi=RoiOutline(labels.astype(int), rgrid) if roi else None,
        cursor_mm=cursor,
        radiological=radiological,
    )


def test_lightbox_slices_are_the_stat_grid_slice_centres_in_range(maps):
    scene = scene_of(maps)
    img = nib.load(str(maps[0]))
    # every slice centre of the map (nibabel), kept when z lies in [-50, 0] mm
    z_all = nib.affines.apply_affine(img.affine, np.c_[np.zeros((25, 2)), np.arange(25)])[:, 2]
    expected = np.sort(z_all[(z_all >= -50) & (z_all <= 0)])
    np.testing.assert_allclose(lightbox_positions(scene), expected)  # default z -50..0
    assert expected[0] == -48.0 and expected[-1] == 0.0 and len(expected) == 17
    fig = lightbox_figure(scene)
    np.testing.assert_allclose([p.position_mm for p in fig.panels], expected)
    assert [p.axes.get_label() for p in fig.panels][:2] == ["z = -48", "z = -45"]
    # every second slice; a coronal range
    np.testing.assert_allclose(lightbox_positions(scene, every=2), expected[::2])
    y_all = -60.0 + 2.5 * np.arange(30)
    np.testing.assert_allclose(
        lightbox_positions(scene, "coronal", (-40, -30)), y_all[(y_all >= -40) & (y_all <= -30)]
    )


def test_exported_pixels_under_voxels_map_back_to_their_t_values(maps, tmp_path):
    tpath, _, _, planted = maps
    t_nib = np.asarray(nib.load(str(tpath)).dataobj)
    scene = scene_of(maps, roi=False)
    fig = lightbox_figure(scene, range_mm=(-40, -9))
    png = save_figure(fig, tmp_path / "lightbox.png", dpi=150)
    panels = {round(p.position_mm, 3): p for p in fig.panels}
    checked = 0
    for ijk, value in planted.items():
        x, y, z = voxel_world(STAT_AFFINE, ijk)
        if round(z, 3) not in panels or abs(value) < THRESHOLD:
            continue
        rgb = png_pixel(png, fig, panels[round(z, 3)].axes, x, y)
        # one 8-bit step of green is (VMAX - THRESHOLD) / 255 of T; allow two
        assert value_from_colour(rgb) == pytest.approx(float(t_nib[ijk]), abs=2 * 5.0 / 255)
        checked += 1
    assert checked >= 4  # both signs among them
    # a voxel below threshold shows the grey underlay (R = G = B)
    x, y, z = voxel_world(STAT_AFFINE, (10, 15, 12))
    assert abs(t_nib[10, 15, 12]) < THRESHOLD
    rgb = png_pixel(png, fig, panels[round(z, 3)].axes, x, y)
    assert np.ptp(rgb) <= 2


def test_pixels_are_the_voxel_containing_them_not_resampled(maps, tmp_path):
    """A pixel 1 mm inside a voxel's edge still carries that voxel's value (no blending)."""
    tpath, _, _, planted = maps
    scene = scene_of(maps, roi=False)
    fig = slice_figure(scene, "axial", position_mm=voxel_world(STAT_AFFINE, (12, 10, 12))[2])
    png = save_figure(fig, tmp_path / "view.png", dpi=200)
    x, y, _ = voxel_world(STAT_AFFINE, (12, 10, 12))
    ax = fig.panels[0].axes
    for dx, dy in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        rgb = png_pixel(png, fig, ax, x + dx, y + dy)
        assert value_from_colour(rgb) == pytest.approx(7.25, abs=2 * 5.0 / 255)


@pytest.mark.parametrize("radiological", [False, True])
def test_orientation_letters_and_left_right(maps, tmp_path, radiological):
    scene = scene_of(maps, radiological=radiological, roi=False)
    fig = slice_figure(scene, "axial", position_mm=-24.0)  # z of voxel k = 12
    ax = fig.panels[0].axes
    letters = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    left, right = ("R", "L") if radiological else ("L", "R")
    assert letters["orientation-left"] == left and letters["orientation-right"] == right
    assert letters["orientation-top"] == "A" and letters["orientation-bottom"] == "P"
    # voxel (12, 10, 12) is at x = 0, the 5.5 voxel's neighbour (5, 20, 15) is not on this slice;
    # voxel (13, 11, 12) (T 4.0) lies at x = -2.5: left of x = 0 in neurological view
    png = save_figure(fig, tmp_path / "view.png", dpi=100)
    x_left = voxel_world(STAT_AFFINE, (13, 11, 12))[0]
    assert x_left < 0
    display = ax.transData.transform((x_left, 0.0))[0]
    centre = ax.transData.transform((0.0, 0.0))[0]
    assert (display < centre) != radiological
    # the PNG agrees: the T 4.0 voxel is drawn on the screen side the letter names
    x, y, _ = voxel_world(STAT_AFFINE, (13, 11, 12))
    assert value_from_colour(png_pixel(png, fig, ax, x, y)) == pytest.approx(4.0, abs=0.05)


def test_sagittal_and_coronal_letters(maps):
    for radiological in (False, True):
        scene = scene_of(maps, radiological=radiological, roi=False)
        sag = slice_figure(scene, "sagittal", position_mm=0.0).panels[0].axes
        letters = {t.get_gid(): t.get_text() for t in sag.texts if t.get_gid()}
        assert (letters["orientation-left"], letters["orientation-right"]) == ("A", "P")
        assert (letters["orientation-top"], letters["orientation-bottom"]) == ("S", "I")
        # anterior on the left: y increases leftwards
        assert sag.get_xlim()[0] > sag.get_xlim()[1]
        cor = slice_figure(scene, "coronal", position_mm=-35.0).panels[0].axes
        letters = {t.get_gid(): t.get_text() for t in cor.texts if t.get_gid()}
        assert letters["orientation-top"] == "S"
        assert letters["orientation-left"] == ("R" if radiological else "L")


def test_roi_outline_runs_along_voxel_edges(maps):
    scene = scene_of(maps)
    fig = slice_figure(scene, "axial", position_mm=-24.0)
    ax = fig.panels[0].axes
    paths = [p for c in ax.collections for p in c.get_paths()]
    vertices = np.concatenate([p.vertices for p in paths])
    # ROI voxels i 11..14 (x = 30 - 2.5 i), j 9..12 (y = -60 + 2.5 j): edges by hand
    x_edges = sorted({30 - 2.5 * 11 + 1.25, 30 - 2.5 * 14 - 1.25})
    y_edges = sorted({-60 + 2.5 * 9 - 1.25, -60 + 2.5 * 12 + 1.25})
    assert vertices[:, 0].min() == pytest.approx(x_edges[0], abs=0.4)
    assert vertices[:, 0].max() == pytest.approx(x_edges[1], abs=0.4)
    assert vertices[:, 1].min() == pytest.approx(y_edges[0], abs=0.4)
    assert vertices[:, 1].max() == pytest.approx(y_edges[1], abs=0.4)


def test_cursor_marked_on_its_slice_only(maps):
    cursor = (0.0, -35.0, -21.5)  # inside the slice centred at z = -21
    scene = scene_of(maps, cursor=cursor, roi=False)
    fig = lightbox_figure(scene)
    marked = [p for p in fig.panels if p.has_cursor]
    assert [p.position_mm for p in marked] == [-21.0]
    lines = [ln for ln in marked[0].axes.lines if ln.get_gid() == "cursor"]
    assert len(lines) == 4
    np.testing.assert_allclose(to_rgb(lines[0].get_color()), CURSOR_COLOUR)
    # the horizontal arms lie on y = -35, the vertical ones on x = 0
    assert {tuple(ln.get_ydata()) for ln in lines[:2]} == {(-35.0, -35.0)}
    assert {tuple(ln.get_xdata()) for ln in lines[2:]} == {(0.0, 0.0)}
    assert all(not [ln for ln in p.axes.lines if ln.get_gid() == "cursor"]
               for p in fig.panels if not p.has_cursor)


def test_colour_bar_says_statistic_df_and_threshold(maps):
    scene = scene_of(maps, roi=False)
    fig = lightbox_figure(scene)
    cax = fig.colorbar_axes
    assert cax.get_title() == "T (df 14)"
    ticks = list(cax.get_yticks())
    assert ticks == [-VMAX, -THRESHOLD, THRESHOLD, VMAX]
    assert [t.get_text() for t in cax.get_yticklabels()] == ["-8", "-3", "3", "8"]
    assert cax.get_ylim() == (-VMAX, VMAX)


def test_empty_range_is_one_sentence(maps):
    scene = scene_of(maps)
    with pytest.raises(ValueError, match="no axial slice"):
        lightbox_figure(scene, range_mm=(100, 120))
