"""Multi-echo fit and combination against tedana on whole arrays, Posse's weights by hand,
the sample study's planted T2* / S0, and bad input."""

import json

import nibabel as nib
import numpy as np
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.jobs import Cancelled
from napari_milna.core.multiecho.combine import multiecho_combine
from napari_milna.core.multiecho.echoes import read_echo_set
from tests.synth.multiecho import AFFINE, TE, write_echoes


def test_combination_equals_tedana_on_the_whole_run(tmp_path):
    from tedana.combine import make_optcom
    from tedana.decay import fit_decay, modify_t2s_s0_maps
    from tedana.utils import make_adaptive_mask

    paths, mask = write_echoes(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = multiecho_combine(paths, out, mask=mask, chunk_volumes=5, qc=False)
    brain = nib.load(mask).get_fdata() > 0
    data = np.stack([nib.load(p).get_fdata()[brain] for p in paths], axis=1)  # (M, E, T)
    _, adaptive = make_adaptive_mask(data, threshold=1, methods=["dropout"])
    np.testing.assert_array_equal(result.adaptive[brain], adaptive)
    assert result.adaptive[2, 5, 3] == 2
    fitted = adaptive >= 1
    t2s, s0, *_ = fit_decay(data[fitted].mean(axis=-1), np.array(TE), adaptive[fitted], "loglin")
    t2s, s0, _, _ = modify_t2s_s0_maps(t2s, s0, adaptive[fitted], np.array(TE))
    np.testing.assert_allclose(result.t2star_ms[brain][fitted], t2s, rtol=1e-6)
    np.testing.assert_allclose(result.s0[brain][fitted], s0, rtol=1e-6)
    optcom = make_optcom(data[fitted], np.array(TE), adaptive[fitted], t2s=t2s)
    written = nib.load(result.paths["optcom"]).get_fdata()
    np.testing.assert_allclose(written[brain][fitted], optcom, rtol=2e-6, atol=1e-3)
    assert np.all(written[~brain] == 0)
    t2s_file = nib.load(result.paths["t2star"])
    np.testing.assert_allclose(t2s_file.get_fdata()[brain][fitted], t2s / 1000.0, rtol=1e-6)
    np.testing.assert_allclose(t2s_file.affine, AFFINE)
    assert json.loads(result.paths["t2star_json"].read_text())["Units"] == "s"


def test_posse_weights_by_hand(tmp_path):
    paths, mask = write_echoes(tmp_path, n_volumes=12)
    out = tmp_path / "out"
    out.mkdir()
    result = multiecho_combine(paths, out, mask=mask, qc=False)
    written = nib.load(result.paths["optcom"]).get_fdata()
    echoes = [nib.load(p).get_fdata() for p in paths]
    # three usable echoes in the long-T2* part; two in the short-T2* slab (echo 3 too dark)
    for ijk, usable in [((3, 6, 4), 3), ((10, 9, 6), 3), ((5, 2, 2), 2)]:
        assert result.adaptive[ijk] == usable
        t2 = result.t2star_ms[ijk]
        w = np.array([te * np.exp(-te / t2) for te in TE[:usable]])
        w /= w.sum()
        by_hand = sum(w[e] * echoes[e][ijk] for e in range(usable))
        np.testing.assert_allclose(written[ijk], by_hand, rtol=1e-5)


def test_sample_study_t2star_and_s0_match_the_planted_maps(tmp_path):
    from napari_milna import sample_data

    study = sample_data.ensure_sample_study()
    truth = study.truth["multiecho"]
    assert truth["echo_times_ms"] == [13.0, 30.0, 47.0]
    echo_set = read_echo_set(study.me_echoes)
    np.testing.assert_allclose(echo_set.echo_times_ms, [13.0, 30.0, 47.0])
    result = multiecho_combine(echo_set, tmp_path, mask=study.brain_mask, rois=["RVM"])
    t2s_true = nib.load(study.me_t2star_truth).get_fdata() * 1000.0
    s0_true = nib.load(study.me_s0_truth).get_fdata()
    brain = nib.load(study.brain_mask).get_fdata() > 0
    usable = brain & (result.adaptive >= 2)
    assert usable.sum() > 0.99 * brain.sum()
    t2s_err = np.abs(result.t2star_ms[usable] / t2s_true[usable] - 1)
    s0_err = np.abs(result.s0[usable] / s0_true[usable] - 1)
    assert t2s_err.max() < 0.05 and s0_err.max() < 0.05
    # the short-T2* dropout regions are fitted too
    short = usable & (t2s_true < 25)
    assert short.sum() > 50 and t2s_err[short[usable]].max() < 0.05
    rvm = result.to_dict()["rois"][0]
    assert rvm["name"] == "RVM" and len(rvm["tsnr_echoes"]) == 3
    assert rvm["tsnr_optcom"] > max(rvm["tsnr_echoes"][1:])


def _no_files(folder):
    return [p.name for p in folder.iterdir()] == []


@pytest.mark.parametrize("problem, message", [
    ("grid", "lies on another grid"),
    ("length", "holds 20 volumes but"),
    ("no_te", "does not exist; a multi-echo run needs each echo's EchoTime"),
    ("order", "must increase from echo to echo"),
    ("single", "is a single echo"),
    ("count", "2 echo times were given for 3 echo files"),
])
def test_bad_echoes_are_refused_in_one_sentence(tmp_path, problem, message):
    kwargs = {}
    if problem == "grid":
        other = AFFINE.copy()
        other[0, 3] = 5.0
        kwargs["affines"] = [AFFINE, other, AFFINE]
    if problem == "length":
        kwargs["lengths"] = [24, 20, 24]
    if problem == "no_te":
        kwargs["sidecars"] = False
    paths, mask = write_echoes(tmp_path, **kwargs)
    te = None
    if problem == "order":
        paths = [paths[1], paths[0], paths[2]]
    if problem == "single":
        paths = paths[:1]
    if problem == "count":
        te = [13, 30]
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(MilnaInputError, match=message) as info:
        multiecho_combine(paths, out, echo_times_ms=te, mask=mask)
    assert str(info.value).count(".") >= 1 and "\n" not in str(info.value)
    assert _no_files(out)


def test_given_echo_times_must_be_positive_and_increasing(tmp_path):
    paths, _ = write_echoes(tmp_path, sidecars=False)
    with pytest.raises(MilnaInputError, match="must increase"):
        read_echo_set(paths, [13, 13, 47])
    with pytest.raises(MilnaInputError, match="must be positive"):
        read_echo_set(paths, [-13, 30, 47])
    assert read_echo_set(paths, [13, 30, 47]).echo_times_source == "given"


def test_cancel_and_existing_outputs_leave_nothing_written(tmp_path):
    paths, mask = write_echoes(tmp_path)
    out = tmp_path / "out"
    out.mkdir()

    def stop(done, total):
        if done > total // 2:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        multiecho_combine(paths, out, mask=mask, chunk_volumes=4, progress=stop)
    assert _no_files(out)
    result = multiecho_combine(paths, out, mask=mask, qc=False)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(MilnaInputError, match="already exists"):
        multiecho_combine(paths, out, mask=mask)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert result.paths["optcom"].name == "sub-01_task-rest_desc-optcom_bold.nii.gz"
    assert result.paths["adaptive_mask"].name == (
        "sub-01_task-rest_desc-adaptiveGoodSignal_mask.nii.gz")
