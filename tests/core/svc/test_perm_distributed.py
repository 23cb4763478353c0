"""Distributed sign flips give the single-process result exactly (same seed)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_milna.core.svc.perm_distributed import _split, distributed_sign_flip_test
from napari_milna.core.svc.permutation import block_size, flip_blocks, sign_flip_test


def _data(n=9, v=300, seed=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, v))
    x[:, :20] += 0.8
    return x


def _same(a, b):
    np.testing.assert_array_equal(a.p_fwe, b.p_fwe)
    np.testing.assert_array_equal(a.p_uncorrected, b.p_uncorrected)
    np.testing.assert_array_equal(a.max_null, b.max_null)
    np.testing.assert_array_equal(a.t, b.t)
    assert a.n_perm == b.n_perm and a.exhaustive == b.exhaustive


def test_split_keeps_every_block_in_order():
    blocks = flip_blocks(12, 50_000, True, 0, None)
    for parts in (1, 2, 3, 7, 100):
        runs = _split(blocks, parts)
        assert [b for run in runs for b in run] == blocks
        assert 1 <= len(runs) <= parts
    assert sum(block_size(b) for b in blocks) == 2**12


@pytest.mark.parametrize("two_sided", [False, True])
def test_sync_shares_equal_single_process(two_sided):
    x = _data()
    for n_perm in (0, 700):  # all 512 flips; 700 > 512 is exhaustive too
        _same(distributed_sign_flip_test(x, n_perm, seed=1, two_sided=two_sided,
                                         scheduler="sync", n_workers=3),
              sign_flip_test(x, n_perm, seed=1, two_sided=two_sided))
    x = _data(n=14, v=2000)  # random flips: drawn in blocks in the coordinator
    _same(distributed_sign_flip_test(x, 3000, seed=7, two_sided=two_sided, scheduler="sync",
                                     n_workers=4),
          sign_flip_test(x, 3000, seed=7, two_sided=two_sided))


def test_local_cluster_of_two_processes_equals_single_process():
    distributed = pytest.importorskip("distributed")
    x = _data(n=14, v=3000, seed=9)
    single = sign_flip_test(x, 2500, seed=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        spread = distributed_sign_flip_test(x, 2500, seed=3, scheduler=cluster.scheduler_address)
    _same(spread, single)
