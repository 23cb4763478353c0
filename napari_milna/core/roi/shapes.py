"""Geometric ROI shapes in world millimetres and the fraction of each voxel they cover.

A shape knows whether world points lie inside it (:meth:`contains`), its analytic
volume and its world bounding box. :func:`voxel_fraction` puts a shape on a voxel
grid at the grid's own resolution: each voxel is sampled at ``n x n x n`` evenly
spaced sub-points (voxel coordinates ``i + (m + 0.5) / n - 0.5``) that go through
:meth:`Grid.to_world`, so oblique and flipped grids are handled by the affine alone.
The data are never upsampled; only the voxel's sub-points are tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.geometry import Grid

#: Voxels per chunk when sampling sub-points (bounds memory to ~ chunk * n^3 * 24 bytes).
_CHUNK_VOXELS = 8192


def _vec3(value) -> np.ndarray:
    v = np.asarray(value, dtype=float).reshape(3)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"a world position must be finite, got {v}")
    return v


def _floats(v) -> list[float]:
    return [float(x) for x in np.asarray(v, dtype=float).reshape(-1)]


@dataclass(frozen=True)
class Sphere:
    """A ball of ``radius_mm`` around ``centre_mm`` (world mm)."""

    centre_mm: tuple[float, float, float]
    radius_mm: float

    kind = "sphere"

    def __post_init__(self):
        object.__setattr__(self, "centre_mm", tuple(_floats(_vec3(self.centre_mm))))
        if not self.radius_mm > 0:
            raise ValueError(f"a sphere radius must be positive, got {self.radius_mm}")

    @property
    def volume_mm3(self) -> float:
        """Analytic volume, 4/3 pi r^3."""
        return 4.0 / 3.0 * np.pi * self.radius_mm**3

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """World bounding box (low corner, high corner)."""
        c = np.asarray(self.centre_mm)
        return c - self.radius_mm, c + self.radius_mm

    def contains(self, xyz) -> np.ndarray:
        """Whether world points ``xyz`` (shape (..., 3)) lie inside the ball."""
        d = np.asarray(xyz, dtype=float) - np.asarray(self.centre_mm)
        return np.einsum("...i,...i->...", d, d) <= self.radius_mm**2

    def to_dict(self) -> dict:
        """JSON-ready parameters."""
        return {
            "kind": self.kind,
            "centre_mm": list(self.centre_mm),
            "radius_mm": float(self.radius_mm),
            "volume_mm3": float(self.volume_mm3),
        }


@dataclass(frozen=True)
class Box:
    """A box with faces parallel to the world (MNI) axes, centred at ``centre_mm``."""

    centre_mm: tuple[float, float, float]
    size_mm: tuple[float, float, float]

    kind = "box"

    def __post_init__(self):
        object.__setattr__(self, "centre_mm", tuple(_floats(_vec3(self.centre_mm))))
        size = _vec3(self.size_mm)
        if np.any(size <= 0):
            raise ValueError(f"box edges must be positive, got {size}")
        object.__setattr__(self, "size_mm", tuple(_floats(size)))

    @classmethod
    def spanning(cls, low_mm, high_mm) -> Box:
        """The box between two opposite corners (world mm)."""
        lo, hi = _vec3(low_mm), _vec3(high_mm)
        return cls(tuple((lo + hi) / 2), tuple(np.abs(hi - lo)))

    @property
    def volume_mm3(self) -> float:
        """Analytic volume, the product of the edges."""
        return float(np.prod(self.size_mm))

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """World bounding box (low corner, high corner)."""
        c, h = np.asarray(self.centre_mm), np.asarray(self.size_mm) / 2
        return c - h, c + h

    def contains(self, xyz) -> np.ndarray:
        """Whether world points ``xyz`` (shape (..., 3)) lie inside the box."""
        d = np.abs(np.asarray(xyz, dtype=float) - np.asarray(self.centre_mm))
        return np.all(d <= np.asarray(self.size_mm) / 2, axis=-1)

    def to_dict(self) -> dict:
        """JSON-ready parameters."""
        lo, hi = self.bounds_mm()
        return {
            "kind": self.kind,
            "centre_mm": list(self.centre_mm),
            "size_mm": list(self.size_mm),
            "low_mm": _floats(lo),
            "high_mm": _floats(hi),
            "volume_mm3": self.volume_mm3,
        }


@dataclass(frozen=True)
class HollowCylinder:
    """A tube around the segment ``start_mm`` -> ``end_mm`` (world mm).

    Points at distance ``inner_radius_mm <= d <= outer_radius_mm`` from the axis,
    between the two end planes. ``inner_radius_mm = 0`` gives a solid cylinder.
    """

    start_mm: tuple[float, float, float]
    end_mm: tuple[float, float, float]
    outer_radius_mm: float
    inner_radius_mm: float = 0.0

    kind = "hollow_cylinder"

    def __post_init__(self):
        a, b = _vec3(self.start_mm), _vec3(self.end_mm)
        if np.linalg.norm(b - a) <= 0:
            raise ValueError("a cylinder needs two distinct axis end points")
        if not 0 <= self.inner_radius_mm < self.outer_radius_mm:
            raise ValueError(
                f"cylinder radii must satisfy 0 <= inner < outer, got "
                f"{self.inner_radius_mm} and {self.outer_radius_mm}"
            )
        object.__setattr__(self, "start_mm", tuple(_floats(a)))
        object.__setattr__(self, "end_mm", tuple(_floats(b)))

    @classmethod
    def along(
        cls,
        centre_mm,
        direction,
        length_mm: float,
        outer_diameter_mm: float,
        inner_diameter_mm: float = 0.0,
    ) -> HollowCylinder:
        """A tube of ``length_mm`` centred at ``centre_mm`` whose axis runs along ``direction``."""
        u = _vec3(direction)
        u = u / np.linalg.norm(u)
        c = _vec3(centre_mm)
        half = float(length_mm) / 2
        return cls(
            tuple(c - half * u), tuple(c + half * u), outer_diameter_mm / 2, inner_diameter_mm / 2
        )

    @property
    def axis(self) -> np.ndarray:
        """Unit vector from start to end."""
        d = np.asarray(self.end_mm) - np.asarray(self.start_mm)
        return d / np.linalg.norm(d)

    @property
    def length_mm(self) -> float:
        """Distance between the end planes."""
        return float(np.linalg.norm(np.asarray(self.end_mm) - np.asarray(self.start_mm)))

    @property
    def centre_mm(self) -> tuple[float, float, float]:
        """Midpoint of the axis (the centroid of the tube)."""
        return tuple(_floats((np.asarray(self.start_mm) + np.asarray(self.end_mm)) / 2))

    @property
    def volume_mm3(self) -> float:
        """Analytic volume, pi (R^2 - r^2) L."""
        return float(np.pi * (self.outer_radius_mm**2 - self.inner_radius_mm**2) * self.length_mm)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact world bounding box: the end discs' extents, R sqrt(1 - u_e^2) per axis."""
        a, b = np.asarray(self.start_mm), np.asarray(self.end_mm)
        reach = self.outer_radius_mm * np.sqrt(np.clip(1 - self.axis**2, 0, None))
        return np.minimum(a, b) - reach, np.maximum(a, b) + reach

    def contains(self, xyz) -> np.ndarray:
        """Whether world points ``xyz`` (shape (..., 3)) lie inside the tube wall."""
        d = np.asarray(xyz, dtype=float) - np.asarray(self.start_mm)
        t = d @ self.axis
        r2 = np.einsum("...i,...i->...", d, d) - t**2
        return (
            (t >= 0)
            & (t <= self.length_mm)
            & (r2 <= self.outer_radius_mm**2)
            & (r2 >= self.inner_radius_mm**2)
        )

    def to_dict(self) -> dict:
        """JSON-ready parameters."""
        return {
            "kind": self.kind,
            "start_mm": list(self.start_mm),
            "end_mm": list(self.end_mm),
            "centre_mm": list(self.centre_mm),
            "axis": _floats(self.axis),
            "length_mm": self.length_mm,
            "outer_diameter_mm": 2 * float(self.outer_radius_mm),
            "inner_diameter_mm": 2 * float(self.inner_radius_mm),
            "volume_mm3": self.volume_mm3,
        }


Shape = Sphere | Box | HollowCylinder


@dataclass(frozen=True)
class VoxelCoverage:
    """Fraction of each voxel of a grid that a shape covers.

    Attributes
    ----------
    fraction : ndarray of float32, shape ``grid.shape``
        Covered fraction in [0, 1] (multiples of 1 / n^3).
    fov_fraction : float
        Part of the shape's sampled volume that falls inside the grid's field of
        view (1.0 when the shape lies wholly inside, 0.0 when wholly outside).
    """

    fraction: np.ndarray
    fov_fraction: float


def _sub_offsets(n: int) -> np.ndarray:
    s = (np.arange(n) + 0.5) / n - 0.5
    return np.stack(np.meshgrid(s, s, s, indexing="ij"), axis=-1).reshape(-1, 3)


def voxel_fraction(shape: Shape, grid: Grid, supersample: int = 6) -> VoxelCoverage:
    """Fraction of every voxel of ``grid`` covered by ``shape``, by voxel supersampling.

    Only the voxels whose boxes can meet the shape's bounding box are sampled.

    Parameters
    ----------
    shape : Sphere, Box or HollowCylinder
    grid : Grid
    supersample : int
        Sub-points per voxel edge (``supersample**3`` per voxel).

    Returns
    -------
    VoxelCoverage
    """
    n = int(supersample)
    if n < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    lo, hi = shape.bounds_mm()
    corners = np.array(np.meshgrid(*zip(lo, hi), indexing="ij")).reshape(3, -1).T
    vox = grid.to_voxel(corners)
    first = np.floor(vox.min(axis=0) - 0.5).astype(int)
    last = np.ceil(vox.max(axis=0) + 0.5).astype(int)
    axes = [np.arange(a, b + 1) for a, b in zip(first, last)]
    ijk = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    offsets = _sub_offsets(n)
    hits = np.empty(len(ijk), dtype=np.int32)
    for start in range(0, len(ijk), _CHUNK_VOXELS):
        block = ijk[start : start + _CHUNK_VOXELS]
        points = grid.to_world(block[:, None, :] + offsets[None, :, :])
        hits[start : start + len(block)] = shape.contains(points).sum(axis=1)
    inside = grid.contains_index(ijk)
    total = int(hits.sum())
    fraction = np.zeros(grid.shape, dtype=np.float32)
    keep = inside & (hits > 0)
    idx = ijk[keep]
    fraction[idx[:, 0], idx[:, 1], idx[:, 2]] = hits[keep] / n**3
    fov = float(hits[inside].sum() / total) if total else 0.0
    return VoxelCoverage(fraction, fov)
