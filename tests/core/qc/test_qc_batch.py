import base64
import csv
import re

import numpy as np
import pytest

from napari_milna.core.qc import batch as B
from tests.synth.qc import PAG_BOX, SHAPE, box_mask, brain, make_run, save

SPACE = "MNI152NLin2009cAsym"


@pytest.fixture
def derivatives(tmp_path):
    """A small fMRIPrep-like tree: two subjects, sub-02 with a session, masks and probsegs."""
    root = tmp_path / "derivatives"
    runs = {}
    for sub, ses in (("01", None), ("02", "A")):
        func = root / f"sub-{sub}" / (f"ses-{ses}" if ses else "") / "func"
        anat = root / f"sub-{sub}" / "anat"
        func.mkdir(parents=True)
        anat.mkdir(parents=True, exist_ok=True)
        ent = f"sub-{sub}" + (f"_ses-{ses}" if ses else "") + "_task-pain"
        runs[sub] = save(func / f"{ent}_space-{SPACE}_desc-preproc_bold.nii.gz",
                         make_run(12, seed=int(sub)))
        save(func / f"{ent}_space-{SPACE}_desc-brain_mask.nii.gz", brain().astype(np.uint8))
        csf = np.zeros(SHAPE, np.float32)
        csf[9:11, 13:15, 7:9] = 0.95
        save(anat / f"sub-{sub}_space-{SPACE}_label-CSF_probseg.nii.gz", csf)
        save(anat / f"sub-{sub}_label-CSF_probseg.nii.gz", csf)  # native space: not paired
    rvm = np.zeros(SHAPE, np.uint8)
    rvm[8:11, 8:11, 5:8] = 1
    rois = [save(tmp_path / "desc-PAG_mask.nii.gz", box_mask(PAG_BOX).astype(np.uint8)),
            save(tmp_path / "desc-RVM_mask.nii.gz", rvm)]
    return root, runs, rois


def test_find_runs_pairs_masks_and_probsegs_by_entities(derivatives):
    root, runs, _ = derivatives
    found = B.find_runs([root])
    assert [r.bold for r in found] == [runs["01"], runs["02"]]
    for r in found:
        sub = r.entities["sub"]
        assert r.brain_mask == r.bold.with_name(
            r.bold.name.replace("desc-preproc_bold", "desc-brain_mask")
        )
        assert r.csf.name == f"sub-{sub}_space-{SPACE}_label-CSF_probseg.nii.gz"
    assert found[1].entities["ses"] == "A"
    # a glob and a duplicate give the same runs once
    again = B.find_runs([str(root / "sub-0*" / "**" / "*_bold.nii.gz"), runs["01"]])
    assert [r.bold for r in again] == [runs["01"], runs["02"]]


def test_native_space_run_pairs_with_the_probseg_without_space(tmp_path):
    func = tmp_path / "sub-03" / "func"
    anat = tmp_path / "sub-03" / "anat"
    func.mkdir(parents=True)
    anat.mkdir()
    bold = save(func / "sub-03_task-rest_space-T1w_desc-preproc_bold.nii.gz", make_run(12))
    save(anat / f"sub-03_space-{SPACE}_label-CSF_probseg.nii.gz", np.zeros(SHAPE, np.float32))
    native = save(anat / "sub-03_label-CSF_probseg.nii.gz", np.zeros(SHAPE, np.float32))
    assert B.find_csf_probseg(bold) == native


def test_default_process_pool_tsv_and_html(derivatives, tmp_path):
    root, runs, rois = derivatives
    found = B.find_runs([root])
    seen = []
    results = B.run_batch(found, rois=rois, n_workers=2,
                          progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    assert [r["file"] for r in results] == [str(runs["01"]), str(runs["02"])]
    for r in results:
        verdicts = {roi["name"]: roi["verdict"] for roi in r["rois"]}
        assert verdicts == {"PAG": "ok", "RVM": "fail"}
        assert r["csf_source"].endswith(f"space-{SPACE}_label-CSF_probseg.nii.gz")
        png = base64.b64decode(r["mosaic_png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"

    tsv = B.write_tsv(results, tmp_path / "qc.tsv")
    with open(tsv, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 4  # 2 runs x 2 ROIs
    assert [(r["sub"], r["roi"], r["verdict"]) for r in rows] == [
        ("01", "PAG", "ok"), ("01", "RVM", "fail"), ("02", "PAG", "ok"), ("02", "RVM", "fail")
    ]
    assert rows[1]["dropout_fraction"] == f"{9 / 27:.6g}"
    with pytest.raises(Exception, match="already exists"):
        B.write_tsv(results, tsv)
    html = B.write_html(results, tmp_path / "qc.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "function sortTable" in html
    assert not re.search(r'src="(?!data:)', html)  # self-contained: no external resource
    assert "33% of RVM voxels below half the brain median signal" in html


def test_bad_run_becomes_an_error_row(derivatives, tmp_path):
    root, runs, rois = derivatives
    short = save(tmp_path / "sub-09_task-pain_desc-preproc_bold.nii.gz", make_run(5))
    found = B.find_runs([runs["01"], short])
    results = B.run_batch(found, rois=rois, scheduler="sync", mosaic=False)
    assert results[0]["verdict"] == "fail" and "error" not in results[0]
    assert results[1]["verdict"] == "error"
    assert "sub-09_task-pain_desc-preproc_bold.nii.gz" in results[1]["error"]
    rows = B.table_rows(results)
    assert rows[-1]["error"] and rows[-1]["roi"] is None


def test_distributed_local_cluster(derivatives):
    distributed = pytest.importorskip("distributed")
    root, runs, rois = derivatives
    found = B.find_runs([root])
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        results = B.run_batch(found, rois=rois, scheduler=cluster.scheduler_address,
                              mosaic=False)
    assert [r["file"] for r in results] == [str(runs["01"]), str(runs["02"])]
    assert all({x["name"]: x["verdict"] for x in r["rois"]} == {"PAG": "ok", "RVM": "fail"}
               for r in results)
