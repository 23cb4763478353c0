import numpy as np
import pytest
from scipy import ndimage
from skimage.measure import label as sk_label
from skimage.segmentation import flood

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.io.resample import resample_to_grid
from napari_milna.core.roi.refine import (
    dilate_mm,
    erode_mm,
    exclude_csf,
    grow_region,
    keep_above,
    keep_below,
    keep_in_range,
    largest_component,
    map_on_grid,
    mirror_left_right,
    mm_ball,
    resample_roi,
    restrict_to,
)

EPI = Grid((24, 22, 20), np.diag([2.5, 2.5, 3.0, 1.0]))


def _oblique(shape=(24, 22, 20)):
    theta = np.deg2rad(20)
    rot = np.array(
        [[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]]
    )
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag([-2.5, 2.5, 3.0])
    aff[:3, 3] = [31.3, -27.0, -30.0]
    return Grid(shape, aff)


def _blob(seed=0, shape=EPI.shape):
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5)
    return noise > 0.12


def test_thresholds_are_inclusive_drop_nan_and_leave_input_alone():
    roi = np.zeros((3, 3, 3), bool)
    roi[1, :, :] = True
    values = np.arange(27, dtype=float).reshape(3, 3, 3)
    values[1, 2, 2] = np.nan
    before = roi.copy()
    kept = keep_in_range(roi, values, 10, 15)
    assert sorted(values[kept].tolist()) == [10, 11, 12, 13, 14, 15]
    assert keep_above(roi, values, 16).sum() == 1  # 16; 17 is NaN
    assert keep_below(roi, values, 9).sum() == 1
    assert not keep_above(roi, values, -np.inf)[1, 2, 2]
    np.testing.assert_array_equal(roi, before)
    brain = np.zeros((3, 3, 3))
    brain[:, 0, :] = 1
    brain[1, 0, 0] = np.nan
    assert restrict_to(roi, brain).sum() == 2


@pytest.mark.parametrize(
    "distance, expected",
    [
        (2.4, 1),  # centre only
        (2.5, 5),  # +-i, +-j (2.5 mm)
        (3.0, 7),  # + +-k (3 mm)
        (np.hypot(2.5, 2.5), 11),  # + 4 in-plane diagonals (3.54 mm)
        (np.hypot(2.5, 3.0), 19),  # + 8 i-k / j-k diagonals (3.91 mm)
        (5.0, 31),  # + 8 corners (4.64 mm) + +-2i, +-2j (5 mm)
    ],
)
def test_mm_ball_hand_counts_on_epi_voxels(distance, expected):
    assert mm_ball(EPI, distance).sum() == expected


@pytest.mark.parametrize("distance", [2.0, 3.3, 5.5, 7.0])
def test_mm_ball_on_oblique_grid_matches_brute_force_enumeration(distance):
    grid = _oblique()
    r = np.arange(-6, 7)
    offsets = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    lengths = np.linalg.norm(grid.to_world(offsets) - grid.to_world(np.zeros(3)), axis=1)
    assert mm_ball(grid, distance).sum() == np.count_nonzero(lengths <= distance)


@pytest.mark.parametrize("distance", [2.5, 3.0, 4.0, 6.2])
def test_dilation_and_erosion_match_euclidean_distance_transform(distance):
    roi = _blob(1)
    dilated = dilate_mm(roi, EPI, distance)
    expected = ndimage.distance_transform_edt(~roi, sampling=EPI.zooms) <= distance
    np.testing.assert_array_equal(dilated, expected)
    # erosion: distance to the nearest outside voxel (outside the grid counts) > distance
    pad = 8
    inside = np.pad(roi, pad)
    dist_out = ndimage.distance_transform_edt(inside, sampling=EPI.zooms)
    eroded = erode_mm(roi, EPI, distance)
    np.testing.assert_array_equal(eroded, (dist_out > distance)[pad:-pad, pad:-pad, pad:-pad])


def test_dilation_of_empty_roi_is_empty_and_input_untouched():
    roi = np.zeros(EPI.shape, bool)
    assert not dilate_mm(roi, EPI, 5).any()
    blob = _blob(2)
    before = blob.copy()
    dilate_mm(blob, EPI, 3)
    erode_mm(blob, EPI, 3)
    np.testing.assert_array_equal(blob, before)


@pytest.mark.parametrize("connectivity, sk_conn", [(6, 1), (18, 2), (26, 3)])
def test_largest_component_agrees_with_scikit_image(connectivity, sk_conn):
    roi = _blob(3)
    labels = sk_label(roi, connectivity=sk_conn)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    expected = labels == np.argmax(sizes)
    np.testing.assert_array_equal(largest_component(roi, connectivity), expected)


def test_largest_component_connectivity_hand_case():
    roi = np.zeros((6, 6, 6), bool)
    roi[0:2, 0:2, 0:2] = True  # 8 voxels
    roi[2, 2, 2] = True  # touches the cube by a corner only
    roi[4:6, 4:6, 3:6] = True  # 12 voxels, separate
    assert largest_component(roi, 6).sum() == 12
    roi[3, 3, 2] = roi[3, 3, 3] = True  # corner chain 8 + 1 + 2 -> joins the 12 at 26
    assert largest_component(roi, 26).sum() == 8 + 1 + 2 + 12


def test_region_growing_respects_connectivity_and_matches_flood():
    values = np.zeros((8, 8, 8))
    values[1:3, 1:3, 1:3] = 5.0
    values[3, 3, 3] = 5.0  # diagonal neighbour of (2, 2, 2)
    grid = Grid(values.shape, np.eye(4))
    six = grow_region(values, grid, (1, 1, 1), 4, 6, connectivity=6)
    assert six.sum() == 8
    twenty_six = grow_region(values, grid, (1, 1, 1), 4, 6, connectivity=26)
    assert twenty_six.sum() == 9
    expected = flood(((values >= 4) & (values <= 6)).astype(np.uint8), (1, 1, 1), connectivity=3)
    np.testing.assert_array_equal(twenty_six, expected)


def test_region_growing_radius_is_measured_in_world_mm():
    values = np.ones(EPI.shape)
    seed = (12, 11, 10)
    for radius in (3.0, 5.0, 7.6):
        grown = grow_region(values, EPI, seed, 0.5, 1.5, radius_mm=radius)
        ijk = np.argwhere(grown)
        dist = np.linalg.norm((ijk - seed) * np.array([2.5, 2.5, 3.0]), axis=1)
        assert dist.max() <= radius
        # every voxel within the radius is reached (uniform values)
        all_ijk = np.argwhere(np.ones(EPI.shape, bool))
        all_dist = np.linalg.norm((all_ijk - seed) * np.array([2.5, 2.5, 3.0]), axis=1)
        assert grown.sum() == np.count_nonzero(all_dist <= radius)


def test_region_growing_within_mask_and_bad_seed():
    values = np.ones(EPI.shape)
    brain = np.zeros(EPI.shape)
    brain[:, :11, :] = 1
    grown = grow_region(values, EPI, (3, 3, 3), 0, 2, within=brain)
    assert grown.sum() == brain.sum()
    with pytest.raises(MilnaInputError, match="outside the window"):
        grow_region(values, EPI, (3, 3, 3), 2, 3)
    with pytest.raises(MilnaInputError, match="outside the"):
        grow_region(values, EPI, (30, 3, 3), 0, 2)


def test_exclude_csf_on_the_same_grid():
    roi = np.zeros(EPI.shape, bool)
    roi[5:8, 5:8, 5:8] = True
    csf = np.zeros(EPI.shape, np.float32)
    csf[5, 5:8, 5:8] = 0.9  # 9 voxels go
    csf[6, 5, 5] = 0.5  # not above 0.5: stays
    csf[7, 5, 5] = np.nan  # unknown: stays
    out = exclude_csf(roi, EPI, csf, max_probability=0.5)
    assert out.mask.sum() == 27 - 9
    assert out.n_removed == 9 and out.n_unknown == 1
    assert not out.resampled and out.note == ""
    assert roi.sum() == 27


def test_exclude_csf_resamples_another_grid_explicitly_and_says_so():
    # CSF map on a 1.25 mm grid covering the same field of view as EPI
    fine = Grid((48, 44, 40), EPI.affine @ np.diag([0.5, 0.5, 0.5, 1]) @ _shift(-0.5))
    world = fine.voxel_centres_mm()
    csf = (world[..., 0] > 20.0).astype(np.float32)  # CSF on the right of x = 20 mm
    roi = np.ones(EPI.shape, bool)
    out = exclude_csf(roi, EPI, csf, csf_grid=fine, max_probability=0.5)
    assert out.resampled and "resampled" in out.note
    # trilinear -> probability > 0.5 exactly at EPI voxel centres right of x = 20
    epi_x = EPI.voxel_centres_mm()[..., 0]
    np.testing.assert_array_equal(out.mask, ~(epi_x > 20.0 + 1e-9))
    onto = map_on_grid(csf, fine, EPI)
    expected = resample_to_grid(csf.astype(float), fine, EPI, order=1, fill=np.nan)
    np.testing.assert_allclose(onto.data, expected)


def _shift(v):
    m = np.eye(4)
    m[:3, 3] = v
    return m


@pytest.mark.parametrize(
    "affine",
    [
        [[-2, 0, 0, 20], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]],  # LAS, x=0 a voxel centre
        [[2, 0, 0, -21], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]],  # RAS, x=0 between centres
    ],
    ids=["LAS-centred", "RAS-between"],
)
def test_mirror_maps_each_voxel_to_its_world_mirror(affine):
    grid = Grid((21, 5, 5), affine)
    roi = np.zeros(grid.shape, np.uint8)
    roi[2, 1, 1] = 1
    roi[4, 2, 3] = 2
    mirrored = mirror_left_right(roi, grid)
    for value in (1, 2):
        src = grid.to_world(np.argwhere(roi == value)[0])
        dst = grid.to_world(np.argwhere(mirrored == value)[0])
        np.testing.assert_allclose(dst, src * [-1, 1, 1], atol=1e-9)
    np.testing.assert_array_equal(mirror_left_right(mirrored, grid), roi)
    np.testing.assert_array_equal(mirror_left_right(roi, grid, method="fraction"), mirrored)


def test_mirror_when_x0_is_a_quarter_voxel_off_centre():
    # x = 19.5 - 2 i: x = 0 at i = 9.75; mirrored centres fall halfway between voxels
    grid = Grid((20, 3, 3), [[-2, 0, 0, 19.5], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
    roi = np.zeros(grid.shape, bool)
    roi[3, 1, 1] = True  # x = 13.5 -> mirror at -13.5, i = 16.5
    nearest = mirror_left_right(roi, grid)
    assert np.argwhere(nearest).tolist() == [[17, 1, 1]]  # ties go to the higher index
    np.testing.assert_array_equal(mirror_left_right(nearest, grid), roi)
    fraction = mirror_left_right(roi, grid, method="fraction")
    assert np.argwhere(fraction).tolist() == [[16, 1, 1], [17, 1, 1]]  # half of each


def test_mirror_on_oblique_grid_moves_the_centroid_across_the_midline():
    grid = _oblique((30, 22, 20))
    world = grid.voxel_centres_mm()
    # keep voxels whose mirror lies well inside the field of view
    mirror_vox = grid.to_voxel(world * [-1, 1, 1])
    inside = np.all((mirror_vox >= 1) & (mirror_vox <= np.array(grid.shape) - 2), axis=-1)
    roi = _blob(4, grid.shape) & (world[..., 0] > 8) & inside
    assert roi.sum() > 50
    for method in ("nearest", "fraction"):
        mirrored = mirror_left_right(roi, grid, method=method)
        c_src = grid.to_world(np.argwhere(roi).mean(0))
        c_dst = grid.to_world(np.argwhere(mirrored).mean(0))
        assert c_dst[0] == pytest.approx(-c_src[0], abs=1.0)
        assert c_dst[1:] == pytest.approx(c_src[1:], abs=1.0)
        assert mirrored.sum() == pytest.approx(roi.sum(), rel=0.15)


def test_resample_nearest_agrees_with_ndimage_affine_transform():
    target = _oblique((18, 16, 15))
    src_grid = Grid((40, 40, 40), np.diag([1.5, 1.5, 1.5, 1]) @ _shift([-20, -25, -25]))
    labels = np.zeros(src_grid.shape, np.int16)
    labels[_blob(5, src_grid.shape)] = 3
    labels[5:15, 5:15, 20:30] = 7
    out = resample_roi(labels, src_grid, target)
    expected = resample_to_grid(labels, src_grid, target, order=0)
    # ndimage treats points beyond the last voxel centre as outside; resample_roi gives
    # them to the edge voxel (a voxel is a box). Compare where both see the inside.
    src = src_grid.to_voxel(target.voxel_centres_mm())
    well_inside = np.all((src >= 0) & (src <= np.array(src_grid.shape) - 1), axis=-1)
    assert well_inside.sum() > 1000
    np.testing.assert_array_equal(out[well_inside], expected[well_inside])
    assert out.dtype == labels.dtype


def test_resample_fraction_hand_case():
    fine = Grid((8, 8, 8), np.eye(4))
    coarse = Grid((4, 4, 4), np.diag([2.0, 2, 2, 1]) @ _shift([0.25, 0.25, 0.25]))
    # coarse voxel (1, 1, 1) covers fine voxels 2..3 on each axis
    roi = np.zeros(fine.shape, bool)
    roi[2:4, 2:4, 2] = True  # 4 of 8 fine voxels: half of the coarse voxel
    half = resample_roi(roi, fine, coarse, method="fraction", threshold=0.5)
    assert np.argwhere(half).tolist() == [[1, 1, 1]]
    assert not resample_roi(roi, fine, coarse, method="fraction", threshold=0.6).any()
    roi_back = resample_roi(half, coarse, fine, method="nearest")
    assert roi_back.sum() == 8
