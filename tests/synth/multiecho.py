"""Synthetic multi-echo runs with known T2* and S0, for tests."""

import json

import nibabel as nib
import numpy as np

TE = (13.0, 30.0, 47.0)
SHAPE = (14, 12, 8)
AFFINE = np.diag([2.5, 2.5, 3.0, 1.0])


def write_echoes(folder, n_volumes=24, shape=SHAPE, te=TE, sidecars=True, seed=0,
                 affines=None, lengths=None):
    """Echoes of a two-compartment phantom (T2* 45 ms, 18 ms in a 'dropout' slab)."""
    rng = np.random.default_rng(seed)
    t2s = np.full(shape, 45.0)
    t2s[:, :4] = 18.0
    s0 = np.zeros(shape)
    s0[1:-1, 1:-1, 1:-1] = 1400.0
    paths = []
    for e, echo_time in enumerate(te, start=1):
        n = lengths[e - 1] if lengths else n_volumes
        signal = s0 * np.exp(-echo_time / t2s)
        drift = 1 + 0.01 * np.sin(np.arange(n) / 3.0)
        noise = rng.normal(0, 6, shape + (n,)) + 1j * rng.normal(0, 6, shape + (n,))
        data = np.abs(signal[..., None] * drift + noise)
        if e == 3:
            data[2, 5, 3, 7] = 0  # one zero in echo 3: that voxel keeps two echoes
        affine = affines[e - 1] if affines else AFFINE
        img = nib.Nifti1Image(np.rint(data).astype(np.int16), affine)
        img.header.set_xyzt_units("mm", "sec")
        img.header["pixdim"][4] = 2.0
        path = folder / f"sub-01_task-rest_echo-{e}_bold.nii.gz"
        nib.save(img, path)
        if sidecars:
            (folder / f"sub-01_task-rest_echo-{e}_bold.json").write_text(
                json.dumps({"EchoTime": echo_time / 1000.0, "RepetitionTime": 2.0}))
        paths.append(path)
    mask = folder / "brain_mask.nii.gz"
    nib.save(nib.Nifti1Image((s0 > 0).astype(np.uint8), AFFINE), mask)
    return paths, mask
