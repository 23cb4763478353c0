import json

import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.roi.seeds import (
    SEEDS,
    mni_evidence,
    require_mni,
    seed_on_grid,
    seed_roi,
    seed_spec,
)
from napari_milna.core.roi.shapes import Box, HollowCylinder, Sphere, voxel_fraction

# SPM's default bounding box at 3 mm, LAS (x decreases with i), x = 0 a voxel centre.
LAS_3MM = Grid((53, 63, 52), [[-3, 0, 0, 78], [0, 3, 0, -112], [0, 0, 3, -70], [0, 0, 0, 1]])
# The protocol's EPI voxel, RAS.
RAS_EPI = Grid((73, 87, 61), [[2.5, 0, 0, -90], [0, 2.5, 0, -126], [0, 0, 3, -72], [0, 0, 0, 1]])


def _oblique_grid():
    theta = np.deg2rad(12)
    rot = np.array(
        [[1, 0, 0], [0, np.cos(theta), -np.sin(theta)], [0, np.sin(theta), np.cos(theta)]]
    )
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag([-2.5, 2.5, 3.0])
    aff[:3, 3] = [70, -120, -60]
    return Grid((60, 70, 45), aff)


def _centroid_mm(grid, mask):
    return grid.to_world(np.argwhere(mask).mean(axis=0))


#: Published extents (mm) the seed's centroid must fall in: (structure, y range, z range,
#: x centre, x tolerance; None: one voxel). PAG: hand-traced (Satpute 2013), y -26..-37,
#: z -12..-5, centroid near x = 0.5 (the PAG seed is a hollow cylinder).
PUBLISHED_EXTENTS = [
    ("PAG", (-37, -26), (-12, -5), 0.5, None),
    ("RVM", (-38, -34), (-46, -38), 0.0, 4),
]


@pytest.mark.parametrize(("structure", "y_range", "z_range", "x_centre", "x_tol"),
                         PUBLISHED_EXTENTS, ids=[row[0] for row in PUBLISHED_EXTENTS])
@pytest.mark.parametrize("grid", [LAS_3MM, RAS_EPI], ids=["LAS-3mm", "RAS-2.5x2.5x3"])
def test_centroid_in_published_extent(grid, structure, y_range, z_range, x_centre, x_tol):
    seed = seed_roi(structure, grid, assume_mni=True)
    x, y, z = _centroid_mm(grid, seed.mask)
    assert y_range[0] <= y <= y_range[1]
    assert z_range[0] <= z <= z_range[1]
    assert abs(x - x_centre) <= (grid.zooms[0] if x_tol is None else x_tol)


@pytest.mark.parametrize("grid", [LAS_3MM, RAS_EPI], ids=["LAS-3mm", "RAS-2.5x2.5x3"])
def test_pag_voxel_count_close_to_hollow_cylinder_volume(grid):
    seed = seed_roi("PAG", grid, assume_mni=True)
    outer_r, inner_r, length = 3.0, 1.25, 10.0
    analytic = np.pi * (outer_r**2 - inner_r**2) * length  # 233.6 mm^3
    assert seed.spec.shape.volume_mm3 == pytest.approx(analytic)
    # sampled volume is accurate; the thresholded count of a ~10-voxel tube is coarse
    assert seed.covered_volume_mm3 == pytest.approx(analytic, rel=0.05)
    assert seed.n_voxels == pytest.approx(analytic / grid.voxel_volume, rel=0.3)


@pytest.mark.parametrize("grid", [RAS_EPI, _oblique_grid()], ids=["RAS", "oblique"])
def test_large_oblique_tube_count_matches_analytic_volume(grid):
    tube = HollowCylinder.along((2, -20, 5), (0.3, -0.6, -0.8), 40.0, 30.0, 14.0)
    analytic = np.pi * (15.0**2 - 7.0**2) * 40.0
    cov = voxel_fraction(tube, grid, supersample=6)
    sampled = cov.fraction.sum(dtype=np.float64) * grid.voxel_volume
    assert sampled == pytest.approx(analytic, rel=0.01)
    count = np.count_nonzero(cov.fraction >= 0.5)
    assert count * grid.voxel_volume == pytest.approx(analytic, rel=0.03)
    assert cov.fov_fraction == 1.0


def test_sphere_sampled_volume_matches_analytic():
    sphere = Sphere((10.3, -20.1, 4.7), 9.0)
    cov = voxel_fraction(sphere, RAS_EPI, supersample=8)
    sampled = cov.fraction.sum(dtype=np.float64) * RAS_EPI.voxel_volume
    assert sampled == pytest.approx(4 / 3 * np.pi * 9.0**3, rel=0.005)


def test_box_fraction_equals_product_of_hand_computed_overlaps():
    # 2 mm isotropic grid with voxel centres at even mm: faces at odd mm are voxel faces.
    grid = Grid((10, 10, 10), np.diag([2.0, 2.0, 2.0, 1.0]))
    # x from 3.5 to 8.5: voxel x=2 (1..3) 0, x=4 (3..5) 0.75, x=6 1, x=8 (7..9) 0.75
    box = Box.spanning((3.5, 5.0, 9.0), (8.5, 9.0, 10.0))
    cov = voxel_fraction(box, grid, supersample=8)
    fx = np.zeros(10)
    fx[[2, 3, 4]] = [0.75, 1.0, 0.75]
    # y 5..9: voxel y=4 (3..5) 0, y=6 (5..7) 1, y=8 (7..9) 1
    fy = np.zeros(10)
    fy[[3, 4]] = [1.0, 1.0]
    # z 9..10: voxel z=10 (9..11) covered half
    fz = np.zeros(10)
    fz[5] = 0.5
    expected = fx[:, None, None] * fy[None, :, None] * fz[None, None, :]
    np.testing.assert_allclose(cov.fraction, expected, atol=1e-7)


def test_las_and_ras_flips_give_mirrored_fraction_maps():
    ras = Grid(LAS_3MM.shape, [[3, 0, 0, -78], [0, 3, 0, -112], [0, 0, 3, -70], [0, 0, 0, 1]])
    for region, variants in SEEDS.items():
        for variant in variants:
            las = seed_roi(region, LAS_3MM, variant=variant, assume_mni=True)
            flip = seed_roi(region, ras, variant=variant, assume_mni=True)
            np.testing.assert_allclose(las.fraction[::-1], flip.fraction, atol=1.5 / 216)


def test_mask_is_fraction_threshold_and_result_is_json_ready():
    seed = seed_roi("PAG", RAS_EPI, variant="sphere", fraction=0.3, assume_mni=True)
    assert seed.mask.dtype == bool
    np.testing.assert_array_equal(seed.mask, seed.fraction >= 0.3 - 1e-6)
    assert 0 <= seed.fraction.min() and seed.fraction.max() <= 1
    d = json.loads(json.dumps(seed.to_dict()))
    assert d["region"] == "PAG" and d["variant"] == "sphere"
    assert "Satpute" in d["citation"]
    assert d["n_voxels"] == int(seed.mask.sum())
    assert d["shape"]["radius_mm"] == 4.0


def test_pag_cylinder_axis_follows_canlab_sphere_centres():
    shape = seed_spec("PAG").shape
    direction = np.subtract((0.4, -33.3, -11.9), (0.4, -29.2, -6.7))
    direction /= np.linalg.norm(direction)
    assert abs(abs(shape.axis @ direction) - 1) < 1e-12
    assert shape.length_mm == pytest.approx(10.0)
    np.testing.assert_allclose(shape.centre_mm, (0.5, -31, -9))


def test_rvm_options_cite_their_sources():
    assert "Baer" in seed_spec("RVM", "nrm").citation
    assert seed_spec("RVM", "nrm").shape.size_mm == (6.0, 6.0, 12.0)
    assert "Nash" in seed_spec("RVM", "raphe").citation
    with pytest.raises(MilnaInputError, match="choose one of"):
        seed_spec("RVM", "cylinder")
    with pytest.raises(MilnaInputError, match="nknown region"):
        seed_spec("LC")


def test_seed_outside_field_of_view_is_an_input_error():
    slab = Grid((40, 40, 10), [[3, 0, 0, -60], [0, 3, 0, -60], [0, 0, 3, 20], [0, 0, 0, 1]])
    with pytest.raises(MilnaInputError, match="entirely outside the field of view"):
        seed_roi("PAG", slab, assume_mni=True)


def test_partial_field_of_view_is_reported():
    # slab whose lowest slice centre is z = -8: the PAG (z -15..-3) is cut
    slab = Grid((40, 40, 10), [[3, 0, 0, -60], [0, 3, 0, -60], [0, 0, 3, -8], [0, 0, 0, 1]])
    seed = seed_roi("PAG", slab, assume_mni=True)
    assert 0 < seed.fov_fraction < 0.9
    assert "outside the reference's field of view" in seed.warnings[0]


def test_threshold_too_high_for_a_tiny_seed_is_an_input_error():
    coarse = Grid((30, 30, 30), [[6, 0, 0, -87], [0, 6, 0, -123], [0, 0, 6, -99], [0, 0, 0, 1]])
    with pytest.raises(MilnaInputError, match="lower the fraction threshold"):
        seed_on_grid(seed_spec("RVM", "raphe"), coarse, fraction=0.9)


def _image(path, grid, sform_code, qform_code=None):
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(grid.shape)
    hdr.set_data_dtype(np.float32)
    hdr.set_sform(grid.affine, sform_code)
    hdr.set_qform(grid.affine, sform_code if qform_code is None else qform_code)
    # affine None: nibabel keeps the header's codes as they are (0 included)
    img = nib.Nifti1Image(np.zeros(grid.shape, np.float32), None, header=hdr)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, path)
    return path


@pytest.mark.parametrize(
    "name, code",
    [
        ("anything.nii.gz", 4),
        ("sub-01_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz", 2),
        ("tpl-MNI152NLin6Asym_res-02_T1w.nii.gz", 2),
        ("wmeanfunc.nii", 2),
        ("swrfunc.nii", 2),
        ("spmT_0001.nii", 2),
        ("reg_standard/stats/zstat1.nii.gz", 2),
        ("derivatives/space-MNI152NLin6Asym/zstat1.nii.gz", 2),
        ("example_func2standard.nii.gz", 2),
    ],
)
def test_mni_evidence_from_header_code_or_mni_like_name(tmp_path, name, code):
    path = _image(tmp_path / name, LAS_3MM, code)
    assert mni_evidence(path) is not None
    seed = seed_roi("PAG", path)
    assert seed.mni_evidence == mni_evidence(path)


@pytest.mark.parametrize(
    "name, code",
    [
        ("sub-01_task-pain_bold.nii.gz", 2),  # aligned, but nothing says MNI
        ("sub-01_space-MNI152NLin2009cAsym_bold.nii.gz", 1),  # scanner code
        ("spmT_0001.nii", 0),
        ("alumni_scan.nii", 2),  # 'mni' inside a word is not a space name
    ],
)
def test_reference_without_mni_information_needs_confirmation(tmp_path, name, code):
    path = _image(tmp_path / name, LAS_3MM, code)
    assert mni_evidence(path) is None
    with pytest.raises(MilnaInputError, match="assume-mni") as info:
        seed_roi("PAG", path)
    assert name.split("/")[-1] in str(info.value)
    assert "confirmed by the user" in require_mni(path, assume_mni=True)
    assert seed_roi("PAG", path, assume_mni=True).n_voxels > 0


def test_bare_grid_needs_assume_mni():
    with pytest.raises(MilnaInputError, match="assume_mni"):
        seed_roi("PAG", LAS_3MM)
