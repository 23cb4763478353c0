"""Conservative CSF mask, streamed CSF signal and the task-correlation warning."""

import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.preproc.nuisance import (
    conservative_csf_mask,
    csf_regressor,
    task_correlation_warning,
    task_correlations,
)

AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])


def _save(path, data, tr=None):
    img = nib.Nifti1Image(np.asarray(data, dtype=np.float32), AFFINE)
    if tr is not None:
        img.header.set_xyzt_units("mm", "sec")
        img.header["pixdim"][4] = tr
    nib.save(img, path)
    return path


def test_threshold_and_one_voxel_erosion_by_hand():
    prob = np.zeros((9, 9, 9))
    prob[2:7, 2:7, 2:7] = 0.95  # a 5x5x5 cube
    prob[4, 4, 4] = 0.85  # below the level: a hole in the middle
    mask = conservative_csf_mask(prob, level=0.9, erosion=1)
    # Eroding a 5-cube with the 6-neighbourhood leaves the inner 3-cube (27 voxels); the
    # hole at the centre also removes its 6 face neighbours: 27 - 1 - 6 = 20.
    assert mask.sum() == 20
    assert not mask[4, 4, 4] and not mask[4, 4, 3] and mask[3, 3, 3]
    restrict = np.zeros_like(mask)
    restrict[:, :, :4] = True
    assert conservative_csf_mask(prob, 0.9, 1, restrict).sum() == 9 - 1  # z = 3 layer
    assert conservative_csf_mask(prob, 0.9, 0).sum() == 124


def test_csf_signal_correlation_and_warning(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    task = (np.arange(n) // 6 % 2).astype(float)
    data = 500 + rng.normal(0, 1, (9, 9, 9, n))
    data[2:7, 2:7, 2:7] += 4 * task  # CSF follows the task: the warning case
    prob = np.zeros((9, 9, 9))
    prob[2:7, 2:7, 2:7] = 0.97
    run = open_nifti(_save(tmp_path / "bold.nii.gz", data, tr=2.0)).run()
    csf_path = _save(tmp_path / "csf_probseg.nii.gz", prob)
    calls = []
    result = csf_regressor(run, csf_path, task=task[:, None],
                           chunk_volumes=16, progress=lambda d, t: calls.append(d))
    mask = np.zeros((9, 9, 9), bool)
    mask[3:6, 3:6, 3:6] = True
    np.testing.assert_array_equal(result.mask, mask)
    expected = data.astype(np.float32)[mask].astype(float).mean(axis=0)
    np.testing.assert_allclose(result.signal, expected, rtol=1e-6)
    r = np.corrcoef(expected, task)[0, 1]
    assert result.correlations["task"] == pytest.approx(r, abs=1e-6)
    assert r > 0.3 and "correlates with the task regressor" in result.warning
    assert calls == [16, 32, 48, 60]
    d = result.to_dict()
    assert d["n_voxels"] == 27 and d["warning"] == result.warning


def test_no_warning_below_level_and_sample_mask():
    import pandas as pd

    sig = np.array([0.0, 1, 0, 1, 0, 1, 5.0])
    task = pd.DataFrame({"pain": [1.0, 0, 1, 0, 1, 0, 0], "sensory": [0.0, 0, 1, 1, 0, 0, 1.0]})
    kept = np.arange(6)
    corr = task_correlations(sig, task, kept)
    assert corr["pain"] == pytest.approx(-1.0)
    assert corr["sensory"] == pytest.approx(np.corrcoef(sig[:6], task.sensory[:6])[0, 1])
    assert task_correlation_warning({"pain": 0.29}, 0.3) is None
    assert "pain (r = -0.45)" in task_correlation_warning({"pain": -0.45}, 0.3)


def test_empty_mask_names_the_file(tmp_path):
    run = open_nifti(_save(tmp_path / "bold.nii.gz", np.ones((5, 5, 5, 12)), tr=2.0)).run()
    prob = np.zeros((5, 5, 5))
    prob[2, 2, 2] = 1.0  # one voxel: erosion removes it
    path = _save(tmp_path / "csf.nii.gz", prob)
    with pytest.raises(MilnaInputError, match=r"csf\.nii\.gz: leaves no CSF voxel"):
        csf_regressor(run, path)
