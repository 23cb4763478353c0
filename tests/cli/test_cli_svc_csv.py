"""``milna svc --csv OUT``: the SVC tab's CSV export from the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.cli.cli_run import run_error, run_json
from tests.conftest import write_nifti

AFF = np.array([[-2.5, 0, 0, 20.0], [0, 2.5, 0, -50.0], [0, 0, 3.0, -40.0], [0, 0, 0, 1]])
SHAPE = (14, 14, 12)


@pytest.fixture
def spm(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.uniform(-1.5, 1.5, SHAPE).astype(np.float32)
    data[6, 7, 6], data[4, 4, 4] = 4.4, 3.9
    stat = write_nifti(tmp_path / "spmT_0001.nii", data, AFF,
                       description="SPM{T_[20.0]} - contrast 1: drug x pain")
    roi = np.zeros(SHAPE, np.uint8)
    roi[3:8, 3:8, 3:8] = 1
    return stat, write_nifti(tmp_path / "pag_mask.nii.gz", roi, AFF), tmp_path


def test_csv_holds_the_json_numbers(spm, capsys):
    stat, roi, tmp = spm
    out = tmp / "svc.csv"
    summary = run_json(capsys, ["svc", stat, roi, "--fwhm", 6, "--height-p", 0.05, "--csv", out])
    assert summary["csv"] == str(out)
    table = pd.read_csv(out)
    peak = summary["peak"]
    expected_rows = ["peak"] + ["max"] * sum(p["ijk"] != peak["ijk"] for p in summary["peaks"])
    expected_rows += ["cluster"] * len(summary["clusters"])
    assert list(table["row"]) == expected_rows
    first = table.iloc[0]
    for key in ("value", "z", "p_uncorrected", "p_fwe", "q_fdr"):
        assert first[key] == pytest.approx(peak[key], rel=1e-9)
    assert [first["i"], first["j"], first["k"]] == peak["ijk"]
    assert first["stat_map"] == str(stat) and first["roi"] == str(roi)
    assert (table["resels_r0"] == summary["resels"][0]).all()
    clusters = table[table["row"] == "cluster"]
    assert list(clusters["n_voxels_cluster"]) == [c["n_voxels"] for c in summary["clusters"]]


def test_csv_never_overwrites_unasked(spm, capsys):
    stat, roi, tmp = spm
    out = tmp / "svc.csv"
    out.write_text("keep me\n")
    line = run_error(capsys, ["svc", stat, roi, "--fwhm", 6, "--csv", out])
    assert "already exists" in line and str(out) in line
    assert out.read_text() == "keep me\n"
    run_json(capsys, ["svc", stat, roi, "--fwhm", 6, "--csv", out, "--overwrite"])
    assert out.read_text().startswith("row,")
    assert sorted(p.name for p in tmp.iterdir()) == ["pag_mask.nii.gz", "spmT_0001.nii", "svc.csv"]
