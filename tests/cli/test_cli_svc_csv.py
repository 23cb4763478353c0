"""``milna svc --csv OUT``: the SVC tab's CSV export from the command line."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.cli.cli_run import run_error, run_json
from tests.conftest import write_nifti
from tests.synth.svc import AFF, box, stat_map, write_spm_t


@pytest.fixture
def spm(tmp_path):
    stat = write_spm_t(tmp_path, stat_map(peaks={(6, 7, 6): 4.4, (4, 4, 4): 3.9}))
    return stat, write_nifti(tmp_path / "pag_mask.nii.gz", box(), AFF), tmp_path


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
