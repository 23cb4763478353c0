"""Write NIfTI files atomically, on the grid and with the header of their source.

Writes are staged beside the destination and moved into place (:mod:`.atomic`), so
a crash never leaves half a file; an existing file is only replaced when the caller
says so. A written image keeps its source's affine, sform / qform
and codes, units and description unless told otherwise: reloading gives the same
voxels at the same world positions.
"""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np

from .atomic import atomic_target, check_writable, output_set
from .nifti import nifti_stem

_KNOWN_SUFFIXES = (".nii.gz", ".nii", ".hdr", ".img", ".hdr.gz", ".img.gz")


def nifti_suffix(path: str | os.PathLike) -> str:
    """The NIfTI suffix of ``path`` (``.nii.gz`` counted as one), or ``""``."""
    name = str(path).lower()
    for suffix in _KNOWN_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return ""


def with_nifti_suffix(path: str | os.PathLike, default: str = ".nii.gz") -> Path:
    """``path`` with ``default`` appended when it has no NIfTI suffix."""
    path = Path(path)
    return path if nifti_suffix(path) else path.with_name(path.name + default)


def _header_from_source(source_header, data: np.ndarray, description: str | None):
    hdr = source_header.copy()
    hdr.set_data_shape(data.shape)
    hdr.set_data_dtype(data.dtype)
    # Values are written as they are: no scaling inherited from the source.
    hdr["scl_slope"] = np.nan
    hdr["scl_inter"] = np.nan
    if data.ndim == 3 and "dim" in hdr:
        dim = hdr["dim"].copy()
        dim[0] = 3
        dim[4:] = 1
        hdr["dim"] = dim
    hdr["cal_min"] = 0
    hdr["cal_max"] = 0
    if description is not None:
        hdr["descrip"] = description.encode("latin-1", errors="replace")[:79]
    return hdr


def build_image(
    data: np.ndarray,
    *,
    source=None,
    affine=None,
    sform_code: int = 2,
    description: str | None = None,
):
    """A nibabel image of ``data`` on the grid of ``source`` (or on ``affine``).

    Parameters
    ----------
    data : ndarray
        3D (or 4D) voxel data in NIfTI (i, j, k[, t]) order.
    source : nibabel image, optional
        Image whose affine, sform / qform, codes, units and class are kept.
    affine : array-like, shape (4, 4), optional
        Used when no ``source`` is given.
    sform_code : int
        sform / qform code when building from ``affine`` (2 aligned anat, 4 MNI).
    description : str, optional
        Header description (e.g. ``"SPM{T_[14.0]} - drug x pain"``).

    Returns
    -------
    nibabel.Nifti1Image or Nifti2Image
    """
    data = np.asanyarray(data)
    if source is not None:
        if tuple(source.shape[:3]) != tuple(data.shape[:3]):
            raise ValueError(
                f"data of shape {data.shape} is not on the source grid {source.shape[:3]}"
            )
        klass = nib.Nifti2Image if isinstance(source, nib.Nifti2Image) else nib.Nifti1Image
        hdr = _header_from_source(source.header, data, description)
        if not isinstance(hdr, klass.header_class):
            hdr = klass.header_class.from_header(hdr)
        img = klass(data, None, header=hdr)
        return img
    if affine is None:
        raise ValueError("build_image needs a source image or an affine")
    img = nib.Nifti1Image(data, np.asarray(affine, dtype=float))
    img.header.set_sform(np.asarray(affine, dtype=float), int(sform_code))
    img.header.set_qform(np.asarray(affine, dtype=float), int(sform_code))
    img.header.set_xyzt_units("mm", "sec")
    if description is not None:
        img.header["descrip"] = description.encode("latin-1", errors="replace")[:79]
    return img


def save_image(img, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``img`` to ``path`` atomically.

    Parameters
    ----------
    img : nibabel image
    path : str or path-like
        Destination; ``.nii.gz`` is appended when it has no NIfTI suffix.
    overwrite : bool
        Replace an existing file. Without it an existing file is an error (also one
        that appears while this one is written: the final move is an exclusive creation).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    MilnaInputError
        When the file exists and ``overwrite`` is False, the folder is missing, or the
        write fails (read-only file system, disk full, ...).
    """
    path = with_nifti_suffix(path)
    suffix = nifti_suffix(path)
    check_writable(path, overwrite)
    if suffix in (".hdr", ".img", ".hdr.gz", ".img.gz"):
        return _save_pair(img, path, overwrite)
    with atomic_target(path, overwrite=overwrite) as tmp:
        _write_single(img, tmp, compressed=suffix == ".nii.gz")
    return path


def _opened(raw, compressed: bool):
    import gzip

    from nibabel.openers import Opener

    if not compressed:
        return raw
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                         compresslevel=Opener.default_compresslevel)


def _write_file_map(img, handles: dict) -> None:
    """Write ``img`` through open file objects (keys ``image`` / ``header``)."""
    from nibabel.fileholders import FileHolder

    kept = img.file_map
    try:
        img.to_file_map({k: FileHolder(fileobj=fh) for k, fh in handles.items()})
    finally:
        img.file_map = kept


def _write_single(img, tmp: Path, compressed: bool) -> None:
    """A single-file NIfTI (.nii / .nii.gz) written to ``tmp`` (any name)."""
    klass = nib.Nifti2Image if isinstance(img, nib.Nifti2Image) else nib.Nifti1Image
    if not isinstance(img, klass):
        img = klass.from_image(img)
    with open(tmp, "wb") as raw:
        fh = _opened(raw, compressed)
        _write_file_map(img, {"image": fh})
        if fh is not raw:
            fh.close()


def _save_pair(img, path: Path, overwrite: bool) -> Path:
    """Write a .hdr / .img pair: both halves staged, then moved into place together."""
    gz = ".gz" if str(path).lower().endswith(".gz") else ""
    stem = nifti_stem(path)
    hdr_path = path.parent / f"{stem}.hdr{gz}"
    img_path = path.parent / f"{stem}.img{gz}"
    for target in (hdr_path, img_path):
        check_writable(target, overwrite)
    pair = nib.Nifti1Pair(np.asanyarray(img.dataobj), img.affine, header=img.header)
    with output_set(), atomic_target(hdr_path, overwrite=overwrite) as hdr_tmp, \
            atomic_target(img_path, overwrite=overwrite) as img_tmp, \
            open(hdr_tmp, "wb") as hdr_raw, open(img_tmp, "wb") as img_raw:
        hdr_fh, img_fh = _opened(hdr_raw, bool(gz)), _opened(img_raw, bool(gz))
        _write_file_map(pair, {"header": hdr_fh, "image": img_fh})
        for fh, raw in ((hdr_fh, hdr_raw), (img_fh, img_raw)):
            if fh is not raw:
                fh.close()
    return hdr_path if path.name.lower().endswith((".hdr", ".hdr.gz")) else img_path


def save_like(
    data: np.ndarray,
    source,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    description: str | None = None,
) -> Path:
    """Write ``data`` on the grid and with the header of ``source``, atomically.

    Parameters
    ----------
    data : ndarray
        Voxels in NIfTI order, shape ``source.shape[:3]`` (or with a 4th axis).
    source : nibabel image
        The image whose grid and header the output keeps.
    path : str or path-like
    overwrite : bool
    description : str, optional

    Returns
    -------
    Path
    """
    return save_image(
        build_image(data, source=source, description=description), path, overwrite=overwrite
    )


def save_run_like(
    chunks,
    source,
    path: str | os.PathLike,
    *,
    n_volumes: int,
    dtype=np.float32,
    overwrite: bool = False,
    description: str | None = None,
) -> Path:
    """Write a 4D run chunk by chunk, on the grid and with the header of ``source``, atomically.

    The run is never held whole: each chunk of volumes is converted and appended to a
    temporary file (gzip-compressed for ``.nii.gz``) that is renamed into place once
    every volume is written. An error or :class:`~napari_milna.core.jobs.Cancelled`
    raised while the chunks are produced removes the temporary file.

    Parameters
    ----------
    chunks : iterable of ndarray
        ``(i, j, k, n)`` blocks in NIfTI order, in volume order, ``n_volumes`` volumes in
        all.
    source : nibabel image
        The image whose grid and header (affine, codes, units, TR) the run keeps.
    path : str or path-like
        ``.nii`` or ``.nii.gz`` (``.nii.gz`` is appended without a suffix).
    n_volumes : int
    dtype : numpy dtype
        Stored data type (default float32).
    overwrite : bool
    description : str, optional

    Returns
    -------
    Path
    """
    import gzip

    path = with_nifti_suffix(path)
    suffix = nifti_suffix(path)
    if suffix not in (".nii", ".nii.gz"):
        raise ValueError(f"{path}: a streamed run is written as .nii or .nii.gz")
    check_writable(path, overwrite)
    shape = tuple(int(n) for n in source.shape[:3]) + (int(n_volumes),)
    image = build_image(np.broadcast_to(np.zeros((), dtype=dtype), shape), source=source,
                        description=description)
    header = image.header
    header.set_data_offset(0)
    on_disk = header.get_data_dtype()
    written = 0
    with atomic_target(path, overwrite=overwrite) as tmp:
        raw = open(tmp, "wb")  # noqa: SIM115 - closed below, after the gzip stream
        try:
            fh = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) \
                if suffix == ".nii.gz" else raw
            header.write_to(fh)
            offset = int(header.get_data_offset())
            fh.write(b"\x00" * max(0, offset - fh.tell()))
            for block in chunks:
                block = np.asarray(block)
                if block.ndim == 3:
                    block = block[..., None]
                if tuple(block.shape[:3]) != shape[:3]:
                    raise ValueError(f"a chunk of shape {block.shape} is not on the grid "
                                     f"{shape[:3]}")
                written += block.shape[3]
                if written > shape[3]:
                    raise ValueError(f"more than the {shape[3]} volumes announced were given")
                fh.write(np.asarray(block, dtype=on_disk).tobytes(order="F"))
            if written != shape[3]:
                raise ValueError(f"{written} volumes were given, {shape[3]} announced")
            if fh is not raw:
                fh.close()
        finally:
            raw.close()
    return path
