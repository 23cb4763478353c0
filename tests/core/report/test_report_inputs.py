"""What a study report finds in a folder or a session, and the sentences for what it cannot use."""

from __future__ import annotations

import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.report import find_study
from napari_milna.core.report.html import fmt_p, table
from napari_milna.core.roi.io import save_roi_labels
from napari_milna.core.session_file import LayerRecord, SessionChoices, SessionFile, write_session
from tests.conftest import write_nifti

AFFINE = np.diag([2.5, 2.5, 3.0, 1.0])


def _study(root):
    """A folder with a run, its brain mask, confounds, physio and an SPM realignment file."""
    func = root / "derivatives" / "fmriprep" / "sub-01" / "func"
    func.mkdir(parents=True)
    run = write_nifti(func / "sub-01_task-pain_space-MNI_desc-preproc_bold.nii.gz",
                      np.ones((4, 4, 4, 12), np.int16), AFFINE, 4, tr=2.0)
    echo = write_nifti(func / "sub-01_task-pain_acq-me_echo-1_space-MNI_desc-preproc_bold.nii.gz",
                       np.ones((4, 4, 4, 12), np.int16), AFFINE, 4, tr=2.0)
    mask = write_nifti(func / "sub-01_task-pain_space-MNI_desc-brain_mask.nii.gz",
                       np.ones((4, 4, 4), np.uint8), AFFINE, 4)
    (func / "sub-01_task-pain_desc-confounds_timeseries.tsv").write_text("trans_x\n0\n")
    raw = root / "sub-01" / "func"
    raw.mkdir(parents=True)
    physio = raw / "sub-01_task-pain_physio.tsv.gz"
    physio.write_bytes(b"")
    (root / "derivatives" / "spm").mkdir()
    (root / "derivatives" / "spm" / "rp_sub-01_task-pain_bold.txt").write_text("0 0 0 0 0 0\n")
    table_path = root / "derivatives" / "crossover.tsv"
    table_path.write_text("subject\ttreatment\tcondition\tpath\n")
    (root / "derivatives" / "notes.tsv").write_text("a\tb\n")
    return run, echo, mask, physio, table_path


def test_a_folder_s_parts_are_found(tmp_path):
    run, echo, mask, physio, table_path = _study(tmp_path)
    inputs = find_study(tmp_path)
    assert [r.bold for r in inputs.runs] == [echo, run]
    assert inputs.runs[1].brain_mask == mask and inputs.runs[0].brain_mask is None
    assert sorted(fmt for _, fmt in inputs.motion) == ["fmriprep", "spm"]
    # the physiology goes with the run of the same subject and task, not the echo
    assert inputs.physio == [(physio, run)]
    assert inputs.crossover_tables == [table_path]
    # no ROI given: the literature seeds
    assert [(r.name, r.seed, r.origin) for r in inputs.rois] == [
        ("PAG", ("PAG", None), "seed"), ("RVM", ("RVM", None), "seed")]


def test_roi_files_a_dseg_gives_one_roi_per_label(tmp_path):
    _study(tmp_path)
    labels = np.zeros((4, 4, 4), np.uint8)
    labels[1, 1, 1], labels[2, 2, 2] = 1, 3
    reference = write_nifti(tmp_path / "ref.nii.gz", np.zeros((4, 4, 4), np.float32), AFFINE, 4)
    dseg, _ = save_roi_labels(labels, {1: "PAG", 3: "RVM"}, reference,
                              tmp_path / "x_dseg.nii.gz")
    mask = write_nifti(tmp_path / "sub-01_desc-LC_mask.nii.gz", (labels == 1).astype(np.uint8),
                       AFFINE, 4)
    inputs = find_study(tmp_path, rois=[dseg, mask])
    assert [(r.name, r.label, r.path) for r in inputs.rois] == [
        ("PAG", 1, dseg), ("RVM", 3, dseg), ("LC", None, mask)]
    assert inputs.roi_files() == [dseg, mask]


def test_a_session_gives_its_map_and_says_what_is_gone(tmp_path):
    run, _, mask, _, _ = _study(tmp_path)
    gone = tmp_path / "derivatives" / "spmT_0001.nii"
    session = SessionFile(
        [LayerRecord("T", "image", "file", gone), LayerRecord("run", "image", "file", run),
         LayerRecord("brain", "labels", "file", mask)],
        SessionChoices(stat_map="T", run="run",
                       masks={"brain": "brain", "csf": None, "analysis": None}))
    path = write_session(session, tmp_path / "s.milna-session.json")
    inputs = find_study(path)
    assert inputs.mode == "session" and inputs.root == tmp_path
    assert inputs.contrasts == []
    assert [(r.bold, r.brain_mask) for r in inputs.runs] == [(run, mask)]
    assert any("spmT_0001.nii" in n and "does not exist" in n for n in inputs.notes)


@pytest.mark.parametrize("what", ["missing", "file", "empty"])
def test_nothing_to_report_is_one_sentence(tmp_path, what):
    if what == "missing":
        source, words = tmp_path / "nope", "does not exist"
    elif what == "file":
        source, words = tmp_path / "a.nii.gz", "neither a study folder nor"
        write_nifti(source, np.zeros((4, 4, 4), np.float32), AFFINE, 4)
    else:
        source, words = tmp_path, "holds nothing the report can use"
    with pytest.raises(MilnaInputError) as info:
        find_study(source)
    assert words in str(info.value) and str(source) in str(info.value)


def test_cells_carry_their_exact_value():
    page = table("t", (("p", "p", "p"), ("name", "name", "text")),
                 [{"p": 0.1 + 0.2, "name": "<PAG>"}, {"p": None, "name": None}])
    assert 'data-value="0.30000000000000004">0.3</td>' in page
    assert "&lt;PAG&gt;" in page and 'data-key="p" data-value=""></td>' in page
    assert fmt_p(4.94e-5) == "4.9e-5" and fmt_p(0.01234) == "0.0123"
