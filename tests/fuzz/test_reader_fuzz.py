"""The napari reader on the fuzz suite's bad files: one notification, no layer, no exception.

Each bad NIfTI file (and each bad analysis folder) is opened the way a user opens it,
``viewer.open(path, plugin="napari-milna")`` in a real viewer under Xvfb. The reader must
answer with exactly one notification sentence naming the file and give napari its
null-layer sentinel, so no layer is added and nothing is raised into napari.
"""

from __future__ import annotations

import pytest

from . import badfiles
from .cases import ANY, FOLDER

NIFTI = [k for k in ANY if k != "missing"] + ["constant4d", "zero4d", "huge_run"]
FOLDERS = [k for k in FOLDER if k not in ("folder_missing", "folder_is_file")]
#: The CI run opens these (a viewer per case costs a second); the rest run with
#: ``pytest -m fuzz_long tests/fuzz``.
CI_NIFTI = ["gz_cut_header", "nii_cut_header", "hdr_no_img", "not_nifti", "truncated", "dim2",
            "dim5", "rgb", "huge_dims", "singular_affine", "nan3d", "nan4d", "zero4d"]
CI_FOLDERS = ["spm_garbage", "feat_empty"]


def _cases(kinds, ci):
    return [k if k in ci else pytest.param(k, marks=pytest.mark.fuzz_long) for k in kinds]


@pytest.fixture
def notes(monkeypatch):
    """Notifications the reader shows, as (kind, text)."""
    import napari_milna._napari.reader as reader

    shown = []
    monkeypatch.setattr(reader, "show_error", lambda text: shown.append(("error", text)))
    monkeypatch.setattr(reader, "show_info", lambda text: shown.append(("info", text)))
    return shown


def _bad(kind):
    return kind not in ("constant4d", "zero4d")


@pytest.mark.parametrize("kind", _cases(NIFTI, CI_NIFTI))
def test_bad_nifti_one_notification_no_layer(kind, make_napari_viewer, notes, tmp_path):
    viewer = make_napari_viewer()
    path = badfiles.make(kind, tmp_path)
    layers = viewer.open(str(path), plugin="napari-milna")
    if not _bad(kind):
        # an all-zero or constant run is odd but readable: it opens, and says nothing
        assert len(layers) == 1 and notes == []
        return
    assert layers == [] and len(viewer.layers) == 0
    assert len(notes) == 1, notes
    kind_, text = notes[0]
    assert kind_ == "error" and "bad-" in text and "\n" not in text.strip()


@pytest.mark.parametrize("kind", _cases(FOLDERS, CI_FOLDERS))
def test_bad_analysis_folder_one_notification(kind, make_napari_viewer, notes, tmp_path):
    viewer = make_napari_viewer()
    path = badfiles.make(kind, tmp_path)
    from napari_milna._napari.reader import get_reader

    if get_reader(str(path)) is None:
        pytest.skip("not taken as an analysis folder: napari's own readers answer")
    layers = viewer.open(str(path), plugin="napari-milna")
    assert layers == [] and len(viewer.layers) == 0
    assert len(notes) == 1 and notes[0][0] == "error", notes
    assert "bad-" in notes[0][1]
