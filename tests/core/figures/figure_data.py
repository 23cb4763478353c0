"""Small synthetic maps for the figure tests, written and read back with nibabel."""

from __future__ import annotations

import nibabel as nib
import numpy as np
from PIL import Image

from napari_milna.core.io.geometry import Grid
from napari_milna.core.viewer.display_values import StatRamp

#: A 2.5 x 2.5 x 3 mm LAS grid (x flipped, as SPM writes), z from -60 to 12 mm.
STAT_AFFINE = np.array(
    [[-2.5, 0, 0, 30.0], [0, 2.5, 0, -60.0], [0, 0, 3.0, -60.0], [0, 0, 0, 1]]
)
STAT_SHAPE = (25, 30, 25)
#: A 1 mm RAS underlay over the same field.
ANAT_AFFINE = np.array([[1.0, 0, 0, -32.0], [0, 1, 0, -62.0], [0, 0, 1, -62.0], [0, 0, 0, 1]])
ANAT_SHAPE = (65, 78, 78)
THRESHOLD = 3.0
VMAX = 8.0


def write_maps(folder):
    """A T map (df 14) with planted voxels, a 1 mm underlay and an ROI; paths."""
    rng = np.random.default_rng(12)
    t = rng.normal(0, 1.0, STAT_SHAPE).clip(-2.5, 2.5).astype(np.float32)
    planted = {
        (12, 10, 12): 7.25,
        (13, 11, 12): 4.0,
        (5, 20, 15): 5.5,
        (18, 8, 9): -6.0,
        (20, 22, 16): -3.6,
        (14, 14, 14): 8.0,
    }
    for ijk, value in planted.items():
        t[ijk] = value
    t[0, 0, 0] = np.nan
    tmap = nib.Nifti1Image(t, STAT_AFFINE)
    tmap.header["descrip"] = b"SPM{T_[14.0]} - test"
    nib.save(tmap, folder / "spmT_0001.nii")
    anat = np.indices(ANAT_SHAPE).sum(axis=0).astype(np.float32)  # a smooth ramp
    nib.save(nib.Nifti1Image(anat, ANAT_AFFINE), folder / "anat.nii.gz")
    roi = np.zeros(STAT_SHAPE, np.uint8)
    roi[11:15, 9:13, 11:14] = 1
    nib.save(nib.Nifti1Image(roi, STAT_AFFINE), folder / "roi.nii.gz")
    return folder / "spmT_0001.nii", folder / "anat.nii.gz", folder / "roi.nii.gz", planted


def load(path):
    """Data and Grid of a NIfTI file, read by nibabel."""
    img = nib.load(str(path))
    return np.asarray(img.dataobj, dtype=np.float64), Grid(img.shape[:3], img.affine)


def ramp():
    """The test maps' two-sided ramp."""
    return StatRamp(THRESHOLD, VMAX, True)


def voxel_world(affine, ijk) -> np.ndarray:
    """World mm of a voxel centre (nibabel)."""
    return nib.affines.apply_affine(affine, np.asarray(ijk, dtype=float))


def png_pixel(png_path, figure, axes, col_mm, row_mm) -> np.ndarray:
    """RGB (0-255) of a saved PNG at a point given in an axes' data coordinates.

    matplotlib's own transforms give the point in figure fractions; the PNG's size
    turns those into a pixel (rows counted from the top).
    """
    display = axes.transData.transform((col_mm, row_mm))
    fx, fy = figure.transFigure.inverted().transform(display)
    image = np.asarray(Image.open(png_path).convert("RGB"))
    height, width = image.shape[:2]
    col = int(np.floor(fx * width))
    row = int(np.floor((1.0 - fy) * height))
    return image[row, col].astype(float)


def value_from_colour(rgb255) -> float:
    """Invert the stat ramp by hand: red -> yellow (T >= thr), blue -> light blue (T <= -thr).

    Warm half: (1, 0, 0) at the threshold to (1, 1, 0) at the top, so green = the
    fraction of the way. Cool half: (0, 0.25, 1) at -threshold to (0.55, 0.9, 1) at
    -top, so green runs 0.25 -> 0.9.
    """
    r, g, b = np.asarray(rgb255, dtype=float) / 255.0
    if r > 0.9 and b < 0.1:
        return THRESHOLD + g * (VMAX - THRESHOLD)
    if b > 0.9:
        return -(THRESHOLD + (g - 0.25) / 0.65 * (VMAX - THRESHOLD))
    raise AssertionError(f"{rgb255} is not a colour of the ramp")
