import json
from pathlib import Path

import numpy as np
import pytest

from napari_milna.cli import main
from tests.synth.qc import PAG_BOX, SHAPE, box_mask, brain, make_run, save


@pytest.fixture
def files(tmp_path):
    bold = save(tmp_path / "sub-01_task-pain_desc-preproc_bold.nii.gz", make_run(14))
    bold2 = save(tmp_path / "sub-02_task-pain_desc-preproc_bold.nii.gz", make_run(14, seed=5))
    save(tmp_path / "sub-01_task-pain_desc-brain_mask.nii.gz", brain().astype(np.uint8))
    save(tmp_path / "sub-02_task-pain_desc-brain_mask.nii.gz", brain().astype(np.uint8))
    rvm = np.zeros(SHAPE, np.uint8)
    rvm[8:11, 8:11, 5:8] = 1
    pag = save(tmp_path / "desc-PAG_mask.nii.gz", box_mask(PAG_BOX).astype(np.uint8))
    rvm_path = save(tmp_path / "desc-RVM_mask.nii.gz", rvm)
    return {"bold": bold, "bold2": bold2, "pag": pag, "rvm": rvm_path, "tmp": tmp_path}


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_single_run_json(files, capsys):
    status = main(["qc", str(files["bold"]), "--roi", str(files["pag"]), str(files["rvm"]),
                   "--json"])
    assert status == 0
    out = _json(capsys)
    x = make_run(14).astype(float)
    mean, std = x.mean(-1), x.std(-1)
    inside = brain()
    assert out["n_volumes"] == 14
    assert out["tsnr_median"] == pytest.approx(np.median(mean[inside] / std[inside]), rel=1e-6)
    assert out["brain_mask_source"].endswith("sub-01_task-pain_desc-brain_mask.nii.gz")
    rois = {r["name"]: r for r in out["rois"]}
    keys = {"name", "n_voxels", "coverage", "dropout_fraction", "tsnr_median", "signal_ratio",
            "csf_fraction", "verdict", "reason"}
    assert keys <= set(rois["PAG"])
    assert rois["PAG"]["verdict"] == "ok" and rois["RVM"]["verdict"] == "fail"
    assert rois["RVM"]["dropout_fraction"] == pytest.approx(9 / 27)
    assert "tsv" not in out  # nothing written without --out-dir
    assert not list(files["tmp"].glob("*.tsv"))


def test_single_run_with_explicit_mask_and_detrend(files, capsys):
    mask = files["tmp"] / "sub-01_task-pain_desc-brain_mask.nii.gz"
    status = main(["qc", str(files["bold"]), "--brain-mask", str(mask), "--detrend", "2",
                   "--dropout-threshold", "0.25", "--json"])
    assert status == 0
    out = _json(capsys)
    assert out["detrend"] == 2 and out["dropout_threshold"] == 0.25


def test_several_runs_write_tsv_and_html_once(files, capsys):
    out_dir = files["tmp"] / "qc"
    args = ["qc", str(files["bold"]), str(files["bold2"]), "--roi", str(files["rvm"]),
            "--out-dir", str(out_dir), "--workers", "1", "--json"]
    assert main(args) == 0
    out = _json(capsys)
    assert out["n_runs"] == 2 and out["n_errors"] == 0
    assert Path(out["tsv"]).read_text().count("\n") == 3  # header + 2 runs x 1 ROI
    assert "data:image/png;base64," in Path(out["html"]).read_text()
    assert [r["rois"][0]["verdict"] for r in out["runs"]] == ["fail", "fail"]
    # no overwrite without --overwrite; with it, fine
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_bad_inputs_exit_2_with_one_sentence(files, capsys, tmp_path):
    vol = save(tmp_path / "mean.nii.gz", np.ones(SHAPE, np.float32))
    assert main(["qc", str(vol)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "mean.nii.gz" in err and "4D run" in err
    short = save(tmp_path / "short_bold.nii.gz", make_run(9))
    assert main(["qc", str(short)]) == 2
    assert "only 9 volumes" in capsys.readouterr().err
    empty = save(tmp_path / "empty_mask.nii.gz", np.zeros(SHAPE, np.uint8))
    assert main(["qc", str(files["bold"]), "--brain-mask", str(empty)]) == 2
    assert "empty_mask.nii.gz" in capsys.readouterr().err
    assert main(["qc", str(files["bold"]), "--dropout-threshold", "2"]) == 2
    assert "--dropout-threshold" in capsys.readouterr().err


def test_roi_outside_field_of_view_is_a_fail_not_an_error(files, capsys, tmp_path):
    far = np.diag([2.5, 2.5, 3.0, 1.0])
    far[:3, 3] = 400
    roi = save(tmp_path / "desc-Far_mask.nii.gz", np.ones((2, 2, 2), np.uint8), far)
    assert main(["qc", str(files["bold"]), "--roi", str(roi), "--json"]) == 0
    r = _json(capsys)["rois"][0]
    assert (r["coverage"], r["n_voxels"], r["verdict"]) == (0.0, 0, "fail")


def test_mask_on_another_grid_is_resampled_and_said(files, capsys, tmp_path):
    shifted = np.diag([2.5, 2.5, 3.0, 1.0])
    shifted[:3, 3] = -(np.array(SHAPE) - 1) / 2 * np.array([2.5, 2.5, 3.0]) + 2.5
    mask = save(tmp_path / "other_mask.nii.gz", brain().astype(np.uint8), shifted)
    assert main(["qc", str(files["bold"]), "--brain-mask", str(mask), "--json"]) == 0
    notes = _json(capsys)["notes"]
    assert any("other_mask.nii.gz" in n and "resampled to the EPI grid" in n for n in notes)
