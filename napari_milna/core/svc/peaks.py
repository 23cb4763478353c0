"""Clusters and local maxima of a thresholded map, as SPM's results table finds them.

* Clusters: connected components of the supra-threshold voxels. SPM labels with
  18-connectivity (spm_bwlabel(..., 18) in spm_max): voxels sharing a face or an
  edge are connected, voxels touching only at a corner are not. 6 and 26 are
  offered as well.
* Local maxima: a supra-threshold voxel is a maximum when no neighbour (same
  connectivity) inside the supra-threshold set has a strictly larger value
  (spm_get_lm); equal neighbours are both maxima.
* Listing: per cluster, maxima sorted by value; the first is kept, then each next
  one that lies more than ``min_distance_mm`` from every maximum already kept, up
  to ``max_per_cluster`` (spm_list; SPM's small-volume defaults are 4 mm and 16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Neighbourhood rank for scipy's generate_binary_structure, per connectivity.
_RANK = {6: 1, 18: 2, 26: 3}


def structure(connectivity: int) -> np.ndarray:
    """3 x 3 x 3 neighbourhood for 6-, 18- or 26-connectivity."""
    if connectivity not in _RANK:
        raise ValueError(f"connectivity must be 6, 18 or 26, got {connectivity!r}")
    return ndimage.generate_binary_structure(3, _RANK[connectivity])



def strongest(values: np.ndarray, two_sided: bool = False) -> int:
    """Index of the strongest value: the largest, or the largest ``|value|`` if two-sided.

    NaNs are passed over.
    """
    return int(np.nanargmax(np.abs(values) if two_sided else values))

@dataclass(frozen=True)
class ClusterMap:
    """Labelled supra-threshold voxels.

    Attributes
    ----------
    labels : ndarray of int
        0 outside, 1..n inside, ordered by decreasing peak value.
    n_voxels : ndarray of int, shape (n,)
    peak_value : ndarray, shape (n,)
    peak_ijk : ndarray of int, shape (n, 3)
    """

    labels: np.ndarray
    n_voxels: np.ndarray
    peak_value: np.ndarray
    peak_ijk: np.ndarray

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.n_voxels.size)


def find_clusters(values: np.ndarray, supra: np.ndarray, connectivity: int = 18) -> ClusterMap:
    """Connected components of ``supra`` ordered by their maximum of ``values``.

    Parameters
    ----------
    values : 3D array
        Map values (higher is stronger).
    supra : 3D bool array
        Supra-threshold voxels.
    connectivity : {6, 18, 26}
    """
    labels, n = ndimage.label(supra, structure=structure(connectivity))
    if n == 0:
        empty = np.zeros(0)
        return ClusterMap(labels, empty.astype(int), empty, np.zeros((0, 3), dtype=int))
    index = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(np.ones(labels.shape), labels, index).astype(int)
    vals = np.where(supra, values, -np.inf)
    peak_pos = ndimage.maximum_position(vals, labels, index)
    peak_val = np.array([vals[p] for p in peak_pos])
    order = np.argsort(-peak_val, kind="stable")
    relabel = np.zeros(n + 1, dtype=labels.dtype)
    relabel[order + 1] = np.arange(1, n + 1)
    return ClusterMap(
        relabel[labels], sizes[order], peak_val[order], np.array(peak_pos, dtype=int)[order]
    )


def local_maxima(values: np.ndarray, supra: np.ndarray, connectivity: int = 18) -> np.ndarray:
    """Voxel indices (n, 3) of local maxima of ``values`` within ``supra`` (spm_get_lm)."""
    vals = np.where(supra, values, -np.inf)
    neighbourhood_max = ndimage.maximum_filter(
        vals, footprint=structure(connectivity), mode="constant", cval=-np.inf
    )
    return np.argwhere(supra & (vals >= neighbourhood_max))


def select_maxima(
    ijk: np.ndarray,
    values: np.ndarray,
    xyz_mm: np.ndarray,
    cluster: np.ndarray,
    min_distance_mm: float = 4.0,
    max_per_cluster: int = 16,
) -> np.ndarray:
    """Indices into the maxima to list, cluster by cluster (spm_list's rule).

    Parameters
    ----------
    ijk : ndarray (n, 3)
        Maxima voxel indices (unused except for a stable order).
    values : ndarray (n,)
        Their values (higher first).
    xyz_mm : ndarray (n, 3)
        Their world positions.
    cluster : ndarray (n,)
        Cluster label of each maximum (1 = strongest cluster).
    min_distance_mm : float
        A maximum is listed only if farther than this from every listed maximum of
        its cluster.
    max_per_cluster : int

    Returns
    -------
    ndarray of int
        Indices, ordered by cluster then by decreasing value.
    """
    keep: list[int] = []
    for c in np.unique(cluster):
        members = np.flatnonzero(cluster == c)
        order = members[np.lexsort((ijk[members, 2], ijk[members, 1], ijk[members, 0],
                                    -values[members]))]
        chosen: list[int] = []
        for m in order:
            if len(chosen) >= max_per_cluster:
                break
            if chosen:
                d = np.sqrt(((xyz_mm[chosen] - xyz_mm[m]) ** 2).sum(axis=1))
                if d.min() <= min_distance_mm:
                    continue
            chosen.append(int(m))
        keep.extend(chosen)
    return np.asarray(keep, dtype=int)
