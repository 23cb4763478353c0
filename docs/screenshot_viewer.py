"""Screenshot of the viewer with the milna panel on the sample study, for the README.

Run under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot_viewer.py \
        docs/viewer.png [--plane axial|coronal|sagittal] [--ortho] [--run] [--tab ROIs]
"""

from __future__ import annotations

import argparse

from _screenshot import sample_in_panel, save_window  # docs/ is on sys.path as a script
from qtpy.QtGui import QCursor

from napari_milna._napari.sample import PAG_MNI
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import TAB_TITLES


def main() -> None:
    """Open the sample study in the milna panel, arrange the views and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--plane", default="axial")
    parser.add_argument("--ortho", action="store_true")
    parser.add_argument("--run", action="store_true", help="show the pain run")
    parser.add_argument("--tab", default="Viewer", choices=TAB_TITLES)
    args = parser.parse_args()
    viewer, panel = sample_in_panel(1600, 1000)
    state = ViewerState.of(viewer)
    state.set_plane(args.plane)
    if args.ortho:
        panel.controls.ortho.setChecked(True)
    if args.run:
        viewer.layers["pain run (sub-01)"].visible = True
    panel.show_tab(args.tab)
    QCursor.setPos(0, 0)  # the mouse rests off the canvas: the status bar shows the cursor
    viewer.mouse_over_canvas = False
    state.go_to_world(PAG_MNI)
    save_window(viewer, args.out, 3.0)


if __name__ == "__main__":
    main()
