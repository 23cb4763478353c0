"""Atomic text and TSV writes, and BIDS-like output names.

A table is written to a temporary file in the destination folder and renamed into
place: a crash or a bad input never leaves half a file, and an existing file is only
replaced when the caller says so.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import input_error
from .atomic import atomic_target, check_writable


def atomic_write_text(path: str | os.PathLike, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    Parameters
    ----------
    path : str or path-like
    text : str
    overwrite : bool
        Replace an existing file; without it an existing file is an error.

    Returns
    -------
    Path

    Raises
    ------
    MilnaInputError
        The file exists (and ``overwrite`` is False) or its folder does not.
    """
    path = Path(path)
    check_writable(path, overwrite)
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return path


def read_json_object(path: str | os.PathLike, missing: str) -> dict:
    """A JSON file holding one object (a BIDS sidecar), with one-sentence errors.

    Parameters
    ----------
    path : str or path-like
    missing : str
        Why the file is needed, said when it does not exist
        (``"a BIDS physio file needs its JSON sidecar"``).
    """
    path = Path(path)
    if not path.is_file():
        raise input_error(path, f"does not exist; {missing}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise input_error(path, f"is not readable JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise input_error(path, "does not hold a JSON object")
    return meta


def write_tsv(frame, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a pandas DataFrame as a BIDS TSV (header, tabs, ``n/a`` for missing), atomically."""
    text = frame.to_csv(sep="\t", index=False, na_rep="n/a", float_format="%.10g")
    return atomic_write_text(path, text, overwrite=overwrite)


_ENTITY = re.compile(r"^([a-zA-Z0-9]+)-([a-zA-Z0-9]+)$")


def bids_entities(name: str) -> dict[str, str]:
    """The ``key-value`` entities of a BIDS file name, in order (suffix dropped).

    ``sub-01_ses-drug_task-rest_desc-preproc_bold.nii.gz`` gives
    ``{"sub": "01", "ses": "drug", "task": "rest", "desc": "preproc"}``.
    """
    stem = Path(name).name.split(".", 1)[0]
    out: dict[str, str] = {}
    for part in stem.split("_"):
        match = _ENTITY.match(part)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def bids_name(entities: dict[str, str], suffix: str, extension: str = ".nii.gz") -> str:
    """Join entities (in the given order), a suffix and an extension into a file name."""
    parts = [f"{k}-{v}" for k, v in entities.items() if v is not None]
    return "_".join(parts + [suffix]) + extension


def derivative_prefix(path: str | os.PathLike, drop=("desc",)) -> str:
    """Output-name prefix of a derivative of ``path``: its BIDS entities minus ``drop``.

    ``sub-01_task-pain_space-MNI_desc-preproc_bold.nii.gz`` -> ``sub-01_task-pain_space-MNI``.
    A name without entities gives its stem without a trailing ``_bold``.
    """
    ent = {k: v for k, v in bids_entities(Path(path).name).items() if k not in drop}
    if ent:
        return "_".join(f"{k}-{v}" for k, v in ent.items())
    stem = Path(path).name.split(".", 1)[0]
    return stem.removesuffix("_bold") or stem
