"""The atlas label at a world position (mm): the voxel nearest to it on the atlas's grid.

The position goes to the atlas voxel through the atlas's own affine
(:meth:`Grid.to_index`, nearest voxel), so an atlas at 1 mm answers for a peak of a
2.5 mm statistical map at that peak's world coordinates, with no resampling of either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .atlas import Atlas

#: Labels of a probabilistic atlas listed at a point besides the most probable one.
MAX_OTHERS = 3


@dataclass(frozen=True)
class AtlasLabel:
    """What an atlas says at one point.

    Attributes
    ----------
    name : str or None
        The label there (the most probable one of a probabilistic atlas); None outside
        the atlas or where it has no label.
    value : int or None
        Its label value (label atlas) or volume index (probabilistic atlas).
    probability : float or None
        Its probability (0..1) in a probabilistic atlas.
    others : tuple of (str, float)
        Other labels of a probabilistic atlas there, most probable first.
    inside : bool
        False when the point lies outside the atlas's grid.
    """

    name: str | None
    value: int | None = None
    probability: float | None = None
    others: tuple = ()
    inside: bool = True

    def describe(self) -> str:
        """``"Brain-Stem 92%"``, ``"Brain-Stem"``, ``"no label"`` or ``"outside the atlas"``."""
        if not self.inside:
            return "outside the atlas"
        if self.name is None:
            return "no label"
        if self.probability is None:
            return self.name
        return f"{self.name} {100 * self.probability:.0f}%"

    def describe_all(self) -> str:
        """The label and the other labels there: ``"Brain-Stem 92%, Left_Thalamus 4%"``."""
        text = self.describe()
        if self.others:
            text += ", " + ", ".join(f"{n} {100 * p:.0f}%" for n, p in self.others)
        return text

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"name": self.name, "value": self.value, "probability": self.probability,
                "others": [{"name": n, "probability": float(p)} for n, p in self.others],
                "inside": self.inside}


def _indices(atlas: Atlas, xyz_mm) -> tuple[np.ndarray, np.ndarray]:
    xyz = np.atleast_2d(np.asarray(xyz_mm, dtype=float))[:, -3:]
    ijk = atlas.grid.to_index(xyz)
    return ijk, atlas.grid.contains_index(ijk)


def labels_at(atlas: Atlas, xyz_mm) -> list[AtlasLabel]:
    """The atlas label at each of several world positions.

    Parameters
    ----------
    atlas : Atlas
    xyz_mm : array-like, shape (n, 3) or (3,)
        World positions in mm.

    Returns
    -------
    list of AtlasLabel
    """
    ijk, inside = _indices(atlas, xyz_mm)
    out = []
    for index, ok in zip(ijk, inside):
        if not ok:
            out.append(AtlasLabel(None, inside=False))
            continue
        if atlas.is_probabilistic:
            out.append(_probabilistic(atlas, index))
        else:
            value = int(atlas.labels[tuple(index)])
            out.append(AtlasLabel(atlas.names.get(value) if value else None,
                                  value if value else None))
    return out


def _probabilistic(atlas: Atlas, ijk) -> AtlasLabel:
    row = int(np.ravel_multi_index(tuple(int(v) for v in ijk), atlas.grid.shape, order="F"))
    probs = atlas.probabilities
    start, stop = probs.indptr[row], probs.indptr[row + 1]
    volumes, values = probs.indices[start:stop], probs.data[start:stop]
    keep = values > 0
    volumes, values = volumes[keep], values[keep]
    if volumes.size == 0:
        return AtlasLabel(None)
    order = np.lexsort((volumes, -values))  # most probable first, ties by volume
    volumes, values = volumes[order], values[order]
    others = tuple((atlas.names[int(v)], float(p)) for v, p in
                   zip(volumes[1:MAX_OTHERS + 1], values[1:MAX_OTHERS + 1]))
    return AtlasLabel(atlas.names[int(volumes[0])], int(volumes[0]), float(values[0]), others)


def label_at(atlas: Atlas, xyz_mm) -> AtlasLabel:
    """The atlas label at one world position (mm), from the nearest atlas voxel.

    Parameters
    ----------
    atlas : Atlas
    xyz_mm : sequence of 3 float

    Returns
    -------
    AtlasLabel
    """
    return labels_at(atlas, [np.asarray(xyz_mm, dtype=float)[-3:]])[0]


__all__ = ["MAX_OTHERS", "AtlasLabel", "label_at", "labels_at"]
