"""Screenshot of the QC tab of the milna panel on the sample study, sagittal brainstem.

The sample opens in the panel (its session gives the run, the brain mask and the CSF
map); PAG and RVM are seeded on the run's own grid; QC runs on the pain run, then the
multi-echo fit on the sample's 3-echo run. The view shows the T2* map (ms) with the
dropout overlays at the midline, the tab scrolled to the multi-echo table (``--section
qc``: the QC table and plot over the anatomy).

Usage (under Xvfb)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot_qc_dock.py \
        docs/qc_dock.png [--section qc|multiecho]
"""

from __future__ import annotations

import argparse

import imageio.v3 as iio
import numpy as np
from _screenshot import sample_in_panel, settle  # docs/ is on sys.path as a script
from qtpy.QtCore import QPoint
from qtpy.QtGui import QCursor
from qtpy.QtWidgets import QScrollArea

from napari_milna._napari.compat import camera
from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.core.roi.seeds import seed_roi

#: Between the PAG (z about -9) and the RVM (z about -42), on the midline (MNI mm).
BRAINSTEM_MNI = (0.0, -33.0, -26.0)


def wait(dock) -> None:
    """Let a job of the tab finish."""
    settle(0.3)
    while dock.running:
        settle(0.1)
    settle(0.3)


def main() -> None:
    """Open the sample in the panel, seed PAG and RVM, run QC and multi-echo, save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=5.0, help="screen pixels per mm")
    parser.add_argument("--section", default="multiecho", choices=("qc", "multiecho"))
    args = parser.parse_args()
    viewer, panel = sample_in_panel(1600, 1000)
    session = StudySession.of(viewer)
    src = source_of(session.run)
    labels = np.zeros(src.grid.shape, np.uint8)
    labels[seed_roi("PAG", src.source).mask] = 1
    labels[seed_roi("RVM", src.source).mask] = 2
    add_roi_layer(viewer, src.grid, src.source, session.run.name, labels,
                  {1: "PAG", 2: "RVM"})
    dock = panel.show_tab("QC")
    dock.start()
    wait(dock)
    dock.start_multiecho()
    wait(dock)
    session.stat_map.visible = False
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    camera(viewer).zoom = args.zoom
    state.go_to_world(BRAINSTEM_MNI)
    if args.section == "multiecho":
        dock.sections["qc"].collapse(animate=False)
        dock.echo.table.selectRow(7)
    else:
        dock.t2star_layer.visible = False
        dock.table.selectRow(1)
    # the user drags the panel's splitter up (the cursor strip keeps its minimum) and
    # scrolls the tab to the results
    panel.splitter.setSizes([10000, 1])
    settle(0.5)
    area = dock.findChild(QScrollArea)
    top = dock.echo.run_button if args.section == "multiecho" else dock.sections["qc"]
    area.verticalScrollBar().setValue(top.mapTo(area.widget(), QPoint(0, 0)).y() - 4)
    QCursor.setPos(0, 0)
    viewer.mouse_over_canvas = False
    settle(1.5)
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()  # the "done" toasts would cover the canvas
    settle(1.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    viewer.close()


if __name__ == "__main__":
    main()
