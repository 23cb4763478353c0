"""``milna view [FILES...] [--sample] [--session FILE]``: open napari with the milna panel."""

from __future__ import annotations

from ..core.errors import input_error

HELP = "open the viewer on NIfTI files or the sample study"
#: No --json: the command opens a window and prints no result.
JSON = False


def add_arguments(parser) -> None:
    """The arguments of ``milna view``."""
    parser.add_argument("files", nargs="*", help="NIfTI files to open (runs stay on disk)")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample study")
    parser.add_argument("--session", metavar="FILE",
                        help="a saved napari-milna session (*.milna-session.json) to open")
    parser.add_argument("--plane", choices=("axial", "coronal", "sagittal"),
                        help="plane shown (default axial, or the session's)")
    parser.add_argument("--radiological", action="store_true", help="left on the right")
    parser.add_argument("--ortho", action="store_true", help="show linked orthogonal views")


def run(args) -> None:
    """Check the files, then start napari with the milna panel.

    It opens the files, the sample study, or a saved session (its layers, display, choices and
    view; files the session names that no longer exist are said, the rest opens).
    """
    from ..core.io.nifti import load_volume

    for path in args.files:
        load_volume(path, allow_run=True)  # one clear sentence before any window opens
    session = None
    if args.session:
        from ..core.session_file import read_session

        if args.files or args.sample:
            raise input_error(None, "--session opens a saved session in place of any other "
                                    "layers; drop the files and --sample")
        session = read_session(args.session)  # one sentence before any window opens
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
    if session is not None:
        from .._napari.saved_session import restore_session
        from ..widgets.panel.status import notify

        restored = restore_session(viewer, session)
        notify("warning" if restored.missing else "info", restored.message())
    if session is None or args.radiological:
        state.set_radiological(args.radiological)
    if session is None or args.plane:
        state.set_plane(args.plane or "axial")
    if args.ortho:
        panel.controls.ortho.setChecked(True)
    napari.run()
