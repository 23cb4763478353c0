"""Resel counts against DESIGN.md, brute-force counting, skimage's Euler number and geometry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from skimage.measure import euler_number

from napari_milna.core.svc import resels


def brute_force_counts(mask):
    """Points, edges, faces, cubes by walking every voxel (a separate simple implementation)."""
    m = np.asarray(mask, dtype=bool)
    nx, ny, nz = m.shape

    def on(i, j, k):
        return 0 <= i < nx and 0 <= j < ny and 0 <= k < nz and bool(m[i, j, k])

    p = 0
    e = [0, 0, 0]
    f = {"xy": 0, "xz": 0, "yz": 0}
    c = 0
    for i, j, k in itertools.product(range(nx), range(ny), range(nz)):
        if not on(i, j, k):
            continue
        p += 1
        e[0] += on(i + 1, j, k)
        e[1] += on(i, j + 1, k)
        e[2] += on(i, j, k + 1)
        f["xy"] += on(i + 1, j, k) and on(i, j + 1, k) and on(i + 1, j + 1, k)
        f["xz"] += on(i + 1, j, k) and on(i, j, k + 1) and on(i + 1, j, k + 1)
        f["yz"] += on(i, j + 1, k) and on(i, j, k + 1) and on(i, j + 1, k + 1)
        c += all(on(i + a, j + b, k + d) for a, b, d in itertools.product((0, 1), repeat=3))
    return p, e, f, c


def brute_force_resels(mask, fwhm):
    p, (ex, ey, ez), f, c = brute_force_counts(mask)
    rx, ry, rz = 1 / np.asarray(fwhm, dtype=float)
    fxy, fxz, fyz = f["xy"], f["xz"], f["yz"]
    return np.array([
        p - ex - ey - ez + fxy + fxz + fyz - c,
        (ex - fxy - fxz + c) * rx + (ey - fxy - fyz + c) * ry + (ez - fxz - fyz + c) * rz,
        (fxy - c) * rx * ry + (fxz - c) * rx * rz + (fyz - c) * ry * rz,
        c * rx * ry * rz,
    ])


def voxel_sphere(radius_vox, shape=(17, 17, 17)):
    idx = np.indices(shape) - (np.array(shape)[:, None, None, None] // 2)
    return (idx**2).sum(0) <= radius_vox**2


def test_design_box():
    m = np.zeros((9, 9, 9), bool)
    m[2:7, 2:7, 2:7] = True
    np.testing.assert_allclose(resels.resel_counts(m, 2.0), [1, 6, 12, 8])
    # the lattice box is the continuous box between the outer voxel centres (4 voxels)
    np.testing.assert_allclose(resels.box_resels(4.0, 2.0), [1, 6, 12, 8])


def test_anisotropic_box_matches_continuous_box():
    m = np.zeros((8, 10, 6), bool)
    m[1:7, 2:9, 1:5] = True  # 6 x 7 x 4 voxels -> sides 5, 6, 3 between centres
    fwhm = (2.0, 3.0, 1.5)
    np.testing.assert_allclose(resels.resel_counts(m, fwhm), resels.box_resels((5, 6, 3), fwhm))


@pytest.mark.parametrize("radius", [2.0, 3.3, 5.0])
def test_voxelised_sphere_against_brute_force(radius):
    m = voxel_sphere(radius)
    fwhm = (2.0, 2.5, 3.0)
    np.testing.assert_allclose(resels.resel_counts(m, fwhm), brute_force_resels(m, fwhm),
                               rtol=1e-12)


def test_random_blobs_against_brute_force_and_euler_number():
    rng = np.random.default_rng(7)
    for _ in range(5):
        m = rng.random((7, 8, 6)) < 0.55
        got = resels.resel_counts(m, (1.7, 2.2, 2.9))
        np.testing.assert_allclose(got, brute_force_resels(m, (1.7, 2.2, 2.9)), rtol=1e-12)
        # R0 is the Euler characteristic of the 6-connected voxel set
        assert got[0] == euler_number(m, connectivity=1)


def test_hollow_cylinder_like_the_pag_has_zero_euler_characteristic():
    m = np.zeros((12, 12, 8), bool)
    m[2:10, 2:10, 1:7] = True
    m[4:8, 4:8, :] = False  # the aqueduct runs through it
    r = resels.resel_counts(m, 2.0)
    assert r[0] == 0
    assert r[0] == euler_number(m, connectivity=1)
    assert np.all(r[1:] > 0)


def test_line_and_single_voxel():
    line = np.zeros((15, 3, 3), bool)
    line[2:13, 1, 1] = True  # 11 voxels, 10 voxels long
    np.testing.assert_allclose(resels.resel_counts(line, 2.0), [1, 5, 0, 0])
    dot = np.zeros((3, 3, 3), bool)
    dot[1, 1, 1] = True
    np.testing.assert_allclose(resels.resel_counts(dot, 4.0), [1, 0, 0, 0])


def test_voxel_sphere_approaches_the_analytic_sphere():
    # A large voxelised sphere's R3 (volume in resels) approaches 4/3 pi s^3. The
    # lattice volume lies between the spheres of radius r - sqrt(3)/2 and r.
    r, f = 7.0, 2.0
    m = voxel_sphere(r, shape=(19, 19, 19))
    got = resels.resel_counts(m, f)
    assert resels.sphere_resels(r - np.sqrt(3) / 2, f)[3] < got[3] < resels.sphere_resels(r, f)[3]
    assert got[0] == 1


def test_sphere_resels_design_values():
    np.testing.assert_allclose(
        resels.sphere_resels(6.0, 8.0), [1, 3, 2 * np.pi * 0.5625, 4 / 3 * np.pi * 0.421875]
    )
    # anisotropic: the geometric mean of radius / FWHM, as spm_resels
    s = (6 / 8 * 6 / 6 * 6 / 4) ** (1 / 3)
    np.testing.assert_allclose(resels.sphere_resels(6.0, (8.0, 6.0, 4.0))[1], 4 * s)


def test_nan_counts_as_outside_and_bad_fwhm():
    m = np.zeros((5, 5, 5))
    m[1:4, 1:4, 1:4] = 1
    m[2, 2, 2] = np.nan
    assert resels.lattice_counts(m).points == 26
    with pytest.raises(ValueError):
        resels.resel_counts(m, 0.0)
