"""The sample grid and the anatomy on it, from the MNI152 templates nilearn ships offline.

Grid (MNI-aligned, RAS+, sform = qform code 4 "MNI"): voxels of 2.5 x 2.5 x 3.0 mm,
shape 61 x 75 x 53, voxel centres x -75..75, y -110..75, z -72..84 mm; the affine is
``diag(2.5, 2.5, 3.0)`` with origin (-75, -110, -72). It covers nilearn's MNI brain
mask (x -72..72, y -106..72, z -72..82 at 2 mm) including the whole brainstem and
cerebellum.

Tissue maps: nilearn's ICBM 2009 symmetric GM / WM probability templates and brain
mask (``load_mni152_gm_template``, ``load_mni152_wm_template``,
``load_mni152_brain_mask``, 2 mm), resampled trilinearly onto the grid. The CSF
probability is ``1 - GM - WM`` inside the brain (clipped to [0, 1]): the ventricles,
the cerebral aqueduct and the fourth ventricle come out high, as in the template.

At 1 mm (:func:`build_anatomy_1mm`, the display underlay): nilearn's 1 mm files as
nilearn loads them (``resolution=1``, 197 x 233 x 189 voxels, values rescaled to 0..1,
no resampling). nilearn ships no CSF probability, so the CSF map is derived the same
way: ``1 - GM - WM`` inside nilearn's 1 mm brain mask (T1 > 0.2), clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from nilearn import datasets

from napari_milna.core.io.geometry import Grid
from napari_milna.core.io.resample import resample_to_grid

#: Voxel size in mm (x, y, z).
VOXEL_SIZE_MM = (2.5, 2.5, 3.0)
#: World mm of the centre of voxel (0, 0, 0).
ORIGIN_MM = (-75.0, -110.0, -72.0)
#: Grid shape (i, j, k); k is the slice axis.
SHAPE = (61, 75, 53)

#: Baseline EPI intensity of pure tissue (T2*-weighted gradient echo, TE 30 ms at 3 T:
#: CSF brightest, grey about 10 % above white matter), arbitrary scanner units. With
#: WM at 0.91 x GM, SPM's implicit mask (0.8 x global) keeps white matter and deep
#: grey matter and drops what it drops in real data: dropout regions and the edges.
EPI_INTENSITY = {"csf": 1000.0, "gm": 780.0, "wm": 710.0}
#: Receive-coil bias field: 1 + BIAS_GAIN * (r / BIAS_RADIUS_MM)^2 around BIAS_CENTRE_MM,
#: i.e. a brighter cortex and a darker centre (brainstem) as with a multi-channel head coil.
BIAS_CENTRE_MM = (0.0, -20.0, 15.0)
BIAS_RADIUS_MM = 80.0
BIAS_GAIN = 0.2


def sample_affine() -> np.ndarray:
    """The 4 x 4 voxel -> MNI mm affine of the sample grid."""
    affine = np.diag([*VOXEL_SIZE_MM, 1.0])
    affine[:3, 3] = ORIGIN_MM
    return affine


def sample_grid() -> Grid:
    """The sample study's voxel grid."""
    return Grid(SHAPE, sample_affine())


@dataclass(frozen=True)
class Anatomy:
    """Tissue maps on the sample grid (float64 unless said).

    Attributes
    ----------
    grid : Grid
    t1w : ndarray
        MNI T1 template intensity (0..1), for display.
    gm, wm, csf : ndarray
        Tissue probabilities, zero outside the brain; ``gm + wm + csf == 1`` inside.
    brain : ndarray of bool
        Brain mask.
    """

    grid: Grid
    t1w: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    csf: np.ndarray
    brain: np.ndarray

    def epi_baseline(self) -> np.ndarray:
        """Mean EPI intensity per voxel (tissue mix x bias field), zero outside the brain."""
        s0 = (
            EPI_INTENSITY["csf"] * self.csf
            + EPI_INTENSITY["gm"] * self.gm
            + EPI_INTENSITY["wm"] * self.wm
        )
        xyz = self.grid.voxel_centres_mm()
        r2 = ((xyz - np.asarray(BIAS_CENTRE_MM)) ** 2).sum(axis=-1) / BIAS_RADIUS_MM**2
        return s0 * (1.0 + BIAS_GAIN * r2) * self.brain


def _template(loader, grid: Grid) -> np.ndarray:
    img = loader(resolution=2)
    data = np.asarray(img.get_fdata(), dtype=np.float64)
    return resample_to_grid(data, Grid.of(img), grid, order=1)


@dataclass(frozen=True)
class Anatomy1mm:
    """nilearn's 1 mm MNI152 2009 templates, on their own grid (float32).

    Attributes
    ----------
    affine : ndarray, shape (4, 4)
        nilearn's affine (1 mm, RAS, origin (-98, -134, -72)).
    t1w, gm, wm : ndarray
        T1 intensity and GM / WM probability as nilearn loads them (0..1).
    csf : ndarray
        ``1 - GM - WM`` inside the brain mask, clipped to [0, 1].
    """

    affine: np.ndarray
    t1w: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    csf: np.ndarray


def build_anatomy_1mm() -> Anatomy1mm:
    """nilearn's 1 mm templates (no resampling) and the CSF probability derived from them.

    Returns
    -------
    Anatomy1mm
    """
    t1 = datasets.load_mni152_template(resolution=1)
    gm = datasets.load_mni152_gm_template(resolution=1).get_fdata(dtype=np.float32)
    wm = datasets.load_mni152_wm_template(resolution=1).get_fdata(dtype=np.float32)
    brain = datasets.load_mni152_brain_mask(resolution=1).get_fdata(dtype=np.float32) > 0
    csf = np.clip(1.0 - gm - wm, 0.0, 1.0) * brain
    return Anatomy1mm(affine=np.asarray(t1.affine, dtype=float),
                      t1w=t1.get_fdata(dtype=np.float32), gm=gm, wm=wm,
                      csf=csf.astype(np.float32))


def build_anatomy() -> Anatomy:
    """Resample nilearn's MNI152 templates onto the sample grid.

    Returns
    -------
    Anatomy
    """
    grid = sample_grid()
    brain = _template(datasets.load_mni152_brain_mask, grid) >= 0.5
    gm = np.clip(_template(datasets.load_mni152_gm_template, grid), 0.0, 1.0) * brain
    wm = np.clip(_template(datasets.load_mni152_wm_template, grid), 0.0, 1.0) * brain
    total = gm + wm
    over = total > 1.0
    gm[over] /= total[over]
    wm[over] /= total[over]
    csf = np.clip(1.0 - gm - wm, 0.0, 1.0) * brain
    t1 = _template(datasets.load_mni152_template, grid)
    t1 = np.clip(t1 / max(float(t1.max()), 1e-12), 0.0, 1.0)
    return Anatomy(grid=grid, t1w=t1, gm=gm, wm=wm, csf=csf, brain=brain)
