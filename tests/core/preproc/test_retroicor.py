"""RETROICOR regressors, their column order, and the partial R^2 map."""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.preproc.physio import read_bids_physio
from napari_milna.core.preproc.retroicor import (
    FourierOrders,
    compute_retroicor,
    drift_design,
    retroicor_columns,
    retroicor_regressors,
    retroicor_variance_map,
    write_regressors,
)
from tests.synth.physio import write_bids_physio

EXPECTED_COLUMNS = (
    [f"cardiac_cos{k}" for k in (1, 2, 3)] + [f"cardiac_sin{k}" for k in (1, 2, 3)]
    + [f"resp_cos{k}" for k in (1, 2, 3, 4)] + [f"resp_sin{k}" for k in (1, 2, 3, 4)]
    + ["inter_cos_plus", "inter_sin_plus", "inter_cos_minus", "inter_sin_minus"]
)


def test_columns_and_values_in_order():
    assert retroicor_columns() == EXPECTED_COLUMNS
    phi_c, phi_r = np.array([0.3, 2.0]), np.array([-1.0, 0.5])
    regs = retroicor_regressors(phi_c, phi_r)
    assert regs.shape == (2, 18)
    c, r = phi_c[1], phi_r[1]
    by_hand = [np.cos(c), np.cos(2 * c), np.cos(3 * c), np.sin(c), np.sin(2 * c), np.sin(3 * c),
               np.cos(r), np.cos(2 * r), np.cos(3 * r), np.cos(4 * r),
               np.sin(r), np.sin(2 * r), np.sin(3 * r), np.sin(4 * r),
               np.cos(c + r), np.sin(c + r), np.cos(c - r), np.sin(c - r)]
    np.testing.assert_allclose(regs[1], by_hand)


def test_orders_set_the_column_count():
    orders = FourierOrders(2, 1, 0)
    assert retroicor_columns(orders) == ["cardiac_cos1", "cardiac_cos2", "cardiac_sin1",
                                         "cardiac_sin2", "resp_cos1", "resp_sin1"]
    assert retroicor_regressors(np.zeros(4), np.zeros(4), orders).shape == (4, 6)
    two = FourierOrders(1, 1, 2)
    assert two.n_regressors == 12 and retroicor_columns(two)[-4:] == [
        "inter_cos_plus2", "inter_sin_plus2", "inter_cos_minus2", "inter_sin_minus2"]


def test_compute_from_bids_physio_samples_the_slice_time(tmp_path):
    path, beats, theta, t = write_bids_physio(tmp_path, duration=130.0, start_time=-3.0)
    rec = read_bids_physio(path)
    tr, n, slice_time = 2.0, 60, 0.7
    calls = []
    result = compute_retroicor(rec, n, tr, slice_time=slice_time,
                               progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    times = np.arange(n) * tr + slice_time
    np.testing.assert_allclose(result.sample_times, times)
    # Cardiac phase against the true beats (detection is within a sample or so).
    k = np.searchsorted(beats, times, side="right") - 1
    truth = 2 * np.pi * (times - beats[k]) / (beats[k + 1] - beats[k])
    d = np.angle(np.exp(1j * (result.cardiac_phase - truth)))
    assert np.max(np.abs(d)) < 0.25
    assert result.columns == EXPECTED_COLUMNS and result.regressors.shape == (n, 18)
    np.testing.assert_allclose(result.regressors[:, 0], np.cos(result.cardiac_phase))
    np.testing.assert_allclose(result.regressors[:, 14],
                               np.cos(result.cardiac_phase + result.respiratory_phase))
    out = write_regressors(result, tmp_path / "retro.tsv")
    back = pd.read_csv(out, sep="\t")
    assert list(back.columns) == EXPECTED_COLUMNS
    np.testing.assert_allclose(back.to_numpy(), result.regressors, rtol=1e-8, atol=1e-9)
    with pytest.raises(MilnaInputError, match="already exists"):
        write_regressors(result, out)


def test_physio_shorter_than_run_is_refused(tmp_path):
    path, *_ = write_bids_physio(tmp_path, duration=60.0, start_time=0.0)
    rec = read_bids_physio(path)
    with pytest.raises(MilnaInputError, match=r"physio\.tsv\.gz: is shorter than the run"):
        compute_retroicor(rec, 40, 2.0)


def _run_file(tmp_path, data, tr=2.0):
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = tr
    path = tmp_path / "run_bold.nii.gz"
    nib.save(img, path)
    return path


def test_partial_r2_matches_direct_lstsq(tmp_path):
    rng = np.random.default_rng(11)
    n, tr = 90, 2.0
    shape = (4, 3, 3)
    phi_c = rng.uniform(0, 2 * np.pi, n)
    phi_r = rng.uniform(-np.pi, np.pi, n)
    retro = retroicor_regressors(phi_c, phi_r)
    task = (np.arange(n) // 8 % 2).astype(float)[:, None]
    weights = rng.normal(0, 1, (18,) + shape) * np.linspace(0, 3, shape[0])[:, None, None]
    data = 1000 + rng.normal(0, 2, shape + (n,))
    data += np.einsum("tp,pijk->ijkt", retro, weights) + 5 * task[:, 0]
    data[0, 0, 0] = 0.0  # outside the default mask
    run = open_nifti(_run_file(tmp_path, data, tr)).run()
    calls = []
    keep = np.ones(n, bool)
    keep[[5, 6, 40]] = False
    vmap = retroicor_variance_map(run, retro, base=task, chunk_volumes=7, sample_mask=keep,
                                  progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (n, n) and len(calls) == 13
    x_base = np.hstack([drift_design(n, tr), task])[keep]
    x_full = np.hstack([x_base, retro[keep]])
    y = data.reshape(-1, n)[:, keep].T.astype(np.float32).astype(float)
    rss = [np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2, axis=0)
           for x in (x_base, x_full)]
    with np.errstate(invalid="ignore"):
        expected = ((rss[0] - rss[1]) / rss[0]).reshape(shape)
    assert np.isnan(vmap.partial_r2[0, 0, 0])
    expected[0, 0, 0] = np.nan
    np.testing.assert_allclose(vmap.partial_r2, expected, rtol=1e-6, atol=1e-7)
    assert vmap.n_volumes_used == n - 3 and vmap.rank_full == vmap.rank_base + 18
