"""File names of the sample study, relative to its root folder.

The study is laid out like a BIDS dataset with derivatives: the raw ``sub-01`` folder
holds what the scanner gives (events, physiology), ``derivatives/fmriprep`` what
fMRIPrep would write (preprocessed run in MNI space, masks, tissue probabilities,
confounds), ``derivatives/spm`` SPM's realignment parameters, ``derivatives/firstlevel``
the 15-subject crossover effect maps with their study table, and
``derivatives/secondlevel`` the SPM-style group t map. ``truth.json`` and ``truth/``
say what was planted.
"""

from __future__ import annotations

#: Bump when the generated data change in any way: the cache folder is versioned by it.
SAMPLE_VERSION = 6

#: Seed of every random stream in the generator (``numpy.random.default_rng([SEED, k])``).
SAMPLE_SEED = 20240607

#: Written last: its presence (with the right version) marks a complete study.
COMPLETE_MARKER = ".sample-study-complete.json"

SUBJECT = "sub-01"
TASK = "pain"
#: Space label of the files. The anatomy comes from nilearn's copy of the ICBM 2009a
#: symmetric template, which is close to (not voxel-identical with) TemplateFlow's
#: MNI152NLin2009cSym; the label follows the fMRIPrep naming asked for by the project.
SPACE = "MNI152NLin2009cSym"

_FMRIPREP = "derivatives/fmriprep"
_FUNC = f"{_FMRIPREP}/{SUBJECT}/func/{SUBJECT}_task-{TASK}"
_ANAT = f"{_FMRIPREP}/{SUBJECT}/anat/{SUBJECT}_space-{SPACE}"
FIRSTLEVEL_DIR = "derivatives/firstlevel"
SECONDLEVEL_DIR = "derivatives/secondlevel/drug_x_pain"
#: The same second level as FSL FEAT would lay it out (one cope of a group FEAT).
FEAT_DIR = "derivatives/secondlevel/drug_x_pain.gfeat/cope1.feat"

#: Attribute name of :class:`~napari_milna.sample_data.study.SampleStudy` -> relative path.
PATHS = {
    "anat_t1w": f"{_ANAT}_desc-preproc_T1w.nii.gz",
    "gm_probseg": f"{_ANAT}_label-GM_probseg.nii.gz",
    "wm_probseg": f"{_ANAT}_label-WM_probseg.nii.gz",
    "csf_probseg": f"{_ANAT}_label-CSF_probseg.nii.gz",
    "anat_t1w_1mm": f"{_ANAT}_res-1_desc-preproc_T1w.nii.gz",
    "gm_probseg_1mm": f"{_ANAT}_res-1_label-GM_probseg.nii.gz",
    "wm_probseg_1mm": f"{_ANAT}_res-1_label-WM_probseg.nii.gz",
    "csf_probseg_1mm": f"{_ANAT}_res-1_label-CSF_probseg.nii.gz",
    "bold": f"{_FUNC}_space-{SPACE}_desc-preproc_bold.nii.gz",
    "bold_json": f"{_FUNC}_space-{SPACE}_desc-preproc_bold.json",
    "brain_mask": f"{_FUNC}_space-{SPACE}_desc-brain_mask.nii.gz",
    "confounds": f"{_FUNC}_desc-confounds_timeseries.tsv",
    "events": f"{SUBJECT}/func/{SUBJECT}_task-{TASK}_events.tsv",
    "physio": f"{SUBJECT}/func/{SUBJECT}_task-{TASK}_physio.tsv.gz",
    "physio_json": f"{SUBJECT}/func/{SUBJECT}_task-{TASK}_physio.json",
    "spm_rp": f"derivatives/spm/{SUBJECT}/func/rp_{SUBJECT}_task-{TASK}_bold.txt",
    "participants": "participants.tsv",
    "crossover_table": f"{FIRSTLEVEL_DIR}/crossover.tsv",
    "group_tmap": f"{SECONDLEVEL_DIR}/spmT_0001.nii",
    "group_con": f"{SECONDLEVEL_DIR}/con_0001.nii",
    "group_mask": f"{SECONDLEVEL_DIR}/mask.nii",
    "group_spm_mat": f"{SECONDLEVEL_DIR}/SPM.mat",
    "group_rpv": f"{SECONDLEVEL_DIR}/RPV.nii",
    "group_resms": f"{SECONDLEVEL_DIR}/ResMS.nii",
    "group_feat_dir": FEAT_DIR,
    "regions_dseg": f"truth/space-{SPACE}_desc-planted_dseg.nii.gz",
    "regions_tsv": f"truth/space-{SPACE}_desc-planted_dseg.tsv",
    "dropout_map": f"truth/space-{SPACE}_desc-dropout_factor.nii.gz",
    "physio_sd_map": f"truth/space-{SPACE}_desc-physiosd_percent.nii.gz",
    "truth_json": "truth.json",
}

#: The multi-echo run (:mod:`.multiecho`): echoes ``me_bold_echo<n>``, their sidecars
#: ``me_json_echo<n>``, and the planted T2* (s) and S0 maps.
_ME = f"{_FMRIPREP}/{SUBJECT}/func/{SUBJECT}_task-{TASK}_acq-multiecho"
for _n in (1, 2, 3):
    PATHS[f"me_bold_echo{_n}"] = f"{_ME}_echo-{_n}_space-{SPACE}_desc-preproc_bold.nii.gz"
    PATHS[f"me_json_echo{_n}"] = f"{_ME}_echo-{_n}_space-{SPACE}_desc-preproc_bold.json"
PATHS["me_t2star_truth"] = f"truth/space-{SPACE}_desc-multiecho_T2starmap.nii.gz"
PATHS["me_s0_truth"] = f"truth/space-{SPACE}_desc-multiecho_S0map.nii.gz"


def effect_map_path(subject: str, treatment: str, condition: str) -> str:
    """Path of one first-level effect map, relative to :data:`FIRSTLEVEL_DIR`.

    Parameters
    ----------
    subject : str
        ``"sub-01"`` .. ``"sub-15"``.
    treatment : {"drug", "placebo"}
        Used as the BIDS session label.
    condition : {"pain", "baseline"}

    Returns
    -------
    str
    """
    return (
        f"{subject}/ses-{treatment}/{subject}_ses-{treatment}_task-{TASK}_space-{SPACE}"
        f"_contrast-{condition}_stat-effect_statmap.nii.gz"
    )
