"""``milna report``: every table of the HTML page equals the CLI's JSON on the same inputs.

The study is a slice of the sample study (its SPM second level, the pain run with its
masks, confounds, SPM realignment parameters and physiology, the 15-subject crossover,
the 2.5 mm T1w), linked into a temporary folder. The report's ROIs are the literature
seeds; the CLI is given the same seeds written by ``milna roi seed``. Tables are read
back from the page with a parser of the tests' own (``report_tables``), each number from
its cell's exact value.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from napari_milna.sample_data import ensure_sample_study

from napari_milna.core.session_file import (
    LayerRecord,
    SessionChoices,
    SessionFile,
    SmoothnessRecord,
    StatDisplay,
    write_session,
)
from tests.cli.cli_run import run_error
from tests.cli.report_tables import key_values, read_report

PAG_AT = ("0.5", "-31", "-9")


def _link(study_root: Path, rel: str, dest_root: Path) -> Path:
    target = dest_root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(study_root / rel, target)
    return target


@pytest.fixture(scope="module")
def sample():
    return ensure_sample_study()


def _root(sample) -> Path:
    return Path(sample.truth_json).parent


@pytest.fixture(scope="module")
def mini(sample, tmp_path_factory) -> Path:
    """The parts of the sample study a report reads, linked into a fresh folder."""
    root = _root(sample)
    dest = tmp_path_factory.mktemp("study")
    names = ["bold", "bold_json", "brain_mask", "confounds", "csf_probseg", "anat_t1w",
             "spm_rp", "physio", "physio_json", "participants", "crossover_table"]
    for name in names:
        _link(root, os.path.relpath(getattr(sample, name), root), dest)
    for path in sorted(Path(sample.group_tmap).parent.iterdir()):
        _link(root, os.path.relpath(path, root), dest)
    firstlevel = Path(sample.crossover_table).parent
    for path in sorted(firstlevel.rglob("*_statmap.nii.gz")):
        _link(root, os.path.relpath(path, root), dest)
    return dest


@pytest.fixture(scope="module")
def seeds(mini, tmp_path_factory) -> dict:
    """PAG and RVM written by ``milna roi seed`` on the group T map's grid."""
    folder = tmp_path_factory.mktemp("seeds")
    stat = next(mini.rglob("spmT_0001.nii"))
    out = {}
    for region in ("PAG", "RVM"):
        path = folder / f"desc-{region}_mask.nii.gz"
        assert _cli(["roi", "seed", "--region", region, "--ref", stat, "--out", path])
        out[region] = path
    return out


def _cli(argv):
    """``milna ARGV --json`` in this process (no capsys in module fixtures)."""
    import contextlib
    import io

    from napari_milna.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main([str(a) for a in argv] + ["--json"])
    assert status == 0
    return json.loads(buffer.getvalue())


@pytest.fixture(scope="module")
def made(mini, tmp_path_factory):
    """``milna report MINI --out report.html --json``: the JSON and the page's tables."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    summary = _cli(["report", mini, "--out", out])
    page = out.read_text(encoding="utf-8")
    return summary, read_report(page), page


def _close(a, b):
    assert a == b, (a, b)


def test_the_report_finds_every_part_of_the_study(made, mini):
    summary, reader, _ = made
    sections = summary["sections"]
    assert [(s["contrast"].split(" (")[0], s["roi"]) for s in sections["svc"]] == [
        ("drug x pain interaction", "PAG"), ("drug x pain interaction", "RVM")]
    assert len(sections["qc"]) == 1 and len(sections["crossover"]) == 1
    assert sorted(m["format"] for m in sections["motion"]) == ["fmriprep", "spm"]
    assert len(sections["physio"]) == 1
    assert summary["notes"] == []
    assert Path(summary["report"]).is_file()


def test_svc_tables_equal_milna_svc(made, seeds):
    summary, reader, _ = made
    for i, entry in enumerate(summary["sections"]["svc"]):
        stat = entry["result"]["files"]["stat"]
        cli = _cli(["svc", stat, seeds[entry["roi"]]])
        mine = entry["result"]
        for key in cli:
            if key != "files":
                assert mine[key] == cli[key], key
        # SPM's table: set level on the first row, cluster level on each cluster's first
        rows = reader.tables[f"svc-spm:{i}"]
        _close(rows[0]["set_p"], cli["set_level"]["p"])
        _close(rows[0]["set_c"], cli["set_level"]["c"])
        clusters = {c["index"]: c for c in cli["clusters"]}
        listed = [(c["index"], j, m) for c in cli["clusters"] for j, m in
                  enumerate(c["maxima"])]
        if not listed:
            assert len(rows) == 1 and rows[0]["cluster"] is None
        assert len(rows) == max(len(listed), 1)
        for row, (index, j, maximum) in zip(rows, listed):
            _close(row["cluster"], index)
            for key, ref in (("peak_value", "value"), ("peak_z", "z"), ("peak_p_fwe", "p_fwe"),
                             ("peak_q_fdr", "q_fdr"), ("peak_p_uncorrected", "p_uncorrected")):
                _close(row[key], maximum[ref])
            _close([row["x_mm"], row["y_mm"], row["z_mm"]], maximum["xyz_mm"])
            if j == 0:
                c = clusters[index]
                for key, ref in (("cluster_p_fwe", "p_fwe"), ("cluster_q_fdr", "q_fdr"),
                                 ("cluster_k", "k"), ("cluster_k_resels", "k_resels"),
                                 ("cluster_p_uncorrected", "p_uncorrected")):
                    _close(row[key], c[ref])
            else:
                assert row["cluster_p_fwe"] is None and row["cluster_k"] is None
        peak = reader.tables[f"svc-peak:{i}"][0]
        for key in ("value", "z", "p_uncorrected", "p_fwe_rft", "p_fwe_bonferroni", "p_fwe",
                    "q_fdr", "cluster"):
            _close(peak[key], cli["peak"][key])
        _close([peak["x_mm"], peak["y_mm"], peak["z_mm"]], cli["peak"]["xyz_mm"])
        search = key_values(reader.tables[f"svc-search:{i}"])
        _close([search[f"resels_r{d}"] for d in range(4)], cli["resels"])
        _close([search[f"fwhm_mm_{a}"] for a in "ijk"], cli["fwhm_mm"])
        for key in ("n_voxels", "n_roi_voxels", "df", "n_voxels_fwe"):
            _close(search[key], cli[key])
        for key in ("rft", "bonferroni", "used"):
            _close(search[f"threshold_fwe_{key}"], cli["threshold_fwe"][key])
        _close(search["height_threshold"], cli["height_threshold"]["value"])
        _close(search["height_p"], cli["height_threshold"]["p"])
        for key in ("expected_clusters", "expected_voxels_per_cluster", "resels_per_voxel",
                    "extent_voxels"):
            _close(search[key], cli["cluster_level"][key])
        assert search["smoothness_source"] == cli["smoothness_source"] == "SPM.mat xVol.FWHM"
        # the summary's row of this entry
        row = reader.tables["svc-summary"][i]
        for key in ("value", "z", "p_fwe", "q_fdr"):
            _close(row[key], cli["peak"][key])


def test_qc_tables_equal_milna_qc(made, seeds):
    summary, reader, _ = made
    for i, run in enumerate(summary["sections"]["qc"]):
        cli = _cli(["qc", run["file"], "--roi", seeds["PAG"], seeds["RVM"]])
        row = reader.tables[f"qc-run:{i}"][0]
        for key in ("n_volumes", "tr", "tsnr_median", "brain_median_signal", "brain_voxels",
                    "brain_dropout_fraction", "brain_spm_drop_fraction", "verdict"):
            _close(row[key], cli[key])
        rows = reader.tables[f"qc-rois:{i}"]
        assert [r["name"] for r in rows] == [r["name"] for r in cli["rois"]] == ["PAG", "RVM"]
        for row, ref in zip(rows, cli["rois"]):
            for key in ("n_voxels", "coverage", "dropout_fraction", "spm_drop_fraction",
                        "tsnr_median", "signal_ratio", "csf_fraction", "csf_correlation",
                        "csf_std_ratio", "verdict", "reason"):
                _close(row[key], ref[key])


def test_crossover_table_equals_milna_crossover(made, seeds, mini, tmp_path):
    summary, reader, _ = made
    entry = summary["sections"]["crossover"][0]
    cli = _cli(["crossover", entry["table"], "--roi", seeds["PAG"], seeds["RVM"],
                "--out", tmp_path / "maps"])
    rows = reader.tables["crossover:0"]
    assert [r["name"] for r in rows] == [r["name"] for r in cli["rois"]]
    for row, ref in zip(rows, cli["rois"]):
        for key in ("n", "n_voxels", "drug_mean", "placebo_mean", "mean_difference",
                    "sd_difference", "t", "df", "p", "dz", "p_wilcoxon", "p_perm", "n_perm",
                    "p_holm"):
            _close(row[key], ref[key])
        _close([row["ci_low"], row["ci_high"]], ref["ci95"])
    # 15 subjects: the exact sign-flip test enumerates all 2^15 flips
    assert all(r["n_perm"] == 2 ** 15 for r in rows)
    assert entry["rois"] == cli["rois"] and entry["df"] == cli["df"]


def test_motion_and_physiology_equal_their_commands(made, tmp_path):
    summary, reader, _ = made
    rows = reader.tables["motion"]
    for row, motion in zip(rows, summary["sections"]["motion"]):
        cli = _cli(["motion", motion["file"], "--format", motion["format"]])
        for key in ("n_volumes", "mean_fd", "max_fd", "threshold", "n_scrubbed"):
            _close(row[key], cli[key])
        assert row["scrubbed_volumes"] == ", ".join(map(str, cli["scrubbed_volumes"]))
    physio = summary["sections"]["physio"][0]
    cli = _cli(["retroicor", physio["physio"], "--bold", physio["bold"], "--at", *PAG_AT,
                "--out", tmp_path / "regressors.tsv"])
    values = key_values(reader.tables["physio:0"])
    for key in ("n_peaks", "heart_rate_bpm", "n_flagged_beats", "tr", "n_volumes",
                "slice_time", "slice_index"):
        _close(values[key], cli[key])
    _close(values["n_regressors"], len(cli["columns"]))


def test_the_page_is_self_contained(made):
    summary, reader, page = made
    assert len(reader.images) == summary["n_figures"] >= 6
    for src in reader.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith("#") for link in reader.links)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    methods = " ".join(summary["methods"])
    for words in ("napari-milna", "Satpute", "CANlab", "FWHM 6 x 6 x 6 mm", "SPM.mat xVol.FWHM",
                  "14 degrees of freedom", "p < 0.001", "2^15 = 32768 flips", "0.5 mm",
                  "Fourier orders 3 cardiac, 4 respiratory and 1 interaction"):
        assert words in methods, words


def _session_study(sample, folder: Path, smoothness, analysis_mask=True) -> Path:
    """A session over a copy of the SPM second level, with the PAG seed as its ROI."""
    spm = folder / "derivatives" / "secondlevel" / "drug_x_pain"
    shutil.copytree(Path(sample.group_tmap).parent, spm)
    roi = folder / "session_desc-PAG_dseg.nii.gz"
    _cli(["roi", "seed", "--region", "PAG", "--ref", spm / "spmT_0001.nii", "--out", roi])
    layers = [
        LayerRecord("group T", "image", "analysis", spm / "spmT_0001.nii",
                    statistic=StatDisplay("T", 14.0, 3.79, "T", 7.0)),
        LayerRecord("mask", "labels", "analysis", spm / "mask.nii"),
        LayerRecord("ROIs", "labels", "roi", roi, reference=spm / "spmT_0001.nii",
                    roi_names={1: "PAG"}),
    ]
    choices = SessionChoices(stat_map="group T", roi_layer="ROIs", roi_label=1, df=14.0,
                             masks={"brain": None, "csf": None,
                                    "analysis": "mask" if analysis_mask else None},
                             smoothness=smoothness)
    session = SessionFile(layers, choices, analysis_folder=spm)
    return write_session(session, folder / "study.milna-session.json"), spm, roi


def test_a_session_report_uses_the_session_s_map_roi_and_smoothness(sample, tmp_path):
    typed = SmoothnessRecord((8.0, 8.0, 8.0), "typed")
    path, spm, roi = _session_study(sample, tmp_path / "study", typed)
    out = tmp_path / "session.html"
    summary = _cli(["report", path, "--out", out])
    assert summary["mode"] == "session"
    (entry,) = summary["sections"]["svc"]
    assert entry["roi"] == "PAG"
    cli = _cli(["svc", spm / "spmT_0001.nii", roi, "--label", "1", "--fwhm", "8",
                "--mask", spm / "mask.nii"])
    mine = entry["result"]
    for key in ("n_voxels", "resels", "fwhm_mm", "fwhm_voxels", "df", "peak", "threshold_fwe",
                "clusters", "set_level"):
        assert mine[key] == cli[key], key
    assert mine["smoothness_source"] == "typed"
    page = read_report(out.read_text(encoding="utf-8"))
    _close(key_values(page.tables["svc-search:0"])["fwhm_mm_i"], 8.0)
    _close(page.tables["svc-peak:0"][0]["p_fwe"], cli["peak"]["p_fwe"])


def test_the_folder_s_smoothness_in_a_session_is_the_folder_s(sample, tmp_path):
    folder_smooth = SmoothnessRecord((6.0, 6.0, 6.0), "SPM.mat xVol.FWHM")
    path, spm, roi = _session_study(sample, tmp_path / "study", folder_smooth, False)
    summary = _cli(["report", path, "--out", tmp_path / "r.html"])
    cli = _cli(["svc", spm / "spmT_0001.nii", roi, "--label", "1"])
    mine = summary["sections"]["svc"][0]["result"]
    for key in cli:
        if key != "files":
            assert mine[key] == cli[key], key


@pytest.mark.parametrize("case", ["empty", "not_a_session", "missing", "newer", "exists"])
def test_bad_input_is_one_sentence_and_exit_2(case, tmp_path, capsys, mini):
    out = tmp_path / "r.html"
    if case == "empty":
        (tmp_path / "empty").mkdir()
        source, words = tmp_path / "empty", "holds nothing the report can use"
    elif case == "not_a_session":
        source = tmp_path / "notes.txt"
        source.write_text("hello")
        words = "neither a study folder nor a napari-milna session file"
    elif case == "missing":
        source, words = tmp_path / "gone", "does not exist"
    elif case == "newer":
        source = tmp_path / "s.milna-session.json"
        source.write_text(json.dumps({"format": "napari-milna session", "version": 99}))
        words = "version 99"
    else:
        out.write_text("keep me")
        source, words = mini, "already exists"
    line = run_error(capsys, ["report", source, "--out", out])
    assert line.startswith("milna report: ") and words in line
    assert not out.exists() or out.read_text() == "keep me"
