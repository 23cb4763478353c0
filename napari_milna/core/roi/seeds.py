"""Brainstem ROI seeds from the literature, placed on a reference image's own grid.

Every seed is a geometric shape in MNI millimetres (:mod:`.roi_shapes`). It is put
on the voxel grid of the reference image (the stat map or EPI the ROI will be
tested on) at that image's resolution: a voxel belongs to the seed when the shape
covers at least ``fraction`` of it (default one half), measured by sampling each
voxel at ``supersample**3`` sub-points (default 6**3). Nothing is upsampled.

Seeds are in MNI space, so the reference must be in MNI space too. The header says
so with an sform / qform code of 4 (MNI152); a code of 2 (aligned to some
template) counts when the file name is MNI-like as well (BIDS ``space-MNI...``,
TemplateFlow ``tpl-MNI...``, SPM normalised ``w*`` images and SPM statistics,
FSL ``standard`` / ``reg_standard`` outputs). Otherwise the user must confirm
(``assume_mni=True``, ``--assume-mni``).

Sources
-------
PAG
    Satpute AB, Wager TD, Cohen-Adad J, et al. (2013) Identification of discrete
    functional subregions of the human periaqueductal gray. PNAS 110(42):17101-17106.
    The PAG was modelled as a hollow cylinder about 6 mm in outer and 2-3 mm in inner
    diameter, about 10 mm long, around the cerebral aqueduct. The hand-traced PAG of
    that work spans y -26..-37 and z -12..-5 mm MNI with its centroid near
    (0.5, -31, -9). The aqueduct runs obliquely (posterior and inferior going
    caudally), so the cylinder axis here follows the line through the CANlab PAG
    sphere centres (0.4, -29.2, -6.7) -> (0.4, -33.3, -11.9) (CANlab CanlabCore,
    canonical brainstem ROIs), i.e. direction (0, -4.1, -5.2), about 38 degrees from
    vertical, and is centred on the hand-traced centroid.
RVM
    CANlab symmetric RVM: ventromedial medulla around (2, -36, -42) MNI, spanning
    y -38..-34 and z -46..-38 (CANlab CanlabCore pain-pathway regions). Here a box
    with exactly those y and z spans; its x span (-4..4 mm) is ours: symmetric about
    the midline and covering the published x = 2 and its mirror.
Nucleus raphe magnus (RVM option)
    Baer KJ, de la Cruz F, Schumann A, et al. (2016) Functional connectivity and
    network analysis of midbrain and brainstem nuclei. NeuroImage 134:53-63: a box
    6 x 6 x 12 mm centred at (0, -34, -40) MNI (drawn as such in that work).
Medullary raphe (RVM option)
    Nash PG, Macefield VG, Klineberg IJ, Murray GM, Henderson LA (2009) Differential
    activation of the human trigeminal nuclear complex by noxious and non-noxious
    orofacial stimulation. Hum Brain Mapp 30(11):3772-3782: peak near (0, -36, -50)
    MNI; a sphere of radius 2.5 mm, the radius CANlab uses for its coordinate-based
    brainstem ROIs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from ..errors import MilnaInputError, input_error
from ..io.geometry import Grid
from ..io.nifti import NiftiSource, nifti_stem, open_nifti
from ..protocol import DEFAULT_SEED_VARIANT, SEED_FRACTION, SEED_VARIANTS
from ..results import FieldsToDict
from .shapes import Box, HollowCylinder, Shape, Sphere, voxel_fraction

SATPUTE_2013 = (
    "Satpute AB et al. (2013) Identification of discrete functional subregions of the human "
    "periaqueductal gray. PNAS 110(42):17101-17106; axis through the CANlab PAG sphere centres "
    "(0.4, -29.2, -6.7) -> (0.4, -33.3, -11.9) MNI"
)
CANLAB_RVM = (
    "CANlab (Wager lab) symmetric RVM: ventromedial medulla around (2, -36, -42) MNI, "
    "y -38..-34, z -46..-38 mm"
)
BAER_2016 = (
    "Baer KJ et al. (2016) Functional connectivity and network analysis of midbrain and "
    "brainstem nuclei. NeuroImage 134:53-63 (nucleus raphe magnus box)"
)
NASH_2009 = (
    "Nash PG et al. (2009) Differential activation of the human trigeminal nuclear complex by "
    "noxious and non-noxious orofacial stimulation. Hum Brain Mapp 30(11):3772-3782 "
    "(medullary raphe)"
)

#: Hand-traced PAG centroid (Satpute et al. 2013), MNI mm.
PAG_CENTROID_MM = (0.5, -31.0, -9.0)
#: CANlab PAG sphere centres, superior -> inferior; the aqueduct direction.
PAG_AXIS_POINTS_MM = ((0.4, -29.2, -6.7), (0.4, -33.3, -11.9))


@dataclass(frozen=True)
class SeedSpec(FieldsToDict):
    """One literature seed: region, variant, shape in MNI mm and its citation."""

    region: str
    variant: str
    shape: Shape
    citation: str
    description: str


def _pag_cylinder() -> HollowCylinder:
    a, b = (np.asarray(p) for p in PAG_AXIS_POINTS_MM)
    return HollowCylinder.along(PAG_CENTROID_MM, b - a, 10.0, 6.0, 2.5)


SEEDS: dict[str, dict[str, SeedSpec]] = {
    "PAG": {
        "cylinder": SeedSpec(
            "PAG",
            "cylinder",
            _pag_cylinder(),
            SATPUTE_2013,
            "hollow cylinder around the aqueduct: 6 mm outer, 2.5 mm inner diameter, 10 mm long",
        ),
        "sphere": SeedSpec(
            "PAG",
            "sphere",
            Sphere(PAG_CENTROID_MM, 4.0),
            SATPUTE_2013,
            "sphere of radius 4 mm on the hand-traced PAG centroid (about the cylinder's volume)",
        ),
    },
    "RVM": {
        "canlab": SeedSpec(
            "RVM",
            "canlab",
            Box.spanning((-4, -38, -46), (4, -34, -38)),
            CANLAB_RVM,
            "box x -4..4, y -38..-34, z -46..-38 mm (ventromedial medulla, symmetric)",
        ),
        "nrm": SeedSpec(
            "RVM",
            "nrm",
            Box((0, -34, -40), (6, 6, 12)),
            BAER_2016,
            "nucleus raphe magnus: box 6 x 6 x 12 mm centred at (0, -34, -40)",
        ),
        "raphe": SeedSpec(
            "RVM",
            "raphe",
            Sphere((0, -36, -50), 2.5),
            NASH_2009,
            "medullary raphe: sphere of radius 2.5 mm at (0, -36, -50)",
        ),
    },
}

#: Variant used when none is named.
DEFAULT_VARIANT = DEFAULT_SEED_VARIANT
if {r: tuple(v) for r, v in SEEDS.items()} != SEED_VARIANTS:  # pragma: no cover
    raise AssertionError("core.protocol.SEED_VARIANTS must name the variants of SEEDS")


def seed_spec(region: str, variant: str | None = None) -> SeedSpec:
    """The literature seed for ``region`` (``"PAG"`` or ``"RVM"``) and ``variant``.

    Raises
    ------
    MilnaInputError
        For an unknown region or variant (the message lists the choices).
    """
    key = str(region).upper()
    if key not in SEEDS:
        raise input_error(None, f"unknown region {region!r}; choose one of {', '.join(SEEDS)}")
    variant = DEFAULT_VARIANT[key] if variant is None else str(variant).lower()
    if variant not in SEEDS[key]:
        raise input_error(
            None,
            f"the {key} seed has no shape {variant!r}; choose one of {', '.join(SEEDS[key])}",
        )
    return SEEDS[key][variant]


# --- MNI space ---------------------------------------------------------------------------

_MNI_NAME = re.compile(
    r"((^|[^a-z])(mni|icbm)|avg152|colin27|(^|_)tpl-|(^|[_2])standard)",
    re.IGNORECASE,
)
#: SPM: normalised images (w prefix, possibly after s for smoothing) and SPM statistics.
_SPM_NORMALISED = re.compile(r"^(s\d*)?w[a-z]|^(spm[tf]|con|ess)_\d{4}", re.IGNORECASE)


#: Folder names that mark MNI outputs (FSL's reg_standard, BIDS / TemplateFlow spaces).
_MNI_FOLDER = re.compile(r"^(reg_)?standard$|(^|_)(space|tpl)-mni", re.IGNORECASE)


def _mni_name(path: Path | None) -> str | None:
    if path is None:
        return None
    stem = nifti_stem(path)
    if _MNI_NAME.search(stem) or _SPM_NORMALISED.search(stem):
        return stem
    for folder in path.parent.parts[-2:]:
        if _MNI_FOLDER.search(folder):
            return f"{folder}/{path.name}"
    return None


def _codes_and_path(reference) -> tuple[int, int, Path | None]:
    if isinstance(reference, NiftiSource):
        return reference.sform_code, reference.qform_code, reference.path
    if isinstance(reference, (str, os.PathLike)):
        return _codes_and_path(open_nifti(reference))
    if isinstance(reference, nib.spatialimages.SpatialImage):
        hdr = reference.header
        filename = reference.get_filename()
        return (
            int(hdr.get("sform_code", 0)),
            int(hdr.get("qform_code", 0)),
            Path(filename) if filename else None,
        )
    raise TypeError(f"expected a path, NiftiSource or nibabel image, got {type(reference)}")


def mni_evidence(reference) -> str | None:
    """Why ``reference`` counts as MNI space, or None when nothing says so.

    Parameters
    ----------
    reference : str, path-like, NiftiSource or nibabel image

    Returns
    -------
    str or None
        E.g. ``"sform_code 4 (MNI152)"`` or ``"sform_code 2 (aligned) and the MNI-like
        name 'space-MNI152NLin2009cAsym_...'"``.
    """
    sform, qform, path = _codes_and_path(reference)
    for label, code in (("sform_code", sform), ("qform_code", qform)):
        if code == 4:
            return f"{label} 4 (MNI152)"
    name = _mni_name(path)
    for label, code in (("sform_code", sform), ("qform_code", qform)):
        if code == 2 and name is not None:
            return f"{label} 2 (aligned) and the MNI-like name {name!r}"
    return None


def require_mni(reference, assume_mni: bool = False) -> str:
    """Check that ``reference`` is in MNI space; return the evidence.

    Raises
    ------
    MilnaInputError
        When neither the header nor the name says MNI and ``assume_mni`` is False.
    """
    evidence = mni_evidence(reference)
    if evidence is not None:
        return evidence
    if assume_mni:
        return "MNI space confirmed by the user (assume_mni)"
    sform, qform, path = _codes_and_path(reference)
    raise input_error(
        path,
        f"nothing says this image is in MNI space (sform_code {sform}, qform_code {qform}, "
        "no MNI-like file name); the seeds are MNI coordinates, so confirm with --assume-mni "
        "(assume_mni=True) if it is",
    )


# --- seeding -----------------------------------------------------------------------------


@dataclass
class RoiSeed:
    """A literature seed put on a reference grid.

    Attributes
    ----------
    spec : SeedSpec
        Region, variant, shape (MNI mm) and citation.
    grid : Grid
        The reference grid.
    mask : ndarray of bool, shape ``grid.shape``
        Voxels covered by at least ``threshold`` of their volume.
    fraction : ndarray of float32, shape ``grid.shape``
        Covered fraction of every voxel.
    threshold : float
    supersample : int
    fov_fraction : float
        Part of the shape inside the reference's field of view.
    mni_evidence : str
    """

    spec: SeedSpec
    grid: Grid
    mask: np.ndarray = field(repr=False)
    fraction: np.ndarray = field(repr=False)
    threshold: float
    supersample: int
    fov_fraction: float
    mni_evidence: str = ""

    @property
    def n_voxels(self) -> int:
        """Voxels in the seed."""
        return int(np.count_nonzero(self.mask))

    @property
    def volume_mm3(self) -> float:
        """Voxel count times voxel volume."""
        return self.n_voxels * self.grid.voxel_volume

    @property
    def covered_volume_mm3(self) -> float:
        """Sum of the covered fractions times the voxel volume (the shape's sampled volume)."""
        return float(self.fraction.sum(dtype=np.float64)) * self.grid.voxel_volume

    @property
    def warnings(self) -> list[str]:
        """Plain-language cautions (partial field of view)."""
        out = []
        if self.fov_fraction < 0.999:
            out.append(
                f"{100 * (1 - self.fov_fraction):.0f}% of the {self.spec.region} seed lies "
                "outside the reference's field of view"
            )
        return out

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {
            "region": self.spec.region,
            "variant": self.spec.variant,
            "shape": self.spec.shape.to_dict(),
            "citation": self.spec.citation,
            "fraction_threshold": float(self.threshold),
            "supersample": int(self.supersample),
            "n_voxels": self.n_voxels,
            "volume_mm3": float(self.volume_mm3),
            "shape_volume_mm3": float(self.spec.shape.volume_mm3),
            "covered_volume_mm3": self.covered_volume_mm3,
            "fov_fraction": float(self.fov_fraction),
            "mni_evidence": self.mni_evidence,
            "warnings": self.warnings,
        }


def seed_on_grid(
    spec: SeedSpec,
    grid: Grid,
    *,
    fraction: float = SEED_FRACTION,
    supersample: int = 6,
    mni_evidence: str = "",
    reference_name: str | os.PathLike | None = None,
) -> RoiSeed:
    """Put a seed on ``grid`` (no MNI check: the caller vouches for the space).

    Parameters
    ----------
    spec : SeedSpec
    grid : Grid
    fraction : float
        A voxel is in the seed when at least this fraction of it is covered (0 < f <= 1).
    supersample : int
        Sub-points per voxel edge.
    mni_evidence : str
        Recorded in the result.
    reference_name : str or path-like, optional
        Named in error messages.

    Raises
    ------
    MilnaInputError
        When the seed lies outside the field of view or covers no voxel enough.
    """
    if not 0 < fraction <= 1:
        raise input_error(None, f"the voxel fraction threshold must be in (0, 1], got {fraction}")
    coverage = voxel_fraction(spec.shape, grid, supersample)
    label = f"the {spec.region} seed ({spec.variant})"
    if coverage.fov_fraction == 0:
        raise input_error(
            reference_name, f"{label} lies entirely outside the field of view of this image"
        )
    mask = coverage.fraction >= np.float32(fraction) - 1e-6
    if not mask.any():
        raise input_error(
            reference_name,
            f"{label} covers no voxel by at least {fraction:g} of its volume on this "
            f"{grid.describe()} grid; lower the fraction threshold",
        )
    return RoiSeed(
        spec,
        grid,
        mask,
        coverage.fraction,
        float(fraction),
        int(supersample),
        coverage.fov_fraction,
        mni_evidence,
    )


def seed_roi(
    region: str,
    reference,
    *,
    variant: str | None = None,
    fraction: float = SEED_FRACTION,
    supersample: int = 6,
    assume_mni: bool = False,
) -> RoiSeed:
    """Build a literature seed on the grid of a reference image.

    Parameters
    ----------
    region : {"PAG", "RVM"}
    reference : str, path-like, NiftiSource, nibabel image or Grid
        The image whose grid the ROI lives on. A bare :class:`Grid` carries no space
        information and needs ``assume_mni=True``.
    variant : str, optional
        ``"cylinder"`` (default) or ``"sphere"`` for the PAG; ``"canlab"`` (default),
        ``"nrm"`` or ``"raphe"`` for the RVM.
    fraction : float
        Voxel coverage threshold (default 0.5).
    supersample : int
        Sub-points per voxel edge (default 6, i.e. 216 per voxel). Even counts keep
        sub-points off the voxel centre, where the integer-mm faces of the literature
        boxes often fall on MNI grids (an odd count would count such a face twice).
    assume_mni : bool
        Confirm that the reference is in MNI space when its header and name do not say.

    Returns
    -------
    RoiSeed

    Raises
    ------
    MilnaInputError
        Unknown region / variant, reference not known to be MNI, seed outside the
        field of view, or no voxel covered enough.
    """
    spec = seed_spec(region, variant)
    if isinstance(reference, Grid):
        if not assume_mni:
            raise MilnaInputError(
                "A bare voxel grid says nothing about its space; pass assume_mni=True to "
                "confirm it is MNI."
            )
        return seed_on_grid(
            spec,
            reference,
            fraction=fraction,
            supersample=supersample,
            mni_evidence="MNI space confirmed by the user (assume_mni)",
        )
    if isinstance(reference, (str, os.PathLike)):
        reference = open_nifti(reference)
    evidence = require_mni(reference, assume_mni)
    if isinstance(reference, NiftiSource):
        grid, name = reference.grid, reference.path
    else:
        grid, name = Grid.of(reference), reference.get_filename()
    return seed_on_grid(
        spec,
        grid,
        fraction=fraction,
        supersample=supersample,
        mni_evidence=evidence,
        reference_name=name,
    )
