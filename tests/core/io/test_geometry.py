import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.io.geometry import DisplaySpace, Grid, is_axis_aligned, plane_layout
from tests.conftest import make_affine


def test_grid_world_matches_nibabel_apply_affine(oblique_las_affine):
    grid = Grid((24, 28, 16), oblique_las_affine)
    ijk = np.array([[0, 0, 0], [3, 7, 11], [23, 27, 15]])
    expected = nib.affines.apply_affine(oblique_las_affine, ijk)
    np.testing.assert_allclose(grid.to_world(ijk), expected)
    np.testing.assert_allclose(grid.to_voxel(expected), ijk, atol=1e-9)
    np.testing.assert_allclose(grid.zooms, [2.5, 2.5, 3.0])
    assert grid.axcodes == "".join(nib.aff2axcodes(oblique_las_affine))
    assert not grid.is_axis_aligned
    assert grid.voxel_volume == pytest.approx(2.5 * 2.5 * 3.0)


def test_axis_aligned_accepts_flips_refuses_permutation_and_rotation():
    assert is_axis_aligned(np.diag([-3.0, 3.0, 3.0, 1.0]))
    perm = np.zeros((4, 4))
    perm[0, 1] = perm[1, 2] = perm[2, 0] = 2.0
    perm[3, 3] = 1
    assert not is_axis_aligned(perm)
    assert not is_axis_aligned(make_affine((2, 2, 2), (0, 0, 0), rotation_deg=(2, 0, 0)))


def test_world_placement_reproduces_affine_for_las(las_mni_affine):
    """napari's composition affine @ (scale * ijk + translate) must give the NIfTI world mm."""
    placement = DisplaySpace.world().place(las_mni_affine)
    np.testing.assert_allclose(placement.scale, [3, 3, 3])
    np.testing.assert_allclose(placement.translate, las_mni_affine[:3, 3])  # origin as translate
    np.testing.assert_allclose(placement.rotation, np.diag([-1.0, 1, 1]))
    assert not placement.needs_resampling
    ijk = np.array([5.0, 7.0, 9.0])
    napari_world = placement.affine[:3, :3] @ (placement.scale * ijk + placement.translate) + (
        placement.affine[:3, 3]
    )
    np.testing.assert_allclose(napari_world, nib.affines.apply_affine(las_mni_affine, ijk))


def test_oblique_grid_needs_resampling_in_world_but_not_in_its_own_space(oblique_las_affine):
    grid = Grid((24, 28, 16), oblique_las_affine)
    assert DisplaySpace.world().place(grid.affine).needs_resampling
    own = DisplaySpace.of_reference(grid, "epi")
    placement = own.place(grid.affine)
    assert not placement.needs_resampling
    np.testing.assert_allclose(placement.matrix, np.diag([2.5, 2.5, 3.0, 1.0]), atol=1e-9)
    # display -> world round trip gives the true world mm of a voxel
    ijk = np.array([4, 5, 6])
    display = placement.scale * ijk
    np.testing.assert_allclose(own.to_world(display), nib.affines.apply_affine(grid.affine, ijk))
    assert own.axcodes == grid.axcodes


@pytest.mark.parametrize(
    ("codes", "plane", "radiological", "expected"),
    [
        # RAS world, axial neurological: rows = y (A up), cols = x (R on the right)
        ("RAS", "axial", False, (2, 1, 0, True, True)),
        ("RAS", "axial", True, (2, 1, 0, True, False)),
        ("RAS", "coronal", False, (1, 2, 0, True, True)),
        ("RAS", "sagittal", False, (0, 2, 1, True, False)),
        # LAS voxel display: x axis increases to the left, so neurological flips it
        ("LAS", "axial", False, (2, 1, 0, True, False)),
        # a permuted grid: i = A->P, j = S->I, k = L->R
        ("PIR", "axial", False, (1, 0, 2, False, True)),
    ],
)
def test_plane_layout_conventions(codes, plane, radiological, expected):
    lay = plane_layout(codes, plane, radiological)
    assert (lay.slice_axis, lay.row_axis, lay.col_axis, lay.row_up, lay.col_right) == expected


def test_plane_layout_edge_letters():
    assert plane_layout("RAS", "axial").labels == {
        "top": "A", "bottom": "P", "right": "R", "left": "L"
    }
    assert plane_layout("RAS", "axial", radiological=True).labels["right"] == "L"
    assert plane_layout("RAS", "sagittal").labels == {
        "top": "S", "bottom": "I", "right": "P", "left": "A"
    }
