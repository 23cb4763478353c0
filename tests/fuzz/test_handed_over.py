"""The two findings of the hostile-input issue handled by other work, checked here too.

* A higher-level FEAT's ``stats/dof`` is not its contrast's df: the df come from
  ``stats/tdof_t1`` (voxelwise, as FSL's FLAME / fixed effects write them).
* A 4D probabilistic atlas is an atlas, not a run with TR 1.0.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np

from napari_milna.cli import main

from .inputs import AFFINE, SHAPE

FEAT = Path(__file__).parents[1] / "data" / "fslpy_feat" / "2ndlevel_realdata.gfeat" / "cope1.feat"


def _json(capsys, argv):
    assert main([str(a) for a in argv] + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_feat_df_come_from_tdof_not_stats_dof(tmp_path, capsys):
    feat = tmp_path / "cope1.feat"
    shutil.copytree(FEAT, feat)
    (feat / "stats" / "dof").write_text("30\n")  # a first-level-looking number, not the df
    tdof = nib.load(feat / "stats" / "tdof_t1.nii.gz")
    expected = np.unique(np.asarray(tdof.dataobj)[np.asarray(tdof.dataobj) > 0])
    (contrast,) = _json(capsys, ["analysis", feat])["contrasts"]
    assert contrast["df"] == "voxelwise"
    assert (contrast["df_min"], contrast["df_max"]) == (expected.min(), expected.max())
    assert contrast["df_min"] != 30


def test_probabilistic_atlas_is_no_run(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = (100 * rng.random(SHAPE + (3,))).astype(np.float32)
    img = nib.Nifti1Image(data, AFFINE)
    img.header.set_sform(AFFINE, 4)
    img.header["pixdim"][4] = 1.0  # what FSL's atlases carry
    path = tmp_path / "HarvardOxford-sub-prob-2mm.nii.gz"
    nib.save(img, path)
    info = _json(capsys, ["info", path])
    assert info["kind"] == "atlas" and info["tr"] is None
