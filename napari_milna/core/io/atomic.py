"""Atomic file replacement: write beside the target, then rename onto it.

Every file napari-milna writes goes through :func:`atomic_target`: a crash or bad
input never leaves half a file, an existing file is only replaced by a complete one,
and the new file gets the permissions any new file would get (``0666 & ~umask``),
not the owner-only mode of a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import input_error


def _read_umask() -> int:
    """The process umask (from /proc when available, so no other thread sees it change)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of files we create, as ``open()`` would give them.
NEW_FILE_MODE = 0o666 & ~_read_umask()


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse an existing file (unless ``overwrite``) and a missing folder, in one sentence."""
    if path.exists() and not overwrite:
        raise input_error(path, "already exists; choose another name or allow overwriting")
    if not path.parent.is_dir():
        raise input_error(path.parent, "is not an existing folder")


@contextmanager
def atomic_target(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the block succeeds.

    Parameters
    ----------
    path : str or path-like
        The final file.
    suffix : str
        Suffix of the temporary name (``.nii.gz`` so that nibabel compresses).

    Yields
    ------
    Path
        Where to write. On success it is renamed onto ``path`` with the usual
        permissions of a new file; on any error it is removed.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, NEW_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
