"""Atlases opened from small files: labels at points against nibabel's affine by hand."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nibabel.affines import apply_affine

from napari_milna.core.atlas import (
    atlas_from_nilearn,
    label_at,
    label_frame,
    label_summary,
    labels_at,
    open_atlas,
)
from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.kinds import ImageKind, classify
from napari_milna.core.io.nifti import open_nifti
from tests.conftest import make_affine, write_nifti


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MILNA_ATLAS_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def label_atlas(tmp_path):
    """A 2 mm LAS label atlas (x flipped) with three labels and a dseg.tsv."""
    affine = make_affine((2, 2, 2), (20.0, -40.0, -30.0), flip_x=True)
    data = np.zeros((10, 12, 8), np.int16)
    data[2:5, 3:6, 1:4] = 3
    data[5:8, 3:6, 1:4] = 7
    data[0, 0, 0] = 12
    path = write_nifti(tmp_path / "tpl-MNI152NLin2009cAsym_atlas-Toy_dseg.nii.gz", data,
                       affine)
    (tmp_path / "tpl-MNI152NLin2009cAsym_atlas-Toy_dseg.tsv").write_text(
        "index\tname\n3\tPAG\n7\tRVM\n12\tcorner\n")
    return path, data, affine


def test_label_at_matches_nibabel_affine_by_hand(label_atlas):
    path, data, affine = label_atlas
    atlas = open_atlas(path)
    assert atlas.kind == "labels" and atlas.space == "MNI152NLin2009cAsym"
    names = {3: "PAG", 7: "RVM", 12: "corner"}
    rng = np.random.default_rng(1)
    points = apply_affine(affine, rng.uniform(-0.49, [9.49, 11.49, 7.49], size=(200, 3)))
    for xyz, got in zip(points, labels_at(atlas, points)):
        ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(affine), xyz)))
        value = int(data[ijk])
        assert got.inside and got.value == (value or None)
        assert got.name == names.get(value)
    # voxel (3, 4, 2) is PAG: x = 20 - 2*3 = 14, y = -40 + 8 = -32, z = -30 + 4 = -26
    assert label_at(atlas, (14.0, -32.0, -26.0)).describe() == "PAG"
    # half a voxel further along i (x decreases) still rounds to voxel 3 until 3.5
    assert label_at(atlas, (13.1, -32.0, -26.0)).name == "PAG"
    assert label_at(atlas, (500.0, 0.0, 0.0)).describe() == "outside the atlas"
    assert label_at(atlas, apply_affine(affine, (9, 11, 7))).describe() == "no label"


def test_probabilistic_atlas_against_numpy(tmp_path):
    """A 4D percent atlas (FSL's convention): most probable label and the others by hand."""
    affine = make_affine((3, 3, 3), (-12.0, -50.0, -40.0))
    rng = np.random.default_rng(7)
    probs = rng.integers(0, 40, size=(6, 5, 4, 3)).astype(np.uint8)
    probs[rng.random((6, 5, 4, 3)) < 0.4] = 0
    probs[1, 1, 1] = [10, 80, 10]
    probs[2, 2, 2] = [0, 0, 0]
    path = write_nifti(tmp_path / "toy-prob-3mm.nii.gz", probs, affine)
    lut = tmp_path / "toy.xml"
    lut.write_text('<atlas><header><name>Toy</name><type>Probabilistic</type></header><data>'
                   '<label index="0">A</label><label index="1">B</label>'
                   '<label index="2">C</label></data></atlas>')
    atlas = open_atlas(path, lut)
    assert atlas.kind == "probabilistic" and atlas.name == "Toy" and atlas.n_labels == 3
    names = "ABC"
    for ijk in np.ndindex(probs.shape[:3]):
        got = label_at(atlas, apply_affine(affine, ijk))
        p = probs[ijk].astype(float) / 100.0
        if p.max() == 0:
            assert got.name is None and got.describe() == "no label"
            continue
        best = int(np.argmax(p))  # first of equal maxima, as numpy
        assert got.name == names[best] and got.probability == pytest.approx(p[best], abs=1e-6)
        rest = [(names[v], p[v]) for v in np.argsort(-p, kind="stable")[1:] if p[v] > 0]
        assert [n for n, _ in got.others] == [n for n, _ in rest]
    assert label_at(atlas, apply_affine(affine, (1, 1, 1))).describe() == "B 80%"
    # the display summary: most probable volume + 1 where it reaches 25 %
    expected = np.where(probs.max(axis=3) >= 25, probs.argmax(axis=3) + 1, 0)
    np.testing.assert_array_equal(atlas.summary, expected)
    assert atlas.summary_names() == {1: "A", 2: "B", 3: "C"}
    # a second open of the same file is the same atlas (kept), and the disk cache
    # gives the same probabilities to a fresh process (cache read here directly)
    from napari_milna.core.atlas.cache import load_cached

    cached = load_cached(path)
    assert (cached != atlas.probabilities).nnz == 0
    sub = atlas.subset([2, 0])
    assert sub.names == {0: "C", 1: "A"}
    assert label_at(sub, apply_affine(affine, (1, 1, 1))).describe() == "C 10%"


def test_probabilities_as_fractions(tmp_path):
    affine = np.eye(4)
    probs = np.zeros((3, 3, 3, 2), np.float32)
    probs[1, 1, 1] = [0.3, 0.6]
    path = write_nifti(tmp_path / "space-MNI152_probatlas.nii.gz", probs, affine, code=0)
    (tmp_path / "space-MNI152_probatlas.tsv").write_text("index\tname\n0\tPAG\n1\tRVM\n")
    label = label_at(open_atlas(path), (1, 1, 1))
    assert (label.name, label.probability) == ("RVM", pytest.approx(0.6))
    assert label.describe_all() == "RVM 60%, PAG 30%"


def test_kinds_say_atlas_not_run(tmp_path, label_atlas):
    probs = np.zeros((4, 4, 4, 5), np.uint8)
    path = write_nifti(tmp_path / "HarvardOxford-sub-prob-2mm.nii.gz", probs, np.eye(4))
    info = classify(open_nifti(path))
    assert info.kind == ImageKind.ATLAS and "5 labels" in info.label
    run = write_nifti(tmp_path / "sub-01_task-probe_bold.nii.gz", probs, np.eye(4), tr=2.0)
    assert classify(open_nifti(run)).kind == ImageKind.RUN
    maxprob = write_nifti(tmp_path / "HarvardOxford-sub-maxprob-thr25-2mm.nii.gz",
                          np.arange(27).reshape(3, 3, 3).astype(np.int16) % 5, np.eye(4))
    assert classify(open_nifti(maxprob)).kind == ImageKind.ATLAS
    # a BIDS dseg stays a label image (ROIs are read from those)
    assert classify(open_nifti(label_atlas[0])).kind == ImageKind.LABELS


def test_bad_atlases_say_one_sentence(tmp_path, label_atlas):
    path, data, affine = label_atlas
    short = tmp_path / "short.tsv"
    short.write_text("index\tname\n3\tPAG\n")
    with pytest.raises(MilnaInputError, match=r"names no label for values 7, 12 of .*dseg"):
        open_atlas(path, short)
    scanner = write_nifti(tmp_path / "atlas_scanner.nii.gz", data, affine, code=1)
    with pytest.raises(MilnaInputError, match="is on no known space"):
        open_atlas(scanner, tmp_path / "tpl-MNI152NLin2009cAsym_atlas-Toy_dseg.tsv")
    floats = write_nifti(tmp_path / "atlas_float.nii.gz", data + 0.5, affine)
    with pytest.raises(MilnaInputError, match="non-integer values") as err:
        open_atlas(floats)
    assert str(err.value).startswith(str(floats)) and str(err.value).endswith(".")
    probs = np.full((3, 3, 3, 2), 150, np.uint8)
    high = write_nifti(tmp_path / "high_prob.nii.gz", probs, np.eye(4))
    with pytest.raises(MilnaInputError, match="neither probabilities"):
        open_atlas(high)
    few = tmp_path / "few.tsv"
    few.write_text("index\tname\n0\tPAG\n")
    ok = write_nifti(tmp_path / "ok_prob.nii.gz", probs // 2, np.eye(4))
    with pytest.raises(MilnaInputError, match="names no label for volumes 1"):
        open_atlas(ok, few)


def test_nilearn_atlas_object(tmp_path):
    from nilearn._utils.bids import generate_atlas_look_up_table
    from nilearn.datasets.atlas import Atlas

    affine = make_affine((2, 2, 2), (-10.0, -40.0, -20.0))
    data = np.zeros((8, 8, 8), np.int16)
    data[4, 4, 4] = 2
    img = nib.Nifti1Image(data, affine)
    lut = generate_atlas_look_up_table(name=["Background", "PAG"], index=img)
    atlas = atlas_from_nilearn(Atlas(maps=img, description="", atlas_type="deterministic",
                                     lut=lut, template="MNI152NLin6Asym"))
    assert atlas.space == "MNI152NLin6Asym"
    assert label_at(atlas, apply_affine(affine, (4, 4, 4))).name == "PAG"
    probs = np.zeros((8, 8, 8, 2), np.float32)
    probs[4, 4, 4] = [0.2, 0.7]
    prob = Atlas(maps=nib.Nifti1Image(probs, affine), description="",
                 atlas_type="probabilistic", labels=["Background", "PAG", "RVM"])
    label = label_at(atlas_from_nilearn(prob), apply_affine(affine, (4, 4, 4)))
    assert (label.name, round(label.probability, 6)) == ("RVM", 0.7)


def test_labels_added_to_results(label_atlas):
    path, data, affine = label_atlas
    atlas = open_atlas(path)
    pag, rvm = apply_affine(affine, (3, 4, 2)), apply_affine(affine, (6, 4, 2))
    summary = {"peak": {"xyz_mm": list(pag), "value": 4.0},
               "peaks": [{"xyz_mm": list(rvm)}],
               "clusters": [{"peak_xyz_mm": list(rvm), "maxima": [{"xyz_mm": list(pag)}]}]}
    label_summary(summary, atlas)
    assert summary["peak"]["atlas_label"] == "PAG"
    assert summary["peaks"][0]["atlas_label"] == "RVM"
    assert summary["clusters"][0]["atlas_label"] == "RVM"
    assert summary["clusters"][0]["maxima"][0]["atlas_label"] == "PAG"
    assert summary["atlas"]["kind"] == "labels" and "atlas_probability" not in summary["peak"]
    frame = pd.DataFrame({"row": ["peak", "set"], "x_mm": [pag[0], None],
                          "y_mm": [pag[1], None], "z_mm": [pag[2], None], "p": [0.01, 0.5]})
    out = label_frame(frame, atlas)
    assert list(out.columns) == ["row", "x_mm", "y_mm", "z_mm", "atlas_label", "p"]
    assert out["atlas_label"].tolist() == ["PAG", None]
