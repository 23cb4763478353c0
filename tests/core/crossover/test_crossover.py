"""Crossover statistics against scipy, nilearn, brute force and hand computations.

The last tests run the whole analysis on the sample study and check that it finds the
planted drug x pain interaction (truth.json) and nothing in the control region.
"""

from __future__ import annotations

import itertools

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from napari_milna.core.crossover.analysis import (
    Roi,
    build_subject_maps,
    holm,
    paired_statistics,
    period_model,
    roi_statistics,
    rois_from_files,
    run_crossover,
    sign_flip_p,
    write_crossover,
)
from napari_milna.core.crossover.study_table import (
    choose_contrast,
    read_study_table,
    validate_study,
)
from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.kinds import ImageKind, classify, parse_spm_description
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.svc.permutation import sign_flip_test
from tests.synth.crossover import AFFINE, SHAPE, make_maps, write_table


@pytest.fixture
def synthetic(tmp_path):
    maps, periods = make_maps(n=7, conditions=("pain", "baseline", "sensory"), seed=3)
    table = read_study_table(write_table(tmp_path / "study", maps, periods))
    return table, maps, periods


def _interaction(maps, control="baseline"):
    return np.stack([
        (m["drug"]["pain"].astype(float) - m["drug"][control])
        - (m["placebo"]["pain"].astype(float) - m["placebo"][control])
        for _, m in sorted(maps.items())
    ])


def test_subject_views_are_the_double_subtraction(synthetic):
    table, maps, _ = synthetic
    for control in ("baseline", "sensory"):
        study = validate_study(table, choose_contrast(table, control=control))
        built = build_subject_maps(study)
        np.testing.assert_allclose(built.views["interaction"], _interaction(maps, control),
                                   atol=1e-5)
        m = maps["sub-02"]
        np.testing.assert_allclose(built.views["drug"][1], m["drug"]["pain"] - m["drug"][control],
                                   atol=1e-6)
        np.testing.assert_allclose(built.views["difference"][1],
                                   m["drug"]["pain"] - m["placebo"]["pain"], atol=1e-6)
        assert not built.mask[0, 0, 0] and built.mask.sum() == np.prod(SHAPE) - 1
    ready = validate_study(table, choose_contrast(table, "difference", "sensory"))
    built = build_subject_maps(ready)
    assert set(built.views) == {"drug", "placebo", "difference"} and built.main == "difference"
    expected = np.stack([m["drug"]["sensory"].astype(float) - m["placebo"]["sensory"]
                         for _, m in sorted(maps.items())])
    np.testing.assert_allclose(built.contrasts, expected, atol=1e-6)


def test_group_t_is_scipy_paired_t(synthetic):
    table, maps, _ = synthetic
    result = run_crossover(validate_study(table, choose_contrast(table)))
    group = result.group["interaction"]
    assert group.df == 6 and result.df == 6
    subjects = sorted(maps)
    drug = np.stack([maps[s]["drug"]["pain"].astype(float) - maps[s]["drug"]["baseline"]
                     for s in subjects])
    placebo = np.stack([maps[s]["placebo"]["pain"].astype(float)
                        - maps[s]["placebo"]["baseline"] for s in subjects])
    expected = stats.ttest_rel(drug, placebo, axis=0).statistic
    inside = result.maps.mask
    np.testing.assert_allclose(group.t[inside], expected[inside], rtol=1e-4)
    assert group.t[0, 0, 0] == 0 and group.mean[0, 0, 0] == 0
    np.testing.assert_allclose(group.mean[inside], (drug - placebo).mean(0)[inside], atol=1e-6)
    one = stats.ttest_1samp(result.maps.views["placebo"].astype(float), 0.0, axis=0).statistic
    np.testing.assert_allclose(result.group["placebo"].t[inside], one[inside], rtol=1e-4)


def test_period_model_matches_nilearn_second_level(tmp_path):
    from nilearn.glm.second_level import SecondLevelModel

    rng = np.random.default_rng(5)
    n = 9
    drug_period = [1, 2, 1, 2, 2, 1, 1, 2, 1]
    s = np.where(np.asarray(drug_period) == 2, 1.0, -1.0)
    stack = rng.normal(size=(n,) + SHAPE) + 0.8 + 0.5 * s[:, None, None, None]
    mask = np.ones(SHAPE, bool)
    model = period_model(stack, mask, drug_period)
    assert model.df == n - 2
    images = [nib.Nifti1Image(v.astype(np.float32), AFFINE) for v in stack]
    design = pd.DataFrame({"treatment": np.ones(n), "period": s})
    slm = SecondLevelModel(mask_img=nib.Nifti1Image(mask.astype(np.uint8), AFFINE))
    slm.fit(images, design_matrix=design)
    for column, ours in (("treatment", model.treatment_t), ("period", model.period_t)):
        theirs = slm.compute_contrast(column, output_type="stat").get_fdata()
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    theirs = slm.compute_contrast("period", output_type="effect_size").get_fdata()
    np.testing.assert_allclose(model.period_effect, theirs, rtol=1e-4, atol=1e-6)
    # one voxel by hand: intercept = mean of the two sequence means (Grizzle)
    y = stack[:, 2, 2, 2]
    by_seq = [y[s == -1].mean(), y[s == 1].mean()]
    assert model.treatment_effect[2, 2, 2] == pytest.approx(np.mean(by_seq), rel=1e-5)
    assert model.period_effect[2, 2, 2] == pytest.approx((by_seq[1] - by_seq[0]) / 2, rel=1e-5)
    with pytest.raises(MilnaInputError, match="rank deficient"):
        period_model(stack, mask, [1] * n)


def test_paired_statistics_against_scipy_and_hand():
    rng = np.random.default_rng(11)
    placebo = rng.normal(size=12)
    drug = placebo + 0.6 + rng.normal(scale=0.8, size=12)
    r = paired_statistics("ROI", drug, placebo)
    ref = stats.ttest_rel(drug, placebo)
    assert r.t == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-10)
    one = stats.ttest_1samp(drug - placebo, 0.0)
    assert r.t == pytest.approx(one.statistic, rel=1e-10)
    d = drug - placebo
    assert r.dz == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
    assert r.mean_difference == pytest.approx(d.mean())
    lo, hi = stats.t.interval(0.95, 11, loc=d.mean(), scale=stats.sem(d))
    assert r.ci95 == pytest.approx((lo, hi), rel=1e-10)
    assert r.p_wilcoxon == pytest.approx(stats.wilcoxon(drug, placebo).pvalue, rel=1e-12)
    assert r.n_perm == 2**12
    out = r.to_dict()
    assert set(out) >= {"name", "n", "mean_difference", "t", "p", "dz", "p_wilcoxon", "p_perm",
                        "p_holm"}


def _brute_force_sign_flip(d):
    d = np.asarray(d, float)
    n = d.size
    t_obs = abs(d.mean() / (d.std(ddof=1) / np.sqrt(n)))
    hits = 0
    for signs in itertools.product((1.0, -1.0), repeat=n):
        x = d * np.array(signs)
        with np.errstate(divide="ignore"):  # all signs alike: sd 0, |t| infinite
            t = abs(x.mean() / (x.std(ddof=1) / np.sqrt(n)))
        hits += t >= t_obs - 1e-9
    return hits / 2**n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sign_flip_p_is_exact_enumeration(seed):
    rng = np.random.default_rng(seed)
    d = rng.normal(loc=0.7, size=9)
    p, n_perm = sign_flip_p(d)
    assert n_perm == 2**9
    assert p == pytest.approx(_brute_force_sign_flip(d), abs=1e-12)
    # the permutation engine on the same column, and scipy's sign-flip permutation test on |t|
    engine = sign_flip_test(d[:, None], two_sided=True)
    assert p == pytest.approx(engine.p_uncorrected[0], abs=1e-12)
    scipy_p = stats.permutation_test(
        (d,), lambda x, axis: np.abs(stats.ttest_1samp(x, 0.0, axis=axis).statistic),
        permutation_type="samples", alternative="greater", n_resamples=np.inf,
        vectorized=True,
    ).pvalue
    assert p == pytest.approx(scipy_p, abs=1e-12)


def test_sign_flip_p_with_ties_and_small_n():
    d = np.array([1.0, 1.0, 1.0, 1.0, 1.0, -1.0])
    assert sign_flip_p(d)[0] == pytest.approx(_brute_force_sign_flip(d), abs=1e-12)
    assert sign_flip_p(np.array([1.0, 2.0, 3.0]))[0] is None


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, max(0.06, 0.04 x 1) = 0.06
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.4]) == [pytest.approx(0.8), None, pytest.approx(0.8)]
    assert holm([0.9, 0.8]) == [pytest.approx(1.0), pytest.approx(1.0)]


def test_roi_statistics_by_hand(synthetic, tmp_path):
    table, maps, periods = synthetic
    study = validate_study(table, choose_contrast(table))
    built = build_subject_maps(study)
    roi_a = np.zeros(SHAPE, bool)
    roi_a[0:3, 0:2, 0] = True  # includes voxel (0, 0, 0): no data, left out of the mean
    roi_b = np.zeros(SHAPE, bool)
    roi_b[4:6, 3:5, 2:4] = True
    drug_period = [periods[s] for s in study.subjects]
    out = roi_statistics(built, [Roi("A", roi_a), Roi("B", roi_b)], drug_period)
    subjects = sorted(maps)
    voxels = roi_a.copy()
    voxels[0, 0, 0] = False
    drug = [np.mean((maps[s]["drug"]["pain"].astype(float) - maps[s]["drug"]["baseline"])[voxels])
            for s in subjects]
    placebo = [np.mean((maps[s]["placebo"]["pain"].astype(float)
                        - maps[s]["placebo"]["baseline"])[voxels]) for s in subjects]
    assert out[0].n_voxels == 5 and out[1].n_voxels == 8
    np.testing.assert_allclose(out[0].drug, drug, rtol=1e-5)
    np.testing.assert_allclose(out[0].placebo, placebo, rtol=1e-5)
    assert out[0].t == pytest.approx(stats.ttest_rel(drug, placebo).statistic, rel=1e-4)
    ps = [out[0].p, out[1].p]
    expected = [min(1.0, 2 * min(ps)), min(1.0, max(2 * min(ps), max(ps)))]
    got = [r.p_holm for r in out]
    order = np.argsort(ps)
    assert got[order[0]] == pytest.approx(expected[0]) and got[order[1]] == pytest.approx(
        expected[1])
    s = np.where(np.asarray(drug_period) == 2, 1.0, -1.0)
    fit = stats.linregress(s, np.asarray(drug) - placebo)
    assert out[0].period["period_effect"] == pytest.approx(fit.slope, rel=1e-4)
    assert out[0].period["treatment_t"] == pytest.approx(fit.intercept / fit.intercept_stderr,
                                                         rel=1e-4)
    assert out[0].period["period_p"] == pytest.approx(fit.pvalue, rel=1e-4)
    empty = np.zeros(SHAPE, bool)
    empty[0, 0, 0] = True
    with pytest.raises(MilnaInputError, match="no voxel with data"):
        roi_statistics(built, [Roi("outside", empty, "outside.nii.gz")])


def test_write_outputs_with_spm_df_and_no_overwrite(synthetic, tmp_path):
    table, maps, _ = synthetic
    study = validate_study(table, choose_contrast(table))
    roi = np.zeros(SHAPE, np.uint8)
    roi[2:4, 2:4, 1:3] = 1
    roi_path = tmp_path / "space-X_desc-box_mask.nii.gz"
    nib.save(nib.Nifti1Image(roi, AFFINE), str(roi_path))
    rois = rois_from_files([roi_path], study.grid)
    assert rois[0].name == "box"
    result = run_crossover(study, rois, period=True)
    out = write_crossover(result, tmp_path / "out")
    group = open_nifti(out["group_t"])
    assert parse_spm_description(group.description) == ("T", 6.0)
    info = classify(group)
    assert (info.kind, info.stat_type, info.df) == (ImageKind.STAT, "T", 6.0)
    np.testing.assert_allclose(group.volume(), result.group["interaction"].t)
    np.testing.assert_allclose(group.image.affine, AFFINE)
    assert int(group.header["sform_code"]) == 4
    adjusted = open_nifti(out["group_t_period_adjusted"])
    assert parse_spm_description(adjusted.description) == ("T", 5.0)
    assert parse_spm_description(open_nifti(out["period_t"]).description) == ("T", 5.0)
    sub = open_nifti(out["subject:sub-03"]).volume()
    np.testing.assert_allclose(sub, _interaction(maps)[2], atol=1e-5)
    rows = pd.read_csv(out["roi_table"], sep="\t")
    assert rows.loc[0, "name"] == "box" and rows.loc[0, "t"] == pytest.approx(result.rois[0].t,
                                                                              rel=1e-5)
    per_subject = pd.read_csv(out["subject_table"], sep="\t")
    assert list(per_subject["subject"]) == study.subjects
    # nothing is replaced without overwrite, and nothing new appears either
    stamp = {p: p.stat().st_mtime_ns for p in out.values()}
    out["group_mean"].unlink()
    with pytest.raises(MilnaInputError, match="already exists"):
        write_crossover(result, tmp_path / "out")
    assert not out["group_mean"].exists()
    assert all(p.stat().st_mtime_ns == stamp[p] for p in out.values() if p.exists())
    write_crossover(result, tmp_path / "out", overwrite=True)
    assert out["group_mean"].exists()


# ------------------------------------------------------------------ the sample study
@pytest.fixture(scope="module")
def sample():
    from napari_milna.sample_data import ensure_sample_study

    return ensure_sample_study()


@pytest.fixture(scope="module")
def sample_result(sample):
    table = read_study_table(sample.crossover_table)
    study = validate_study(table, choose_contrast(table))
    rois = rois_from_files([sample.regions_dseg], study.grid)
    return run_crossover(study, rois)


def _dz_standard_error(dz, n):
    """Large-sample standard error of Cohen's dz (e.g. Becker 1988): sqrt(1/n + dz^2 / 2n)."""
    return np.sqrt(1.0 / n + dz * dz / (2.0 * n))


def test_sample_group_t_equals_the_generators(sample, sample_result):
    theirs = np.asarray(nib.load(sample.group_tmap).dataobj, dtype=np.float64)
    assert sample_result.df == 14
    np.testing.assert_allclose(sample_result.group["interaction"].t, theirs, atol=1e-4)


def test_sample_finds_the_planted_effects(sample, sample_result):
    effects = sample.truth["crossover"]["effects"]
    by_name = {r.name: r for r in sample_result.rois}
    assert set(by_name) == set(effects)
    for name, truth in effects.items():
        r = by_name[name]
        assert r.n == 15 and r.n_voxels == truth["roi_n_voxels"]
        # the generator's own ROI-mean dz of the same data
        assert r.dz == pytest.approx(truth["realised_dz_roi_mean"], abs=1e-4)
        expected = truth["expected_dz_roi_mean"]
        # within sampling error of the planted ROI-mean effect size (N = 15)
        assert abs(r.dz - expected) < 2.5 * _dz_standard_error(expected, 15), name
        amplitude = truth["expected_interaction_roi_mean"]
        if amplitude != 0:
            assert np.sign(r.mean_difference) == np.sign(amplitude), name
            assert abs(r.mean_difference - amplitude) < 2.5 * truth["interaction_sd_roi_mean"] \
                / np.sqrt(15)
    pag = by_name["PAG"]
    assert pag.dz > 0 and pag.p < 0.05 and pag.p_perm < 0.05 and pag.p_holm < 0.05
    assert abs(pag.dz - 1.0) < 0.6  # the planted peak-voxel dz
    for name in ("pINS_L", "pINS_R", "THAL_L", "THAL_R"):
        assert by_name[name].dz < 0 and by_name[name].mean_difference < 0
    for name in ("pINS_L", "pINS_R", "THAL_L"):
        assert by_name[name].p_holm < 0.05
    v1 = by_name["V1"]
    assert v1.p > 0.05 and v1.p_perm > 0.05 and v1.p_wilcoxon > 0.05 and v1.p_holm > 0.05
