"""Atlas labels added to results: peaks of an SVC summary and rows of a results table.

Results stay what their features make them; with an atlas given, these functions add
``atlas_label`` (and ``atlas_probability`` for a probabilistic atlas) next to each
world position: every ``xyz_mm`` / ``peak_xyz_mm`` of a ``to_dict()`` summary (the
``milna svc --atlas`` JSON) and every ``x_mm, y_mm, z_mm`` row of a ``to_frame()`` table
(the SVC tab's peak and cluster tables, the ROI facts table).
"""

from __future__ import annotations

import numpy as np

from .atlas import Atlas
from .lookup import labels_at

#: Keys of a world position in a result's JSON summary.
POINT_KEYS = ("xyz_mm", "peak_xyz_mm")
#: Column triples of a world position in a result table, tried in order.
POINT_COLUMNS = (("x_mm", "y_mm", "z_mm"), ("stat_peak_x_mm", "stat_peak_y_mm", "stat_peak_z_mm"),
                 ("centroid_x_mm", "centroid_y_mm", "centroid_z_mm"))


def _walk(obj, found: list) -> None:
    if isinstance(obj, dict):
        key = next((k for k in POINT_KEYS if isinstance(obj.get(k), (list, tuple))), None)
        if key is not None and len(obj[key]) == 3:
            found.append((obj, key))
        for value in obj.values():
            _walk(value, found)
    elif isinstance(obj, list):
        for value in obj:
            _walk(value, found)


def label_summary(summary: dict, atlas: Atlas) -> dict:
    """Add the atlas label at every peak of a result's JSON summary, in place.

    Each dict holding ``xyz_mm`` (a peak, a listed maximum) or ``peak_xyz_mm`` (a
    cluster) gains ``atlas_label`` (str or None) and, for a probabilistic atlas,
    ``atlas_probability``; the summary gains ``atlas`` (:meth:`Atlas.to_dict`).

    Parameters
    ----------
    summary : dict
        A ``to_dict()`` summary (``milna svc``'s JSON).
    atlas : Atlas

    Returns
    -------
    dict
        ``summary``.
    """
    found: list = []
    _walk(summary, found)
    if found:
        labels = labels_at(atlas, np.array([d[k] for d, k in found], dtype=float))
        for (entry, _key), label in zip(found, labels):
            entry["atlas_label"] = label.name
            if atlas.is_probabilistic:
                entry["atlas_probability"] = label.probability
    summary["atlas"] = atlas.to_dict()
    return summary


def label_frame(frame, atlas: Atlas, columns=None):
    """A results table with the atlas label of each row's position.

    Parameters
    ----------
    frame : pandas.DataFrame
        A ``to_frame()`` table with world positions in mm.
    atlas : Atlas
    columns : tuple of 3 str, optional
        The x, y, z columns (default: the first of :data:`POINT_COLUMNS` the table has).

    Returns
    -------
    pandas.DataFrame
        A copy with ``atlas_label`` (and ``atlas_probability`` for a probabilistic atlas)
        after the z column; rows without a position get no label.
    """
    columns = columns or next((c for c in POINT_COLUMNS if set(c) <= set(frame.columns)), None)
    out = frame.copy()
    if columns is None:
        return out
    xyz = out[list(columns)].to_numpy(dtype=float, na_value=np.nan)
    ok = np.all(np.isfinite(xyz), axis=1)
    names = [None] * len(out)
    probs = [None] * len(out)
    if ok.any():
        for row, label in zip(np.flatnonzero(ok), labels_at(atlas, xyz[ok])):
            names[row], probs[row] = label.name, label.probability
    at = list(out.columns).index(columns[2]) + 1
    out.insert(at, "atlas_label", names)
    if atlas.is_probabilistic:
        out.insert(at + 1, "atlas_probability", probs)
    return out


__all__ = ["POINT_COLUMNS", "POINT_KEYS", "label_frame", "label_summary"]
