"""Atomic writes on a file system without hard links (FAT, some FUSE and SMB mounts).

``os.link`` fails there with EPERM / ENOTSUP: new files are still created exclusively
(an existing file is refused, never replaced), and an output set that replaces files
still puts the old ones back when a later move fails (the backups are copies).
"""

from __future__ import annotations

import errno
import os

import pytest

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.io.atomic import output_set
from napari_milna.core.io.tables import atomic_write_text


@pytest.fixture(params=[errno.EPERM, errno.ENOTSUP])
def no_hard_links(request, monkeypatch):
    calls = []

    def link(src, dst, *args, **kwargs):
        calls.append((src, dst))
        raise OSError(request.param, os.strerror(request.param), str(dst))

    monkeypatch.setattr(os, "link", link)
    return calls


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".milna-tmp"))


def test_new_files_are_created_exclusively(tmp_path, no_hard_links):
    target = tmp_path / "peaks.tsv"
    atomic_write_text(target, "first\n")
    assert no_hard_links  # the link was tried, and refused by the file system
    assert target.read_text() == "first\n"
    with pytest.raises(MilnaInputError, match="peaks.tsv: already exists"):
        atomic_write_text(target, "second\n")
    assert target.read_text() == "first\n"
    assert _leftovers(tmp_path) == []


def test_replacing_a_set_is_undone_when_a_later_move_fails(tmp_path, no_hard_links):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a\n")
    second.mkdir()  # a folder where the second file goes: its move fails
    (second / "inside").write_text("x")
    with pytest.raises(MilnaInputError, match="b.txt"):
        with output_set():
            atomic_write_text(first, "new a\n", overwrite=True)
            atomic_write_text(second, "new b\n", overwrite=True)
    assert first.read_text() == "old a\n"  # put back from its copy
    assert _leftovers(tmp_path) == []


def test_replacing_a_set_succeeds(tmp_path, no_hard_links):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a\n")
    second.write_text("old b\n")
    with output_set():
        atomic_write_text(first, "new a\n", overwrite=True)
        atomic_write_text(second, "new b\n", overwrite=True)
    assert (first.read_text(), second.read_text()) == ("new a\n", "new b\n")
    assert _leftovers(tmp_path) == []
