"""The README's lightbox of the sample's PAG result, made by the Viewer tab's "Save lightbox".

Opens the sample study in the milna panel, seeds the PAG (Satpute 2013 cylinder) on
the group T map's grid as the session's ROI, goes to the PAG and presses "Save
lightbox" in the Viewer tab's Lightbox section (axial, z -50 to 0 mm, every slice of
the T map, 80 mm around the cursor, p < 0.001 uncorrected). Run under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/figure_lightbox_pag.py \
        docs/lightbox_pag.png [--dpi 150]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _screenshot import sample_in_panel, settle  # docs/ is on sys.path when run as a script

from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna._napari.sample import PAG_MNI
from napari_milna._napari.session import StudySession
from napari_milna._napari.viewer_state import ViewerState
from napari_milna.api import seed_roi
from napari_milna.widgets.panel import plot_style

T_MAP = "drug x pain interaction (T, df 14)"


def main() -> None:
    """Open the sample, seed the PAG, press "Save lightbox" with the given file name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args()
    viewer, panel = sample_in_panel(1600, 1000, "Viewer")
    session = StudySession.of(viewer)
    tmap = viewer.layers[T_MAP]
    src = tmap.metadata["milna"]
    seed = seed_roi("PAG", src.source)  # on the T map's own 2.5 x 2.5 x 3 mm grid
    roi = add_roi_layer(viewer, src.grid, src.source, tmap.name,
                        labels=seed.mask.astype("uint8"), names={1: "PAG"}, name="PAG")
    session.set_roi(roi, 1)
    ViewerState.of(viewer).go_to_world(PAG_MNI)
    controls = panel.controls
    controls.sections["lightbox"].expand(animate=False)
    controls.figures.dpi.value = args.dpi
    settle(2.0)
    # the file dialog answers with the path asked for; the rest is the button's own work
    plot_style.ask_save_path = lambda parent, title, suggested: args.out.resolve()
    written = controls.lightbox.save_button.native.click()
    settle(0.5)
    print(written if written is not None else args.out)


if __name__ == "__main__":
    main()
