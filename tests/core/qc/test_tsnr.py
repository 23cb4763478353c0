import numpy as np
import pytest
from scipy.special import eval_legendre

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.nifti import open_nifti
from napari_milna.core.jobs import Cancelled
from napari_milna.core.qc import tsnr as T
from tests.synth.qc import make_run, save


def _nipype_detrended(x, degree):
    """nipype regress_poly(degree, remove_mean=False), built with scipy's Legendre."""
    n = x.shape[-1]
    grid = np.linspace(-1, 1, n)
    design = np.column_stack([eval_legendre(k, grid) for k in range(degree + 1)])
    y = x.reshape(-1, n).T
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    detrended = y - design[:, 1:] @ beta[1:]
    return detrended.T.reshape(x.shape)


def _tsnr(mean, std):
    return np.where(std > 1e-3, mean / np.where(std > 1e-3, std, 1), 0.0)


@pytest.fixture
def run_file(tmp_path):
    data = make_run(37, drift=60.0)
    data[0, 0, 0, :] = 700  # constant voxel in the background
    return save(tmp_path / "run_bold.nii.gz", data), data.astype(np.float64)


@pytest.mark.parametrize("chunk", [1, 5, 37])
def test_mean_std_match_numpy_on_the_whole_array(run_file, chunk):
    path, x = run_file
    stats = T.temporal_stats(path, chunk_volumes=chunk)
    np.testing.assert_allclose(stats.mean, x.mean(-1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(stats.std, x.std(-1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(stats.tsnr, _tsnr(x.mean(-1), x.std(-1)), rtol=1e-12, atol=1e-9)
    assert stats.tsnr[0, 0, 0] == 0  # zero variance -> tSNR 0
    assert stats.n_volumes == 37 and stats.detrend == 0


def test_large_mean_small_std_is_stable(tmp_path):
    # int16 near the top of the range, std ~ 1: float32 sums of squares would lose it all
    rng = np.random.default_rng(3)
    x = (32000 + rng.integers(-2, 3, size=(4, 5, 6, 200))).astype(np.int16)
    path = save(tmp_path / "bright_bold.nii.gz", x)
    stats = T.temporal_stats(path, chunk_volumes=7)
    ref = x.astype(np.float64)
    np.testing.assert_allclose(stats.std, ref.std(-1), rtol=1e-10)
    np.testing.assert_allclose(stats.mean, ref.mean(-1), rtol=1e-14)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_detrend_matches_nipype_regress_poly_by_lstsq(run_file, degree):
    path, x = run_file
    det = _nipype_detrended(x, degree)
    stats = T.temporal_stats(path, detrend=degree, chunk_volumes=6)
    np.testing.assert_allclose(stats.std, det.std(-1), rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(stats.detrended_mean, det.mean(-1), rtol=1e-12, atol=1e-8)
    np.testing.assert_allclose(
        stats.tsnr, _tsnr(det.mean(-1), det.std(-1)), rtol=1e-8, atol=1e-8
    )
    # the mean map stays the raw temporal mean
    np.testing.assert_allclose(stats.mean, x.mean(-1), atol=1e-9)


def test_degree_one_keeps_the_raw_mean_degree_two_keeps_the_intercept(run_file):
    path, x = run_file
    one = T.temporal_stats(path, detrend=1)
    # odd Legendre polynomials sum to zero on a symmetric grid: intercept == mean
    np.testing.assert_allclose(one.detrended_mean, x.mean(-1), atol=1e-9)
    two = T.temporal_stats(path, detrend=2)
    # P2 averages 1 / (T - 1) on linspace(-1, 1, T) (hand computation), so the
    # intercept differs from the mean by b2 / (T - 1)
    n = x.shape[-1]
    p2 = eval_legendre(2, np.linspace(-1, 1, n))
    assert p2.mean() == pytest.approx(1 / (n - 1))
    assert not np.allclose(two.detrended_mean, x.mean(-1), atol=1e-3)


def test_drift_lowers_raw_tsnr_and_detrending_restores_it(tmp_path):
    data = make_run(60, drift=200.0, noise=10.0)
    path = save(tmp_path / "drift_bold.nii.gz", data)
    raw = T.temporal_stats(path)
    det = T.temporal_stats(path, detrend=2)
    inside = data[..., 0] > 500
    assert np.median(raw.tsnr[inside]) < 15
    # noise std 10 around 1000 (+ drift intercept): tSNR close to 100 once detrended
    assert 85 < np.median(det.tsnr[inside]) < 115


def test_nonfinite_values_count_as_zero_like_nipype(tmp_path):
    x = make_run(12, dtype=np.float32).astype(np.float32)
    x[3, 3, 3, 4] = np.nan
    path = save(tmp_path / "nan_bold.nii.gz", x)
    stats = T.temporal_stats(path)
    ref = np.nan_to_num(x.astype(np.float64))
    np.testing.assert_allclose(stats.mean, ref.mean(-1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(stats.std, ref.std(-1), rtol=1e-6, atol=1e-6)


def test_progress_reports_and_cancels(run_file):
    path, _ = run_file
    seen = []
    T.temporal_stats(path, chunk_volumes=10, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 37), (10, 37), (20, 37), (30, 37), (37, 37)]
    with pytest.raises(Cancelled):
        T.temporal_stats(path, chunk_volumes=10, progress=lambda d, t: d >= 10)

    def boom(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        T.temporal_stats(path, progress=boom)


def test_3d_image_and_too_many_drifts_are_refused(tmp_path, run_file):
    path3d = save(tmp_path / "mean.nii.gz", np.ones((4, 4, 4), np.float32))
    with pytest.raises(MilnaInputError, match="mean.nii.gz.*3D image"):
        T.temporal_stats(path3d)
    path, _ = run_file
    with pytest.raises(MilnaInputError, match="too few"):
        T.temporal_stats(path, detrend=36)


def test_spm_global_by_hand():
    # mean 40, cut 5: the global is the mean of 100, 100, 100, 20 = 80 (spm_global.c)
    vol = np.array([0, 0, 0, 0, 100, 100, 100, 20], float).reshape(2, 2, 2)
    assert T.spm_global(vol) == 80.0
    # a value exactly at the cut (mean 8 / 8 = 1) is not above it
    assert T.spm_global(np.array([1.0, 15.0])) == 15.0
    # NaN is ignored in both means
    assert T.spm_global(np.array([0.0, 0.0, 8.0, np.nan])) == 8.0


def test_spm_implicit_mask_matches_brute_force(tmp_path):
    x = make_run(15, dropout_scale=0.78, noise=30.0)
    path = save(tmp_path / "spm_bold.nii.gz", x)
    run = open_nifti(path).run()
    n_vox = x[..., 0].size
    acc = T.SpmImplicitMask(n_vox, 15)
    T.stream_run(run, [acc], chunk_volumes=4)
    ref = x.astype(np.float64)
    g = []
    for t in range(15):
        v = ref[..., t].ravel()
        cut = v.mean() / 8
        g.append(v[v > cut].mean())
    g = np.array(g)
    np.testing.assert_allclose(acc.globals, g, rtol=1e-12)
    kept = (ref > 0.8 * g).all(-1)
    np.testing.assert_array_equal(acc.kept.reshape(x.shape[:3], order="F"), kept)
    assert 0 < (~kept[x[..., 0] > 0]).sum() < kept.size  # the 0.78 box falls partly out


@pytest.mark.parametrize("degree", [0, 2])
def test_csf_coupling_matches_numpy_correlation(tmp_path, degree):
    x = make_run(50, pulsation=25.0, drift=40.0, seed=4)
    path = save(tmp_path / "puls_bold.nii.gz", x)
    run = open_nifti(path).run()
    n_vox = x[..., 0].size
    flat = x.reshape(n_vox, 50, order="F").astype(np.float64)
    csf_idx = np.flatnonzero(np.reshape(x[..., 0] > 500, -1, order="F"))[:40]
    moments = T.TemporalMoments(n_vox, 50, degree)
    coupling = T.CsfCoupling(csf_idx, n_vox, 50)
    T.stream_run(run, [moments, coupling], chunk_volumes=9)
    c = flat[csf_idx].mean(0)
    np.testing.assert_allclose(coupling.series, c, rtol=1e-12)
    r = coupling.correlation(moments)
    design = np.column_stack(
        [eval_legendre(k, np.linspace(-1, 1, 50)) for k in range(degree + 1)]
    )
    resid = lambda y: y - (design @ np.linalg.lstsq(design, y.T, rcond=None)[0]).T  # noqa: E731
    ry, rc = resid(flat), resid(c[None])[0]
    varying = flat.std(1) > 0
    ref = np.array([np.corrcoef(a, rc)[0, 1] for a in ry[varying]])
    np.testing.assert_allclose(r[varying], ref, atol=1e-9)
    assert np.all(r[~varying] == 0)


def test_region_series_is_the_roi_mean(tmp_path):
    x = make_run(12)
    path = save(tmp_path / "roi_bold.nii.gz", x)
    n_vox = x[..., 0].size
    idx = np.array([5, 77, 300])
    acc = T.RegionSeries([idx, np.array([], int)], 12)
    T.stream_run(open_nifti(path).run(), [acc], chunk_volumes=5)
    flat = x.reshape(n_vox, 12, order="F").astype(float)
    np.testing.assert_allclose(acc.series[0], flat[idx].mean(0))
    assert np.isnan(acc.series[1]).all()


def test_prefetching_reader_gives_the_same_numbers(run_file):
    path, x = run_file
    run = open_nifti(path).run()
    n_vox = x[..., 0].size
    a, b = T.TemporalMoments(n_vox, 37, 2), T.TemporalMoments(n_vox, 37, 2)
    T.stream_run(run, [a], chunk_volumes=4, prefetch=True)
    T.stream_run(run, [b], chunk_volumes=4, prefetch=False)
    np.testing.assert_array_equal(a.m2, b.m2)
    np.testing.assert_array_equal(a.projections, b.projections)
    raw_std = np.sqrt(a.m2 / 37).reshape(x.shape[:3], order="F")
    np.testing.assert_allclose(raw_std, x.std(-1), atol=1e-9)
    with pytest.raises(Cancelled):
        T.stream_run(run, [a], chunk_volumes=4, prefetch=True, progress=lambda d, t: d >= 8)


def test_streamed_gzip_chunks_match_nibabel_scaled_big_endian(tmp_path):
    import nibabel as nib

    x = make_run(13).astype(">i2")
    img = nib.Nifti1Image(x, np.eye(4))
    img.header.set_slope_inter(2.5, -10.0)
    img.header.set_data_dtype(">i2")
    path = tmp_path / "scaled_bold.nii.gz"
    nib.save(img, str(path))
    expected = nib.load(str(path)).get_fdata()  # nibabel applies the scaling
    run = open_nifti(path).run()
    chunks = list(run.iter_chunks(4))
    assert [(a, b) for a, b, _ in chunks] == [(0, 4), (4, 8), (8, 12), (12, 13)]
    np.testing.assert_allclose(np.concatenate([c for _, _, c in chunks], axis=3), expected)
    stats = T.temporal_stats(path, chunk_volumes=4)
    np.testing.assert_allclose(stats.mean, expected.mean(-1), rtol=1e-12)
    np.testing.assert_allclose(stats.std, expected.std(-1), rtol=1e-10, atol=1e-9)
    # an uncompressed .nii goes through LazyRun.chunk (memory map) instead; nibabel
    # scales int16 to float32 there, hence the looser tolerance
    plain = tmp_path / "scaled_bold.nii"
    nib.save(nib.load(str(path)), str(plain))
    plain_values = nib.load(str(plain)).get_fdata()
    np.testing.assert_allclose(T.temporal_stats(plain).std, plain_values.std(-1), rtol=1e-5)
