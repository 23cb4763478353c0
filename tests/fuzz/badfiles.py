"""Bad files, one defect each: broken NIfTI, degenerate data, malformed tables and sidecars.

Every maker writes into a folder and returns the path to hand to the command; the stem
always starts with ``bad-<kind>`` so that a message can be checked to name it. Images
that spoil the *values* (NaN, zeros, negative labels, ...) lie on the good grid of
:mod:`tests.fuzz.inputs`, so the value is the only defect.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import nibabel as nib
import numpy as np

from .inputs import AFFINE, N_VOLUMES, SHAPE, TR, save


def _header_bytes(data=None, affine=AFFINE) -> bytes:
    img = nib.Nifti1Image(np.zeros(SHAPE, np.float32) if data is None else data, affine)
    img.header.set_sform(affine, 4)
    buf = io.BytesIO()
    img.header.write_to(buf)
    return buf.getvalue()


def _nifti_bytes(data, affine=AFFINE) -> bytes:
    img = nib.Nifti1Image(data, affine)
    img.header.set_sform(affine, 4)
    return img.to_bytes()


def _raw_with_dims(path: Path, dims, dtype=np.float32, payload: int = 64) -> Path:
    """A .nii whose header announces ``dims`` but holds only ``payload`` data bytes."""
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype(dtype)
    hdr["dim"] = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    hdr["pixdim"] = [1, 2, 2, 2, TR, 1, 1, 1]
    hdr.set_sform(AFFINE, 4)
    hdr["vox_offset"] = 352
    buf = io.BytesIO()
    hdr.write_to(buf)
    raw = buf.getvalue()
    raw = raw + b"\x00" * (352 - len(raw)) + b"\x00" * payload
    path.write_bytes(raw)
    return path


# --------------------------------------------------------------------- structure
def missing(folder: Path, name="bad-missing.nii.gz") -> Path:
    return folder / name


def a_folder(folder: Path) -> Path:
    path = folder / "bad-folder.nii.gz"
    path.mkdir()
    return path


def not_nifti(folder: Path) -> Path:
    path = folder / "bad-not_nifti.nii.gz"
    path.write_text("this is a text file, not an image\n")
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "bad-empty_file.nii"
    path.write_bytes(b"")
    return path


def gz_cut_header(folder: Path) -> Path:
    path = folder / "bad-gz_cut_header.nii.gz"
    path.write_bytes(gzip.compress(_header_bytes()[:200]))
    return path


def nii_cut_header(folder: Path) -> Path:
    path = folder / "bad-nii_cut_header.nii"
    path.write_bytes(_header_bytes()[:120])
    return path


def hdr_without_img(folder: Path) -> Path:
    path = folder / "bad-hdr_no_img.hdr"
    pair = nib.Nifti1Pair(np.ones(SHAPE, np.float32), AFFINE)
    pair.header.set_sform(AFFINE, 4)
    nib.save(pair, str(path))
    path.with_suffix(".img").unlink()
    return path


def gz_garbage(folder: Path) -> Path:
    path = folder / "bad-gz_garbage.nii.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    return path


def truncated_data(folder: Path) -> Path:
    path = folder / "bad-truncated.nii.gz"
    raw = _nifti_bytes(np.ones(SHAPE, np.float32))
    path.write_bytes(gzip.compress(raw[: 352 + (len(raw) - 352) // 2]))
    return path


def dim2(folder: Path) -> Path:
    return save(folder / "bad-dim2.nii.gz", np.ones(SHAPE[:2], np.float32))


def dim5(folder: Path) -> Path:
    return save(folder / "bad-dim5.nii.gz", np.ones(SHAPE + (2, 2), np.float32))


def complex_dtype(folder: Path) -> Path:
    return save(folder / "bad-complex.nii.gz", np.ones(SHAPE, np.complex64))


def rgb_dtype(folder: Path) -> Path:
    data = np.zeros(SHAPE, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    return save(folder / "bad-rgb.nii.gz", data)


def huge_dims(folder: Path) -> Path:
    return _raw_with_dims(folder / "bad-huge_dims.nii", (30000, 30000, 30000))


def huge_run(folder: Path) -> Path:
    """A run whose header announces 30 volumes of 3000^3 voxels (3 PB)."""
    return _raw_with_dims(folder / "bad-huge_run.nii", (3000, 3000, 3000, 30))


def absurd_dims(folder: Path) -> Path:
    return _raw_with_dims(folder / "bad-absurd_dims.nii", (10, -5, 10))


def singular_affine(folder: Path) -> Path:
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(SHAPE)
    hdr.set_data_dtype(np.float32)
    hdr.set_sform(np.diag([0.0, 0.0, 0.0, 1.0]), code=4)
    img = nib.Nifti1Image(np.ones(SHAPE, np.float32), None, header=hdr)
    path = folder / "bad-singular_affine.nii.gz"
    nib.save(img, str(path))
    return path


STRUCTURAL = {
    "missing": missing, "folder": a_folder, "not_nifti": not_nifti, "empty_file": empty_file,
    "gz_cut_header": gz_cut_header, "nii_cut_header": nii_cut_header,
    "hdr_no_img": hdr_without_img, "gz_garbage": gz_garbage, "truncated": truncated_data,
    "dim2": dim2, "dim5": dim5, "complex": complex_dtype, "rgb": rgb_dtype,
    "huge_dims": huge_dims, "absurd_dims": absurd_dims, "singular_affine": singular_affine,
}


# --------------------------------------------------------------------- values
def nan3d(folder: Path) -> Path:
    return save(folder / "bad-nan3d.nii.gz", np.full(SHAPE, np.nan, np.float32))


def inf3d(folder: Path) -> Path:
    return save(folder / "bad-inf3d.nii.gz", np.full(SHAPE, np.inf, np.float32))


def zero3d(folder: Path) -> Path:
    return save(folder / "bad-zero3d.nii.gz", np.zeros(SHAPE, np.float32))


def empty_mask(folder: Path) -> Path:
    return save(folder / "bad-empty_mask.nii.gz", np.zeros(SHAPE, np.uint8))


def nan4d(folder: Path) -> Path:
    return save(folder / "bad-nan4d.nii.gz", np.full(SHAPE + (N_VOLUMES,), np.nan, np.float32),
                tr=TR)


def zero4d(folder: Path) -> Path:
    return save(folder / "bad-zero4d.nii.gz", np.zeros(SHAPE + (N_VOLUMES,), np.float32), tr=TR)


def constant4d(folder: Path) -> Path:
    return save(folder / "bad-constant4d.nii.gz", np.full(SHAPE + (N_VOLUMES,), 700, np.float32),
                tr=TR)


def short_run(folder: Path, n: int = 4) -> Path:
    rng = np.random.default_rng(2)
    data = (1000 + rng.normal(0, 10, SHAPE + (n,))).astype(np.float32)
    return save(folder / "bad-short_run.nii.gz", data, tr=TR)


def vol3d(folder: Path) -> Path:
    """A 3D image where a 4D run is needed."""
    return save(folder / "bad-vol3d.nii.gz", np.full(SHAPE, 1000, np.float32))


def run4d(folder: Path) -> Path:
    """A 4D run where a 3D image is needed."""
    data = np.random.default_rng(1).random(SHAPE + (3,)).astype(np.float32)
    return save(folder / "bad-run4d.nii.gz", data, tr=TR)


def other_grid(folder: Path) -> Path:
    affine = AFFINE.copy()
    affine[:3, :3] *= 1.5
    data = np.zeros(SHAPE, np.uint8)
    data[3:7, 3:8, 10:20] = 1
    return save(folder / "bad-other_grid.nii.gz", data, affine)


def negative_labels(folder: Path) -> Path:
    data = np.zeros(SHAPE, np.int16)
    data[2:6, 4:8, 18:23] = -1
    data[2:4, 4:6, 18:20] = 1
    return save(folder / "bad-negative.nii.gz", data)


def fractional_labels(folder: Path) -> Path:
    data = np.zeros(SHAPE, np.float32)
    data[2:6, 4:8, 18:23] = 0.3
    data[2:4, 4:6, 18:20] = 0.7
    return save(folder / "bad-fractional.nii.gz", data)


def dseg_bad_tsv(folder: Path) -> Path:
    """A dseg whose label table is not UTF-8."""
    data = np.zeros(SHAPE, np.uint8)
    data[2:6, 4:8, 18:23] = 1
    path = save(folder / "bad-dseg_tsv_dseg.nii.gz", data)
    (folder / "bad-dseg_tsv_dseg.tsv").write_bytes(b"index\tname\n1\t\xff\xfePAG\x80\n")
    return path


VALUES = {
    "nan3d": nan3d, "inf3d": inf3d, "zero3d": zero3d, "empty_mask": empty_mask,
    "nan4d": nan4d, "zero4d": zero4d, "constant4d": constant4d, "short_run": short_run,
    "vol3d": vol3d, "run4d": run4d, "other_grid": other_grid, "negative": negative_labels,
    "fractional": fractional_labels, "dseg_tsv": dseg_bad_tsv, "huge_run": huge_run,
}


# --------------------------------------------------------------------- tables and sidecars
def table_missing(folder: Path, suffix=".tsv") -> Path:
    return folder / f"bad-table_missing{suffix}"


def table_folder(folder: Path, suffix=".tsv") -> Path:
    path = folder / f"bad-table_folder{suffix}"
    path.mkdir()
    return path


def table_nonutf8(folder: Path, suffix=".tsv") -> Path:
    path = folder / f"bad-nonutf8{suffix}"
    path.write_bytes(b"onset\tduration\ttrial_type\n0\t10\tp\xe4in\xff\n")
    return path


def table_binary(folder: Path, suffix=".tsv") -> Path:
    path = folder / f"bad-binary{suffix}"
    path.write_bytes(bytes(range(256)) * 8)
    return path


def table_empty(folder: Path, suffix=".tsv") -> Path:
    path = folder / f"bad-table_empty{suffix}"
    path.write_text("")
    return path


def table_ragged(folder: Path, suffix=".tsv") -> Path:
    path = folder / f"bad-ragged{suffix}"
    path.write_text("onset\tduration\ttrial_type\n0\t10\n5\t10\tpain\textra\tcells\nx\n")
    return path


TABLES = {
    "table_missing": table_missing, "table_folder": table_folder, "nonutf8": table_nonutf8,
    "binary": table_binary, "table_empty": table_empty, "ragged": table_ragged,
}


def _physio_pair(folder: Path, kind: str, rows: str, meta) -> Path:
    path = folder / f"bad-{kind}_physio.tsv.gz"
    path.write_bytes(gzip.compress(rows.encode("latin-1")))
    sidecar = folder / f"bad-{kind}_physio.json"
    if isinstance(meta, bytes):
        sidecar.write_bytes(meta)
    elif meta is not None:
        sidecar.write_text(meta if isinstance(meta, str) else json.dumps(meta))
    return path


_META = {"SamplingFrequency": 100.0, "StartTime": -2.0,
         "Columns": ["cardiac", "respiratory", "trigger"]}


def _good_rows(n=9000, resp=True, nan=False) -> str:
    t = np.arange(n) / 100.0
    cardiac = np.sin(2 * np.pi * 1.1 * t) ** 8
    breath = np.sin(2 * np.pi * 0.27 * t) if resp else np.zeros_like(t)
    if nan:
        cardiac[:] = np.nan
    return "".join(f"{c:.5f}\t{r:.5f}\t0\n" for c, r in zip(cardiac, breath))


def physio_no_sidecar(folder):
    return _physio_pair(folder, "no_sidecar", _good_rows(), None)


def physio_bad_json(folder):
    return _physio_pair(folder, "bad_json", _good_rows(), "{not json")


def physio_json_list(folder):
    return _physio_pair(folder, "json_list", _good_rows(), "[1, 2, 3]")


def physio_json_nonutf8(folder):
    return _physio_pair(folder, "json_nonutf8", _good_rows(), b'{"a": "\xff\xfe"}')


def physio_no_rate(folder):
    meta = dict(_META)
    del meta["SamplingFrequency"]
    return _physio_pair(folder, "no_rate", _good_rows(), meta)


def physio_zero_rate(folder):
    return _physio_pair(folder, "zero_rate", _good_rows(), dict(_META, SamplingFrequency=0))


def physio_nan_rate(folder):
    return _physio_pair(folder, "nan_rate", _good_rows(), '{"SamplingFrequency": NaN, '
                        '"StartTime": 0, "Columns": ["cardiac", "respiratory", "trigger"]}')


def physio_columns_mismatch(folder):
    return _physio_pair(folder, "columns", _good_rows(), dict(_META, Columns=["cardiac"]))


def physio_nonnumeric(folder):
    return _physio_pair(folder, "nonnumeric", "1\t2\t0\nabc\tdef\t0\n" * 50, _META)


def physio_nan_cardiac(folder):
    return _physio_pair(folder, "nan_cardiac", _good_rows(nan=True), _META)


def physio_flat_belt(folder):
    return _physio_pair(folder, "flat_belt", _good_rows(resp=False), _META)


def physio_too_short(folder):
    return _physio_pair(folder, "too_short", _good_rows(n=300), _META)


def physio_no_cardiac(folder):
    return _physio_pair(folder, "no_cardiac", _good_rows(),
                        dict(_META, Columns=["pulse_x", "respiratory", "trigger"]))


PHYSIO = {
    "no_sidecar": physio_no_sidecar, "bad_json": physio_bad_json, "json_list": physio_json_list,
    "json_nonutf8": physio_json_nonutf8, "no_rate": physio_no_rate,
    "zero_rate": physio_zero_rate, "nan_rate": physio_nan_rate,
    "columns": physio_columns_mismatch, "nonnumeric": physio_nonnumeric,
    "nan_cardiac": physio_nan_cardiac, "flat_belt": physio_flat_belt,
    "too_short": physio_too_short, "no_cardiac": physio_no_cardiac,
    "physio_binary": lambda f: table_binary(f, ".tsv.gz"),
    "physio_missing": lambda f: table_missing(f, ".tsv.gz"),
}


def motion_one_row(folder):
    path = folder / "bad-one_row.txt"
    path.write_text("0 0 0 0 0 0\n")
    return path


def motion_nan(folder):
    path = folder / "bad-motion_nan.txt"
    path.write_text("0 0 0 0 0 0\n" * 5 + "nan 0 0 0 0 0\n" + "0 0 0 0 0 0\n" * 5)
    return path


def motion_columns(folder):
    path = folder / "bad-motion_columns.txt"
    path.write_text("0 0 0 0\n" * 10)
    return path


def motion_inf(folder):
    path = folder / "bad-motion_inf.txt"
    path.write_text("0 0 0 0 0 0\n" * 5 + "inf 0 0 0 0 0\n" + "0 0 0 0 0 0\n" * 5)
    return path


MOTION = {"one_row": motion_one_row, "motion_nan": motion_nan,
          "motion_columns": motion_columns, "motion_inf": motion_inf}


def events_outside(folder):
    path = folder / "bad-events_outside.tsv"
    path.write_text("onset\tduration\ttrial_type\n0\t10\tpain\n500\t10\tpain\n")
    return path


def events_negative(folder):
    path = folder / "bad-events_negative.tsv"
    path.write_text("onset\tduration\ttrial_type\n0\t-10\tpain\n30\t10\tpain\n")
    return path


def events_nan(folder):
    path = folder / "bad-events_nan.tsv"
    path.write_text("onset\tduration\ttrial_type\nnan\t10\tpain\n30\tinf\tpain\n")
    return path


def events_no_pain(folder):
    path = folder / "bad-events_no_pain.tsv"
    path.write_text("onset\tduration\ttrial_type\n0\t10\tcue\n30\t10\tcue\n")
    return path


EVENTS = {"events_outside": events_outside, "events_negative": events_negative,
          "events_nan": events_nan, "events_no_pain": events_no_pain}


def peaks_unsorted(folder):
    path = folder / "bad-peaks_unsorted.txt"
    path.write_text("5\n3\n1\n")
    return path


def peaks_text(folder):
    path = folder / "bad-peaks_text.txt"
    path.write_text("one\ntwo\n")
    return path


PEAKS = {"peaks_unsorted": peaks_unsorted, "peaks_text": peaks_text}


def confounds_short(folder):
    path = folder / "bad-confounds_short.tsv"
    path.write_text("trans_x\ttrans_y\n0\t0\n0\t0\n")
    return path


def confounds_nan(folder):
    path = folder / "bad-confounds_nan.tsv"
    path.write_text("a\tb\n" + "nan\tinf\n" * N_VOLUMES)
    return path


CONFOUNDS = {"confounds_short": confounds_short, "confounds_nan": confounds_nan}


def smoothness_garbage(folder):
    path = folder / "bad-smoothness.txt"
    path.write_text("DLH nan\nVOLUME abc\nRESELS -1\n")
    return path


def smoothness_zero(folder):
    path = folder / "bad-smoothness_zero.txt"
    path.write_text("DLH 0\nVOLUME 100\nRESELS 0\n")
    return path


SMOOTHNESS = {"smoothness": smoothness_garbage, "smoothness_zero": smoothness_zero}


# --------------------------------------------------------------------- analysis folders
def spm_garbage(folder):
    path = folder / "bad-spm_garbage"
    path.mkdir()
    (path / "SPM.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    return path


def spm_no_maps(folder):
    path = folder / "bad-spm_no_maps"
    path.mkdir()
    (path / "SPM.mat").write_text("not a mat file")
    return path


def feat_empty(folder):
    path = folder / "bad-feat_empty.feat"
    (path / "stats").mkdir(parents=True)
    return path


def folder_empty(folder):
    path = folder / "bad-folder_empty"
    path.mkdir()
    return path


def folder_is_file(folder):
    path = folder / "bad-folder_is_file"
    path.write_text("x")
    return path


FOLDERS = {"spm_garbage": spm_garbage, "spm_no_maps": spm_no_maps, "feat_empty": feat_empty,
           "folder_empty": folder_empty, "folder_is_file": folder_is_file,
           "folder_missing": lambda f: f / "bad-folder_missing"}


MAKERS = {**STRUCTURAL, **VALUES, **TABLES, **PHYSIO, **MOTION, **EVENTS, **PEAKS,
          **CONFOUNDS, **SMOOTHNESS, **FOLDERS}


def make(kind: str, folder: Path) -> Path:
    """Write the bad file ``kind`` into ``folder`` and return the path to give."""
    return MAKERS[kind](folder)
