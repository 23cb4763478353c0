"""BIDS file names: their entities, suffix and extension, and names built from entities.

Names are parsed by nilearn's :func:`nilearn.interfaces.bids.parse_bids_filename`
(the one parser of the package; nilearn is imported on the first call, so importing
this module stays cheap). On top of it:

* parts without a value (``rp``, ``spmT``, ``placebo``) are not entities, and neither
  are empty values (``desc-``);
* a name whose last part is itself ``key-value`` (``sub-01_task-pain.nii.gz``) has no
  suffix, and that part is an entity;
* a name without an extension (a stem such as ``sub-01_task-pain_bold``) is accepted.

:func:`sidecar_number` reads a numeric field of a BIDS JSON sidecar (``EchoTime``,
``SamplingFrequency``) with one sentence when it is missing or not a number.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BidsName", "bids_entities", "bids_name", "derivative_prefix", "parse_bids_name",
           "sidecar_number"]


@dataclass(frozen=True)
class BidsName:
    """The parts of a BIDS file name.

    Attributes
    ----------
    entities : dict of str to str
        ``key -> label`` in the order of the name (``{"sub": "01", "task": "pain"}``).
    suffix : str or None
        The last part (``bold``, ``mask``, ``statmap``); None when the name has none.
    extension : str
        Everything after the first dot of the last part (``nii.gz``), ``""`` if none.
    """

    entities: dict[str, str] = field(default_factory=dict)
    suffix: str | None = None
    extension: str = ""


def parse_bids_name(path: str | os.PathLike) -> BidsName:
    """Split a BIDS file name into entities, suffix and extension (nilearn's parser).

    Parameters
    ----------
    path : str or path-like
        A file name or path; only the name is read.

    Returns
    -------
    BidsName

    Examples
    --------
    >>> ref = parse_bids_name("derivatives/sub-01_ses-drug_task-rest_desc-preproc_bold.nii.gz")
    >>> ref.entities
    {'sub': '01', 'ses': 'drug', 'task': 'rest', 'desc': 'preproc'}
    >>> ref.suffix, ref.extension
    ('bold', 'nii.gz')
    >>> parse_bids_name("rp_sub-01_task-pain_bold.txt").entities
    {'sub': '01', 'task': 'pain'}
    """
    from nilearn.interfaces.bids import parse_bids_filename

    name = Path(path).name
    if "." not in name.rsplit("_", 1)[-1]:
        name += "."  # nilearn's parser expects an extension
    ref = parse_bids_filename(name)
    entities = {k: v for k, v in ref["entities"].items() if k and v}
    suffix = ref["suffix"] or None
    if suffix is not None and "-" in suffix:
        key, _, label = suffix.partition("-")
        if key and label:
            entities[key] = label
        suffix = None
    return BidsName(entities, suffix, ref["extension"])


def bids_entities(path: str | os.PathLike) -> dict[str, str]:
    """The ``key-value`` entities of a BIDS file name, in order (suffix and extension dropped).

    ``sub-01_ses-drug_task-rest_desc-preproc_bold.nii.gz`` gives
    ``{"sub": "01", "ses": "drug", "task": "rest", "desc": "preproc"}``.
    """
    return parse_bids_name(path).entities


def bids_name(entities: dict[str, str], suffix: str, extension: str = ".nii.gz") -> str:
    """Join entities (in the given order), a suffix and an extension into a file name.

    Examples
    --------
    >>> bids_name({"sub": "01", "desc": "PAG", "run": None}, "mask")
    'sub-01_desc-PAG_mask.nii.gz'
    """
    parts = [f"{k}-{v}" for k, v in entities.items() if v is not None]
    return "_".join(parts + [suffix]) + extension


def derivative_prefix(path: str | os.PathLike, drop=("desc",)) -> str:
    """Output-name prefix of a derivative of ``path``: its BIDS entities minus ``drop``.

    ``sub-01_task-pain_space-MNI_desc-preproc_bold.nii.gz`` -> ``sub-01_task-pain_space-MNI``.
    A name without entities gives its stem without a trailing ``_bold``.
    """
    ent = {k: v for k, v in bids_entities(path).items() if k not in drop}
    if ent:
        return "_".join(f"{k}-{v}" for k, v in ent.items())
    stem = Path(path).name.split(".", 1)[0]
    return stem.removesuffix("_bold") or stem


def sidecar_number(meta: dict, key: str, side, needed: str | None = None,
                   default: float | None = None) -> float:
    """The number ``meta[key]`` of a JSON sidecar ``side``.

    Parameters
    ----------
    meta : dict
        The sidecar's object.
    key : str
        The BIDS field (``"EchoTime"``).
    side : path-like
        The sidecar, named in the sentence.
    needed : str, optional
        Why the field is required, said when it is missing or null (``"give the echo
        times in ms"``); without it a missing field gives ``default``.
    default : float, optional
        The value of a missing field that is not required (a null one is not a number).

    Raises
    ------
    MilnaInputError
        ``"<side>: has no EchoTime; <needed>"`` or ``"<side>: has an EchoTime 'x' that is
        not a number"``.
    """
    from ..errors import input_error

    value = meta.get(key) if needed is not None else meta.get(key, default)
    if value is None and needed is not None:
        raise input_error(side, f"has no {key}; {needed}")
    try:
        return float(value)
    except (TypeError, ValueError):
        article = "an" if key[:1] in "AEIOU" else "a"
        raise input_error(side, f"has {article} {key} {value!r} that is not a number") from None
