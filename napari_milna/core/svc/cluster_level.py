"""SPM's set- and cluster-level inference (spm_P_RF, spm_P, spm_list), stationary or not.

At a cluster-forming height ``u`` over a search volume of resel counts
``R = [R0, R1, R2, R3]`` (D the index of the last non-zero count, 3 in 3-D):

* ``Ec = sum_d R_d rho_d(u)`` is the expected number of clusters (E[EC], each EC
  density clamped at machine eps) and ``Ek = rho_0(u) / rho_D(u)`` the expected
  number of resels per cluster;
* a cluster of at least ``K`` resels has the uncorrected probability
  ``p_k = exp(-beta K^(2/D))``, ``beta = (Gamma(D/2 + 1) / Ek)^(2/D)`` (``p_k = 1``
  when ``K = 0``);
* at least ``c`` clusters of at least ``K`` resels:
  ``P = 1 - PoissonCDF(c - 1; (Ec + eps) p_k)``. The cluster-level FWE p is ``P``
  with ``c = 1`` and the cluster's own ``K``; the set-level p is ``P`` with ``c`` the
  number of clusters and ``K`` the extent threshold in resels.

A cluster's q FDR is SPM's topological cluster FDR (Chumbley & Friston 2009; SPM12's
spm_uc_clusterFDR and spm_P_clusterFDR, as spm_VOI restricts it to the search volume):
the reference p values ``Ps`` are the uncorrected p of *every* cluster at height ``u`` in
the search volume, before the extent threshold, with stationary extents ``k V2R``; a
listed cluster of uncorrected p ``p`` (its own, non-stationary extent when RPV is used)
has ``q = min_{j >= I} Ps_(j) S / j`` over the sorted ``Ps``, ``I`` the first with
``Ps_(I) >= p`` (1 when there is none). With no extent threshold and stationary extents
this is Benjamini-Hochberg over the listed clusters.

A cluster's extent in resels is ``K = k V2R`` with ``V2R = 1 / (FWHMx FWHMy FWHMz)``
(FWHM in voxels, the stationary case, SPM's default), or, with SPM's resels-per-voxel
image (``RPV.nii``; spm_list with ``stats.rft.nonstat``), the mean of the finite RPV
values over the cluster times the cluster's intrinsic volume
``IV = [R0, R1, R2, R3] . [1/2, 2/3, 2/3, 1]`` of its voxels at an FWHM of one voxel.

References: Friston KJ et al. (1994) Hum Brain Mapp 1:210-220; Worsley KJ et al.
(1996) Hum Brain Mapp 4:58-73; Hayasaka S et al. (2004) NeuroImage 22:676-687;
SPM12 spm_P_RF.m, spm_P.m, spm_list.m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .resels import resel_counts
from .rft import EC_FLOOR, ec_densities

#: Weights of the intrinsic volumes in spm_list's non-stationary cluster extent.
IV_WEIGHTS = np.array([0.5, 2.0 / 3.0, 2.0 / 3.0, 1.0])


def _resels4(resels) -> np.ndarray:
    r = np.asarray(resels, dtype=float).ravel()
    if r.size == 0 or r.size > 4 or not np.all(np.isfinite(r)):
        raise ValueError(f"resel counts must be 1 to 4 finite numbers, got {resels!r}")
    return np.pad(r, (0, 4 - r.size))


@dataclass(frozen=True)
class ClusterExpectations:
    """Expected number of clusters ``Ec`` and resels per cluster ``Ek`` at height ``u``.

    ``dimension`` is D (the index of the last non-zero resel count).
    """

    ec: float
    ek: float
    dimension: int


def cluster_expectations(u: float, resels, stat_type: str = "Z", df=None) -> ClusterExpectations:
    """``Ec`` and ``Ek`` of spm_P_RF at the cluster-forming height ``u``.

    Parameters
    ----------
    u : float
        Cluster-forming height (in the map's statistic).
    resels : array-like
        ``[R0, R1, R2, R3]`` of the search volume.
    stat_type : {"Z", "T", "F"}
    df : float or (float, float), optional

    Returns
    -------
    ClusterExpectations
    """
    r = _resels4(resels)
    nonzero = np.flatnonzero(r)
    if nonzero.size == 0:
        return ClusterExpectations(0.0, float("nan"), 0)
    d = int(nonzero[-1])
    rho = np.fmax(ec_densities(float(u), stat_type, df)[: d + 1], EC_FLOOR)
    ec = float(rho @ r[: d + 1])
    ek = float(rho[0] / rho[d]) if d > 0 else float("nan")
    return ClusterExpectations(ec, ek, d)


def p_extent_uncorrected(k_resels, expectations: ClusterExpectations) -> np.ndarray:
    """``p_k = exp(-beta K^(2/D))``: one cluster has at least ``K`` resels (1 when ``K = 0``)."""
    k = np.asarray(k_resels, dtype=float)
    d = expectations.dimension
    if d == 0:
        return np.ones(k.shape)
    beta = (special.gamma(d / 2.0 + 1.0) / expectations.ek) ** (2.0 / d)
    with np.errstate(invalid="ignore"):
        p = np.exp(-beta * np.power(np.maximum(k, 0.0), 2.0 / d))
    return np.where(k > 0, p, 1.0)


def p_clusters(c, k_resels, u: float, resels, stat_type: str = "Z", df=None):
    """Probability of at least ``c`` clusters of at least ``K`` resels above ``u`` (spm_P_RF).

    Parameters
    ----------
    c : int or array-like
        Number of clusters (1 for a cluster's FWE p).
    k_resels : float or array-like
        Extent in resels (0: any size).
    u : float
        Cluster-forming height.
    resels, stat_type, df
        As :func:`cluster_expectations`.

    Returns
    -------
    p_corrected : ndarray
        ``1 - PoissonCDF(c - 1; (Ec + eps) p_k)``.
    p_uncorrected : ndarray
        ``p_k``.
    """
    expect = cluster_expectations(u, resels, stat_type, df)
    p_k = p_extent_uncorrected(k_resels, expect)
    c = np.asarray(c, dtype=float)
    mean = (expect.ec + EC_FLOOR) * p_k
    return stats.poisson.sf(c - 1.0, mean), p_k


def set_level_p(n_clusters: int, extent_resels: float, u: float, resels, stat_type="Z",
                df=None) -> float:
    """Set-level p: at least ``n_clusters`` clusters of ``extent_resels`` or more (spm_P)."""
    if n_clusters <= 0:
        return 1.0
    p, _ = p_clusters(n_clusters, extent_resels, u, resels, stat_type, df)
    return float(p)


def topological_fdr(p, reference) -> np.ndarray:
    """SPM's q of uncorrected p values against a reference set (spm_P_FDR with ``Ps``).

    ``q = min over j >= I of Ps_(j) S / j`` with ``Ps`` the sorted reference, ``S`` its
    size and ``I`` the first index with ``Ps_(I) >= p``; 1 when no reference p is that
    large (or there is no reference).

    Parameters
    ----------
    p : array-like
        The p values to correct (a listed cluster's uncorrected p).
    reference : array-like
        The uncorrected p of every cluster in the search volume (spm_uc_clusterFDR).

    Returns
    -------
    ndarray
    """
    p = np.atleast_1d(np.asarray(p, dtype=float))
    ref = np.sort(np.asarray(reference, dtype=float).ravel())
    if ref.size == 0:
        return np.ones_like(p)
    q = ref * ref.size / np.arange(1, ref.size + 1)
    suffix_min = np.minimum.accumulate(q[::-1])[::-1]
    first = np.searchsorted(ref, p, side="left")
    return np.where(first < ref.size, suffix_min[np.minimum(first, ref.size - 1)], 1.0)


def intrinsic_volume(cluster_mask: np.ndarray) -> float:
    """Intrinsic volume of a cluster's voxels, ``[R0..R3] . [1/2, 2/3, 2/3, 1]`` at FWHM 1 voxel.

    spm_list's surface-corrected volume for the non-stationary cluster extent
    (``spm_resels([1 1 1], L, 'V') * [1/2 2/3 2/3 1]'``).
    """
    return float(resel_counts(cluster_mask, 1.0) @ IV_WEIGHTS)


def nonstationary_extent(cluster_mask: np.ndarray, rpv: np.ndarray, v2r: float) -> float:
    """Cluster extent in resels from SPM's resels-per-voxel image (spm_list, nonstat).

    ``mean(finite RPV over the cluster) * intrinsic_volume(cluster)``; without a finite
    RPV value the whole-volume ``v2r`` stands in, as in SPM.
    """
    values = np.asarray(rpv, dtype=float)[np.asarray(cluster_mask, dtype=bool)]
    values = values[np.isfinite(values)]
    lkc = float(values.mean()) if values.size else float(v2r)
    return intrinsic_volume(cluster_mask) * lkc


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class TablePeak:
    """One listed maximum of a cluster with its peak-level (voxel) statistics."""

    value: float
    z: float
    p_fwe: float
    p_uncorrected: float
    q_fdr: float
    xyz_mm: tuple[float, float, float]
    ijk: tuple[int, int, int]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "value": float(self.value), "z": float(self.z), "p_fwe": float(self.p_fwe),
            "p_uncorrected": float(self.p_uncorrected), "q_fdr": float(self.q_fdr),
            "xyz_mm": [float(v) for v in self.xyz_mm], "ijk": [int(v) for v in self.ijk],
        }


@dataclass(frozen=True)
class ClusterRow:
    """Cluster-level statistics of one cluster and its listed maxima (strongest first)."""

    index: int
    sign: int
    k: int
    k_resels: float
    p_fwe: float
    p_uncorrected: float
    q_fdr: float
    peaks: tuple[TablePeak, ...]

    @property
    def peak(self) -> TablePeak:
        """The cluster's strongest voxel."""
        return self.peaks[0]

    def to_dict(self) -> dict:
        """The keys ``milna svc`` adds to each cluster."""
        return {
            "k": int(self.k), "k_resels": float(self.k_resels), "p_fwe": float(self.p_fwe),
            "p_uncorrected": float(self.p_uncorrected), "q_fdr": float(self.q_fdr),
            "peak": self.peak.to_dict(), "maxima": [p.to_dict() for p in self.peaks],
        }


@dataclass(frozen=True)
class ResultsTable:
    """SPM's results table inside a search volume: set, cluster and peak level.

    Attributes
    ----------
    height : float
        Cluster-forming height u (map units); ``height_p`` its uncorrected p if given so.
    extent_voxels : int
        Extent threshold k in voxels; ``extent_resels`` = k V2R.
    n_clusters : int
        Clusters of at least ``extent_voxels`` voxels (both tails if two-sided).
    set_p : float
        Set-level p of ``n_clusters``.
    expected_clusters : float
        Ec at u (both tails if two-sided).
    expected_voxels_per_cluster : float
        Ek / V2R.
    resels_per_voxel : float
        V2R = 1 / prod(FWHM in voxels).
    extent_method : {"stationary", "non-stationary"}
        How cluster extents in resels were computed.
    clusters : tuple of ClusterRow
        Ordered as the SVC's clusters (by peak strength).
    max_peaks, min_distance_mm : int, float
        Maxima listed per cluster and their minimum distance.
    """

    height: float
    height_p: float | None
    extent_voxels: int
    extent_resels: float
    n_clusters: int
    set_p: float
    expected_clusters: float
    expected_voxels_per_cluster: float
    resels_per_voxel: float
    extent_method: str
    clusters: tuple[ClusterRow, ...]
    max_peaks: int = 3
    min_distance_mm: float = 8.0

    def cluster(self, index: int) -> ClusterRow | None:
        """The row of cluster ``index`` (None when below the extent threshold)."""
        return next((c for c in self.clusters if c.index == index), None)

    def to_dict(self) -> dict:
        """JSON-ready summary (set level, cluster-level settings, clusters by index)."""
        return {
            "set_level": {"c": int(self.n_clusters), "p": float(self.set_p)},
            "cluster_level": {
                "height": float(self.height),
                "height_p": self.height_p,
                "extent_voxels": int(self.extent_voxels),
                "extent_resels": float(self.extent_resels),
                "expected_clusters": float(self.expected_clusters),
                "expected_voxels_per_cluster": _finite(self.expected_voxels_per_cluster),
                "resels_per_voxel": float(self.resels_per_voxel),
                "extent_method": self.extent_method,
                "max_peaks": int(self.max_peaks),
                "min_distance_mm": float(self.min_distance_mm),
            },
        }

    def merge_into(self, summary: dict) -> dict:
        """Add the three levels to an SVC summary (``SvcResult.to_dict()``), in place.

        Adds ``set_level`` and ``cluster_level``; each entry of ``clusters`` gains
        ``k``, ``k_resels``, ``p_fwe``, ``p_uncorrected``, ``q_fdr``, ``peak`` and
        ``maxima``. Clusters below the extent threshold (and their peaks) are dropped.
        """
        summary.update(self.to_dict())
        rows = {c.index: c for c in self.clusters}
        summary["clusters"] = [
            dict(c, **rows[c["index"]].to_dict()) for c in summary.get("clusters", [])
            if c["index"] in rows
        ]
        summary["peaks"] = [p for p in summary.get("peaks", []) if p.get("cluster") in rows]
        return summary

    def to_frame(self):
        """SPM's table as a pandas DataFrame: one row per listed maximum.

        Set-level columns fill the first row only, cluster-level columns each cluster's
        first row (as SPM prints them).
        """
        import pandas as pd

        rows = []
        for c in self.clusters:
            for j, p in enumerate(c.peaks):
                first = j == 0
                rows.append({
                    "set_p": self.set_p if not rows else None,
                    "set_c": self.n_clusters if not rows else None,
                    "cluster": c.index,
                    "cluster_p_fwe": c.p_fwe if first else None,
                    "cluster_q_fdr": c.q_fdr if first else None,
                    "cluster_k": c.k if first else None,
                    "cluster_k_resels": c.k_resels if first else None,
                    "cluster_p_uncorrected": c.p_uncorrected if first else None,
                    "peak_p_fwe": p.p_fwe, "peak_q_fdr": p.q_fdr, "peak_value": p.value,
                    "peak_z": p.z, "peak_p_uncorrected": p.p_uncorrected,
                    "x_mm": p.xyz_mm[0], "y_mm": p.xyz_mm[1], "z_mm": p.xyz_mm[2],
                })
        if not rows:
            rows.append({"set_p": self.set_p, "set_c": self.n_clusters})
        return pd.DataFrame(rows)


def _finite(v: float):
    return float(v) if np.isfinite(v) else None


def results_table(
    result,
    grid,
    *,
    extent_voxels: int = 0,
    rpv: np.ndarray | None = None,
    max_peaks: int = 3,
    min_distance_mm: float = 8.0,
) -> ResultsTable:
    """SPM's set-, cluster- and peak-level table of a small-volume correction.

    Parameters
    ----------
    result : SvcResult
        From :func:`napari_milna.core.svc.correction.small_volume_correction`: its
        search voxels, cluster-forming height, connectivity, resels and p values.
    grid : Grid
        The map's grid (voxel positions in mm).
    extent_voxels : int
        Extent threshold k (voxels): smaller clusters are left out (SPM's k).
    rpv : 3D array, optional
        SPM's resels-per-voxel image on ``grid``: cluster extents are then computed
        non-stationarily (spm_list with ``stats.rft.nonstat``).
    max_peaks : int
        Maxima listed per cluster (SPM's results default 3).
    min_distance_mm : float
        Their minimum distance (SPM's results default 8 mm).

    Returns
    -------
    ResultsTable
    """
    from .peaks import find_clusters, local_maxima, select_maxima
    from .stat_values import equivalent_z

    if extent_voxels < 0:
        raise ValueError("the extent threshold must be 0 or more voxels")
    ijk = np.asarray(result.voxel_ijk, dtype=int)
    lo = ijk.min(axis=0)
    shape = tuple(ijk.max(axis=0) - lo + 1)
    local = ijk - lo
    values = np.full(shape, -np.inf)
    values[tuple(local.T)] = result.voxel_values
    index_map = np.full(shape, -1, dtype=np.int64)
    index_map[tuple(local.T)] = np.arange(ijk.shape[0])
    search = index_map >= 0
    stat_type, df, u = result.stat_type, result.df, float(result.height_threshold)
    fwhm = np.asarray(result.smoothness.fwhm_voxels, dtype=float)
    v2r = float(1.0 / np.prod(fwhm))
    expect = cluster_expectations(u, result.resels, stat_type, df)
    tails = 2.0 if result.two_sided else 1.0
    ec = tails * expect.ec
    box = tuple(slice(int(a), int(a) + n) for a, n in zip(lo, shape))
    rpv_box = None if rpv is None else np.asarray(rpv, dtype=float)[box]

    def voxel_peak(i: int, sign: int) -> TablePeak:
        v = float(result.voxel_values[i])
        z = float(equivalent_z(abs(v) if result.two_sided else v, stat_type, df))
        return TablePeak(
            v, sign * z if result.two_sided else z, float(result.voxel_p_fwe[i]),
            float(result.voxel_p_uncorrected[i]), float(result.voxel_q_fdr[i]),
            tuple(float(x) for x in grid.to_world(ijk[i])), tuple(int(x) for x in ijk[i]),
        )

    maps = {}
    for sign in ((1, -1) if result.two_sided else (1,)):
        vals = np.where(search, sign * np.where(np.isfinite(values), values, 0.0), -np.inf)
        supra = search & (vals >= u)
        maps[sign] = (vals, supra, find_clusters(vals, supra, result.connectivity))

    # spm_uc_clusterFDR: every cluster at height u in the search volume, stationary extents
    sizes = np.concatenate([np.asarray(cmap.n_voxels, dtype=float) for *_, cmap in maps.values()])
    reference_p = p_extent_uncorrected(sizes * v2r, expect)

    rows = []
    for cl in result.clusters:
        vals, supra, cmap = maps[cl.sign]
        label = int(cmap.labels[tuple(np.asarray(cl.peak_ijk) - lo)])
        members = cmap.labels == label
        k = int(members.sum())
        if k < extent_voxels:
            continue
        if rpv_box is None:
            k_resels = k * v2r
        else:
            k_resels = nonstationary_extent(members, rpv_box, v2r)
        maxima = local_maxima(vals, members & supra, result.connectivity)
        world = grid.to_world(maxima + lo)
        chosen = select_maxima(maxima, vals[tuple(maxima.T)], world,
                               np.zeros(len(maxima), dtype=int), min_distance_mm, max_peaks)
        peaks = tuple(voxel_peak(int(index_map[tuple(maxima[c])]), cl.sign) for c in chosen)
        rows.append((cl.index, cl.sign, k, k_resels, peaks))

    if rows:
        k_res = np.array([r[3] for r in rows])
        expect_mean = (ec + EC_FLOOR) * p_extent_uncorrected(k_res, expect)
        p_fwe = stats.poisson.sf(0.0, expect_mean)
        p_unc = p_extent_uncorrected(k_res, expect)
        q = topological_fdr(p_unc, reference_p)
    clusters = tuple(
        ClusterRow(r[0], r[1], r[2], float(r[3]), float(p_fwe[n]), float(p_unc[n]),
                   float(q[n]), r[4])
        for n, r in enumerate(rows)
    )
    extent_resels = extent_voxels * v2r
    n_clusters = len(clusters)
    if n_clusters:
        p_k = p_extent_uncorrected(extent_resels, expect)
        set_p = float(stats.poisson.sf(n_clusters - 1.0, (ec + EC_FLOOR) * p_k))
    else:
        set_p = 1.0
    return ResultsTable(
        height=u,
        height_p=result.height_p,
        extent_voxels=int(extent_voxels),
        extent_resels=float(extent_resels),
        n_clusters=n_clusters,
        set_p=set_p,
        expected_clusters=float(ec),
        expected_voxels_per_cluster=float(expect.ek / v2r),
        resels_per_voxel=v2r,
        extent_method="stationary" if rpv is None else "non-stationary",
        clusters=clusters,
        max_peaks=int(max_peaks),
        min_distance_mm=float(min_distance_mm),
    )


def level_columns(summary: dict, rows: list[dict], common: dict) -> tuple[list[dict], dict]:
    """SPM's set and cluster levels in the SVC table (:func:`.export.result_rows`).

    Every row gains ``set_c``, ``set_p``, ``extent_voxels`` and ``extent_method``; each
    ``cluster`` row its ``k_resels``, ``cluster_p_fwe``, ``cluster_p_uncorrected`` and
    ``cluster_q_fdr``. The peak level is the table's ``peak`` / ``max`` rows. A summary
    without the levels is returned unchanged.
    """
    if "set_level" not in summary:
        return rows, common
    level = summary["cluster_level"]
    common = dict(common, set_c=summary["set_level"]["c"], set_p=summary["set_level"]["p"],
                  extent_voxels=level["extent_voxels"], extent_method=level["extent_method"])
    by_index = {c["index"]: c for c in summary["clusters"]}
    out = []
    for row in rows:
        cluster = by_index.get(row.get("cluster")) if row.get("row") == "cluster" else None
        if cluster is not None:
            row = dict(row, k_resels=cluster["k_resels"], cluster_p_fwe=cluster["p_fwe"],
                       cluster_p_uncorrected=cluster["p_uncorrected"],
                       cluster_q_fdr=cluster["q_fdr"])
        out.append(row)
    return out, common
