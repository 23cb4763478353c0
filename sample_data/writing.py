"""Byte-reproducible writers for the sample study (NIfTI, JSON, TSV, gzipped physio).

NIfTI files go through :mod:`napari_milna.core.io.nifti_write` (atomic, sform = qform
code 4 "MNI", units mm / s); nibabel's gzip writer stores no file name or time, and
the gzipped physio is written the same way, so two generations give identical bytes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

from napari_milna.core.io.nifti_write import build_image, save_image
from napari_milna.core.io.tables import table_text, write_table

#: sform / qform code of every sample image: 4 = MNI152.
MNI_CODE = 4


def write_nifti(
    data: np.ndarray,
    path: Path,
    affine: np.ndarray,
    *,
    description: str | None = None,
    tr: float | None = None,
    slice_times=None,
) -> Path:
    """Write ``data`` on ``affine`` with MNI codes (and TR / slice timing for runs).

    Parameters
    ----------
    data : ndarray
        3D or 4D voxels, written with their dtype and no scaling.
    path : Path
    affine : ndarray, shape (4, 4)
    description : str, optional
        Header description (79 characters at most).
    tr : float, optional
        Repetition time (s), stored in pixdim[4] of a 4D image.
    slice_times : sequence of float, optional
        Acquisition time of each slice along k (s): stored as NIfTI slice code,
        duration and start / end.

    Returns
    -------
    Path
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    img = build_image(data, affine=affine, sform_code=MNI_CODE, description=description)
    hdr = img.header
    if data.ndim == 4:
        hdr.set_zooms((*hdr.get_zooms()[:3], float(tr if tr is not None else 1.0)))
    if slice_times is not None:
        _set_slice_timing(hdr, np.asarray(slice_times, dtype=float), float(tr))
    return save_image(img, path, overwrite=False)


def _set_slice_timing(hdr, slice_times: np.ndarray, tr: float) -> None:
    """NIfTI slice fields (k is the slice axis); the code is found from the times themselves."""
    n = slice_times.size
    duration = tr / n
    hdr.set_dim_info(slice=2)
    hdr["slice_start"] = 0
    hdr["slice_end"] = n - 1
    hdr["slice_duration"] = duration
    order = np.argsort(slice_times, kind="stable")
    codes = {
        "sequential increasing": np.arange(n),
        "sequential decreasing": np.arange(n)[::-1],
        "alternating increasing": np.r_[np.arange(0, n, 2), np.arange(1, n, 2)],
        "alternating decreasing": np.r_[np.arange(n - 1, -1, -2), np.arange(n - 2, -1, -2)],
    }
    for name, expected in codes.items():
        if np.array_equal(order, expected):
            hdr["slice_code"] = _SLICE_CODES[name]
            break


#: NIfTI-1 slice_code values.
_SLICE_CODES = {
    "sequential increasing": 1,
    "sequential decreasing": 2,
    "alternating increasing": 3,
    "alternating decreasing": 4,
}


def write_json(obj, path: Path) -> Path:
    """Write ``obj`` as indented JSON (keys in the given order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")
    return path


def write_tsv(frame: pd.DataFrame, path: Path, float_format: str = "%.8g") -> Path:
    """Write a BIDS TSV (tab separated, header row, ``n/a`` for missing values)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_table(frame, path, float_format=float_format)


def write_tsv_gz_no_header(columns: list[np.ndarray], formats: list[str], path: Path) -> Path:
    """Write columns as a header-less gzipped TSV (BIDS physio), reproducibly (mtime 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({i: [fmt % v for v in col] for i, (col, fmt) in
                          enumerate(zip(columns, formats, strict=True))})
    text = table_text(frame, header=False)
    with open(path, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6
    ) as gz:
        gz.write(text.encode("ascii"))
    return path
