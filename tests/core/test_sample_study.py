"""The deterministic sample study: checked against computations made here, not by the generator.

The study is generated once per test session into the session's temporary folder
(shared with tests/test_cli_sample.py through ``ensure_sample_study``), or into
``$MILNA_SAMPLE_DIR`` when the test session sets it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from napari_milna.sample_data import (
    SAMPLE_VERSION,
    SampleStudy,
    default_sample_dir,
    ensure_sample_study,
    generate_sample_study,
    is_complete,
)
from napari_milna.sample_data import generate as generate_mod
from napari_milna.sample_data import study as study_mod
from nilearn.glm.first_level import make_first_level_design_matrix
from scipy import stats
from scipy.signal import find_peaks

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.kinds import parse_spm_description

# The documented grid (README.md / the task): 2.5 x 2.5 x 3 mm, x -75..75, y -110..75, z -72..84.
SHAPE = (61, 75, 53)
AFFINE = np.array(
    [[2.5, 0, 0, -75.0], [0, 2.5, 0, -110.0], [0, 0, 3.0, -72.0], [0, 0, 0, 1.0]]
)


def session_study_root(tmp_path_factory) -> Path:
    """$MILNA_SAMPLE_DIR when a session sets it (one study for all tests), else a fresh folder."""
    env = os.environ.get("MILNA_SAMPLE_DIR")
    return Path(env) if env else tmp_path_factory.getbasetemp() / "milna-sample-study"


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> SampleStudy:
    return ensure_sample_study(session_study_root(tmp_path_factory))


@pytest.fixture(scope="module")
def bold(study) -> np.ndarray:
    return np.asarray(nib.load(study.bold).dataobj, dtype=np.float32)


@pytest.fixture(scope="module")
def labels(study) -> np.ndarray:
    return np.asarray(nib.load(study.regions_dseg).dataobj)


def world(shape=SHAPE, affine=AFFINE) -> np.ndarray:
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1)
    return ijk @ affine[:3, :3].T + affine[:3, 3]


def sphere_mask(centre, radius) -> np.ndarray:
    return np.linalg.norm(world() - np.asarray(centre), axis=-1) <= radius


def region(study, name) -> dict:
    return next(r for r in study.truth["regions"] if r["name"] == name)


def label_of(study, name) -> int:
    return region(study, name)["label"]


# --- grid, headers, anatomy -------------------------------------------------------------


def test_every_image_is_on_the_documented_mni_grid(study):
    images = [study.anat_t1w, study.gm_probseg, study.wm_probseg, study.csf_probseg,
              study.brain_mask, study.bold, study.group_tmap, study.group_con, study.group_mask,
              study.regions_dseg, study.dropout_map, study.physio_sd_map]
    for path in images:
        img = nib.load(path)
        assert img.shape[:3] == SHAPE, path
        np.testing.assert_allclose(img.affine, AFFINE, atol=1e-6)
        sform, scode = img.header.get_sform(coded=True)
        qform, qcode = img.header.get_qform(coded=True)
        assert (int(scode), int(qcode)) == (4, 4), path
        np.testing.assert_allclose(qform, AFFINE, atol=1e-4)
        assert img.header.get_xyzt_units() == ("mm", "sec")
    assert study.truth["grid"]["shape"] == list(SHAPE)
    np.testing.assert_allclose(study.truth["grid"]["affine"], AFFINE)
    # The field of view holds the whole brain mask with room to spare, brainstem included.
    mask = np.asarray(nib.load(study.brain_mask).dataobj)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    xyz = world()[mask > 0]
    assert xyz[:, 2].min() <= -65 and xyz[:, 2].max() >= 75
    assert xyz[:, 1].min() <= -100 and xyz[:, 1].max() >= 65


def test_run_header_and_sidecar(study):
    img = nib.load(study.bold)
    assert img.shape == (*SHAPE, 180) and img.get_data_dtype() == np.int16
    assert float(img.header.get_zooms()[3]) == 2.0
    side = json.loads(study.bold_json.read_text())
    assert side["RepetitionTime"] == 2.0
    assert side["SliceEncodingDirection"] == "k"
    st = np.asarray(side["SliceTiming"])
    assert st.size == SHAPE[2] and st.min() == 0.0 and st.max() < 2.0
    # Interleaved: even slices first, then odd, equally spaced.
    expected_order = list(range(0, 53, 2)) + list(range(1, 53, 2))
    assert np.argsort(st, kind="stable").tolist() == expected_order
    np.testing.assert_allclose(np.diff(np.sort(st)), 2.0 / 53, atol=2e-6)
    # The NIfTI slice fields say the same.
    np.testing.assert_allclose(img.header.get_slice_times(), st, atol=1e-5)
    assert study.truth["run"]["n_volumes"] == 180 and study.truth["run"]["tr"] == 2.0


def test_tissue_probabilities(study):
    gm, wm, csf = (np.asarray(nib.load(p).dataobj, dtype=float)
                   for p in (study.gm_probseg, study.wm_probseg, study.csf_probseg))
    mask = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    np.testing.assert_allclose((gm + wm + csf)[mask], 1.0, atol=1e-5)
    assert np.all(csf[~mask] == 0)
    ijk = lambda xyz: tuple(np.rint(np.linalg.solve(AFFINE, [*xyz, 1])[:3]).astype(int))  # noqa: E731
    assert csf[ijk((0, -44, -30))] > 0.8  # fourth ventricle
    assert csf[ijk((0, -32, -9))] > 0.25  # aqueduct (partial volume at 2.5 mm)
    assert wm[ijk((-28, -10, 30))] > 0.8  # corona radiata


def test_events_table(study):
    ev = pd.read_csv(study.events, sep="\t")
    assert list(ev.columns) == ["onset", "duration", "trial_type"]
    assert ev.onset.is_monotonic_increasing
    np.testing.assert_allclose(ev.onset[ev.trial_type == "pain"], np.arange(6) * 60.0)
    np.testing.assert_allclose(ev.onset[ev.trial_type == "sensory"], np.arange(6) * 60.0 + 30)
    assert set(ev.duration) == {15.0}
    assert study.truth["run"]["block_onsets_s"]["pain"] == list(np.arange(6) * 60.0)


def test_planted_regions_lie_where_the_truth_says(study, labels):
    """The label image against each region's geometry, recomputed here."""
    xyz = world()
    for r in study.truth["regions"]:
        voxels = xyz[labels == r["label"]]
        assert len(voxels) == r["n_voxels_label"] > 0
        if r["shape"] == "ellipsoid":
            d = (voxels - r["centre_mm"]) / np.asarray(r["radii_mm"])
            # A voxel more than half inside has its centre within half a voxel of the surface.
            assert np.all(np.linalg.norm(d, axis=1) <= 1.0 + 2.4 / min(r["radii_mm"]))
        else:
            a, b = (np.asarray(p) for p in r["axis_mm"])
            u = (b - a) / np.linalg.norm(b - a)
            rel = voxels - a
            radial = np.linalg.norm(rel - np.outer(rel @ u, u), axis=1)
            assert np.all(radial <= r["outer_radius_mm"] + 2.4)
        centroid = voxels.mean(axis=0)
        assert np.linalg.norm(centroid - r["centre_mm"]) < 2.5, r["name"]
    pag = xyz[labels == label_of(study, "PAG")]
    assert pag[:, 1].min() >= -37.5 and pag[:, 1].max() <= -25 and pag[:, 2].min() >= -12
    np.testing.assert_allclose(region(study, "PAG")["centre_mm"], (0.5, -31, -9))
    np.testing.assert_allclose(region(study, "RVM")["centre_mm"], (2, -36, -42))


# --- the run -----------------------------------------------------------------------------


def _pain_sensory_betas(study, ts, slice_time):
    """Percent-change betas of pain and sensory (nilearn Glover design, spikes scrubbed)."""
    events = pd.read_csv(study.events, sep="\t")
    times = np.arange(180) * 2.0 + slice_time
    dm = make_first_level_design_matrix(times, events, hrf_model="glover",
                                        drift_model="cosine", high_pass=1 / 128)
    keep = np.setdiff1d(np.arange(180), study.truth["motion"]["spike_volumes"])
    y = 100 * (ts / ts.mean(axis=0) - 1)
    beta, *_ = np.linalg.lstsq(dm.to_numpy()[keep], y[keep], rcond=None)
    cols = list(dm.columns)
    return beta[cols.index("pain")], beta[cols.index("sensory")]


def _coverage(r, ijk, n=7):
    """Fraction of each voxel (rows of ``ijk``) inside region ``r``, by n^3 sub-samples."""
    off = (np.arange(n) + 0.5) / n - 0.5
    sub = np.stack(np.meshgrid(off, off, off, indexing="ij"), -1).reshape(-1, 3)
    pts = (ijk[:, None, :] + sub) @ AFFINE[:3, :3].T + AFFINE[:3, 3]
    if r["shape"] == "ellipsoid":
        inside = (((pts - r["centre_mm"]) / np.asarray(r["radii_mm"])) ** 2).sum(-1) <= 1
    else:
        a, b = (np.asarray(p) for p in r["axis_mm"])
        length = np.linalg.norm(b - a)
        u = (b - a) / length
        along = (pts - a) @ u
        radial = np.linalg.norm(pts - a - along[..., None] * u, axis=-1)
        inside = ((along >= 0) & (along <= length) & (radial <= r["outer_radius_mm"])
                  & (radial >= r["inner_radius_mm"]))
    return inside.mean(axis=1)


def test_pain_and_sensory_responses_where_planted(study, bold, labels):
    st = np.asarray(json.loads(study.bold_json.read_text())["SliceTiming"])
    mask = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    null = mask & (labels == 0)
    pain_null, _ = _pain_sensory_betas(study, bold[null].T.astype(np.float64), 1.0)
    for name in ("pINS_L", "pINS_R", "THAL_L", "THAL_R", "ACC", "PAG", "V1"):
        r = region(study, name)
        roi = labels == r["label"]
        ts = bold[roi].T.astype(np.float64).mean(axis=1)
        slice_time = np.median(st[np.argwhere(roi)[:, 2]])
        pain, sensory = _pain_sensory_betas(study, ts, slice_time)
        # Amplitudes are at full coverage: scale by the partial volume of the ROI voxels.
        cover = _coverage(r, np.argwhere(roi)).mean()
        assert cover == pytest.approx(r["coverage_mean_label_voxels"], abs=0.03)
        assert pain == pytest.approx(r["pain_psc"] * cover, rel=0.15, abs=0.05), name
        assert sensory == pytest.approx(r["sensory_psc"] * cover, rel=0.15, abs=0.05), name
        if r["pain_psc"] > 0:
            assert pain > np.percentile(pain_null, 99.9), name
    assert study.truth["run"]["block_peak_gain"] == pytest.approx(1.56, abs=0.01)


def test_dropout_matches_truth(study, bold):
    """Temporal mean / (documented tissue intensities x bias field) = retained fraction."""
    gm, wm, csf = (np.asarray(nib.load(p).dataobj, dtype=float)
                   for p in (study.gm_probseg, study.wm_probseg, study.csf_probseg))
    r2 = ((world() - (0.0, -20.0, 15.0)) ** 2).sum(axis=-1) / 80.0**2
    expected = (1000 * csf + 780 * gm + 710 * wm) * (1 + 0.2 * r2)
    mask = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    ratio = np.where(mask, bold.mean(axis=-1) / np.maximum(expected, 1), 0)
    dropout = np.asarray(nib.load(study.dropout_map).dataobj, dtype=float)
    strong = mask & (dropout < 0.5) & (expected > 300)
    assert strong.sum() > 20
    np.testing.assert_allclose(np.median(ratio[strong] / dropout[strong]), 1.0, atol=0.03)
    intact = mask & (dropout > 0.999) & (expected > 300)
    assert np.median(ratio[intact]) == pytest.approx(1.0, abs=0.02)
    rvm = region(study, "RVM")
    assert 0.3 < rvm["dropout_factor_min"] < 0.6 < rvm["dropout_factor_mean"] < 0.9


def _power_fd(params):
    d = np.abs(np.diff(params, axis=0))
    return np.r_[0.0, d[:, :3].sum(axis=1) + 50.0 * d[:, 3:].sum(axis=1)]


def test_motion_spikes_from_rp_file(study):
    rp = np.loadtxt(study.spm_rp)
    assert rp.shape == (180, 6)
    fd = _power_fd(rp)
    spikes = np.flatnonzero(fd > 0.5).tolist()
    assert spikes == study.truth["motion"]["spike_volumes"]
    assert 3 <= len(spikes) <= 4
    np.testing.assert_allclose(fd[spikes], study.truth["motion"]["spike_fd_mm"], rtol=1e-9)
    conf = pd.read_csv(study.confounds, sep="\t", na_values="n/a", keep_default_na=False)
    for col in ("global_signal", "csf", "white_matter", "trans_x", "trans_y", "trans_z",
                "rot_x", "rot_y", "rot_z", "framewise_displacement"):
        assert col in conf.columns
    assert np.isnan(conf.framewise_displacement[0])
    assert open(study.confounds).read().splitlines()[1].split("\t")[-1] == "n/a"
    np.testing.assert_allclose(conf.framewise_displacement[1:], fd[1:], atol=1e-8)
    np.testing.assert_allclose(conf[["trans_x", "trans_y", "trans_z", "rot_x", "rot_y",
                                     "rot_z"]].to_numpy(), rp, atol=1e-12)
    assert np.abs(rp[:, 3:]).max() < 0.05  # radians, not degrees


def test_spike_volumes_carry_intensity_artifacts(study, bold):
    mask = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    ts = bold[mask].astype(np.float64)
    dvars = np.r_[0.0, np.sqrt((np.diff(ts, axis=1) ** 2).mean(axis=0))]
    spikes = study.truth["motion"]["spike_volumes"]
    for v in spikes:
        assert dvars[v] > 1.5 * np.median(dvars[1:])
    # The eight largest jumps: into and out of each spike volume.
    top = set(np.argsort(dvars)[-2 * len(spikes):].tolist())
    assert top == set(spikes) | {v + 1 for v in spikes}
    conf = pd.read_csv(study.confounds, sep="\t", na_values="n/a", keep_default_na=False)
    np.testing.assert_allclose(conf.global_signal, ts.mean(axis=0), rtol=1e-6)


# --- physio ----------------------------------------------------------------------------


def _read_physio(study):
    side = json.loads(study.physio_json.read_text())
    with gzip.open(study.physio, "rt") as fh:
        first = fh.readline()
    assert not any(c.isalpha() for c in first)  # no header row
    data = np.loadtxt(study.physio)
    t = side["StartTime"] + np.arange(len(data)) / side["SamplingFrequency"]
    return side, data, t


def test_physio_files_and_triggers(study):
    side, data, t = _read_physio(study)
    assert side["SamplingFrequency"] == 100.0 and side["StartTime"] == -10.0
    assert side["Columns"] == ["cardiac", "respiratory", "trigger"]
    assert data.shape[1] == 3 and t[-1] >= 2.0 * 180
    trig = np.flatnonzero(data[:, 2] == 1)
    assert len(trig) == study.truth["run"]["n_volumes"] == 180
    np.testing.assert_allclose(t[trig], np.arange(180) * 2.0, atol=1e-9)


def test_beats_and_breathing_recoverable(study):
    _, data, t = _read_physio(study)
    truth = study.truth["physio"]
    peaks, _ = find_peaks(data[:, 0], distance=40, prominence=0.2)
    np.testing.assert_allclose(t[peaks], truth["beat_times"], atol=1e-6)
    bpm = 60.0 / np.diff(t[peaks])
    assert 59 < bpm.min() and bpm.max() < 77 and 62 < bpm.mean() < 72
    belt = data[:, 1] - data[:, 1].mean()
    spec = np.abs(np.fft.rfft(belt))
    freq = np.fft.rfftfreq(belt.size, 0.01)
    assert 0.2 < freq[np.argmax(spec)] < 0.3


def test_retroicor_phases_in_truth(study):
    """Glover phases recomputed here from the saved traces at each volume onset (slice 0)."""
    _, data, t = _read_physio(study)
    truth = study.truth["physio"]
    beats = np.asarray(truth["beat_times"])
    onsets = np.arange(180) * 2.0
    k = np.searchsorted(beats, onsets, side="right") - 1
    phi_c = 2 * np.pi * (onsets - beats[k]) / (beats[k + 1] - beats[k])
    np.testing.assert_allclose(phi_c, truth["cardiac_phase_at_volumes"], atol=1e-5)
    phi_r = _glover_resp_phase(data[:, 1])[np.rint((onsets + 10.0) * 100).astype(int)]
    err = np.angle(np.exp(1j * (phi_r - np.asarray(truth["respiratory_phase_at_volumes"]))))
    assert np.mean(np.abs(err) < 0.05) > 0.95


def _glover_resp_phase(belt):
    norm = (belt - belt.min()) / (belt.max() - belt.min())
    hist, _ = np.histogram(norm, bins=100, range=(0, 1))
    cum = np.r_[0.0, np.cumsum(hist)] / hist.sum()
    # Derivative sign from a 0.5 s moving average (differs from the generator's filter).
    smooth = np.convolve(belt, np.ones(51) / 51, mode="same")
    return np.pi * cum[np.rint(norm * 100).astype(int)] * np.sign(np.gradient(smooth))


def test_retroicor_raises_pag_pain_t(study, bold, labels):
    """A GLM (nilearn design) on the PAG voxels, with and without 18 RETROICOR regressors."""
    _, data, t = _read_physio(study)
    beats = np.asarray(study.truth["physio"]["beat_times"])
    phase_r_all = _glover_resp_phase(data[:, 1])
    st = np.asarray(json.loads(study.bold_json.read_text())["SliceTiming"])
    events = pd.read_csv(study.events, sep="\t")
    pag = np.argwhere(labels == label_of(study, "PAG"))
    t_plain, t_retro = [], []
    for k in np.unique(pag[:, 2]):
        times = np.arange(180) * 2.0 + st[k]
        dm = make_first_level_design_matrix(times, events, hrf_model="glover",
                                            drift_model="cosine", high_pass=1 / 128)
        x = dm.to_numpy()
        i = np.searchsorted(beats, times, side="right") - 1
        pc = 2 * np.pi * (times - beats[i]) / (beats[i + 1] - beats[i])
        pr = phase_r_all[np.rint((times + 10.0) * 100).astype(int)]
        retro = [f(m * p) for m, p in [(1, pc), (2, pc), (3, pc), (1, pr), (2, pr), (3, pr),
                                       (4, pr)] for f in (np.cos, np.sin)]
        retro += [f(pc + s * pr) for s in (1, -1) for f in (np.cos, np.sin)]
        y = np.stack([bold[a, b, k] for a, b, _ in pag[pag[:, 2] == k]], axis=1)
        col = list(dm.columns).index("pain")
        for design, out in ((x, t_plain), (np.column_stack([x, *retro]), t_retro)):
            beta, *_ = np.linalg.lstsq(design, y, rcond=None)
            resid = y - design @ beta
            dof = len(times) - np.linalg.matrix_rank(design)
            var = np.linalg.inv(design.T @ design)[col, col]
            out.extend(beta[col] / np.sqrt((resid**2).sum(axis=0) / dof * var))
    t_plain, t_retro = np.asarray(t_plain), np.asarray(t_retro)
    assert np.mean(t_plain) > 2.0  # detectable without correction
    assert np.mean(t_retro) > 1.5 * np.mean(t_plain)  # RETROICOR matters in the PAG
    assert np.all(t_retro > t_plain - 0.5)


# --- crossover and group map ---------------------------------------------------------------


@pytest.fixture(scope="module")
def interaction(study):
    table = pd.read_csv(study.crossover_table, sep="\t")
    folder = study.crossover_table.parent
    maps = {}
    for row in table.itertuples():
        maps[row.subject, row.treatment, row.condition] = np.asarray(
            nib.load(folder / row.path).dataobj, dtype=np.float64)
    subjects = sorted(table.subject.unique())
    return np.stack([
        (maps[s, "drug", "pain"] - maps[s, "drug", "baseline"])
        - (maps[s, "placebo", "pain"] - maps[s, "placebo", "baseline"])
        for s in subjects
    ])


def test_crossover_table_and_participants(study):
    table = pd.read_csv(study.crossover_table, sep="\t")
    assert list(table.columns) == ["subject", "treatment", "condition", "path", "period"]
    assert len(table) == 15 * 2 * 2
    assert set(table.treatment) == {"drug", "placebo"}
    assert set(table.condition) == {"pain", "baseline"}
    part = pd.read_csv(study.participants, sep="\t")
    assert part.participant_id.tolist() == [f"sub-{i:02d}" for i in range(1, 16)]
    assert sorted(part.sequence.value_counts().tolist()) == [7, 8]
    first = dict(zip(part.participant_id, part.sequence.str.split("-").str[0]))
    for row in table.itertuples():
        assert not Path(row.path).is_absolute()
        path = study.crossover_table.parent / row.path
        assert path.exists()
        assert row.period == (1 if first[row.subject] == row.treatment else 2)
        assert f"ses-{row.treatment}" in row.path and f"contrast-{row.condition}" in row.path
        assert row.subject in path.name
    img = nib.load(study.crossover_table.parent / table.path[0])
    mask = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    data = np.asarray(img.dataobj)
    assert img.get_data_dtype() == np.float32 and np.all(data[~mask] == 0)


def test_crossover_effects_have_the_planted_signs(study, interaction, labels):
    effects = study.truth["crossover"]["effects"]

    def roi_t(name):
        roi = labels == label_of(study, name)
        values = interaction[:, roi].mean(axis=1)
        return stats.ttest_1samp(values, 0.0), values

    (pag, pag_values) = roi_t("PAG")
    assert pag.statistic > 2.5 and pag.pvalue < 0.05
    dz = pag_values.mean() / pag_values.std(ddof=1)
    assert dz == pytest.approx(effects["PAG"]["realised_dz_roi_mean"], rel=1e-6)
    assert 0.7 < dz < 2.0  # planted dz 1 at the peak voxel, about 1.27 for the ROI mean
    for name in ("pINS_L", "pINS_R", "THAL_L"):
        res, _ = roi_t(name)
        assert res.statistic < -2.0, name
    assert roi_t("THAL_R")[0].statistic < 0
    control, control_values = roi_t("V1")
    assert abs(control.statistic) < 2.0
    assert abs(control_values.mean()) < 0.3
    # The truth's expected values against the planted sizes it documents.
    assert effects["PAG"]["expected_dz_peak_voxel"] == 1.0
    assert effects["pINS_L"]["expected_dz_peak_voxel"] == -0.8
    assert effects["V1"]["expected_interaction_roi_mean"] == 0.0


def test_crossover_noise_smoothness(study, interaction):
    """FWHM from lag-1 correlations of the residuals (Gaussian autocorrelation), per axis."""
    mask = np.asarray(nib.load(study.brain_mask).dataobj) > 0
    resid = interaction - interaction.mean(axis=0)
    fwhm = study.truth["crossover"]["fwhm_mm"]
    assert fwhm == [6.0, 6.0, 6.0]
    for axis, v in enumerate((2.5, 2.5, 3.0)):
        a = [slice(None)] * 3
        b = [slice(None)] * 3
        a[axis], b[axis] = slice(0, -1), slice(1, None)
        both = mask[tuple(a)] & mask[tuple(b)]
        x = resid[(slice(None), *a)][:, both]
        y = resid[(slice(None), *b)][:, both]
        rho = (x * y).sum() / np.sqrt((x**2).sum() * (y**2).sum())
        estimate = v * np.sqrt(-2 * np.log(2) / np.log(rho))
        assert estimate == pytest.approx(fwhm[axis], rel=0.05)
    # Noise sd of one interaction voxel: four maps of sd 0.5 -> 1.0.
    assert resid[:, mask].std(ddof=0) * np.sqrt(15 / 14) == pytest.approx(1.0, rel=0.05)


def test_group_map_is_the_paired_t(study, interaction):
    img = nib.load(study.group_tmap)
    assert parse_spm_description(img.header["descrip"].item().decode()) == ("T", 14.0)
    assert img.get_data_dtype() == np.float32
    tmap = np.asarray(img.dataobj, dtype=np.float64)
    mask = np.asarray(nib.load(study.group_mask).dataobj) > 0
    expected = stats.ttest_1samp(interaction[:, mask], 0.0, axis=0).statistic
    np.testing.assert_allclose(tmap[mask], expected, rtol=1e-5, atol=1e-5)
    assert np.all(tmap[~mask] == 0)
    con = np.asarray(nib.load(study.group_con).dataobj, dtype=np.float64)
    np.testing.assert_allclose(con[mask], interaction[:, mask].mean(axis=0), atol=1e-5)
    assert study.truth["crossover"]["df"] == 14


# --- caching, atomicity, determinism ---------------------------------------------------------


def test_second_ensure_reuses_the_study(study, monkeypatch):
    marker = study.root / ".sample-study-complete.json"
    before = marker.stat().st_mtime_ns

    def boom(folder):
        raise AssertionError("regenerated")

    monkeypatch.setattr(generate_mod, "write_study", boom)
    again = ensure_sample_study(study.root)
    assert again.root == study.root and again.bold == study.bold
    assert marker.stat().st_mtime_ns == before
    assert is_complete(study.root)
    assert json.loads(marker.read_text())["sample_version"] == SAMPLE_VERSION


def test_default_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("MILNA_SAMPLE_DIR", str(tmp_path / "cache"))
    assert default_sample_dir() == tmp_path / "cache"
    monkeypatch.delenv("MILNA_SAMPLE_DIR")
    assert default_sample_dir().name == f"sample-study-v{SAMPLE_VERSION}"


def _fake_writer(calls, delay=0.3):
    lock = threading.Lock()

    def write(folder):
        with lock:
            calls.append(folder)
        threading.Event().wait(delay)
        (Path(folder) / "truth.json").write_text("{}")
        return {}

    return write


def _ensure_in_threads(root, n=2):
    results, errors = [], []

    def work():
        try:
            results.append(ensure_sample_study(root))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results, errors


def test_concurrent_callers_share_one_generation(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(generate_mod, "write_study", _fake_writer(calls))
    root = tmp_path / "cache"
    results, errors = _ensure_in_threads(root)
    assert not errors and len(results) == 2 and len(calls) == 1
    assert is_complete(root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_rename_wins_without_a_lock(tmp_path, monkeypatch):
    import contextlib

    calls = []
    monkeypatch.setattr(generate_mod, "write_study", _fake_writer(calls))
    monkeypatch.setattr(study_mod, "_lock", lambda root: contextlib.nullcontext())
    root = tmp_path / "cache"
    results, errors = _ensure_in_threads(root)
    assert not errors and len(results) == 2 and len(calls) == 2
    assert is_complete(root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # the loser's copy is gone


def test_force_and_old_versions_regenerate(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(generate_mod, "write_study", _fake_writer(calls, delay=0))
    root = tmp_path / "cache"
    ensure_sample_study(root)
    ensure_sample_study(root)
    assert len(calls) == 1
    ensure_sample_study(root, force=True)
    assert len(calls) == 2 and is_complete(root)
    marker = root / ".sample-study-complete.json"
    marker.write_text(json.dumps({"sample_version": SAMPLE_VERSION - 1}))
    assert not is_complete(root)
    ensure_sample_study(root)
    assert len(calls) == 3 and is_complete(root)
    with pytest.raises(MilnaInputError, match="already holds a sample study"):
        generate_sample_study(root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    def crash(folder):
        (Path(folder) / "half.nii.gz").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(generate_mod, "write_study", crash)
    with pytest.raises(KeyboardInterrupt):
        generate_sample_study(tmp_path / "study")
    assert list(tmp_path.iterdir()) == []


def test_foreign_folders_are_never_replaced(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(MilnaInputError, match="not a sample study"):
        ensure_sample_study(folder)
    with pytest.raises(MilnaInputError, match="not a sample study"):
        generate_sample_study(folder, overwrite=True)
    assert (folder / "notes.txt").read_text() == "keep me"


def _digests(root: Path) -> dict:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".sample-study-complete.json"
    }


@pytest.mark.slow
def test_two_generations_are_identical(study, tmp_path):
    second = generate_sample_study(tmp_path / "again")
    first_files, second_files = _digests(study.root), _digests(second.root)
    assert len(first_files) > 70
    assert first_files == second_files
