"""Slice acquisition times and the slice through a world coordinate."""

import json

import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.preproc.slice_timing import (
    read_bold_sidecar,
    slice_order,
    slice_through,
    slice_times_from_order,
    slice_times_from_sidecar,
    volume_sample_times,
)


def test_interleaved_orders_by_hand():
    assert slice_order(5, "interleaved").tolist() == [0, 2, 4, 1, 3]
    assert slice_order(6, "interleaved_siemens").tolist() == [1, 3, 5, 0, 2, 4]
    assert slice_order(5, "interleaved_siemens").tolist() == [0, 2, 4, 1, 3]
    # TR 2.5 s, 5 slices interleaved: slice 0 at 0, slice 2 at 0.5, slice 4 at 1.0, slice 1 at 1.5
    np.testing.assert_allclose(slice_times_from_order(5, 2.5, "interleaved"),
                               [0.0, 1.5, 0.5, 2.0, 1.0])
    np.testing.assert_allclose(slice_times_from_order(3, 3.0, "descending"), [2.0, 1.0, 0.0])


def test_sidecar_slice_timing_and_negative_direction(tmp_path):
    side = tmp_path / "sub-01_task-pain_bold.json"
    side.write_text(json.dumps({"SliceTiming": [0.0, 1.0, 0.5], "RepetitionTime": 1.5}))
    meta = read_bold_sidecar(tmp_path / "sub-01_task-pain_bold.nii.gz")
    np.testing.assert_allclose(slice_times_from_sidecar(meta), [0.0, 1.0, 0.5])
    meta["SliceEncodingDirection"] = "k-"
    np.testing.assert_allclose(slice_times_from_sidecar(meta), [0.5, 1.0, 0.0])
    with pytest.raises(MilnaInputError, match="does not exist"):
        read_bold_sidecar(tmp_path / "other_bold.nii.gz")


def test_slice_through_pag_coordinate():
    # 2.5 x 2.5 x 3 mm MNI-like grid, origin chosen so voxel (40, 50, 20) is (0, -31, -9).
    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    affine[:3, 3] = [0 - 40 * 2.5, -31 - 50 * 2.5, -9 - 20 * 3.0]
    grid = Grid((80, 100, 40), affine)
    assert slice_through(grid, (0.5, -31, -9)) == 20
    assert slice_through(grid, (0.5, -31, -10.4)) == 20  # within half a 3 mm slice
    assert slice_through(grid, (0.5, -31, -10.6)) == 19
    with pytest.raises(MilnaInputError, match="outside the BOLD grid"):
        slice_through(grid, (0, 0, 500))


def test_volume_sample_times():
    np.testing.assert_allclose(volume_sample_times(3, 2.0, 0.5), [0.5, 2.5, 4.5])
    with pytest.raises(ValueError):
        volume_sample_times(3, 2.0, 2.5)


def _bold(tmp_path, name="sub-01_task-pain_bold.nii.gz", header_times=None):
    import nibabel as nib

    affine = np.diag([2.5, 2.5, 3.0, 1.0])
    affine[:3, 3] = [-10, -45, -30]
    img = nib.Nifti1Image(np.zeros((8, 8, 6, 3), np.float32), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 2.4
    if header_times is not None:
        img.header.set_dim_info(slice=2)
        img.header.set_slice_duration(2.4 / 6)
        img.header.set_slice_times(header_times)
    path = tmp_path / name
    nib.save(img, path)
    return path


def test_choose_slice_time_sources(tmp_path):
    from napari_milna.core.preproc.slice_timing import choose_slice_time

    bold = _bold(tmp_path)
    assert choose_slice_time(bold, slice_time=0.3).time == 0.3
    with pytest.raises(MilnaInputError, match="gives no slice to sample"):
        choose_slice_time(bold)
    with pytest.raises(MilnaInputError, match="stores no slice timing"):
        choose_slice_time(bold, slice_index=2)
    # TR 2.4 s, 6 slices interleaved 0 2 4 1 3 5: slice 3 is acquired 5th -> 4 * 0.4 s
    choice = choose_slice_time(bold, slice_index=3, slice_order="interleaved")
    assert choice.time == pytest.approx(1.6) and choice.index == 3
    # the world point z = -30 + 3 * 3 = -21 mm lies in slice 3
    assert choose_slice_time(bold, at=(0, -31, -21), slice_order="interleaved").index == 3
    side = tmp_path / "sub-01_task-pain_bold.json"
    side.write_text(json.dumps({"SliceTiming": [0, 1.2, 0.4, 1.6, 0.8, 2.0]}))
    assert choose_slice_time(bold, slice_index=3).time == pytest.approx(1.6)
    side.write_text(json.dumps({"SliceTimingCorrected": True, "StartTime": 1.2}))
    choice = choose_slice_time(bold)
    assert choice.time == 1.2 and "slice-timing corrected" in choice.source
    header = _bold(tmp_path, "h_bold.nii.gz", header_times=[0, 1.2, 0.4, 1.6, 0.8, 2.0])
    choice = choose_slice_time(header, slice_index=4)
    assert choice.time == pytest.approx(0.8) and choice.source == "NIfTI header slice timing"
