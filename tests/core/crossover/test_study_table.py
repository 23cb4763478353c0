"""Study tables and BIDS discovery for the crossover: reading, contrast choice, validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from napari_milna.core.crossover.study_table import (
    choose_contrast,
    discover_bids,
    open_study,
    read_study_table,
    validate_study,
)
from napari_milna.core.errors import MilnaInputError
from tests.synth.crossover import AFFINE, SHAPE, make_maps, save_map, write_bids, write_table


@pytest.fixture
def study_files(tmp_path):
    maps, periods = make_maps(n=5)
    return write_table(tmp_path / "study", maps, periods), maps, periods


def test_reads_table_with_relative_paths_and_periods(study_files):
    table_path, maps, periods = study_files
    table = read_study_table(table_path)
    assert table.subjects == sorted(maps)
    assert table.conditions == ["baseline", "pain"]
    assert len(table.entries) == 5 * 4
    e = table.entry("sub-03", "placebo", "baseline")
    assert e.path == table_path.parent / "maps" / "sub-03_placebo_baseline.nii.gz"
    assert e.path.exists()
    assert table.period("sub-03", "drug") == periods["sub-03"]
    assert table.period("sub-03", "placebo") == 3 - periods["sub-03"]


def test_csv_and_natural_subject_order(tmp_path):
    maps, periods = make_maps(n=3)
    maps = {{"sub-01": "sub-2", "sub-02": "sub-10", "sub-03": "sub-1"}[k]: v
            for k, v in maps.items()}
    periods = {"sub-2": 1, "sub-10": 2, "sub-1": 1}
    table = read_study_table(write_table(tmp_path, maps, periods, sep=",", name="study.csv"))
    assert table.subjects == ["sub-1", "sub-2", "sub-10"]
    study = validate_study(table, choose_contrast(table))
    assert study.drug_period == periods
    assert study.sequence("sub-10") == "placebo-drug"


def _rewrite(table_path, edit):
    lines = table_path.read_text().splitlines()
    table_path.write_text("\n".join(edit(lines)) + "\n")


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(MilnaInputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_missing_column_names_file_and_column(study_files):
    table_path = study_files[0]
    _rewrite(table_path, lambda lines: [lines[0].replace("treatment", "arm")] + lines[1:])
    msg = _message(read_study_table, table_path)
    assert str(table_path) in msg and "treatment" in msg and msg.count(".") >= 1
    assert "\n" not in msg


def test_bad_treatment_names_line_and_subject(study_files):
    table_path = study_files[0]
    _rewrite(table_path, lambda lines: lines[:2] + [lines[2].replace("\tdrug\t", "\taspirin\t")]
             + lines[3:])
    msg = _message(read_study_table, table_path)
    assert "line 3" in msg and "sub-01" in msg and "aspirin" in msg and str(table_path) in msg


def test_duplicate_rows_name_both_lines(study_files):
    table_path = study_files[0]
    _rewrite(table_path, lambda lines: lines + [lines[2]])
    msg = _message(read_study_table, table_path)
    assert "lines 3 and 22" in msg and "sub-01" in msg


def test_bad_period_and_conflicting_periods(study_files):
    table_path = study_files[0]
    original = table_path.read_text()
    _rewrite(table_path, lambda lines: lines[:1] + [lines[1].rsplit("\t", 1)[0] + "\t3"]
             + lines[2:])
    assert "period" in _message(read_study_table, table_path)
    table_path.write_text(original)

    def same_period(lines):
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split("\t")
            if cells[0] == "sub-02":
                cells[-1] = "1"
            out.append("\t".join(cells))
        return out

    _rewrite(table_path, same_period)
    msg = _message(read_study_table, table_path)
    assert "sub-02" in msg and "period 1" in msg


def test_missing_treatment_or_condition_named_per_subject(study_files):
    table_path = study_files[0]
    _rewrite(table_path, lambda lines: [x for x in lines
                                        if not x.startswith("sub-04\tplacebo\tbaseline")])
    table = read_study_table(table_path)
    msg = _message(validate_study, table, choose_contrast(table, "interaction"))
    assert "sub-04" in msg and "placebo baseline" in msg and str(table_path) in msg
    # the difference of pain alone does not need the baseline
    study = validate_study(table, choose_contrast(table, "difference", "pain"))
    assert study.n_subjects == 5
    _rewrite(table_path, lambda lines: [x for x in lines if not x.startswith("sub-02\tdrug")])
    table = read_study_table(table_path)
    msg = _message(validate_study, table, choose_contrast(table, "difference", "pain"))
    assert "sub-02" in msg and "no drug maps" in msg


def test_missing_file_names_line_and_path(study_files):
    table_path = study_files[0]
    table = read_study_table(table_path)
    gone = table.entry("sub-05", "drug", "pain").path
    gone.unlink()
    msg = _message(validate_study, table, choose_contrast(table))
    assert str(gone) in msg and "sub-05 drug pain" in msg and "line" in msg


def test_grid_mismatch_is_refused_unless_resampling_is_asked(study_files):
    table_path, maps, _ = study_files
    table = read_study_table(table_path)
    moved = table.entry("sub-02", "placebo", "pain").path
    # the same voxels on a grid shifted by one voxel along x: resampling onto the study
    # grid must give the original values shifted by exactly one voxel
    shifted = AFFINE.copy()
    shifted[0, 3] += 2.0
    data = maps["sub-02"]["placebo"]["pain"]
    save_map(moved, data, shifted)
    msg = _message(validate_study, table, choose_contrast(table))
    assert moved.name in msg and "grid" in msg and "resample" in msg
    study = validate_study(table, choose_contrast(table), resample=True)
    assert study.resampled == [moved]
    got = study.load_map("sub-02", "placebo", "pain")
    expected = ndimage.shift(data.astype(float), (1, 0, 0), order=0, cval=np.nan)
    np.testing.assert_allclose(got[1:], expected[1:], rtol=1e-6)
    assert np.all(np.isnan(got[0]))


def test_4d_map_and_too_few_subjects(tmp_path):
    maps, periods = make_maps(n=2)
    table_path = write_table(tmp_path, maps, periods)
    table = read_study_table(table_path)
    assert "at least 3" in _message(validate_study, table, choose_contrast(table))
    maps, periods = make_maps(n=3)
    table_path = write_table(tmp_path / "b", maps, periods)
    table = read_study_table(table_path)
    four_d = table.entry("sub-01", "drug", "pain").path
    save_map(four_d, np.zeros(SHAPE + (3,)))
    msg = _message(validate_study, table, choose_contrast(table))
    assert "4D" in msg and four_d.name in msg


def test_empty_and_headerless_tables(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    assert "empty" in _message(read_study_table, empty)
    header_only = tmp_path / "header.tsv"
    header_only.write_text("subject\ttreatment\tcondition\tpath\n")
    assert "no rows" in _message(read_study_table, header_only)
    assert "does not exist" in _message(read_study_table, tmp_path / "nope.tsv")


def test_contrast_choice(tmp_path):
    maps, periods = make_maps(n=3, conditions=("pain", "baseline", "sensory"))
    table = read_study_table(write_table(tmp_path / "a", maps, periods))
    auto = choose_contrast(table)
    assert (auto.kind, auto.active, auto.control) == ("interaction", "pain", "baseline")
    assert auto.label == "(drug - placebo) x (pain - baseline)" and auto.name == "interaction"
    sensory = choose_contrast(table, control="sensory")
    assert sensory.conditions == ("pain", "sensory")
    assert sensory.name == "interactionPainVsSensory"
    assert "several conditions" in _message(choose_contrast, table, "difference")
    assert choose_contrast(table, "difference", "Pain").active == "pain"
    assert "Unknown contrast" in _message(choose_contrast, table, "ratio")
    ready, periods = make_maps(n=3, conditions=("pain_vs_baseline",))
    table = read_study_table(write_table(tmp_path / "b", ready, periods))
    auto = choose_contrast(table)
    assert (auto.kind, auto.active) == ("difference", "pain_vs_baseline")
    msg = _message(choose_contrast, table, "interaction")
    assert "pain" in msg and "baseline" in msg and "ready contrast" in msg


def test_bids_discovery_equals_the_table(tmp_path):
    maps, periods = make_maps(n=4)
    deriv = write_bids(tmp_path / "bids", maps, periods)
    found = discover_bids(deriv)
    assert found.kind == "bids"
    assert found.subjects == sorted(maps)
    assert len(found.entries) == 16  # the stat-t decoys are skipped
    for sid in maps:
        for treatment in ("drug", "placebo"):
            e = found.entry(sid, treatment, "pain")
            assert f"ses-{treatment}" in e.path.name and "stat-effect" in e.path.name
            expected = periods[sid] if treatment == "drug" else 3 - periods[sid]
            assert e.period == expected
    assert open_study(deriv).entries == found.entries
    with pytest.raises(MilnaInputError, match="two drug maps"):
        discover_bids(deriv, stat=None)


def test_bids_discovery_with_acq_and_nothing_found(tmp_path):
    maps, _ = make_maps(n=3)
    for sid, by_t in maps.items():
        for treatment, by_c in by_t.items():
            for condition, data in by_c.items():
                save_map(tmp_path / "d" / f"{sid}_acq-{treatment}_contrast-{condition}_"
                         "stat-effect_statmap.nii.gz", data)
    found = discover_bids(tmp_path / "d")
    assert len(found.entries) == 12 and found.entries[0].period is None
    (tmp_path / "empty").mkdir()
    msg = _message(discover_bids, tmp_path / "empty")
    assert "no first-level map" in msg and "empty" in msg


def test_sample_study_table_and_discovery_agree():
    from napari_milna.sample_data import ensure_sample_study

    sample = ensure_sample_study()
    table = read_study_table(sample.crossover_table)
    found = discover_bids(sample.crossover_table.parent)
    assert table.subjects == found.subjects and len(table.subjects) == 15
    assert {(e.subject, e.treatment, e.condition, e.path, e.period) for e in table.entries} == {
        (e.subject, e.treatment, e.condition, e.path, e.period) for e in found.entries}
    study = validate_study(table, choose_contrast(table))
    sequences = dict(
        line.split("\t")[:2] for line in sample.participants.read_text().splitlines()[1:]
    )
    assert {s: study.sequence(s) for s in study.subjects} == sequences
