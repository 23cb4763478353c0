"""What an image is, from its file name, its header and (for small volumes) its values.

Knows the names SPM, FSL, fMRIPrep / BIDS and nilearn give their outputs, and
reads the statistic type and degrees of freedom that SPM writes in the header
description (``SPM{T_[20.0]} - contrast 1: pain``) or FSL leaves in ``stats/dof``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from .nifti import NiftiSource, nifti_stem

#: At most this many distinct integer values make a volume a label image by values alone.
MAX_LABELS = 64
#: File-name words that make an integer volume with more values a label image (atlases).
LABEL_WORDS = ("atlas", "label", "dseg", "parc", "aseg", "roi", "mask")
#: Name of an atlas: ``atlas`` / ``prob`` / ``maxprob`` / ``probseg`` as a word
#: (``HarvardOxford-sub-prob-1mm``, ``CIT168toMNI152_prob_atlas_bilat_1mm``,
#: ``atlas_harvard_oxford``, a BIDS ``atlas-`` entity or ``_probseg``), not ``probe``.
ATLAS_NAME = re.compile(r"(^|[^a-z0-9])(atlas|atlases|prob|maxprob|probatlas|probseg)([^a-z]|$)")


class ImageKind(str, Enum):
    """Role of an image in an analysis."""

    RUN = "run"
    STAT = "stat"
    CONTRAST = "contrast"
    BETA = "beta"
    MASK = "mask"
    LABELS = "labels"
    ATLAS = "atlas"
    CSF = "csf_probability"
    PROBABILITY = "probability"
    VARIANCE = "variance"
    RESELS_PER_VOXEL = "resels_per_voxel"
    IMAGE = "image"


@dataclass(frozen=True)
class ImageInfo:
    """Classification of one image.

    Attributes
    ----------
    kind : ImageKind
    stat_type : {"T", "Z", "F"} or None
        For statistical maps.
    df : float or tuple of float or None
        Degrees of freedom (T: one value; F: (df1, df2)) when the file says.
    source : str
        Which convention recognised it ("SPM", "FSL", "fMRIPrep/BIDS", "values", ...).
    label : str
        Short human description.
    """

    kind: ImageKind
    stat_type: str | None = None
    df: float | tuple[float, float] | None = None
    source: str = ""
    label: str = ""

    def to_dict(self) -> dict:
        """JSON-ready form."""
        d = asdict(self)
        d["kind"] = self.kind.value
        if isinstance(self.df, tuple):
            d["df"] = list(self.df)
        return d


_SPM_DESC = re.compile(r"SPM\{([TFZ])_\[([0-9.eE+\-]+)(?:\s*,\s*([0-9.eE+\-]+))?\]\}")


def parse_spm_description(description: str) -> tuple[str | None, float | tuple | None]:
    """Statistic type and df from an SPM header description.

    ``"SPM{T_[20.0]} - contrast 1: pain"`` gives ``("T", 20.0)``;
    ``"SPM{F_[1.0,20.0]} ..."`` gives ``("F", (1.0, 20.0))``.
    """
    m = _SPM_DESC.search(description or "")
    if not m:
        return None, None
    stat = m.group(1)
    a = float(m.group(2))
    if stat == "F" and m.group(3) is not None:
        return "F", (a, float(m.group(3)))
    if stat == "Z":
        return "Z", None
    return stat, a


def _fsl_dof(path: Path) -> float | None:
    """Residual df from FSL's ``stats/dof`` next to a ``stats/tstat*`` (or in ``stats/``)."""
    for candidate in (path.parent / "dof", path.parent / "stats" / "dof"):
        try:
            return float(candidate.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return None


def _sidecar_df(path: Path) -> float | None:
    """Degrees of freedom from a BIDS-style JSON sidecar, if it records them."""
    sidecar = path.parent / (nifti_stem(path) + ".json")
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return None
    for key in ("DegreesOfFreedom", "df", "dof"):
        if isinstance(meta.get(key), (int, float)):
            return float(meta[key])
    return None


def _by_name(stem: str) -> ImageInfo | None:
    s = stem.lower()
    rules: list[tuple[str, ImageInfo]] = [
        (r"^spmt_\d+", ImageInfo(ImageKind.STAT, "T", None, "SPM", "SPM T map")),
        (r"^spmf_\d+", ImageInfo(ImageKind.STAT, "F", None, "SPM", "SPM F map")),
        (r"^con_\d+", ImageInfo(ImageKind.CONTRAST, None, None, "SPM", "SPM contrast image")),
        (
            r"^ess_\d+",
            ImageInfo(ImageKind.CONTRAST, None, None, "SPM", "SPM extra sum of squares"),
        ),
        (r"^beta_\d+", ImageInfo(ImageKind.BETA, None, None, "SPM", "SPM parameter estimate")),
        (r"^resms$", ImageInfo(ImageKind.VARIANCE, None, None, "SPM", "SPM residual variance")),
        (r"^rpv$", ImageInfo(ImageKind.RESELS_PER_VOXEL, None, None, "SPM", "SPM resels/voxel")),
        (r"^mask$", ImageInfo(ImageKind.MASK, None, None, "SPM/FSL", "analysis mask")),
        (r"^zstat\d*", ImageInfo(ImageKind.STAT, "Z", None, "FSL", "FSL Z map")),
        (r"^tstat\d*", ImageInfo(ImageKind.STAT, "T", None, "FSL", "FSL T map")),
        (r"^zfstat\d*", ImageInfo(ImageKind.STAT, "Z", None, "FSL", "FSL Z (from F) map")),
        (r"^fstat\d*", ImageInfo(ImageKind.STAT, "F", None, "FSL", "FSL F map")),
        (r"^(cope|varcope)\d*", ImageInfo(ImageKind.CONTRAST, None, None, "FSL", "FSL COPE")),
        (r"^pe\d+$", ImageInfo(ImageKind.BETA, None, None, "FSL", "FSL parameter estimate")),
        (r"_pve_0$", ImageInfo(ImageKind.CSF, None, None, "FSL", "FSL FAST CSF partial volume")),
        (r"_pve_[12]$", ImageInfo(ImageKind.PROBABILITY, None, None, "FSL", "FSL FAST PVE")),
        (r"^c3", ImageInfo(ImageKind.CSF, None, None, "SPM", "SPM segment CSF (c3)")),
        (
            r"label-csf_probseg$",
            ImageInfo(ImageKind.CSF, None, None, "fMRIPrep/BIDS", "CSF probability"),
        ),
        (
            r"_probseg$",
            ImageInfo(ImageKind.PROBABILITY, None, None, "fMRIPrep/BIDS", "tissue probability"),
        ),
        (
            r"desc-brain_mask$",
            ImageInfo(ImageKind.MASK, None, None, "fMRIPrep/BIDS", "brain mask"),
        ),
        (r"_mask$", ImageInfo(ImageKind.MASK, None, None, "BIDS", "mask")),
        (r"_dseg$", ImageInfo(ImageKind.LABELS, None, None, "BIDS", "label image")),
        (r"stat-t(_|$)", ImageInfo(ImageKind.STAT, "T", None, "BIDS/nilearn", "T map")),
        (r"stat-z(_|$)", ImageInfo(ImageKind.STAT, "Z", None, "BIDS/nilearn", "Z map")),
        (r"stat-f(_|$)", ImageInfo(ImageKind.STAT, "F", None, "BIDS/nilearn", "F map")),
        (r"stat-effect(_|$)", ImageInfo(ImageKind.CONTRAST, None, None, "BIDS/nilearn", "effect")),
        (r"(^|_)(z_map|zmap)$", ImageInfo(ImageKind.STAT, "Z", None, "nilearn", "Z map")),
        (r"(^|_)(t_map|tmap)$", ImageInfo(ImageKind.STAT, "T", None, "nilearn", "T map")),
        (
            r"desc-preproc_bold$",
            ImageInfo(ImageKind.RUN, None, None, "fMRIPrep", "preprocessed BOLD"),
        ),
        (r"_bold$", ImageInfo(ImageKind.RUN, None, None, "BIDS", "BOLD run")),
    ]
    for pattern, info in rules:
        if re.search(pattern, s):
            return info
    return None


def is_atlas_name(stem: str) -> bool:
    """True when a file name says atlas (:data:`ATLAS_NAME`) and is not a BOLD run."""
    s = stem.lower()
    return bool(ATLAS_NAME.search(s)) and not s.endswith("_bold")


def classify_values(data: np.ndarray, max_labels: int = MAX_LABELS) -> ImageKind | None:
    """MASK for 0/1 volumes, LABELS for at most ``max_labels`` integer values, else None."""
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)]
        if finite.size == 0 or not np.all(finite == np.round(finite)):
            return None
        values = np.unique(finite)
    elif data.dtype.kind in "iub":
        values = np.unique(data)
    else:
        return None
    if values.size == 0 or values.min() < 0:
        return None
    if np.all(np.isin(values, (0, 1))):
        return ImageKind.MASK
    if values.size <= max_labels + 1 and values.max() <= 65535:
        return ImageKind.LABELS
    return None


def classify(source: NiftiSource, data: np.ndarray | None = None) -> ImageInfo:
    """Classify an opened image by name, header and (3D only) values.

    Parameters
    ----------
    source : NiftiSource
        The opened image.
    data : ndarray, optional
        Its voxels (3D images); read from ``source`` when omitted.

    Returns
    -------
    ImageInfo
    """
    stem = source.name
    info = _by_name(stem)
    spm_type, spm_df = parse_spm_description(source.description)
    if source.is_run:
        if is_atlas_name(stem) and (info is None or info.kind != ImageKind.RUN):
            return ImageInfo(ImageKind.ATLAS, None, None, info.source if info else "name",
                             f"probabilistic atlas ({source.n_volumes} labels)")
        if info is None or info.kind != ImageKind.RUN:
            info = ImageInfo(ImageKind.RUN, None, None, info.source if info else "", "4D run")
        return info
    if spm_type is not None:
        label = f"SPM {spm_type} map"
        return ImageInfo(ImageKind.STAT, spm_type, spm_df, "SPM", label)
    if info is not None and info.kind == ImageKind.STAT:
        df = info.df
        if info.stat_type == "T":
            df = _sidecar_df(source.path) or (
                _fsl_dof(source.path) if info.source == "FSL" else None
            )
        return ImageInfo(info.kind, info.stat_type, df, info.source, info.label)
    if info is not None and info.kind in (ImageKind.MASK, ImageKind.LABELS):
        values_kind = classify_values(data if data is not None else source.volume())
        if values_kind is not None:
            kind = values_kind if info.kind == ImageKind.LABELS else info.kind
            if info.kind == ImageKind.MASK and values_kind == ImageKind.LABELS:
                kind = ImageKind.LABELS
            return ImageInfo(kind, None, None, info.source, info.label)
        return ImageInfo(ImageKind.IMAGE, None, None, info.source, info.label)
    if info is not None:
        return info
    named_labels = any(word in stem.lower() for word in LABEL_WORDS)
    values_kind = classify_values(
        data if data is not None else source.volume(), 4096 if named_labels else MAX_LABELS
    )
    if values_kind == ImageKind.LABELS and is_atlas_name(stem):
        return ImageInfo(ImageKind.ATLAS, None, None, "name", "label atlas")
    if values_kind is not None:
        label = "binary mask" if values_kind == ImageKind.MASK else "label image"
        return ImageInfo(values_kind, None, None, "values", label)
    return ImageInfo(ImageKind.IMAGE, None, None, "", "image")
