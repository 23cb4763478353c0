"""Sign-flip permutation test of a one-sample t (FSL randomise / SnPM style), max-statistic FWE.

Under the null hypothesis of a symmetric distribution about zero, flipping the sign
of any subject's image (a one-sample test, or a paired difference such as drug minus
placebo computed beforehand) leaves the data's distribution unchanged. The maximum
t over the search voxels, recomputed for every sign flip, gives the FWE null
distribution; a voxel's corrected p is the fraction of flips whose maximum reaches
its t.

* All ``2^N`` flips are enumerated when ``2^N`` is at most the limit (default 2^20):
  ``p = #{flips with max >= observed} / 2^N``, the identity included (exact test).
* Otherwise ``n`` random flips from a seeded generator:
  ``p = (1 + #{flips with max >= observed}) / (1 + n)``.
* One-sided (positive) by default, as randomise; two-sided uses ``max |t|``.

Speed: the sum of squares of each voxel does not change under sign flips, and the
one-sample t is an increasing function of ``r = sum_i s_i x_i / sqrt(sum_i x_i^2)``:
``t = r sqrt(N - 1) / sqrt(N - r^2)``. So the maxima of every flip in a block come
from one matrix product (flips x subjects) @ (subjects x voxels) of normalised data,
and t is computed for the maxima only. Enumeration uses both a flip and its mirror
image (all signs reversed, ``r -> -r``) from one product. Blocks bound memory.
Comparisons allow a 1e-10 slack in ``r`` so that ties in exact arithmetic stay ties.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from ..errors import input_error
from ..jobs import Cancelled, Progress
from .peaks import strongest

#: Fewest subjects a sign-flip test accepts (2^5 = 32 flips: smallest p is 1/32).
MIN_SUBJECTS = 5
#: Enumerate every flip when there are at most this many.
EXHAUSTIVE_LIMIT = 2**20
#: Random flips drawn when enumeration is too large and no number was asked for.
DEFAULT_RANDOM_FLIPS = 10000
#: Slack on r (which lies in [-sqrt(N), sqrt(N)]) in ">=" comparisons.
TIE_TOLERANCE = 1e-10
#: Memory for one block of flips x voxels values (bytes).
BLOCK_BYTES = 64 * 2**20



def one_sample_t(data: np.ndarray) -> np.ndarray:
    """One-sample t of each column of ``data`` (subjects x voxels), ddof 1."""
    x = np.asarray(data, dtype=float)
    n = x.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return x.mean(0) / (x.std(0, ddof=1) / np.sqrt(n))


def check_subject_variance(data: np.ndarray, owner: str | None = None) -> None:
    """Refuse voxels whose value is the same in every subject: their t is undefined.

    Identical subject images (or a constant value in every subject) have zero standard
    deviation, and a one-sample t there is ``mean / 0``: an infinite or astronomically
    large t with a meaningless p. The test is refused rather than run on them.

    Parameters
    ----------
    data : ndarray, shape (n_subjects, n_voxels)
    owner : str, optional
        How messages name the images (``"sub-01.nii.gz and the 7 other subject images"``).

    Raises
    ------
    MilnaInputError
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] == 0:
        return
    spread = np.ptp(x, axis=0)
    flat = spread <= 1e-12 * np.maximum(np.abs(x).max(axis=0), 1e-300)
    if flat.any():
        n_flat, n_vox = int(flat.sum()), x.shape[1]
        which = ("every search voxel" if n_flat == n_vox
                 else f"{n_flat} of the {n_vox} search voxels")
        raise input_error(
            None, f"{owner or 'the subject images'} have the same value in every subject in "
            f"{which} (zero variance: are the images identical?), so the one-sample t is "
            "undefined there")


def _t_from_r(r, n: int) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(n - 1.0) / np.sqrt(np.maximum(n - r * r, 0.0))
    return t


@dataclass(frozen=True)
class FlipTest:
    """What every sign-flip max-statistic test gives (:class:`SignFlipResult`, TFCE's too).

    Attributes
    ----------
    t : ndarray (V,)
        Observed one-sample t per voxel.
    p_fwe : ndarray (V,)
        FWE-corrected p (max statistic over the search voxels).
    max_null : ndarray
        Maximum statistic (its absolute value if two-sided) of every flip evaluated.
    n_subjects, n_perm : int
        ``n_perm`` is ``2^N`` when exhaustive, else the number of random flips.
    exhaustive, two_sided : bool
    seed : int or None
    """

    t: np.ndarray = field(repr=False)
    p_fwe: np.ndarray = field(repr=False)
    max_null: np.ndarray = field(repr=False)
    n_subjects: int = 0
    n_perm: int = 0
    exhaustive: bool = True
    two_sided: bool = False
    seed: int | None = None

    def flip_facts(self) -> dict:
        """JSON-ready ``n_perm``, ``exhaustive``, ``two_sided`` and ``seed``."""
        return {"n_perm": int(self.n_perm), "exhaustive": bool(self.exhaustive),
                "two_sided": bool(self.two_sided), "seed": self.seed}


@dataclass(frozen=True, kw_only=True)
class SignFlipResult(FlipTest):
    """Voxelwise sign-flip test of the one-sample t (:class:`FlipTest`, max t).

    Attributes
    ----------
    p_uncorrected : ndarray (V,)
        Voxelwise permutation p (NaN when not asked for).
    """

    p_uncorrected: np.ndarray = field(repr=False)

    @property
    def peak_index(self) -> int:
        """Voxel with the largest t (``|t|`` if two-sided)."""
        return strongest(self.t, self.two_sided)

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        i = self.peak_index
        return {
            "n_subjects": int(self.n_subjects),
            **self.flip_facts(),
            "n_voxels": int(self.t.size),
            "peak": {
                "t": float(self.t[i]),
                "p_fwe": float(self.p_fwe[i]),
                "p_uncorrected": float(self.p_uncorrected[i]),
                "index": i,
            },
        }


def _block_rows(n_voxels: int) -> int:
    return int(max(16, min(1024, BLOCK_BYTES // (24 * max(n_voxels, 1)))))


def _random_flips(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """``rows`` independent uniform sign vectors (the bits of uniform integers)."""
    if n <= 62:
        codes = rng.integers(0, 2**n, size=(rows, 1), dtype=np.int64)
        bits = (codes >> np.arange(n, dtype=np.int64)) & 1
    else:
        bits = rng.integers(0, 2, size=(rows, n))
    return 1.0 - 2.0 * bits


_CONTROLLER: list = []


def _single_threaded_blas():
    """Keep BLAS on one thread: the products are small and threads only contend."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return contextlib.nullcontext()
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _enumerated_flips(start: int, stop: int, n: int) -> np.ndarray:
    """Flips ``start..stop-1`` of the first half: subject n-1 keeps its sign."""
    k = np.arange(start, stop, dtype=np.int64)[:, None]
    bits = (k >> np.arange(n - 1, dtype=np.int64)) & 1
    flips = np.ones((stop - start, n))
    flips[:, : n - 1] = 1.0 - 2.0 * bits
    return flips


def sign_flip_test(
    data: np.ndarray,
    n_perm: int = 0,
    seed: int | None = 0,
    two_sided: bool = False,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
    progress: Progress | None = None,
    uncorrected: bool = True,
    runner=None,
) -> SignFlipResult:
    """Max-statistic sign-flip test of a one-sample t over the columns of ``data``.

    Parameters
    ----------
    data : ndarray, shape (n_subjects, n_voxels)
        One row per subject (contrast values or paired differences), finite.
    n_perm : int
        0: every flip when ``2^N <= exhaustive_limit``, else 10000 random flips.
        Otherwise: every flip when ``2^N <= n_perm``, else ``n_perm`` random flips.
    seed : int or None
        Seed of the random flips (ignored when enumerating).
    two_sided : bool
        Use ``max |t|`` and ``|t|`` (default: positive one-sided, as FSL randomise).
    exhaustive_limit : int
        Largest number of flips enumerated when ``n_perm`` is 0.
    progress : callable, optional
        ``progress(done, total)`` after every block of flips (from the calling thread).
        Return a true value, or raise, to stop: a true value raises
        :class:`Cancelled`.
    uncorrected : bool
        Also count voxelwise (uncorrected) p values (a little extra work per block).
    runner : callable, optional
        Evaluates the blocks of flips: ``runner(xn, blocks, key_obs, two_sided,
        uncorrected, progress, total)`` returns the maxima of every block in order and
        the voxel counts (:func:`run_blocks` in this process by default;
        :mod:`.perm_distributed` spreads them over a dask cluster).

    Returns
    -------
    SignFlipResult

    Raises
    ------
    MilnaInputError
        Fewer than :data:`MIN_SUBJECTS` subjects, or non-finite data.
    Cancelled
        When ``progress`` asked to stop.
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"data must be subjects x voxels, got shape {x.shape}")
    n, n_vox = x.shape
    if n < MIN_SUBJECTS:
        raise input_error(
            None, f"a sign-flip permutation test needs at least {MIN_SUBJECTS} subject images, "
            f"got {n}"
        )
    if n_vox == 0:
        raise input_error(None, "there is no voxel to test")
    xn = normalised_subjects(x)
    exhaustive, n_random = flip_plan(n, n_perm, exhaustive_limit)
    total_flips = 2**n
    r_obs = (np.ones((1, n)) @ xn)[0]
    key_obs = (np.abs(r_obs) if two_sided else r_obs) - TIE_TOLERANCE
    total = total_flips if exhaustive else n_random
    blocks = flip_blocks(n, n_vox, exhaustive, n_random, seed)
    run = runner or run_blocks
    maxima, counts = run(xn, blocks, key_obs, two_sided, uncorrected, progress, total)

    max_r = np.concatenate(maxima)
    sorted_max = np.sort(max_r)
    n_ge = sorted_max.size - np.searchsorted(sorted_max, key_obs, side="left")
    p_fwe = flip_p(n_ge, n, exhaustive, n_random)
    p_unc = flip_p(counts, n, exhaustive, n_random) if uncorrected else np.full(n_vox, np.nan)
    return SignFlipResult(
        t=_t_from_r(r_obs, n),
        p_fwe=p_fwe,
        p_uncorrected=p_unc,
        max_null=_t_from_r(max_r, n),
        n_subjects=n,
        n_perm=int(total),
        exhaustive=bool(exhaustive),
        two_sided=bool(two_sided),
        seed=None if exhaustive else seed,
    )


def normalised_subjects(x: np.ndarray) -> np.ndarray:
    """Subject data (subjects x voxels) checked, each voxel's column scaled to unit length.

    The one-sample t of a flip is a monotone function of the sum of the flipped
    normalised column (:func:`_t_from_r`); a column of zeros stays zero.

    Raises
    ------
    MilnaInputError
        Non-finite data, or subjects without variance (:func:`check_subject_variance`).
    """
    if not np.all(np.isfinite(x)):
        raise input_error(None, "the subject data hold NaN or infinite values")
    check_subject_variance(x)
    norm = np.sqrt((x * x).sum(0))
    return np.ascontiguousarray(np.divide(x, norm, out=np.zeros_like(x), where=norm > 0))


def flip_plan(n: int, n_perm: int, exhaustive_limit: int) -> tuple[bool, int]:
    """Whether all ``2^n`` sign flips are enumerated, and how many random flips otherwise.

    ``n_perm`` 0: every flip when ``2^n <= exhaustive_limit``, else
    :data:`DEFAULT_RANDOM_FLIPS` random flips. Otherwise: every flip when
    ``2^n <= n_perm``, else ``n_perm`` random flips.
    """
    total_flips = 2**n
    if n_perm == 0:
        exhaustive = total_flips <= exhaustive_limit
        return exhaustive, 0 if exhaustive else DEFAULT_RANDOM_FLIPS
    exhaustive = total_flips <= n_perm
    return exhaustive, 0 if exhaustive else int(n_perm)


def flip_p(n_ge, n: int, exhaustive: bool, n_random: int):
    """p from the count of flips reaching the observed statistic.

    Enumerated: ``n_ge / 2^n`` (the identity is among the flips); random:
    ``(1 + n_ge) / (1 + n_random)`` (FSL randomise, SnPM).
    """
    return n_ge / 2**n if exhaustive else (1.0 + n_ge) / (1.0 + n_random)


def report_flips(progress: Progress | None, done: int, total: int) -> None:
    """Report ``done`` of ``total`` flips; a true answer stops with :class:`Cancelled`."""
    if progress is not None and progress(done, total):
        raise Cancelled(f"stopped after {done} of {total} sign flips")


def flip_blocks(n: int, n_vox: int, exhaustive: bool, n_random: int, seed,
                rows: int | None = None) -> list:
    """The blocks of flips a test evaluates, in order.

    A block is ``("enumerated", start, stop)`` (flips ``start..stop-1`` of the first half
    and their mirrors) or ``("random", flips)`` of at most ``rows`` flips (default: what
    keeps a block of ``n_vox`` voxels in cache). Random flips are drawn here, block by
    block from one seeded generator, so the same seed gives the same flips however the
    blocks are sized or later spread over workers.
    """
    rows = rows or _block_rows(n_vox)
    if exhaustive:
        half = 2**n // 2
        return [("enumerated", start, min(start + rows, half))
                for start in range(0, half, rows)]
    rng = np.random.default_rng(seed)
    return [("random", _random_flips(rng, min(start + rows, n_random) - start, n))
            for start in range(0, n_random, rows)]


def block_flips(block, n: int) -> tuple[np.ndarray, bool]:
    """The sign matrix of one block and whether its mirror images count too."""
    if block[0] == "enumerated":
        return _enumerated_flips(block[1], block[2], n), True
    return block[1], False


def block_size(block) -> int:
    """Flips a block stands for (mirrors included)."""
    return 2 * (block[2] - block[1]) if block[0] == "enumerated" else block[1].shape[0]


#: Voxels and flips evaluated together: a (flips x voxels) product stays in cache.
VOXEL_CHUNK = 1024
FLIP_CHUNK = 256
#: Flips between two progress reports (the data are read once per group).
FLIP_GROUP = 16 * FLIP_CHUNK


def run_blocks(xn, blocks, key_obs, two_sided, uncorrected, progress=None, total=None):
    """Evaluate ``blocks`` in this process (single-threaded BLAS).

    The flips of all blocks are evaluated together in groups of :data:`FLIP_GROUP`, voxel
    chunk by voxel chunk, so the normalised data are read once per group and every product
    stays in cache; the maximum over the voxels is exact whatever the chunking. Progress
    is reported after each group.

    Returns
    -------
    maxima : list of ndarray
        Per block, the maximum r (``|r|`` if two-sided) of its flips, then of their
        mirrors (enumerated blocks).
    counts : ndarray of int
        Per voxel, the flips whose r reaches the observed one (uncorrected p).
    """
    n, n_vox = xn.shape
    counts = np.zeros(n_vox, dtype=np.int64)
    if not blocks:
        return [], counts
    parts = [block_flips(b, n) for b in blocks]
    mirrored = parts[0][1]
    flips = np.ascontiguousarray(np.vstack([f for f, _ in parts]))
    peak = np.full(flips.shape[0], -np.inf)
    low = np.full(flips.shape[0], np.inf)
    n_rows = flips.shape[0]
    with _single_threaded_blas():
        for g0 in range(0, n_rows, FLIP_GROUP):
            g1 = min(g0 + FLIP_GROUP, n_rows)
            for v0 in range(0, n_vox, VOXEL_CHUNK):
                cols = slice(v0, min(v0 + VOXEL_CHUNK, n_vox))
                xc = np.ascontiguousarray(xn[:, cols])
                key = key_obs[cols]
                for f0 in range(g0, g1, FLIP_CHUNK):
                    rows = slice(f0, min(f0 + FLIP_CHUNK, g1))
                    r = flips[rows] @ xc
                    if two_sided:
                        stat = np.abs(r)
                        np.maximum(peak[rows], stat.max(axis=1), out=peak[rows])
                        if uncorrected:
                            hits = np.add.reduce(stat >= key, axis=0, dtype=np.int64)
                            counts[cols] += 2 * hits if mirrored else hits
                        continue
                    np.maximum(peak[rows], r.max(axis=1), out=peak[rows])
                    if mirrored:
                        np.minimum(low[rows], r.min(axis=1), out=low[rows])
                    if uncorrected:
                        counts[cols] += np.add.reduce(r >= key, axis=0, dtype=np.int64)
                        if mirrored:
                            counts[cols] += np.add.reduce(r <= -key, axis=0, dtype=np.int64)
            report_flips(progress, g1 * (2 if mirrored else 1), total)
    maxima, at = [], 0
    for f, _ in parts:
        sel = slice(at, at + f.shape[0])
        at += f.shape[0]
        if not mirrored:
            maxima.append(peak[sel])
        elif two_sided:  # a mirrored flip has the same |r|: it counts twice
            maxima.append(np.concatenate([peak[sel], peak[sel]]))
        else:
            maxima.append(np.concatenate([peak[sel], -low[sel]]))
    return maxima, counts

def subject_matrix(volumes, search: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subjects x voxels matrix of the ``search`` voxels that have data in every subject.

    A voxel is kept when every subject's value is finite and not every value is zero
    (zero everywhere is FSL's "outside the mask").

    Parameters
    ----------
    volumes : sequence of 3D arrays
        One image per subject, all on one grid.
    search : 3D bool array
        ROI (or whole-brain mask).

    Returns
    -------
    data : ndarray (n_subjects, n_kept)
    kept : 3D bool array
        The voxels kept, in the C order of ``data``'s columns.
    """
    search = np.asarray(search, dtype=bool)
    idx = np.flatnonzero(search)
    data = np.stack([np.asarray(v, dtype=np.float64).ravel()[idx] for v in volumes])
    ok = np.all(np.isfinite(data), axis=0) & np.any(data != 0, axis=0)
    kept = np.zeros(search.shape, dtype=bool)
    kept.ravel()[idx[ok]] = True
    return data[:, ok], kept
