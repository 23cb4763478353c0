"""Small-volume correction (SVC) of a statistic map in a region of interest, as SPM12.

The search volume is the ROI. As in spm_VOI with an image ROI:

* resel counts are those of the ROI as drawn (spm_resels_vol of the ROI mask);
* ``S``, the Bonferroni voxel count, is the number of ROI voxels inside the
  analysis mask, so voxels lost to signal dropout do not count
  (``resels_in_mask=True`` computes the resels over those voxels only);
* the analysis mask is the stat map's non-zero, non-NaN voxels unless a mask is given
  (NaN voxels are always out);
* a peak's FWE p value is ``min(P_RF, min(1, S p_uncorrected))`` (spm_P), the FWE
  height threshold ``min(u_RF, u_Bonferroni)`` (spm_uc);
* one-sided (positive) by default; two-sided searches ``|stat|`` with ``alpha / 2`` per
  tail (every p value doubles) and reports the sign of each peak;
* FDR q values are Benjamini-Hochberg over the S search voxels;
* clusters and the listed maxima use a height threshold (uncorrected ``p < 0.001``
  by default), 18-connectivity and maxima more than 4 mm apart, 16 per cluster
  (SPM's small-volume defaults, see :mod:`napari_milna.core.svc.peaks`).

The single strongest ROI voxel is always reported as ``peak``, above the height
threshold or not. Everything works on the ROI's bounding box, so recomputing after an
ROI edit costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import false_discovery_control

from ..errors import input_error
from ..io.geometry import Grid, bounding_box
from ..protocol import SVC_ALPHA, SVC_CONNECTIVITY, SVC_HEIGHT_P, SVC_MIN_DISTANCE_MM
from ..results import FieldsToDict
from .cluster_level import ResultsTable, results_table
from .peaks import find_clusters, local_maxima, select_maxima
from .resels import resel_counts
from .rft import FweThreshold, fwe_threshold, p_fwe
from .smoothness import Smoothness
from .stat_values import equivalent_z, p_value, threshold_for_p


def fdr_q_values(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p values (q values) of ``p``, same order.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the sorted p values
    (:func:`scipy.stats.false_discovery_control`, ``method="bh"``).
    """
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p.copy()
    return false_discovery_control(p, method="bh")


def analysis_mask_of(stat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Voxels with data: the stat map's non-zero finite voxels, or ``mask`` & finite."""
    finite = np.isfinite(stat)
    if mask is None:
        return finite & (stat != 0)
    return finite & np.asarray(mask, dtype=bool)


@dataclass(frozen=True)
class Peak(FieldsToDict):
    """One local maximum (or the ROI's strongest voxel) with its p values."""

    value: float
    z: float
    p_uncorrected: float
    p_fwe_rft: float
    p_fwe_bonferroni: float
    p_fwe: float
    q_fdr: float
    xyz_mm: tuple[float, float, float]
    ijk: tuple[int, int, int]
    sign: int = 1
    cluster: int | None = None


@dataclass(frozen=True)
class Cluster(FieldsToDict):
    """A connected set of supra-threshold ROI voxels."""

    index: int
    sign: int
    n_voxels: int
    volume_mm3: float
    peak_value: float
    peak_xyz_mm: tuple[float, float, float]
    peak_ijk: tuple[int, int, int]


@dataclass(frozen=True)
class SvcResult:
    """Small-volume correction of one map in one ROI.

    ``to_dict`` gives the summary; the per-voxel arrays (``voxel_*``, over the S
    search voxels in C order of ``voxel_ijk``) are kept for painting maps.
    """

    n_voxels: int
    n_roi_voxels: int
    resels: tuple[float, float, float, float]
    smoothness: Smoothness
    stat_type: str
    df: float | tuple[float, float] | None
    alpha: float
    two_sided: bool
    peak: Peak
    threshold_fwe: FweThreshold
    height_threshold: float
    height_p: float | None
    connectivity: int
    min_distance_mm: float
    resels_in_mask: bool
    n_voxels_fwe: int
    peaks: list[Peak]
    clusters: list[Cluster]
    voxel_ijk: np.ndarray = field(repr=False, compare=False)
    voxel_values: np.ndarray = field(repr=False, compare=False)
    voxel_p_uncorrected: np.ndarray = field(repr=False, compare=False)
    voxel_p_fwe: np.ndarray = field(repr=False, compare=False)
    voxel_q_fdr: np.ndarray = field(repr=False, compare=False)
    #: SPM's set / cluster / peak-level table (:mod:`.cluster_level`), when computed.
    levels: ResultsTable | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready summary (the CLI's ``milna svc --json`` output)."""
        out = self._summary()
        return out if self.levels is None else self.levels.merge_into(out)

    def to_frame(self, inputs: dict | None = None):
        """The result as a table, one row per listed peak and per cluster (the CSV export).

        Parameters
        ----------
        inputs : dict, optional
            ``stat_map`` and ``roi`` named in the table.

        Returns
        -------
        pandas.DataFrame
            :func:`napari_milna.core.svc.export.result_rows` of :meth:`to_dict`.
        """
        from .export import result_rows

        return result_rows(self.to_dict(), inputs)

    def _summary(self) -> dict:
        df = list(self.df) if isinstance(self.df, tuple) else self.df
        return {
            "n_voxels": int(self.n_voxels),
            "n_roi_voxels": int(self.n_roi_voxels),
            "resels": [float(v) for v in self.resels],
            "resels_in_mask": bool(self.resels_in_mask),
            "fwhm_mm": [float(v) for v in self.smoothness.fwhm_mm],
            "fwhm_voxels": [float(v) for v in self.smoothness.fwhm_voxels],
            "smoothness_source": self.smoothness.source,
            "smoothness": self.smoothness.details,
            "stat_type": self.stat_type,
            "df": df,
            "alpha": float(self.alpha),
            "two_sided": bool(self.two_sided),
            "peak": self.peak.to_dict(),
            "threshold_fwe": {
                "rft": _finite_or_none(self.threshold_fwe.rft),
                "bonferroni": _finite_or_none(self.threshold_fwe.bonferroni),
                "used": _finite_or_none(self.threshold_fwe.used),
            },
            "n_voxels_fwe": int(self.n_voxels_fwe),
            "height_threshold": {"value": float(self.height_threshold), "p": self.height_p},
            "connectivity": int(self.connectivity),
            "min_distance_mm": float(self.min_distance_mm),
            "peaks": [p.to_dict() for p in self.peaks],
            "clusters": [c.to_dict() for c in self.clusters],
        }


def _finite_or_none(v: float):
    return float(v) if np.isfinite(v) else None


def check_search_volume(
    roi: np.ndarray, analysis_mask: np.ndarray, roi_name=None, mask_name=None
) -> None:
    """Refuse an empty ROI, or one with no voxel inside the analysis mask.

    Raises
    ------
    MilnaInputError
        One sentence naming the ROI file when known.
    """
    n_roi = int(np.count_nonzero(roi))
    if n_roi == 0:
        raise input_error(roi_name, "the ROI is empty (it has no voxel)")
    if not np.any(roi & analysis_mask):
        where = (
            f"the mask {mask_name}" if mask_name
            else "the analysis mask (the map's non-zero, non-NaN voxels)"
        )
        raise input_error(
            roi_name, f"none of the ROI's {n_roi} voxels lies inside {where}; the map has no data "
            "there (signal dropout?)"
        )


def check_settings(alpha: float, height_p: float | None, min_distance_mm: float,
                   extent_voxels: int = 0, table_peaks=None) -> None:
    """Refuse levels outside (0, 1), negative or non-finite distances, a negative extent.

    Raises
    ------
    MilnaInputError
    """
    levels = [("the FWE level alpha", alpha)]
    if height_p is not None:
        levels.append(("the cluster-forming p", height_p))
    for what, value in levels:
        if not (np.isfinite(value) and 0 < value < 1):
            raise input_error(None, f"{what} must lie strictly between 0 and 1, not {value}")
    distances = [("the minimum distance between peaks", min_distance_mm)]
    if table_peaks is not None:
        distances.append(("the distance between table maxima", table_peaks[1]))
        if int(table_peaks[0]) < 1:
            raise input_error(None, f"the table needs at least 1 maximum per cluster, not "
                                    f"{table_peaks[0]}")
    for what, value in distances:
        if not (np.isfinite(value) and 0 <= value <= 1000):
            raise input_error(None, f"{what} must lie between 0 and 1000 mm, not {value}")
    if int(extent_voxels) < 0:
        raise input_error(None, f"the cluster extent threshold must be 0 voxels or more, not "
                                f"{extent_voxels}")


def small_volume_correction(
    stat: np.ndarray,
    roi: np.ndarray,
    grid: Grid,
    smoothness: Smoothness,
    stat_type: str = "T",
    df=None,
    analysis_mask: np.ndarray | None = None,
    alpha: float = SVC_ALPHA,
    two_sided: bool = False,
    height_p: float | None = SVC_HEIGHT_P,
    height: float | None = None,
    min_distance_mm: float = SVC_MIN_DISTANCE_MM,
    max_peaks_per_cluster: int = 16,
    connectivity: int = SVC_CONNECTIVITY,
    resels_in_mask: bool = False,
    extent_voxels: int = 0,
    rpv: np.ndarray | None = None,
    table_peaks: tuple[int, float] | None = (3, 8.0),
) -> SvcResult:
    """Peaks, clusters and FWE / FDR p values of a statistic map within an ROI.

    Parameters
    ----------
    stat : 3D array
        The statistic map on ``grid``.
    roi : 3D bool array
        The ROI on the same grid.
    grid : Grid
        The map's grid (voxel positions in mm).
    smoothness : Smoothness
        FWHM on ``grid`` (:mod:`napari_milna.core.svc.smoothness`).
    stat_type : {"T", "Z", "F"}
    df : float or (float, float), optional
        Degrees of freedom (T: residual df; F: (df1, df2)).
    analysis_mask : 3D bool array, optional
        Voxels with data; default the map's non-zero, non-NaN voxels.
    alpha : float
        FWE level of the reported threshold.
    two_sided : bool
        Search both tails (T and Z only).
    height_p : float or None
        Uncorrected p defining clusters and listed maxima (default 0.001).
    height : float, optional
        The same as a statistic value (overrides ``height_p``).
    min_distance_mm : float
        Minimum distance between listed maxima of one cluster (SPM SVC: 4 mm).
    max_peaks_per_cluster : int
        Maxima listed per cluster (SPM SVC: 16).
    connectivity : {6, 18, 26}
        Cluster and maximum neighbourhood (SPM: 18).
    resels_in_mask : bool
        Count resels over ROI voxels inside the analysis mask instead of the ROI.
    extent_voxels : int
        Extent threshold k of SPM's results table (clusters of fewer voxels are left
        out of ``clusters``, ``peaks`` and the set level).
    rpv : 3D array, optional
        SPM's resels-per-voxel image on ``grid``: non-stationary cluster extents.
    table_peaks : (int, float) or None
        Maxima per cluster and their minimum distance (mm) in SPM's results table
        (SPM: 3, 8 mm); None leaves the table (``levels``) out.

    Returns
    -------
    SvcResult
    """
    stat_type = stat_type.upper()
    if stat_type == "F" and two_sided:
        raise input_error(None, "an F map has one tail only; a two-sided search does not apply")
    check_settings(alpha, height_p, min_distance_mm, extent_voxels, table_peaks)
    stat = np.asarray(stat)
    roi = np.asarray(roi, dtype=bool)
    if stat.shape != grid.shape or roi.shape != grid.shape:
        raise ValueError(f"map {stat.shape} and ROI {roi.shape} must lie on the grid {grid.shape}")
    amask = analysis_mask_of(stat, analysis_mask)
    check_search_volume(roi, amask)

    box = bounding_box(roi)
    offset = np.array([s.start for s in box])
    stat_c = np.asarray(stat[box], dtype=float)
    roi_c = roi[box]
    search = roi_c & amask[box]
    n_search = int(search.sum())
    resels = resel_counts(search if resels_in_mask else roi_c, smoothness.fwhm_voxels)

    ijk_c = np.argwhere(search)
    vals = stat_c[search]
    p_unc = p_value(vals, stat_type, df, two_sided)
    q = fdr_q_values(p_unc)
    p_rf, p_bf, p_rep = p_fwe(vals, resels, n_search, stat_type, df, two_sided)
    threshold = fwe_threshold(alpha, resels, n_search, stat_type, df, two_sided)
    strength = np.abs(vals) if two_sided else vals
    signs = np.where(vals < 0, -1, 1) if two_sided else np.ones(vals.size, dtype=int)
    z = equivalent_z(np.abs(vals) if two_sided else vals, stat_type, df) * (
        signs if two_sided else 1
    )

    index_map = np.full(stat_c.shape, -1, dtype=np.int64)
    index_map[search] = np.arange(n_search)
    world = grid.to_world(ijk_c + offset)

    def make_peak(i: int, cluster: int | None) -> Peak:
        return Peak(
            float(vals[i]), float(z[i]), float(p_unc[i]), float(p_rf[i]), float(p_bf[i]),
            float(p_rep[i]), float(q[i]), tuple(float(v) for v in world[i]),
            tuple(int(v) for v in ijk_c[i] + offset), int(signs[i]), cluster,
        )

    u_h = float(height) if height is not None else float(
        threshold_for_p(height_p, stat_type, df, two_sided)
    )
    tails = [(1, stat_c)] + ([(-1, -stat_c)] if two_sided else [])
    cluster_rows = []  # (strength, sign, labels-index, ClusterMap)
    maxima = []  # (sign, ijk_c array, ClusterMap)
    for sign, values in tails:
        supra = search & (values >= u_h)
        cmap = find_clusters(values, supra, connectivity)
        for c in range(cmap.n_clusters):
            cluster_rows.append((cmap.peak_value[c], sign, c, cmap))
        maxima.append((sign, local_maxima(values, supra, connectivity), cmap))
    cluster_rows.sort(key=lambda row: -row[0])
    global_id = {(row[1], row[2]): k + 1 for k, row in enumerate(cluster_rows)}
    clusters = []
    for k, (peak_value, sign, c, cmap) in enumerate(cluster_rows):
        ijk = cmap.peak_ijk[c]
        clusters.append(Cluster(
            k + 1, sign, int(cmap.n_voxels[c]), float(cmap.n_voxels[c] * grid.voxel_volume),
            float(sign * peak_value), tuple(float(v) for v in grid.to_world(ijk + offset)),
            tuple(int(v) for v in ijk + offset),
        ))

    m_index, m_cluster = [], []
    for sign, ijk, cmap in maxima:
        for p in ijk:
            m_index.append(index_map[tuple(p)])
            m_cluster.append(global_id[(sign, int(cmap.labels[tuple(p)]) - 1)])
    m_index = np.asarray(m_index, dtype=int)
    m_cluster = np.asarray(m_cluster, dtype=int)
    chosen = select_maxima(
        ijk_c[m_index], strength[m_index], world[m_index], m_cluster,
        min_distance_mm, max_peaks_per_cluster,
    ) if m_index.size else np.zeros(0, dtype=int)
    peaks = [make_peak(int(m_index[i]), int(m_cluster[i])) for i in chosen]

    top = int(np.argmax(strength))
    top_cluster = None
    if strength[top] >= u_h:
        label_tail = 0 if signs[top] > 0 else 1
        cmap = maxima[label_tail][2]
        top_cluster = global_id[(int(signs[top]), int(cmap.labels[tuple(ijk_c[top])]) - 1)]
    df_out = tuple(float(v) for v in df) if stat_type == "F" else (
        float(df) if stat_type == "T" else None
    )
    result = SvcResult(
        n_voxels=n_search,
        n_roi_voxels=int(roi_c.sum()),
        resels=tuple(float(v) for v in resels),
        smoothness=smoothness,
        stat_type=stat_type,
        df=df_out,
        alpha=float(alpha),
        two_sided=bool(two_sided),
        peak=make_peak(top, top_cluster),
        threshold_fwe=threshold,
        height_threshold=u_h,
        height_p=None if height is not None else float(height_p),
        connectivity=int(connectivity),
        min_distance_mm=float(min_distance_mm),
        resels_in_mask=bool(resels_in_mask),
        n_voxels_fwe=int(np.count_nonzero(p_rep <= alpha)),
        peaks=peaks,
        clusters=clusters,
        voxel_ijk=ijk_c + offset,
        voxel_values=vals,
        voxel_p_uncorrected=p_unc,
        voxel_p_fwe=p_rep,
        voxel_q_fdr=q,
    )
    if table_peaks is None:
        return result
    levels = results_table(result, grid, extent_voxels=extent_voxels, rpv=rpv,
                           max_peaks=table_peaks[0], min_distance_mm=table_peaks[1])
    return replace(result, levels=levels)
