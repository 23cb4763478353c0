"""Voxel grids, display spaces and view layouts: every voxel <-> world conversion lives here.

The one rule (DESIGN.md): a voxel is where its NIfTI affine says it is. nibabel
chooses the affine (sform, else qform); this module is the only place that turns
voxel indices into millimetres and back, and the only place that decides how a
grid is placed in the viewer.

Two display spaces exist, as in FSLeyes:

* **world** -- the viewer's coordinates are world millimetres (x, y, z in RAS+).
  Used when every grid is axis-aligned (its affine's linear part is diagonal, flips
  allowed), as MNI-space maps and most preprocessed data are.
* **reference** -- the viewer's coordinates are the voxel grid of a reference image,
  scaled by its voxel size. Used for oblique or axis-permuted data (a raw EPI with a
  tilted slab), where napari cannot slice a rotated layer. True world millimetres
  are still computed for the cursor read-out through :meth:`DisplaySpace.to_world`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import nibabel as nib
import numpy as np

#: Off-diagonal tolerance (relative to the voxel size) below which a grid counts as axis-aligned.
AXIS_ALIGNED_TOL = 1e-4

Plane = Literal["axial", "coronal", "sagittal"]

_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "S": "I", "I": "S"}


def _as_affine(affine) -> np.ndarray:
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4):
        raise ValueError(f"an affine must be 4 x 4, got {affine.shape}")
    return affine


def voxel_sizes(affine) -> np.ndarray:
    """Voxel edge lengths in mm: the column norms of the affine's linear part."""
    affine = _as_affine(affine)
    return np.sqrt((affine[:3, :3] ** 2).sum(axis=0))


def bounding_box(mask, pad=0) -> tuple[slice, ...] | None:
    """Index slices of the box around the non-zero voxels (:func:`scipy.ndimage.find_objects`).

    Parameters
    ----------
    mask : array-like
        Non-zero voxels are in the mask.
    pad : int or sequence of int
        Voxels added on each side (per axis), clipped at the array's edges.

    Returns
    -------
    tuple of slice, or None when the mask is empty

    Examples
    --------
    >>> m = np.zeros((5, 6, 7), bool)
    >>> m[1:3, 2, 4:6] = True
    >>> bounding_box(m)
    (slice(1, 3, None), slice(2, 3, None), slice(4, 6, None))
    >>> bounding_box(m, pad=(1, 0, 2))
    (slice(0, 4, None), slice(2, 3, None), slice(2, 7, None))
    """
    from scipy import ndimage

    mask = np.asarray(mask)
    found = ndimage.find_objects((mask != 0).view(np.uint8))
    if not found:
        return None
    pad = np.broadcast_to(np.asarray(pad, dtype=int), (mask.ndim,))
    return tuple(
        slice(max(s.start - int(p), 0), min(s.stop + int(p), n))
        for s, p, n in zip(found[0], pad, mask.shape, strict=True)
    )


def is_axis_aligned(affine, tol: float = AXIS_ALIGNED_TOL) -> bool:
    """True when the affine's linear part is diagonal (flips allowed, no rotation or swap)."""
    linear = _as_affine(affine)[:3, :3]
    scale = np.abs(np.diag(linear))
    if np.any(scale <= 0):
        return False
    off = linear - np.diag(np.diag(linear))
    return bool(np.all(np.abs(off) <= tol * scale[None, :]))


def axcodes(affine) -> str:
    """Anatomical direction of increasing voxel index along each axis, e.g. ``"LAS"``."""
    return "".join(nib.aff2axcodes(_as_affine(affine)))


@dataclass(frozen=True, eq=False)
class Grid:
    """A 3D voxel grid: its shape and its voxel -> world (mm) affine.

    Parameters
    ----------
    shape : tuple of int
        Number of voxels along i, j, k.
    affine : ndarray, shape (4, 4)
        Voxel index -> world mm (the image's sform, else qform).
    """

    shape: tuple[int, int, int]
    affine: np.ndarray

    def __post_init__(self):
        shape = tuple(int(n) for n in self.shape)
        if len(shape) != 3:
            raise ValueError(f"a grid is 3D, got shape {shape}")
        object.__setattr__(self, "shape", shape)
        affine = _as_affine(self.affine).copy()
        affine.setflags(write=False)
        object.__setattr__(self, "affine", affine)

    @classmethod
    def of(cls, img) -> Grid:
        """The grid of a nibabel image (its first three dimensions)."""
        return cls(tuple(img.shape[:3]), img.affine)

    @property
    def zooms(self) -> np.ndarray:
        """Voxel sizes in mm along i, j, k."""
        return voxel_sizes(self.affine)

    @property
    def voxel_volume(self) -> float:
        """Volume of one voxel in mm^3 (absolute determinant of the linear part)."""
        return float(abs(np.linalg.det(self.affine[:3, :3])))

    @property
    def axcodes(self) -> str:
        """Orientation code of the voxel axes, e.g. ``"LAS"``."""
        return axcodes(self.affine)

    @property
    def is_axis_aligned(self) -> bool:
        """True when the grid needs no rotation or axis permutation to sit in world mm."""
        return is_axis_aligned(self.affine)

    @property
    def n_voxels(self) -> int:
        """Number of voxels in the grid."""
        return int(np.prod(self.shape))

    def to_world(self, ijk) -> np.ndarray:
        """World mm of voxel coordinates ``ijk`` (shape (..., 3), fractional allowed)."""
        ijk = np.asarray(ijk, dtype=float)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def to_voxel(self, xyz) -> np.ndarray:
        """Continuous voxel coordinates of world points ``xyz`` (shape (..., 3))."""
        inv = np.linalg.inv(self.affine)
        xyz = np.asarray(xyz, dtype=float)
        return xyz @ inv[:3, :3].T + inv[:3, 3]

    def to_index(self, xyz) -> np.ndarray:
        """Nearest voxel index (int) of world points ``xyz``; may lie outside the grid."""
        return np.rint(self.to_voxel(xyz)).astype(int)

    def contains_index(self, ijk) -> np.ndarray:
        """Whether integer indices ``ijk`` (shape (..., 3)) lie inside the grid."""
        ijk = np.asarray(ijk)
        return np.all((ijk >= 0) & (ijk < np.asarray(self.shape)), axis=-1)

    def voxel_centres_mm(self) -> np.ndarray:
        """World mm of every voxel centre, shape ``shape + (3,)`` (float64)."""
        ijk = np.stack(np.meshgrid(*[np.arange(n) for n in self.shape], indexing="ij"), axis=-1)
        return self.to_world(ijk)

    def matches(self, other: Grid, atol_mm: float = 1e-3) -> bool:
        """Same shape and same affine (to ``atol_mm`` in every entry)."""
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, rtol=0, atol=atol_mm)
        )

    def describe(self) -> str:
        """One-line summary: shape, voxel size and orientation."""
        z = "x".join(f"{v:g}" for v in np.round(self.zooms, 3))
        oblique = "" if self.is_axis_aligned else ", oblique"
        return f"{'x'.join(map(str, self.shape))} voxels of {z} mm, {self.axcodes}{oblique}"


@dataclass(frozen=True)
class Placement:
    """How one grid sits in a display space, in napari's terms.

    ``scale`` is the voxel size, ``translate`` the grid origin in display coordinates
    and ``rotation`` the remaining 3 x 3 linear part (a flip matrix for axis-aligned
    grids). ``affine`` is the 4 x 4 napari affine that applies ``rotation`` about the
    origin, so that ``display = affine @ (scale * ijk + translate)`` reproduces the
    full display transform.
    """

    scale: np.ndarray
    translate: np.ndarray
    rotation: np.ndarray
    affine: np.ndarray
    #: True when the rotation mixes axes (rotation or permutation relative to the
    #: display space): napari cannot slice such a layer and the viewer must resample.
    needs_resampling: bool

    @property
    def matrix(self) -> np.ndarray:
        """The full 4 x 4 voxel -> display transform."""
        m = np.eye(4)
        m[:3, :3] = self.rotation * self.scale[None, :]
        m[:3, 3] = self.translate
        return m


@dataclass(frozen=True, eq=False)
class DisplaySpace:
    """The coordinate system the viewer shows, and the way back to world millimetres.

    Parameters
    ----------
    world_to_display : ndarray, shape (4, 4)
        Maps world mm to display coordinates. Identity for the world space.
    reference : str or None
        Name of the reference image whose voxel grid defines the space; ``None``
        for world millimetres.
    """

    world_to_display: np.ndarray
    reference: str | None = None

    @classmethod
    def world(cls) -> DisplaySpace:
        """World millimetres (RAS+)."""
        return cls(np.eye(4), None)

    @classmethod
    def of_reference(cls, grid: Grid, name: str) -> DisplaySpace:
        """The scaled voxel grid of ``grid``: display = zooms * ijk."""
        d = np.diag(np.r_[grid.zooms, 1.0]) @ np.linalg.inv(grid.affine)
        return cls(d, name)

    @property
    def is_world(self) -> bool:
        """True for world millimetres."""
        return self.reference is None

    @property
    def display_to_world(self) -> np.ndarray:
        """Inverse of :attr:`world_to_display`."""
        return np.linalg.inv(self.world_to_display)

    def to_world(self, points) -> np.ndarray:
        """World mm of display coordinates ``points`` (shape (..., 3))."""
        m = self.display_to_world
        return np.asarray(points, dtype=float) @ m[:3, :3].T + m[:3, 3]

    def from_world(self, xyz) -> np.ndarray:
        """Display coordinates of world mm ``xyz`` (shape (..., 3))."""
        m = self.world_to_display
        return np.asarray(xyz, dtype=float) @ m[:3, :3].T + m[:3, 3]

    @property
    def axcodes(self) -> str:
        """Anatomical direction in which each display axis increases (``"RAS"`` for world)."""
        return axcodes(self.display_to_world)

    def place(self, affine) -> Placement:
        """Decompose a voxel -> world affine into napari scale / translate / rotation here.

        Parameters
        ----------
        affine : array-like, shape (4, 4)
            The image's voxel -> world affine.

        Returns
        -------
        Placement
        """
        full = self.world_to_display @ _as_affine(affine)
        linear = full[:3, :3]
        scale = np.sqrt((linear**2).sum(axis=0))
        if np.any(scale <= 0):
            raise ValueError("the affine is singular (a voxel size is zero)")
        rotation = linear / scale[None, :]
        translate = full[:3, 3].copy()
        napari_affine = np.eye(4)
        napari_affine[:3, :3] = rotation
        napari_affine[:3, 3] = translate - rotation @ translate
        aligned = is_axis_aligned(np.block([[linear, translate[:, None]], [np.zeros((1, 3)), 1]]))
        return Placement(scale, translate, rotation, napari_affine, not aligned)

    def describe(self) -> str:
        """Short text for the user: which space the viewer shows."""
        if self.is_world:
            return "world mm (RAS+)"
        return f"voxel grid of {self.reference} ({self.axcodes})"


@dataclass(frozen=True)
class PlaneLayout:
    """Which display axes a 2D view shows, and which way each one runs on screen.

    ``slice_axis``, ``row_axis`` and ``col_axis`` index the three spatial display
    axes. ``row_up`` is True when increasing ``row_axis`` values run up the screen;
    ``col_right`` when increasing ``col_axis`` values run to the right. The edge
    labels name the anatomical direction at each screen edge.
    """

    plane: Plane
    slice_axis: int
    row_axis: int
    col_axis: int
    row_up: bool
    col_right: bool
    labels: dict[str, str]


def _axis_for(codes: str, letters: str) -> tuple[int, str]:
    for axis, code in enumerate(codes):
        if code in letters:
            return axis, code
    raise ValueError(f"no display axis runs along {letters} in {codes!r}")


def plane_layout(display_axcodes: str, plane: Plane, radiological: bool = False) -> PlaneLayout:
    """Screen layout of an axial, coronal or sagittal view in a display space.

    Neurological convention by default: the subject's left on the screen's left,
    anterior up in axial views, superior up in coronal and sagittal views, anterior
    on the left in sagittal views (as FSLeyes). ``radiological`` swaps left and right.

    Parameters
    ----------
    display_axcodes : str
        Anatomical direction of each display axis (:attr:`DisplaySpace.axcodes`).
    plane : {"axial", "coronal", "sagittal"}
    radiological : bool

    Returns
    -------
    PlaneLayout
    """
    lr_axis, lr_code = _axis_for(display_axcodes, "LR")
    ap_axis, ap_code = _axis_for(display_axcodes, "AP")
    si_axis, si_code = _axis_for(display_axcodes, "SI")
    # Screen-right direction for the left-right axis: neurological shows R on the right.
    right_letter = "L" if radiological else "R"
    if plane == "axial":
        slice_axis, row, col = si_axis, (ap_axis, ap_code, "A"), (lr_axis, lr_code, right_letter)
    elif plane == "coronal":
        slice_axis, row, col = ap_axis, (si_axis, si_code, "S"), (lr_axis, lr_code, right_letter)
    elif plane == "sagittal":
        slice_axis, row, col = lr_axis, (si_axis, si_code, "S"), (ap_axis, ap_code, "P")
    else:
        raise ValueError(f"unknown plane {plane!r}")
    row_axis, row_code, up_letter = row
    col_axis, col_code, right = col
    row_up = row_code == up_letter
    col_right = col_code == right
    labels = {
        "top": up_letter,
        "bottom": _OPPOSITE[up_letter],
        "right": right,
        "left": _OPPOSITE[right],
    }
    return PlaneLayout(plane, slice_axis, row_axis, col_axis, row_up, col_right, labels)
