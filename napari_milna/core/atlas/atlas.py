"""Atlases: integer label images and 4D probabilistic atlases, with their label names.

A label atlas is a 3D image of integer labels (0 = no label). A probabilistic atlas is
a 4D image with one volume per label, each voxel the probability (0..1, or percent as
FSL stores it) of that label there. Both come with a lookup table of names
(:mod:`.lut`) and must lie in a template space (their sform / qform code or a BIDS
``space-`` entity says which), so that a world position in mm means the same point on
the atlas as on the statistical map.

A probabilistic atlas is read once, front to back, into a sparse voxel x label matrix
(FSL's Harvard-Oxford: 113 labels at 1 mm, 500 MB as a dense array, 50 MB sparse)
and a summary label image (the most probable label where its probability reaches
:data:`SUMMARY_THRESHOLD`, as FSL's ``maxprob-thr25`` images) for display.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.bids import parse_bids_name
from ..io.geometry import Grid
from ..io.nifti import NiftiSource, load_volume, source_of_image
from .lut import LabelTable, find_lut, lut_from_nilearn, read_lut

#: Probability a label needs at a voxel to show in the summary image (FSL: maxprob-thr25).
SUMMARY_THRESHOLD = 0.25
#: Volumes of a probabilistic atlas read at once.
READ_STEP = 2
#: NIfTI sform / qform codes that place an image in a template space.
TEMPLATE_CODES = {2: "aligned to a template (sform code 2)", 3: "Talairach", 4: "MNI152",
                  5: "template"}
ATLAS_KINDS = ("labels", "probabilistic")


@dataclass(frozen=True, eq=False)
class Atlas:
    """An atlas in memory: labels or probabilities on a grid, and their names.

    Attributes
    ----------
    name : str
        What the atlas is called (its lookup table's name, else its file name).
    kind : {"labels", "probabilistic"}
    grid : Grid
        Voxel grid and affine (world mm).
    names : dict of int to str
        Label value (``labels``) or volume index (``probabilistic``) -> name.
    space : str
        Template space (``"MNI152"``, a BIDS ``space-`` label, ...).
    path : str or None
        The image file (None for an in-memory image).
    lut : LabelTable
        Where the names came from.
    labels : ndarray of int32 or None
        The label image of a label atlas.
    probabilities : scipy.sparse.csr_array or None
        Probabilistic atlas: (voxels in NIfTI (Fortran) order, volumes) probabilities in
        0..1; row ``np.ravel_multi_index(ijk, grid.shape, order="F")``.
    summary : ndarray of int32
        Display labels: the label image, or the most probable volume + 1 where its
        probability reaches ``summary_threshold`` (0 elsewhere).
    summary_threshold : float
    """

    name: str
    kind: str
    grid: Grid
    names: dict
    space: str
    path: str | None
    lut: LabelTable
    labels: np.ndarray | None = field(default=None, repr=False)
    probabilities: object | None = field(default=None, repr=False)
    summary: np.ndarray | None = field(default=None, repr=False)
    summary_threshold: float = SUMMARY_THRESHOLD

    @property
    def n_labels(self) -> int:
        """Number of named labels (volumes of a probabilistic atlas)."""
        return len(self.names)

    @property
    def is_probabilistic(self) -> bool:
        """True for a 4D probabilistic atlas."""
        return self.kind == "probabilistic"

    def summary_names(self) -> dict:
        """Value in :attr:`summary` -> name (volume + 1 for a probabilistic atlas)."""
        if self.is_probabilistic:
            return {v + 1: n for v, n in self.names.items()}
        return dict(self.names)

    def subset(self, volumes, name: str | None = None) -> Atlas:
        """A probabilistic atlas of some of its volumes (renumbered 0..n-1, names kept).

        Parameters
        ----------
        volumes : sequence of int
        name : str, optional
        """
        if not self.is_probabilistic:
            raise ValueError("only a probabilistic atlas has volumes to choose from")
        volumes = [int(v) for v in volumes]
        probs = self.probabilities[:, volumes].tocsr()
        names = {i: self.names[v] for i, v in enumerate(volumes)}
        summary = _summary(probs, self.grid.shape, self.summary_threshold)
        return Atlas(name or self.name, self.kind, self.grid, names, self.space, self.path,
                     self.lut, None, probs, summary, self.summary_threshold)

    def to_dict(self) -> dict:
        """JSON-ready description (no voxels)."""
        return {
            "name": self.name, "kind": self.kind, "space": self.space, "file": self.path,
            "lut": self.lut.source, "lut_format": self.lut.format, "n_labels": self.n_labels,
            "shape": list(self.grid.shape), "zooms": [float(v) for v in self.grid.zooms],
        }


def atlas_space(source: NiftiSource, default: str | None = None) -> str:
    """The template space an atlas image lies in.

    A BIDS ``space-`` (or ``tpl-``) entity in the file name wins; else a named space of
    the sform or qform code (3 Talairach, 4 MNI152); else ``default``; else a generic
    template code (2 aligned, 5 template).

    Raises
    ------
    MilnaInputError
        No space is known (codes 0 / 1 and no entity, and no ``default``).
    """
    entities = parse_bids_name(source.path).entities
    for key in ("space", "tpl"):
        if entities.get(key):
            return entities[key]
    codes = (source.sform_code, source.qform_code)
    for code in codes:
        if code in (3, 4):  # Talairach, MNI152: a named space
            return TEMPLATE_CODES[code]
    if default:
        return default
    for code in codes:
        if code in TEMPLATE_CODES:
            return TEMPLATE_CODES[code]
    raise input_error(
        source.path, f"is on no known space (sform code {source.sform_code}, qform code "
        f"{source.qform_code}: unknown or scanner, and no space- entity in its name); an atlas "
        "must be in a template space such as MNI152 (sform code 4)")


def _check_names(table: LabelTable, present, path, what: str) -> None:
    missing = sorted(int(v) for v in set(int(v) for v in present) - set(table.names))
    if missing:
        shown = ", ".join(str(v) for v in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise input_error(
            table.source or path,
            f"names no label for {what} {shown} of {path}; give a lookup table that covers "
            "every label of the atlas")


def _label_names(table: LabelTable, values: np.ndarray, path) -> dict:
    if table.format == "none":
        return {int(v): f"label {int(v)}" for v in values}
    if table.atlas_type == "probabilistic" and table.format == "fsl-xml":
        table = table.shifted(1)  # the 3D summary image of an FSL probabilistic atlas
    _check_names(table, values, path, "values")
    return {int(v): table.names[int(v)] for v in values}


def _volume_names(table: LabelTable, n: int, path) -> dict:
    if table.format == "none":
        return {v: f"volume {v}" for v in range(n)}
    keys = set(table.names)
    if 0 not in keys and set(range(1, n + 1)) <= keys and len(keys) == n:
        table = table.shifted(-1)  # a table that numbers volumes from 1
    _check_names(table, range(n), path, "volumes")
    return {v: table.names[v] for v in range(n)}


def _integer_labels(data: np.ndarray, path) -> np.ndarray:
    if data.dtype.kind == "f":
        finite = np.isfinite(data)
        if not np.array_equal(data[finite], np.round(data[finite])):
            raise input_error(
                path, "holds non-integer values, so it is not a label atlas (a probabilistic "
                "atlas is 4D, one volume per label)")
        data = np.where(finite, data, 0)
    if data.size and data.min() < 0:
        raise input_error(path, "holds negative values, which are not atlas labels")
    return np.asarray(data, dtype=np.int32)


def _summary(probs, shape, threshold: float) -> np.ndarray:
    """Most probable volume + 1 where its probability reaches ``threshold``, else 0.

    Ties go to the lower volume. Vectorised over the sparse rows (NIfTI voxel order).
    """
    probs = probs.tocsr()
    probs.sum_duplicates()  # sorted column indices within each row
    out = np.zeros(probs.shape[0], dtype=np.int32)
    counts = np.diff(probs.indptr)
    rows = np.flatnonzero(counts)
    if rows.size:
        row_max = np.maximum.reduceat(probs.data, probs.indptr[rows])
        at_max = np.flatnonzero(probs.data == np.repeat(row_max, counts[rows]))
        owner = np.repeat(np.arange(probs.shape[0]), counts)[at_max]
        owners, first = np.unique(owner, return_index=True)
        best = probs.data[at_max[first]]
        keep = (best >= threshold) & (best > 0)
        out[owners[keep]] = probs.indices[at_max[first]][keep] + 1
    return out.reshape(shape, order="F")


def _read_probabilities(source: NiftiSource, progress=None):
    """A 4D probabilistic image as a sparse (voxels in NIfTI order, volumes) matrix of 0..1."""
    from scipy import sparse

    from ..jobs import report

    run = source.run()
    n, n_voxels = run.shape[0], int(np.prod(run.shape[1:]))
    rows, cols, values = [], [], []
    top = 0.0
    for start, stop, block in run.iter_chunks(READ_STEP, dtype=np.float32):
        flat = block.ravel(order="F")  # volume after volume, each in NIfTI (F) order
        flat[~np.isfinite(flat)] = 0.0
        where = np.flatnonzero(flat)
        vals = flat[where]
        if vals.size and vals.min() < 0:
            raise input_error(source.path, f"volumes {start}-{stop - 1} hold negative "
                              "values, which are not probabilities")
        top = max(top, float(vals.max()) if vals.size else 0.0)
        rows.append(where % n_voxels)
        cols.append((where // n_voxels + start).astype(np.int32))
        values.append(vals)
        report(progress, stop, n)
    if top > 100.0:
        raise input_error(source.path, f"holds values up to {top:g}, which are neither "
                          "probabilities (0..1) nor percentages (0..100)")
    scale = 100.0 if top > 1.0 else 1.0  # FSL stores percentages
    data = np.concatenate(values) / np.float32(scale) if values else np.zeros(0, np.float32)
    matrix = sparse.csr_array(
        (data, (np.concatenate(rows) if rows else [], np.concatenate(cols) if cols else [])),
        shape=(n_voxels, n), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix


def _cached_probabilities(source: NiftiSource, progress=None):
    """:func:`_read_probabilities`, through the disk cache for files (:mod:`.cache`)."""
    from . import cache

    on_disk = Path(source.path).is_file()
    probs = cache.load_cached(source.path) if on_disk else None
    if probs is not None and probs.shape == (source.grid.n_voxels, source.n_volumes):
        return probs
    probs = _read_probabilities(source, progress)
    if on_disk:
        cache.store(source.path, probs)
    return probs


def _atlas_of(source: NiftiSource, table: LabelTable, name: str | None, space: str,
              progress=None) -> Atlas:
    path = source.path
    title = name or table.name or source.name
    if source.is_run:
        names = _volume_names(table, source.n_volumes, path)
        probs = _cached_probabilities(source, progress)
        summary = _summary(probs, source.grid.shape, SUMMARY_THRESHOLD)
        return Atlas(title, "probabilistic", source.grid, names, space, str(path), table,
                     None, probs, summary)
    labels = _integer_labels(source.volume(), path)
    values = np.unique(labels)
    names = _label_names(table, values[values > 0], path)
    labels.setflags(write=False)
    return Atlas(title, "labels", source.grid, names, space, str(path), table, labels, None,
                 labels)


@functools.lru_cache(maxsize=4)
def _open_cached(path: str, stamp: tuple, lut: str | None, name: str | None,
                 space: str | None) -> Atlas:
    source = load_volume(path, allow_run=True)
    lut_path = lut or find_lut(path)
    table = read_lut(lut_path) if lut_path else LabelTable()
    return _atlas_of(source, table, name, atlas_space(source, space))


def open_atlas(path, lut=None, *, name: str | None = None, space: str | None = None) -> Atlas:
    """Open an atlas image with its lookup table.

    Parameters
    ----------
    path : str or path-like
        A 3D integer label image or a 4D probabilistic atlas (one volume per label).
    lut : str or path-like, optional
        Its lookup table (FSL XML, FreeSurfer LUT, BIDS dseg.tsv / CSV); by default the
        one :func:`~napari_milna.core.atlas.lut.find_lut` finds beside the image (label
        atlases without one get names ``"label N"``).
    name : str, optional
        What to call the atlas (default: the table's name, else the file name).
    space : str, optional
        The space to assume when the header and name say none.

    Returns
    -------
    Atlas
        Opened once per file and version (kept for the next call).

    Raises
    ------
    MilnaInputError
        An unreadable image, a non-integer label image, a table that lacks labels of
        the image, probabilities outside 0..1 / 0..100, or no known space.
    """
    path = Path(path)
    if not path.is_file():
        load_volume(path)  # says what is wrong (missing, a folder, not NIfTI)
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    return _open_cached(str(path.resolve()), stamp, os.fspath(lut) if lut else None, name,
                        space)


def is_atlas(source: NiftiSource, info=None) -> bool:
    """True for an atlas image.

    Its name says so (kind ATLAS), or it is a 4D image, not a BOLD run, with a lookup
    table beside it (:func:`~napari_milna.core.atlas.lut.find_lut`).
    """
    from ..io.kinds import ImageKind, classify

    info = info or classify(source)
    if info.kind == ImageKind.ATLAS:
        return True
    return (source.is_run and not source.name.lower().endswith("_bold")
            and find_lut(source.path) is not None)


def atlas_facts(source: NiftiSource, info=None) -> dict | None:
    """What ``milna info`` says of an atlas image from its header (no 4D voxels read).

    Returns
    -------
    dict or None
        ``type`` ("labels" / "probabilistic"), ``n_labels`` (volumes, or label values
        present), ``lut`` (the table beside it, or None), ``space`` (None when unknown);
        None when the image is no atlas.
    """
    from ..errors import MilnaInputError

    if not is_atlas(source, info):
        return None
    lut = find_lut(source.path) if Path(source.path).is_file() else None
    if source.is_run:
        kind, n = "probabilistic", source.n_volumes
    else:
        data = source.volume()
        kind, n = "labels", int(np.unique(data[np.isfinite(data) & (data > 0)]).size)
    try:
        space = atlas_space(source)
    except MilnaInputError:
        space = None
    return {"type": kind, "n_labels": n, "lut": str(lut) if lut else None, "space": space}


def check_same_space(atlas: Atlas, source: NiftiSource) -> None:
    """Refuse an atlas in Talairach space for an MNI image and the other way round.

    Raises
    ------
    MilnaInputError
    """
    spaces = {3: "Talairach", 4: "MNI152"}
    image_space = spaces.get(source.sform_code) or spaces.get(source.qform_code)
    if image_space and atlas.space in spaces.values() and atlas.space != image_space:
        raise input_error(atlas.path, f"is in {atlas.space} space but {source.path} is in "
                          f"{image_space} space; use an atlas in the map's space")


def atlas_from_nilearn(atlas, *, name: str | None = None) -> Atlas:
    """An :class:`Atlas` of a nilearn atlas object (``nilearn.datasets.fetch_atlas_*``).

    Parameters
    ----------
    atlas : nilearn atlas Bunch
        Its ``maps`` (image or file), ``atlas_type`` and ``lut`` / ``labels``.
    name : str, optional

    Returns
    -------
    Atlas
        In the space its ``template`` names (nilearn's atlases are MNI152) unless the
        image header or name says one.
    """
    get = atlas.get if hasattr(atlas, "get") else lambda k, d=None: getattr(atlas, k, d)
    maps = get("maps")
    source = (source_of_image(maps, name=name or "nilearn atlas")
              if not isinstance(maps, (str, os.PathLike)) else load_volume(maps, allow_run=True))
    table = lut_from_nilearn(atlas)
    if source.is_run and len(table.names) == source.n_volumes + 1 and \
            str(table.names.get(0, "")).lower() == "background":
        table = LabelTable({k - 1: v for k, v in table.names.items() if k > 0}, table.format,
                           None, table.atlas_type)
    template = get("template")
    default = template if template and "?" not in str(template) else "MNI152 (nilearn)"
    return _atlas_of(source, table, name, atlas_space(source, default))


__all__ = ["ATLAS_KINDS", "SUMMARY_THRESHOLD", "Atlas", "atlas_facts", "atlas_from_nilearn",
           "atlas_space", "check_same_space", "is_atlas", "open_atlas"]
