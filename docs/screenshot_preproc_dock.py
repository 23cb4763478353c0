r"""Screenshot of the Preprocessing tab of the milna panel on the sample study.

Opens the sample study with napari's sample loader (the session's run, brain mask and
CSF map), brings the panel's Preprocessing tab forward, chooses RETROICOR + RVT + HR,
detects the cardiac peaks, computes the regressors and their partial R^2 map, and
shows the R^2 map over the T1 in a sagittal plane through the brainstem (x = 5 mm:
beside the midline, whose interhemispheric CSF pulsates everywhere), with the pulse
trace and the RVT / heart-rate traces in the tab. Nothing is written outside a
temporary folder.

Usage (under Xvfb)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \
        docs/screenshot_preproc_dock.py [docs/preproc_dock.png] [--section NAME]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from _screenshot import settle  # docs/ is on sys.path when run as a script
from napari._qt.dialogs.qt_notification import NapariQtNotification
from PIL import Image
from qtpy.QtCore import QPoint, Qt
from qtpy.QtWidgets import QScrollArea

from napari_milna._napari.compat import camera, layer_list_dock, main_window
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.panel.panel import open_panel

OUT = Path(__file__).with_name("preproc_dock.png")


def wait(step, timeout: float = 300.0) -> None:
    """Let Qt run until the step's job is done."""
    end = time.time() + timeout
    while step.runner.running:
        if time.time() > end:
            raise TimeoutError(step.status.text())
        settle(0.05)


def main() -> None:
    """Build the scene and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(OUT))
    parser.add_argument("--section", default=None,
                        help="the section scrolled to the top of the tab (default: the pulse "
                             "trace, then the RVT and heart-rate traces)")
    parser.add_argument("--glm", metavar="PNG",
                        help="also run the first-level GLM and save the tab at its results")
    args = parser.parse_args()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    viewer.open_sample("napari-milna", "sample_study")
    panel = open_panel(viewer, tab="Preprocessing")
    dock = panel.tab("Preprocessing")
    settle(0.5)
    with tempfile.TemporaryDirectory() as tmp:
        dock.run_form.output.value = tmp
        physio = dock.physio
        physio.form.model.value = "retroicor+rvt+hr"
        physio.detect()
        wait(physio)
        physio.compute()
        wait(physio)
        dock.motion.compute()
        wait(dock.motion)
    r2 = next(layer for layer in viewer.layers if layer.name.startswith("RETROICOR"))
    for layer in viewer.layers:
        layer.visible = layer is r2 or layer.name == "T1w template"
    viewer.layers.selection.active = r2
    physio.editor.plot.set_window(100.0)
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    settle(0.5)
    camera(viewer).zoom *= 1.2
    state.go_to_world((5.0, -28.0, -6.0))
    settle(1.0)
    # napari's layer list shorter, so that the tab shows more (the user drags the same edge)
    main_window(viewer).resizeDocks([layer_list_dock(viewer)], [150], Qt.Orientation.Vertical)
    settle(0.5)
    panel.splitter.setSizes([10_000, 1])  # the cursor strip at its smallest (drag it)
    settle(0.5)
    area = dock.findChild(QScrollArea)
    if args.section:
        dock.sections[args.section].expand(animate=False)
        settle(0.5)
        top = dock.sections[args.section].mapTo(area.widget(), QPoint(0, 0)).y() - 4
    else:  # the whole RVT / HR plot at the bottom, the pulse trace above it
        plot = physio.rvt_plot
        top = plot.mapTo(area.widget(), QPoint(0, plot.height())).y() - area.viewport().height()
    area.verticalScrollBar().setValue(top + 4)
    save(viewer, args.out)
    if args.glm:
        with tempfile.TemporaryDirectory() as tmp:
            dock.run_form.output.value = tmp
            dock.glm.run()
            wait(dock.glm)
        for title, section in dock.sections.items():
            section.collapse(animate=False) if title != "First-level GLM" else section.expand(
                animate=False)
        settle(1.0)
        area.verticalScrollBar().setValue(
            dock.sections["First-level GLM"].mapTo(area.widget(), QPoint(0, 0)).y() - 4)
        save(viewer, args.glm)
    viewer.close()


def save(viewer, out) -> None:
    """Close napari's toasts, then save the window (256 colours)."""
    for toast in main_window(viewer).findChildren(NapariQtNotification):
        toast.close()  # napari's toasts would cover the canvas
    settle(1.0)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    image = Image.fromarray(np.asarray(shot)[..., :3])
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"{out}: {Path(out).stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
