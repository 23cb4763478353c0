"""Preprocessing core on the sample study: motion spikes, RETROICOR phases and variance,
and the PAG pain t with and without RETROICOR (skipped when the sample module is absent)."""

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

sample_data = pytest.importorskip("napari_milna.sample_data")

from napari_milna.core.io.nifti import open_nifti  # noqa: E402
from napari_milna.core.preproc.motion import assess_motion, framewise_displacement, read_motion  # noqa: E402
from napari_milna.core.preproc.physio import detect_cardiac_peaks, read_bids_physio  # noqa: E402
from napari_milna.core.preproc.retroicor import compute_retroicor, retroicor_variance_map  # noqa: E402
from napari_milna.core.preproc.slice_timing import choose_slice_time  # noqa: E402


@pytest.fixture(scope="module")
def study():
    return sample_data.ensure_sample_study()


def test_fd_spikes_found_at_the_truth_volumes(study):
    truth = study.truth["motion"]
    for path, fmt in ((study.confounds, "fmriprep"), (study.spm_rp, "spm")):
        result = assess_motion(read_motion(path, fmt), threshold=0.5)
        assert np.flatnonzero(result.scrub).tolist() == truth["spike_volumes"]
        np.testing.assert_allclose(result.fd[truth["spike_volumes"]], truth["spike_fd_mm"],
                                   rtol=1e-6)
    theirs = pd.read_csv(study.confounds, sep="\t", na_values="n/a")["framewise_displacement"]
    ours = framewise_displacement(read_motion(study.confounds, "fmriprep"))
    np.testing.assert_allclose(ours[1:], theirs.to_numpy()[1:], atol=1e-6)


def test_peaks_and_phases_match_the_truth(study):
    truth = study.truth["physio"]
    rec = read_bids_physio(study.physio)
    peaks = detect_cardiac_peaks(rec)
    beats = np.asarray(truth["beat_times"])
    # every planted beat found at its exact sample (one more beat lies in the edge margin)
    nearest = np.array([np.min(np.abs(peaks.times - b)) for b in beats])
    assert np.max(nearest) < 1e-6 and peaks.flagged == []
    source = open_nifti(study.bold)
    k = truth["phase_reference_slice"]
    choice = choose_slice_time(source, slice_index=k)
    result = compute_retroicor(rec, source.n_volumes, source.tr, slice_time=choice.time,
                               peaks=peaks)
    dc = np.angle(np.exp(1j * (result.cardiac_phase - truth["cardiac_phase_at_volumes"])))
    dr = result.respiratory_phase - np.asarray(truth["respiratory_phase_at_volumes"])
    assert np.max(np.abs(dc)) < 1e-6
    assert np.max(np.abs(dr)) < 1e-5  # the truth is stored rounded
    # Same model size (the generator names and orders its columns its own way).
    assert len(result.columns) == len(truth["retroicor_columns"]) == 18


def test_retroicor_explains_variance_where_the_truth_puts_physio_noise(study):
    from scipy.stats import spearmanr

    source = open_nifti(study.bold)
    k = 21  # the slice through the PAG (z = -9 mm)
    choice = choose_slice_time(source, at=(0.5, -31, -9))
    assert choice.index == k
    result = compute_retroicor(read_bids_physio(study.physio), source.n_volumes, source.tr,
                               slice_time=choice.time)
    brain = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    mask = np.zeros_like(brain)
    mask[:, :, k] = brain[:, :, k]
    vmap = retroicor_variance_map(source.run(), result.regressors, mask=mask)
    r2 = vmap.partial_r2[mask]
    sd = np.asarray(nib.load(study.physio_sd_map).dataobj)[mask]
    assert spearmanr(r2, sd)[0] > 0.5
    assert np.mean(r2[sd >= np.quantile(sd, 0.9)]) > 2.5 * np.mean(r2[sd <= np.quantile(sd, 0.1)])


@pytest.mark.slow
def test_retroicor_raises_the_pag_pain_t(study, tmp_path):
    from napari_milna.core.preproc.pain_glm import pain_glm

    # Fit a box around the brainstem only (keeps the test short).
    source = open_nifti(study.bold)
    centres = source.grid.voxel_centres_mm()
    box = np.all(np.abs(centres - np.array([0.5, -31, -9])) <= [15, 15, 12], axis=-1)
    brain = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    mask = tmp_path / "box_mask.nii.gz"
    nib.save(nib.Nifti1Image((box & brain).astype(np.uint8), source.grid.affine), mask)
    out = tmp_path / "glm"
    out.mkdir()
    result = pain_glm(study.bold, study.events, out, physio=study.physio, at=(0.5, -31, -9),
                      motion=study.confounds, motion_format="fmriprep", mask=mask,
                      report_rois=("PAG",))
    with_r = {p.contrast: p.peak_t for p in result.peaks}
    without = {p.contrast: p.peak_t for p in result.peaks_without_retroicor}
    assert with_r["pain"] > 5.0 and without["pain"] < 3.5
    assert result.motion.n_scrubbed == 4
    assert result.fit.df == result.fit.n_scans_kept - result.fit.rank
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["roi_peaks"][0]["roi"] == "PAG"
