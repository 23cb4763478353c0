"""Screenshot of the coverage & dropout QC dock on the sample study run, sagittal brainstem.

PAG and RVM are seeded on the run's own grid; QC runs with the fMRIPrep brain mask and
CSF probability; the view shows the dropout overlay on the mean EPI at the midline.

Usage (under Xvfb)::

    xvfb-run -a -s "-screen 0 1700x1100x24" .venv/bin/python docs/screenshot_qc_dock.py \
        docs/qc_dock.png
"""

from __future__ import annotations

import argparse

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

#: Between the PAG (z about -9) and the RVM (z about -42), on the midline (MNI mm).
BRAINSTEM_MNI = (0.0, -33.0, -26.0)




def main() -> None:
    """Open the sample run, seed PAG and RVM, run QC, zoom on the brainstem, save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=6.0, help="screen pixels per mm")
    args = parser.parse_args()
    study = ensure_sample_study()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1700, 1100)
    _, dock = viewer.window.add_plugin_dock_widget("napari-milna", "Coverage & dropout QC")
    for path in (study.bold, study.brain_mask, study.csf_probseg):
        viewer.open(str(path), plugin="napari-milna")
    run = next(lay for lay in viewer.layers if source_of(lay).is_run)
    src = source_of(run)
    labels = np.zeros(src.grid.shape, np.uint8)
    labels[seed_roi("PAG", src.source).mask] = 1
    labels[seed_roi("RVM", src.source).mask] = 2
    add_roi_layer(viewer, src.grid, src.source, run.name, labels, {1: "PAG", 2: "RVM"})
    dock.start()
    while dock.running:
        settle(0.1)
    for layer in viewer.layers:
        if layer.name.endswith(("brain_mask", "CSF_probseg")):
            layer.visible = False
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    camera(viewer).zoom = args.zoom
    state.go_to_world(BRAINSTEM_MNI)
    dock.table.selectRow(1)
    dock.go_to_roi("RVM")
    state.go_to_world(BRAINSTEM_MNI)
    settle(1.5)
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()  # the "QC done" toast would cover the canvas
    settle(1.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    viewer.close()


if __name__ == "__main__":
    main()
