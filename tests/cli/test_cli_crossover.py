"""``milna crossover`` end to end: JSON against scipy and brute force, outputs, bad inputs."""

from __future__ import annotations

import itertools
import json

import nibabel as nib
import numpy as np
import pytest
from scipy import stats

from napari_milna.cli import main
from napari_milna.core.io.kinds import parse_spm_description
from tests.synth.crossover import AFFINE, SHAPE, make_maps, save_map, write_bids, write_table

KEYS = {"name", "n", "mean_difference", "t", "p", "dz", "p_wilcoxon", "p_perm", "p_holm"}


@pytest.fixture
def study(tmp_path):
    effect = np.zeros(SHAPE, np.float32)
    effect[1:3, 1:3, 1:3] = 1.5
    maps, periods = make_maps(n=8, seed=7, effect=effect)
    table = write_table(tmp_path / "study", maps, periods)
    labels = np.zeros(SHAPE, np.uint8)
    labels[1:3, 1:3, 1:3] = 1  # the planted effect
    labels[3:6, 2:5, 0:3] = 2  # nothing planted
    dseg = tmp_path / "rois_dseg.nii.gz"
    nib.save(nib.Nifti1Image(labels, AFFINE), str(dseg))
    (tmp_path / "rois_dseg.tsv").write_text("index\tname\n1\tPAG\n2\tV1\n")
    return table, dseg, maps, periods, labels


def _run(capsys, *argv):
    code = main(["crossover", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _roi_values(maps, mask):
    subjects = sorted(maps)
    drug = np.array([np.mean((maps[s]["drug"]["pain"].astype(float)
                              - maps[s]["drug"]["baseline"])[mask]) for s in subjects])
    placebo = np.array([np.mean((maps[s]["placebo"]["pain"].astype(float)
                                 - maps[s]["placebo"]["baseline"])[mask]) for s in subjects])
    return drug, placebo


def _brute_force_p(d):
    n = d.size
    t_obs = abs(stats.ttest_1samp(d, 0).statistic)
    flips = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    t = np.abs(stats.ttest_1samp(flips * d, 0, axis=1).statistic)
    return np.mean(t >= t_obs - 1e-9)


def test_json_against_scipy_and_brute_force(study, tmp_path, capsys):
    table, dseg, maps, _, labels = study
    out_dir = tmp_path / "out"
    code, out, err = _run(capsys, table, "--out", out_dir, "--roi", dseg, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["n_subjects"] == 8 and result["df"] == 7
    group = nib.load(result["group_map"])
    assert parse_spm_description(group.header["descrip"].item().decode()) == ("T", 7.0)
    assert len(list(out_dir.glob("sub-*_contrast-interaction_stat-effect_statmap.nii.gz"))) == 8
    rois = {r["name"]: r for r in result["rois"]}
    assert set(rois) == {"PAG", "V1"} and all(KEYS <= set(r) for r in rois.values())
    ps = {}
    for name, label in (("PAG", 1), ("V1", 2)):
        drug, placebo = _roi_values(maps, labels == label)
        d = drug - placebo
        r = rois[name]
        ref = stats.ttest_rel(drug, placebo)
        assert r["n"] == 8
        assert r["mean_difference"] == pytest.approx(d.mean(), rel=1e-5)
        assert r["t"] == pytest.approx(ref.statistic, rel=1e-5)
        assert r["p"] == pytest.approx(ref.pvalue, rel=1e-4)
        assert r["dz"] == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-5)
        assert r["p_wilcoxon"] == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-6)
        assert r["p_perm"] == pytest.approx(_brute_force_p(d), abs=1e-12)
        ps[name] = ref.pvalue
    low, high = sorted(ps, key=ps.get)
    assert rois[low]["p_holm"] == pytest.approx(2 * ps[low], rel=1e-4)
    assert rois[high]["p_holm"] == pytest.approx(max(2 * ps[low], ps[high]), rel=1e-4)
    assert rois["PAG"]["p"] < 0.05 and rois["PAG"]["mean_difference"] > 0
    assert (out_dir / "crossover_rois.tsv").exists()


def test_period_covariate_and_human_output(study, tmp_path, capsys):
    table, dseg, maps, periods, labels = study
    code, out, err = _run(capsys, table, "--out", tmp_path / "p", "--roi", dseg, "--period",
                          "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["df"] == 6 and "periodadjusted" in result["group_map"]
    img = nib.load(result["period_map"])
    assert parse_spm_description(img.header["descrip"].item().decode()) == ("T", 6.0)
    drug, placebo = _roi_values(maps, labels == 1)
    s = np.where(np.array([periods[k] for k in sorted(maps)]) == 2, 1.0, -1.0)
    fit = stats.linregress(s, drug - placebo)
    period = result["rois"][0]["period"]
    assert period["treatment_t"] == pytest.approx(fit.intercept / fit.intercept_stderr, rel=1e-4)
    assert period["period_p"] == pytest.approx(fit.pvalue, rel=1e-4)
    code, out, err = _run(capsys, table, "--out", tmp_path / "h")
    assert code == 0 and "n_subjects: 8" in out and "group_map:" in out


def test_no_overwrite_without_asking(study, tmp_path, capsys):
    table = study[0]
    out_dir = tmp_path / "out"
    assert _run(capsys, table, "--out", out_dir)[0] == 0
    code, out, err = _run(capsys, table, "--out", out_dir, "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "already exists" in err and "overwrit" in err
    assert _run(capsys, table, "--out", out_dir, "--overwrite")[0] == 0


def test_bids_folder_and_ready_contrast(tmp_path, capsys):
    maps, periods = make_maps(n=6, conditions=("painVsBaseline",), seed=2)
    deriv = write_bids(tmp_path / "bids", maps, periods)
    code, out, err = _run(capsys, deriv, "--out", tmp_path / "o", "--period", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["contrast"]["kind"] == "difference" and result["df"] == 4
    assert "differencePainVsBaseline" in result["group_map"]
    code, out, err = _run(capsys, deriv, "--out", tmp_path / "o2", "--contrast", "interaction")
    assert code == 2 and "baseline" in err and err.count("\n") == 1


def test_bad_inputs_exit_2_with_one_sentence(study, tmp_path, capsys):
    table, dseg, *_ = study
    code, _, err = _run(capsys, tmp_path / "missing.tsv", "--out", tmp_path / "o")
    assert code == 2 and "missing.tsv" in err and "does not exist" in err
    lines = table.read_text().splitlines()
    broken = tmp_path / "study" / "broken.tsv"
    broken.write_text("\n".join(x for x in lines if not x.startswith("sub-05\tplacebo")) + "\n")
    code, _, err = _run(capsys, broken, "--out", tmp_path / "o")
    assert code == 2 and "broken.tsv" in err and "sub-05" in err and "placebo" in err
    assert err.count("\n") == 1
    other = tmp_path / "other_grid_mask.nii.gz"
    save_map(other, np.ones((4, 4, 4)), np.diag([3.0, 3.0, 3.0, 1.0]))
    code, _, err = _run(capsys, table, "--out", tmp_path / "o", "--roi", other)
    assert code == 2 and "other_grid_mask" in err and "grid" in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    code, _, err = _run(capsys, table, "--out", tmp_path / "o", "--contrast", "difference")
    assert code == 2 and "several conditions" in err


def test_sample_study_through_the_cli(tmp_path, capsys):
    from napari_milna.sample_data import ensure_sample_study

    sample = ensure_sample_study()
    code, out, err = _run(capsys, sample.crossover_table, "--out", tmp_path / "s", "--roi",
                          sample.regions_dseg, "--json")
    assert code == 0, err
    result = json.loads(out)
    rois = {r["name"]: r for r in result["rois"]}
    assert result["n_subjects"] == 15 and result["df"] == 14
    assert rois["PAG"]["dz"] > 0 and rois["PAG"]["p"] < 0.05
    assert rois["V1"]["p"] > 0.05
    ours = np.asarray(nib.load(result["group_map"]).dataobj)
    theirs = np.asarray(nib.load(sample.group_tmap).dataobj)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
