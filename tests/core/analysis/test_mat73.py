"""An SPM.mat saved by MATLAB with -v7.3 (HDF5) is read through pymatreader."""

from __future__ import annotations

import h5py
import numpy as np

from napari_milna.core.analysis import open_analysis
from napari_milna.core.analysis.matfile import load_mat, mat_version

HEADER = (b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 "
          b"HDF5 schema 1.00 .")


def _char(group, name, text):
    data = np.array([[ord(c)] for c in text], dtype=np.uint16)
    ds = group.create_dataset(name, data=data)
    ds.attrs["MATLAB_class"] = np.bytes_("char")
    return ds


def _double(group, name, values, shape):
    # MATLAB stores arrays column-major: h5py sees the transposed shape
    ds = group.create_dataset(name, data=np.asarray(values, float).reshape(shape).T)
    ds.attrs["MATLAB_class"] = np.bytes_("double")
    return ds


def _struct(group, name):
    g = group.create_group(name)
    g.attrs["MATLAB_class"] = np.bytes_("struct")
    return g


def write_spm_mat73(path, affine_1based, fwhm, erdf, contrasts):
    """The parts of SPM.mat the reader uses, laid out as MATLAB -v7.3 writes them."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        spm = _struct(f, "SPM")
        _char(spm, "SPMid", "SPM12: spm_spm (v7771)")
        x_x = _struct(spm, "xX")
        _double(x_x, "erdf", [erdf], (1, 1))
        x_vol = _struct(spm, "xVol")
        _double(x_vol, "FWHM", fwhm, (1, 3))
        _double(x_vol, "R", [1.0, 5.0, 8.0, 4.0], (1, 4))
        _double(x_vol, "S", [321.0], (1, 1))
        _double(x_vol, "M", np.asarray(affine_1based).ravel(order="F"), (4, 4))
        x_con = _struct(spm, "xCon")
        fields = {"name": [], "STAT": [], "Vspm": []}
        for i, (name, stat, fname) in enumerate(contrasts):
            fields["name"].append(_char(refs, f"n{i}", name).ref)
            fields["STAT"].append(_char(refs, f"s{i}", stat).ref)
            vol = _struct(refs, f"v{i}")
            _char(vol, "fname", fname)
            fields["Vspm"].append(vol.ref)
        for key, values in fields.items():
            x_con.create_dataset(key, data=np.array(values, dtype=h5py.ref_dtype).reshape(-1, 1))
    with open(path, "r+b") as fh:
        fh.write(HEADER.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")


def test_v73_spm_mat_contrasts_df_fwhm(tmp_path):
    aff = np.diag([2.0, 2.0, 2.0, 1.0])
    aff[:3, 3] = [-22.0, -32.0, -12.0]  # 1-based: voxel (1, 1, 1) at (-20, -30, -10)
    path = tmp_path / "SPM.mat"
    write_spm_mat73(path, aff, [3.0, 3.0, 2.5], 24.0,
                    [("pain > rest", "T", "spmT_0001.nii"), ("effects", "F", "spmF_0002.nii")])
    assert mat_version(path) == "7.3"
    spm, version = load_mat(path, "SPM")
    assert version == "7.3" and spm["xX"]["erdf"] == 24.0
    for name in ("spmT_0001.nii", "spmF_0002.nii"):
        (tmp_path / name).write_bytes(b"")
    a = open_analysis(tmp_path)
    assert a.details["mat_version"] == "7.3"
    assert [c.name for c in a.contrasts] == ["pain > rest", "effects"]
    assert [c.stat_type for c in a.contrasts] == ["T", "F"]
    assert a.contrasts[0].df == 24.0
    np.testing.assert_allclose(a.fwhm_voxels, [3.0, 3.0, 2.5])
    np.testing.assert_allclose(a.contrasts[0].fwhm_mm, [6.0, 6.0, 5.0])
    np.testing.assert_allclose(np.asarray(a.affine), aff)
    assert a.search_voxels == 321
    # eidf is not stored here: the F contrast's df are missing, said in no crash
    assert a.contrasts[1].df is None
