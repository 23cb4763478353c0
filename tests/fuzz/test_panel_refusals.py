"""Degenerate data: the panel's jobs refuse what ``milna`` refuses, with the same sentence.

The crossover tab hands :func:`napari_milna.widgets.crossover.compute.analyse` to the
panel's JobRunner, which shows a MilnaInputError as one notification; the refusal lives
in the core, so the tab and the command line say the same. A subject map of NaNs is
refused (not excluded): leaving a subject out silently would change the group and its df.
"""

from __future__ import annotations

import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.widgets.crossover.compute import CrossoverChoices, analyse

from .degenerate import crossover_identical, crossover_nan_subject, crossover_zero_difference
from .runner import run_main


@pytest.mark.parametrize("build", [crossover_nan_subject, crossover_identical,
                                   crossover_zero_difference],
                         ids=["nan_subject_map", "identical_maps", "zero_differences"])
def test_crossover_tab_refuses_as_the_command_does(build, good, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    argv = build(good, tmp_path)
    outcome = run_main(argv, capsys)
    assert outcome.status == 2 and len(outcome.err_lines) == 1
    cli_sentence = outcome.err_lines[0].split(": ", 1)[1]
    (tmp_path / "panel").mkdir()
    with pytest.raises(MilnaInputError) as refused:
        analyse(CrossoverChoices(study=argv[1]), tmp_path / "panel")
    assert str(refused.value) == cli_sentence
    assert list((tmp_path / "panel").iterdir()) == []
