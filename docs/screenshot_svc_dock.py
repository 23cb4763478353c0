r"""Screenshot of the SVC tab of the milna panel on the sample study, sagittal at the PAG.

The sample opens its SPM second-level folder (df 14 and FWHM 6 mm from SPM.mat, mask.nii
as the analysis mask); the PAG is seeded on the group T map's grid (Satpute et al. 2013
hollow cylinder, painted into napari's "New labels" on the map) and chosen as the
session's ROI, as the ROIs tab does; the SVC tab shows
SPM's set / cluster / peak table, and the paired sign-flip test with TFCE (drug pain -
placebo pain effect maps of the 15 crossover subjects, all 2^15 flips) runs through the
panel's job runner.

Usage (under Xvfb)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \
        docs/screenshot_svc_dock.py docs/svc_dock.png
"""

from __future__ import annotations

import argparse
import time

import imageio.v3 as iio
import numpy as np
from _screenshot import sample_in_panel, settle  # docs/ is on sys.path as a script
from napari_milna.sample_data import ensure_sample_study
from qtpy.QtWidgets import QScrollArea

from napari_milna._napari.compat import camera
from napari_milna._napari.layers import find_result_layer
from napari_milna._napari.roi_layers import set_roi_names
from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.core.roi.seeds import seed_roi


def main() -> None:
    """Open the sample study, seed the PAG, run SVC and permutation, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=7.0, help="screen pixels per mm")
    parser.add_argument("--permutation", metavar="PNG",
                        help="also a screenshot with the permutation section open")
    args = parser.parse_args()
    study = ensure_sample_study()
    viewer, panel = sample_in_panel()
    session = StudySession.of(viewer)
    tmap = session.stat_map
    seed = seed_roi("PAG", study.group_tmap)
    # napari's "New labels" on the T map (adopted onto its grid), the PAG seed painted in
    roi = viewer.add_labels(seed.mask.astype(np.uint8), name="PAG ROI", scale=tmap.scale,
                            translate=tmap.translate, affine=tmap.affine, units=tmap.units)
    set_roi_names(roi, {1: "PAG"})
    roi.opacity = 0.3  # faint: the T colours and the survivors show through the PAG
    session.set_roi(roi, 1)
    dock = panel.show_tab("SVC")
    dock.recompute()
    firstlevel = study.crossover_table.parent
    perm = dock.permutation
    perm.design.value = "paired"
    perm.tfce.value = True
    perm.images.add_glob(str(firstlevel / "sub-*/ses-drug/*contrast-pain_*.nii.gz"))
    perm.placebo.add_glob(str(firstlevel / "sub-*/ses-placebo/*contrast-pain_*.nii.gz"))
    perm.run()
    end = time.time() + 300
    while perm.running and time.time() < end:
        settle(0.2)
    for key in ("perm", "tfce"):  # the permutation maps stay in the layer list, hidden
        find_result_layer(viewer, "svc", key).visible = False
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    camera(viewer).zoom = args.zoom
    state.go_to_world(dock.result.peak.xyz_mm)
    # the results: summary and SPM's set / cluster / peak table (the form is one click away)
    dock.sections["Search volume"].collapse(animate=False)
    settle(3.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    if args.permutation:
        dock.sections["Small-volume correction (SPM12 RFT)"].collapse(animate=False)
        dock.sections["Permutation test (second level)"].expand(animate=False)
        settle(0.5)
        bar = dock.findChild(QScrollArea).verticalScrollBar()
        bar.setValue(bar.maximum())
        settle(0.5)
        iio.imwrite(args.permutation, viewer.screenshot(canvas_only=False, flash=False))
    viewer.close()


if __name__ == "__main__":
    main()
