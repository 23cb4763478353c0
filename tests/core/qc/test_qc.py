import json

import numpy as np
import pytest
from nilearn.masking import compute_epi_mask
from scipy import ndimage

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.jobs import Cancelled
from napari_milna.core.qc.coverage import THRESHOLDS, roi_verdict, run_qc
from tests.synth.qc import (
    CSF_BOX,
    DROPOUT_BOX,
    PAG_BOX,
    SHAPE,
    affine,
    box_mask,
    brain,
    make_run,
    save,
    save_pag_rvm_dseg,
)


@pytest.fixture
def study(tmp_path):
    x = make_run(40, pulsation=0.0)
    bold = save(tmp_path / "sub-01_task-pain_desc-preproc_bold.nii.gz", x)
    mask = save(tmp_path / "sub-01_desc-brain_mask.nii.gz", brain().astype(np.uint8))
    # RVM: a 3 x 3 x 3 box, one third of it (9 voxels) in the dropout box
    rvm = np.zeros(SHAPE, np.uint8)
    rvm[8:11, 8:11, 5:8] = 1
    rvm_path = save(tmp_path / "sub-01_desc-RVM_mask.nii.gz", rvm)
    pag_path = save(tmp_path / "sub-01_desc-PAG_mask.nii.gz", box_mask(PAG_BOX).astype(np.uint8))
    return {"x": x.astype(np.float64), "bold": bold, "mask": mask, "rvm": rvm_path,
            "pag": pag_path, "tmp": tmp_path}


def test_maps_and_roi_numbers_match_numpy(study):
    res = run_qc(study["bold"], brain_mask=study["mask"], rois=[study["rvm"], study["pag"]])
    x = study["x"]
    mean, std = x.mean(-1), x.std(-1)
    tsnr = np.where(std > 1e-3, mean / np.where(std > 0, std, 1), 0)
    inside = brain()
    median = np.median(mean[inside & (mean != 0)])
    ratio = mean / median
    np.testing.assert_allclose(res.maps.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(res.maps.signal_ratio, ratio, rtol=1e-5)
    assert res.brain_median_signal == pytest.approx(median)
    assert res.tsnr_median == pytest.approx(np.median(tsnr[inside]), rel=1e-6)
    assert res.n_volumes == 40
    np.testing.assert_array_equal(res.maps.dropout, (ratio < 0.5) & inside)

    rvm, pag = res.rois
    assert (rvm.name, pag.name) == ("RVM", "PAG")
    assert rvm.n_voxels == 27 and pag.n_voxels == 27
    assert rvm.dropout_fraction == pytest.approx(9 / 27)
    rvm_mask = np.zeros(SHAPE, bool)
    rvm_mask[8:11, 8:11, 5:8] = True
    assert rvm.tsnr_median == pytest.approx(np.median(tsnr[rvm_mask]), rel=1e-6)
    assert rvm.signal_ratio == pytest.approx(np.median(ratio[rvm_mask]), rel=1e-6)
    assert rvm.coverage == 1.0
    assert rvm.verdict == "fail"
    assert "33% of RVM voxels below half the brain median signal" in rvm.reason
    assert pag.verdict == "ok" and pag.dropout_fraction == 0
    # time series: mean over the ROI per volume
    np.testing.assert_allclose(res.roi_timeseries["PAG"], x[PAG_BOX].mean(axis=(0, 1, 2)))
    json.dumps(res.to_dict(timeseries=True), allow_nan=False)


def test_spm_implicit_mask_drop_matches_brute_force(study):
    res = run_qc(study["bold"], brain_mask=study["mask"], rois=[study["rvm"]])
    x = study["x"]
    g = np.array([x[..., t][x[..., t] > x[..., t].mean() / 8].mean() for t in range(40)])
    dropped = ~(x > 0.8 * g).all(-1) | (x.std(-1) == 0)
    np.testing.assert_allclose(res.spm_globals, g, rtol=1e-12)
    shown = brain() | res.maps.rois["RVM"]
    np.testing.assert_array_equal(res.maps.spm_implicit_drop, dropped & shown)
    rvm_mask = res.maps.rois["RVM"]
    assert res.rois[0].spm_drop_fraction == pytest.approx(dropped[rvm_mask].mean())
    assert res.brain_spm_drop_fraction == pytest.approx(dropped[brain()].mean())


def test_signal_just_below_spm_threshold_is_reported_apart_from_dropout(tmp_path):
    # 0.7 x the brain level: no dropout at 0.5, but SPM's implicit mask drops it
    x = make_run(30, dropout_scale=0.7, noise=5.0)
    bold = save(tmp_path / "b_bold.nii.gz", x)
    mask = save(tmp_path / "brain_mask.nii.gz", brain().astype(np.uint8))
    roi = save(tmp_path / "desc-RVM_mask.nii.gz", box_mask(DROPOUT_BOX).astype(np.uint8))
    r = run_qc(bold, brain_mask=mask, rois=[roi]).rois[0]
    assert r.dropout_fraction == 0
    assert r.spm_drop_fraction == 1.0
    assert r.verdict == "fail"
    assert "would be dropped by SPM's implicit mask" in r.reason


def test_computed_brain_mask_is_nilearns_epi_mask_of_the_mean(study):
    res = run_qc(study["bold"])
    import nibabel as nib

    img = nib.Nifti1Image(study["x"].mean(-1).astype(np.float32), affine())
    expected = np.asarray(compute_epi_mask(img).dataobj) > 0
    np.testing.assert_array_equal(res.maps.brain_mask, expected)
    assert res.brain_mask_source.startswith("computed")


def test_roi_on_a_finer_grid_is_resampled_explicitly(study, tmp_path):
    # PAG on a 2x finer grid covering the same world box
    fine_aff = affine().copy()
    fine_aff[:3, :3] /= 2
    fine_aff[:3, 3] -= np.array([2.5, 2.5, 3.0]) / 4
    fine = np.zeros(tuple(2 * n for n in SHAPE), np.uint8)
    fine[18:24, 20:26, 20:26] = 1  # the same voxels as PAG_BOX
    path = save(tmp_path / "space-fine_desc-PAG_mask.nii.gz", fine, fine_aff)
    res = run_qc(study["bold"], brain_mask=study["mask"], rois=[path])
    roi = res.rois[0]
    assert roi.name == "PAG"
    assert any("resampled to the EPI grid by nearest neighbour" in n for n in res.notes)
    # nearest neighbour at each EPI voxel centre (scipy, independently)
    inv = np.linalg.inv(fine_aff) @ affine()
    expected = ndimage.affine_transform(fine, inv[:3, :3], inv[:3, 3], SHAPE, order=0) > 0
    np.testing.assert_array_equal(res.maps.rois["PAG"], expected)
    assert roi.n_voxels == expected.sum() == 27
    assert roi.coverage == 1.0


def test_roi_outside_the_field_of_view_fails_without_crashing(study, tmp_path):
    far = affine().copy()
    far[:3, 3] += 500.0
    path = save(tmp_path / "desc-Far_mask.nii.gz", np.ones((3, 3, 3), np.uint8), far)
    # and an ROI on the grid but where the run has no signal (zero-padded slab)
    empty = np.zeros(SHAPE, np.uint8)
    empty[0:2, 0:2, 0:2] = 1
    path2 = save(tmp_path / "desc-Corner_mask.nii.gz", empty)
    res = run_qc(study["bold"], brain_mask=study["mask"], rois=[path, path2])
    far_roi, corner = res.rois
    assert far_roi.coverage == 0 and far_roi.n_voxels == 0 and far_roi.verdict == "fail"
    assert "outside the EPI field of view" in far_roi.reason
    assert corner.coverage == 0 and corner.verdict == "fail"
    assert corner.dropout_fraction == 1.0
    json.dumps(res.to_dict(), allow_nan=False)


def test_dseg_labels_with_tsv_give_named_rois(study, tmp_path):
    path = save_pag_rvm_dseg(tmp_path)
    res = run_qc(study["bold"], brain_mask=study["mask"], rois=[path])
    names = {r.name: r for r in res.rois}
    assert set(names) == {"PAG", "RVM"}
    assert names["RVM"].dropout_fraction == 1.0 and names["PAG"].verdict == "ok"


def test_csf_probability_and_pulsation_proxy(tmp_path):
    x = make_run(60, pulsation=30.0, seed=2)
    bold = save(tmp_path / "p_bold.nii.gz", x)
    mask = save(tmp_path / "brain_mask.nii.gz", brain().astype(np.uint8))
    csf = np.zeros(SHAPE, np.float32)
    csf[CSF_BOX] = 0.95
    csf[PAG_BOX] = 0.4  # partial volume with CSF
    csf_path = save(tmp_path / "label-CSF_probseg.nii.gz", csf)
    pag = save(tmp_path / "desc-PAG_mask.nii.gz", box_mask(PAG_BOX).astype(np.uint8))
    res = run_qc(bold, brain_mask=mask, csf=csf_path, rois=[pag])
    xf = x.astype(np.float64)
    c = xf[CSF_BOX].reshape(-1, 60).mean(0)
    np.testing.assert_allclose(res.csf_timeseries, c)
    pag_ts = xf[PAG_BOX].reshape(-1, 60)
    r = np.median([np.corrcoef(v, c)[0, 1] for v in pag_ts])
    roi = res.rois[0]
    assert roi.csf_correlation == pytest.approx(r, abs=1e-9)
    assert roi.csf_fraction == pytest.approx(0.4, abs=1e-6)
    std_ratio = np.median(pag_ts.std(1)) / np.median(xf[CSF_BOX].reshape(-1, 60).std(1))
    assert roi.csf_std_ratio == pytest.approx(std_ratio, rel=1e-9)
    assert roi.verdict == "warn"
    assert "pulsation" in roi.reason and "partial volume with CSF" in roi.reason


def test_csf_on_another_grid_is_resampled_and_said(study, tmp_path):
    coarse = affine().copy()
    coarse[:3, :3] *= 2
    csf = np.zeros((10, 11, 9), np.float32)
    csf[4:6, 6:8, 3:5] = 1.0
    csf[0, 0, 0] = 0.5  # a probability map, not binary
    path = save(tmp_path / "label-CSF_probseg.nii.gz", csf, coarse)
    res = run_qc(study["bold"], brain_mask=study["mask"], csf=path)
    assert any("CSF map" in n and "trilinear" in n for n in res.notes)
    assert res.maps.csf_probability.shape == SHAPE


def test_brain_mask_on_another_grid_is_resampled_and_said(study, tmp_path):
    shifted = affine().copy()
    shifted[:3, 3] += 2.5
    path = save(tmp_path / "other_mask.nii.gz", brain().astype(np.uint8), shifted)
    res = run_qc(study["bold"], brain_mask=path)
    assert any("brain mask other_mask.nii.gz lies on another grid" in n for n in res.notes)


def test_bad_inputs_name_the_file(study, tmp_path):
    vol = save(tmp_path / "mean_bold.nii.gz", np.ones(SHAPE, np.float32))
    with pytest.raises(MilnaInputError, match="mean_bold.nii.gz.*3D image"):
        run_qc(vol)
    short = save(tmp_path / "short_bold.nii.gz", make_run(8))
    with pytest.raises(MilnaInputError, match="short_bold.nii.gz.*only 8 volumes"):
        run_qc(short)
    empty = save(tmp_path / "empty_mask.nii.gz", np.zeros(SHAPE, np.uint8))
    with pytest.raises(MilnaInputError, match="empty_mask.nii.gz.*empty brain mask"):
        run_qc(study["bold"], brain_mask=empty)
    bad_csf = save(tmp_path / "csf.nii.gz", np.full(SHAPE, 3.0, np.float32))
    with pytest.raises(MilnaInputError, match="csf.nii.gz.*probability"):
        run_qc(study["bold"], brain_mask=study["mask"], csf=bad_csf)


def test_cancel_from_progress(study):
    with pytest.raises(Cancelled):
        run_qc(study["bold"], brain_mask=study["mask"], chunk_volumes=5,
               progress=lambda done, total: done >= 10)


def test_verdict_rules_and_words():
    ok = {"coverage": 1.0, "dropout_fraction": 0.0, "spm_drop_fraction": 0.0,
          "tsnr_median": 50.0, "csf_fraction": 0.1, "csf_correlation": 0.1}
    assert roi_verdict("PAG", ok)[0] == "ok"
    warn = dict(ok, coverage=THRESHOLDS["coverage"][0] - 0.01)
    v, reason = roi_verdict("PAG", warn)
    assert v == "warn" and "89% of PAG voxels inside the field of view" in reason
    fail = dict(ok, dropout_fraction=0.38)
    v, reason = roi_verdict("PAG", fail)
    assert (v, reason) == ("fail", "38% of PAG voxels below half the brain median signal")
    v, reason = roi_verdict("RVM", dict(ok, tsnr_median=9.0))
    assert v == "fail" and "median tSNR 9.0 in RVM (below 10)" in reason


@pytest.mark.slow
def test_sample_study_planted_ventral_dropout_flags_the_rvm_not_the_pag():
    try:
        from napari_milna.sample_data import ensure_sample_study
    except ImportError:
        pytest.skip("the sample study generator is not available")
    study = ensure_sample_study()
    res = run_qc(study.bold, brain_mask=study.brain_mask, csf=study.csf_probseg,
                 rois=[study.regions_dseg])
    rois = {r.name: r for r in res.rois}
    assert rois["PAG"].verdict == "ok"
    assert rois["RVM"].verdict in ("warn", "fail")
    # the planted dropout lowers the RVM's signal ratio below the PAG's
    assert rois["RVM"].signal_ratio < rois["PAG"].signal_ratio
    assert rois["RVM"].dropout_fraction > 0 or rois["RVM"].spm_drop_fraction > 0.1


def test_dseg_and_mask_rois_through_the_shared_roi_reader(study, tmp_path):
    dseg = save_pag_rvm_dseg(tmp_path)
    res = run_qc(study["bold"], brain_mask=study["mask"], rois=[dseg, study["rvm"]])
    assert [r.name for r in res.rois] == ["PAG", "RVM", "RVM"]
    assert res.rois[1].dropout_fraction == 1.0
    assert res.rois[2].dropout_fraction == pytest.approx(9 / 27)
