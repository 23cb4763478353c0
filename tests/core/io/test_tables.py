"""TSV / CSV through pandas (core.io.tables): BIDS conventions, atomic, one-sentence errors."""

import math

import numpy as np
import pandas as pd
import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.tables import read_table, table_text, write_table


def test_bids_tsv_text_by_hand():
    frame = pd.DataFrame({
        "name": ["PAG", "a\tb"],
        "n": [12, 3],
        "t": [3.14159265358979, math.inf],
        "p": [None, 0.000123456789],
    })
    text = table_text(frame, float_format="%.6g")
    assert text == "name\tn\tt\tp\nPAG\t12\t3.14159\tn/a\na b\t3\tn/a\t0.000123457\n"


def test_full_precision_and_csv(tmp_path):
    values = np.array([[0.1, 1e-5], [2.0 / 3.0, -0.0]])
    path = write_table(pd.DataFrame(values, columns=["x", "y"]), tmp_path / "v.csv",
                       float_format=None)
    lines = path.read_text().splitlines()
    assert lines == ["x,y", f"{0.1!r},{1e-05!r}", f"{2.0 / 3.0!r},-0.0"]
    np.testing.assert_array_equal(pd.read_csv(path).to_numpy(), values)


def test_write_is_atomic_and_never_overwrites_unasked(tmp_path):
    path = tmp_path / "t.tsv"
    write_table(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(MilnaInputError, match="t.tsv"):
        write_table(pd.DataFrame({"a": [2]}), path)
    write_table(pd.DataFrame({"a": [2]}), path, overwrite=True)
    assert path.read_text() == "a\n2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.tsv"]


def test_read_missing_values_and_text_mode(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text("a\tb\n1\tn/a\n\n2\t3\n")
    numbers = read_table(path)
    assert numbers["a"].tolist() == [1, 2] and math.isnan(numbers["b"][0])
    text = read_table(path, as_text=True, skip_blank_lines=False)
    assert text.to_dict("records") == [{"a": "1", "b": "n/a"}, {"a": "", "b": ""},
                                       {"a": "2", "b": "3"}]


@pytest.mark.parametrize(("name", "text", "problem"), [
    ("nope.tsv", None, "nope.tsv: does not exist"),
    ("bad.tsv", "a\tb\n1\t2\n3\t4\t5\n", "bad.tsv: is not a readable tab-separated"),
    ("bad.csv", "a,b\n1,2\n3,4,5\n", "bad.csv: is not a readable comma-separated"),
])
def test_read_errors_name_the_file(tmp_path, name, text, problem):
    if text is not None:
        (tmp_path / name).write_text(text)
    with pytest.raises(MilnaInputError, match=problem):
        read_table(tmp_path / name)
