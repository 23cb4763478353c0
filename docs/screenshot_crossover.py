"""Screenshot of the crossover tab of the milna panel on the sample study (run under Xvfb).

Usage::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot_crossover.py \
        docs/crossover_dock.png [--plane axial|coronal|sagittal] [--subject sub-07] \
        [--top map] [--collapse study ...] [--layer-list 110]
"""

from __future__ import annotations

import argparse
import time

import imageio.v3 as iio
import napari
from _screenshot import settle  # docs/ is on sys.path when run as a script
from napari_milna.sample_data import ensure_sample_study
from qtpy.QtCore import Qt
from qtpy.QtGui import QCursor

from napari_milna._napari.compat import camera, layer_list_dock, main_window
from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.viewer.cursor_overlay import show_cursor


def main() -> None:
    """Load the sample crossover in the panel, show the interaction T at the PAG, save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--plane", default="sagittal")
    parser.add_argument("--subject", default="sub-07")
    parser.add_argument("--zoom", type=float, default=1.2)
    parser.add_argument("--top", default="map",
                        help="section at the top of the tab (study, map, rois, plot, subjects)")
    parser.add_argument("--collapse", nargs="*", default=[],
                        help="sections to collapse (study, map, rois, plot, subjects)")
    parser.add_argument("--layer-list", type=int, default=110,
                        help="height of napari's layer list (pixels; 0: as the panel puts it)")
    args = parser.parse_args()
    study = ensure_sample_study()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    panel = open_panel(viewer)
    viewer.open(str(study.anat_t1w), plugin="napari-milna")
    viewer.open(str(study.regions_dseg), plugin="napari-milna")
    session = StudySession.of(viewer)
    session.set_roi(viewer.layers[-1], 1)  # the planted regions as the ROI layer, PAG chosen
    viewer.layers[-1].visible = False
    dock = panel.show_tab("Crossover")
    dock.study_form.study.value = study.crossover_table
    end = time.time() + 120
    while dock.result is None and time.time() < end:
        settle(0.2)
    state = ViewerState.of(viewer)
    state.set_plane(args.plane)
    dock.set_p_threshold(0.005)
    if args.subject:
        dock.load_subject(args.subject)
        dock.subject_layer.visible = False
    viewer.layers.selection.active = dock.display_layer
    camera(viewer).zoom *= args.zoom
    dock.go_to_roi("PAG")
    show_cursor(viewer, True)
    QCursor.setPos(0, 0)
    viewer.mouse_over_canvas = False
    for key in args.collapse:
        dock.sections[key].collapse(animate=False)
    if args.layer_list:  # as a user drags the splitters: more room for the tab
        window = main_window(viewer)
        dock_widget = panel.parentWidget()
        window.resizeDocks([dock_widget, layer_list_dock(viewer)], [1000, args.layer_list],
                           Qt.Orientation.Vertical)
        panel.splitter.setSizes([1000, 1])
    settle(0.5)
    dock._scroll.verticalScrollBar().setValue(dock.sections[args.top].y())
    settle(2.0)
    iio.imwrite(args.out, viewer.screenshot(canvas_only=False, flash=False))
    viewer.close()


if __name__ == "__main__":
    main()
