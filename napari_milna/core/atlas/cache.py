"""A disk cache of probabilistic atlases read once: the sparse probabilities of a 4D file.

Reading a 4D atlas means decompressing all of it (FSL's Harvard-Oxford at 1 mm: 500 MB
of voxels, several seconds). Its sparse voxel x label matrix is kept as a compressed
``.npz`` in ``$MILNA_ATLAS_CACHE`` (default ``~/.cache/napari-milna/atlases``), named
by a hash of the file's resolved path, size and modification time, so a changed file
is read again. ``MILNA_ATLAS_CACHE=off`` turns the cache off. Writes are atomic; a
cache file that cannot be read is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from ..io.atomic import atomic_target

#: Environment variable naming the cache folder (``off``: no cache).
ENV_VAR = "MILNA_ATLAS_CACHE"
#: Bump when the cached form changes.
CACHE_VERSION = 1


def cache_folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
    env = os.environ.get(ENV_VAR)
    if env is not None and env.strip().lower() in ("off", "0", "none", ""):
        return None
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "napari-milna" / "atlases"


def cache_path(path: str | os.PathLike) -> Path | None:
    """Where the probabilities of the atlas file ``path`` are (or would be) cached."""
    folder = cache_folder()
    if folder is None:
        return None
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{CACHE_VERSION}|{path}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    return folder / f"{path.name.split('.')[0]}-{digest}.npz"


def load_cached(path) -> object | None:
    """The cached sparse probabilities of ``path``, or None."""
    from scipy import sparse

    target = cache_path(path)
    if target is None or not target.is_file():
        return None
    try:
        return sparse.csr_array(sparse.load_npz(target))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def store(path, matrix) -> None:
    """Keep the sparse probabilities of ``path`` (quietly nothing when the folder is not ours)."""
    from scipy import sparse

    target = cache_path(path)
    if target is None:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(target, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            sparse.save_npz(fh, sparse.csr_matrix(matrix), compressed=True)
    except OSError:
        pass  # a read-only home: the atlas is simply read again next time


__all__ = ["CACHE_VERSION", "ENV_VAR", "cache_folder", "cache_path", "load_cached", "store"]
