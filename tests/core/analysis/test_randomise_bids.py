"""randomise outputs (1 - p images) and fMRIPrep + nilearn BIDS statistic maps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_milna.core.analysis import analysis_kind, folder_stat_map, open_analysis
from napari_milna.core.analysis.model import OneMinusPMap
from napari_milna.core.errors import MilnaInputError
from tests.conftest import write_nifti

AFF = np.diag([2.0, 2.0, 2.0, 1.0])


def _vol(seed=0):
    return np.random.default_rng(seed).normal(size=(5, 5, 5)).astype(np.float32)


def test_randomise_folder(tmp_path):
    for name in ("perm_tstat1", "perm_tstat2", "perm_tfce_corrp_tstat1", "perm_vox_p_tstat1",
                 "perm_vox_corrp_tstat2"):
        write_nifti(tmp_path / f"{name}.nii.gz", _vol(), AFF)
    assert analysis_kind(tmp_path) == "randomise"
    a = open_analysis(tmp_path)
    assert [c.name for c in a.contrasts] == ["perm_tstat1", "perm_tstat2"]
    first = a.contrasts[0].to_dict()
    assert set(first["p_maps"]) == {"tfce_corrp", "vox_p"}
    assert first["p_maps"]["tfce_corrp"]["corrected"] is True
    assert first["p_maps"]["vox_p"]["corrected"] is False
    assert first["p_maps"]["tfce_corrp"]["stores"] == "1 - p"
    assert first["df"] is None and first["fwhm_mm"] is None
    # 1 - p: 0.97 is p = 0.03, significant at 0.05 because it is ABOVE 1 - 0.05
    assert OneMinusPMap.threshold(0.05) == pytest.approx(0.95)
    np.testing.assert_allclose(OneMinusPMap.p_values([0.97, 0.2]), [0.03, 0.8])
    fs = folder_stat_map(tmp_path / "perm_tstat1.nii.gz")
    assert fs.smoothness is None and fs.stat_type == "T" and fs.df is None


def test_bids_stat_maps_with_sidecar_df(tmp_path):
    stem = "sub-01_task-pain_space-MNI152NLin2009cAsym_contrast-painMinusRest"
    write_nifti(tmp_path / f"{stem}_stat-t_statmap.nii.gz", _vol(1), AFF)
    write_nifti(tmp_path / f"{stem}_stat-z_statmap.nii.gz", _vol(2), AFF)
    write_nifti(tmp_path / f"{stem}_stat-effect_statmap.nii.gz", _vol(3), AFF)
    (tmp_path / f"{stem}_stat-t_statmap.json").write_text(json.dumps({"DegreesOfFreedom": 171}))
    other = "sub-01_task-pain_space-MNI152NLin2009cAsym_contrast-touch"
    write_nifti(tmp_path / f"{other}_stat-z_statmap.nii.gz", _vol(4), AFF)
    assert analysis_kind(tmp_path) == "bids"
    a = open_analysis(tmp_path)
    by_name = {c.name: c for c in a.contrasts}
    pain = by_name["painMinusRest"]
    assert pain.stat_type == "T" and pain.df == 171.0
    assert pain.df_source == f"sidecar {stem}_stat-t_statmap.json DegreesOfFreedom"
    assert pain.effect.name.endswith("stat-effect_statmap.nii.gz")
    assert by_name["touch"].stat_type == "Z"
    fs = folder_stat_map(tmp_path / f"{stem}_stat-z_statmap.nii.gz")
    assert fs.stat_type == "Z" and fs.df is None and fs.smoothness is None


def test_plain_folder_is_not_an_analysis(tmp_path):
    write_nifti(tmp_path / "something.nii.gz", _vol(), AFF)
    with pytest.raises(MilnaInputError, match="is not an analysis folder"):
        open_analysis(tmp_path)
    with pytest.raises(MilnaInputError, match="does not exist"):
        open_analysis(tmp_path / "nope")
    assert folder_stat_map(tmp_path / "something.nii.gz") is None
