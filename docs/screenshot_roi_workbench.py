"""Screenshot of the ROIs tab of the milna panel on the sample study, for the README.

PAG and RVM seeded, the PAG selected (the ROI the SVC, QC and Crossover tabs use),
ROIs drawn as outlines over the group T map; axial view through the PAG by default.

Usage (under Xvfb)::

    MILNA_RECOVERY_DIR=/tmp/milna-recovery xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python docs/screenshot_roi_workbench.py docs/roi_workbench.png \
        [--filled] [--refine] [--plane sagittal --at 1.25,-33,-24 --zoom 8]
"""

from __future__ import annotations

import argparse

import imageio.v3 as iio
import napari
from _screenshot import settle  # docs/ is on sys.path when run as a script
from qtpy.QtGui import QCursor

from napari_milna._napari.compat import camera
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.roi import dialogs as roi_dialogs

#: The PAG centroid (Satpute et al. 2013; DESIGN.md), MNI mm.
PAG_MNI = (0.5, -31.0, -9.0)


def main() -> None:
    """Open the sample study, seed PAG and RVM in the ROIs tab and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=10.0, help="screen pixels per mm")
    parser.add_argument("--filled", action="store_true", help="ROIs filled, not outlined")
    parser.add_argument("--refine", action="store_true", help="open the refine section")
    parser.add_argument("--plane", default="axial", choices=("axial", "coronal", "sagittal"))
    parser.add_argument("--at", default=PAG_MNI, help="world mm to centre on: x,y,z",
                        type=lambda text: tuple(float(v) for v in text.split(",")))
    args = parser.parse_args()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    panel = open_panel(viewer, tab="ROIs")
    viewer.open_sample("napari-milna", "sample_study")
    dock = panel.tab("ROIs")
    for region in ("PAG", "RVM"):
        dock.seed.region.value = region
        dock.seed.seed_button.native.click()
    dock.facts.table.cellClicked.emit(dock.facts.row_of("PAG"), 0)
    dock.outline.value = not args.filled
    if args.refine:
        dock.sections["Seed PAG / RVM"].collapse(animate=False)
        dock.sections["Refine selected ROI"].expand(animate=False)
    state = ViewerState.of(viewer)
    state.set_plane(args.plane)
    camera(viewer).zoom = args.zoom
    QCursor.setPos(0, 0)  # the mouse rests off the canvas
    viewer.mouse_over_canvas = False
    state.go_to_world(args.at)
    settle(2.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    roi_dialogs.ask_unsaved = lambda *a: "discard"  # a demo: nothing to keep
    viewer.close()


if __name__ == "__main__":
    main()
