"""milna multiecho: JSON keys, written files, exit status 2 with one line and nothing written."""

import json

import nibabel as nib
import numpy as np
import pytest

from napari_milna.cli import main
from tests.synth.multiecho import AFFINE, write_echoes


def _run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_multiecho_json_paths_and_roi_numbers(tmp_path, capsys):
    paths, mask = write_echoes(tmp_path, n_volumes=20)
    roi = np.zeros((14, 12, 8), np.uint8)
    roi[2:6, 1:4, 2:5] = 1  # inside the short-T2* slab
    nib.save(nib.Nifti1Image(roi, AFFINE), tmp_path / "sub-01_desc-RVM_mask.nii.gz")
    out = tmp_path / "me"
    out.mkdir()
    status, stdout, err = _run(capsys, ["multiecho", *map(str, paths), "--out", str(out),
                                        "--mask", str(mask), "--roi",
                                        str(tmp_path / "sub-01_desc-RVM_mask.nii.gz"), "--json"])
    assert status == 0, err
    d = json.loads(stdout)
    for key in ("t2star", "s0", "optcom", "adaptive_mask"):
        assert (out / d[key].split("/")[-1]).exists()
    assert d["echo_times_ms"] == [13.0, 30.0, 47.0]
    (row,) = d["rois"]
    assert row["name"] == "RVM" and row["n_voxels"] == 36
    assert len(row["tsnr_echoes"]) == 3 and row["tsnr_optcom"] > 0
    assert row["t2star_median_ms"] == pytest.approx(18.0, rel=0.05)
    # signal recovery by hand: combined temporal mean over the ROI / echo 2's
    opt = nib.load(d["optcom"]).get_fdata().mean(axis=-1)
    echo2 = nib.load(paths[1]).get_fdata().mean(axis=-1)
    assert row["signal_recovery"] == pytest.approx(opt[roi > 0].mean() / echo2[roi > 0].mean(),
                                                   rel=1e-5)
    assert d["qc_verdict"] in ("ok", "warn", "fail") and d["qc"]["rois"][0]["name"] == "RVM"
    assert row["qc_verdict"] == d["qc"]["rois"][0]["verdict"]


@pytest.mark.parametrize("case", ["single", "grid", "length", "no_te", "order", "exists"])
def test_multiecho_bad_input_exits_2_with_one_line(tmp_path, capsys, case):
    kwargs = {}
    if case == "grid":
        other = AFFINE.copy()
        other[:3, :3] *= 1.2
        kwargs["affines"] = [AFFINE, AFFINE, other]
    if case == "length":
        kwargs["lengths"] = [20, 20, 18]
    if case == "no_te":
        kwargs["sidecars"] = False
    paths, mask = write_echoes(tmp_path, n_volumes=20, **kwargs)
    args = [str(p) for p in paths]
    if case == "single":
        args = args[:1]
    if case == "order":
        args = args[::-1]
    out = tmp_path / "me"
    out.mkdir()
    if case == "exists":
        (out / "sub-01_task-rest_S0map.nii.gz").write_bytes(b"keep")
    status, stdout, err = _run(capsys, ["multiecho", *args, "--out", str(out), "--json"])
    assert status == 2 and stdout == "" and err.count("\n") == 1
    expected = {"single": "is a single echo", "grid": "lies on another grid",
                "length": "holds 18 volumes", "no_te": "EchoTime", "order": "must increase",
                "exists": "already exists"}[case]
    assert expected in err
    left = sorted(p.name for p in out.iterdir())
    assert left == (["sub-01_task-rest_S0map.nii.gz"] if case == "exists" else [])


def test_multiecho_te_option_in_ms(tmp_path, capsys):
    paths, mask = write_echoes(tmp_path, n_volumes=12, sidecars=False)
    out = tmp_path / "me"
    out.mkdir()
    status, stdout, err = _run(capsys, ["multiecho", *map(str, paths), "--te", "13", "30", "47",
                                        "--mask", str(mask), "--out", str(out), "--json"])
    assert status == 0, err
    d = json.loads(stdout)
    assert d["echo_times_source"] == "given" and d["qc"]["n_volumes"] == 12
