"""The public API (napari_milna.api): re-exported lazily, documented, examples that run."""

import doctest
import importlib
import inspect
import json
import re

import nibabel as nib
import numpy as np
import pytest

import napari_milna
from napari_milna import api
from napari_milna.cli import main
from napari_milna.core.errors import MilnaInputError

#: Modules whose docstring examples run as part of the suite.
DOCTEST_MODULES = [
    "napari_milna.api",
    "napari_milna.core.jobs",
    "napari_milna.core.io.bids",
    "napari_milna.core.io.geometry",
    "napari_milna.core.results",
]

REQUIRED = ["napari_milna.api." + name for name in (
    "open_image", "seed_roi", "roi_facts", "small_volume_correction", "sign_flip_test",
    "run_qc", "crossover", "retroicor", "framewise_displacement", "first_level",
    "multi_echo",
)]

SECTIONS = ("Parameters", "Returns", "Raises", "See Also", "Examples")


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0


def test_every_api_name_is_reexported_and_documented():
    assert sorted(api.__all__) == sorted(n for n in napari_milna.__all__ if n != "__version__")
    assert sorted(api.__all__) == sorted(name.rsplit(".", 1)[1] for name in REQUIRED)
    for name in api.__all__:
        fn = getattr(napari_milna, name)
        assert fn is getattr(api, name)
        doc = inspect.getdoc(fn)
        for section in SECTIONS:
            assert re.search(rf"^{section}\n-+$", doc, re.M), f"{name} lacks {section}"
        parameters = doc.split("Parameters\n----------\n", 1)[1].split("\nReturns\n", 1)[0]
        for param in inspect.signature(fn).parameters:
            assert re.search(rf"^(\w+, )*{param}( :|,|$)", parameters, re.M), (name, param)
    with pytest.raises(AttributeError):
        napari_milna.no_such_function  # noqa: B018


AFFINE = np.array([[-2.5, 0, 0, 20.0], [0, 2.5, 0, -50.0], [0, 0, 3.0, -40.0], [0, 0, 0, 1]])


def _spm_files(tmp_path):
    rng = np.random.default_rng(5)
    t = rng.uniform(-1.5, 1.5, (14, 14, 12)).astype(np.float32)
    t[6, 7, 6] = 4.4
    stat = nib.Nifti1Image(t, AFFINE)
    stat.header["descrip"] = b"SPM{T_[20.0]} - contrast 1: drug x pain"
    roi = np.zeros((14, 14, 12), np.uint8)
    roi[3:8, 3:8, 3:8] = 1
    nib.save(stat, tmp_path / "spmT_0001.nii")
    nib.save(nib.Nifti1Image(roi, AFFINE), tmp_path / "pag_mask.nii.gz")
    return tmp_path / "spmT_0001.nii", tmp_path / "pag_mask.nii.gz"


def test_api_svc_equals_the_cli_on_files_and_on_images(tmp_path, capsys):
    stat, roi = _spm_files(tmp_path)
    assert main(["svc", str(stat), str(roi), "--fwhm", "6", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    from_files = api.small_volume_correction(stat, roi, fwhm_mm=6).to_dict()
    from_images = api.small_volume_correction(nib.load(stat), nib.load(roi), fwhm_mm=6).to_dict()
    for key in ("n_voxels", "resels", "df", "peak", "threshold_fwe", "clusters"):
        assert from_files[key] == cli[key]
        assert from_images[key] == cli[key]


def test_niimg_like_inputs_and_one_sentence_errors(tmp_path):
    stat, roi = _spm_files(tmp_path)
    from_path = api.open_image(stat)
    assert api.open_image(from_path) is from_path
    assert api.open_image(nib.load(stat)).grid.matches(from_path.grid)
    with pytest.raises(MilnaInputError, match="nope.nii: does not exist"):
        api.open_image(tmp_path / "nope.nii")
    with pytest.raises(MilnaInputError, match="give its format"):
        api.framewise_displacement(tmp_path / "rp_sub-01.txt")
    other = nib.Nifti1Image(np.ones((5, 5, 5), np.uint8), np.eye(4))
    with pytest.raises(MilnaInputError, match="different voxel grid"):
        api.small_volume_correction(stat, other, fwhm_mm=6)


def test_framewise_displacement_by_hand():
    # Power 2012: |dx|+|dy|+|dz| + 50 mm (|drx|+|dry|+|drz|)
    params = np.array([[0, 0, 0, 0, 0, 0], [0.2, -0.1, 0.05, 0.002, -0.001, 0.0]])
    fd = api.framewise_displacement(params)
    assert fd.tolist() == pytest.approx([0.0, 0.35 + 50 * 0.003])
    assert api.framewise_displacement(params, radius=80)[1] == pytest.approx(0.35 + 80 * 0.003)
