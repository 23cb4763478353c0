"""The fuzz suite's shared good inputs (written once per session) and its marker."""

from __future__ import annotations

import pytest

from .inputs import write_good_inputs


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fuzz_long: the exhaustive fuzz run (every case; minutes, not in CI)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("-m") and "fuzz_long" in config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="exhaustive fuzz run: pytest -m fuzz_long tests/fuzz")
    for item in items:
        if "fuzz_long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def good(tmp_path_factory):
    """The good inputs every case spoils one of."""
    return write_good_inputs(tmp_path_factory.mktemp("fuzz-good"))
