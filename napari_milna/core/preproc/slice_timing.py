"""When each slice of an EPI volume was acquired, and which slice holds a point.

RETROICOR samples the physiological phases at the acquisition time of one slice
(the slice through the region of interest, e.g. the PAG or the RVM). That time
comes from the BOLD JSON sidecar (BIDS ``SliceTiming``, seconds from the start of
each volume) or from the TR and a slice order. Slices are counted along the slice
axis of the voxel grid (BIDS ``SliceEncodingDirection``, default ``k``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.geometry import Grid
from ..io.tables import read_json_object
from ..protocol import SLICE_ORDERS

_AXES = {"i": 0, "j": 1, "k": 2}


def slice_order(n_slices: int, order: str) -> np.ndarray:
    """Slice indices (0-based, along the slice axis) in the order they are acquired.

    Parameters
    ----------
    n_slices : int
    order : str
        ``"ascending"`` (0, 1, 2, ...), ``"descending"``, ``"interleaved"`` (0, 2, 4, ...
        then 1, 3, 5, ...: SPM's "interleaved bottom -> up") or ``"interleaved_siemens"``
        (Siemens: as ``"interleaved"`` for an odd number of slices, 1, 3, 5, ... then
        0, 2, 4, ... for an even number).
    """
    idx = np.arange(int(n_slices))
    if order == "ascending":
        return idx
    if order == "descending":
        return idx[::-1].copy()
    if order == "interleaved":
        return np.concatenate([idx[0::2], idx[1::2]])
    if order == "interleaved_siemens":
        if n_slices % 2:
            return np.concatenate([idx[0::2], idx[1::2]])
        return np.concatenate([idx[1::2], idx[0::2]])
    raise ValueError(f"unknown slice order {order!r}; known: {', '.join(SLICE_ORDERS)}")


def slice_times_from_order(n_slices: int, tr: float, order: str = "interleaved") -> np.ndarray:
    """Acquisition time (s from volume start) of each slice, evenly spread over the TR.

    Returns
    -------
    ndarray, shape (n_slices,)
        ``times[s]`` for slice index ``s`` along the slice axis.
    """
    acquired = slice_order(n_slices, order)
    times = np.empty(int(n_slices))
    times[acquired] = np.arange(int(n_slices)) * float(tr) / int(n_slices)
    return times


def read_bold_sidecar(path: str | os.PathLike) -> dict:
    """The JSON sidecar of a BOLD run: ``x_bold.nii.gz`` -> ``x_bold.json`` (or a .json path)."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        name = path.name
        for suffix in (".nii.gz", ".nii"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
                break
        path = path.with_name(name + ".json")
    meta = read_json_object(path, "the BOLD JSON sidecar gives SliceTiming")
    meta["_path"] = str(path)
    return meta


def slice_axis_from_sidecar(meta: dict) -> tuple[int, bool]:
    """(voxel axis, reversed) from BIDS ``SliceEncodingDirection`` (default ``"k"``)."""
    code = str(meta.get("SliceEncodingDirection", "k")).strip()
    axis = _AXES.get(code[:1])
    if axis is None or code not in ("i", "j", "k", "i-", "j-", "k-"):
        raise input_error(meta.get("_path"), f"has an unknown SliceEncodingDirection {code!r}")
    return axis, code.endswith("-")


def slice_times_from_sidecar(meta: dict) -> np.ndarray:
    """``SliceTiming`` (s) indexed by slice position along the slice axis.

    With a negative ``SliceEncodingDirection`` BIDS lists the times from the last
    slice of the axis to the first: they are reversed here.
    """
    times = meta.get("SliceTiming")
    path = meta.get("_path")
    if not isinstance(times, list) or not times:
        raise input_error(path, "has no SliceTiming list")
    try:
        times = np.asarray([float(t) for t in times])
    except (TypeError, ValueError):
        raise input_error(path, "has a SliceTiming entry that is not a number") from None
    _, reverse = slice_axis_from_sidecar(meta)
    return times[::-1].copy() if reverse else times


def slice_through(grid: Grid, xyz, slice_axis: int = 2) -> int:
    """Index of the slice (along ``slice_axis``) whose voxels contain world point ``xyz``.

    Parameters
    ----------
    grid : Grid
        The BOLD grid.
    xyz : array-like, shape (3,)
        World coordinate in mm (e.g. the PAG centroid (0.5, -31, -9), MNI).
    slice_axis : int
        Voxel axis along which slices are stacked (2 for ``k``).

    Raises
    ------
    MilnaInputError
        The point lies outside the grid.
    """
    ijk = grid.to_index(np.asarray(xyz, dtype=float))
    if not grid.contains_index(ijk):
        raise input_error(
            None,
            f"the point ({', '.join(f'{v:g}' for v in xyz)}) mm lies outside the BOLD grid "
            f"({grid.describe()})",
        )
    return int(ijk[slice_axis])


def check_sample_times(n_volumes: int, tr: float, slice_time: float = 0.0) -> None:
    """Refuse a TR that is not a positive finite number or a slice time outside the TR."""
    if not (np.isfinite(tr) and tr > 0):
        raise input_error(None, f"the TR must be a positive number of seconds, not {tr}")
    if not (np.isfinite(slice_time) and 0 <= slice_time < tr + 1e-9):
        raise input_error(None, f"the slice time {slice_time} s is outside the TR of {tr} s")
    if int(n_volumes) < 1:
        raise input_error(None, f"a run has at least 1 volume, not {n_volumes}")


def volume_sample_times(n_volumes: int, tr: float, slice_time: float = 0.0) -> np.ndarray:
    """Time (s) at which each volume's chosen slice was acquired: ``v * TR + slice_time``."""
    check_sample_times(n_volumes, tr, slice_time)
    return np.arange(int(n_volumes)) * float(tr) + float(slice_time)


@dataclass
class SliceChoice:
    """The acquisition time used to sample physiological phases, and where it came from."""

    time: float
    index: int | None
    source: str

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"slice_time": float(self.time), "slice_index": self.index, "source": self.source}


def _header_slice_times(source) -> np.ndarray | None:
    """Slice times from the NIfTI header (slice_code, slice_duration), or None."""
    try:
        times = source.header.get_slice_times()
    except Exception:  # nibabel raises HeaderDataError for missing fields
        return None
    if times is None or any(t is None for t in times):
        return None
    return np.asarray(times, dtype=float)


def choose_slice_time(
    bold,
    *,
    slice_index: int | None = None,
    at=None,
    slice_order: str | None = None,
    slice_time: float | None = None,
) -> SliceChoice:
    """Acquisition time (s within the TR) at which RETROICOR samples the phases.

    In order of precedence:

    1. ``slice_time`` given: used as is;
    2. ``slice_index`` or a world point ``at`` (slice through it on the BOLD grid,
       along the sidecar's ``SliceEncodingDirection``): its time from the sidecar's
       ``SliceTiming``, else from the NIfTI header's slice timing fields, else from
       the TR and ``slice_order``;
    3. neither, and the sidecar says ``SliceTimingCorrected`` with a ``StartTime``:
       the slice-timing reference time (every slice was shifted to it);
    4. otherwise an error asking for one of the above.

    Parameters
    ----------
    bold : path-like or NiftiSource
    slice_index : int, optional
    at : array-like (3,), optional
        World mm.
    slice_order : str, optional
        One of :data:`SLICE_ORDERS`, used when no slice timing is stored.
    slice_time : float, optional

    Returns
    -------
    SliceChoice
    """
    from ..io.nifti import open_nifti

    if slice_time is not None:
        return SliceChoice(float(slice_time), slice_index, "given")
    source = open_nifti(bold)  # a path, an opened source or a nibabel image
    try:
        meta = read_bold_sidecar(source.path)
    except MilnaInputError:
        meta = {}
    axis, _ = slice_axis_from_sidecar(meta) if meta else (2, False)
    if at is not None:
        slice_index = slice_through(source.grid, at, axis)
    tr = source.tr or meta.get("RepetitionTime")
    if slice_index is None:
        if meta.get("SliceTimingCorrected") and meta.get("StartTime") is not None:
            return SliceChoice(float(meta["StartTime"]), None,
                               "StartTime of the slice-timing corrected run (BOLD sidecar)")
        raise input_error(
            source.path,
            "gives no slice to sample the physiological phases at; give a slice index, a "
            "world coordinate (e.g. the PAG) or a slice time",
        )
    n_slices = source.grid.shape[axis]
    if not 0 <= slice_index < n_slices:
        raise input_error(source.path, f"has {n_slices} slices; slice {slice_index} does not "
                                       "exist")
    if meta.get("SliceTiming"):
        times = slice_times_from_sidecar(meta)
        if times.size != n_slices:
            raise input_error(meta.get("_path"), f"lists {times.size} SliceTiming values for "
                                                 f"{n_slices} slices")
        return SliceChoice(float(times[slice_index]), slice_index, "SliceTiming (BOLD sidecar)")
    header_times = _header_slice_times(source)
    if header_times is not None and header_times.size == n_slices:
        return SliceChoice(float(header_times[slice_index]), slice_index,
                           "NIfTI header slice timing")
    if slice_order is None or not tr:
        raise input_error(source.path, "stores no slice timing (no SliceTiming in its sidecar, "
                                       "none in its header); give the slice order and TR")
    times = slice_times_from_order(n_slices, float(tr), slice_order)
    return SliceChoice(float(times[slice_index]), slice_index, f"TR and {slice_order} order")
