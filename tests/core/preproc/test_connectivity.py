"""Insula -> DMN seed connectivity: bundled coordinates, Fisher z, drug - placebo."""

import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.preproc.connectivity import (
    Seed,
    correlate,
    crossover_changes,
    default_insula_seeds,
    dmn_nodes,
    fisher_z,
    read_confounds_table,
    seed_connectivity,
    seitzman_nodes,
    write_z_maps,
)

# 4 mm grid over x -48..48, y -40..28, z -12..24 (MNI-like, RAS)
AFFINE = np.array([[4.0, 0, 0, -48], [0, 4.0, 0, -40], [0, 0, 4.0, -12], [0, 0, 0, 1]])
SHAPE = (25, 18, 10)
TR, N = 2.0, 80


def _run(path, seed=0, coupling=None):
    rng = np.random.default_rng(seed)
    data = 500 + rng.normal(0, 5, SHAPE + (N,))
    if coupling is not None:
        common = rng.normal(0, 5, N)
        data[coupling] += common
    img = nib.Nifti1Image(data.astype(np.float32), AFFINE)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = TR
    img.header.set_sform(AFFINE, 4)
    nib.save(img, path)
    return path, data.astype(np.float32).astype(float)


def test_bundled_coordinates_work_offline(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    nodes = seitzman_nodes()
    assert len(nodes) == 300
    seeds = default_insula_seeds(nodes)
    assert [s.name for s in seeds] == ["aInsL", "aInsR", "pInsL", "pInsR"]
    dmn = dmn_nodes(nodes)
    assert len(dmn) == (nodes.network == "DefaultMode").sum() > 50
    # Each insula seed is a Power 2011 node (nilearn's bundled power_2011.csv) within 1 mm.
    from nilearn.datasets import fetch_coords_power_2011

    power = fetch_coords_power_2011().rois[["x", "y", "z"]].to_numpy(dtype=float)
    for s in seeds:
        assert np.min(np.linalg.norm(power - np.array(s.xyz), axis=1)) < 1.0


def test_fisher_z_matches_arctanh_corrcoef(tmp_path):
    coupled = (slice(3, 8), slice(4, 9), slice(2, 6))
    path, data = _run(tmp_path / "sub-01_ses-drug_task-rest_bold.nii.gz", coupling=coupled)
    centre = AFFINE[:3, :3] @ np.array([5, 6, 4]) + AFFINE[:3, 3]
    seed = Seed("test", tuple(centre), radius=5.0)
    mask = np.ones(SHAPE, bool)
    mask_img = nib.Nifti1Image(mask.astype(np.uint8), AFFINE)
    result = seed_connectivity(path, seeds=[seed], mask_img=mask_img, high_pass=None,
                               low_pass=None, detrend=False)
    # Independent seed series: mean over voxels whose centres lie within 5 mm.
    ijk = np.indices(SHAPE).reshape(3, -1).T
    xyz = ijk @ AFFINE[:3, :3].T + AFFINE[:3, 3]
    inside = np.linalg.norm(xyz - centre, axis=1) <= 5.0
    assert inside.sum() == 7  # centre + 6 face neighbours at 4 mm
    series = data.reshape(-1, N)
    seed_ts = series[inside].mean(axis=0)
    for voxel in [(5, 6, 4), (4, 5, 3), (20, 2, 8), (0, 17, 9)]:
        flat = np.ravel_multi_index(voxel, SHAPE)
        expected = np.arctanh(np.corrcoef(seed_ts, series[flat])[0, 1])
        assert result.z_maps[0][voxel] == pytest.approx(expected, abs=1e-5)
    assert np.mean(result.z_maps[0][coupled]) > 0.5 > abs(np.mean(result.z_maps[0][15:, 12:]))


def test_correlate_and_fisher_z_against_numpy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 2)), rng.normal(size=(50, 3))
    full = np.corrcoef(np.hstack([a, b]).T)[:2, 2:]
    np.testing.assert_allclose(correlate(a, b), full, atol=1e-12)
    np.testing.assert_allclose(fisher_z(full), np.arctanh(full), atol=1e-12)
    assert np.isfinite(fisher_z(1.0))


def test_insula_dmn_run_and_drug_minus_placebo(tmp_path):
    runs = []
    for ses, seed in (("drug", 0), ("placebo", 1)):
        path, _ = _run(tmp_path / f"sub-01_ses-{ses}_task-rest_space-MNI152NLin2009cAsym_"
                                  "desc-preproc_bold.nii.gz", seed=seed)
        mask_img = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
        calls: list[int] = []
        result = seed_connectivity(path, mask_img=mask_img,
                                   progress=lambda d, t, c=calls: c.append(d))
        assert calls == [1, 2, 3]
        assert [s.name for s in result.seeds] == ["aInsL", "aInsR", "pInsL", "pInsR"]
        assert result.n_dmn_nodes > 0 and all(np.isfinite(list(result.dmn_mean_z.values())))
        source = open_nifti(path)
        write_z_maps(result, source, tmp_path)
        runs.append((result, source))
    assert runs[0][0].paths["aInsL"].name == (
        "sub-01_ses-drug_task-rest_space-MNI152NLin2009cAsym_seed-aInsL_stat-fisherz_"
        "statmap.nii.gz")
    changes = crossover_changes(runs, tmp_path)
    assert len(changes) == 1
    diff = open_nifti(changes[0].paths["pInsR"]).volume()
    expected = runs[0][0].z_maps[3] - runs[1][0].z_maps[3]
    np.testing.assert_allclose(diff, expected, atol=1e-6)
    assert changes[0].dmn_change["aInsL"] == pytest.approx(
        runs[0][0].dmn_mean_z["aInsL"] - runs[1][0].dmn_mean_z["aInsL"])
    assert "contrast-drugMinusPlacebo" in changes[0].paths["aInsL"].name
    with pytest.raises(MilnaInputError, match="already exists"):
        write_z_maps(runs[0][0], runs[0][1], tmp_path)


def test_confounds_table_from_fmriprep_and_errors(tmp_path):
    path = tmp_path / "c_desc-confounds_timeseries.tsv"
    path.write_text("trans_x\ttrans_y\ttrans_z\trot_x\trot_y\trot_z\tcsf\tother\n"
                    "0\t0\t0\t0\t0\t0\t1\t9\n0.1\t0\t0\t0\t0\tn/a\t2\t9\n")
    table = read_confounds_table(path)
    assert list(table.columns)[-1] == "csf" and table.rot_z.tolist() == [0.0, 0.0]
    with pytest.raises(MilnaInputError, match="has no column wm"):
        read_confounds_table(path, ["wm"])
    path.write_text("a\tb\n1\t2\n3\tx\n")
    with pytest.raises(MilnaInputError, match="line 3 holds a non-numeric b value"):
        read_confounds_table(path)
