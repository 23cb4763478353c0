import tracemalloc

import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.nifti import LazyRun, load_volume, nifti_stem, open_nifti
from tests.conftest import make_affine, write_nifti


def test_open_run_is_lazy_and_volumes_match_nibabel(epi_run):
    source = open_nifti(epi_run)
    assert source.is_run and source.n_volumes == 12 and source.tr == pytest.approx(2.0)
    run = source.run()
    assert run.shape == (12, 32, 40, 20)
    assert run._cache == {} or len(run._cache) == 0  # nothing read on opening
    full = np.asarray(nib.load(str(epi_run)).dataobj)
    for t in (0, 7, 11, 3):
        np.testing.assert_array_equal(run[t], full[..., t])
    np.testing.assert_array_equal(run[5, 3:6, 2, 4], full[3:6, 2, 4, 5])
    np.testing.assert_array_equal(run[2:4, 1, 1, 1], full[1, 1, 1, 2:4])
    np.testing.assert_array_equal(run.timeseries((3, 4, 5)), full[3, 4, 5, :])
    np.testing.assert_array_equal(run.chunk(4, 9), full[..., 4:9])


def test_lazy_volume_read_uses_a_fraction_of_the_run_memory(tmp_path):
    data = np.ones((64, 64, 32, 60), np.int16)
    path = write_nifti(tmp_path / "big_bold.nii", data, np.eye(4))
    tracemalloc.start()
    run = LazyRun(open_nifti(path))
    run.volume(30)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < data.nbytes / 10


def test_scaled_data_become_float32(tmp_path):
    img = nib.Nifti1Image(np.arange(27, dtype=np.int16).reshape(3, 3, 3), np.eye(4))
    img.header.set_slope_inter(0.5, 10)
    nib.save(img, str(tmp_path / "scaled.nii"))
    vol = load_volume(tmp_path / "scaled.nii").volume()
    assert vol.dtype == np.float32
    np.testing.assert_allclose(vol, np.arange(27).reshape(3, 3, 3) * 0.5 + 10)


def test_hdr_img_pair_and_nifti2(tmp_path):
    affine = make_affine((2, 2, 2), (-10, -10, -10))
    data = np.random.default_rng(1).normal(size=(5, 6, 7)).astype(np.float32)
    nib.save(nib.Nifti1Pair(data, affine), str(tmp_path / "pair.img"))
    nib.save(nib.Nifti2Image(data, affine), str(tmp_path / "two.nii"))
    for name in ("pair.hdr", "two.nii"):
        src = load_volume(tmp_path / name)
        np.testing.assert_allclose(src.volume(), data)
        np.testing.assert_allclose(src.grid.affine, affine)


def test_trailing_singleton_dimension_is_a_volume(tmp_path):
    path = write_nifti(tmp_path / "one.nii", np.ones((4, 5, 6, 1), np.float32), np.eye(4))
    src = load_volume(path)
    assert src.shape == (4, 5, 6) and not src.is_run


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("not_nifti", "not a readable NIfTI"),
        ("truncated_gz", "truncated"),
        ("absurd_dims", "not a plausible image"),
        ("absurd_dims_gz", "not a plausible image"),
        ("two_d", "2D"),
        ("five_d", "5D"),
        ("all_nan", "no finite values"),
        ("truncated_nii", "truncated"),
    ],
)
def test_bad_files_give_one_sentence_naming_the_file(bad_files, key, words):
    path = bad_files[key]
    with pytest.raises(MilnaInputError) as err:
        load_volume(path, allow_run=True)
    message = str(err.value)
    assert (
        str(path) in message.replace(str(path.with_suffix("")), str(path)) or path.name in message
    )
    assert words in message
    assert "\n" not in message and message.endswith(".")


def test_missing_and_wrong_suffix(tmp_path):
    with pytest.raises(MilnaInputError, match="does not exist"):
        open_nifti(tmp_path / "nothing.nii")
    other = tmp_path / "table.csv"
    other.write_text("a,b\n")
    with pytest.raises(MilnaInputError, match="not a NIfTI file"):
        open_nifti(other)


def test_run_where_volume_needed(epi_run):
    with pytest.raises(MilnaInputError, match="4D run of 12 volumes"):
        load_volume(epi_run)


def test_nifti_stem():
    assert nifti_stem("/a/sub-01_bold.nii.gz") == "sub-01_bold"
    assert nifti_stem("spmT_0001.nii") == "spmT_0001"
    assert nifti_stem("x.hdr") == "x"


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_iter_chunks_walks_the_run_once_in_order(tmp_path, suffix):
    rng = np.random.default_rng(3)
    data = rng.integers(-300, 300, size=(6, 5, 4, 11)).astype(np.int16)
    path = write_nifti(tmp_path / f"run_bold{suffix}", data, np.eye(4))
    chunks = list(open_nifti(path).run().iter_chunks(3))
    assert [(a, b) for a, b, _ in chunks] == [(0, 3), (3, 6), (6, 9), (9, 11)]
    assert all(c.dtype == np.float64 for _, _, c in chunks)
    np.testing.assert_array_equal(np.concatenate([c for _, _, c in chunks], axis=3), data)


def test_iter_chunks_names_a_file_truncated_after_opening(tmp_path):
    data = np.ones((8, 8, 8, 6), np.float32)
    path = write_nifti(tmp_path / "run_bold.nii.gz", data, np.eye(4))
    run = open_nifti(path).run()
    import gzip

    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) - 3000]))
    with pytest.raises(MilnaInputError, match="truncated"):
        list(run.iter_chunks(2))
