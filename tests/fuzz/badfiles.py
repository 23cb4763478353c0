"""Bad files, one defect each: broken NIfTI, degenerate data, malformed tables and sidecars.

Every maker writes into a folder and returns the path to hand to the command; the stem
always starts with ``bad-<kind>`` so that a message can be checked to name it. Images
that spoil the *values* (NaN, zeros, negative labels, ...) lie on the good grid of
:mod:`tests.fuzz.inputs`, so the value is the only defect.

Most makers differ only in what they write, so they are built from tables: a kind and
its content make the maker (:func:`_writes`, :func:`_filled`, :func:`_announces`,
:func:`_physio`); the few with a shape of their own are functions.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np

from .inputs import AFFINE, N_VOLUMES, SHAPE, TR, save

Maker = Callable[..., Path]


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


# --------------------------------------------------------------------- makers from tables
def _put(path: Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path``: bytes as they are, text as text."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _writes(kind: str, content: str | bytes, suffix: str = "") -> Maker:
    """A maker writing ``content`` (text or bytes) to ``bad-<kind><suffix>``.

    The suffix can be changed per call (``maker(folder, ".tsv.gz")``), as the tables'
    makers are also given as physiological recordings.
    """
    def make_(folder: Path, suffix: str = suffix) -> Path:
        return _put(folder / f"bad-{kind}{suffix}", content)
    return make_


def _table(maker: Callable[..., Maker], specs: dict[str, tuple]) -> dict[str, Maker]:
    """``{kind: spec}`` to ``{kind: maker(kind, *spec)}``."""
    return {kind: maker(kind, *spec) for kind, spec in specs.items()}


def _each_writes(suffix: str, contents: dict[str, str | bytes]) -> dict[str, Maker]:
    """``{kind: content}`` to ``{kind: maker}``, every file with ``suffix``."""
    return _table(_writes, {kind: (content, suffix) for kind, content in contents.items()})


def _folder(kind: str, suffix: str = "") -> Maker:
    """A maker making the empty folder ``bad-<kind><suffix>``."""
    def make_(folder: Path, suffix: str = suffix) -> Path:
        path = folder / f"bad-{kind}{suffix}"
        path.mkdir()
        return path
    return make_


def _filled(kind: str, shape: tuple, value, dtype=np.float32) -> Maker:
    """A maker saving ``bad-<kind>.nii.gz`` filled with ``value``; a 4D one has the TR."""
    def make_(folder: Path) -> Path:
        return save(folder / f"bad-{kind}.nii.gz", np.full(shape, value, dtype),
                    tr=TR if len(shape) == 4 else None)
    return make_


def _announces(kind: str, dims: tuple) -> Maker:
    """A maker writing ``bad-<kind>.nii``, whose header announces ``dims`` it lacks."""
    return lambda folder: _raw_with_dims(folder / f"bad-{kind}.nii", dims)


# --------------------------------------------------------------------- structure
def missing(folder: Path, name="bad-missing.nii.gz") -> Path:
    return folder / name


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


def truncated_data(folder: Path) -> Path:
    path = folder / "bad-truncated.nii.gz"
    raw = _nifti_bytes(np.ones(SHAPE, np.float32))
    path.write_bytes(gzip.compress(raw[: 352 + (len(raw) - 352) // 2]))
    return path


def rgb_dtype(folder: Path) -> Path:
    data = np.zeros(SHAPE, dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    return save(folder / "bad-rgb.nii.gz", data)


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
    "missing": missing, "folder": _folder("folder", ".nii.gz"),
    "not_nifti": _writes("not_nifti", "this is a text file, not an image\n", ".nii.gz"),
    "empty_file": _writes("empty_file", b"", ".nii"),
    "gz_cut_header": gz_cut_header, "nii_cut_header": nii_cut_header,
    "hdr_no_img": hdr_without_img,
    "gz_garbage": _writes("gz_garbage", b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, ".nii.gz"),
    "truncated": truncated_data,
    **_table(_filled, {"dim2": (SHAPE[:2], 1), "dim5": (SHAPE + (2, 2), 1),
                       "complex": (SHAPE, 1, np.complex64)}),
    "rgb": rgb_dtype,
    **_table(_announces, {"huge_dims": ((30000, 30000, 30000),), "absurd_dims": ((10, -5, 10),)}),
    "singular_affine": singular_affine,
}


# --------------------------------------------------------------------- values
def short_run(folder: Path, n: int = 4) -> Path:
    rng = np.random.default_rng(2)
    data = (1000 + rng.normal(0, 10, SHAPE + (n,))).astype(np.float32)
    return save(folder / "bad-short_run.nii.gz", data, tr=TR)


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


def _labels(kind: str, outer, inner, dtype) -> Maker:
    """A maker saving a label image: ``outer`` in a block, ``inner`` in a corner of it."""
    def make_(folder: Path) -> Path:
        data = np.zeros(SHAPE, dtype)
        data[2:6, 4:8, 18:23] = outer
        data[2:4, 4:6, 18:20] = inner
        return save(folder / f"bad-{kind}.nii.gz", data)
    return make_


def dseg_bad_tsv(folder: Path) -> Path:
    """A dseg whose label table is not UTF-8."""
    data = np.zeros(SHAPE, np.uint8)
    data[2:6, 4:8, 18:23] = 1
    path = save(folder / "bad-dseg_tsv_dseg.nii.gz", data)
    (folder / "bad-dseg_tsv_dseg.tsv").write_bytes(b"index\tname\n1\t\xff\xfePAG\x80\n")
    return path


_RUN = SHAPE + (N_VOLUMES,)

VALUES = {
    **_table(_filled, {  # kind: (shape, value[, dtype])
        "nan3d": (SHAPE, np.nan), "inf3d": (SHAPE, np.inf), "zero3d": (SHAPE, 0),
        "empty_mask": (SHAPE, 0, np.uint8),
        "nan4d": (_RUN, np.nan), "zero4d": (_RUN, 0), "constant4d": (_RUN, 700),
    }),
    "short_run": short_run,
    "vol3d": _filled("vol3d", SHAPE, 1000),  # a 3D image where a 4D run is needed
    "run4d": run4d, "other_grid": other_grid,
    **_table(_labels, {"negative": (-1, 1, np.int16), "fractional": (0.3, 0.7, np.float32)}),
    "dseg_tsv": dseg_bad_tsv,
    # a run whose header announces 30 volumes of 3000^3 voxels (3 PB)
    "huge_run": _announces("huge_run", (3000, 3000, 3000, 30)),
}
#: The value makers other fuzz modules call by name.
nan3d, nan4d, zero4d, constant4d = (VALUES[k] for k in ("nan3d", "nan4d", "zero4d", "constant4d"))


# --------------------------------------------------------------------- tables and sidecars
def table_missing(folder: Path, suffix=".tsv") -> Path:
    return folder / f"bad-table_missing{suffix}"


TABLES = {
    "table_missing": table_missing, "table_folder": _folder("table_folder", ".tsv"),
    **_each_writes(".tsv", {
        "nonutf8": b"onset\tduration\ttrial_type\n0\t10\tp\xe4in\xff\n",
        "binary": bytes(range(256)) * 8,
        "table_empty": "",
        "ragged": "onset\tduration\ttrial_type\n0\t10\n5\t10\tpain\textra\tcells\nx\n",
    }),
}


def _physio_pair(folder: Path, kind: str, rows: str, meta) -> Path:
    path = folder / f"bad-{kind}_physio.tsv.gz"
    path.write_bytes(gzip.compress(rows.encode("latin-1")))
    if meta is not None:
        _put(folder / f"bad-{kind}_physio.json",
             meta if isinstance(meta, (str, bytes)) else json.dumps(meta))
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


def _physio(kind: str, meta, rows: str | dict | None = None) -> Maker:
    """A maker writing a recording and its sidecar ``meta`` (None: no sidecar).

    The rows are ``rows`` as written, or else good rows made with the arguments ``rows``
    (see :func:`_good_rows`).
    """
    return lambda folder: _physio_pair(folder, kind, rows if isinstance(rows, str)
                                       else _good_rows(**(rows or {})), meta)


PHYSIO = {
    **_table(_physio, {  # kind: (sidecar[, rows])
        "no_sidecar": (None,), "bad_json": ("{not json",), "json_list": ("[1, 2, 3]",),
        "json_nonutf8": (b'{"a": "\xff\xfe"}',),
        "no_rate": ({k: v for k, v in _META.items() if k != "SamplingFrequency"},),
        "zero_rate": (dict(_META, SamplingFrequency=0),),
        "nan_rate": ('{"SamplingFrequency": NaN, "StartTime": 0, '
                     '"Columns": ["cardiac", "respiratory", "trigger"]}',),
        "columns": (dict(_META, Columns=["cardiac"]),),
        "nonnumeric": (_META, "1\t2\t0\nabc\tdef\t0\n" * 50),
        "nan_cardiac": (_META, {"nan": True}), "flat_belt": (_META, {"resp": False}),
        "too_short": (_META, {"n": 300}),
        "no_cardiac": (dict(_META, Columns=["pulse_x", "respiratory", "trigger"]),),
    }),
    "physio_binary": lambda f: TABLES["binary"](f, ".tsv.gz"),
    "physio_missing": lambda f: table_missing(f, ".tsv.gz"),
}
physio_flat_belt = PHYSIO["flat_belt"]

_STILL = "0 0 0 0 0 0\n"

MOTION = _each_writes(".txt", {
    "one_row": _STILL,
    "motion_nan": _STILL * 5 + "nan 0 0 0 0 0\n" + _STILL * 5,
    "motion_columns": "0 0 0 0\n" * 10,
    "motion_inf": _STILL * 5 + "inf 0 0 0 0 0\n" + _STILL * 5,
})

_EVENTS_HEAD = "onset\tduration\ttrial_type\n"

EVENTS = _each_writes(".tsv", {
    "events_outside": _EVENTS_HEAD + "0\t10\tpain\n500\t10\tpain\n",
    "events_negative": _EVENTS_HEAD + "0\t-10\tpain\n30\t10\tpain\n",
    "events_nan": _EVENTS_HEAD + "nan\t10\tpain\n30\tinf\tpain\n",
    "events_no_pain": _EVENTS_HEAD + "0\t10\tcue\n30\t10\tcue\n",
})

PEAKS = _each_writes(".txt", {"peaks_unsorted": "5\n3\n1\n", "peaks_text": "one\ntwo\n"})

CONFOUNDS = _each_writes(".tsv", {
    "confounds_short": "trans_x\ttrans_y\n0\t0\n0\t0\n",
    "confounds_nan": "a\tb\n" + "nan\tinf\n" * N_VOLUMES,
})

SMOOTHNESS = _each_writes(".txt", {
    "smoothness": "DLH nan\nVOLUME abc\nRESELS -1\n",
    "smoothness_zero": "DLH 0\nVOLUME 100\nRESELS 0\n",
})


# --------------------------------------------------------------------- analysis folders
def _spm(kind: str, content: str | bytes) -> Maker:
    """A maker making the folder ``bad-<kind>`` that holds an ``SPM.mat`` of ``content``."""
    def make_(folder: Path) -> Path:
        path = _folder(kind)(folder)
        _put(path / "SPM.mat", content)
        return path
    return make_


def feat_empty(folder):
    path = folder / "bad-feat_empty.feat"
    (path / "stats").mkdir(parents=True)
    return path


FOLDERS = {"spm_garbage": _spm("spm_garbage", b"MATLAB 5.0 MAT-file" + bytes(200)),
           "spm_no_maps": _spm("spm_no_maps", "not a mat file"), "feat_empty": feat_empty,
           "folder_empty": _folder("folder_empty"),
           "folder_is_file": _writes("folder_is_file", "x"),
           "folder_missing": lambda f: f / "bad-folder_missing"}


MAKERS = {**STRUCTURAL, **VALUES, **TABLES, **PHYSIO, **MOTION, **EVENTS, **PEAKS,
          **CONFOUNDS, **SMOOTHNESS, **FOLDERS}


def make(kind: str, folder: Path) -> Path:
    """Write the bad file ``kind`` into ``folder`` and return the path to give."""
    return MAKERS[kind](folder)
