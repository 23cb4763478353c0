"""Screenshot of the viewer on the sample study, for the README (run under Xvfb).

Usage::

    xvfb-run -a -s "-screen 0 1700x1100x24" .venv/bin/python docs/screenshot_viewer.py \
        docs/viewer.png [--plane axial|coronal|sagittal] [--ortho] [--run]
"""

from __future__ import annotations

import argparse

import imageio.v3 as iio
import napari
from _screenshot import settle  # docs/ is on sys.path when run as a script

from napari_milna._napari.sample import PAG_MNI
from napari_milna._napari.viewer_state import ViewerState


def main() -> None:
    """Open the sample study, arrange the views and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--plane", default="axial")
    parser.add_argument("--ortho", action="store_true")
    parser.add_argument("--run", action="store_true", help="show the pain run")
    args = parser.parse_args()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    _, dock = viewer.window.add_plugin_dock_widget("napari-milna", "Brainstem viewer")
    viewer.open_sample("napari-milna", "sample_study")
    state = ViewerState.of(viewer)
    state.set_plane(args.plane)
    if args.ortho:
        dock.ortho.setChecked(True)
    if args.run:
        viewer.layers["pain run (sub-01)"].visible = True
    state.go_to_world(PAG_MNI)
    settle(1.5)
    dock.cursor.show_at(state.world_point(viewer.dims.point))
    dock.timeseries.update_plot()
    settle(3.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))


if __name__ == "__main__":
    main()
