import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.nifti_write import build_image, save_image, save_like, with_nifti_suffix
from tests.conftest import write_nifti


def test_save_like_keeps_grid_codes_and_voxels_on_oblique_las(tmp_path, oblique_epi):
    source = nib.load(str(oblique_epi))
    labels = np.zeros(source.shape[:3], np.uint8)
    labels[3, 17, 9] = 2
    out = save_like(labels, source, tmp_path / "sub-01_desc-PAG_mask")
    assert out.name == "sub-01_desc-PAG_mask.nii.gz"
    back = nib.load(str(out))
    np.testing.assert_array_equal(np.argwhere(np.asarray(back.dataobj)), [[3, 17, 9]])
    np.testing.assert_allclose(back.affine, source.affine, atol=1e-6)
    s_src, s_code = source.header.get_sform(coded=True)
    s_back, s_back_code = back.header.get_sform(coded=True)
    q_src, q_code = source.header.get_qform(coded=True)
    q_back, q_back_code = back.header.get_qform(coded=True)
    assert (s_back_code, q_back_code) == (s_code, q_code) == (1, 1)
    np.testing.assert_allclose(s_back, s_src, atol=1e-6)
    np.testing.assert_allclose(q_back, q_src, atol=1e-5)
    assert back.header.get_data_dtype() == np.uint8
    assert back.header.get_xyzt_units() == source.header.get_xyzt_units()


def test_no_silent_overwrite_and_atomic(tmp_path):
    img = build_image(np.ones((3, 3, 3), np.uint8), affine=np.eye(4))
    path = save_image(img, tmp_path / "roi.nii.gz")
    with pytest.raises(MilnaInputError, match="already exists"):
        save_image(img, path)
    save_image(build_image(np.zeros((3, 3, 3), np.uint8), affine=np.eye(4)), path, overwrite=True)
    assert np.asarray(nib.load(str(path)).dataobj).sum() == 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_pair_and_suffixes(tmp_path):
    assert with_nifti_suffix(tmp_path / "a").name == "a.nii.gz"
    assert with_nifti_suffix(tmp_path / "a.nii").name == "a.nii"
    src = nib.load(str(write_nifti(tmp_path / "src.nii", np.zeros((4, 4, 4), np.float32),
                                   np.diag([2.0, 2, 2, 1]))))
    out = save_like(np.ones((4, 4, 4), np.int16), src, tmp_path / "roi.hdr")
    back = nib.load(str(out))
    assert isinstance(back, nib.Nifti1Pair)
    np.testing.assert_allclose(back.affine, src.affine)


def test_description_written(tmp_path):
    src = nib.load(str(write_nifti(tmp_path / "src.nii", np.zeros((4, 4, 4), np.float32),
                                   np.eye(4))))
    out = save_like(np.zeros((4, 4, 4), np.float32), src, tmp_path / "spmT_0001.nii",
                    description="SPM{T_[14.0]} - drug x pain")
    assert nib.load(str(out)).header["descrip"].item().startswith(b"SPM{T_[14.0]}")


def test_written_files_get_the_permissions_of_any_new_file(tmp_path):
    """Atomic writes go through a temporary file, which is owner-only: not the result."""
    import os
    import stat

    from napari_milna.core.io.tables import atomic_write_text

    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what open() gives under this process's umask
    expected = stat.S_IMODE(os.stat(plain).st_mode)
    nii = save_image(build_image(np.ones((2, 2, 2), np.uint8), affine=np.eye(4)), tmp_path / "m")
    tsv = atomic_write_text(tmp_path / "t.tsv", "a\tb\n")
    assert stat.S_IMODE(os.stat(nii).st_mode) == expected
    assert stat.S_IMODE(os.stat(tsv).st_mode) == expected
