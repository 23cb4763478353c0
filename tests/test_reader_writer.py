"""Real napari: open, place, paint, save, reload (run under Xvfb)."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest

from napari_milna._napari.layers import LazyRun, ResampledRun, source_of
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.core.io.geometry import Grid


def world_of(layer, ijk):
    """World (viewer) coordinates napari assigns to data index ijk of a 3D or 4D layer."""
    coords = ([0] if layer.ndim == 4 else []) + list(ijk)
    return np.asarray(layer.data_to_world(coords))[-3:]


def test_las_stat_map_voxels_sit_where_the_affine_says(make_napari_viewer, spm_tmap):
    viewer = make_napari_viewer()
    [layer] = viewer.open(spm_tmap, plugin="napari-milna")
    affine = nib.load(str(spm_tmap)).affine
    for ijk in ([0, 0, 0], [30, 30, 26], [60, 72, 60], [12, 5, 33]):
        np.testing.assert_allclose(world_of(layer, ijk), nib.affines.apply_affine(affine, ijk))
    np.testing.assert_allclose(layer.scale, [3, 3, 3])
    np.testing.assert_allclose(layer.translate, affine[:3, 3])
    src = source_of(layer)
    assert (src.info.stat_type, src.df) == ("T", 20.0)
    # transparent below p < 0.001 (T(20) = 3.55), warm above, cool below -3.55
    cmap = layer.colormap
    lo, hi = layer.contrast_limits
    def rgba(v):
        return cmap.map(np.array([(v - lo) / (hi - lo)]))[0]
    assert rgba(2.0)[3] == pytest.approx(0, abs=1e-3)
    assert rgba(5.0)[0] > 0.9 and rgba(5.0)[3] == 1
    assert rgba(-5.0)[2] > 0.9 and rgba(-5.0)[3] == 1
    # neurological axial view: left on the left (x increases to the right), anterior up
    state = ViewerState.of(viewer)
    assert viewer.dims.order[-2:] == (1, 0)
    assert tuple(state.viewer.scene.camera.orientation2d) == ("up", "right")


def test_oblique_run_is_lazy_and_shown_on_its_own_grid(make_napari_viewer, oblique_epi):
    viewer = make_napari_viewer()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no non-orthogonal slicing warning
        [layer] = viewer.open(oblique_epi, plugin="napari-milna")
    assert isinstance(layer.data, LazyRun)
    assert layer.data.shape == (5, 24, 28, 16)
    state = ViewerState.of(viewer)
    assert not state.space.is_world and state.space.reference == layer.name
    affine = nib.load(str(oblique_epi)).affine
    for ijk in ([0, 0, 0], [3, 17, 9], [23, 27, 15]):
        display = world_of(layer, ijk)
        np.testing.assert_allclose(display, np.array(ijk) * [2.5, 2.5, 3.0], atol=1e-5)
        np.testing.assert_allclose(
            state.space.to_world(display), nib.affines.apply_affine(affine, ijk), atol=1e-5
        )
    # the rotation is not dropped: it is in the display space, visible in the read-out
    assert not Grid.of(nib.load(str(oblique_epi))).is_axis_aligned
    assert len(layer.data._cache) <= 2  # only the volumes displayed were read


def test_axis_aligned_map_after_oblique_run_is_resampled_and_says_so(
    make_napari_viewer, oblique_epi, spm_tmap
):
    viewer = make_napari_viewer()
    viewer.open(oblique_epi, plugin="napari-milna")
    [tmap] = viewer.open(spm_tmap, plugin="napari-milna")
    src = source_of(tmap)
    assert src.resampled_for_display
    assert tmap.data.shape != (61, 73, 61)
    # back to world mm: the map is shown on its own grid again, the run resampled lazily
    state = ViewerState.of(viewer)
    state.set_reference(None)
    assert not src.resampled_for_display and tmap.data.shape == (61, 73, 61)
    run_layer = viewer.layers["sub-01_task-rest_bold"]
    assert isinstance(run_layer.data, ResampledRun)


def _paint_and_save(viewer, image_layer, ijk, path):
    viewer.layers.selection.active = image_layer
    viewer._new_labels()
    labels = viewer.layers[-1]
    labels.brush_size = 1
    labels.selected_label = 3
    coords = ([0] if labels.ndim == 4 else []) + list(ijk)
    labels.paint(coords, 3, refresh=True)
    written = labels.save(str(path), plugin="napari-milna")
    return labels, written


@pytest.mark.parametrize("fixture", ["spm_tmap", "oblique_epi"])
def test_new_labels_paint_save_reload_voxel_exact(make_napari_viewer, request, tmp_path, fixture):
    path = request.getfixturevalue(fixture)
    viewer = make_napari_viewer()
    [image] = viewer.open(path, plugin="napari-milna")
    ijk = (7, 11, 5)
    labels, written = _paint_and_save(viewer, image, ijk, tmp_path / "sub-01_desc-PAG_mask")
    assert written and written[0].endswith("sub-01_desc-PAG_mask.nii.gz")
    back = nib.load(written[0])
    source = nib.load(str(path))
    data = np.asarray(back.dataobj)
    assert data.shape == source.shape[:3]
    np.testing.assert_array_equal(np.argwhere(data), [ijk])
    assert data[ijk] == 3
    np.testing.assert_allclose(back.affine, source.affine, atol=1e-5)
    assert back.header.get_sform(coded=True)[1] == source.header.get_sform(coded=True)[1]
    assert back.header.get_qform(coded=True)[1] == source.header.get_qform(coded=True)[1]
    # reopening the saved labels puts them back on the same voxels
    [reloaded] = viewer.open(written[0], plugin="napari-milna")
    np.testing.assert_array_equal(np.argwhere(np.asarray(reloaded.data)), [ijk])


def test_writer_without_source_rebuilds_affine_from_transforms(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    labels = viewer.add_labels(
        np.zeros((10, 12, 14), np.uint8), scale=(2, 2.5, 3), translate=(-10, 20, 30)
    )
    labels.data[4, 5, 6] = 1
    [written] = labels.save(str(tmp_path / "drawn.nii.gz"), plugin="napari-milna")
    back = nib.load(written)
    np.testing.assert_allclose(
        back.affine, [[2, 0, 0, -10], [0, 2.5, 0, 20], [0, 0, 3, 30], [0, 0, 0, 1]]
    )
    np.testing.assert_array_equal(np.argwhere(np.asarray(back.dataobj)), [[4, 5, 6]])


def test_bad_files_notify_and_do_not_crash(make_napari_viewer, bad_files, monkeypatch):
    import napari_milna._napari.reader as reader

    messages = []
    monkeypatch.setattr(reader, "show_error", messages.append)
    viewer = make_napari_viewer()
    paths = [str(p) for p in bad_files.values()]
    result = reader.read_nifti(paths)
    assert result == [(None,)]
    assert len(messages) == len(paths)
    for path, message in zip(paths, messages):
        assert "\n" not in message and message.endswith(".")
        assert path.split("/")[-1].split(".")[0] in message
    assert len(viewer.layers) == 0


def test_drawn_labels_survive_repeated_display_switches(make_napari_viewer, oblique_epi, spm_tmap):
    """A display copy is never resampled again: switching spaces back restores the voxels."""
    viewer = make_napari_viewer()
    [epi] = viewer.open(oblique_epi, plugin="napari-milna")
    [tmap] = viewer.open(spm_tmap, plugin="napari-milna")
    viewer.layers.selection.active = epi
    viewer._new_labels()
    labels = viewer.layers[-1]
    labels.paint([0, 7, 11, 5], 2, refresh=True)
    painted = np.asarray(labels.data).copy()
    state = ViewerState.of(viewer)
    epi_grid = source_of(epi).grid
    state.set_reference(None)  # world mm: the oblique labels get a display copy
    assert source_of(labels).resampled_for_display and not labels.editable
    state.set_reference(source_of(tmap).grid, tmap.name)  # another space: still a copy
    assert source_of(labels).resampled_for_display
    state.set_reference(epi_grid, epi.name)  # back on its own grid: the very same voxels
    assert not source_of(labels).resampled_for_display and labels.editable
    np.testing.assert_array_equal(np.asarray(labels.data), painted)
