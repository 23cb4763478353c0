"""Export an SVC result: JSON (the result's ``to_dict()``) or CSV (one row per peak / cluster).

With an atlas chosen in the session, the JSON names the label at every peak and cluster
and the CSV has its label column, as ``milna svc --atlas`` writes them.

Writes are atomic (:func:`napari_milna.core.io.tables.atomic_write_text`); an existing
file is replaced only when the user says so in a question box.
"""

from __future__ import annotations

import json
from pathlib import Path

from ...core.io.tables import atomic_write_text
from ...core.svc.export import csv_text
from ..panel.dialogs import ask_overwrite, ask_save_file

FILTERS = {"csv": "CSV table (*.csv)", "json": "JSON (*.json)"}


def ask_save_path(parent, kind: str, start: str = "") -> str | None:
    """File name to write (None when cancelled); overwriting is asked separately."""
    return ask_save_file(parent, f"Export the SVC result as {kind.upper()}", start, FILTERS[kind])


def export_dict(result, inputs: dict, permutation: dict | None = None, atlas=None) -> dict:
    """What the JSON export holds: ``result.to_dict()`` plus the inputs (and a permutation).

    With an ``atlas``, every peak and cluster gains ``atlas_label`` (and the summary
    ``atlas``), as :func:`napari_milna.core.atlas.label_summary` adds them.
    """
    out = result.to_dict()
    if atlas is not None:
        from ...core.atlas import label_summary

        label_summary(out, atlas)
    out["inputs"] = dict(inputs)
    if permutation is not None:
        out["permutation"] = permutation
    return out


def export_text(kind: str, data: dict, atlas=None) -> str:
    """The file's text: JSON of ``data``, or the CSV of :func:`result_rows` (core)."""
    if kind == "json":
        return json.dumps(data, indent=2) + "\n"
    return csv_text(data, data.get("inputs"), atlas)


def write_export(parent, kind: str, data: dict, path: str | Path, atlas=None) -> Path | None:
    """Write ``data`` atomically to ``path``; ask before replacing a file.

    Returns
    -------
    Path or None
        The file written, or None when the user kept the existing file.
    """
    path = Path(path)
    if kind == "csv" and path.suffix.lower() != ".csv":
        path = path.with_name(path.name + ".csv")
    if kind == "json" and path.suffix.lower() != ".json":
        path = path.with_name(path.name + ".json")
    overwrite = False
    if path.exists():
        if not ask_overwrite(parent, [path]):
            return None
        overwrite = True
    return atomic_write_text(path, export_text(kind, data, atlas), overwrite=overwrite)
