"""Session files: JSON with a schema version, paths relative to the file, one-sentence errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from napari_milna.core import session_file as sf
from napari_milna.core.errors import MilnaInputError


def _study(root: Path) -> sf.SessionFile:
    """A session over three files of a study folder ``root``."""
    (root / "data").mkdir(parents=True)
    stat = root / "data" / "spmT_0001.nii"
    anat = root / "data" / "T1w.nii.gz"
    roi = root / "study_desc-PAG_dseg.nii.gz"
    for path in (stat, anat, roi):
        path.write_bytes(b"not read here")
    layers = [
        sf.LayerRecord("T1w", "image", "file", anat,
                       sf.LayerDisplay(colormap="gray", contrast_limits=(0.1, 0.9), visible=True)),
        sf.LayerRecord("group T", "image", "analysis", stat,
                       sf.LayerDisplay(contrast_limits=(-7.5, 7.5), opacity=0.8,
                                       interpolation="nearest"),
                       statistic=sf.StatDisplay("T", 14.0, 0.1 + 0.2, "T", 7.25)),
        sf.LayerRecord("ROIs", "labels", "roi", roi, sf.LayerDisplay(contour=1, opacity=0.75),
                       reference=stat, roi_names={1: "PAG", 2: "RVM"}),
        sf.LayerRecord("Harvard-Oxford", "labels", "atlas", None, sf.LayerDisplay(visible=False),
                       atlas="harvard-oxford"),
    ]
    choices = sf.SessionChoices(
        stat_map="group T", roi_layer="ROIs", roi_label=2, run=None,
        masks={"brain": None, "csf": None, "analysis": "ROIs"}, atlas="Harvard-Oxford",
        df=14.0,
        smoothness=sf.SmoothnessRecord((6.000000000000001, 6.0, 5.999), "SPM.mat xVol.FWHM"),
    )
    view = sf.ViewRecord((0.5, -31.0, -9.000000000000002), "sagittal", True, "group T")
    return sf.SessionFile(layers, choices, view, root / "data", "napari-milna test",
                          ["a points layer"])


def _same(a: sf.SessionFile, b: sf.SessionFile) -> None:
    assert [r.name for r in a.layers] == [r.name for r in b.layers]
    for ra, rb in zip(a.layers, b.layers):
        for attr in ("layer_type", "origin", "display", "statistic", "atlas", "roi_names"):
            assert getattr(ra, attr) == getattr(rb, attr), (ra.name, attr)
        for attr in ("path", "reference", "lut"):
            pa, pb = getattr(ra, attr), getattr(rb, attr)
            assert (pa is None and pb is None) or Path(pa).resolve() == Path(pb).resolve()
    assert a.choices == b.choices
    assert a.view == b.view
    assert a.notes == b.notes


def test_round_trip_keeps_every_value_exactly(tmp_path):
    session = _study(tmp_path / "study")
    path = sf.write_session(session, tmp_path / "study" / "study.milna-session.json")
    back = sf.read_session(path)
    _same(session, back)
    # floats come back bit for bit (json writes repr)
    assert back.layers[1].statistic.threshold == 0.1 + 0.2
    assert back.choices.smoothness.fwhm_mm == (6.000000000000001, 6.0, 5.999)
    assert back.view.cursor_mm[2] == -9.000000000000002
    data = json.loads(path.read_text())
    assert data["format"] == sf.SESSION_FORMAT and data["version"] == sf.SESSION_VERSION
    # paths relative to the session file's folder, the absolute one as well
    assert data["layers"][0]["file"]["path"] == "data/T1w.nii.gz"
    assert data["layers"][2]["file"]["path"] == "study_desc-PAG_dseg.nii.gz"
    assert data["layers"][0]["file"]["absolute_path"] == (
        tmp_path / "study" / "data" / "T1w.nii.gz").as_posix()
    assert data["analysis_folder"]["path"] == "data"
    assert data["layers"][3]["file"] is None and data["layers"][3]["atlas"] == "harvard-oxford"


def test_moved_study_opens_by_relative_paths_and_moved_file_by_absolute(tmp_path):
    session = _study(tmp_path / "study")
    path = sf.write_session(session, tmp_path / "study" / "s.milna-session.json")
    moved = shutil.move(str(tmp_path / "study"), str(tmp_path / "elsewhere"))
    back = sf.read_session(Path(moved) / "s.milna-session.json")
    assert back.layers[0].path == Path(moved) / "data" / "T1w.nii.gz"
    assert back.missing() == []
    # the session file alone moved away from an unmoved study: the absolute paths hold
    session2 = _study(tmp_path / "study2")
    path = sf.write_session(session2, tmp_path / "study2" / "s.milna-session.json")
    (tmp_path / "away").mkdir()
    alone = shutil.move(str(path), str(tmp_path / "away" / "s.milna-session.json"))
    back = sf.read_session(alone)
    assert back.layers[1].path == tmp_path / "study2" / "data" / "spmT_0001.nii"
    assert back.missing() == []


def test_a_file_gone_is_said_and_the_rest_kept(tmp_path):
    session = _study(tmp_path / "study")
    path = sf.write_session(session, tmp_path / "study" / "s.milna-session.json")
    (tmp_path / "study" / "data" / "T1w.nii.gz").unlink()
    back = sf.read_session(path)
    missing = back.missing()
    assert len(missing) == 1
    assert "T1w.nii.gz" in missing[0] and "'T1w'" in missing[0] and "does not exist" in missing[0]
    assert [r.name for r in back.openable()] == ["group T", "ROIs", "Harvard-Oxford"]


def test_never_over_an_existing_file_unless_asked(tmp_path):
    session = _study(tmp_path / "study")
    path = sf.write_session(session, tmp_path / "study" / "s.milna-session.json")
    before = path.read_text()
    session.view.plane = "axial"
    with pytest.raises(MilnaInputError, match="already exists"):
        sf.write_session(session, path)
    assert path.read_text() == before
    sf.write_session(session, path, overwrite=True)
    assert sf.read_session(path).view.plane == "axial"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        ("{not json", "is not readable JSON"),
        ('["a list"]', "does not hold a JSON object"),
        ('{"layers": []}', "is not a napari-milna session file"),
        (json.dumps({"format": sf.SESSION_FORMAT, "version": sf.SESSION_VERSION + 1}),
         f"version {sf.SESSION_VERSION + 1}, written by a newer napari-milna"),
        (json.dumps({"format": sf.SESSION_FORMAT, "version": "one"}), "version must be"),
        (json.dumps({"format": sf.SESSION_FORMAT, "version": 1, "view": {"plane": "oblique"}}),
         "view.plane must be one of axial, coronal, sagittal"),
        (json.dumps({"format": sf.SESSION_FORMAT, "version": 1,
                     "layers": [{"name": "x", "layer_type": "image", "origin": "file"}]}),
         "names no file"),
    ],
)
def test_bad_files_give_one_sentence_naming_the_file(tmp_path, content, words):
    path = tmp_path / "bad.milna-session.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MilnaInputError) as info:
        sf.read_session(path)
    message = str(info.value)
    assert str(path) in message and words in message
    assert message.count(". ") == 0 and "\n" not in message


def test_names_and_detection(tmp_path):
    assert sf.session_stem("a/study.milna-session.json") == "study"
    assert sf.session_stem("b/other.json") == "other"
    assert sf.with_session_suffix(tmp_path / "x") == tmp_path / "x.milna-session.json"
    assert sf.with_session_suffix(tmp_path / "x.json") == tmp_path / "x.json"
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"format": sf.SESSION_FORMAT, "version": 1}))
    other = tmp_path / "other.json"
    other.write_text('{"Columns": ["cardiac"]}')
    assert sf.looks_like_session(plain) and not sf.looks_like_session(other)
    assert not sf.looks_like_session(tmp_path)
