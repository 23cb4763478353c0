"""SvcResult.to_frame and the SVC CSV (core.svc.export)."""

import io

import numpy as np
import pandas as pd
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.export import csv_text, write_csv
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm

GRID = Grid((16, 16, 16), np.diag([2.0, 2.0, 2.0, 1.0]))


@pytest.fixture
def result():
    rng = np.random.default_rng(7)
    stat = rng.normal(size=GRID.shape)
    stat[6:9, 6:9, 6:9] += 5.0
    stat[11, 11, 11] = 6.5
    roi = np.zeros(GRID.shape, bool)
    roi[3:14, 3:14, 3:14] = True
    return small_volume_correction(stat, roi, GRID, smoothness_from_fwhm_mm([6.0], GRID), "T",
                                   20.0, height_p=0.01)


def test_frame_rows_are_the_peak_maxima_and_clusters(result):
    frame = result.to_frame({"stat_map": "spmT_0001.nii", "roi": "PAG"})
    d = result.to_dict()
    n_max = sum(p["ijk"] != d["peak"]["ijk"] for p in d["peaks"])
    assert list(frame["row"]) == ["peak"] + ["max"] * n_max + ["cluster"] * len(d["clusters"])
    assert frame.loc[0, "p_fwe"] == result.peak.p_fwe
    assert tuple(frame.loc[0, ["i", "j", "k"]]) == result.peak.ijk
    assert (frame["stat_map"] == "spmT_0001.nii").all() and (frame["df"] == 20.0).all()
    clusters = frame[frame["row"] == "cluster"]
    assert list(clusters["n_voxels_cluster"]) == [c.n_voxels for c in result.clusters]


def test_csv_text_reads_back_and_keeps_infinities(result):
    d = result.to_dict()
    d["peak"] = dict(d["peak"], z=float("inf"))
    text = csv_text(d)
    back = pd.read_csv(io.StringIO(text))
    assert back.loc[0, "z"] == np.inf
    assert back.loc[0, "value"] == pytest.approx(result.peak.value, rel=1e-9)
    assert np.isnan(back.loc[0, "n_voxels_cluster"])  # empty cell
    assert text.splitlines()[0].startswith("row,value,z,")


def test_write_csv_is_atomic_and_asks_before_replacing(result, tmp_path):
    path = write_csv(result.to_dict(), tmp_path / "svc.csv")
    assert path.read_text() == csv_text(result.to_dict())
    with pytest.raises(MilnaInputError, match="already exists"):
        write_csv(result.to_dict(), path)
