"""Threshold-free cluster enhancement (Smith & Nichols 2009) and its sign-flip FWE test.

``TFCE(v) = sum over heights h of e(h)^E h^H``, ``e(h)`` the size (voxels) of the
cluster that holds ``v`` among the voxels at or above ``h``; ``E = 0.5``, ``H = 2`` and
26-connectivity are FSL randomise ``-T``'s defaults for 3-D maps. The heights are
``h_k = k max / n_steps`` (k = 1..n_steps, 100 steps by default, each map its own
maximum) as fslmaths and nilearn do, or steps close to a fixed ``dh``. Like fslmaths and
nilearn the terms are not multiplied by the step (Smith & Nichols multiply by ``dh``,
a constant factor once ``dh`` is fixed; ``weight_by_step=True`` does so). Positive and
negative tails are enhanced separately; two-sided tests use ``|TFCE|``.

The FWE test flips the signs of subjects' images (one-sample t, or paired differences)
exactly as :func:`napari_milna.core.svc.permutation.sign_flip_test` does (the same
flips for the same seed), computes the TFCE map of each flipped t map inside the search
voxels and keeps its maximum: a voxel's FWE p is the share of flips whose maximum
reaches its TFCE (randomise's ``tfce_corrp``, as p rather than 1 - p). Many flips are
enhanced at once: their maps are stacked along a fourth axis that the cluster
labelling does not connect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..errors import input_error
from ..jobs import Progress
from .peaks import strongest, structure
from .permutation import (
    MIN_SUBJECTS,
    FlipTest,
    _t_from_r,
    block_flips,
    block_size,
    flip_blocks,
    flip_p,
    flip_plan,
    normalised_subjects,
    report_flips,
)

#: FSL randomise -T defaults (3-D).
TFCE_E = 0.5
TFCE_H = 2.0
TFCE_CONNECTIVITY = 26
TFCE_STEPS = 100
#: Enumerate every flip for TFCE when there are at most this many (15 subjects: 32768);
#: each flip costs a TFCE map, so fewer than for the max-t test.
TFCE_EXHAUSTIVE_LIMIT = 2**15
#: Bytes of one batch of stacked maps.
BATCH_BYTES = 32 * 2**20


def _heights(peak: np.ndarray, n_steps: int, dh: float | None):
    """Per map (P,), its heights as (n, P), 0 where a map has fewer steps.

    ``linspace(0, peak, n + 1)[1:]`` with ``n = n_steps``, or with a step near ``dh``:
    ``n = round(peak / dh)`` (nilearn's rule).
    """
    if dh is None:
        return np.linspace(0.0, peak, n_steps + 1)[1:]
    steps = np.maximum(np.rint(peak / float(dh)), 1).astype(int)
    k = np.arange(1, int(steps.max()) + 1)[:, None]
    return np.where(k <= steps[None, :], k * (peak / steps)[None, :], 0.0)


def tfce_batch(
    maps: np.ndarray,
    *,
    E: float = TFCE_E,
    H: float = TFCE_H,
    connectivity: int = TFCE_CONNECTIVITY,
    n_steps: int = TFCE_STEPS,
    dh: float | None = None,
    weight_by_step: bool = False,
    top: np.ndarray | None = None,
) -> np.ndarray:
    """TFCE of the positive part of each 3-D map in a stack ``(P, i, j, k)``.

    Voxels at or below zero (and NaN) get 0. Each map's heights run up to its own
    maximum (or to ``top[p]``, e.g. the maximum of ``|map|`` for two-sided tests) in
    ``n_steps`` steps, or in steps close to ``dh`` (``round(top / dh)`` of them).
    """
    m = np.nan_to_num(np.asarray(maps, dtype=float), nan=0.0)
    if m.ndim == 3:
        return tfce_batch(m[None], E=E, H=H, connectivity=connectivity, n_steps=n_steps,
                          dh=dh, weight_by_step=weight_by_step,
                          top=None if top is None else np.atleast_1d(top))[0]
    out = np.zeros(m.shape)
    n_maps = m.shape[0]
    if n_maps == 0:
        return out
    peak = m.reshape(n_maps, -1).max(axis=1) if top is None else np.asarray(top, float)
    peak = np.maximum(peak, 0.0)
    heights = _heights(peak, n_steps, dh)
    conn = np.zeros((3, 3, 3, 3), dtype=bool)
    conn[1] = structure(connectivity)
    expand = (slice(None),) + (None,) * 3
    for h in heights:
        active = h > 0
        if not active.any():
            continue
        supra = (m >= h[expand]) & (m > 0) & active[expand]
        labels, n = ndimage.label(supra, structure=conn)
        if n == 0:
            continue
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        term = sizes[labels] ** E * np.where(supra, h[expand], 0.0) ** H
        if weight_by_step:
            step = peak / (n_steps if dh is None else np.maximum(np.rint(peak / dh), 1))
            term = term * step[expand]
        out += np.where(supra, term, 0.0)
    return out


def tfce_map(values: np.ndarray, mask: np.ndarray | None = None, *, two_sided: bool = False,
             **kwargs) -> np.ndarray:
    """TFCE of one 3-D statistic map inside ``mask`` (positive tail; signed if two-sided).

    Parameters
    ----------
    values : 3D array
    mask : 3D bool array, optional
        Voxels that may belong to clusters (the ROI); others count as background.
    two_sided : bool
        Also enhance the negative tail (returned negative, as nilearn does).
    **kwargs
        ``E``, ``H``, ``connectivity``, ``n_steps``, ``dh``, ``weight_by_step``
        (:func:`tfce_batch`).
    """
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    if mask is not None:
        v = np.where(np.asarray(mask, dtype=bool), v, 0.0)
    if not two_sided:
        return tfce_batch(v[None], **kwargs)[0]
    # both tails share the heights up to max |value| (nilearn's two-sided steps)
    top = np.array([np.abs(v).max()])
    return tfce_batch(v[None], top=top, **kwargs)[0] - tfce_batch(-v[None], top=top,
                                                                  **kwargs)[0]


@dataclass(frozen=True, kw_only=True)
class TfceResult(FlipTest):
    """Observed TFCE over the search voxels and its sign-flip FWE p values (:class:`FlipTest`).

    ``p_fwe`` is each voxel's TFCE against the max-TFCE of every flip; ``max_null`` holds
    those maxima (``|TFCE|`` if two-sided).

    Attributes
    ----------
    tfce : ndarray (V,)
        Observed TFCE (signed when two-sided).
    settings : dict
        E, H, connectivity, n_steps, dh.
    """

    tfce: np.ndarray = field(repr=False)
    settings: dict = field(default_factory=dict)

    @property
    def peak_index(self) -> int:
        """Voxel with the largest TFCE (``|TFCE|`` if two-sided)."""
        return strongest(self.tfce, self.two_sided)

    def to_dict(self) -> dict:
        """JSON-ready summary: ``peak_value``, ``p_fwe`` and the peak's index."""
        i = self.peak_index
        return {
            "peak_value": float(self.tfce[i]),
            "p_fwe": float(self.p_fwe[i]),
            "t": float(self.t[i]),
            "index": i,
            **self.flip_facts(),
            **self.settings,
        }


def _box(kept: np.ndarray):
    idx = np.nonzero(kept)
    lo = np.array([int(i.min()) for i in idx])
    hi = np.array([int(i.max()) + 1 for i in idx])
    return lo, tuple(hi - lo)


def tfce_sign_flip_test(
    data: np.ndarray,
    kept: np.ndarray,
    *,
    n_perm: int = 0,
    seed: int | None = 0,
    two_sided: bool = False,
    E: float = TFCE_E,
    H: float = TFCE_H,
    connectivity: int = TFCE_CONNECTIVITY,
    n_steps: int = TFCE_STEPS,
    dh: float | None = None,
    exhaustive_limit: int = TFCE_EXHAUSTIVE_LIMIT,
    progress: Progress | None = None,
) -> TfceResult:
    """Sign-flip test of a one-sample t with max-TFCE FWE correction over the search voxels.

    Parameters
    ----------
    data : ndarray (n_subjects, V)
        Subject values of the search voxels, in the C order of ``kept``'s voxels
        (:func:`napari_milna.core.svc.permutation.subject_matrix`).
    kept : 3D bool array
        The search voxels (the ROI with data).
    n_perm, seed, two_sided, exhaustive_limit
        As :func:`napari_milna.core.svc.permutation.sign_flip_test` (same flips; every
        flip is enumerated up to 2^15 by default, else 10000 random flips).
    E, H, connectivity, n_steps, dh
        TFCE settings (FSL randomise -T: 0.5, 2, 26; 100 steps up to each map's maximum).
    progress : callable, optional
        ``progress(done, total)``; a true return value stops with :class:`Cancelled`.

    Returns
    -------
    TfceResult
    """
    x = np.asarray(data, dtype=np.float64)
    kept = np.asarray(kept, dtype=bool)
    n, n_vox = x.shape
    if n < MIN_SUBJECTS:
        raise input_error(None, f"a sign-flip permutation test needs at least {MIN_SUBJECTS} "
                          f"subject images, got {n}")
    if n_vox == 0 or int(kept.sum()) != n_vox:
        raise input_error(None, "the search voxels and the data columns do not match")
    xn = normalised_subjects(x)
    exhaustive, n_random = flip_plan(n, n_perm, exhaustive_limit)
    lo, shape = _box(kept)
    local = np.argwhere(kept) - lo
    flat = np.ravel_multi_index(tuple(local.T), shape)
    opts = {"E": E, "H": H, "connectivity": connectivity, "n_steps": n_steps, "dh": dh}

    def enhance(t_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TFCE over the search voxels of the positive and negative tails of each t row."""
        vol = np.zeros((t_rows.shape[0], int(np.prod(shape))))
        vol[:, flat] = t_rows
        vol = vol.reshape((t_rows.shape[0],) + shape)
        if two_sided:
            top = np.abs(t_rows).max(axis=1)
            pos = tfce_batch(vol, top=top, **opts)
            neg = tfce_batch(-vol, top=top, **opts)
        else:
            pos = tfce_batch(vol, **opts)
            neg = tfce_batch(-vol, **opts)
        size = t_rows.shape[0]
        return pos.reshape(size, -1)[:, flat], neg.reshape(size, -1)[:, flat]

    t_obs = _t_from_r((np.ones((1, n)) @ xn)[0], n)
    pos, neg = enhance(t_obs[None])
    tfce_obs = (pos - neg)[0] if two_sided else pos[0]
    key = np.abs(tfce_obs) if two_sided else tfce_obs
    rows = int(max(1, min(512, BATCH_BYTES // (8 * 6 * max(int(np.prod(shape)), 1)))))
    maxima: list[np.ndarray] = []
    done = 0
    total = 2**n if exhaustive else n_random

    def tally(flips: np.ndarray, mirrored: bool) -> None:
        t_rows = _t_from_r(flips @ xn, n)
        p, q = enhance(t_rows)
        if two_sided:
            peak = np.maximum(p.max(axis=1), q.max(axis=1))
            maxima.extend([peak, peak] if mirrored else [peak])
        else:
            maxima.append(p.max(axis=1))
            if mirrored:
                maxima.append(q.max(axis=1))

    for block in flip_blocks(n, n_vox, exhaustive, n_random, seed, rows=rows):
        tally(*block_flips(block, n))
        done += block_size(block)
        report_flips(progress, done, total)
    max_null = np.sort(np.concatenate(maxima))
    slack = 1e-10 * max(float(np.abs(key).max()), 1.0)
    n_ge = max_null.size - np.searchsorted(max_null, key - slack, side="left")
    p = flip_p(n_ge, n, exhaustive, n_random)
    settings = {"E": float(E), "H": float(H), "connectivity": int(connectivity),
                "n_steps": int(n_steps), "dh": dh}
    return TfceResult(t=t_obs, tfce=tfce_obs, p_fwe=p, max_null=max_null, n_perm=int(total),
                      n_subjects=n, exhaustive=bool(exhaustive), two_sided=bool(two_sided),
                      seed=None if exhaustive else seed, settings=settings)

