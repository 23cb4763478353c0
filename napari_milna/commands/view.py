"""``milna view [FILES...] [--sample]``: open napari with the files and the milna panel."""

from __future__ import annotations

from ..core.errors import input_error


def add_parser(subparsers) -> None:
    """Register ``milna view``."""
    p = subparsers.add_parser("view", help="open the viewer on NIfTI files or the sample study")
    p.add_argument("files", nargs="*", help="NIfTI files to open (runs stay on disk)")
    p.add_argument("--sample", action="store_true", help="open the bundled sample study")
    p.add_argument("--plane", choices=("axial", "coronal", "sagittal"), default="axial")
    p.add_argument("--radiological", action="store_true", help="left on the right")
    p.add_argument("--ortho", action="store_true", help="show linked orthogonal views")
    p.set_defaults(func=run)


def run(args) -> None:
    """Check the files, then start napari with the milna panel."""
    from ..core.io.nifti import load_volume

    for path in args.files:
        load_volume(path, allow_run=True)  # one clear sentence before any window opens
    try:
        import napari
    except ImportError as exc:  # pragma: no cover - napari is a core dependency
        raise input_error(None, f"napari is not installed ({exc})") from None
    from .._napari.viewer_state import ViewerState
    from ..widgets.panel.panel import open_panel

    viewer = napari.Viewer(title="napari-milna")
    panel = open_panel(viewer)
    if args.sample:
        viewer.open_sample("napari-milna", "sample_study")
    if args.files:
        viewer.open(args.files, plugin="napari-milna")
    state = ViewerState.of(viewer)
    state.set_radiological(args.radiological)
    state.set_plane(args.plane)
    if args.ortho:
        panel.controls.ortho.setChecked(True)
    napari.run()
