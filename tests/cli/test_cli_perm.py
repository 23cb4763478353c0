"""``milna perm --tfce`` and ``milna perm --whole-brain`` over dask workers."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from nilearn.mass_univariate._utils import calculate_tfce
from scipy import ndimage

from napari_milna.cli import main
from tests.conftest import write_nifti

AFF = np.diag([2.0, 2.0, 2.0, 1.0])
SHAPE = (9, 10, 8)


def run_json(capsys, argv):
    status = main(argv + ["--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


@pytest.fixture
def subjects(tmp_path):
    rng = np.random.default_rng(11)
    zz = np.indices(SHAPE)
    blob = np.exp(-sum((zz[a] - c) ** 2 for a, c in enumerate((4, 5, 4))) / 5.0)
    paths = []
    for s in range(8):
        vol = ndimage.gaussian_filter(rng.normal(size=SHAPE), 1.0) * 3 + 0.9 * blob + 0.01
        paths.append(str(write_nifti(tmp_path / f"sub-{s:02d}_con.nii.gz",
                                     vol.astype(np.float32), AFF)))
    roi = np.zeros(SHAPE, np.uint8)
    roi[1:8, 2:9, 1:7] = 1
    roi_path = write_nifti(tmp_path / "roi_mask.nii.gz", roi, AFF)
    return {"paths": paths, "roi": str(roi_path), "roi_mask": roi.astype(bool)}


def test_perm_tfce_peak_equals_nilearn_tfce(subjects, capsys):
    out = run_json(capsys, ["perm", subjects["roi"]] + subjects["paths"] + ["--tfce"])
    tf = out["tfce"]
    assert tf["E"] == 0.5 and tf["H"] == 2.0 and tf["connectivity"] == 26
    assert tf["n_perm"] == 256 and tf["exhaustive"] is True
    data = np.stack([nib.load(p).get_fdata() for p in subjects["paths"]])
    t = data.mean(0) / (data.std(0, ddof=1) / np.sqrt(len(data)))
    t = np.where(subjects["roi_mask"], t, 0.0)
    ref = calculate_tfce(t[..., None], ndimage.generate_binary_structure(3, 3),
                         two_sided_test=False)[..., 0]
    ijk = tuple(tf["ijk"])
    assert tf["peak_value"] == pytest.approx(ref.max(), abs=1e-6)
    assert ref[ijk] == pytest.approx(ref.max())
    np.testing.assert_allclose(tf["xyz_mm"], AFF[:3, :3] @ np.array(ijk) + AFF[:3, 3])
    assert 1 / 256 <= tf["p_fwe"] <= 1


def test_perm_whole_brain_workers_equal_one_process(subjects, capsys):
    argv = ["perm", "--whole-brain"] + subjects["paths"] + ["--n-perm", "150", "--seed", "5"]
    single = run_json(capsys, argv + ["--workers", "1"])
    spread = run_json(capsys, argv + ["--workers", "2"])
    assert single["workers"]["scheduler"] is None and spread["workers"]["scheduler"] == "processes"
    assert spread["peak"] == single["peak"]
    assert spread["n_perm"] == single["n_perm"] == 150
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_json(capsys, argv + ["--scheduler", cluster.scheduler_address])
    assert remote["peak"] == single["peak"]
