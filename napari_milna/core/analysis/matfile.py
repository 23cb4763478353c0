"""MATLAB files as plain Python values: MAT v5 / v7 through scipy, v7.3 (HDF5) through pymatreader.

Structures become ``dict``, struct arrays ``list`` of ``dict``, character arrays
``str``, numeric arrays ``ndarray`` (scalars ``float`` / ``int``). MATLAB objects that
neither reader understands (class instances such as SPM's ``@nifti`` / ``file_array``,
MCOS objects, function handles) become :class:`Unreadable` values that say what they
were, so a caller can report them instead of failing.

A read is kept for the next call on the same unchanged file (same inode, size,
modification and change times): opening an SPM folder reads its ``SPM.mat`` once, not
once per contrast. The values returned are shared between those calls and must not be
changed.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import input_error

#: Reads kept (the last few files: SPM.mat of one analysis at a time, mostly).
_KEPT_READS = 4
_kept: OrderedDict = OrderedDict()

#: First bytes of a MAT v7.3 file's 128-byte header (an HDF5 file with a user block).
MAT73_HINT = b"MATLAB 7.3 MAT-file"


@dataclass(frozen=True)
class Unreadable:
    """A MATLAB value the reader could not turn into plain data."""

    what: str

    def __str__(self) -> str:
        return f"<unreadable MATLAB {self.what}>"


def mat_version(path: str | os.PathLike) -> str:
    """``"7.3"`` for an HDF5-based MAT file, ``"5"`` for v5 / v7, ``"4"`` for v4 files.

    Raises
    ------
    MilnaInputError
        The file cannot be read or is not a MAT file at all.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(128)
    except OSError as exc:
        raise input_error(path, f"cannot be read ({exc.strerror})") from None
    if head.startswith(MAT73_HINT) or head[:8] == b"\x89HDF\r\n\x1a\n":
        return "7.3"
    if len(head) == 128 and head[124:128] in (b"\x00\x01IM", b"\x01\x00MI"):
        return "5"
    if len(head) >= 20 and head[:3] == b"\x00\x00\x00":
        return "4"
    raise input_error(path, "is not a MATLAB MAT file (no MAT v4, v5, v7 or v7.3 header)")


def load_mat(path: str | os.PathLike, variable: str) -> tuple[object, str]:
    """One variable of a MAT file as plain Python values, and the file's MAT version.

    Parameters
    ----------
    path : path-like
    variable : str
        The variable to read (``"SPM"``).

    Returns
    -------
    value : object
        Plain values (see the module notes).
    version : str

    Raises
    ------
    MilnaInputError
        Not a MAT file, unreadable, or without ``variable``.
    """
    path = Path(path)
    try:
        stat = os.stat(path)
        key = (str(path.resolve()), variable, stat.st_ino, stat.st_size, stat.st_mtime_ns,
               stat.st_ctime_ns)
    except OSError:
        key = None  # mat_version says why it cannot be read
    if key is not None and key in _kept:
        _kept.move_to_end(key)
        return _kept[key]
    version = mat_version(path)
    if version == "7.3":
        data, plain = _load_hdf5(path, variable), _plain_hdf5
    else:
        data, plain = _load_scipy(path, variable), _plain_scipy
    if variable not in data:
        raise input_error(path, f"is a MAT file without a variable named {variable}")
    read = plain(data[variable]), version
    if key is not None:
        _kept[key] = read
        while len(_kept) > _KEPT_READS:
            _kept.popitem(last=False)
    return read


def _load_scipy(path: Path, variable: str) -> dict:
    """The variables scipy reads (unsqueezed, structs as objects)."""
    import warnings

    from scipy import io as sio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = sio.loadmat(str(path), squeeze_me=False, struct_as_record=False,
                               chars_as_strings=True, variable_names=[variable])
    except (ValueError, TypeError, OSError, NotImplementedError, EOFError) as exc:
        raise input_error(path, f"cannot be read as a MAT file ({exc})") from None
    return data


def _plain_scipy(value):
    """Plain values of scipy's unsqueezed output (objects are recognised before squeezing)."""
    from scipy.io.matlab import MatlabFunction, MatlabObject, MatlabOpaque, mat_struct

    if isinstance(value, mat_struct):
        return {name: _plain_scipy(getattr(value, name)) for name in value._fieldnames}
    if isinstance(value, MatlabObject):
        return Unreadable(f"object of class {value.classname}")
    if isinstance(value, MatlabOpaque):
        return Unreadable("object (MCOS)")
    if isinstance(value, MatlabFunction):
        return Unreadable("function handle")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "US":
            items = [str(v) for v in value.ravel(order="F")]
            return items[0] if len(items) == 1 else ("" if not items else items)
        if value.dtype == object:
            items = [_plain_scipy(v) for v in value.ravel(order="F")]
            return items[0] if len(items) == 1 else items
        if value.dtype.names:
            return Unreadable("record array")
        if value.size == 1:
            return value.ravel()[0].item()
        return np.squeeze(value)
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("latin-1")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _load_hdf5(path: Path, variable: str) -> dict:
    """The variables pymatreader reads from a MAT v7.3 (HDF5) file."""
    import warnings

    try:
        from pymatreader import read_mat
    except ImportError:  # pragma: no cover - a dependency
        raise input_error(path, "is a MAT v7.3 file and pymatreader is not installed") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = read_mat(str(path), variable_names=[variable])
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise input_error(path, f"cannot be read as a MAT v7.3 (HDF5) file ({exc})") from None
    return data


def _plain_hdf5(value):
    if isinstance(value, dict):
        return {k: _plain_hdf5(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_hdf5(v) for v in value]
    if value is None:
        return Unreadable("value (string or object)")
    if isinstance(value, np.generic):
        return value.item()
    return value


def struct_list(value) -> list:
    """A struct array as a list of dicts, whatever the reader made of it.

    scipy gives a dict (one element) or a list of dicts; pymatreader gives a dict of
    per-element lists for struct arrays of more than one element.
    """
    if value is None or isinstance(value, Unreadable):
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        lengths = {len(v) for v in value.values() if isinstance(v, list)}
        if value and len(lengths) == 1 and all(isinstance(v, list) for v in value.values()):
            n = lengths.pop()
            if n > 1:
                return [{k: v[i] for k, v in value.items()} for i in range(n)]
        return [value]
    return []
