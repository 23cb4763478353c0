"""Atomic text and TSV writes.

A table is written to a staged file beside its destination and moved into place
(:mod:`.atomic`): a crash or a bad input never leaves half a file, and an existing file
is only replaced when the caller says so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import input_error
from .atomic import atomic_target, check_writable
from .bids import bids_entities, bids_name, derivative_prefix  # noqa: F401  (moved to .bids)


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
        The file exists (and ``overwrite`` is False; also when it appears while the text
        is written), its folder does not, or the write fails (read-only, disk full).
    """
    path = Path(path)
    check_writable(path, overwrite)
    with atomic_target(path, overwrite=overwrite) as tmp:
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


#: Cells BIDS tables use for a missing value.
MISSING = "n/a"


def _separator(path: Path, sep: str | None) -> str:
    if sep is not None:
        return sep
    return "," if path.name.lower().endswith((".csv", ".csv.gz")) else "\t"


def read_table(
    path: str | os.PathLike, *, sep: str | None = None, as_text: bool = False, **read_csv
):
    """A TSV / CSV file as a pandas DataFrame, with one-sentence errors naming the file.

    Parameters
    ----------
    path : str or path-like
        The table (``.gz`` is read through gzip).
    sep : str, optional
        Cell separator; default ``","`` for ``*.csv`` and a tab otherwise.
    as_text : bool
        Every cell as the text it holds, nothing turned into NaN (``dtype=str``,
        ``keep_default_na=False``): for readers that check each cell and name its line.
        Otherwise ``n/a`` (and pandas' usual NaN spellings) are missing values.
    **read_csv
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    MilnaInputError
        The file does not exist or is not a readable table.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise input_error(path, "does not exist")
    sep = _separator(path, sep)
    options = {"dtype": str, "keep_default_na": False} if as_text else {"na_values": [MISSING]}
    options["index_col"] = False  # never take the first column as an index
    options.update(read_csv)
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig", **options)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        kind = "tab" if sep == "\t" else "comma" if sep == "," else repr(sep)
        raise input_error(path, f"is not a readable {kind}-separated table ({exc})") from None


def _cell(value, float_format: str | None, sep: str, nonfinite: bool):
    """A value as written: None, NaN (and +-inf unless ``nonfinite``) missing, floats formatted."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or (not nonfinite and value in (float("inf"), float("-inf"))):
            return None
        return value if float_format is None else float_format % value
    if isinstance(value, str) and sep == "\t":
        return value.replace("\t", " ").replace("\n", " ")  # BIDS TSV has no quoting
    return value


def table_text(
    frame,
    *,
    sep: str = "\t",
    float_format: str | None = "%.10g",
    na_rep: str = MISSING,
    header: bool = True,
    nonfinite: bool = False,
) -> str:
    """A DataFrame as TSV / CSV text: a header row (unless ``header=False``), one line per row.

    Missing values (None, NaN) are written as ``na_rep``, and so are infinite numbers unless
    ``nonfinite`` (then ``inf`` / ``-inf``); floats through ``float_format`` (None: Python's
    shortest round-trip text); in a TSV a tab or a newline inside a text cell becomes a space.
    """
    cells = frame.astype(object).apply(
        lambda col: col.map(lambda v: _cell(v, float_format, sep, nonfinite))
    )
    return cells.to_csv(sep=sep, index=False, na_rep=na_rep, lineterminator="\n", header=header)


def write_table(
    frame,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    sep: str | None = None,
    float_format: str | None = "%.10g",
    na_rep: str = MISSING,
    nonfinite: bool = False,
) -> Path:
    """Write a DataFrame as a BIDS TSV (or a CSV for ``*.csv``), atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or path-like
    overwrite : bool
        Replace an existing file; without it an existing file is an error.
    sep : str, optional
        Default ``","`` for ``*.csv``, a tab otherwise.
    float_format : str or None
        ``%`` format of floats (default 10 significant digits); None for full precision.
    na_rep : str
        Text of a missing value (BIDS: ``n/a``).
    nonfinite : bool
        Write infinite numbers as ``inf`` / ``-inf`` instead of ``na_rep``.

    Returns
    -------
    Path
        Written through :func:`atomic_write_text` (which raises for an existing file
        unless ``overwrite``, or a missing folder).
    """
    path = Path(path)
    sep = _separator(path, sep)
    text = table_text(frame, sep=sep, float_format=float_format, na_rep=na_rep,
                      nonfinite=nonfinite)
    return atomic_write_text(path, text, overwrite=overwrite)
