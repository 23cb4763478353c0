"""Screenshot of the SVC dock on the sample study: group T map, PAG ROI, sagittal view at the PAG.

The PAG is seeded on the group T map's grid (Satpute et al. 2013 hollow cylinder),
the SVC runs at FWHM 6 mm, and the paired sign-flip permutation (drug pain - placebo
pain effect maps of the 15 crossover subjects, all 2^15 flips) runs in the worker.

Usage (under Xvfb)::

    MILNA_RECOVERY_DIR=/tmp/milna-recovery xvfb-run -a -s "-screen 0 1700x1100x24" \
        .venv/bin/python docs/screenshot_svc_dock.py docs/svc_dock.png
"""

from __future__ import annotations

import argparse
import time

import imageio.v3 as iio
import napari
import numpy as np
from _screenshot import settle  # docs/ is on sys.path when run as a script
from napari_milna.sample_data import ensure_sample_study

from napari_milna._napari.compat import camera
from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.core.roi.seeds import seed_roi
from napari_milna.widgets.roi import dialogs as roi_dialogs


def main() -> None:
    """Open the sample study, seed the PAG, run SVC and permutation, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=7.0, help="screen pixels per mm")
    args = parser.parse_args()
    study = ensure_sample_study()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1700, 1100)
    viewer.open_sample("napari-milna", "sample_study")
    tmap = next(lay for lay in viewer.layers if "interaction" in lay.name)
    src = source_of(tmap)
    seed = seed_roi("PAG", study.group_tmap)
    roi = add_roi_layer(viewer, src.grid, src.source, tmap.name,
                        labels=seed.mask.astype(np.uint8), names={1: "PAG"}, name="PAG ROI")
    roi.opacity = 0.6
    _, dock = viewer.window.add_plugin_dock_widget("napari-milna", "Small-volume correction")
    dock.stat_combo.set_layer(tmap)
    dock.smoothness.fwhm_edit.setText("6")
    dock.recompute()
    firstlevel = study.crossover_table.parent
    panel = dock.permutation
    panel.design_combo.setCurrentIndex(1)
    panel.images.add_glob(str(firstlevel / "sub-*/ses-drug/*contrast-pain_*.nii.gz"))
    panel.placebo.add_glob(str(firstlevel / "sub-*/ses-placebo/*contrast-pain_*.nii.gz"))
    dock.sections["Permutation test (second level)"].expand(animate=False)
    panel.run()
    end = time.time() + 120
    while panel.running and time.time() < end:
        settle(0.2)
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    camera(viewer).zoom = args.zoom
    state.go_to_world(dock.result.peak.xyz_mm)
    settle(1.5)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    roi_dialogs.ask_unsaved = lambda *a: "discard"  # a demo: nothing to keep
    viewer.close()


if __name__ == "__main__":
    main()
