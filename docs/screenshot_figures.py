"""Screenshots of the Viewer tab's figure tools on the sample study (colour bar, lightbox).

Run under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot_figures.py \
        docs/viewer_figures.png [--plane axial] [--scale-bar]
"""

from __future__ import annotations

import argparse

from _screenshot import sample_in_panel, save_window, settle  # docs/ is on sys.path (script)
from qtpy.QtGui import QCursor

from napari_milna._napari.sample import PAG_MNI
from napari_milna._napari.viewer_state import ViewerState


def main() -> None:
    """Open the sample study, show the lightbox section and save a screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--plane", default="axial")
    parser.add_argument("--scale-bar", action="store_true")
    args = parser.parse_args()
    viewer, panel = sample_in_panel(1600, 1000, "Viewer")
    state = ViewerState.of(viewer)
    state.set_plane(args.plane)
    controls = panel.controls
    controls.sections["display"].collapse(animate=False)
    controls.sections["stats"].collapse(animate=False)
    controls.sections["lightbox"].expand(animate=False)
    controls.figures.scale_bar.value = args.scale_bar
    QCursor.setPos(0, 0)
    viewer.mouse_over_canvas = False
    state.go_to_world(PAG_MNI)
    settle(1.5)
    panel.splitter.setSizes([700, 200])  # room for the lightbox above the cursor strip
    settle(0.5)
    scroll = panel.tabs.widget(0)
    scroll.ensureWidgetVisible(controls.lightbox.canvas)
    save_window(viewer, args.out)


if __name__ == "__main__":
    main()
