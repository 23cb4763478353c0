"""Screenshot of the crossover explorer on the sample study (run under Xvfb).

Usage::

    xvfb-run -a -s "-screen 0 1700x1100x24" .venv/bin/python docs/screenshot_crossover.py \
        docs/crossover_dock.png [--plane axial|coronal|sagittal]
"""

from __future__ import annotations

import argparse
import time

import imageio.v3 as iio
import napari
from _screenshot import settle  # docs/ is on sys.path when run as a script
from napari_milna.sample_data import ensure_sample_study

from napari_milna._napari.compat import camera
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.crossover.dock import CrossoverDock
from napari_milna.widgets.viewer.cursor_overlay import show_cursor


def main() -> None:
    """Load the sample crossover, show the interaction T at the PAG and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--plane", default="sagittal")
    parser.add_argument("--subject", default="sub-07")
    parser.add_argument("--zoom", type=float, default=1.25)
    args = parser.parse_args()
    study = ensure_sample_study()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1650, 1050)
    viewer.open(str(study.anat_t1w), plugin="napari-milna")
    dock = CrossoverDock(viewer)
    viewer.window.add_dock_widget(dock, name="Crossover explorer", area="right")
    dock.load_table(study.crossover_table, roi_files=[study.regions_dseg])
    end = time.time() + 120
    while dock.result is None and time.time() < end:
        settle(0.2)
    dock.sections["study"].collapse(animate=False)
    state = ViewerState.of(viewer)
    state.set_plane(args.plane)
    dock.set_view("interaction", "t")
    dock.set_p_threshold(0.005)
    dock.roi_table.select_roi("PAG")
    dock.select_roi("PAG")
    if args.subject:
        row = dock.subject_table.row_of(args.subject)
        dock.subject_table.selectRow(row)
        dock.plot.show_roi(dock.roi_stats("PAG"), dock._ylabel(), args.subject)
        dock.current_subject = args.subject
    viewer.layers.selection.active = dock.display_layer
    camera(viewer).zoom *= args.zoom
    dock.go_to_roi("PAG")
    show_cursor(viewer, True)
    settle(2.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    viewer.close()


if __name__ == "__main__":
    main()
