"""Framewise displacement, readers of four motion formats and scrubbing."""

from pathlib import Path

import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.preproc.motion import (
    MotionParameters,
    assess_motion,
    framewise_displacement,
    read_motion,
    scrub_mask,
    write_motion,
)

NILEARN_FMRIPREP = Path(__import__("nilearn").__file__).parent / "interfaces/fmriprep/data"


def test_fd_by_hand_on_three_rows(tmp_path):
    # SPM rp: x y z (mm) pitch roll yaw (rad)
    rows = [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.1, -0.2, 0.3, 0.001, -0.002, 0.0],
        [0.1, 0.3, 0.3, 0.011, -0.002, 0.004],
    ]
    path = tmp_path / "rp_run.txt"
    path.write_text("\n".join("  ".join(f"{v:.6e}" for v in r) for r in rows) + "\n")
    fd = framewise_displacement(read_motion(path, "spm"))
    # row 1: 0.1 + 0.2 + 0.3 + 50 * (0.001 + 0.002) = 0.75
    # row 2: 0 + 0.5 + 0 + 50 * (0.010 + 0 + 0.004) = 1.2
    np.testing.assert_allclose(fd, [0.0, 0.75, 1.2], atol=1e-12)


@pytest.mark.parametrize(
    "name",
    ["test-v21_desc-confounds_timeseries.tsv", "no_nonsteady_desc-confounds_regressors.tsv"],
)
def test_fd_matches_fmriprep_column(name):
    """fMRIPrep's own framewise_displacement (nipype, radius 50) on real fMRIPrep output."""
    import pandas as pd

    path = NILEARN_FMRIPREP / name
    if not path.exists():
        pytest.skip("nilearn's fMRIPrep test confounds are not installed")
    fd = framewise_displacement(read_motion(path, "fmriprep"))
    theirs = pd.read_csv(path, sep="\t", na_values="n/a")["framewise_displacement"].to_numpy()
    assert np.isnan(theirs[0]) and fd[0] == 0
    np.testing.assert_allclose(fd[1:], theirs[1:], rtol=1e-6, atol=1e-6)


def test_same_motion_in_four_formats_gives_same_fd(tmp_path):
    rng = np.random.default_rng(3)
    trans = np.cumsum(rng.normal(0, 0.1, (40, 3)), axis=0)
    rot = np.cumsum(rng.normal(0, 0.002, (40, 3)), axis=0)
    params = MotionParameters(trans, rot)
    reference = framewise_displacement(params)
    suffix = {"spm": "rp_x.txt", "fsl": "x.par", "afni": "x.1D", "fmriprep": "x_confounds.tsv"}
    for fmt, name in suffix.items():
        path = write_motion(params, tmp_path / name, fmt)
        back = read_motion(path, fmt)
        np.testing.assert_allclose(framewise_displacement(back), reference, atol=1e-8, err_msg=fmt)
        np.testing.assert_allclose(back.translations, trans, atol=1e-8, err_msg=fmt)
        np.testing.assert_allclose(back.rotations, rot, atol=1e-10, err_msg=fmt)


def test_fsl_and_afni_column_orders_by_hand(tmp_path):
    # FSL: rx ry rz tx ty tz ; one rotation step of 0.01 rad and a 1 mm step in z.
    (tmp_path / "a.par").write_text("0 0 0 0 0 0\n0.01 0 0 0 0 1\n")
    fsl = read_motion(tmp_path / "a.par", "fsl")
    np.testing.assert_allclose(fsl.translations[1], [0, 0, 1])
    np.testing.assert_allclose(fsl.rotations[1], [0.01, 0, 0])
    # AFNI: roll pitch yaw (deg) dS dL dP (mm): 1 degree pitch, 2 mm to the left.
    (tmp_path / "a.1D").write_text("0 0 0 0 0 0\n0 1 0 0 2 0\n")
    afni = read_motion(tmp_path / "a.1D", "afni")
    np.testing.assert_allclose(afni.translations[1], [-2, 0, 0])  # left = -x in RAS+
    np.testing.assert_allclose(afni.rotations[1], [np.pi / 180, 0, 0])  # pitch about x
    np.testing.assert_allclose(framewise_displacement(afni)[1], 2 + 50 * np.pi / 180)


def test_scrub_threshold_and_neighbours():
    fd = np.array([0, 0.1, 0.6, 0.2, 0.1, 0.1, 0.9, 0.1])
    assert np.flatnonzero(scrub_mask(fd, 0.5)).tolist() == [2, 6]
    # Power 2014: one back, two forward
    assert np.flatnonzero(scrub_mask(fd, 0.5, before=1, after=2)).tolist() == [1, 2, 3, 4, 5, 6, 7]
    # exactly at threshold is kept (FD > threshold)
    assert not scrub_mask(np.array([0, 0.5]), 0.5).any()


def test_assess_motion_result_dict():
    trans = np.zeros((5, 3))
    trans[3, 0] = 1.0
    result = assess_motion(MotionParameters(trans, np.zeros((5, 3))), threshold=0.5)
    d = result.to_dict()
    assert d["fd"] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert d["n_scrubbed"] == 2 and d["scrub"] == [False, False, False, True, True]
    assert d["mean_fd"] == pytest.approx(0.5)  # mean over the 4 frame-to-frame steps
    assert result.sample_mask.tolist() == [0, 1, 2]


def test_bad_motion_files_name_file_and_line(tmp_path):
    bad = tmp_path / "rp_bad.txt"
    bad.write_text("0 0 0 0 0 0\n0 0 0 0 0\n")
    with pytest.raises(MilnaInputError, match=r"rp_bad\.txt: line 2 has 5 columns"):
        read_motion(bad, "spm")
    bad.write_text("0 0 0 0 0 0\n0 0 x 0 0 0\n")
    with pytest.raises(MilnaInputError, match=r"line 2 holds a non-numeric cell 'x'"):
        read_motion(bad, "spm")
    tsv = tmp_path / "c.tsv"
    tsv.write_text("trans_x\ttrans_y\n0\t0\n")
    with pytest.raises(MilnaInputError, match="has no column trans_z"):
        read_motion(tsv, "fmriprep")
    tsv.write_text("trans_x\ttrans_y\ttrans_z\trot_x\trot_y\trot_z\n0\t0\t0\t0\t0\t0\n0\tn/a\t0\t0\t0\t0\n")
    with pytest.raises(MilnaInputError, match="line 3 holds a non-numeric trans_y"):
        read_motion(tsv, "fmriprep")
