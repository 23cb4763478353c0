"""The report's table layouts: columns ``(key, header, kind)`` named as the CLI's JSON keys.

The SVC table is SPM's (``spm_list``): set level, cluster level and peak level side by
side, one row per listed maximum, from
:meth:`napari_milna.core.svc.cluster_level.ResultsTable.to_frame`.
"""

from __future__ import annotations

import math


def _plain(value):
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def spm_columns(stat_type: str) -> tuple:
    """SPM's results-table columns (``stat_type`` names the peak statistic)."""
    return (
        ("cluster", "#", "int"),
        ("set_p", "p", "p"), ("set_c", "c", "int"),
        ("cluster_p_fwe", "p(FWE-corr)", "p"), ("cluster_q_fdr", "q(FDR-corr)", "p"),
        ("cluster_k", "kE", "int"), ("cluster_k_resels", "k (resels)", "num"),
        ("cluster_p_uncorrected", "p(unc)", "p"),
        ("peak_p_fwe", "p(FWE-corr)", "p"), ("peak_q_fdr", "q(FDR-corr)", "p"),
        ("peak_value", stat_type, "num"), ("peak_z", "(Z\u2261)", "num"),
        ("peak_p_uncorrected", "p(unc)", "p"),
        ("x_mm", "x", "mm"), ("y_mm", "y", "mm"), ("z_mm", "z", "mm"),
    )


#: Column groups of SPM's table.
SPM_GROUPS = (("", 1), ("set-level", 2), ("cluster-level", 5), ("peak-level", 5), ("mm", 3))
#: The default (T) columns.
SPM_COLUMNS = spm_columns("T")


def spm_rows(result) -> list[dict]:
    """SPM's table of an SVC result as rows (none when it has no results table)."""
    if result.levels is None:
        return []
    frame = result.levels.to_frame()
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


#: The ROI's strongest voxel (the SVC's ``peak``).
PEAK_COLUMNS = (
    ("value", "value", "num"), ("z", "(Z\u2261)", "num"), ("p_uncorrected", "p(unc)", "p"),
    ("p_fwe_rft", "p(FWE) RFT", "p"), ("p_fwe_bonferroni", "p(FWE) Bonferroni", "p"),
    ("p_fwe", "p(FWE)", "p"), ("q_fdr", "q(FDR)", "p"),
    ("x_mm", "x", "mm"), ("y_mm", "y", "mm"), ("z_mm", "z", "mm"),
    ("cluster", "cluster", "int"),
)


def peak_row(peak: dict) -> dict:
    """The SVC summary's ``peak`` with its coordinates as ``x_mm``, ``y_mm``, ``z_mm``."""
    x, y, z = peak["xyz_mm"]
    return dict(peak, x_mm=x, y_mm=y, z_mm=z)


def search_items(summary: dict) -> list[tuple]:
    """An SVC's search volume and thresholds (SPM's footnote): ``(key, label, value, kind)``."""
    level = summary.get("cluster_level", {})
    df = summary["df"]
    items = [
        ("n_voxels", "search voxels S (ROI voxels with data)", summary["n_voxels"], "int"),
        ("n_roi_voxels", "ROI voxels", summary["n_roi_voxels"], "int"),
        *((f"resels_r{d}", f"resels R{d}", v, "num") for d, v in enumerate(summary["resels"])),
        *((f"fwhm_mm_{a}", f"FWHM {a} (mm)", v, "num")
          for a, v in zip("ijk", summary["fwhm_mm"])),
        ("smoothness_source", "smoothness from", summary["smoothness_source"], "text"),
        ("stat_type", "statistic", summary["stat_type"], "text"),
    ]
    if isinstance(df, list):
        items += [("df_1", "df 1", df[0], "num"), ("df_2", "df 2", df[1], "num")]
    else:
        items.append(("df", "degrees of freedom", df, "num"))
    items += [
        ("df_source", "df from", summary.get("df_source"), "text"),
        ("threshold_fwe_rft", f"FWE {summary['alpha']:g} threshold, RFT",
         summary["threshold_fwe"]["rft"], "num"),
        ("threshold_fwe_bonferroni", f"FWE {summary['alpha']:g} threshold, Bonferroni",
         summary["threshold_fwe"]["bonferroni"], "num"),
        ("threshold_fwe_used", "FWE threshold used", summary["threshold_fwe"]["used"], "num"),
        ("n_voxels_fwe", "voxels above it", summary["n_voxels_fwe"], "int"),
        ("height_threshold", "cluster-forming height u", summary["height_threshold"]["value"],
         "num"),
        ("height_p", "its p (unc.)", summary["height_threshold"]["p"], "p"),
    ]
    if "set_level" in summary:
        items += [
            ("extent_voxels", "extent threshold k (voxels)", level["extent_voxels"], "int"),
            ("expected_clusters", "expected clusters <c>", level["expected_clusters"], "num"),
            ("expected_voxels_per_cluster", "expected voxels per cluster <k>",
             level["expected_voxels_per_cluster"], "num"),
            ("resels_per_voxel", "resels per voxel", level["resels_per_voxel"], "num"),
            ("extent_method", "cluster extents", level["extent_method"], "text"),
        ]
    return items


QC_RUN_COLUMNS = (
    ("n_volumes", "volumes", "int"), ("tr", "TR (s)", "num"),
    ("tsnr_median", "tSNR (brain median)", "num"),
    ("brain_median_signal", "brain median signal", "num"), ("brain_voxels", "brain voxels", "int"),
    ("brain_dropout_fraction", "brain dropout", "num"),
    ("brain_spm_drop_fraction", "SPM implicit-mask drop", "num"),
    ("verdict", "verdict", "text"),
)
QC_ROI_COLUMNS = (
    ("name", "ROI", "text"), ("n_voxels", "voxels", "int"), ("coverage", "coverage", "num"),
    ("dropout_fraction", "dropout", "num"), ("spm_drop_fraction", "SPM drop", "num"),
    ("tsnr_median", "tSNR", "num"), ("signal_ratio", "signal ratio", "num"),
    ("csf_fraction", "CSF fraction", "num"), ("csf_correlation", "CSF r", "num"),
    ("csf_std_ratio", "CSF sd ratio", "num"), ("verdict", "verdict", "text"),
    ("reason", "reason", "text"),
)
CROSSOVER_COLUMNS = (
    ("name", "ROI", "text"), ("n", "N", "int"), ("n_voxels", "voxels", "int"),
    ("drug_mean", "drug", "num"), ("placebo_mean", "placebo", "num"),
    ("mean_difference", "drug - placebo", "num"), ("sd_difference", "sd", "num"),
    ("ci_low", "95% CI low", "num"), ("ci_high", "95% CI high", "num"),
    ("t", "t", "num"), ("df", "df", "int"), ("p", "p", "p"), ("dz", "dz", "num"),
    ("p_wilcoxon", "p Wilcoxon", "p"), ("p_perm", "p sign-flip", "p"),
    ("n_perm", "flips", "int"), ("p_holm", "p Holm", "p"),
)
MOTION_COLUMNS = (
    ("file", "file", "text"), ("format", "format", "text"), ("n_volumes", "volumes", "int"),
    ("mean_fd", "mean FD (mm)", "num"), ("max_fd", "max FD (mm)", "num"),
    ("threshold", "threshold (mm)", "num"), ("n_scrubbed", "scrubbed", "int"),
    ("scrubbed_volumes", "volumes scrubbed", "text"),
)
def physio_items(p: dict) -> list[tuple]:
    """A run's physiology summary (``milna retroicor --json``), ``(key, label, value, kind)``."""
    ibi = p.get("ibi_s") or {}
    return [
        ("bold", "run", str(p["bold"]).rsplit("/", 1)[-1], "text"),
        ("peak_source", "cardiac peaks by", p["peak_source"], "text"),
        ("n_peaks", "beats", p["n_peaks"], "int"),
        ("heart_rate_bpm", "heart rate (bpm, median IBI)", p["heart_rate_bpm"], "num"),
        ("ibi_min", "shortest IBI (s)", ibi.get("min"), "num"),
        ("ibi_max", "longest IBI (s)", ibi.get("max"), "num"),
        ("n_flagged_beats", "flagged beats", p["n_flagged_beats"], "int"),
        ("tr", "TR (s)", p["tr"], "num"),
        ("n_volumes", "volumes", p["n_volumes"], "int"),
        ("slice_time", "slice time (s)", p["slice_time"], "num"),
        ("slice_index", "slice", p["slice_index"], "int"),
        ("n_regressors", "RETROICOR regressors", len(p["columns"]), "int"),
    ]


__all__ = [
    "CROSSOVER_COLUMNS",
    "MOTION_COLUMNS",
    "PEAK_COLUMNS",
    "QC_ROI_COLUMNS",
    "QC_RUN_COLUMNS",
    "SPM_COLUMNS",
    "SPM_GROUPS",
    "peak_row",
    "physio_items",
    "search_items",
    "spm_columns",
    "spm_rows",
]
