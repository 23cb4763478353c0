"""Small synthetic EPI runs with known mean, noise, dropout and CSF pulsation (QC tests)."""

from __future__ import annotations

import nibabel as nib
import numpy as np

SHAPE = (20, 22, 18)
ZOOMS = (2.5, 2.5, 3.0)


def affine(shape=SHAPE, zooms=ZOOMS) -> np.ndarray:
    """RAS affine with the grid centred near the world origin."""
    a = np.diag(list(zooms) + [1.0])
    a[:3, 3] = -(np.array(shape) - 1) / 2 * np.array(zooms)
    return a


def save(path, data, aff=None, tr=2.0):
    """Write ``data`` (3D or 4D) with sform/qform = ``aff`` (default :func:`affine`)."""
    aff = affine(np.shape(data)[:3]) if aff is None else aff
    img = nib.Nifti1Image(np.asarray(data), aff)
    img.header.set_sform(aff, 4)
    img.header.set_qform(aff, 4)
    img.header.set_xyzt_units("mm", "sec")
    if np.ndim(data) == 4:
        zooms = list(img.header.get_zooms())
        zooms[3] = tr
        img.header.set_zooms(zooms)
    nib.save(img, str(path))
    return path


def brain(shape=SHAPE) -> np.ndarray:
    """An ellipsoid 'brain' filling most of the grid."""
    ijk = np.indices(shape).transpose(1, 2, 3, 0)
    centre = (np.array(shape) - 1) / 2
    return (((ijk - centre) / (np.array(shape) * 0.42)) ** 2).sum(-1) <= 1


#: Dropout box (ventral "RVM" region) and a healthy box ("PAG"), as voxel slices.
DROPOUT_BOX = (slice(8, 11), slice(8, 11), slice(3, 6))
PAG_BOX = (slice(9, 12), slice(10, 13), slice(10, 13))
CSF_BOX = (slice(9, 11), slice(13, 15), slice(7, 9))


def make_run(
    n_volumes=40,
    *,
    seed=0,
    level=1000.0,
    noise=20.0,
    dropout_scale=0.3,
    pulsation=0.0,
    drift=0.0,
    background=0.0,
    dtype=np.int16,
):
    """A 4D run: ``level`` in the brain, ``dropout_scale * level`` in DROPOUT_BOX.

    ``pulsation`` adds a shared sinusoid (amplitude in signal units) to CSF_BOX and PAG_BOX;
    ``drift`` adds a quadratic drift of that amplitude everywhere in the brain.
    Returns the data array (NIfTI order).
    """
    rng = np.random.default_rng(seed)
    inside = brain()
    base = np.where(inside, level, background)
    base[DROPOUT_BOX] *= dropout_scale
    t = np.arange(n_volumes)
    x = np.linspace(-1, 1, n_volumes)
    data = base[..., None] + inside[..., None] * rng.normal(0, noise, SHAPE + (n_volumes,))
    data += inside[..., None] * drift * (x**2 + 0.3 * x)
    if pulsation:
        wave = pulsation * np.sin(2 * np.pi * t / 4.3)
        for box in (CSF_BOX, PAG_BOX):
            data[box] += wave
    if np.dtype(dtype).kind in "iu":
        data = np.round(data)
    return data.astype(dtype)


def box_mask(box, shape=SHAPE) -> np.ndarray:
    """Boolean mask of a box."""
    m = np.zeros(shape, dtype=bool)
    m[box] = True
    return m


def save_pag_rvm_dseg(folder):
    """Write PAG (1) and RVM (2) as ``folder/sub-01_dseg.nii.gz``; returns its path.

    PAG fills :data:`PAG_BOX`, RVM the dropout box; ``sub-01_dseg.tsv`` names them.
    """
    labels = np.zeros(SHAPE, np.uint8)
    labels[PAG_BOX] = 1
    labels[DROPOUT_BOX] = 2
    path = save(folder / "sub-01_dseg.nii.gz", labels)
    (folder / "sub-01_dseg.tsv").write_text("index\tname\n1\tPAG\n2\tRVM\n")
    return path
