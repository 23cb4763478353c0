import json

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.roi.facts import (
    CSV_COLUMNS,
    roi_facts,
    roi_facts_table,
    write_facts_csv,
)

LAS = Grid((30, 32, 26), [[-2.5, 0, 0, 40], [0, 2.5, 0, -60], [0, 0, 3, -50], [0, 0, 0, 1]])


def _maps(seed=0, grid=LAS):
    rng = np.random.default_rng(seed)
    labels = np.zeros(grid.shape, np.int16)
    labels[4:9, 5:9, 3:6] = 1
    labels[15:18, 20:25, 10:14] = 2
    labels[20, 3, 20] = 5
    csf = rng.uniform(0, 1, grid.shape).astype(np.float32)
    brain = (rng.uniform(0, 1, grid.shape) > 0.3).astype(np.uint8)
    coverage = np.ones(grid.shape, np.float32)
    coverage[:, :, :5] = 0
    stat = rng.normal(0, 2, grid.shape).astype(np.float32)
    return labels, dict(csf=csf, brain=brain, coverage=coverage, stat=stat)


def test_hand_computed_small_roi():
    grid = Grid((4, 4, 4), [[-2, 0, 0, 10], [0, 2, 0, 0], [0, 0, 3, -6], [0, 0, 0, 1]])
    roi = np.zeros(grid.shape, bool)
    roi[1, 1, 1] = roi[2, 1, 1] = roi[1, 2, 1] = roi[1, 1, 2] = True
    csf = np.zeros(grid.shape)
    csf[1, 1, 1], csf[2, 1, 1] = 0.8, 0.4  # mean over 4 voxels = 0.3
    stat = np.zeros(grid.shape)
    stat[1, 2, 1] = 4.5
    stat[1, 1, 2] = np.nan
    facts = roi_facts(roi, grid, csf=csf, stat=stat, name="hand")
    assert facts.n_voxels == 4
    assert facts.volume_mm3 == pytest.approx(4 * 12.0)
    # x = 10 - 2 i, y = 2 j, z = 3 k - 6: mean ijk (1.25, 1.25, 1.25)
    assert facts.centroid_mm == pytest.approx((7.5, 2.5, -2.25))
    assert facts.csf_fraction == pytest.approx(0.3)
    assert facts.stat_mean == pytest.approx(4.5 / 3)  # NaN voxel ignored
    assert facts.stat_peak == 4.5
    assert facts.stat_peak_mm == pytest.approx((8.0, 4.0, -3.0))
    assert facts.stat_peak_ijk == (1, 2, 1)
    assert facts.brain_fraction is None and facts.coverage_fraction is None
    assert not facts.empty and facts.name == "hand"


def test_facts_match_scipy_ndimage_label_statistics():
    labels, maps = _maps(1)
    idx = [1, 2, 5]
    com = ndimage.center_of_mass(np.ones(LAS.shape), labels, idx)
    csf_mean = ndimage.mean(maps["csf"], labels, idx)
    brain_in = ndimage.mean(maps["brain"] > 0, labels, idx)
    cover_in = ndimage.mean(maps["coverage"] > 0, labels, idx)
    stat_mean = ndimage.mean(maps["stat"], labels, idx)
    stat_max = ndimage.maximum(maps["stat"], labels, idx)
    stat_pos = ndimage.maximum_position(maps["stat"], labels, idx)
    counts = ndimage.sum(np.ones(LAS.shape), labels, idx)
    for n, k in enumerate(idx):
        f = roi_facts(labels, LAS, k, **maps)
        assert f.n_voxels == counts[n]
        assert f.volume_mm3 == pytest.approx(counts[n] * 2.5 * 2.5 * 3)
        np.testing.assert_allclose(f.centroid_mm, LAS.to_world(np.array(com[n])), atol=1e-9)
        assert f.csf_fraction == pytest.approx(csf_mean[n], rel=1e-6)
        assert f.brain_fraction == pytest.approx(brain_in[n])
        assert f.coverage_fraction == pytest.approx(cover_in[n])
        assert f.stat_mean == pytest.approx(stat_mean[n], rel=1e-5)
        assert f.stat_peak == pytest.approx(stat_max[n])
        np.testing.assert_allclose(f.stat_peak_mm, LAS.to_world(np.array(stat_pos[n])))


def test_fortran_ordered_maps_give_the_same_facts():
    labels, maps = _maps(2)
    c_facts = roi_facts(labels, LAS, 2, **maps)
    f_maps = {k: np.asfortranarray(v) for k, v in maps.items()}
    f_facts = roi_facts(np.asfortranarray(labels), LAS, 2, **f_maps)
    assert c_facts == f_facts


def test_empty_roi_is_flagged_not_an_error():
    labels, maps = _maps(3)
    facts = roi_facts(labels, LAS, 9, **maps)
    assert facts.empty and facts.n_voxels == 0 and facts.volume_mm3 == 0
    assert facts.centroid_mm is None and facts.stat_peak is None and facts.csf_fraction is None
    d = json.loads(json.dumps(facts.to_dict()))
    assert d["empty"] is True and d["centroid_mm"] is None


def test_stat_all_nan_gives_none():
    labels, maps = _maps(4)
    maps["stat"][labels == 1] = np.nan
    facts = roi_facts(labels, LAS, 1, stat=maps["stat"])
    assert facts.stat_mean is None and facts.stat_peak is None and facts.stat_peak_mm is None


def test_mask_without_label_uses_every_nonzero_voxel():
    labels, _ = _maps(5)
    facts = roi_facts(labels > 0, LAS)
    assert facts.n_voxels == np.count_nonzero(labels)
    assert facts.label == 1 and facts.name == "label 1"


def test_table_lists_every_label_and_named_absent_ones():
    labels, maps = _maps(6)
    table = roi_facts_table(labels, LAS, {1: "PAG", 2: "RVM", 3: "LC"}, **maps)
    assert [f.label for f in table] == [1, 2, 3, 5]
    assert [f.name for f in table] == ["PAG", "RVM", "LC", "label 5"]
    assert table[2].empty
    for f in table:
        assert f == roi_facts(labels, LAS, f.label, name=f.name, **maps)


def test_maps_on_another_grid_are_refused():
    labels, maps = _maps(7)
    with pytest.raises(ValueError, match="not on the ROI grid"):
        roi_facts(labels, LAS, 1, csf=maps["csf"][:-1])


def test_csv_export_round_trip_atomic_and_no_silent_overwrite(tmp_path):
    labels, maps = _maps(8)
    table = roi_facts_table(labels, LAS, {1: "PAG", 3: "empty one"}, **maps)
    path = write_facts_csv(table, tmp_path / "facts.csv")
    frame = pd.read_csv(path)
    assert list(frame.columns) == list(CSV_COLUMNS)
    assert frame["name"].tolist() == ["PAG", "label 2", "empty one", "label 5"]
    pag = table[0]
    row = frame.iloc[0]
    assert row["n_voxels"] == pag.n_voxels
    assert row["centroid_y_mm"] == pag.centroid_mm[1]  # repr keeps every digit
    assert row["csf_fraction"] == pag.csf_fraction
    assert np.isnan(frame.iloc[2]["centroid_x_mm"]) and frame.iloc[2]["empty"] == 1
    with pytest.raises(MilnaInputError, match="already exists"):
        write_facts_csv(table[:1], path)
    write_facts_csv(table[:1], path, overwrite=True)
    assert len(pd.read_csv(path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facts.csv"]
