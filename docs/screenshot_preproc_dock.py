"""Screenshot of the preprocessing dock on the sample study -> docs/preproc_dock.png.

Run under Xvfb::

    xvfb-run -a -s "-screen 0 1700x1100x24" .venv/bin/python docs/screenshot_preproc_dock.py

Opens the T1 template, the pain run, the CSF probability and the brain mask, detects
the cardiac peaks, computes RETROICOR and its partial R^2 map and the framewise
displacement, then shows the R^2 map over the T1 in a sagittal plane through the
brainstem (x = 5 mm: beside the midline, whose interhemispheric CSF pulsates
everywhere). Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from napari_milna.sample_data import ensure_sample_study
from PIL import Image
from qtpy.QtWidgets import QApplication

from napari_milna._napari.compat import camera
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.widgets.preproc.dock import PreprocessingDock

OUT = Path(__file__).with_name("preproc_dock.png")


def settle(app, seconds: float = 0.5) -> None:
    """Process Qt events for ``seconds``."""
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def wait(app, panel, timeout: float = 120.0) -> None:
    """Process Qt events until the panel's worker job is done."""
    end = time.time() + timeout
    while panel.runner.running:
        if time.time() > end:
            raise TimeoutError(panel.status.text())
        app.processEvents()
        time.sleep(0.02)


def main(out: Path = OUT) -> Path:
    """Build the scene and save the screenshot to ``out``."""
    study = ensure_sample_study()
    viewer = napari.Viewer()
    app = QApplication.instance()
    viewer.window._qt_window.resize(1700, 1100)
    dock = PreprocessingDock(viewer)
    viewer.window.add_dock_widget(dock, name="Preprocessing", area="right")
    for path in (study.anat_t1w, study.bold, study.csf_probseg, study.brain_mask):
        viewer.open(path, plugin="napari-milna")
    with tempfile.TemporaryDirectory() as tmp:
        dock.out_field.set_path(tmp)
        dock.physio.detect()
        wait(app, dock.physio)
        dock.physio.compute()
        wait(app, dock.physio)
        dock.motion.compute()
        wait(app, dock.motion)
    r2 = next(layer for layer in viewer.layers if layer.name.startswith("RETROICOR"))
    for layer in viewer.layers:
        layer.visible = layer is r2 or layer.name.endswith("preproc_T1w")
    viewer.layers.selection.active = r2
    dock.sections["Run and files"].collapse(animate=False)
    dock.physio.plot.set_window(100.0)
    state = ViewerState.of(viewer)
    state.set_plane("sagittal")
    settle(app)
    camera(viewer).zoom *= 1.2
    state.go_to_world((5.0, -28.0, -6.0))
    settle(app, 1.0)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    image = Image.fromarray(np.asarray(shot)[..., :3])
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    viewer.close()
    return out


if __name__ == "__main__":
    path = main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"{path}: {path.stat().st_size / 1024:.0f} KB")
