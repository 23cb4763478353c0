"""The SVC result as a table: one row per listed peak and per cluster (the CSV export).

The SVC tab's "Export CSV", ``milna svc --csv OUT`` and :meth:`SvcResult.to_frame`
give the same table, built here from the result's JSON summary (``to_dict()``). With an
atlas (``milna svc --atlas``, the atlas chosen in the panel) each row gains its label
after the coordinates (:func:`napari_milna.core.atlas.label_frame`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..io.tables import table_text, write_table
from .cluster_level import level_columns

#: Float format of the CSV (ten significant digits).
CSV_FLOAT_FORMAT = "%.10g"


def result_rows(summary: dict, inputs: dict | None = None, atlas=None):
    """A tidy table of a ``to_dict()`` summary: one row per listed peak and per cluster.

    The first row is the ROI's peak (``row = "peak"``), then the listed maxima
    (``"max"``) and clusters (``"cluster"``). Search-volume columns (S, resels, FWHM,
    thresholds, inputs) repeat on every row so that the file stands alone.

    Parameters
    ----------
    summary : dict
        :meth:`SvcResult.to_dict` (or the SVC tab's JSON export, which adds ``inputs``).
    inputs : dict, optional
        ``stat_map`` and ``roi``: what the table names as its inputs.
    atlas : Atlas, optional
        Adds ``atlas_label`` (and ``atlas_probability``) after ``z_mm``.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

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
        **{f"fwhm_mm_{a}": v for a, v in zip("ijk", summary["fwhm_mm"], strict=True)},
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
    rows, common = level_columns(summary, rows, common)  # SPM's set / cluster / peak levels
    frame = pd.DataFrame(rows)
    for key, value in common.items():
        frame[key] = [value] * len(frame)
    if atlas is None:
        return frame
    from ..atlas import label_frame

    return label_frame(frame, atlas)


def _csv_options() -> dict:
    return {"sep": ",", "float_format": CSV_FLOAT_FORMAT, "na_rep": "", "nonfinite": True}


def csv_text(summary: dict, inputs: dict | None = None, atlas=None) -> str:
    """The CSV text of :func:`result_rows` (empty cells for missing values)."""
    return table_text(result_rows(summary, inputs, atlas), **_csv_options())


def write_csv(
    summary: dict,
    path: str | os.PathLike,
    inputs: dict | None = None,
    *,
    atlas=None,
    overwrite: bool = False,
) -> Path:
    """Write the SVC table as CSV, atomically; an existing file only with ``overwrite``.

    Raises
    ------
    MilnaInputError
        The file exists (and ``overwrite`` is False) or its folder does not.
    """
    return write_table(result_rows(summary, inputs, atlas), path, overwrite=overwrite,
                       **_csv_options())


__all__ = ["CSV_FLOAT_FORMAT", "csv_text", "result_rows", "write_csv"]
