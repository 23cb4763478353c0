"""Screenshots of the Viewer tab's figure tools on the sample study (colour bar, lightbox).

Run under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot_figures.py \
        docs/viewer_figures.png [--plane axial] [--scale-bar]
"""

from __future__ import annotations

import argparse

import imageio.v3 as iio
import napari
from _screenshot import settle  # docs/ is on sys.path when run as a script
from qtpy.QtGui import QCursor

from napari_milna._napari.sample import PAG_MNI
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import open_panel


def main() -> None:
    """Open the sample study, show the lightbox section and save a screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--plane", default="axial")
    parser.add_argument("--scale-bar", action="store_true")
    args = parser.parse_args()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    panel = open_panel(viewer, "Viewer")
    viewer.open_sample("napari-milna", "sample_study")
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
    settle(2.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))


if __name__ == "__main__":
    main()
