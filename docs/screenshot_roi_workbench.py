"""Screenshot of the ROIs tab of the milna panel on the sample study, for the README.

PAG and RVM seeded, the PAG selected (the ROI the SVC, QC and Crossover tabs use),
ROIs drawn as outlines over the group T map; axial view through the PAG by default.

Usage (under Xvfb)::

    MILNA_RECOVERY_DIR=/tmp/milna-recovery xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python docs/screenshot_roi_workbench.py docs/roi_workbench.png \
        [--filled] [--refine] [--plane sagittal --at 1.25,-33,-24 --zoom 8]
"""

from __future__ import annotations

import argparse

from _screenshot import sample_in_panel, save_window, show_plane  # docs/ is on sys.path

from napari_milna.widgets.roi import dialogs as roi_dialogs

#: The PAG centroid (Satpute et al. 2013; DESIGN.md), MNI mm.
PAG_MNI = (0.5, -31.0, -9.0)


def main() -> None:
    """Open the sample study, seed PAG and RVM in the ROIs tab and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--zoom", type=float, default=10.0, help="screen pixels per mm")
    parser.add_argument("--filled", action="store_true", help="ROIs filled, not outlined")
    parser.add_argument("--refine", action="store_true", help="open the refine section")
    parser.add_argument("--plane", default="axial", choices=("axial", "coronal", "sagittal"))
    parser.add_argument("--at", default=PAG_MNI, help="world mm to centre on: x,y,z",
                        type=lambda text: tuple(float(v) for v in text.split(",")))
    args = parser.parse_args()
    viewer, panel = sample_in_panel()
    dock = panel.show_tab("ROIs")
    for region in ("PAG", "RVM"):
        dock.seed.region.value = region
        dock.seed.seed_button.native.click()
    dock.facts.table.cellClicked.emit(dock.facts.row_of("PAG"), 0)
    dock.outline.value = not args.filled
    if args.refine:
        dock.sections["Seed PAG / RVM"].collapse(animate=False)
        dock.sections["Refine selected ROI"].expand(animate=False)
    show_plane(viewer, args.plane, args.zoom, args.at)
    save_window(viewer, args.out, seconds=4.0)
    roi_dialogs.ask_unsaved = lambda *a: "discard"  # a demo: nothing to keep
    viewer.close()


if __name__ == "__main__":
    main()
