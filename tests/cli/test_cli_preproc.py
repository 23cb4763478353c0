"""milna motion / retroicor / glm / connectivity: JSON output, written files, exit status 2."""

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from napari_milna.cli import main
from napari_milna.core.io.kinds import parse_spm_description
from napari_milna.core.io.nifti import open_nifti
from tests.synth.physio import write_bids_physio

TR, N = 2.0, 90


def _json(capsys, argv):
    status = main(argv + ["--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def _error(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    return err


def test_motion_json_and_bad_file(tmp_path, capsys):
    rp = tmp_path / "rp_sub-01_task-pain_bold.txt"
    rows = np.zeros((6, 6))
    rows[3, 0] = 0.8  # 0.8 mm step in x at volume 3, back at volume 4
    rows[5, 5] = 0.004  # yaw 0.004 rad: 0.2 mm
    rp.write_text("\n".join("  ".join(f"{v:.7e}" for v in r) for r in rows) + "\n")
    d = _json(capsys, ["motion", str(rp), "--format", "spm"])
    np.testing.assert_allclose(d["fd"], [0, 0, 0, 0.8, 0.8, 0.2])
    assert d["n_scrubbed"] == 2 and d["scrub"] == [False, False, False, True, True, False]
    assert d["mean_fd"] == pytest.approx(1.8 / 5)
    d = _json(capsys, ["motion", str(rp), "--format", "spm", "--threshold", "0.1", "--after", "1"])
    assert d["scrubbed_volumes"] == [3, 4, 5]
    rp.write_text("0 0 0 0 0 0\n0 0 0 0 0 abc\n")
    err = _error(capsys, ["motion", str(rp), "--format", "spm"])
    assert "rp_sub-01_task-pain_bold.txt: line 2 holds a non-numeric cell 'abc'" in err


def test_retroicor_tsv_columns_orders_and_refusals(tmp_path, capsys):
    physio, *_ = write_bids_physio(tmp_path, duration=200.0, start_time=-5.0)
    out = tmp_path / "retro.tsv"
    d = _json(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90",
                       "--slice-time", "0.5", "--out", str(out), "--save-peaks",
                       str(tmp_path / "peaks.tsv")])
    table = pd.read_csv(out, sep="\t")
    assert table.shape == (90, 18) and list(table.columns) == d["columns"]
    assert d["slice_time"] == 0.5 and d["n_flagged_beats"] == 0
    # the saved peaks fed back give the same regressors
    out2 = tmp_path / "retro_peaks.tsv"
    _json(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90", "--slice-time",
                   "0.5", "--peaks", str(tmp_path / "peaks.tsv"), "--out", str(out2)])
    np.testing.assert_allclose(pd.read_csv(out2, sep="\t").to_numpy(), table.to_numpy(),
                               atol=1e-5)
    err = _error(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90",
                          "--out", str(out)])
    assert "retro.tsv: already exists" in err
    d = _json(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90", "--orders",
                       "2", "1", "0", "--out", str(out), "--overwrite"])
    assert pd.read_csv(out, sep="\t").shape == (90, 6)
    err = _error(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "120",
                          "--out", str(tmp_path / "x.tsv")])
    assert "physio.tsv.gz: is shorter than the run" in err
    assert not (tmp_path / "x.tsv").exists()


def _small_run(tmp_path, name="sub-01_task-pain_bold.nii.gz"):
    rng = np.random.default_rng(3)
    data = 900 + rng.normal(0, 4, (6, 5, 4, N))
    t = np.arange(N) * TR
    pain = ((t % 60) < 15).astype(float)
    from scipy.stats import gamma

    data[:2] += 8 * np.convolve(pain, gamma.pdf(np.arange(0, 30, TR), 6), "full")[:N]
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    img = nib.Nifti1Image(data.astype(np.float32), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = TR
    path = tmp_path / name
    nib.save(img, path)
    mask = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((6, 5, 4), np.uint8), affine), mask)
    roi = np.zeros((6, 5, 4), np.uint8)
    roi[:2, :2, :2] = 1
    nib.save(nib.Nifti1Image(roi, affine), tmp_path / "roi_mask.nii.gz")
    events = tmp_path / "sub-01_task-pain_events.tsv"
    lines = ["onset\tduration\ttrial_type"]
    lines += [f"{o}\t15\tpain" for o in range(0, 180, 60)]
    lines += [f"{o}\t15\tsensory" for o in range(30, 180, 60)]
    events.write_text("\n".join(lines) + "\n")
    return path, mask, events


def test_glm_writes_spm_t_maps_with_df(tmp_path, capsys):
    bold, mask, events = _small_run(tmp_path)
    physio, *_ = write_bids_physio(tmp_path, duration=200.0, start_time=-5.0)
    rp = tmp_path / "rp.txt"
    rng = np.random.default_rng(9)
    motion = np.cumsum(rng.normal(0, [0.01, 0.01, 0.01, 1e-4, 1e-4, 1e-4], (N, 6)), axis=0)
    motion[30:, 0] += 1.0  # one 1 mm jump at volume 30
    rp.write_text("\n".join("  ".join(f"{v:.7e}" for v in r) for r in motion) + "\n")
    out = tmp_path / "glm"
    out.mkdir()
    d = _json(capsys, ["glm", str(bold), "--events", str(events), "--physio", str(physio),
                       "--slice-time", "0.4", "--motion", str(rp), "--motion-format", "spm",
                       "--mask", str(mask), "--smoothing", "0", "--roi",
                       str(tmp_path / "roi_mask.nii.gz"), "--out", str(out)])
    assert d["motion"]["scrubbed_volumes"] == [30]
    assert d["n_scans_kept"] == N - 1
    assert d["df"] == d["n_scans_kept"] - d["rank"]
    assert d["df_without_retroicor"] == d["df"] + 18
    assert "cardiac_cos1" in d["confound_columns"] and "trans_x" in d["confound_columns"]
    t_map = out / "sub-01_task-pain_contrast-pain_stat-t_statmap.nii.gz"
    assert str(t_map) in d["maps"]
    src = open_nifti(t_map)
    assert parse_spm_description(src.description) == ("T", d["df"])
    assert src.description == f"SPM{{T_[{d['df']:.1f}]}} - pain > baseline"
    peaks = {p["contrast"]: p for p in d["roi_peaks"]}
    assert peaks["pain"]["peak_t"] == pytest.approx(np.nanmax(src.volume()[:2, :2, :2]))
    assert len(d["roi_peaks_without_retroicor"]) == 2
    err = _error(capsys, ["glm", str(bold), "--events", str(events), "--mask", str(mask),
                          "--out", str(out)])
    assert "already exists" in err


def test_glm_refuses_events_outside_the_run(tmp_path, capsys):
    bold, mask, events = _small_run(tmp_path)
    events.write_text("onset\tduration\ttrial_type\n0\t15\tpain\n170\t15\tsensory\n")
    out = tmp_path / "glm"
    out.mkdir()
    err = _error(capsys, ["glm", str(bold), "--events", str(events), "--mask", str(mask),
                          "--out", str(out)])
    assert "events.tsv: line 3: the sensory event from 170 s to 185 s lies outside the run" in err
    assert list(out.iterdir()) == []


def test_connectivity_two_sessions(tmp_path, capsys):
    affine = np.array([[4.0, 0, 0, -48], [0, 4.0, 0, -40], [0, 0, 4.0, -12], [0, 0, 0, 1]])
    bolds = []
    for k, ses in enumerate(("drug", "placebo")):
        rng = np.random.default_rng(k)
        img = nib.Nifti1Image((500 + rng.normal(0, 5, (25, 18, 10, 60))).astype(np.float32),
                              affine)
        img.header.set_xyzt_units("mm", "sec")
        img.header["pixdim"][4] = TR
        path = tmp_path / f"sub-02_ses-{ses}_task-rest_space-MNI152NLin2009cAsym_bold.nii.gz"
        nib.save(img, path)
        bolds.append(str(path))
    mask = tmp_path / "brain.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((25, 18, 10), np.uint8), affine), mask)
    out = tmp_path / "conn"
    out.mkdir()
    d = _json(capsys, ["connectivity", *bolds, "--mask", str(mask), "--seed", "left", "-36",
                       "0", "4", "--out", str(out)])
    assert [r["seeds"][0]["name"] for r in d["runs"]] == ["left", "left"]
    change = d["drug_minus_placebo"][0]
    assert change["subject"] == "sub-02"
    z = [r["dmn_mean_z"]["left"] for r in d["runs"]]
    assert change["dmn_mean_z_change"]["left"] == pytest.approx(z[0] - z[1])
    assert Path(change["maps"]["left"]).exists()
    err = _error(capsys, ["connectivity", *bolds, "--confounds", str(mask), "--out", str(out)])
    assert "1 confound files for 2 runs" in err


def test_retroicor_fuller_model_columns_and_units(tmp_path, capsys):
    physio, beats, *_ = write_bids_physio(tmp_path, duration=200.0, start_time=-5.0)
    out = tmp_path / "retro_full.tsv"
    d = _json(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90",
                       "--slice-time", "0.5", "--model", "retroicor+rvt+hr", "--out", str(out)])
    table = pd.read_csv(out, sep="\t")
    assert table.shape == (90, 22) and list(table.columns) == d["columns"]
    assert list(table.columns[-4:]) == ["rvt", "rvt_rrf", "hr", "hr_crf"]
    assert d["model"] == "retroicor+rvt+hr" and d["rvt_hr"]["hr_units"] == "beats per minute"
    # the synthetic heart beats every 0.75-1.05 s (57-80 bpm); the belt is a unit sine
    # at about 0.27 Hz, so RVT = (max - min) / period is about 2 x 0.27 belt units / s
    assert 57 < table.hr.min() and table.hr.max() < 80
    assert table.rvt.median() == pytest.approx(0.54, rel=0.1)
    # the RETROICOR columns are the default model's
    base = tmp_path / "retro.tsv"
    _json(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90",
                   "--slice-time", "0.5", "--out", str(base)])
    np.testing.assert_allclose(table.iloc[:, :18].to_numpy(),
                               pd.read_csv(base, sep="\t").to_numpy())


def test_retroicor_fuller_model_refuses_a_belt_without_breaths(tmp_path, capsys):
    physio, *_ = write_bids_physio(tmp_path, duration=200.0, start_time=-5.0)
    import gzip

    rows = [line.split("\t") for line in gzip.open(physio, "rt").read().splitlines()]
    noise = np.random.default_rng(5).normal(0, 1, len(rows))
    with gzip.open(physio, "wt") as fh:
        for row, r in zip(rows, noise):
            fh.write(f"{row[0]}\t{r:.6f}\t{row[2]}\n")
    out = tmp_path / "x.tsv"
    err = _error(capsys, ["retroicor", str(physio), "--tr", "2", "--n-volumes", "90",
                          "--model", "retroicor+rvt+hr", "--out", str(out)])
    assert "physio.tsv.gz: has no breathing in its respiratory trace" in err
    assert not out.exists()


def test_glm_reports_the_peak_with_each_physio_model(tmp_path, capsys):
    bold, mask, events = _small_run(tmp_path)
    physio, *_ = write_bids_physio(tmp_path, duration=200.0, start_time=-5.0)
    out = tmp_path / "glm"
    out.mkdir()
    d = _json(capsys, ["glm", str(bold), "--events", str(events), "--physio", str(physio),
                       "--slice-time", "0.4", "--mask", str(mask), "--smoothing", "0",
                       "--model", "retroicor+rvt+hr", "--roi",
                       str(tmp_path / "roi_mask.nii.gz"), "--out", str(out)])
    assert d["physio_model"] == "retroicor+rvt+hr"
    assert d["confound_columns"][-2:] == ["rvt_rrf", "hr_crf"]
    assert d["df_by_model"] == {"retroicor+rvt+hr": d["df"], "none": d["df"] + 20,
                                "retroicor": d["df"] + 2}
    peaks = d["roi_peaks_by_model"]
    assert peaks["retroicor+rvt+hr"] == d["roi_peaks"]
    assert peaks["none"] == d["roi_peaks_without_retroicor"]
    assert [p["contrast"] for p in peaks["retroicor"]] == ["pain", "painMinusSensory"]
