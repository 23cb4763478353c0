"""The planted regions: literature MNI coordinates, shapes and partial-volume coverage.

Sources of the coordinates (MNI152, mm):

* PAG -- Satpute et al. 2013, NeuroImage 75:19 ("Identification of discrete
  functional subregions of the human periaqueductal gray"): a hollow cylinder about
  6 mm outer and 2-3 mm inner diameter, about 10 mm long around the cerebral
  aqueduct; the hand-traced PAG spans y -26..-37, z -12..-5 with its centroid near
  (0.5, -31, -9); the CANlab PAG spheres run from (0.4, -29.2, -6.7) to
  (0.4, -33.3, -11.9). Here: axis from (0.5, -26.2, -7.7) to (0.5, -35.8, -10.3)
  (10 mm long, centroid (0.5, -31, -9)), outer radius 3 mm, inner radius 1.25 mm.
* RVM -- CANlab symmetric RVM region, around (2, -36, -42) spanning y -38..-34,
  z -46..-38 (compare the nucleus raphe magnus box at (0, -34, -40) of Baer et al.
  2016 and the medullary raphe near (0, -36, -50) of Nash et al. 2009).
* Posterior insula -- dorsal posterior insula of pain studies, about (+/-38, -18, 10)
  (e.g. Segerdahl et al. 2015, Nat Neurosci 18:499).
* Thalamus -- about (+/-12, -18, 6), the lateral / ventral posterior thalamus of pain
  meta-analyses (Apkarian et al. 2005, Eur J Pain 9:463; Duerden & Albanese 2013,
  Hum Brain Mapp 34:109).
* ACC -- anterior mid-cingulate cortex about (0, 20, 35) (Vogt 2005, Nat Rev Neurosci
  6:533; the aMCC of pain meta-analyses).
* V1 (control) -- calcarine cortex around (0, -90, 2), a region with no planted
  drug effect.

A region's *coverage* of a voxel is the fraction of the voxel inside the region
(5 x 5 x 5 sub-samples per voxel), so the small PAG and RVM show the partial-volume
effect a 2.5 x 2.5 x 3 mm grid really has. Planted effects scale with coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from napari_milna.core.io.geometry import Grid

#: Sub-samples per voxel edge for coverage.
SUBSAMPLES = 5


@dataclass(frozen=True)
class Region:
    """One planted region.

    Attributes
    ----------
    name : str
        Short name (``"PAG"``, ``"pINS_L"``, ...).
    label : int
        Value in the planted-regions label image.
    shape : {"ellipsoid", "hollow_cylinder"}
    centre_mm : tuple of float
        MNI centre (the cylinder's centroid).
    radii_mm : tuple of float
        Ellipsoid semi-axes (x, y, z); for the cylinder (outer, inner, outer).
    axis_mm : tuple of tuple, optional
        Cylinder axis end points.
    source : str
        Literature source of the coordinate.
    """

    name: str
    label: int
    shape: str
    centre_mm: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    source: str
    axis_mm: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    description: str = field(default="")

    def contains(self, xyz: np.ndarray) -> np.ndarray:
        """Whether world points ``xyz`` (shape (..., 3)) lie inside the region."""
        xyz = np.asarray(xyz, dtype=float)
        if self.shape == "ellipsoid":
            d = (xyz - np.asarray(self.centre_mm)) / np.asarray(self.radii_mm)
            return (d**2).sum(axis=-1) <= 1.0
        if self.shape == "hollow_cylinder":
            a, b = (np.asarray(p, dtype=float) for p in self.axis_mm)
            axis = b - a
            length = float(np.linalg.norm(axis))
            u = axis / length
            rel = xyz - a
            along = rel @ u
            radial = np.linalg.norm(rel - along[..., None] * u, axis=-1)
            outer, inner = self.radii_mm[0], self.radii_mm[1]
            return (along >= 0) & (along <= length) & (radial <= outer) & (radial >= inner)
        raise ValueError(f"unknown region shape {self.shape!r}")

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper world corners of a box that contains the region."""
        if self.shape == "ellipsoid":
            c, r = np.asarray(self.centre_mm), np.asarray(self.radii_mm)
            return c - r, c + r
        pts = np.asarray(self.axis_mm, dtype=float)
        pad = self.radii_mm[0]
        return pts.min(axis=0) - pad, pts.max(axis=0) + pad

    def volume_mm3(self) -> float:
        """Exact volume of the region in mm^3."""
        if self.shape == "ellipsoid":
            return float(4.0 / 3.0 * np.pi * np.prod(self.radii_mm))
        a, b = (np.asarray(p, dtype=float) for p in self.axis_mm)
        outer, inner = self.radii_mm[0], self.radii_mm[1]
        return float(np.pi * (outer**2 - inner**2) * np.linalg.norm(b - a))

    def to_dict(self) -> dict:
        """JSON-ready description."""
        d = {
            "name": self.name,
            "label": self.label,
            "shape": self.shape,
            "centre_mm": [float(v) for v in self.centre_mm],
            "source": self.source,
            "description": self.description,
            "volume_mm3": round(self.volume_mm3(), 3),
        }
        if self.shape == "ellipsoid":
            d["radii_mm"] = [float(v) for v in self.radii_mm]
        else:
            d["axis_mm"] = [[float(v) for v in p] for p in self.axis_mm]
            d["outer_radius_mm"] = float(self.radii_mm[0])
            d["inner_radius_mm"] = float(self.radii_mm[1])
        return d


def _sphere(name, label, centre, radius, source, description=""):
    return Region(name, label, "ellipsoid", centre, (radius,) * 3, source, None, description)


_SATPUTE = "Satpute et al. 2013 NeuroImage 75:19; CANlab PAG"
_CANLAB_RVM = "CANlab symmetric RVM; cf. Baer et al. 2016, Nash et al. 2009"
_INSULA = "dorsal posterior insula, e.g. Segerdahl et al. 2015 Nat Neurosci 18:499"
_THALAMUS = "pain meta-analyses: Apkarian et al. 2005; Duerden & Albanese 2013"
_ACC = "anterior mid-cingulate cortex, Vogt 2005 Nat Rev Neurosci 6:533"

#: Every planted region, in label order.
REGIONS: tuple[Region, ...] = (
    Region(
        "PAG", 1, "hollow_cylinder", (0.5, -31.0, -9.0), (3.0, 1.25, 3.0), _SATPUTE,
        ((0.5, -26.2, -7.7), (0.5, -35.8, -10.3)),
        "periaqueductal gray: hollow cylinder around the cerebral aqueduct",
    ),
    Region(
        "RVM", 2, "ellipsoid", (2.0, -36.0, -42.0), (3.5, 2.5, 4.5), _CANLAB_RVM, None,
        "rostral ventromedial medulla (spans y -38.5..-33.5, z -46.5..-37.5)",
    ),
    _sphere("pINS_L", 3, (-38.0, -18.0, 10.0), 6.0, _INSULA, "left posterior insula"),
    _sphere("pINS_R", 4, (38.0, -18.0, 10.0), 6.0, _INSULA, "right posterior insula"),
    _sphere("THAL_L", 5, (-12.0, -18.0, 6.0), 5.0, _THALAMUS, "left thalamus"),
    _sphere("THAL_R", 6, (12.0, -18.0, 6.0), 5.0, _THALAMUS, "right thalamus"),
    _sphere("ACC", 7, (0.0, 20.0, 35.0), 7.0, _ACC, "anterior mid-cingulate cortex"),
    Region(
        "V1", 8, "ellipsoid", (0.0, -90.0, 2.0), (14.0, 7.0, 7.0),
        "calcarine cortex (primary visual cortex)", None,
        "control region: no planted drug effect",
    ),
)


def region(name: str) -> Region:
    """The planted region called ``name``."""
    for r in REGIONS:
        if r.name == name:
            return r
    raise KeyError(name)


def coverage(reg: Region, grid: Grid, subsamples: int = SUBSAMPLES) -> np.ndarray:
    """Fraction of each voxel of ``grid`` inside ``reg`` (float64, shape ``grid.shape``).

    Parameters
    ----------
    reg : Region
    grid : Grid
        An axis-aligned grid.
    subsamples : int
        Sub-samples per voxel edge (``subsamples**3`` points per voxel).

    Returns
    -------
    ndarray
    """
    out = np.zeros(grid.shape)
    lo, hi = reg.bounds_mm()
    corners = np.array([[lo[0], lo[1], lo[2]], [hi[0], hi[1], hi[2]]])
    vox = grid.to_voxel(corners)
    start = np.clip(np.floor(vox.min(axis=0)).astype(int) - 1, 0, None)
    stop = np.minimum(np.ceil(vox.max(axis=0)).astype(int) + 2, grid.shape)
    if np.any(stop <= start):
        return out
    offsets = (np.arange(subsamples) + 0.5) / subsamples - 0.5
    ranges = [np.arange(s, e) for s, e in zip(start, stop)]
    ijk = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1)
    sub = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), axis=-1).reshape(-1, 3)
    points = ijk[..., None, :] + sub
    inside = reg.contains(grid.to_world(points))
    out[tuple(slice(s, e) for s, e in zip(start, stop))] = inside.mean(axis=-1)
    return out


def coverage_maps(grid: Grid) -> dict[str, np.ndarray]:
    """Coverage of every planted region on ``grid``, by region name."""
    return {r.name: coverage(r, grid) for r in REGIONS}


def label_image(maps: dict[str, np.ndarray], threshold: float = 0.5) -> np.ndarray:
    """Label of the region covering each voxel most (when its coverage >= ``threshold``).

    Returns
    -------
    ndarray of uint8
    """
    shape = next(iter(maps.values())).shape
    labels = np.zeros(shape, dtype=np.uint8)
    best = np.zeros(shape)
    for reg in REGIONS:
        cov = maps[reg.name]
        win = (cov >= threshold) & (cov > best)
        labels[win] = reg.label
        best = np.where(win, cov, best)
    return labels
