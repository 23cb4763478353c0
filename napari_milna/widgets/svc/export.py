"""Export an SVC result: JSON (the result's ``to_dict()``) or CSV (one row per peak / cluster).

Writes are atomic (:func:`napari_milna.core.io.tables.atomic_write_text`); an existing
file is replaced only when the user says so in a question box.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from qtpy.QtWidgets import QFileDialog, QMessageBox

from ...core.io.tables import atomic_write_text

FILTERS = {"csv": "CSV table (*.csv)", "json": "JSON (*.json)"}


def ask_save_path(parent, kind: str, start: str = "") -> str | None:
    """File name to write (None when cancelled); overwriting is asked separately."""
    path, _ = QFileDialog.getSaveFileName(
        parent, f"Export the SVC result as {kind.upper()}", start, FILTERS[kind],
        options=QFileDialog.Option.DontConfirmOverwrite,
    )
    return path or None


def ask_overwrite(parent, path: Path) -> bool:
    """Whether to replace an existing file (default: no)."""
    answer = QMessageBox.question(
        parent,
        "Replace the file?",
        f"{path} already exists.\n\nReplace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def export_dict(result, inputs: dict, permutation: dict | None = None) -> dict:
    """What the JSON export holds: ``result.to_dict()`` plus the inputs (and a permutation)."""
    out = result.to_dict()
    out["inputs"] = dict(inputs)
    if permutation is not None:
        out["permutation"] = permutation
    return out


def result_rows(summary: dict, inputs: dict | None = None) -> pd.DataFrame:
    """A tidy table of a ``to_dict()`` summary: one row per listed peak and per cluster.

    The first row is the ROI's peak (``row = "peak"``), then the listed maxima
    (``"max"``) and clusters (``"cluster"``). Search-volume columns (S, resels, FWHM,
    thresholds, inputs) repeat on every row so that the file stands alone.
    """
    common = {
        "stat_map": (inputs or {}).get("stat_map"),
        "roi": (inputs or {}).get("roi"),
        "stat_type": summary["stat_type"],
        "df": json.dumps(summary["df"]) if isinstance(summary["df"], list) else summary["df"],
        "alpha": summary["alpha"],
        "two_sided": summary["two_sided"],
        "n_voxels": summary["n_voxels"],
        "n_roi_voxels": summary["n_roi_voxels"],
        **{f"resels_r{d}": v for d, v in enumerate(summary["resels"])},
        **{f"fwhm_mm_{a}": v for a, v in zip("ijk", summary["fwhm_mm"])},
        "smoothness_source": summary["smoothness_source"],
        "threshold_fwe_rft": summary["threshold_fwe"]["rft"],
        "threshold_fwe_bonferroni": summary["threshold_fwe"]["bonferroni"],
        "threshold_fwe_used": summary["threshold_fwe"]["used"],
        "n_voxels_fwe": summary["n_voxels_fwe"],
        "height_threshold": summary["height_threshold"]["value"],
    }

    def peak_row(kind: str, p: dict) -> dict:
        x, y, z = p["xyz_mm"]
        i, j, k = p["ijk"]
        return {
            "row": kind, "value": p["value"], "z": p["z"], "p_uncorrected": p["p_uncorrected"],
            "p_fwe_rft": p["p_fwe_rft"], "p_fwe_bonferroni": p["p_fwe_bonferroni"],
            "p_fwe": p["p_fwe"], "q_fdr": p["q_fdr"], "x_mm": x, "y_mm": y, "z_mm": z,
            "i": i, "j": j, "k": k, "sign": p["sign"], "cluster": p["cluster"],
            "n_voxels_cluster": None, "volume_mm3": None,
        }

    rows = [peak_row("peak", summary["peak"])]
    rows += [peak_row("max", p) for p in summary["peaks"] if p["ijk"] != summary["peak"]["ijk"]]
    for c in summary["clusters"]:
        x, y, z = c["peak_xyz_mm"]
        i, j, k = c["peak_ijk"]
        rows.append({
            "row": "cluster", "value": c["peak_value"], "x_mm": x, "y_mm": y, "z_mm": z,
            "i": i, "j": j, "k": k, "sign": c["sign"], "cluster": c["index"],
            "n_voxels_cluster": c["n_voxels"], "volume_mm3": c["volume_mm3"],
        })
    frame = pd.DataFrame(rows)
    for key, value in common.items():
        frame[key] = [value] * len(frame)
    return frame


def export_text(kind: str, data: dict) -> str:
    """The file's text: JSON of ``data``, or the CSV of :func:`result_rows`."""
    if kind == "json":
        return json.dumps(data, indent=2) + "\n"
    return result_rows(data, data.get("inputs")).to_csv(index=False, float_format="%.10g")


def write_export(parent, kind: str, data: dict, path: str | Path) -> Path | None:
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
        if not ask_overwrite(parent, path):
            return None
        overwrite = True
    return atomic_write_text(path, export_text(kind, data), overwrite=overwrite)
