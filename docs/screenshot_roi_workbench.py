"""Screenshot of the ROI workbench on the sample study: PAG and RVM seeded, sagittal view.

Usage (under Xvfb)::

    MILNA_RECOVERY_DIR=/tmp/milna-recovery xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python docs/screenshot_roi_workbench.py docs/roi_workbench.png
"""

from __future__ import annotations

import argparse

import imageio.v3 as iio
import napari
from _screenshot import settle  # docs/ is on sys.path when run as a script

from napari_milna._napari.compat import camera
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.roi import dialogs as roi_dialogs

#: Between the PAG (z about -9) and the RVM (z about -42), on the midline (MNI mm).
BRAINSTEM_MNI = (0.5, -33.0, -24.0)




def main() -> None:
    """Open the sample study, seed PAG and RVM, zoom on the brainstem and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=6.0, help="screen pixels per mm")
    args = parser.parse_args()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    _, dock = viewer.window.add_plugin_dock_widget("napari-milna", "ROI workbench")
    viewer.open_sample("napari-milna", "sample_study")
    for region in ("PAG", "RVM"):
        dock.seed.region_combo.setCurrentText(region)
        dock.seed.seed_button.click()
    dock.facts.table.cellClicked.emit(dock.facts.row_of("PAG"), 0)
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    camera(viewer).zoom = args.zoom
    state.go_to_world(BRAINSTEM_MNI)
    settle(1.5)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    roi_dialogs.ask_unsaved = lambda *a: "discard"  # a demo: nothing to keep
    viewer.close()


if __name__ == "__main__":
    main()
