"""BIDS names through nilearn's parser (core.io.bids)."""

import pytest
from nilearn.interfaces.bids import parse_bids_filename

from napari_milna.core.io.bids import bids_entities, bids_name, derivative_prefix, parse_bids_name

# Names the package meets: fMRIPrep outputs, our own derivatives, SPM / FSL files.
BIDS_NAMES = [
    "sub-01_task-pain_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
    "sub-01_task-pain_space-MNI152NLin2009cAsym_res-2_desc-brain_mask.nii.gz",
    "sub-01_space-MNI152NLin2009cSym_label-CSF_probseg.nii.gz",
    "sub-01_task-pain_desc-confounds_timeseries.tsv",
    "sub-01_task-pain_physio.tsv.gz",
    "sub-01_ses-drug_task-pain_contrast-painMinusSensory_stat-effect_statmap.nii.gz",
    "sub-01_ses-drug_task-rest_space-MNI152NLin2009cAsym_seed-aInsL_stat-fisherz_statmap.nii.gz",
    "sub-01_desc-PAG_mask.nii.gz",
    "sub-01_desc-rois_dseg.tsv",
]


@pytest.mark.parametrize("name", BIDS_NAMES)
def test_entities_and_suffix_are_nilearns(name):
    ref = parse_bids_filename(name)
    ours = parse_bids_name("some/folder/" + name)
    assert ours.entities == ref["entities"]
    assert ours.suffix == ref["suffix"]
    assert ours.extension == ref["extension"]


def test_parts_without_value_are_not_entities():
    # SPM realignment file and a non-BIDS crossover map
    assert bids_entities("rp_sub-01_task-pain_bold.txt") == {"sub": "01", "task": "pain"}
    assert bids_entities("sub-03_placebo_baseline.nii.gz") == {"sub": "03"}
    assert bids_entities("spmT_0001.nii") == {}
    assert bids_entities("sub-_desc-PAG_mask.nii.gz") == {"desc": "PAG"}


def test_name_without_suffix_or_extension():
    ref = parse_bids_name("sub-01_task-pain.nii.gz")
    assert ref.entities == {"sub": "01", "task": "pain"} and ref.suffix is None
    stem = parse_bids_name("sub-01_task-pain_desc-preproc_bold")
    assert stem.entities == {"sub": "01", "task": "pain", "desc": "preproc"}
    assert stem.suffix == "bold" and stem.extension == ""


def test_names_built_from_entities():
    assert bids_name({"sub": "01", "desc": "PAG"}, "mask") == "sub-01_desc-PAG_mask.nii.gz"
    assert derivative_prefix(
        "sub-01_task-pain_space-MNI_desc-preproc_bold.nii.gz"
    ) == "sub-01_task-pain_space-MNI"
    assert derivative_prefix("run_bold.nii.gz") == "run"
