"""The SVC tab follows the study session, inside the milna panel, as a user drives it.

The statistical map, the ROI (layer and label) and the analysis mask are the session's:
the crossover tab's "Send group T to SVC" (which only sets the session's map) switches
the tab's map, an ROI chosen in another tab shows here and one chosen here goes to the
session, and the tab says what it searches. Expected numbers come from the core run on
the files read back with nibabel, and from counts of the voxels painted here.
"""

from __future__ import annotations

import itertools

import nibabel as nib
import numpy as np

from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import set_roi_names
from napari_milna._napari.session import StudySession
from napari_milna.core.io.geometry import Grid
from napari_milna.core.svc.correction import small_volume_correction
from napari_milna.core.svc.smoothness import smoothness_from_fwhm_mm
from napari_milna.widgets.crossover.svc_handoff import send_to_svc
from napari_milna.widgets.panel.panel import open_panel
from tests.conftest import make_affine, write_nifti

SHAPE = (16, 18, 16)
AFFINE = make_affine((2, 2, 2), (20.0, -30.0, -20.0), flip_x=True)
PAG_BOX = (slice(6, 11), slice(7, 12), slice(6, 11))  # 125 voxels
RVM_BOX = (slice(2, 5), slice(2, 5), slice(2, 4))  # 18 voxels
TIMEOUT = 10000


def t_map(seed: int, peak: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.uniform(-1.0, 1.0, SHAPE).astype(np.float32)
    data[8, 9, 8] = peak
    data[3, 3, 3] = peak - 0.5
    return data


def box_voxels(box):
    return list(itertools.product(*(range(s.start, s.stop) for s in box)))


def svc_tab(viewer):
    panel = open_panel(viewer, tab="SVC")
    return panel, panel.tab("SVC")


def draw_rois(viewer, on_layer):
    """napari's "New labels" on the map, PAG (1) and RVM (2) painted with the brush."""
    layer = viewer.add_labels(np.zeros(SHAPE, np.uint8), name="ROIs", scale=on_layer.scale,
                              translate=on_layer.translate, affine=on_layer.affine)
    set_roi_names(layer, {1: "PAG", 2: "RVM"})
    layer.brush_size = 1
    for label, box in ((1, PAG_BOX), (2, RVM_BOX)):
        for ijk in box_voxels(box):
            layer.paint(ijk, label)
    return layer


def first_line(dock) -> str:
    """The summary's first line: what the tab searched."""
    return dock.results.summary_text().splitlines()[0]


def core_svc(path, roi_box, df):
    data = np.asarray(nib.load(str(path)).dataobj)
    grid = Grid(SHAPE, nib.load(str(path)).affine)
    roi = np.zeros(SHAPE, bool)
    roi[roi_box] = True
    return small_volume_correction(data, roi, grid, smoothness_from_fwhm_mm(4.0, grid), "T", df)


def test_send_group_t_to_svc_switches_the_tab_map(make_napari_viewer, qtbot, tmp_path):
    first = write_nifti(tmp_path / "spmT_0001.nii", t_map(0, 5.0), AFFINE, 4,
                        "SPM{T_[20.0]} - contrast 1: pain")
    # named as the crossover tab writes it: a BIDS stat-t map without a sidecar, so its
    # folder names no df and the header's SPM{T_[14.0]} gives it (as milna svc does)
    group = write_nifti(tmp_path / "group_contrast-interaction_stat-t_statmap.nii",
                        t_map(1, 6.0), AFFINE, 4, "SPM{T_[14.0]} - crossover group T")
    viewer = make_napari_viewer(show=True)
    viewer.open(str(first), plugin="napari-milna")
    panel, dock = svc_tab(viewer)
    rois = draw_rois(viewer, viewer.layers["spmT_0001"])
    dock.smoothness.source.value = "fwhm_mm"
    dock.smoothness.fwhm.value = "4"
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.n_voxels == 125,
                    timeout=TIMEOUT)
    assert dock.result.df == 20.0 and dock.form.stat_map.value is viewer.layers["spmT_0001"]
    # the crossover tab's hand-off only sets the session's map: the tab follows it
    layer, message = send_to_svc(viewer, group, "crossover group T: interaction")
    assert StudySession.of(viewer).stat_map is layer
    assert dock.form.stat_map.value is layer and dock.form.df.value == "14"
    assert dock.form.df_source.value == "SPM header"
    assert panel.tabs.tabText(panel.tabs.currentIndex()) == "SVC"
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.df == 14.0,
                    timeout=TIMEOUT)
    assert dock.result.to_dict() == core_svc(group, PAG_BOX, 14.0).to_dict()
    assert first_line(dock) == "SVC in PAG (label 1 of ROIs) on crossover group T: interaction"
    assert dock.form.roi_layer.value is rois and dock.messages == []
    # choosing the first map again in the tab goes back to the session
    dock.form.stat_map.value = viewer.layers["spmT_0001"]
    assert StudySession.of(viewer).stat_map is viewer.layers["spmT_0001"]
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.df == 20.0,
                    timeout=TIMEOUT)


def test_roi_and_mask_follow_the_session_and_the_tab_says_which(make_napari_viewer, qtbot,
                                                                 tmp_path):
    path = write_nifti(tmp_path / "spmT_0001.nii", t_map(0, 5.0), AFFINE, 4,
                       "SPM{T_[20.0]} - contrast 1: pain")
    mask = np.zeros(SHAPE, np.uint8)
    mask[:, :, 3:] = 1  # drops the lowest RVM slice (k = 2)
    mask_path = write_nifti(tmp_path / "mask.nii", mask, AFFINE)
    viewer = make_napari_viewer(show=True)
    viewer.open(str(path), plugin="napari-milna")
    viewer.open(str(mask_path), plugin="napari-milna")
    session = StudySession.of(viewer)
    _, dock = svc_tab(viewer)
    rois = draw_rois(viewer, viewer.layers["spmT_0001"])
    dock.smoothness.source.value = "fwhm_mm"
    dock.smoothness.fwhm.value = "4"
    # the ROIs tab selects RVM (it sets the session's ROI): the SVC searches RVM and says so
    session.set_roi(rois, 2)
    assert dock.form.roi_layer.value is rois and dock.form.roi_label.value == 2
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.n_roi_voxels == 18,
                    timeout=TIMEOUT)
    assert first_line(dock) == "SVC in RVM (label 2 of ROIs) on spmT_0001"
    assert dock.result.to_dict() == core_svc(path, RVM_BOX, 20.0).to_dict()
    # another labels layer appears (a new seed): the tab stays on the ROI the user chose
    viewer.add_labels(np.ones(SHAPE, np.uint8), name="seeded later",
                      scale=rois.scale, translate=rois.translate, affine=rois.affine)
    assert session.roi_layer is rois and dock.form.roi_layer.value is rois
    # the user picks PAG in the tab: it goes to the session
    dock.form.roi_label.value = 1
    assert (session.roi_layer, session.roi_label) == (rois, 1)
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.n_roi_voxels == 125,
                    timeout=TIMEOUT)
    assert first_line(dock) == "SVC in PAG (label 1 of ROIs) on spmT_0001"
    # the analysis mask: chosen in the session, shown and used by the tab; (none) goes back
    session.set_roi(rois, 2)
    session.set_mask("analysis", viewer.layers["mask"])
    assert dock.form.mask.value is viewer.layers["mask"]
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.n_voxels == 9
                    and dock.result.n_roi_voxels == 18, timeout=TIMEOUT)
    assert first_line(dock).endswith(", mask: mask")
    dock.form.mask.value = None
    assert session.masks["analysis"] is None
    qtbot.waitUntil(lambda: dock.result is not None and dock.result.n_voxels == 18,
                    timeout=TIMEOUT)
    assert source_of(rois).grid.matches(source_of(viewer.layers["spmT_0001"]).grid)
