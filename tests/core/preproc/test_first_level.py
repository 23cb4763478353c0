"""First-level GLM through nilearn, checked against a direct numpy OLS."""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import gamma

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.kinds import parse_spm_description
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.preproc.first_level import (
    build_confounds,
    fit_first_level,
    read_events,
    roi_peak,
    spm_t_description,
    write_first_level,
)

TR, N = 2.0, 100


def _events_file(tmp_path):
    rows = ["onset\tduration\ttrial_type"]
    for k, onset in enumerate(range(10, 190, 30)):
        rows.append(f"{onset}\t15\t{'pain' if k % 2 == 0 else 'sensory'}")
    rows.append("25\t5\trest")
    path = tmp_path / "sub-01_task-pain_events.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _bold(tmp_path, events, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(N) * TR
    pain = np.zeros(N)
    for onset, dur, kind in events.itertuples(index=False):
        if kind == "pain":
            pain[(t >= onset) & (t < onset + dur)] = 1.0
    data = 800 + rng.normal(0, 3, (6, 5, 4, N))
    data[:3] += 6 * np.convolve(pain, gamma.pdf(np.arange(0, 30, TR), 6), "full")[:N]
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = TR
    path = tmp_path / "sub-01_task-pain_bold.nii.gz"
    nib.save(img, path)
    return path, data


def test_read_events_drops_rest_and_checks_the_run(tmp_path):
    path = _events_file(tmp_path)
    events = read_events(path, N, TR)
    assert list(events.trial_type) == ["pain", "sensory"] * 3
    with pytest.raises(MilnaInputError, match=r"events\.tsv: line 7: the sensory event from "
                                              r"160 s to 175 s lies outside the run"):
        read_events(path, 80, TR)
    path.write_text("onset\tduration\ttrial_type\n10\tabc\tpain\n")
    with pytest.raises(MilnaInputError, match="line 2 holds a non-numeric onset or duration"):
        read_events(path, N, TR)
    path.write_text("onset\ttrial_type\n10\tpain\n")
    with pytest.raises(MilnaInputError, match="has no duration column"):
        read_events(path, N, TR)


def test_design_column_matches_spm_canonical_hrf(tmp_path):
    events = read_events(_events_file(tmp_path), N, TR)
    bold, _ = _bold(tmp_path, events)
    fit = fit_first_level(bold, events, smoothing_fwhm=None, noise_model="ols", mask_img=False)
    # SPM's canonical HRF (spm_hrf: gamma(6) - gamma(16)/6), boxcar at 0.1 s resolution.
    dt = 0.1
    u = np.arange(0, 32, dt)
    hrf = gamma.pdf(u, 6) - gamma.pdf(u, 16) / 6
    fine = np.arange(0, N * TR, dt)
    box = np.zeros_like(fine)
    for onset, dur, kind in events.itertuples(index=False):
        if kind == "pain":
            box[(fine >= onset) & (fine < onset + dur)] = 1.0
    reg = np.convolve(box, hrf)[: fine.size][::int(round(TR / dt))]
    assert np.corrcoef(reg, fit.design["pain"])[0, 1] > 0.999


def test_t_map_matches_numpy_ols_with_confounds_and_scrubbing(tmp_path):
    events = read_events(_events_file(tmp_path), N, TR)
    bold, data = _bold(tmp_path, events, seed=1)
    rng = np.random.default_rng(5)
    confounds = build_confounds(N, pd.DataFrame(rng.normal(size=(N, 3)), columns=["a", "b", "c"]),
                                ("csf", rng.normal(size=N)))
    kept = np.setdiff1d(np.arange(N), [7, 8, 60])
    fit = fit_first_level(bold, events, confounds=confounds, sample_mask=kept,
                          smoothing_fwhm=None, noise_model="ols", mask_img=False)
    x = fit.design.to_numpy()
    assert x.shape[0] == kept.size and "csf" in fit.design.columns
    rank = np.linalg.matrix_rank(x)
    assert fit.df == kept.size - rank == fit.n_scans_kept - fit.rank
    pinv = np.linalg.pinv(x)
    cols = list(fit.design.columns)
    for name, weights in (("pain", {"pain": 1}), ("painMinusSensory", {"pain": 1, "sensory": -1})):
        c = np.zeros(len(cols))
        for k, w in weights.items():
            c[cols.index(k)] = w
        t_map = fit.contrast(name).t
        for ijk in [(0, 0, 0), (1, 2, 3), (4, 4, 1), (5, 0, 2)]:
            y = data.astype(np.float32)[ijk][kept].astype(float)
            beta = pinv @ y
            res = y - x @ beta
            s2 = res @ res / (kept.size - rank)
            t = c @ beta / np.sqrt(s2 * c @ pinv @ pinv.T @ c)
            assert t_map[ijk] == pytest.approx(t, rel=1e-4, abs=1e-4)
    pain_t = fit.contrast("pain").t
    assert np.mean(pain_t[:3]) > 2 > np.mean(np.abs(pain_t[3:]))


def test_written_maps_carry_spm_df(tmp_path):
    events = read_events(_events_file(tmp_path), N, TR)
    bold, _ = _bold(tmp_path, events)
    fit = fit_first_level(bold, events, smoothing_fwhm=5.0, mask_img=False)
    out = tmp_path / "glm"
    out.mkdir()
    paths = write_first_level(fit, open_nifti(bold), out, "sub-01_task-pain")
    assert [p.name for p in paths] == [
        "sub-01_task-pain_contrast-pain_stat-t_statmap.nii.gz",
        "sub-01_task-pain_contrast-pain_stat-effect_statmap.nii.gz",
        "sub-01_task-pain_contrast-painMinusSensory_stat-t_statmap.nii.gz",
        "sub-01_task-pain_contrast-painMinusSensory_stat-effect_statmap.nii.gz",
        "sub-01_task-pain_desc-glm_mask.nii.gz",
    ]
    src = open_nifti(paths[0])
    assert src.description == spm_t_description(fit.df, "pain > baseline")
    assert parse_spm_description(src.description) == ("T", fit.df)
    np.testing.assert_allclose(src.volume(), fit.contrast("pain").t, equal_nan=True)
    with pytest.raises(MilnaInputError, match="already exists"):
        write_first_level(fit, open_nifti(bold), out, "sub-01_task-pain")


def test_roi_peak():
    from napari_milna.core.io.geometry import Grid

    t = np.zeros((4, 4, 4))
    t[1, 2, 3] = 5.0
    t[0, 0, 0] = 9.0
    roi = np.zeros((4, 4, 4), bool)
    roi[1:3, 1:3, 2:4] = True
    peak = roi_peak(t, roi, Grid((4, 4, 4), np.diag([2.0, 2.0, 2.0, 1.0])), "PAG", "pain")
    assert peak.peak_t == 5.0 and peak.peak_mm == [2.0, 4.0, 6.0] and peak.n_voxels == 8
