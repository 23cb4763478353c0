"""save_figure: PNG / SVG / PDF that open, atomic, never over a file unasked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from napari_milna.core.errors import MilnaInputError
from napari_milna.core.figures import (
    FigureScene,
    StatOverlay,
    Underlay,
    colorbar_figure,
    lightbox_figure,
    save_figure,
    stat_label,
)
from napari_milna.core.viewer.display_values import StatRamp
from tests.core.figures.figure_data import load, ramp, write_maps


@pytest.fixture
def lightbox(tmp_path):
    tpath, apath, _, _ = write_maps(tmp_path)
    t, tgrid = load(tpath)
    anat, agrid = load(apath)
    scene = FigureScene(Underlay(anat, agrid), StatOverlay(t, tgrid, ramp(), "T", 14.0))
    return lightbox_figure(scene, range_mm=(-30, -18), title="test map")


def pdf_structure(data: bytes) -> dict:
    """Pages and the cross-reference table of a PDF, read by hand (PDF 1.4, section 3.4)."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\s+(\d+)", data[-100:]).group(1))
    assert data[start:start + 4] == b"xref"  # the offset points at the table
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)
    return {
        "pages": len(re.findall(rb"/Type\s*/Page\b", data)),
        "mediabox": [float(v) for v in boxes[0].split()],
    }


def test_png_svg_pdf_open_with_the_figure_size(lightbox, tmp_path):
    width, height = lightbox.get_size_inches()
    png = save_figure(lightbox, tmp_path / "box.png", dpi=120)
    with Image.open(png) as im:
        assert im.format == "PNG"
        assert im.size == (round(width * 120), round(height * 120))
    svg = save_figure(lightbox, tmp_path / "box.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    # text stays text: slice coordinates, letters, the colour bar's title
    for expected in ("z = -30", "z = -18", "L", "R", "A", "P", "T (df 14)", "test map"):
        assert expected in texts
    assert float(root.get("width").rstrip("pt")) == pytest.approx(width * 72)
    pdf = save_figure(lightbox, tmp_path / "box.pdf")
    structure = pdf_structure(pdf.read_bytes())
    assert structure["pages"] == 1
    np.testing.assert_allclose(structure["mediabox"], [0, 0, width * 72, height * 72], atol=0.01)


def test_never_overwrites_unasked_and_leaves_no_temporary(tmp_path):
    fig = Figure(figsize=(1, 1))
    target = tmp_path / "plot.png"
    target.write_bytes(b"keep me")
    with pytest.raises(MilnaInputError, match="already exists"):
        save_figure(fig, target)
    assert target.read_bytes() == b"keep me"
    save_figure(fig, target, dpi=50, overwrite=True)
    with Image.open(target) as im:
        assert im.size == (50, 50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]


def test_bad_names_are_one_sentence(tmp_path):
    fig = Figure(figsize=(1, 1))
    with pytest.raises(MilnaInputError, match=r"plot\.tiff: is not a \.png, \.svg or \.pdf"):
        save_figure(fig, tmp_path / "plot.tiff")
    with pytest.raises(MilnaInputError, match="is not an existing folder"):
        save_figure(fig, tmp_path / "missing" / "plot.png")


def test_stat_labels_and_one_sided_colour_bar():
    assert stat_label("T", 14.0) == "T (df 14)"
    assert stat_label("T", 13.57) == "T (df 13.57)"
    assert stat_label("F", (2.0, 30.0)) == "F (df 2, 30)"
    assert stat_label("Z", 20) == "Z"
    assert stat_label("T", None) == "T"
    fig = colorbar_figure(StatRamp(4.0, 10.0, two_sided=False), stat_label("F", (2, 30)))
    cax = fig.axes[0]
    assert cax.get_title() == "F (df 2, 30)"
    assert cax.get_ylim() == (0.0, 10.0)  # one-sided: no negative half
    assert list(cax.get_yticks()) == [4.0, 10.0]


def test_a_file_that_appears_while_saving_is_kept(tmp_path):
    """Exclusive creation: another writer's file, made during the save, is not replaced."""
    target = tmp_path / "race.png"

    class Racing(Figure):
        def savefig(self, *args, **kwargs):
            target.write_bytes(b"the other writer")
            return super().savefig(*args, **kwargs)

    with pytest.raises(MilnaInputError):
        save_figure(Racing(figsize=(1, 1)), target)
    assert target.read_bytes() == b"the other writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.png"]
