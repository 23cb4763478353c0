"""``milna sample --out DIR``: generate or reuse the sample study; paths and headline truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from napari_milna.sample_data import SAMPLE_VERSION, ensure_sample_study

from napari_milna.cli import main


@pytest.fixture(scope="module")
def study_root(tmp_path_factory) -> Path:
    # The same folder as tests/core/test_sample_study.py: generated once per session.
    env = os.environ.get("MILNA_SAMPLE_DIR")
    root = Path(env) if env else tmp_path_factory.getbasetemp() / "milna-sample-study"
    ensure_sample_study(root)
    return root


def test_json_output(study_root, capsys):
    assert main(["sample", "--out", str(study_root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"root", "sample_version", "reused", "truth", "paths"} <= set(out)
    assert out["root"] == str(study_root) and out["reused"] is True
    assert out["sample_version"] == SAMPLE_VERSION
    truth = out["truth"]
    assert truth["grid"]["shape"] == [61, 75, 53]
    assert truth["grid"]["voxel_size_mm"] == [2.5, 2.5, 3.0]
    assert truth["n_volumes"] == 180 and truth["tr"] == 2.0
    names = [r["name"] for r in truth["planted_regions"]]
    assert {"PAG", "RVM", "pINS_L", "pINS_R", "THAL_L", "THAL_R", "ACC", "V1"} == set(names)
    pag = next(r for r in truth["planted_regions"] if r["name"] == "PAG")
    assert pag["centre_mm"] == [0.5, -31.0, -9.0] and pag["interaction_dz"] == 1.0
    for key in ("bold", "bold_json", "physio", "confounds", "spm_rp", "crossover_table",
                "group_tmap", "truth_json"):
        assert Path(out["paths"][key]).is_file(), key
    # The printed paths are the study's own.
    assert json.loads(Path(out["paths"]["truth_json"]).read_text())["run"]["n_volumes"] == 180


def test_human_output(study_root, capsys):
    assert main(["sample", "--out", str(study_root)]) == 0
    out = capsys.readouterr().out
    assert "n_volumes: 180" in out and "name=PAG" in out and "reused: True" in out


def test_foreign_folder_exits_2(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["sample", "--out", str(tmp_path), "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path) in err[0] and "not a sample study" in err[0]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_file_instead_of_folder_exits_2(tmp_path, capsys):
    target = tmp_path / "study.txt"
    target.write_text("x")
    assert main(["sample", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "study.txt" in err[0]
