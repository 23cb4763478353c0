"""The ROI workbench dock, driven as a user would (real napari under Xvfb).

Expected voxels and numbers come from nibabel affines and plain numpy / scipy in the
test, not from the code under test.
"""

from __future__ import annotations

import csv

import nibabel as nib
import numpy as np
import pytest
from napari.layers import Labels
from qtpy.QtGui import QCloseEvent
from scipy import ndimage
from scipy.spatial import cKDTree

from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import is_roi_layer, roi_data
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.core.roi.facts import roi_facts
from napari_milna.widgets.roi import dialogs as roi_dialogs
from napari_milna.widgets.roi.dock import RoiWorkbench
from napari_milna.widgets.roi.session import is_unsaved
from tests.conftest import make_affine, write_nifti
from tests.widgets.roi.conftest import (
    RAS_AFFINE,
    RAS_NAME,
    RAS_SHAPE,
    VOXEL_MM3,
    centres,
    load,
    seed,
    world_of,
)


# ----------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("grid", ["las_3mm", "ras_2.5x2.5x3"])
def test_seeded_pag_and_rvm_lie_in_their_anatomical_ranges(workbench, request, grid):
    path = (
        request.getfixturevalue("spm_tmap")
        if grid == "las_3mm"
        else request.getfixturevalue("ras_study")["stat"]
    )
    viewer, dock = workbench(path)
    assert dock.session.reference_layer.name == viewer.layers[0].name
    seed(dock, "PAG")
    seed(dock, "RVM")
    rois = [lay for lay in viewer.layers if is_roi_layer(lay)]
    assert rois == [dock.session.roi_layer]  # ONE labels layer, one value per ROI
    layer = rois[0]
    assert dock.session.names == {1: "PAG", 2: "RVM"}
    image = nib.load(str(path))
    labels = roi_data(layer)
    assert labels.shape == image.shape[:3]  # the reference grid, native resolution
    pag = world_of(image.affine, np.argwhere(labels == 1)).mean(axis=0)
    rvm = world_of(image.affine, np.argwhere(labels == 2)).mean(axis=0)
    assert -37 <= pag[1] <= -26 and -12 <= pag[2] <= -5 and abs(pag[0]) < 3
    assert -38 <= rvm[1] <= -34 and -46 <= rvm[2] <= -38 and abs(rvm[0]) < 3
    # napari shows each ROI voxel where the reference's affine puts it
    for ijk in np.argwhere(labels > 0)[::5]:
        np.testing.assert_allclose(
            np.asarray(layer.data_to_world(ijk))[-3:], world_of(image.affine, ijk), atol=1e-6
        )
    # distinct, opaque, saturated colours (readable on gray), background transparent
    background, c_pag, c_rvm = layer.colormap.map(np.array([0, 1, 2]))
    assert background[3] == 0 and c_pag[3] == 1 and c_rvm[3] == 1
    assert np.abs(c_pag[:3] - c_rvm[:3]).max() > 0.5
    for colour in (c_pag, c_rvm):
        assert colour[:3].max() - colour[:3].min() > 0.5
    # the facts table lists both, by name
    assert [f.name for f in dock.facts.facts] == ["PAG", "RVM"]
    assert dock.facts.table.item(0, 1).text() == str(int((labels == 1).sum()))


# ----------------------------------------------------------------------------- painting
def test_brush_paints_a_world_disc_on_anisotropic_voxels_and_undo_works(
    workbench, ras_study, qtbot
):
    viewer, dock = workbench(ras_study["stat"])
    dock.seed.paint_name.value = "dorsal raphe"
    label = dock.seed.add_roi()
    layer = dock.session.roi_layer
    assert layer.mode == "paint" and layer.selected_label == label
    np.testing.assert_allclose(layer.scale[-3:], [2.5, 2.5, 3.0])  # voxel size as scale
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")  # paints the j (2.5 mm) x k (3 mm) plane
    centre = np.array([20, 18, 14])
    state.go_to_world(world_of(RAS_AFFINE, centre))
    layer.brush_size = 5
    layer.paint(centre, label)  # as napari's brush does, in data coordinates
    painted = {tuple(v) for v in np.argwhere(roi_data(layer) == label)}
    # expected: voxels of the sagittal plane within (floor(5 / 2) + 0.5) x 2.5 mm, in world mm
    radius_mm = (np.floor(5 / 2) + 0.5) * 2.5
    plane = np.array([[20, j, k] for j in range(RAS_SHAPE[1]) for k in range(RAS_SHAPE[2])])
    dist = np.linalg.norm(world_of(RAS_AFFINE, plane) - world_of(RAS_AFFINE, centre), axis=1)
    expected = {tuple(v) for v in plane[dist <= radius_mm + 1e-9]}
    assert painted == expected
    ks = [v[2] for v in expected]
    assert max(ks) - min(ks) < 2 * radius_mm / 2.5  # fewer 3 mm rows than 2.5 mm columns
    # the facts table follows the paint event (debounced)
    facts = dock.facts
    qtbot.waitUntil(
        lambda: (
            facts.row_of("dorsal raphe") >= 0
            and facts.facts[facts.row_of("dorsal raphe")].n_voxels == len(expected)
        ),
        timeout=3000,
    )
    row = facts.row_of("dorsal raphe")
    assert float(facts.table.item(row, 2).text()) == pytest.approx(
        len(expected) * VOXEL_MM3, abs=0.051
    )
    assert is_unsaved(layer)
    # napari's own undo (Ctrl+Z) is seen too
    layer.undo()
    qtbot.waitUntil(lambda: facts.facts[facts.row_of("dorsal raphe")].empty, timeout=3000)
    assert not roi_data(layer).any()
    assert facts.table.item(facts.row_of("dorsal raphe"), 1).text() == "0"


# ----------------------------------------------------------------------------- refine
def test_refine_tools_act_on_the_selected_roi_only(workbench, ras_study):
    viewer, dock = workbench(
        ras_study["stat"],
        ras_study["csf"],
        ras_study["brain"],
        ras_study["coverage"],
        ras_study["csf_2mm"],
    )
    s, refine = dock.session, dock.refine
    seed(dock, "PAG")
    seed(dock, "RVM")
    layer = s.roi_layer
    stat_layer = viewer.layers[RAS_NAME.split(".")[0]]
    stat = load(ras_study["stat"]).astype(float)
    csf = load(ras_study["csf"]).astype(float)
    brain = load(ras_study["brain"])
    world = centres(RAS_AFFINE, RAS_SHAPE)

    def pag():
        return roi_data(layer) == 1

    rvm = roi_data(layer) == 2

    def check(expected):
        np.testing.assert_array_equal(pag(), expected)
        np.testing.assert_array_equal(roi_data(layer) == 2, rvm)  # the other ROI untouched

    # a click on the PAG row selects it and moves the cursor to its centroid
    dock.facts.table.cellClicked.emit(dock.facts.row_of("PAG"), 0)
    assert s.selected_label == 1
    cursor = ViewerState.of(viewer).world_point(viewer.dims.point)
    steps = [r.step for r in viewer.dims.range]  # napari snaps the cursor to its slices
    assert np.all(np.abs(cursor - world[pag()].mean(axis=0)) <= np.asarray(steps) / 2 + 1e-6)

    # dilate 3 mm: every voxel whose centre is within 3 mm of a PAG voxel centre
    before = pag()
    refine.distance.value = 3.0
    refine.dilate_button.native.click()
    tree = cKDTree(world[before])
    near = (tree.query(world.reshape(-1, 3))[0] <= 3.0 + 1e-9).reshape(RAS_SHAPE)
    check(near)
    layer.undo()  # napari's history holds the tool's edit as one step
    s.check_changes()
    check(before)
    # a voxel of another ROI next to the PAG is left to it
    neighbour = tuple(np.argwhere(before)[0] + [0, 0, 1])
    if before[neighbour]:
        neighbour = tuple(np.argwhere(before)[0] - [0, 0, 1])
    layer.data_setitem(tuple(np.array([[v] for v in neighbour])), 2)
    rvm = roi_data(layer) == 2
    refine.dilate_button.native.click()
    check(near & ~rvm)
    assert "left to them" in s.messages[-1]

    # erode 2.5 mm: voxels whose every neighbour within 2.5 mm is in the ROI
    before = pag()
    refine.distance.value = 2.5
    refine.erode_button.native.click()
    offsets = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0)]  # 2.5 mm in-plane; 3 mm is beyond
    eroded = before.copy()
    for off in offsets:
        shifted = np.zeros_like(before)
        src = tuple(slice(max(o, 0), n + min(o, 0)) for o, n in zip(off, RAS_SHAPE))
        dst = tuple(slice(max(-o, 0), n + min(-o, 0)) for o, n in zip(off, RAS_SHAPE))
        shifted[dst] = before[src]
        eroded &= shifted
    check(eroded)
    layer.undo()
    s.check_changes()

    # keep >= 3 of the stat map, then an impossible threshold is refused
    before = pag()
    dock.facts.stat.widget.value = stat_layer  # the study's statistical map
    refine.threshold.value = 3.0
    refine.above_button.native.click()
    check(before & (stat >= 3.0))
    before = pag()
    refine.threshold.value = -100.0
    refine.below_button.native.click()
    check(before)
    assert "would leave PAG empty" in s.messages[-1]

    # exclude CSF above 0.5 (same grid)
    csf_layer = viewer.layers["sub-01_space-MNI152NLin2009cSym_label-CSF_probseg"]
    dock.facts.csf.widget.value = csf_layer
    refine.csf_level.value = 0.5
    before = pag()
    refine.csf_button.native.click()
    check(before & ~(csf > 0.5))

    # exclude CSF from a 2 mm map: resampled explicitly (trilinear), and said so
    before = pag()
    dock.facts.csf.widget.value = viewer.layers[source_of_name(viewer, "res-2_label-CSF")]
    refine.csf_level.value = 0.6
    refine.csf_button.native.click()
    img2 = nib.load(str(ras_study["csf_2mm"]))
    vox = nib.affines.apply_affine(np.linalg.inv(img2.affine), world[before])
    p = ndimage.map_coordinates(np.asarray(img2.dataobj, float), vox.T, order=1)
    expected = before.copy()
    expected[tuple(np.argwhere(before)[p > 0.6].T)] = False
    check(expected)
    assert any("resampled" in m and "res-2_label-CSF" in m for m in s.messages[-3:])

    # restrict to the brain mask (left hemisphere and midline only)
    before = pag()
    dock.facts.brain.widget.value = viewer.layers[source_of_name(viewer, "desc-brain_mask")]
    refine.restrict_role.value = "brain"
    refine.restrict_button.native.click()
    check(before & (brain > 0))
    assert world[pag()][:, 0].max() <= 1.0

    # mirror across x = 0, keeping both sides: x = 0 is voxel i = 20, so i -> 40 - i
    before = pag()
    refine.mirror_button.native.click()
    check(before | before[::-1, :, :])

    # keep the largest (26-connected) component: a stray voxel painted far away goes
    layer.brush_size = 1
    layer.selected_label = 1
    layer.paint((5, 5, 5), 1)
    s.check_changes()
    before = pag()
    assert before[5, 5, 5]
    parts, n = ndimage.label(before, structure=np.ones((3, 3, 3)))
    sizes = [(parts == i).sum() for i in range(1, n + 1)]
    assert n >= 2 and sorted(sizes)[-1] > sorted(sizes)[-2]  # no tie to break
    refine.largest_button.native.click()
    check(parts == 1 + int(np.argmax(sizes)))
    assert not pag()[5, 5, 5]

    # grow from the cursor voxel: 6-connected, stat in [3, inf), within 7.5 mm
    seed_ijk = np.array([20, 20, 20])
    ViewerState.of(viewer).go_to_world(world_of(RAS_AFFINE, seed_ijk))
    dock.facts.stat.widget.value = stat_layer
    refine.grow_min.value = 3.0
    refine.grow_max.value = 1000.0
    refine.grow_connectivity.value = 6
    refine.grow_radius.value = 7.5
    refine.grow_button.native.click()
    dist = np.linalg.norm(world - world_of(RAS_AFFINE, seed_ijk), axis=-1)
    window = (stat >= 3.0) & (dist <= 7.5)
    parts, _ = ndimage.label(window)  # default structure: 6-connected
    grown = parts == parts[tuple(seed_ijk)]
    check(grown & ~rvm)

    # resample the PAG onto the 2 mm grid as a new labels layer (nearest voxel centre)
    refine.resample_layer.value = viewer.layers[source_of_name(viewer, "res-2_label-CSF")]
    new = refine.resample()
    assert isinstance(new, Labels) and new.name.startswith("PAG on ")
    target = np.indices(img2.shape[:3]).reshape(3, -1).T
    src_vox = np.rint(
        nib.affines.apply_affine(
            np.linalg.inv(RAS_AFFINE), nib.affines.apply_affine(img2.affine, target)
        )
    ).astype(int)
    inside = np.all((src_vox >= 0) & (src_vox < RAS_SHAPE), axis=1)
    expected = np.zeros(img2.shape[:3], bool)
    expected.reshape(-1)[inside] = pag()[tuple(src_vox[inside].T)]
    np.testing.assert_array_equal(roi_data(new) == 1, expected)
    assert source_of(new).grid.shape == img2.shape[:3]
    np.testing.assert_allclose(
        np.asarray(new.data_to_world([10, 10, 10]))[-3:], world_of(img2.affine, [10, 10, 10])
    )


def source_of_name(viewer, fragment):
    return next(lay.name for lay in viewer.layers if fragment in lay.name)


# ----------------------------------------------------------------------------- facts
def test_facts_table_matches_numpy_and_exports_csv(workbench, ras_study, tmp_path, monkeypatch):
    viewer, dock = workbench(
        ras_study["stat"], ras_study["csf"], ras_study["brain"], ras_study["coverage"]
    )
    seed(dock, "PAG")
    seed(dock, "RVM")
    facts = dock.facts
    assert facts.stat.widget.value.name == RAS_NAME.split(".")[0]
    assert "CSF" in facts.csf.widget.value.name
    assert "brain_mask" in facts.brain.widget.value.name
    assert facts.coverage.widget.value.name == "mask"
    labels = roi_data(dock.session.roi_layer)
    maps = {k: load(ras_study[k]).astype(float) for k in ("stat", "csf", "brain", "coverage")}
    for label, name in ((1, "PAG"), (2, "RVM")):
        m = labels == label
        row = facts.row_of(name)
        cells = [facts.table.item(row, c).text() for c in range(facts.table.columnCount())]
        centroid = world_of(RAS_AFFINE, np.argwhere(m)).mean(axis=0)
        assert cells[0] == name
        assert int(cells[1]) == m.sum()
        assert float(cells[2]) == pytest.approx(m.sum() * VOXEL_MM3, abs=0.051)
        np.testing.assert_allclose([float(v) for v in cells[3].split(",")], centroid, atol=0.05)
        assert float(cells[4]) == pytest.approx(maps["csf"][m].mean(), abs=0.005)
        assert float(cells[5]) == pytest.approx((maps["brain"][m] > 0).mean(), abs=0.005)
        assert float(cells[6]) == pytest.approx((maps["coverage"][m] > 0).mean(), abs=0.005)
        assert float(cells[7]) == pytest.approx(maps["stat"][m].mean(), abs=0.005)
        assert float(cells[8]) == pytest.approx(maps["stat"][m].max(), abs=0.005)
    # the RVM reaches below z = -41.5: part of it lies outside the coverage mask
    assert 0 < facts.facts[1].coverage_fraction < 1
    # the full-precision facts are the core's
    core = roi_facts(
        labels,
        source_of(dock.session.roi_layer).grid,
        1,
        name="PAG",
        **{k: maps[k] for k in ("stat", "csf", "brain", "coverage")},
    )
    assert facts.facts[0] == core
    # CSV export; an existing file is kept unless the user says to replace it
    path = tmp_path / "roi_facts.csv"
    assert facts.export_csv(path) == path
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["PAG", "RVM"]
    assert int(rows[0]["n_voxels"]) == (labels == 1).sum()
    assert float(rows[1]["stat_peak"]) == pytest.approx(maps["stat"][labels == 2].max(), rel=1e-6)
    asked = []
    monkeypatch.setattr(roi_dialogs, "ask_overwrite", lambda parent, paths: asked.append(paths))
    path.write_text("keep me\n")
    assert facts.export_csv(path) is None and path.read_text() == "keep me\n"
    assert asked == [[path]]
    monkeypatch.setattr(roi_dialogs, "ask_overwrite", lambda parent, paths: True)
    assert facts.export_csv(path) == path and path.read_text().startswith("label,name")
    # renaming in the table renames the ROI
    facts.table.item(0, 0).setText("PAG_left")
    assert dock.session.names[1] == "PAG_left"


# ----------------------------------------------------------------------------- files
def test_save_masks_and_dseg_then_reload_voxel_exact(
    workbench, ras_study, tmp_path, monkeypatch, qtbot
):
    viewer, dock = workbench(ras_study["stat"])
    seed(dock, "PAG")
    seed(dock, "RVM")
    layer = dock.session.roi_layer
    layer.brush_size = 1
    layer.paint((20, 17, 19), 1)  # a hand-painted PAG voxel
    dock.session.check_changes()
    labels = roi_data(layer).copy()
    assert is_unsaved(layer)
    assert "Unsaved" in dock.files.status.text()
    out = tmp_path / "rois"
    out.mkdir()
    written = dock.files.save_masks(out)
    prefix = "sub-01_space-MNI152NLin2009cSym_stat-t"
    assert [p.name for p in written] == [
        f"{prefix}_desc-PAG_mask.nii.gz",
        f"{prefix}_desc-RVM_mask.nii.gz",
    ]
    reference = nib.load(str(ras_study["stat"]))
    for value, path in zip((1, 2), written):
        img = nib.load(str(path))
        np.testing.assert_array_equal(np.asarray(img.dataobj), labels == value)
        assert img.get_data_dtype() == np.uint8
        np.testing.assert_allclose(img.affine, reference.affine)
        assert img.header.get_sform(coded=True)[1] == 4
    assert not is_unsaved(layer)
    dseg = out / "sub-01_desc-brainstem_dseg.nii.gz"
    image, table = dock.files.save_dseg(dseg)
    assert table.read_text() == "index\tname\n1\tPAG\n2\tRVM\n"
    np.testing.assert_array_equal(load(image), labels)
    # no silent overwrite
    stamp = dseg.stat().st_mtime_ns
    monkeypatch.setattr(roi_dialogs, "ask_overwrite", lambda parent, paths: False)
    assert dock.files.save_dseg(dseg) is None and dseg.stat().st_mtime_ns == stamp
    assert dock.files.save_masks(out) is None
    # reload the two masks: one layer, names kept, same voxels
    [masks_layer] = dock.files.load(written)
    assert roi_data(masks_layer).shape == RAS_SHAPE
    assert {v: k for k, v in source_of(masks_layer).roi.names.items()} == {
        "PAG": 1,
        "RVM": 2,
    }
    np.testing.assert_array_equal(roi_data(masks_layer), labels)
    assert dock.session.roi_layer is masks_layer
    # reload the dseg: same label values and names
    [dseg_layer] = dock.files.load([dseg])
    np.testing.assert_array_equal(roi_data(dseg_layer), labels)
    assert dock.session.names == {1: "PAG", 2: "RVM"}
    assert not is_unsaved(dseg_layer)
    # an edit makes it unsaved; undoing it makes it saved again
    dseg_layer.brush_size = 1
    dseg_layer.paint((21, 17, 19), 2)
    qtbot.waitUntil(lambda: "Unsaved" in dock.files.status.text(), timeout=3000)
    dseg_layer.undo()
    dock.session.check_changes()
    assert not is_unsaved(dseg_layer)


def test_bad_inputs_are_named_and_nothing_is_lost(workbench, ras_study, tmp_path, monkeypatch):
    no_mni = write_nifti(
        tmp_path / "sub-01_T1w.nii.gz",
        np.random.default_rng(2).uniform(100, 900, (40, 44, 30)).astype(np.float32),
        make_affine((2.0, 2.0, 2.0), (-40.0, -80.0, -70.0)),
        code=1,
    )
    viewer, dock = workbench(no_mni)
    s = dock.session
    assert s.reference_layer.name == "sub-01_T1w"
    assert any("sub-01_T1w.nii.gz" in m and "MNI space" in m for m in s.messages)
    assert dock.seed.mni_confirm.enabled and not dock.seed.mni_confirm.value
    # reference without MNI information: refused, named, no ROI
    seed(dock, "PAG")
    assert "sub-01_T1w.nii.gz" in s.messages[-1] and "MNI" in s.messages[-1]
    assert s.roi_layer is None
    dock.seed.mni_confirm.value = True
    seed(dock, "PAG")
    pag_layer = s.roi_layer
    kept = roi_data(pag_layer).copy()
    assert kept.any()
    # a reference whose field of view misses the brainstem: named, the PAG layer is kept
    far = write_nifti(
        tmp_path / "sub-01_space-MNI152NLin2009cSym_desc-frontal_bold.nii.gz",
        np.zeros((10, 10, 10), np.float32),
        make_affine((3.0, 3.0, 3.0), (20.0, 40.0, 30.0)),
        code=4,
    )
    viewer.open(str(far), plugin="napari-milna")
    dock.reference.value = viewer.layers["sub-01_space-MNI152NLin2009cSym_desc-frontal_bold"]
    assert s.reference_layer.name.endswith("frontal_bold")
    seed(dock, "RVM")
    assert "frontal_bold.nii.gz" in s.messages[-1]
    assert "entirely outside the field of view" in s.messages[-1]
    np.testing.assert_array_equal(roi_data(pag_layer), kept)
    assert pag_layer in viewer.layers
    # an empty ROI file opens, with a warning naming it
    dock.reference.value = viewer.layers["sub-01_T1w"]
    empty = write_nifti(
        tmp_path / "sub-01_desc-empty_mask.nii.gz",
        np.zeros((40, 44, 30), np.uint8),
        make_affine((2.0, 2.0, 2.0), (-40.0, -80.0, -70.0)),
        code=1,
    )
    [opened] = dock.files.load([empty])
    assert "sub-01_desc-empty_mask.nii.gz" in s.messages[-2] and "empty" in s.messages[-2]
    assert not roi_data(opened).any() and s.names == {1: "empty"}
    # saving skips an empty ROI with a warning (nothing written)
    assert dock.files.save_masks(tmp_path) is None
    assert "no ROI voxel" in s.messages[-1]
    # mismatched grids: the user is asked; cancelling opens nothing, resampling is explicit
    other = write_nifti(
        tmp_path / "sub-02_desc-PAG_mask.nii.gz",
        np.pad(roi_data(pag_layer) > 0, 1).astype(np.uint8),
        make_affine((2.0, 2.0, 2.0), (-42.0, -82.0, -72.0)),
        code=4,
    )
    n_layers = len(viewer.layers)
    questions = []
    monkeypatch.setattr(
        roi_dialogs, "ask_grid_mismatch", lambda parent, text: questions.append(text)
    )
    assert dock.files.load([other]) == []
    assert len(viewer.layers) == n_layers
    assert "sub-02_desc-PAG_mask.nii.gz" in questions[0] and "Resample" in questions[0]
    monkeypatch.setattr(roi_dialogs, "ask_grid_mismatch", lambda parent, text: "nearest")
    [moved] = dock.files.load([other])
    # the padded copy sits on a grid shifted by exactly one voxel: same voxels back
    np.testing.assert_array_equal(roi_data(moved) > 0, roi_data(pag_layer) > 0)
    assert "resampled" in s.messages[-2]
    assert other.exists()


# ----------------------------------------------------------------------------- unsaved
def test_unsaved_edits_guard_close_and_removal(workbench, ras_study, tmp_path, monkeypatch, qtbot):
    viewer, dock = workbench(ras_study["stat"])
    seed(dock, "PAG")
    layer = dock.session.roi_layer
    guard, window = dock.guard, viewer.window._qt_window
    answers = []

    def answer(choice):
        def ask(parent, text):
            answers.append(text)
            return choice

        return ask

    # Cancel keeps the viewer open (a real close request of the main window)
    monkeypatch.setattr(roi_dialogs, "ask_unsaved", answer("cancel"))
    event = QCloseEvent()
    assert guard.eventFilter(window, event) is True and not event.isAccepted()
    window.close()
    assert len(answers) == 2 and layer.name in answers[0]
    assert hasattr(viewer.window, "_qt_window") and layer in viewer.layers
    # Save writes the ROIs (no earlier save: a file is asked for) and lets the close go on
    target = tmp_path / "sub-01_desc-brainstem_dseg.nii.gz"
    monkeypatch.setattr(roi_dialogs, "ask_unsaved", answer("save"))
    monkeypatch.setattr(roi_dialogs, "ask_save_file", lambda *a, **k: str(target))
    assert guard.eventFilter(window, QCloseEvent()) is False
    np.testing.assert_array_equal(load(target), roi_data(layer))
    assert not is_unsaved(layer)
    # nothing unsaved: no question
    answers.clear()
    assert guard.eventFilter(window, QCloseEvent()) is False and answers == []
    # Discard lets the close go on, without writing anything
    layer.brush_size = 1
    layer.paint((20, 17, 19), 1)
    assert is_unsaved(layer)
    monkeypatch.setattr(roi_dialogs, "ask_unsaved", answer("discard"))
    assert guard.eventFilter(window, QCloseEvent()) is False
    assert guard.recovered == [] and not (tmp_path / "recovery").exists()
    qtbot.wait(10)  # the close did not happen (a synthetic event): the guard re-arms
    # removing a layer with unsaved edits writes a recovery copy and names it
    edited = roi_data(layer).copy()
    viewer.layers.remove(layer)
    [path] = guard.recovered
    assert path.parent == tmp_path / "recovery" and path.name.endswith("_dseg.nii.gz")
    np.testing.assert_array_equal(load(path), edited)
    assert (
        path.parent / path.name.replace(".nii.gz", ".tsv")
    ).read_text() == "index\tname\n1\tPAG\n"


# ----------------------------------------------------------------------------- display space
def test_oblique_display_is_switched_to_the_reference_grid(workbench, spm_tmap, oblique_epi):
    viewer, dock = workbench(spm_tmap, oblique_epi)
    state = ViewerState.of(viewer)
    tmap = viewer.layers["spmT_0001"]
    assert dock.session.reference_layer is tmap
    assert source_of(tmap).resampled_for_display  # the oblique run took the display space
    assert "Painting is disabled" in dock.grid_label.value
    seed(dock, "PAG")
    assert state.space.reference == "spmT_0001" and not source_of(tmap).resampled_for_display
    layer = dock.session.roi_layer
    before = roi_data(layer).copy()
    assert before.any() and layer.editable
    # showing the oblique run's grid makes the ROI layer a resampled copy: tools refuse
    run = viewer.layers["sub-01_task-rest_bold"]
    state.set_reference(source_of(run).grid, run.name)
    assert source_of(layer).resampled_for_display and not layer.editable
    assert "Painting is disabled" in dock.grid_label.value
    dock.refine.dilate_button.native.click()
    assert "shown resampled" in dock.session.messages[-1]
    dock.show_grid_button.native.click()
    assert not source_of(layer).resampled_for_display and layer.editable
    np.testing.assert_array_equal(roi_data(layer), before)


def test_manifest_offers_the_workbench(make_napari_viewer):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-milna", "ROI workbench")
    assert isinstance(widget, RoiWorkbench)
