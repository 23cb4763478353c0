import numpy as np
import pytest

from napari_milna.core.io.kinds import ImageKind, classify, parse_spm_description
from napari_milna.core.io.nifti import load_volume, open_nifti
from tests.conftest import write_nifti


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SPM{T_[20.0]} - contrast 1: pain", ("T", 20.0)),
        ("SPM{F_[1.0,20.0]} - effects of interest", ("F", (1.0, 20.0))),
        ("SPM{T_[14.5]}", ("T", 14.5)),
        ("FSL5.0", (None, None)),
        ("", (None, None)),
    ],
)
def test_parse_spm_description(text, expected):
    assert parse_spm_description(text) == expected


def test_spm_t_map_df_from_header(spm_tmap):
    info = classify(load_volume(spm_tmap))
    assert (info.kind, info.stat_type, info.df, info.source) == (ImageKind.STAT, "T", 20.0, "SPM")


def test_epi_run(epi_run):
    assert classify(open_nifti(epi_run)).kind == ImageKind.RUN


@pytest.mark.parametrize(
    ("name", "data", "kind", "stat"),
    [
        ("zstat1.nii.gz", np.linspace(-4, 4, 512), ImageKind.STAT, "Z"),
        (
            "sub-01_contrast-pain_stat-t_statmap.nii.gz",
            np.linspace(-4, 4, 512),
            ImageKind.STAT,
            "T",
        ),
        ("cope1.nii.gz", np.linspace(-4, 4, 512), ImageKind.CONTRAST, None),
        ("con_0001.nii", np.linspace(-4, 4, 512), ImageKind.CONTRAST, None),
        ("beta_0003.nii", np.linspace(-4, 4, 512), ImageKind.BETA, None),
        ("ResMS.nii", np.linspace(1, 4, 512), ImageKind.VARIANCE, None),
        ("RPV.nii", np.linspace(0.01, 0.04, 512), ImageKind.RESELS_PER_VOXEL, None),
        ("mask.nii", (np.arange(512) > 100).astype(np.uint8), ImageKind.MASK, None),
        (
            "sub-01_desc-brain_mask.nii.gz",
            (np.arange(512) > 9).astype(np.uint8),
            ImageKind.MASK,
            None,
        ),
        ("sub-01_label-CSF_probseg.nii.gz", np.linspace(0, 1, 512), ImageKind.CSF, None),
        ("T1_brain_pve_0.nii.gz", np.linspace(0, 1, 512), ImageKind.CSF, None),
        ("whatever.nii", (np.arange(512) % 5).astype(np.int16), ImageKind.LABELS, None),
        ("anat.nii", np.linspace(0, 900, 512), ImageKind.IMAGE, None),
    ],
)
def test_kinds_from_names_and_values(tmp_path, name, data, kind, stat):
    path = write_nifti(tmp_path / name, data.reshape(8, 8, 8).astype(data.dtype), np.eye(4))
    info = classify(load_volume(path))
    assert info.kind == kind
    assert info.stat_type == stat


def test_fsl_tstat_reads_dof(tmp_path):
    stats = tmp_path / "stats"
    stats.mkdir()
    (stats / "dof").write_text("27\n")
    path = write_nifti(
        stats / "tstat1.nii.gz", np.linspace(-3, 3, 512).reshape(8, 8, 8), np.eye(4)
    )
    info = classify(load_volume(path))
    assert (info.stat_type, info.df) == ("T", 27.0)
